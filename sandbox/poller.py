"""Lambda's stream poller for Kinesis and DynamoDB Streams event source mappings, in-process.

moto polls no stream, so the sandbox does what Lambda's event source mapping does, honouring
the settings the program deployed (read back from the emulator, not from the program):

* ``StartingPosition`` (TRIM_HORIZON, LATEST, AT_TIMESTAMP) for each shard's first iterator;
* ``BatchSize`` records per invocation, in shard order, one batch per shard at a time;
* ``FunctionResponseTypes=[ReportBatchItemFailures]``: a response's ``batchItemFailures``
  checkpoint the shard at the lowest failed sequence number and the rest is retried; an
  identifier that is not in the batch fails the whole batch, as in Lambda;
* a function error (exception, timeout) retries the batch; ``BisectBatchOnFunctionError``
  splits it in two first (splits don't count as retries);
* ``MaximumRetryAttempts`` and ``MaximumRecordAgeInSeconds`` end the retries, and the batch's
  metadata goes to the ``DestinationConfig.OnFailure`` destination (an SQS queue or SNS topic)
  in Lambda's invocation-record format; then the shard moves on.

A Kinesis mapping on an enhanced fan-out consumer (``EventSourceArn`` = the consumer's ARN)
describes the consumer (``DescribeStreamConsumer``, which must report it ACTIVE), lists the
stream's shards, and subscribes to each shard: moto has no ``SubscribeToShard`` (an HTTP/2 event
stream), so the subscription is the same authorisation decision (``kinesis:SubscribeToShard`` on
the consumer, :func:`sandbox.crossaccount.authorize`) followed by reading the shard's records
from moto's store — never ``GetRecords``, which an EFO consumer doesn't call.

Reading the source and writing the failure destination use the function's execution role, as
Lambda does — in the function's account, so a mapping in another account than its stream reads
across the boundary and must pass the stream's (and the consumer's) resource policy. Events are
built in AWS's formats (base64 ``kinesis.data``; DynamoDB images in attribute-value JSON with
binary base64-encoded, ``ApproximateCreationDateTime`` in epoch seconds).
"""

from __future__ import annotations

import json
import random
import time
import uuid
import weakref
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from stream_replica.redrive.streams import lambda_record

from . import crossaccount, service_metrics
from .emulator import Emulator
from .lambda_runtime import FunctionError, FunctionRuntime

#: A sandbox run must end: -1 (retry forever) is capped at this many retries.
INFINITE_RETRY_CAP = 10_000
#: DynamoDB stream records the archiver has read are dropped from moto's shard once this many
#: have accumulated (direct reads only; see ``_fill_direct``).
RETAIN_CONSUMED_STREAM_RECORDS = 10_000


#: The pollers reading each DynamoDB stream from moto's shard directly (by stream ARN).
_DIRECT_READERS: dict[str, weakref.WeakSet[StreamPoller]] = {}


@dataclass
class MappingSettings:
    uuid: str
    function_arn: str
    source_arn: str
    batch_size: int
    starting_position: str
    starting_position_timestamp: Any
    report_batch_item_failures: bool
    bisect_on_error: bool
    max_retry_attempts: int
    max_record_age_s: int
    on_failure_arn: str | None
    enabled: bool

    @classmethod
    def from_api(cls, config: dict[str, Any]) -> MappingSettings:
        for unsupported in ("FilterCriteria", "TumblingWindowInSeconds"):
            if config.get(unsupported):
                raise NotImplementedError(
                    f"event source mapping {config['UUID']}: the sandbox's poller does not "
                    f"emulate {unsupported}"
                )
        on_failure = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}).get(
            "Destination"
        )
        return cls(
            uuid=config["UUID"],
            function_arn=config["FunctionArn"],
            source_arn=config["EventSourceArn"],
            batch_size=int(config.get("BatchSize") or 100),
            starting_position=config.get("StartingPosition") or "TRIM_HORIZON",
            starting_position_timestamp=config.get("StartingPositionTimestamp"),
            report_batch_item_failures="ReportBatchItemFailures"
            in (config.get("FunctionResponseTypes") or []),
            bisect_on_error=bool(config.get("BisectBatchOnFunctionError")),
            max_retry_attempts=int(config.get("MaximumRetryAttempts", -1)),
            max_record_age_s=int(config.get("MaximumRecordAgeInSeconds", -1)),
            on_failure_arn=on_failure or None,
            enabled=config.get("State", "Enabled") == "Enabled",
        )

    @property
    def kind(self) -> str:
        return "kinesis" if self.source_arn.split(":")[2] == "kinesis" else "dynamodb"

    @property
    def consumer_arn(self) -> str | None:
        """The enhanced fan-out consumer the mapping reads through, if any."""
        return self.source_arn if "/consumer/" in self.source_arn else None

    @property
    def stream_arn(self) -> str:
        """The stream the mapping reads (a consumer's ARN starts with its stream's)."""
        return self.source_arn.split("/consumer/", 1)[0]


