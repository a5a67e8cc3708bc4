"""BASELINE ONLY — the seed design's two functions, re-written here as the benchmark's yardstick.

Nothing in the project runs this code. It follows the algorithm of the AWS Compute Blog post the
project started from ("Serverless Cross Account Stream Replication Using AWS Lambda, Amazon
DynamoDB, and Amazon Kinesis Firehose"):

* replicator: on every invocation, AssumeRole into the target account and build a DynamoDB
  resource from the temporary credentials; then, for each Kinesis record, decode the base64 JSON,
  drop top-level null/"" attributes, add ``sequenceNumber``, ``shardId`` and
  ``seqNumbershardIdHash`` (digits [-3:-1] of the sequence number, ``_``, shard id) and write it
  with one ``PutItem``. No batching, no retry beyond the SDK's, no failure reporting.
* archiver: for each DynamoDB stream record, turn the NewImage into JSON and send it with one
  Firehose ``PutRecord``.

One deliberate deviation so the baseline can write the same realistic records as our handlers:
JSON numbers are parsed as ``Decimal`` (boto3 rejects Python floats). It reads the same
environment variables as our handlers (see ``handlers/__init__.py``).
"""

from __future__ import annotations

import base64
import json
import os
from decimal import Decimal
from typing import Any

import boto3
from boto3.dynamodb.types import TypeDeserializer, TypeSerializer

_firehose: Any = None
_deserializer = TypeDeserializer()
_serializer = TypeSerializer()


def reset_clients() -> None:
    """Forget the archiver's module-level client (the replicator keeps none: it builds one per
    invocation, as the seed does)."""
    global _firehose
    _firehose = None


def replicator_item(record: dict[str, Any]) -> dict[str, Any]:
    """The seed's transform of one Kinesis record into a table item."""
    kinesis = record["kinesis"]
    payload = json.loads(base64.b64decode(kinesis["data"]), parse_float=Decimal)
    item = {k: v for k, v in payload.items() if v is not None and v != ""}
    seq = kinesis["sequenceNumber"]
    shard_id = record["eventID"].split(":", 1)[0]
    item["sequenceNumber"] = seq
    item["shardId"] = shard_id
    item["seqNumbershardIdHash"] = f"{seq[-3:-1]}_{shard_id}"
    return item


def replicator_typed_item(record: dict[str, Any]) -> dict[str, Any]:
    """The seed's item in DynamoDB JSON, as the boto3 Table resource serialises it inside
    ``put_item``: the baseline's transform up to the point where botocore takes over (the same
    point as our handler's transform), for the CPU comparison."""
    return {k: _serializer.serialize(v) for k, v in replicator_item(record).items()}


def replicator_handler(event: dict[str, Any], context: Any) -> None:
    """Seed replicator: AssumeRole every invocation, one PutItem per record."""
    sts = boto3.client("sts")
    creds = sts.assume_role(
        RoleArn=os.environ["WRITER_ROLE_ARN"],
        RoleSessionName=os.environ.get("WRITER_ROLE_SESSION_NAME", "ProdKinesisToPocDynamo"),
    )["Credentials"]
    table = boto3.resource(
        "dynamodb",
        region_name=os.environ["TARGET_REGION"],
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["SessionToken"],
    ).Table(os.environ["TABLE_NAME"])
    for record in event["Records"]:
        table.put_item(Item=replicator_item(record))


def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def archiver_line(record: dict[str, Any]) -> bytes:
    """The seed's transform of one DynamoDB stream record into a JSON line."""
    image = record["dynamodb"]["NewImage"]
    plain = {k: _deserializer.deserialize(v) for k, v in image.items()}
    return (json.dumps(plain, default=_json_default) + "\n").encode()


def archiver_handler(event: dict[str, Any], context: Any) -> None:
    """Seed archiver: one Firehose PutRecord per INSERT/MODIFY record."""
    global _firehose
    if _firehose is None:
        _firehose = boto3.client("firehose")
    stream = os.environ["DELIVERY_STREAM_NAME"]
    for record in event["Records"]:
        if record["eventName"] in ("INSERT", "MODIFY"):
            _firehose.put_record(DeliveryStreamName=stream, Record={"Data": archiver_line(record)})
