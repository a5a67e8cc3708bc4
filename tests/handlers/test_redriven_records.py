"""A redriven batch is the batch the mapping would have delivered.

The redrive (``stream_replica.redrive``) rebuilds Lambda's event records from a re-read of the
stream (GetRecords). Each test here takes the same stream records two ways: as the event
source mapping delivers them (AWS's documented event formats, written out here) and as the
redrive rebuilds them (:func:`stream_replica.redrive.read_range`), and checks both that the
records are equal in every field and that the handlers write the same things for each.
"""

from __future__ import annotations

import base64
import copy
import json
from datetime import UTC, datetime
from typing import Any

from handler_support import (
    EXECUTION_ROLE_ARN,
    POC_ACCOUNT,
    REGION,
    TABLE_NAME,
    blob,
    failures,
    parse_line,
)
from stream_replica.handlers.records import HASH_KEY, RANGE_KEY
from stream_replica.redrive import parse_invocation_record, read_range
from stream_replica.redrive.streams import lambda_record

TTL_IDENTITY_API = {"PrincipalId": "dynamodb.amazonaws.com", "Type": "Service"}


def _invocation_record(
    info_key: str, shard: str, first: str, last: str, size: int, arn: str
) -> str:
    return json.dumps(
        {
            "requestContext": {
                "requestId": "r",
                "functionArn": f"arn:aws:lambda:{REGION}:{POC_ACCOUNT}:function:f",
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": 3,
            },
            "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": "2026-11-29T12:00:00.000Z",
            info_key: {
                "shardId": shard,
                "startSequenceNumber": first,
                "endSequenceNumber": last,
                "batchSize": size,
                "streamArn": arn,
            },
        }
    )


def _epoch(stamp: datetime) -> float:
    return (stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)).timestamp()


