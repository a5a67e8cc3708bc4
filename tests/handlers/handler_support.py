"""Helpers for the handler tests: two moto accounts, Lambda-shaped events, fault hooks.

Events are built from what moto's Kinesis and DynamoDB Streams really return, converted to the
JSON shapes Lambda delivers (base64 ``data``, epoch timestamps, ``B`` values as base64 text).
"""

from __future__ import annotations

import base64
import json
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Context, Decimal
from typing import Any

import boto3
import botocore.session
from botocore.awsrequest import AWSResponse
from stream_replica.testing.contexts import LambdaContext
from stream_replica.testing.tables import create_replica_table

REGION = "eu-west-1"
PROD_ACCOUNT = "111111111111"
POC_ACCOUNT = "999999999999"
EXECUTION_ROLE_ARN = f"arn:aws:iam::{PROD_ACCOUNT}:role/ProdKinesisToPocDynamo-role"
ARCHIVER_ROLE_ARN = f"arn:aws:iam::{POC_ACCOUNT}:role/PocLambdaFirehose-role"
WRITER_ROLE_ARN = f"arn:aws:iam::{POC_ACCOUNT}:role/DynamoDB-ProdAnalyticsWrite-role"
TABLE_NAME = "prod-raven-lambda-webanalytics-crossaccount"
STREAM_NAME = "web-analytics"
DELIVERY_STREAM = "prod-s3-firehose"
BUCKET = f"stream-replica-archive-{POC_ACCOUNT}"
PREFIX = "prod-kinesis-data/"


# moto resets boto3's default session for every test; the tests' own clients come from one
# session of their own instead, so each service model is parsed once per run, not per client.
_SESSION: boto3.Session | None = None


def session() -> boto3.Session:
    global _SESSION
    if _SESSION is None:
        _SESSION = boto3.Session(botocore_session=botocore.session.Session(), region_name=REGION)
    return _SESSION


@dataclass(frozen=True)
class Credentials:
    access_key: str
    secret_key: str
    token: str

    @property
    def env(self) -> dict[str, str]:
        return {
            "AWS_ACCESS_KEY_ID": self.access_key,
            "AWS_SECRET_ACCESS_KEY": self.secret_key,
            "AWS_SESSION_TOKEN": self.token,
        }

    def client(self, service: str) -> Any:
        return session().client(
            service,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            aws_session_token=self.token,
        )


def assume(role_arn: str, via: Any | None = None) -> Credentials:
    """Credentials of ``role_arn``; in moto they act in the role's account."""
    sts = via or session().client("sts")
    creds = sts.assume_role(RoleArn=role_arn, RoleSessionName="tests")["Credentials"]
    return Credentials(creds["AccessKeyId"], creds["SecretAccessKey"], creds["SessionToken"])


class FakeContext(LambdaContext):
    """The replicator's context whose remaining time the test controls."""

    def __init__(
        self, remaining_ms: int = 120_000, remaining: Callable[[], int] | None = None
    ) -> None:
        super().__init__(
            "ProdKinesisToPocDynamo",
            memory_mb=512,
            region=REGION,
            account_id=PROD_ACCOUNT,
            aws_request_id="00000000-0000-0000-0000-000000000000",
            remaining_ms=remaining_ms,
            remaining=remaining,
        )


# --------------------------------------------------------------------------- Kinesis side


