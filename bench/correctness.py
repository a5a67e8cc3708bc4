"""The correctness half of the benchmark: each function runs against moto, in two accounts, on
the same clickstream batch, and the run is checked end to end — items in the table, no duplicate
after redelivery, the archiver fed from moto's real DynamoDB stream, lines in S3 equal to the
payloads — while counting the AWS requests each invocation makes.

moto is slow per request (it is a full emulator), so no timing is taken here; the throughput
figures come from the in-process fake (``bench.emulation``).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Any

import boto3
from stream_replica.testing.events import (
    POC_ACCOUNT,
    REGION,
    REPLICATOR_ROLE_ARN,
    TABLE_NAME,
    TABLE_STREAM_ARN,
    clickstream,
    kinesis_event,
)
from stream_replica.testing.tables import create_replica_table

from .emulation import emulation
from .harness import call
from .subjects import ARCHIVER_DLQ, DELIVERY_STREAM, REPLICATOR_DLQ, Subject, apply_env

BUCKET = f"prod-kinesis-archive-{POC_ACCOUNT}"
ARCHIVER_ROLE_ARN = f"arn:aws:iam::{POC_ACCOUNT}:role/PocLambdaFirehose-role"


@dataclass
class CorrectnessResult:
    impl: str
    n: int
    replicator_calls: list[dict[str, int]] = field(default_factory=list)
    archiver_calls: dict[str, int] = field(default_factory=dict)
    items_after_first: int = 0
    items_after_redelivery: int = 0
    stream_records: int = 0
    archived_lines: int = 0
    lines_equal_payloads: bool = False
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return (
            not self.failures
            and self.items_after_first == self.n
            and self.items_after_redelivery == self.n
            and self.archived_lines == self.n
            and self.lines_equal_payloads
        )


def _role_env(role_arn: str) -> dict[str, str]:
    """Credentials of ``role_arn`` as Lambda's environment variables. moto places a request in
    the account of the role whose credentials sign it: this is how two accounts share one
    process."""
    c = boto3.client("sts").assume_role(RoleArn=role_arn, RoleSessionName="bench")["Credentials"]
    return {
        "AWS_ACCESS_KEY_ID": c["AccessKeyId"],
        "AWS_SECRET_ACCESS_KEY": c["SecretAccessKey"],
        "AWS_SESSION_TOKEN": c["SessionToken"],
    }


def _become(env: dict[str, str]) -> None:
    """Switch the process's identity, as a different function's execution environment: boto3's
    default session caches the credentials it first resolved, so it is dropped too."""
    os.environ.update(env)
    boto3.DEFAULT_SESSION = None


def _session(env: dict[str, str]) -> boto3.Session:
    return boto3.Session(
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        aws_session_token=env["AWS_SESSION_TOKEN"],
        region_name=REGION,
    )


def _setup(poc: boto3.Session, prod: boto3.Session) -> str:
    """Create the POC account's table (with stream), bucket and delivery stream and both dead-
    letter queues; return the table's stream ARN."""
    ddb = poc.client("dynamodb")
    table = create_replica_table(ddb, TABLE_NAME, stream_view_type="NEW_IMAGE")
    poc.client("s3").create_bucket(
        Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    poc.client("firehose").create_delivery_stream(
        DeliveryStreamName=DELIVERY_STREAM,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration={
            "RoleARN": f"arn:aws:iam::{POC_ACCOUNT}:role/firehose-delivery",
            "BucketARN": f"arn:aws:s3:::{BUCKET}",
            "Prefix": "prod-kinesis-data/",
        },
    )
    poc.client("sqs").create_queue(QueueName=ARCHIVER_DLQ.rsplit("/", 1)[1])
    prod.client("sqs").create_queue(QueueName=REPLICATOR_DLQ.rsplit("/", 1)[1])
    return str(table["LatestStreamArn"])


def _item_count(poc: boto3.Session) -> int:
    pages = (
        poc.client("dynamodb").get_paginator("scan").paginate(TableName=TABLE_NAME, Select="COUNT")
    )
    return sum(p["Count"] for p in pages)


def _stream_event(poc: boto3.Session, stream_arn: str) -> dict[str, Any]:
    """Every record of the table's stream, as Lambda's DynamoDB event source mapping delivers
    them (moto's records plus the ``eventSourceARN`` Lambda adds)."""
    streams = poc.client("dynamodbstreams")
    records: list[dict[str, Any]] = []
    for shard in streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"]:
        it = streams.get_shard_iterator(
            StreamArn=stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        seen: set[str] = set()
        while it:
            page = streams.get_records(ShardIterator=it, Limit=1000)
            fresh = [r for r in page["Records"] if r["dynamodb"]["SequenceNumber"] not in seen]
            # A page with nothing new ends the shard (an emulator that hands the same records
            # out again must not keep this loop going).
            if not fresh:
                break
            seen.update(r["dynamodb"]["SequenceNumber"] for r in fresh)
            records.extend(fresh)
            it = page.get("NextShardIterator")
    for r in records:
        r["eventSourceARN"] = TABLE_STREAM_ARN
        # moto returns the creation time as a datetime; Lambda's event carries epoch seconds.
        ts = r["dynamodb"].get("ApproximateCreationDateTime")
        if ts is not None and not isinstance(ts, int | float):
            r["dynamodb"]["ApproximateCreationDateTime"] = int(ts.timestamp())
    return {"Records": records}


def _archived_lines(poc: boto3.Session) -> list[dict[str, Any]]:
    s3 = poc.client("s3")
    lines: list[dict[str, Any]] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for obj in page.get("Contents", []):
            body = s3.get_object(Bucket=BUCKET, Key=obj["Key"])["Body"].read().decode()
            lines.extend(json.loads(line) for line in body.splitlines() if line)
    return lines


def expected_line(payload: dict[str, Any], seq: str, shard_id: str) -> dict[str, Any]:
    """What the data contract says the archived line is: the payload with top-level null/""
    dropped, plus the three key attributes."""
    line = {k: v for k, v in payload.items() if v is not None and v != ""}
    line.update(
        sequenceNumber=seq, shardId=shard_id, seqNumbershardIdHash=f"{seq[-3:-1]}_{shard_id}"
    )
    return line


def run(replicator: Subject, archiver: Subject, n: int) -> CorrectnessResult:
    """Replicate ``n`` records twice (a redelivery), archive the table's stream, check it all."""
    from moto import mock_aws

    from sandbox.emulator import moto_one_request_at_a_time

    result = CorrectnessResult(replicator.impl, n)
    payloads = clickstream(n, seed=11)
    event = kinesis_event(payloads)
    try:
        with mock_aws(), moto_one_request_at_a_time():
            apply_env()
            prod_env = _role_env(REPLICATOR_ROLE_ARN)
            poc_env = _role_env(ARCHIVER_ROLE_ARN)
            poc = _session(poc_env)
            stream_arn = _setup(poc, _session(prod_env))
            _become(prod_env)
            replicator.reset()
            archiver.reset()
            for attempt in range(2):
                with emulation() as counter:
                    out = call(replicator, event)
                result.replicator_calls.append(counter.snapshot())
                if out and out.get("batchItemFailures"):
                    result.failures.append(
                        f"replicator invocation {attempt + 1}: "
                        f"{len(out['batchItemFailures'])} batchItemFailures"
                    )
                if attempt == 0:
                    result.items_after_first = _item_count(poc)
            result.items_after_redelivery = _item_count(poc)
            # The first delivery's INSERTs; a redelivery rewrites identical items (MODIFY or no
            # stream record at all), which the archiver must not be fed twice here.
            stream_event = _stream_event(poc, stream_arn)
            inserts = [r for r in stream_event["Records"] if r["eventName"] == "INSERT"]
            result.stream_records = len(inserts)
            _become(poc_env)
            with emulation() as counter:
                out = call(archiver, {"Records": inserts})
            result.archiver_calls = counter.snapshot()
            if out and out.get("batchItemFailures"):
                result.failures.append(f"archiver: {len(out['batchItemFailures'])} failures")
            lines = _archived_lines(poc)
            result.archived_lines = len(lines)
            shard = event["Records"][0]["eventID"].split(":", 1)[0]
            expected = sorted(
                (
                    expected_line(p, r["kinesis"]["sequenceNumber"], shard)
                    for p, r in zip(payloads, event["Records"], strict=True)
                ),
                key=lambda x: x["sequenceNumber"],
            )
            got = sorted(lines, key=lambda x: str(x.get("sequenceNumber")))
            result.lines_equal_payloads = got == expected
            if not result.lines_equal_payloads and got:
                diff = next((g, e) for g, e in zip(got, expected, strict=False) if g != e)
                result.failures.append(f"first differing line: got {diff[0]} expected {diff[1]}")
    finally:
        apply_env()  # back to the dummy credentials
        boto3.DEFAULT_SESSION = None
        replicator.reset()
        archiver.reset()
    return result