@dataclass
class MappingStats:
    invocations: int = 0
    records_delivered: int = 0
    function_errors: int = 0
    partial_failures: int = 0
    retries: int = 0
    bisections: int = 0
    discarded_batches: int = 0
    discarded_records: int = 0


@dataclass
class _Shard:
    shard_id: str
    iterator: str | None
    buffer: deque[dict[str, Any]] = field(default_factory=deque)
    #: index into moto's shard (direct DynamoDB stream reads only); for an enhanced fan-out
    #: subscription, the last sequence number delivered
    position: int | None = None


class StreamPoller:
    """Drives one event source mapping (see the module docstring)."""

    def __init__(
        self,
        emulator: Emulator,
        account_id: str,
        region: str,
        mapping_uuid: str,
        runtime: FunctionRuntime,
        *,
        crash_rate: float = 0.0,
        rng: random.Random | None = None,
        api_stream_reads: bool = False,
    ) -> None:
        self.emulator = emulator
        self.account_id = account_id
        self.region = region
        lam = emulator.client("lambda", account_id, region)
        self.settings = MappingSettings.from_api(lam.get_event_source_mapping(UUID=mapping_uuid))
        if self.settings.starting_position == "AT_TIMESTAMP":
            # moto keeps the timestamp a mapping was created with but doesn't return it
            from moto.awslambda.models import lambda_backends

            mapping = lambda_backends[account_id][region]._event_source_mappings[mapping_uuid]
            self.settings.starting_position_timestamp = mapping.starting_position_timestamp
        if self.settings.function_arn != runtime.function.arn:
            raise ValueError(
                f"mapping {mapping_uuid} invokes {self.settings.function_arn}, "
                f"not {runtime.function.arn}"
            )
        self.runtime = runtime
        self.crash_rate = crash_rate
        self.rng = rng or random.Random(0)
        self.stats = MappingStats()
        session = emulator.new_session(runtime.credentials())
        service = "kinesis" if self.settings.kind == "kinesis" else "dynamodbstreams"
        self._source = session.client(service, region_name=region)
        self._session = session
        self._shards: dict[str, _Shard] = {}
        # moto's JSON serialiser spends ~5-10 ms on every nested DynamoDB stream record, which
        # would dominate any run; unless asked to use the API, DynamoDB stream records are read
        # from moto's shard itself (the same records GetRecords returns, before serialisation).
        self._direct = self.settings.kind == "dynamodb" and not api_stream_reads
        #: first sequence number of a batch sent to the on-failure destination (direct reads)
        self._held_from: int | None = None
        if self._direct:
            _DIRECT_READERS.setdefault(self.settings.source_arn, weakref.WeakSet()).add(self)
        #: enhanced fan-out: shards are subscribed through the consumer (module docstring)
        self._efo = self.settings.consumer_arn is not None

    # -- reading ------------------------------------------------------------------------------
    def _list_shard_ids(self) -> list[str]:
        if self._efo:
            consumer = self._source.describe_stream_consumer(
                ConsumerARN=self.settings.consumer_arn
            )["ConsumerDescription"]
            if consumer["ConsumerStatus"] != "ACTIVE":
                return []
        if self.settings.kind == "kinesis":
            shards = self._source.list_shards(StreamARN=self.settings.stream_arn)["Shards"]
        else:
            shards = self._source.describe_stream(StreamArn=self.settings.source_arn)[
                "StreamDescription"
            ]["Shards"]
        return [s["ShardId"] for s in shards]

    def _iterator(self, shard_id: str, position: str, sequence: str | None = None) -> str:
        args: dict[str, Any] = {"ShardId": shard_id, "ShardIteratorType": position}
        if sequence is not None:
            args["StartingSequenceNumber"] = sequence
        if position == "AT_TIMESTAMP":
            args["Timestamp"] = self.settings.starting_position_timestamp
        if self.settings.kind == "kinesis":
            args["StreamARN"] = self.settings.source_arn
        else:
            args["StreamArn"] = self.settings.source_arn
        return str(self._source.get_shard_iterator(**args)["ShardIterator"])

    def reset(self, position: str | None = None) -> None:
        """Forget every checkpoint; the next :meth:`poll` starts at ``position`` (default: the
        mapping's StartingPosition). A replay from TRIM_HORIZON is ``reset("TRIM_HORIZON")``."""
        self._shards.clear()
        if position is not None:
            self.settings.starting_position = position

    def _refresh_shards(self) -> None:
        for shard_id in self._list_shard_ids():
            if shard_id not in self._shards:
                iterator = (
                    None
                    if self._direct or self._efo
                    else self._iterator(shard_id, self.settings.starting_position)
                )
                self._shards[shard_id] = _Shard(shard_id, iterator)

    def _fill(self, shard: _Shard) -> None:
        """Read until the buffer holds a batch or the shard has nothing more right now."""
        if self._direct:
            self._fill_direct(shard)
            return
        if self._efo:
            self._fill_subscribed(shard)
            return
        while len(shard.buffer) < self.settings.batch_size and shard.iterator:
            args: dict[str, Any] = {
                "ShardIterator": shard.iterator,
                "Limit": self.settings.batch_size,
            }
            if self.settings.kind == "kinesis":
                args["StreamARN"] = self.settings.source_arn
            response = self._source.get_records(**args)
            shard.iterator = response.get("NextShardIterator")
            records = response.get("Records") or []
            shard.buffer.extend(records)
            if not records:
                break

    def _subscribe(self, shard: _Shard) -> Any:
        """``SubscribeToShard`` through the consumer: the authorisation Kinesis applies, then
        moto's shard (the records the subscription pushes)."""
        from moto.kinesis.models import kinesis_backends

        consumer_arn = str(self.settings.consumer_arn)
        frozen = self._session.get_credentials().get_frozen_credentials()
        crossaccount.authorize(
            "SubscribeToShard", consumer_arn, frozen.access_key, frozen.secret_key, frozen.token
        )
        _, _, _, region, account, resource = self.settings.stream_arn.split(":", 5)
        stream = kinesis_backends[account][region].streams[resource.split("/", 1)[1]]
        return stream.shards[shard.shard_id]

    def _fill_subscribed(self, shard: _Shard) -> None:
        moto_shard = self._subscribe(shard)
        if shard.position is None:
            first = self.settings.starting_position
            if first == "TRIM_HORIZON":
                shard.position = 0
            elif first == "LATEST":
                shard.position = moto_shard.get_max_sequence_number()
            else:
                stamp = self.settings.starting_position_timestamp
                epoch = epoch_seconds(stamp)
                shard.position = moto_shard.get_sequence_number_at(epoch)
        wanted = self.settings.batch_size - len(shard.buffer)
        if wanted <= 0:
            return
        records, last, _ = moto_shard.get_records(str(shard.position), wanted)
        shard.position = last
        shard.buffer.extend(r.to_json() for r in records)

    def _fill_direct(self, shard: _Shard) -> None:
        from moto.dynamodb.models import dynamodb_backends

        _, _, _, region, account, resource = self.settings.source_arn.split(":", 5)
        table = dynamodb_backends[account][region].get_table(resource.split("/")[1])
        stream = table.stream_shard
        if stream is None or stream.id != shard.shard_id:
            raise RuntimeError(f"{self.settings.source_arn}: shard {shard.shard_id} is gone")
        if shard.position is None:
            first = self.settings.starting_position
            shard.position = 0 if first == "TRIM_HORIZON" else len(stream.items)
        wanted = self.settings.batch_size - len(shard.buffer)
        records = stream.items[shard.position : shard.position + wanted]
        shard.position += len(records)
        shard.buffer.extend(r.to_json() for r in records)
        if shard.position >= RETAIN_CONSUMED_STREAM_RECORDS:
            # Stand-in for the stream's 24-hour retention, compressed: moto would otherwise keep
            # a second copy of every item for the whole run (about a third of its memory). The
            # sequence numbers go on from where they were, as after records expire. Only what
            # every mapping on this stream has read is dropped (the archiver and the query
            # writer read the same stream), and records from the first batch a mapping sent to
            # its on-failure destination on are kept: a redrive within the retention period
            # reads them again.
            readers = list(_DIRECT_READERS.get(self.settings.source_arn, ())) or [self]
            drop = min(reader._droppable(shard.shard_id, stream) for reader in readers)
            if drop:
                del stream.items[:drop]
                stream.starting_sequence_number += drop
                for reader in readers:
                    state = reader._shards.get(shard.shard_id)
                    if state is not None and state.position is not None:
                        state.position -= drop

    def _droppable(self, shard_id: str, stream: Any) -> int:
        """How many of ``stream``'s first records this mapping no longer needs: those it has
        read, up to its first batch held for a redrive."""
        state = self._shards.get(shard_id)
        keep = state.position if state is not None and state.position is not None else 0
        if self._held_from is not None:
            keep = min(keep, max(0, self._held_from - stream.starting_sequence_number))
        return keep

    # -- driving ------------------------------------------------------------------------------
    def poll(self, after_batch: Callable[[], None] | None = None) -> int:
        """Deliver everything currently in the source; return how many records were handled.
        ``after_batch`` is called after each batch (the replay uses it to bound memory)."""
        if not self.settings.enabled:
            return 0
        self._refresh_shards()
        handled = 0
        for shard in self._shards.values():
            while True:
                self._fill(shard)
                if not shard.buffer:
                    break
                size = min(self.settings.batch_size, len(shard.buffer))
                batch = [shard.buffer.popleft() for _ in range(size)]
                self._deliver(shard.shard_id, batch, retries=0)
                handled += len(batch)
                if after_batch is not None:
                    after_batch()
        return handled

    def _deliver(self, shard_id: str, batch: list[dict[str, Any]], retries: int) -> None:
        """Invoke until ``batch`` is processed or its retries are exhausted."""
        s = self.settings
        max_retries = INFINITE_RETRY_CAP if s.max_retry_attempts < 0 else s.max_retry_attempts
        while batch:
            if self._too_old(batch[0]):
                self._discard(shard_id, batch, "RecordAgeExceeded", retries)
                return
            event = {"Records": [self._lambda_record(shard_id, r) for r in batch]}
            self.stats.invocations += 1
            self.stats.records_delivered += len(batch)
            crash = self.crash_rate > 0 and self.rng.random() < self.crash_rate
            try:
                response = self.runtime.invoke(event, crash=crash)
            except FunctionError:
                self._report_invocation(batch, error=True)
                self.stats.function_errors += 1
                if s.bisect_on_error and len(batch) > 1:
                    self.stats.bisections += 1
                    half = len(batch) // 2
                    self._deliver(shard_id, batch[:half], retries)
                    self._deliver(shard_id, batch[half:], retries)
                    return
                if retries >= max_retries:
                    self._discard(shard_id, batch, "RetryAttemptsExhausted", retries)
                    return
                retries += 1
                self.stats.retries += 1
                continue
            self._report_invocation(batch, error=False)
            failed_at = self._checkpoint(batch, response)
            if failed_at is None:
                return
            self.stats.partial_failures += 1
            if failed_at < 0:  # an unusable response fails the whole batch
                failed_at = 0
            batch = batch[failed_at:]
            if retries >= max_retries:
                self._discard(shard_id, batch, "RetryAttemptsExhausted", retries)
                return
            retries += 1
            self.stats.retries += 1

    def _report_invocation(self, batch: list[dict[str, Any]], error: bool) -> None:
        """Lambda's own metrics for one invocation (:mod:`.service_metrics`)."""
        function = self.runtime.function
        service_metrics.RECORDER.invoked(
            function.account_id,
            function.region,
            function.name,
            len(batch),
            self._arrival(batch[-1]),
            error,
        )

    def _checkpoint(self, batch: list[dict[str, Any]], response: Any) -> int | None:
        """Index of the first record to retry, None if the batch succeeded, -1 if the response
        names a record that is not in the batch (Lambda then retries the whole batch)."""
        if not self.settings.report_batch_item_failures or not isinstance(response, dict):
            return None
        failures = response.get("batchItemFailures")
        if not failures:
            return None
        positions = {self._sequence(r): i for i, r in enumerate(batch)}
        indexes = []
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if identifier not in positions:
                return -1
            indexes.append(positions[identifier])
        return min(indexes)

    def _too_old(self, record: dict[str, Any]) -> bool:
        limit = self.settings.max_record_age_s
        if limit < 0:
            return False
        return time.time() - self._arrival(record) > limit

    # -- formats ------------------------------------------------------------------------------
    def _sequence(self, record: dict[str, Any]) -> str:
        if self.settings.kind == "kinesis":
            return str(record["SequenceNumber"])
        return str(record["dynamodb"]["SequenceNumber"])

    def _arrival(self, record: dict[str, Any]) -> float:
        stamp = (
            record["ApproximateArrivalTimestamp"]
            if self.settings.kind == "kinesis"
            else record["dynamodb"]["ApproximateCreationDateTime"]
        )
        if isinstance(stamp, datetime):
            if stamp.tzinfo is None:  # moto keeps naive UTC datetimes
                stamp = stamp.replace(tzinfo=UTC)
            return stamp.timestamp()
        return float(stamp)

    def _lambda_record(self, shard_id: str, record: dict[str, Any]) -> dict[str, Any]:
        """The record as the mapping delivers it: the redrive's builder, so a redriven batch
        and a delivered one are the same records."""
        return lambda_record(
            self.settings.kind,
            record,
            shard_id=shard_id,
            region=self.region,
            event_source_arn=self.settings.source_arn,
            invoke_identity_arn=self.runtime.role_arn if self.settings.kind == "kinesis" else None,
        )

    # -- failure destination ------------------------------------------------------------------
    def _discard(
        self, shard_id: str, batch: list[dict[str, Any]], condition: str, retries: int
    ) -> None:
        self.stats.discarded_batches += 1
        self.stats.discarded_records += len(batch)
        if self._direct:
            first_sequence = int(self._sequence(batch[0]))
            if self._held_from is None or first_sequence < self._held_from:
                self._held_from = first_sequence
        destination = self.settings.on_failure_arn
        if not destination:
            return  # Lambda drops the batch silently; the summary reports it as lost.
        info_key = "KinesisBatchInfo" if self.settings.kind == "kinesis" else "DDBStreamBatchInfo"
        first, last = batch[0], batch[-1]
        record = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self.settings.function_arn,
                "condition": condition,
                "approximateInvokeCount": retries + 1,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled",
            },
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
            info_key: {
                "shardId": shard_id,
                "startSequenceNumber": self._sequence(first),
                "endSequenceNumber": self._sequence(last),
                "approximateArrivalOfFirstRecord": _iso(self._arrival(first)),
                "approximateArrivalOfLastRecord": _iso(self._arrival(last)),
                "batchSize": len(batch),
                "streamArn": self.settings.stream_arn,
            },
        }
        body = json.dumps(record)
        service = destination.split(":")[2]
        if service == "sqs":
            sqs = self._session.client("sqs", region_name=destination.split(":")[3])
            url = sqs.get_queue_url(
                QueueName=destination.split(":")[5],
                QueueOwnerAWSAccountId=destination.split(":")[4],
            )["QueueUrl"]
            sqs.send_message(QueueUrl=url, MessageBody=body)
        elif service == "sns":
            self._session.client("sns", region_name=destination.split(":")[3]).publish(
                TopicArn=destination, Message=body
            )
        else:
            raise ValueError(f"on-failure destination {destination}: only SQS and SNS are emulated")


def epoch_seconds(stamp: Any) -> float:
    """A mapping's StartingPositionTimestamp (a datetime, epoch seconds, or RFC 3339 text, as
    the request gave it) in epoch seconds."""
    if isinstance(stamp, datetime):
        return stamp.timestamp()
    try:
        return float(stamp)
    except (TypeError, ValueError):
        return datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat(timespec="milliseconds")