class KinesisSource:
    """The prod stream in moto; ``event()`` turns newly put records into a Lambda event."""

    def __init__(self, creds: Credentials) -> None:
        self.kinesis = creds.client("kinesis")
        self.kinesis.create_stream(StreamName=STREAM_NAME, ShardCount=1)
        summary = self.kinesis.describe_stream_summary(StreamName=STREAM_NAME)
        self.arn = summary["StreamDescriptionSummary"]["StreamARN"]
        self.shard_id = self.kinesis.list_shards(StreamName=STREAM_NAME)["Shards"][0]["ShardId"]
        self._iterator = self.kinesis.get_shard_iterator(
            StreamName=STREAM_NAME, ShardId=self.shard_id, ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]

    def put(self, blobs: Iterable[bytes]) -> None:
        blobs = list(blobs)
        for start in range(0, len(blobs), 500):
            self.kinesis.put_records(
                StreamName=STREAM_NAME,
                Records=[
                    {"Data": blob, "PartitionKey": f"user-{i % 7}"}
                    for i, blob in enumerate(blobs[start : start + 500])
                ],
            )

    def event(self) -> dict[str, Any]:
        """Everything put since the last call, as Lambda's Kinesis event."""
        records: list[dict[str, Any]] = []
        while True:
            response = self.kinesis.get_records(ShardIterator=self._iterator, Limit=10_000)
            self._iterator = response["NextShardIterator"]
            if not response["Records"]:
                break
            records += [self._lambda_record(r) for r in response["Records"]]
        return {"Records": records}

    def _lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        return {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": record["PartitionKey"],
                "sequenceNumber": record["SequenceNumber"],
                "data": base64.b64encode(record["Data"]).decode("ascii"),
                "approximateArrivalTimestamp": record["ApproximateArrivalTimestamp"].timestamp(),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{self.shard_id}:{record['SequenceNumber']}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": EXECUTION_ROLE_ARN,
            "awsRegion": REGION,
            "eventSourceARN": self.arn,
        }


def kinesis_record(data: str, sequence_number: str, shard_id: str = "shardId-000000000000") -> dict:
    """One Lambda Kinesis record with ``data`` as given (for payloads Kinesis can't carry)."""
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": "p",
            "sequenceNumber": sequence_number,
            "data": data,
            "approximateArrivalTimestamp": 1764244800.123,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": EXECUTION_ROLE_ARN,
        "awsRegion": REGION,
        "eventSourceARN": f"arn:aws:kinesis:{REGION}:{PROD_ACCOUNT}:stream/{STREAM_NAME}",
    }


def blob(payload: Any) -> bytes:
    return json.dumps(payload).encode("utf-8")


def failures(response: dict[str, Any]) -> list[str]:
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


# --------------------------------------------------------------------------- POC side


class Target:
    """The POC account: table with stream, delivery stream into a bucket, dead-letter queue."""

    def __init__(self, creds: Credentials) -> None:
        self.creds = creds
        self.dynamodb = creds.client("dynamodb")
        create_replica_table(self.dynamodb, TABLE_NAME, stream_view_type="NEW_IMAGE")
        table = self.dynamodb.describe_table(TableName=TABLE_NAME)["Table"]
        self.table_arn = table["TableArn"]
        self.stream_arn = table["LatestStreamArn"]
        self.streams = creds.client("dynamodbstreams")
        shard = self.streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"][
            "Shards"
        ][0]
        self._iterator = self.streams.get_shard_iterator(
            StreamArn=self.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        self.s3 = creds.client("s3")
        self.s3.create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        self.firehose = creds.client("firehose")
        self.firehose.create_delivery_stream(
            DeliveryStreamName=DELIVERY_STREAM,
            ExtendedS3DestinationConfiguration={
                "RoleARN": f"arn:aws:iam::{POC_ACCOUNT}:role/firehose-delivery",
                "BucketARN": f"arn:aws:s3:::{BUCKET}",
                "Prefix": PREFIX,
            },
        )
        self._seen_objects: set[str] = set()

    def items(self) -> list[dict[str, Any]]:
        from boto3.dynamodb.types import TypeDeserializer

        deserializer = TypeDeserializer()
        items: list[dict[str, Any]] = []
        paginator = self.dynamodb.get_paginator("scan")
        for page in paginator.paginate(TableName=TABLE_NAME):
            items += [
                {k: deserializer.deserialize(v) for k, v in item.items()} for item in page["Items"]
            ]
        return items

    def stream_event(self) -> dict[str, Any]:
        """The table's stream records since the last call, as Lambda's DynamoDB event."""
        records: list[dict[str, Any]] = []
        while True:
            response = self.streams.get_records(ShardIterator=self._iterator, Limit=1000)
            self._iterator = response.get("NextShardIterator", self._iterator)
            if not response["Records"]:
                break
            records += [self._lambda_record(r) for r in response["Records"]]
        return {"Records": records}

    def _lambda_record(self, record: dict[str, Any]) -> dict[str, Any]:
        stream = dict(record["dynamodb"])
        stream["ApproximateCreationDateTime"] = int(
            stream["ApproximateCreationDateTime"].timestamp()
        )
        for part in ("Keys", "NewImage", "OldImage"):
            if part in stream:
                stream[part] = {k: _lambda_json(v) for k, v in stream[part].items()}
        return {
            "eventID": record["eventID"],
            "eventName": record["eventName"],
            "eventVersion": "1.1",
            "eventSource": "aws:dynamodb",
            "awsRegion": REGION,
            "dynamodb": stream,
            "eventSourceARN": self.stream_arn,
        }

    def archived_lines(self) -> list[str]:
        """Lines of the objects Firehose wrote to the bucket since the last call."""
        lines: list[str] = []
        listing = self.s3.list_objects_v2(Bucket=BUCKET, Prefix=PREFIX)
        for obj in sorted(listing.get("Contents", []), key=lambda o: o["Key"]):
            if obj["Key"] in self._seen_objects:
                continue
            self._seen_objects.add(obj["Key"])
            body = self.s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read()
            assert body.endswith(b"\n"), "every archived line must be newline-terminated"
            lines += body.decode("utf-8").split("\n")[:-1]  # JSON lines end in "\n" only
        return lines


def _lambda_json(value: dict[str, Any]) -> dict[str, Any]:
    """A typed attribute value as Lambda's JSON carries it (binary as base64 text)."""
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64encode(inner).decode("ascii")}
    if kind == "BS":
        return {"BS": [base64.b64encode(b).decode("ascii") for b in inner]}
    if kind == "L":
        return {"L": [_lambda_json(v) for v in inner]}
    if kind == "M":
        return {"M": {k: _lambda_json(v) for k, v in inner.items()}}
    return value


