"""Re-reading one failed range from Kinesis or DynamoDB Streams, as Lambda's event records.

A range is read from ``AT_SEQUENCE_NUMBER`` its start until its end sequence number. Records the
stream no longer holds (past its retention: 24 hours for DynamoDB Streams, the stream's
retention period for Kinesis) are counted as *expired*: the range names ``batchSize`` records,
and every one not found is expired. When the start itself is past retention
(``TrimmedDataAccessException`` from DynamoDB Streams, ``InvalidArgumentException`` from
Kinesis) the read starts at ``TRIM_HORIZON`` and keeps what is left of the range; a shard that
is gone (``ResourceNotFoundException``) has expired whole.
"""

from __future__ import annotations

import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from .aws_errors import StreamReadDenied, is_denied
from .messages import KINESIS, FailedRange

#: GetRecords limits: 10,000 records per call on Kinesis, 1,000 on DynamoDB Streams
#: (https://docs.aws.amazon.com/kinesis/latest/APIReference/API_GetRecords.html,
#: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_streams_GetRecords.html).
KINESIS_GET_RECORDS_LIMIT = 10_000
DYNAMODB_GET_RECORDS_LIMIT = 1_000
#: Consecutive empty GetRecords pages after which a DynamoDB stream shard is taken as read to its
#: tip (Kinesis says so itself with ``MillisBehindLatest: 0``).
MAX_EMPTY_PAGES = 5

ClientFactory = Callable[[str, str], Any]
"""``(service, region) -> botocore client`` (``kinesis`` or ``dynamodbstreams``)."""


@dataclass
class RangeRead:
    """What is left of a range: its records as Lambda's event records, in shard order, and how
    many of its ``batch_size`` records the stream no longer holds."""

    failed_range: FailedRange
    records: list[dict[str, Any]] = field(default_factory=list)
    expired: int = 0

    @property
    def found(self) -> int:
        return len(self.records)


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def _first_iterator(client: Any, rng: FailedRange) -> str | None:
    stream_key = "StreamARN" if rng.kind == KINESIS else "StreamArn"
    sequence_key = "StartingSequenceNumber" if rng.kind == KINESIS else "SequenceNumber"
    args: dict[str, Any] = {stream_key: rng.stream_arn, "ShardId": rng.shard_id}
    try:
        response = client.get_shard_iterator(
            **args, ShardIteratorType="AT_SEQUENCE_NUMBER", **{sequence_key: rng.start}
        )
    except ClientError as exc:
        code = _code(exc)
        if code == "ResourceNotFoundException":
            return None  # the shard is gone with its records
        if code not in ("TrimmedDataAccessException", "InvalidArgumentException"):
            raise
        response = client.get_shard_iterator(**args, ShardIteratorType="TRIM_HORIZON")
    return response.get("ShardIterator")


def _raw_records(client: Any, rng: FailedRange) -> list[dict[str, Any]]:
    iterator = _first_iterator(client, rng)
    found: list[dict[str, Any]] = []
    empty = 0
    last: str | None = None
    while iterator:
        # No more than the range can still hold (plus one to see its end): a page of records
        # after the range would be read and paid for in vain.
        wanted = max(1, rng.batch_size - len(found)) + 1
        args: dict[str, Any] = {"ShardIterator": iterator}
        if rng.kind == KINESIS:
            args.update(Limit=min(wanted, KINESIS_GET_RECORDS_LIMIT), StreamARN=rng.stream_arn)
        else:
            args.update(Limit=min(wanted, DYNAMODB_GET_RECORDS_LIMIT))
        try:
            response = client.get_records(**args)
        except ClientError as exc:
            if _code(exc) != "ExpiredIteratorException" or last is None:
                raise
            iterator = _iterator_after(client, rng, last)
            continue
        iterator = response.get("NextShardIterator")
        page = response.get("Records") or []
        for record in page:
            sequence = _sequence_of(rng, record)
            last = sequence
            where = rng.position(sequence)
            if where > 0:
                return found
            if where == 0:
                found.append(record)
        if page:
            empty = 0
            continue
        empty += 1
        at_tip = rng.kind == KINESIS and response.get("MillisBehindLatest", 0) == 0
        if at_tip or empty >= MAX_EMPTY_PAGES:
            break
    return found


def _iterator_after(client: Any, rng: FailedRange, sequence: str) -> str | None:
    if rng.kind == KINESIS:
        response = client.get_shard_iterator(
            StreamARN=rng.stream_arn,
            ShardId=rng.shard_id,
            ShardIteratorType="AFTER_SEQUENCE_NUMBER",
            StartingSequenceNumber=sequence,
        )
    else:
        response = client.get_shard_iterator(
            StreamArn=rng.stream_arn,
            ShardId=rng.shard_id,
            ShardIteratorType="AFTER_SEQUENCE_NUMBER",
            SequenceNumber=sequence,
        )
    return response.get("ShardIterator")


def _sequence_of(rng: FailedRange, record: dict[str, Any]) -> str:
    if rng.kind == KINESIS:
        return str(record["SequenceNumber"])
    return str(record["dynamodb"]["SequenceNumber"])