def _wire(value: dict[str, Any]) -> dict[str, Any]:
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode("ascii")}
    if kind == "M":
        return {"M": {k: _wire(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [_wire(v) for v in inner]}
    return value


def _documented_dynamodb(record: dict[str, Any], stream_arn: str) -> dict[str, Any]:
    """A GetRecords record as the mapping delivers it, per AWS's documented event
    (https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html, and for TTL
    https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-streams.html)."""
    stream = dict(record["dynamodb"])
    stream["ApproximateCreationDateTime"] = int(_epoch(stream["ApproximateCreationDateTime"]))
    for part in ("Keys", "NewImage", "OldImage"):
        if part in stream:
            stream[part] = {k: _wire(v) for k, v in stream[part].items()}
    event = {
        "eventID": record["eventID"],
        "eventName": record["eventName"],
        "eventVersion": record["eventVersion"],
        "eventSource": "aws:dynamodb",
        "awsRegion": REGION,
        "dynamodb": stream,
        "eventSourceARN": stream_arn,
    }
    if "userIdentity" in record:
        identity = record["userIdentity"]
        event["userIdentity"] = {"type": identity["Type"], "principalId": identity["PrincipalId"]}
    return event


def _key(item: dict[str, Any]) -> dict[str, Any]:
    return {HASH_KEY: {"S": str(item[HASH_KEY])}, RANGE_KEY: {"S": str(item[RANGE_KEY])}}


def _table_stream_records(world: Any) -> tuple[list[dict[str, Any]], str]:
    """Two items written, one deleted by a user and one expired by TTL, read back with
    GetRecords (moto's stream record of the expiry gets the TTL identity AWS gives it)."""
    from moto.dynamodb.models import dynamodb_backends

    world.source.put([blob({"eventId": "user-deleted"}), blob({"eventId": "expired"})])
    assert failures(world.replicate(world.source.event())) == []
    ddb = world.target.dynamodb
    items = sorted(world.target.items(), key=lambda item: item["eventId"])
    for item in reversed(items):  # "user-deleted" first, then "expired"
        ddb.delete_item(TableName=TABLE_NAME, Key=_key(item))
    shard_store = dynamodb_backends[POC_ACCOUNT][REGION].get_table(TABLE_NAME).stream_shard
    assert shard_store is not None
    shard_store.items[-1].record["userIdentity"] = dict(TTL_IDENTITY_API)
    streams = world.target.streams
    shard = streams.describe_stream(StreamArn=world.target.stream_arn)["StreamDescription"][
        "Shards"
    ][0]["ShardId"]
    iterator = streams.get_shard_iterator(
        StreamArn=world.target.stream_arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = streams.get_records(ShardIterator=iterator, Limit=100)["Records"]
    return records, shard


def test_a_redriven_table_stream_batch_equals_the_mapping_batch_and_writes_the_same(
    world: Any,
) -> None:
    records, shard = _table_stream_records(world)
    assert [r["eventName"] for r in records] == ["INSERT", "INSERT", "REMOVE", "REMOVE"]
    assert records[-1]["userIdentity"] == TTL_IDENTITY_API  # the API's spelling
    stream_arn = world.target.stream_arn
    delivered = [_documented_dynamodb(r, stream_arn) for r in records]

    sequences = [r["dynamodb"]["SequenceNumber"] for r in records]
    rng = parse_invocation_record(
        _invocation_record(
            "DDBStreamBatchInfo", shard, sequences[0], sequences[-1], len(records), stream_arn
        )
    )
    redriven = read_range(lambda service, region: world.poc.client(service), rng).records
    assert redriven == delivered
    assert redriven[-1]["userIdentity"] == {
        "type": "Service",
        "principalId": "dynamodb.amazonaws.com",
    }

    # The same writes: the archiver archives the user's delete as a tombstone and never the
    # expiry, whichever way the batch comes.
    assert failures(world.archive({"Records": delivered}, ARCHIVE_REMOVES="true")) == []
    mapping_lines = world.target.archived_lines()
    assert failures(world.archive({"Records": redriven}, ARCHIVE_REMOVES="true")) == []
    redrive_lines = world.target.archived_lines()
    assert sorted(mapping_lines) == sorted(redrive_lines)
    tombstones = [parse_line(line) for line in redrive_lines if parse_line(line).get("_deleted")]
    assert len(tombstones) == 1


def _documented_kinesis(record: dict[str, Any], shard: str, stream_arn: str) -> dict[str, Any]:
    """A Kinesis GetRecords record as the mapping delivers it
    (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html): arrival to the ms."""
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": record["PartitionKey"],
            "sequenceNumber": record["SequenceNumber"],
            "data": base64.b64encode(record["Data"]).decode("ascii"),
            "approximateArrivalTimestamp": round(_epoch(record["ApproximateArrivalTimestamp"]), 3),
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard}:{record['SequenceNumber']}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": EXECUTION_ROLE_ARN,
        "awsRegion": REGION,
        "eventSourceARN": stream_arn,
    }


def test_a_redriven_kinesis_batch_equals_the_mapping_batch_and_writes_the_same(
    world: Any,
) -> None:
    world.source.put([blob({"eventId": f"e{i}", "n": i}) for i in range(5)] + [b"not json"])
    kinesis = world.source.kinesis
    iterator = kinesis.get_shard_iterator(
        StreamARN=world.source.arn, ShardId=world.source.shard_id, ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    records = kinesis.get_records(ShardIterator=iterator, Limit=100, StreamARN=world.source.arn)[
        "Records"
    ]
    shard, arn = world.source.shard_id, world.source.arn
    delivered = [_documented_kinesis(r, shard, arn) for r in records]
    rng = parse_invocation_record(
        _invocation_record(
            "KinesisBatchInfo",
            shard,
            records[0]["SequenceNumber"],
            records[-1]["SequenceNumber"],
            len(records),
            arn,
        )
    )
    redriven = read_range(lambda service, region: world.prod.client(service), rng).records
    # Every field but the function's role, which the redrive cannot know and no handler reads.
    without_role = copy.deepcopy(delivered)
    for record in without_role:
        del record["invokeIdentityArn"]
    assert redriven == without_role
    assert redriven == [
        lambda_record("kinesis", r, shard_id=shard, region=REGION, event_source_arn=arn)
        for r in records
    ]

    assert failures(world.replicate({"Records": delivered}, TTL_DAYS="3")) == []
    mapping_items = world.target.items()
    for item in mapping_items:
        world.target.dynamodb.delete_item(TableName=TABLE_NAME, Key=_key(item))
    assert failures(world.replicate({"Records": redriven}, TTL_DAYS="3")) == []
    assert sorted(world.target.items(), key=str) == sorted(mapping_items, key=str)
