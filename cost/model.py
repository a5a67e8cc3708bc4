"""The monthly bill of the pipeline for a volume: a :class:`Workload` priced as :class:`Line`\\ s.

What is counted (per month of :data:`HOURS_PER_MONTH` hours, steady state):

* **Kinesis**: only what the pipeline adds to the existing stream. Under enhanced fan-out, one
  consumer's consumer-shard-hours (shards: enough for the records/s and bytes/s, at 1,000
  records/s and 1 MiB/s per shard) and its data retrieved; a shared-throughput mapping adds
  nothing.
* **Lambda**: requests (one invocation per full batch) and GB-seconds from CPU per record
  (measured by the bench, ``bench/results.md``) through :mod:`.lambda_cost`; the I/O wait of a
  batch is :attr:`Workload.io_wait_ms_per_batch`.
* **DynamoDB** (on-demand): writes on the replica table and, with the query table, on that
  one, each item in 1 KB write request units; storage of the items held (``ttl_days`` with a hot
  window, else ``retention_days``), PITR on that storage; stream reads by the Lambda triggers are
  free.
* **Firehose**: bytes ingested with each record rounded up to 5 KB; archive lines packed into
  ~5 KB records (``handlers/firehose_records.py``) or, with ``packed=False``, one line a record.
* **S3**: one PUT per delivered object (a buffer flush: every ``buffer_seconds`` or
  ``buffer_mb``), storage of ``retention_days`` of archive after compression.
* **SQS**: the on-failure and dead-letter messages you expect (none in steady state).
* **CloudWatch**: log lines (one summary line and one metrics document per invocation), the
  handlers' custom metrics, one dashboard, the alarms.

Item and line sizes: the record's JSON plus the three key attributes the replicator adds
(:data:`KEY_ATTRIBUTE_BYTES`, a sequence number of 56 digits and a shard id).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any

from .lambda_cost import gb_seconds
from .prices import (
    FIREHOSE_BILLING_INCREMENT_BYTES,
    WRITE_REQUEST_UNIT_BYTES,
    Price,
    prices_for,
)

HOURS_PER_MONTH = 730
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
GB = 1024**3
MB = 1024**2
#: Bytes the three key attributes add to an item or line: ``sequenceNumber`` (14 + 56),
#: ``shardId`` (7 + 20) and ``seqNumbershardIdHash`` (20 + 23), attribute names included.
KEY_ATTRIBUTE_BYTES = 140
#: A Kinesis shard takes 1,000 records/s and 1 MiB/s of writes.
SHARD_RECORDS_PER_S = 1000
SHARD_BYTES_PER_S = MB
#: Bytes a handler logs per invocation: the batch summary line and the metrics document.
LOG_BYTES_PER_INVOCATION = 1200
#: Custom metrics each handler emits (records_in, written, retried, poison, failed, skipped,
#: filtered; one dimension set: service).
METRICS_PER_FUNCTION = 7
#: Alarms per stream consumer function (iterator age, errors, throttles, dead letters, mapping
#: failures), plus the stream's read throttling and the archive's delivery freshness.
ALARMS_PER_FUNCTION = 5
OTHER_ALARMS = 2
#: CPU µs per record of a warm invocation (``bench/results.md``, clickstream, N=1,000):
#: replicator 138.6, archiver 99.2. The query writer is not measured: the archiver's figure.
CPU_US_PER_RECORD = {"replicator": 138.6, "archiver": 99.2, "query_writer": 99.2}
#: Memory (MB) of each function at the components' defaults.
MEMORY_MB = {"replicator": 512, "archiver": 256, "query_writer": 256}


@dataclass(frozen=True)
class Workload:
    """A volume and the options priced. Sizes in bytes, times as named."""

    records_per_second: float
    mean_record_bytes: float
    #: days of data held in the archive (and in the table without a hot window)
    retention_days: float = 30
    region: str = "eu-west-1"
    query_table: bool = False
    efo: bool = False
    #: hot window of the table (0: items are kept ``retention_days``)
    ttl_days: float = 0
    pitr: bool = True
    #: archive size after compression / before (1: no compression; gzip of JSON is ~0.15)
    compression_ratio: float = 1.0
    #: archive lines packed into ~5 KB Firehose records (False: one line per record)
    packed: bool = True
    batch_size: int = 300
    arch: str = "arm64"
    io_wait_ms_per_batch: float = 0.0
    buffer_seconds: float = 300
    buffer_mb: float = 5
    failure_messages_per_month: float = 0
    cpu_us_per_record: dict[str, float] = field(default_factory=lambda: dict(CPU_US_PER_RECORD))
    memory_mb: dict[str, int] = field(default_factory=lambda: dict(MEMORY_MB))

    def validate(self) -> None:
        """ValueError naming the first field out of range."""
        checks = [
            ("records_per_second", self.records_per_second > 0),
            ("mean_record_bytes", self.mean_record_bytes > 0),
            ("retention_days", self.retention_days >= 0),
            ("ttl_days", self.ttl_days >= 0),
            ("compression_ratio", 0 < self.compression_ratio <= 1),
            ("batch_size", self.batch_size >= 1),
            ("arch", self.arch in ("arm64", "x86_64")),
            ("buffer_seconds", self.buffer_seconds > 0),
            ("buffer_mb", self.buffer_mb > 0),
        ]
        for name, ok in checks:
            if not ok:
                raise ValueError(f"{name} out of range: {getattr(self, name)!r}")
        prices_for(self.region)

    @property
    def records(self) -> float:
        """Records a month."""
        return self.records_per_second * SECONDS_PER_MONTH

    @property
    def item_bytes(self) -> float:
        """Bytes of an item (and of its archive line, less the newline)."""
        return self.mean_record_bytes + KEY_ATTRIBUTE_BYTES

    @property
    def functions(self) -> tuple[str, ...]:
        return (
            ("replicator", "archiver", "query_writer")
            if self.query_table
            else (
                "replicator",
                "archiver",
            )
        )


@dataclass(frozen=True)
class Line:
    """One line of the bill: ``quantity`` of ``price.unit`` a month."""

    service: str
    item: str
    quantity: float
    price: Price

    @property
    def monthly_usd(self) -> float:
        return self.quantity * self.price.value

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "item": self.item,
            "quantity": self.quantity,
            "monthly_usd": round(self.monthly_usd, 4),
            "price": asdict(self.price),
        }


@dataclass(frozen=True)
class Bill:
    workload: Workload
    lines: tuple[Line, ...]

    @property
    def total(self) -> float:
        return sum(line.monthly_usd for line in self.lines)

    def by_service(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for line in self.lines:
            out[line.service] = out.get(line.service, 0.0) + line.monthly_usd
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "workload": asdict(self.workload),
            "lines": [line.as_dict() for line in self.lines],
            "by_service": {k: round(v, 4) for k, v in self.by_service().items()},
            "total_usd": round(self.total, 4),
        }


def firehose_records(workload: Workload) -> tuple[float, float]:
    """(records a month, bytes billed a month) Firehose ingests for the archive."""
    line = workload.item_bytes + 1
    increment = FIREHOSE_BILLING_INCREMENT_BYTES
    if workload.packed:
        from stream_replica.handlers.firehose_records import PACK_TARGET_BYTES

        per_record = max(1, math.floor(PACK_TARGET_BYTES / line))
    else:
        per_record = 1
    records = workload.records / per_record
    billed = math.ceil(per_record * line / increment) * increment
    return records, records * billed


def _lines(w: Workload) -> Iterator[Line]:
    p = prices_for(w.region)
    n = w.records
    shards = max(
        math.ceil(w.records_per_second / SHARD_RECORDS_PER_S),
        math.ceil(w.records_per_second * w.mean_record_bytes / SHARD_BYTES_PER_S),
    )
    if w.efo:
        hours = shards * HOURS_PER_MONTH
        yield Line(
            "Kinesis",
            f"enhanced fan-out, {shards} shard(s)",
            hours,
            p["kinesis_efo_consumer_shard_hour"],
        )
        yield Line(
            "Kinesis",
            "enhanced fan-out data retrieved",
            n * w.mean_record_bytes / GB,
            p["kinesis_efo_data_gb"],
        )

    invocations = 0.0
    for function in w.functions:
        batches = n / w.batch_size
        invocations += batches
        cpu_s = w.cpu_us_per_record[function] * w.batch_size / 1e6
        memory = w.memory_mb[function]
        per_batch = gb_seconds(cpu_s, memory, w.io_wait_ms_per_batch / 1000)
        yield Line("Lambda", f"{function} requests", batches, p["lambda_request"])
        yield Line(
            "Lambda",
            f"{function} duration ({memory} MB, {w.arch})",
            batches * per_batch,
            p[f"lambda_gb_s_{w.arch}"],
        )

    units = math.ceil(w.item_bytes / WRITE_REQUEST_UNIT_BYTES)
    tables = ("replica table", "query table") if w.query_table else ("replica table",)
    held_days = w.ttl_days if w.ttl_days > 0 else w.retention_days
    stored_gb = w.records_per_second * 86_400 * held_days * w.item_bytes / GB
    for table in tables:
        yield Line(
            "DynamoDB",
            f"{table} writes ({units} WRU each)",
            n * units,
            p["dynamodb_write_request_unit"],
        )
        yield Line(
            "DynamoDB",
            f"{table} storage ({held_days:g} days)",
            stored_gb,
            p["dynamodb_storage_gb_month"],
        )
        if w.pitr:
            yield Line(
                "DynamoDB",
                f"{table} point-in-time recovery",
                stored_gb,
                p["dynamodb_pitr_gb_month"],
            )
    readers = len(w.functions) - 1  # the archiver and the query writer read the table's stream
    yield Line(
        "DynamoDB",
        "stream reads by the Lambda triggers",
        readers * n / w.batch_size,
        p["dynamodb_streams_read_request"],
    )

    records, billed_bytes = firehose_records(w)
    packing = "packed ~5 KB records" if w.packed else "one line per record"
    yield Line(
        "Firehose",
        f"ingestion, {records:,.0f} records ({packing})",
        billed_bytes / GB,
        p["firehose_ingest_gb"],
    )

    archive_bytes_per_s = w.records_per_second * (w.item_bytes + 1) * w.compression_ratio
    flushes = SECONDS_PER_MONTH / w.buffer_seconds
    per_flush = archive_bytes_per_s * w.buffer_seconds
    objects = flushes * max(1, math.ceil(per_flush / (w.buffer_mb * MB)))
    yield Line("S3", "PUT requests (one per delivered object)", objects, p["s3_put_request"])
    yield Line(
        "S3",
        f"storage ({w.retention_days:g} days of archive)",
        archive_bytes_per_s * 86_400 * w.retention_days / GB,
        p["s3_storage_gb_month"],
    )

    # A failure message is sent once, received and deleted by the redrive: three requests.
    yield Line(
        "SQS",
        "on-failure and dead-letter messages",
        3 * w.failure_messages_per_month,
        p["sqs_request"],
    )

    log_gb = invocations * LOG_BYTES_PER_INVOCATION / GB
    yield Line("CloudWatch", "log ingestion", log_gb, p["logs_ingest_gb"])
    yield Line("CloudWatch", "log storage (one month held)", log_gb, p["logs_storage_gb_month"])
    yield Line(
        "CloudWatch",
        "handler metrics",
        METRICS_PER_FUNCTION * len(w.functions),
        p["custom_metric_month"],
    )
    yield Line("CloudWatch", "dashboard", 1, p["dashboard_month"])
    yield Line(
        "CloudWatch",
        "alarms",
        ALARMS_PER_FUNCTION * len(w.functions) + OTHER_ALARMS,
        p["alarm_month"],
    )


def monthly_bill(workload: Workload) -> Bill:
    """The workload's monthly bill. Raises ValueError for a field out of range or a region
    without prices."""
    workload.validate()
    return Bill(workload, tuple(_lines(workload)))