def read_range(clients: ClientFactory, rng: FailedRange) -> RangeRead:
    """Read ``rng`` from its stream; see the module docstring. AWS errors other than the ones
    that mean "expired" propagate; a denied read as :class:`.aws_errors.StreamReadDenied`
    (the redrive's role lacks a permission, or the stream's policy does not admit it)."""
    service = "kinesis" if rng.kind == KINESIS else "dynamodbstreams"
    client = clients(service, rng.region)
    try:
        raw = _raw_records(client, rng)
    except ClientError as exc:
        if is_denied(exc):
            raise StreamReadDenied(rng.stream_arn, exc) from exc
        raise
    records = [event_record(rng, record) for record in raw]
    return RangeRead(rng, records, expired=max(0, rng.batch_size - len(records)))


# --------------------------------------------------------------------------- event format


def _epoch(value: Any) -> float:
    if isinstance(value, datetime):
        if value.tzinfo is None:  # moto keeps naive UTC datetimes
            value = value.replace(tzinfo=UTC)
        return value.timestamp()
    return float(value)


def _b64(value: bytes | str) -> str:
    return base64.b64encode(value).decode("ascii") if isinstance(value, bytes) else value


def wire_attribute(value: dict[str, Any]) -> dict[str, Any]:
    """An attribute value as Lambda's JSON event carries it (binary as base64 text)."""
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": _b64(inner)}
    if kind == "BS":
        return {"BS": [_b64(b) for b in inner]}
    if kind == "M":
        return {"M": {k: wire_attribute(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [wire_attribute(v) for v in inner]}
    return {kind: inner}


def user_identity(identity: Any) -> dict[str, Any] | None:
    """A stream record's ``userIdentity`` as Lambda's event carries it: GetRecords names its
    fields ``Type`` / ``PrincipalId`` (the DynamoDB Streams API), the mapping's event ``type`` /
    ``principalId`` (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/
    time-to-live-ttl-streams.html). A TTL expiry is ``{"type": "Service", "principalId":
    "dynamodb.amazonaws.com"}``; without it the handlers would take the expiry for a user's
    delete. ``None`` when the record has no identity (every write by a user)."""
    if not isinstance(identity, dict) or not identity:
        return None
    wire: dict[str, Any] = {}
    for api, event in (("Type", "type"), ("PrincipalId", "principalId")):
        value = identity.get(api, identity.get(event))
        if value is not None:
            wire[event] = value
    return wire


def lambda_record(
    kind: str,
    record: dict[str, Any],
    *,
    shard_id: str,
    region: str,
    event_source_arn: str,
    invoke_identity_arn: str | None = None,
) -> dict[str, Any]:
    """One GetRecords record (``kind`` ``"kinesis"`` or ``"dynamodb"``; boto's parsed form or
    the API's JSON) as an event source mapping delivers it to the function, field for field
    (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html,
    https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html): base64 ``kinesis.data`` and
    binary attributes, epoch-second timestamps (Kinesis to the millisecond), and a DynamoDB
    record's ``userIdentity``. The sandbox's poller and the redrive both build their events
    here, so a redriven batch is the batch the mapping would have delivered.
    ``invoke_identity_arn`` is the function's role (Kinesis events only; no handler reads it)."""
    if kind == KINESIS:
        event: dict[str, Any] = {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": record["PartitionKey"],
                "sequenceNumber": str(record["SequenceNumber"]),
                "data": _b64(record["Data"]),
                "approximateArrivalTimestamp": round(
                    _epoch(record["ApproximateArrivalTimestamp"]), 3
                ),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard_id}:{record['SequenceNumber']}",
            "eventName": "aws:kinesis:record",
        }
        if invoke_identity_arn is not None:
            event["invokeIdentityArn"] = invoke_identity_arn
        event["awsRegion"] = region
        event["eventSourceARN"] = event_source_arn
        return event
    image = dict(record["dynamodb"])
    if "ApproximateCreationDateTime" in image:
        image["ApproximateCreationDateTime"] = int(_epoch(image["ApproximateCreationDateTime"]))
    for key in ("Keys", "NewImage", "OldImage"):
        if key in image:
            image[key] = {k: wire_attribute(v) for k, v in image[key].items()}
    event = {
        "eventID": record.get("eventID"),
        "eventName": record.get("eventName"),
        "eventVersion": record.get("eventVersion", "1.1"),
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": image,
    }
    identity = user_identity(record.get("userIdentity"))
    if identity is not None:
        event["userIdentity"] = identity
    event["eventSourceARN"] = event_source_arn
    return event


def event_record(rng: FailedRange, record: dict[str, Any]) -> dict[str, Any]:
    """One GetRecords record of ``rng`` as the mapping would have delivered it
    (:func:`lambda_record`). ``invokeIdentityArn`` is left out: the redrive does not know the
    function's role, and the handlers don't read it."""
    return lambda_record(
        rng.kind,
        record,
        shard_id=rng.shard_id,
        region=rng.region,
        event_source_arn=rng.stream_arn,
    )