def dead_letters(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    bodies: list[dict[str, Any]] = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
            "Messages", []
        )
        if not messages:
            return bodies
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


# --------------------------------------------------------------------------- comparing values

_WIDE = Context(prec=200)


def canonical(value: Any) -> Any:
    """A type-strict comparable form: ``True`` never equals ``1``, ``1.50`` equals ``1.5``."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return (type(value).__name__, value)
    if isinstance(value, (int, float, Decimal)):
        return ("number", _WIDE.normalize(Decimal(str(value))) if value else Decimal(0))
    if isinstance(value, list):
        return ("list", [canonical(v) for v in value])
    if isinstance(value, dict):
        return ("map", {k: canonical(v) for k, v in value.items()})
    raise TypeError(type(value))


def parse_line(line: str) -> Any:
    return json.loads(line, parse_float=Decimal, parse_int=Decimal)


def expected_line(payload_json: bytes, sequence_number: str, shard_id: str) -> Any:
    """What the archive must hold for a payload: itself minus top-level null/"", plus keys."""
    payload = json.loads(payload_json, parse_float=Decimal, parse_int=Decimal)
    expected = {k: v for k, v in payload.items() if v is not None and v != ""}
    expected.update(
        sequenceNumber=sequence_number,
        shardId=shard_id,
        seqNumbershardIdHash=f"{sequence_number[-3:-1]}_{shard_id}",
    )
    return expected


# --------------------------------------------------------------------------- call counting, faults


@dataclass
class CallCounter:
    """Counts API calls by ``Service.Operation`` through a ``before-call`` hook."""

    calls: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, event_name: str, **_: Any) -> None:
        service, operation = event_name.split(".", 2)[1:]
        with self._lock:
            self.calls[f"{service}.{operation}"] += 1

    def __getitem__(self, name: str) -> int:
        return self.calls[name]

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()


def error_response(code: str, status: int = 400, message: str = "injected") -> tuple[Any, dict]:
    """What a ``before-call`` hook returns to make botocore raise ``code`` without a request."""
    http = AWSResponse("https://injected.invalid", status, {}, None)
    return http, {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status},
    }


class CapturedBatchWrites:
    """A botocore ``before-send`` hook: records each request and answers a BatchWriteItem with
    nothing unprocessed, so a test reads the bodies and URLs botocore would have sent."""

    def __init__(self) -> None:
        self.requests: list[Any] = []

    def __call__(self, request: Any, **_: Any) -> AWSResponse:
        self.requests.append(request)
        body = json.dumps({"UnprocessedItems": {}}).encode()

        class Raw:
            def stream(self, **_: Any) -> Any:
                yield body

        return AWSResponse(request.url, 200, {}, Raw())
