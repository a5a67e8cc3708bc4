"""PEER ONLY — the same two functions written the way a competent team would with the usual
libraries, as the benchmark's second yardstick (the first is the seed design, ``baseline.py``).

Nothing in the project runs this code.

* replicator: Powertools' ``BatchProcessor`` (Kinesis, partial batch responses) with a
  ``record_handler`` that decodes the JSON with Decimal numbers, drops top-level null/"" and adds
  the three key attributes, and boto3's ``Table.batch_writer()`` (25 items per BatchWriteItem,
  UnprocessedItems resent); the writer role is assumed once per execution environment and the
  Table resource cached. With ``PSEUDONYMIZE_FIELDS`` (a JSON array of top-level attribute
  names) and ``PSEUDONYMIZATION_KEY_PARAMETER`` set, it replaces those attributes' values by
  ``HMAC-SHA256(key, value)`` in hex, the key read once from SSM, as ours does;
* archiver: Powertools' ``BatchProcessor`` (DynamoDB Streams) with a ``record_handler`` that takes
  ``record.dynamodb.new_image`` (Powertools' deserialiser) and writes it with ``json.dumps``; the
  lines go out with Firehose ``PutRecordBatch`` 500 at a time.

Both use boto3's default client settings (parameter validation on, standard retries).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from decimal import Decimal
from typing import Any

import boto3
from aws_lambda_powertools.utilities.batch import (
    BatchProcessor,
    EventType,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import (
    DynamoDBRecord,
)
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import (
    KinesisStreamRecord,
)

_cache: dict[str, Any] = {}


def reset_clients() -> None:
    """Forget the cached Table, Firehose client and key (a new execution environment)."""
    _cache.clear()


def _table() -> Any:
    table = _cache.get("table")
    if table is None:
        creds = boto3.client("sts").assume_role(
            RoleArn=os.environ["WRITER_ROLE_ARN"],
            RoleSessionName=os.environ.get("WRITER_ROLE_SESSION_NAME", "peer"),
        )["Credentials"]
        table = boto3.resource(
            "dynamodb",
            region_name=os.environ["TARGET_REGION"],
            aws_access_key_id=creds["AccessKeyId"],
            aws_secret_access_key=creds["SecretAccessKey"],
            aws_session_token=creds["SessionToken"],
        ).Table(os.environ["TABLE_NAME"])
        _cache["table"] = table
    return table


def _pseudonymise_fields() -> tuple[list[str], bytes | None]:
    """The top-level attributes to pseudonymise and the HMAC key (read once from SSM)."""
    fields = json.loads(os.environ.get("PSEUDONYMIZE_FIELDS") or "[]")
    if not fields:
        return [], None
    key = _cache.get("key")
    if key is None:
        parameter = boto3.client("ssm").get_parameter(
            Name=os.environ["PSEUDONYMIZATION_KEY_PARAMETER"], WithDecryption=True
        )
        key = _cache["key"] = parameter["Parameter"]["Value"].encode()
    return fields, key


def replicator_item(
    record: KinesisStreamRecord, fields: list[str] | None = None, key: bytes | None = None
) -> dict[str, Any]:
    """The item of one Kinesis record (Decimal numbers; top-level null/"" dropped; ``fields``
    pseudonymised with ``key``; keys)."""
    payload = json.loads(record.kinesis.data_as_text(), parse_float=Decimal, parse_int=Decimal)
    for name in fields or ():
        value = payload.get(name)
        if value is not None:
            text = value if isinstance(value, str) else str(value)
            payload[name] = hmac.new(key or b"", text.encode(), hashlib.sha256).hexdigest()
    item = {k: v for k, v in payload.items() if v is not None and v != ""}
    seq = record.kinesis.sequence_number
    shard_id = record.event_id.split(":", 1)[0]
    item["sequenceNumber"] = seq
    item["shardId"] = shard_id
    item["seqNumbershardIdHash"] = f"{seq[-3:-1]}_{shard_id}"
    return item


def replicator_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    processor = BatchProcessor(event_type=EventType.KinesisDataStreams)
    fields, key = _pseudonymise_fields()
    with _table().batch_writer(overwrite_by_pkeys=["seqNumbershardIdHash", "sequenceNumber"]) as w:

        def record_handler(record: KinesisStreamRecord) -> None:
            w.put_item(Item=replicator_item(record, fields, key))

        return dict(
            process_partial_response(
                event=event, record_handler=record_handler, processor=processor, context=context
            )
        )


def replicator_typed_items(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The peer's transform up to where botocore takes over: the item in DynamoDB JSON as the
    Table resource's ``TypeSerializer`` makes it (for the transform-only CPU figure)."""
    from boto3.dynamodb.types import TypeSerializer

    serializer = TypeSerializer()
    return [
        {k: serializer.serialize(v) for k, v in replicator_item(KinesisStreamRecord(r)).items()}
        for r in event["Records"]
    ]


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set):
        return sorted(value)
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def archiver_line(record: DynamoDBRecord) -> bytes:
    return (json.dumps(record.dynamodb.new_image, default=_default) + "\n").encode()  # type: ignore[union-attr]


def archiver_handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    firehose = _cache.get("firehose")
    if firehose is None:
        firehose = _cache["firehose"] = boto3.client("firehose")
    lines: list[bytes] = []

    def record_handler(record: DynamoDBRecord) -> None:
        if record.event_name and record.event_name.name in ("INSERT", "MODIFY"):
            lines.append(archiver_line(record))

    processor = BatchProcessor(event_type=EventType.DynamoDBStreams)
    response = process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
    stream = os.environ["DELIVERY_STREAM_NAME"]
    for start in range(0, len(lines), 500):
        firehose.put_record_batch(
            DeliveryStreamName=stream, Records=[{"Data": d} for d in lines[start : start + 500]]
        )
    return dict(response)


def archiver_lines(event: dict[str, Any]) -> list[bytes]:
    return [archiver_line(DynamoDBRecord(r)) for r in event["Records"]]
