"""The sandbox's event source mapping poller keeps Lambda's semantics: checkpointing on
batchItemFailures, a whole-batch retry on an unknown identifier, bisect on error, and the
on-failure destination once retries are exhausted. A scripted function stands in for the
handler; the stream, mapping and queue are real moto resources."""

from __future__ import annotations

import base64
import io
import json
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from sandbox.emulator import Emulator
from sandbox.lambda_runtime import FunctionError
from sandbox.poller import StreamPoller

ACCOUNT = "111111111111"
REGION = "eu-west-1"


@dataclass
class _Function:
    name: str
    arn: str
    account_id: str = ACCOUNT
    region: str = REGION


@dataclass
class ScriptedRuntime:
    """Records every batch it is given and answers with ``script(batch)``."""

    function: _Function
    role_arn: str
    creds: dict[str, Any]
    script: Callable[[list[str]], Any]
    batches: list[list[str]] = field(default_factory=list)

    def credentials(self) -> dict[str, Any]:
        return self.creds

    def invoke(self, event: dict[str, Any], *, crash: bool = False) -> Any:
        data = [base64.b64decode(r["kinesis"]["data"]).decode() for r in event["Records"]]
        self.batches.append(data)
        self.last_event = event
        return self.script(data)


def placeholder_function(lam: Any, name: str, role_arn: str) -> str:
    """A function in moto for a mapping to point at; the tests run their own scripts instead."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("fn.py", "def handler(event, context):\n    return None\n")
    return lam.create_function(
        FunctionName=name,
        Role=role_arn,
        Runtime="python3.13",
        Handler="fn.handler",
        Code={"ZipFile": buffer.getvalue()},
    )["FunctionArn"]


@pytest.fixture
def world():
    with Emulator(REGION) as emulator:
        iam = emulator.client("iam", ACCOUNT)
        role = iam.create_role(
            RoleName="fn-role",
            AssumeRolePolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                }
            ),
        )["Role"]["Arn"]
        lam = emulator.client("lambda", ACCOUNT)
        function_arn = placeholder_function(lam, "fn", role)
        kinesis = emulator.client("kinesis", ACCOUNT)
        kinesis.create_stream(StreamName="src", ShardCount=1)
        stream_arn = kinesis.describe_stream_summary(StreamName="src")["StreamDescriptionSummary"][
            "StreamARN"
        ]
        sqs = emulator.client("sqs", ACCOUNT)
        queue_url = sqs.create_queue(QueueName="on-failure")["QueueUrl"]
        queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:on-failure"

        def make(script: Callable[[list[str]], Any], **settings: Any) -> tuple[Any, Any]:
            mapping = lam.create_event_source_mapping(
                EventSourceArn=stream_arn,
                FunctionName=function_arn,
                StartingPosition="TRIM_HORIZON",
                DestinationConfig={"OnFailure": {"Destination": queue_arn}},
                **settings,
            )
            runtime = ScriptedRuntime(
                _Function("fn", function_arn),
                role,
                emulator.credentials_for_role(role, "fn"),
                script,
            )
            poller = StreamPoller(emulator, ACCOUNT, REGION, mapping["UUID"], runtime)  # type: ignore[arg-type]
            return poller, runtime

        def put(*values: str) -> list[str]:
            return [
                kinesis.put_record(StreamARN=stream_arn, Data=v.encode(), PartitionKey="k")[
                    "SequenceNumber"
                ]
                for v in values
            ]

        def on_failure_records() -> list[dict[str, Any]]:
            messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get(
                "Messages", []
            )
            return [json.loads(m["Body"]) for m in messages]

        yield make, put, on_failure_records


def test_batch_size_and_checkpoint_at_the_first_reported_failure(world) -> None:
    make, put, on_failure = world
    sequences = put("a", "b", "c", "d", "e")
    failed_once: list[bool] = []

    def script(batch: list[str]) -> Any:
        if "c" in batch and not failed_once:
            failed_once.append(True)
            # d fails too; the checkpoint is the lowest failure, c.
            return {
                "batchItemFailures": [
                    {"itemIdentifier": sequences[3]},
                    {"itemIdentifier": sequences[2]},
                ]
            }
        return {"batchItemFailures": []}

    poller, runtime = make(script, BatchSize=4, FunctionResponseTypes=["ReportBatchItemFailures"])
    assert poller.poll() == 5
    assert runtime.batches == [["a", "b", "c", "d"], ["c", "d"], ["e"]]
    assert poller.stats.retries == 1
    assert on_failure() == []
    event = runtime.last_event["Records"][0]
    assert event["eventSource"] == "aws:kinesis"
    assert event["eventID"] == f"shardId-000000000000:{sequences[4]}"


def test_an_identifier_not_in_the_batch_retries_the_whole_batch(world) -> None:
    make, put, _ = world
    put("a", "b")
    answers = iter([{"batchItemFailures": [{"itemIdentifier": "not-a-sequence"}]}, None])
    poller, runtime = make(
        lambda batch: next(answers), FunctionResponseTypes=["ReportBatchItemFailures"]
    )
    poller.poll()
    assert runtime.batches == [["a", "b"], ["a", "b"]]


def test_bisect_isolates_a_failing_record_and_sends_it_to_the_on_failure_queue(world) -> None:
    make, put, on_failure = world
    sequences = put("ok1", "ok2", "bad", "ok3")

    def script(batch: list[str]) -> Any:
        if "bad" in batch:
            raise FunctionError("Boom", "bad record")
        return None

    poller, runtime = make(script, BisectBatchOnFunctionError=True, MaximumRetryAttempts=1)
    poller.poll()
    delivered_ok = [b for b in runtime.batches if "bad" not in b]
    assert sorted(v for b in delivered_ok for v in b) == ["ok1", "ok2", "ok3"]
    # The single bad record: first try and one retry, then discarded.
    assert runtime.batches.count(["bad"]) == 2
    (record,) = on_failure()
    assert record["requestContext"]["condition"] == "RetryAttemptsExhausted"
    info = record["KinesisBatchInfo"]
    assert info["batchSize"] == 1
    assert info["startSequenceNumber"] == info["endSequenceNumber"] == sequences[2]
    assert poller.stats.discarded_records == 1


def test_replay_from_trim_horizon_delivers_everything_again(world) -> None:
    make, put, _ = world
    put("a", "b", "c")
    poller, runtime = make(lambda batch: None, BatchSize=100)
    poller.poll()
    assert poller.poll() == 0  # caught up: nothing new
    poller.reset("TRIM_HORIZON")
    poller.poll()
    assert runtime.batches == [["a", "b", "c"], ["a", "b", "c"]]


@dataclass
class RecordingRuntime:
    """Records the DynamoDB stream records it is given."""

    function: _Function
    role_arn: str
    creds: dict[str, Any]
    records: list[dict[str, Any]] = field(default_factory=list)

    def credentials(self) -> dict[str, Any]:
        return self.creds

    def invoke(self, event: dict[str, Any], *, crash: bool = False) -> Any:
        self.records.extend(event["Records"])
        return None


def test_table_stream_records_in_lambdas_format_across_retention_trims(monkeypatch) -> None:
    import sandbox.poller as poller_module

    monkeypatch.setattr(poller_module, "RETAIN_CONSUMED_STREAM_RECORDS", 3)
    with Emulator(REGION) as emulator:
        ddb = emulator.client("dynamodb", ACCOUNT)
        table = ddb.create_table(
            TableName="t",
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            BillingMode="PAY_PER_REQUEST",
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
        )["TableDescription"]
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role = emulator.client("iam", ACCOUNT).create_role(
            RoleName="archiver", AssumeRolePolicyDocument=json.dumps(trust)
        )["Role"]["Arn"]
        lam = emulator.client("lambda", ACCOUNT)
        function_arn = placeholder_function(lam, "archiver", role)
        mapping = lam.create_event_source_mapping(
            EventSourceArn=table["LatestStreamArn"],
            FunctionName=function_arn,
            StartingPosition="TRIM_HORIZON",
            BatchSize=2,
        )
        from sandbox.mocks import _detach_moto_delivery

        _detach_moto_delivery(ACCOUNT, REGION, table["LatestStreamArn"])
        runtime = RecordingRuntime(
            _Function("archiver", function_arn),
            role,
            emulator.credentials_for_role(role, "archiver"),
        )
        poller = StreamPoller(emulator, ACCOUNT, REGION, mapping["UUID"], runtime)  # type: ignore[arg-type]

        def put(*keys: str) -> None:
            for key in keys:
                ddb.put_item(TableName="t", Item={"k": {"S": key}, "blob": {"B": b"\x00\x01"}})

        put("a", "b", "c", "d", "e", "f", "g")
        poller.poll()
        put("h", "i")
        poller.poll()
        from moto.dynamodb.models import dynamodb_backends

        shard = dynamodb_backends[ACCOUNT][REGION].get_table("t").stream_shard
        assert shard is not None
        assert len(shard.items) < 9  # consumed records were dropped from moto's shard

    keys = [r["dynamodb"]["NewImage"]["k"]["S"] for r in runtime.records]
    assert keys == list("abcdefghi")
    sequences = [int(r["dynamodb"]["SequenceNumber"]) for r in runtime.records]
    assert sequences == sorted(set(sequences))  # strictly increasing across the trims
    first = runtime.records[0]
    assert first["eventSource"] == "aws:dynamodb"
    assert first["eventName"] == "INSERT"
    assert first["eventSourceARN"] == table["LatestStreamArn"]
    assert first["awsRegion"] == REGION
    assert isinstance(first["dynamodb"]["ApproximateCreationDateTime"], int)
    assert first["dynamodb"]["NewImage"]["blob"] == {"B": "AAE="}  # binary as base64 text
