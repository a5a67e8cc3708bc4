"""The metrics Lambda and Firehose put into CloudWatch, put into the emulated CloudWatch from what
the sandbox's poller and Firehose really did; and the counts the cost model prices.

moto runs no Lambda and delivers Firehose records synchronously, so neither service's own metrics
exist in moto. The poller (:mod:`.poller`) calls :meth:`ServiceMetrics.invoked` for every
invocation and the Firehose patch (:mod:`.firehose`) calls :meth:`ServiceMetrics.delivered` for
every ``PutRecordBatch`` moto receives; each puts the datapoints real AWS would, under real
names, into the function's or delivery stream's account and region:

* ``AWS/Lambda`` by ``FunctionName``
  (https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html):
  ``Invocations`` (1 per invocation), ``Errors`` (1 when the function failed: a crash, not a
  partial batch response), ``IteratorAge`` (milliseconds from the stream's arrival time of the
  last record of the batch to the invocation);
* ``AWS/Firehose`` by ``DeliveryStreamName``
  (https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html):
  ``IncomingRecords``, ``IncomingBytes``, ``DeliveryToS3.Records``, ``DeliveryToS3.Bytes``,
  ``DeliveryToS3.Success`` (1: the sandbox's delivery does not fail) and
  ``DeliveryToS3.DataFreshness`` (seconds: the sandbox delivers each call as it arrives, so 0).

The datapoints go straight into moto's CloudWatch backend (not through the API: a call made from
inside a moto request would wait for the lock that request holds). :data:`RECORDER` is the
process's recorder; :func:`recording` starts it from zero.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from stream_replica.cost.prices import FIREHOSE_BILLING_INCREMENT_BYTES as INCREMENT


@dataclass
class FunctionCounts:
    """What one function was invoked with."""

    invocations: int = 0
    errors: int = 0
    records: int = 0
    max_iterator_age_ms: float = 0.0


@dataclass
class Counted:
    """Requests and bytes the emulated services received (what the cost model prices)."""

    firehose_records: int = 0
    firehose_bytes: int = 0
    firehose_calls: int = 0
    #: the records' bytes each rounded up to Firehose's 5 KB billing increment
    firehose_billed_bytes: int = 0
    functions: dict[str, FunctionCounts] = field(default_factory=dict)


def _put(
    account: str,
    region: str,
    namespace: str,
    dimension: tuple[str, str],
    values: dict[str, tuple[float, str]],
) -> None:
    """Put ``values`` (metric -> (value, unit)) with one dimension into moto's CloudWatch."""
    from moto.cloudwatch.models import cloudwatch_backends

    name, value = dimension
    cloudwatch_backends[account][region].put_metric_data(
        namespace,
        [
            {
                "MetricName": metric,
                "Value": amount,
                "Unit": unit,
                "Dimensions": [{"Name": name, "Value": value}],
            }
            for metric, (amount, unit) in values.items()
        ],
    )


class ServiceMetrics:
    """Counts what the services received and puts their CloudWatch metrics (module docstring)."""

    def __init__(self) -> None:
        self.counted = Counted()
        #: the clock iterator ages are measured with (epoch seconds; tests move it)
        self.clock: Callable[[], float] = time.time
        self._lock = threading.Lock()

    def reset(self) -> None:
        with self._lock:
            self.counted = Counted()
            self.clock = time.time

    def invoked(
        self,
        account: str,
        region: str,
        function_name: str,
        records: int,
        newest_arrival: float,
        error: bool,
    ) -> None:
        """One invocation of ``function_name`` with ``records`` stream records, the last of which
        arrived in the stream at ``newest_arrival`` (epoch seconds)."""
        age_ms = max(0.0, (self.clock() - newest_arrival) * 1000)
        with self._lock:
            counts = self.counted.functions.setdefault(function_name, FunctionCounts())
            counts.invocations += 1
            counts.errors += int(error)
            counts.records += records
            counts.max_iterator_age_ms = max(counts.max_iterator_age_ms, age_ms)
        _put(
            account,
            region,
            "AWS/Lambda",
            ("FunctionName", function_name),
            {
                "Invocations": (1.0, "Count"),
                "Errors": (float(error), "Count"),
                "IteratorAge": (age_ms, "Milliseconds"),
            },
        )

    def delivered(self, account: str, region: str, stream: str, datas: list[bytes]) -> None:
        """One ``PutRecordBatch`` of ``datas`` that moto's Firehose wrote to S3."""
        size = sum(len(data) for data in datas)
        with self._lock:
            self.counted.firehose_records += len(datas)
            self.counted.firehose_bytes += size
            self.counted.firehose_calls += 1
            self.counted.firehose_billed_bytes += sum(
                -(-max(1, len(data)) // INCREMENT) * INCREMENT for data in datas
            )
        _put(
            account,
            region,
            "AWS/Firehose",
            ("DeliveryStreamName", stream),
            {
                "IncomingRecords": (float(len(datas)), "Count"),
                "IncomingBytes": (float(size), "Bytes"),
                "DeliveryToS3.Records": (float(len(datas)), "Count"),
                "DeliveryToS3.Bytes": (float(size), "Bytes"),
                "DeliveryToS3.Success": (1.0, "None"),
                "DeliveryToS3.DataFreshness": (0.0, "Seconds"),
            },
        )


#: The recorder of this process (the poller and the Firehose patch report to it).
RECORDER = ServiceMetrics()


@contextmanager
def recording() -> Iterator[ServiceMetrics]:
    """:data:`RECORDER`, from zero."""
    RECORDER.reset()
    yield RECORDER
