"""The redrive (``stream_replica.redrive``) on moto: messages parsed, ranges re-read from
Kinesis and DynamoDB Streams (expired records counted), the real handlers invoked with them,
a message deleted only when every record of its range was handled."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import boto3
import botocore.session
import pytest
from stream_replica.handlers import replicator
from stream_replica.redrive import (
    FunctionFailed,
    RedriveOptions,
    parse_invocation_record,
    read_range,
    redrive_queue,
)
from stream_replica.redrive.__main__ import parse_args
from stream_replica.redrive.queue_messages import read_all_messages
from stream_replica.testing.tables import create_replica_table

from tests.moto_accounts import moto_accounts

REGION = "eu-west-1"
ACCOUNT = "123456789012"
FUNCTION_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:replicator"
TABLE = "replica"


def _session() -> boto3.Session:
    return boto3.Session(botocore_session=botocore.session.Session(), region_name=REGION)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[boto3.Session]:
    with moto_accounts(monkeypatch, REGION):
        yield _session()


def _invocation_record(
    info_key: str, info: dict[str, Any], function_arn: str = FUNCTION_ARN
) -> str:
    return json.dumps(
        {
            "requestContext": {
                "requestId": "r",
                "functionArn": function_arn,
                "condition": "RetryAttemptsExhausted",
                "approximateInvokeCount": 11,
            },
            "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": "2026-11-29T12:00:00.000Z",
            info_key: info,
        }
    )


def _kinesis_message(stream_arn: str, shard: str, start: str, end: str, size: int) -> str:
    return _invocation_record(
        "KinesisBatchInfo",
        {
            "shardId": shard,
            "startSequenceNumber": start,
            "endSequenceNumber": end,
            "approximateArrivalOfFirstRecord": "2026-11-29T11:00:00.000Z",
            "approximateArrivalOfLastRecord": "2026-11-29T11:00:01.000Z",
            "batchSize": size,
            "streamArn": stream_arn,
        },
    )


class Stream:
    """A one-shard Kinesis stream in moto with ``n`` JSON records."""

    def __init__(self, session: boto3.Session, n: int) -> None:
        self.kinesis = session.client("kinesis")
        self.kinesis.create_stream(StreamName="clicks", ShardCount=1)
        self.arn = self.kinesis.describe_stream_summary(StreamName="clicks")[
            "StreamDescriptionSummary"
        ]["StreamARN"]
        self.shard = self.kinesis.list_shards(StreamName="clicks")["Shards"][0]["ShardId"]
        self.sequences: list[str] = []
        for i in range(n):
            body = json.dumps({"eventId": f"e{i}", "n": i}).encode()
            if i == 3:
                body = b"not json"  # a poison record inside the ranges
            self.sequences.append(
                self.kinesis.put_record(StreamName="clicks", Data=body, PartitionKey="p")[
                    "SequenceNumber"
                ]
            )

    def expire(self, count: int) -> None:
        """Drop the first ``count`` records, as the stream's retention would."""
        from moto.kinesis.models import kinesis_backends

        shard = kinesis_backends[ACCOUNT][REGION].streams["clicks"].shards[self.shard]
        for sequence in list(shard.records)[:count]:
            del shard.records[sequence]

    def message(self, first: int, last: int) -> str:
        return _kinesis_message(
            self.arn, self.shard, self.sequences[first], self.sequences[last], last - first + 1
        )


def _queue(session: boto3.Session, *bodies: str) -> tuple[Any, str]:
    sqs = session.client("sqs")
    url = sqs.create_queue(QueueName="failures")["QueueUrl"]
    for body in bodies:
        sqs.send_message(QueueUrl=url, MessageBody=body)
    return sqs, url


def _depth(sqs: Any, url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"])


def _clients(session: boto3.Session) -> Any:
    return lambda service, region: session.client(service, region_name=region)


class Recorder:
    """An invoker that records events and answers from a script (then success)."""

    def __init__(self, *answers: Any) -> None:
        self.events: list[list[str]] = []
        self._answers = list(answers)

    def invoke(self, function_arn: str, event: dict[str, Any]) -> Any:
        self.events.append([r["kinesis"]["sequenceNumber"] for r in event["Records"]])
        answer = self._answers.pop(0) if self._answers else {"batchItemFailures": []}
        if isinstance(answer, Exception):
            raise answer
        return answer


# --------------------------------------------------------------------------- messages


def test_parses_both_kinds_and_an_sns_wrapped_record() -> None:
    kinesis = parse_invocation_record(
        _kinesis_message("arn:aws:kinesis:eu-west-1:1:stream/s", "shardId-1", "10", "19", 10)
    )
    assert (kinesis.kind, kinesis.shard_id, kinesis.start, kinesis.end) == (
        "kinesis",
        "shardId-1",
        "10",
        "19",
    )
    assert kinesis.function_arn == FUNCTION_ARN
    stream = "arn:aws:dynamodb:eu-west-1:1:table/t/stream/2026"
    ddb = _invocation_record(
        "DDBStreamBatchInfo",
        {
            "shardId": "shardId-9",
            "startSequenceNumber": "100",
            "endSequenceNumber": "105",
            "batchSize": 6,
            "streamArn": stream,
        },
    )
    wrapped = json.dumps({"Type": "Notification", "Message": ddb})
    parsed = parse_invocation_record(wrapped)
    assert (parsed.kind, parsed.stream_arn, parsed.batch_size) == ("dynamodb", stream, 6)
    # Sequence numbers compare as integers, whatever their length.
    assert parsed.position("99") == -1
    assert parsed.position("0000105") == 0
    assert parsed.position("106") == 1


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "not JSON"),
        ("{}", "neither KinesisBatchInfo nor DDBStreamBatchInfo"),
        (
            _invocation_record("KinesisBatchInfo", {"shardId": "s", "batchSize": 1}),
            "KinesisBatchInfo has no 'startSequenceNumber'",
        ),
        (
            _kinesis_message("arn:aws:kinesis:eu-west-1:1:stream/s", "s", "1\n", "2", 2),
            "is not a number",
        ),
    ],
)
def test_a_message_that_is_not_an_invocation_record_is_named(body: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_invocation_record(body)


# --------------------------------------------------------------------------- reading


def test_reads_exactly_the_range_from_kinesis(aws: boto3.Session) -> None:
    stream = Stream(aws, 30)
    rng = parse_invocation_record(stream.message(10, 19))
    read = read_range(_clients(aws), rng)
    assert [r["kinesis"]["sequenceNumber"] for r in read.records] == stream.sequences[10:20]
    assert read.expired == 0
    record = read.records[0]
    assert record["eventID"] == f"{stream.shard}:{stream.sequences[10]}"
    assert record["eventSourceARN"] == stream.arn
    assert json.loads(__import__("base64").b64decode(record["kinesis"]["data"])) == {
        "eventId": "e10",
        "n": 10,
    }


def test_records_past_retention_are_counted_as_expired(aws: boto3.Session) -> None:
    stream = Stream(aws, 30)
    stream.expire(15)  # records 0..14 are gone; the range 10..19 keeps 15..19
    read = read_range(_clients(aws), parse_invocation_record(stream.message(10, 19)))
    assert [r["kinesis"]["sequenceNumber"] for r in read.records] == stream.sequences[15:20]
    assert read.expired == 5


def test_a_gone_shard_has_expired_whole(aws: boto3.Session) -> None:
    stream = Stream(aws, 5)
    rng = parse_invocation_record(_kinesis_message(stream.arn, "shardId-000000000099", "1", "5", 5))
    read = read_range(_clients(aws), rng)
    assert (read.found, read.expired) == (0, 5)


def test_reads_a_table_stream_range_in_lambdas_format(aws: boto3.Session) -> None:
    ddb = aws.client("dynamodb")
    ddb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_IMAGE"},
    )
    for i in range(8):
        ddb.put_item(TableName=TABLE, Item={"k": {"S": f"k{i}"}, "b": {"B": b"\x00\x01"}})
    stream_arn = ddb.describe_table(TableName=TABLE)["Table"]["LatestStreamArn"]
    streams = aws.client("dynamodbstreams")
    shard = streams.describe_stream(StreamArn=stream_arn)["StreamDescription"]["Shards"][0]
    first = int(shard["SequenceNumberRange"]["StartingSequenceNumber"])
    rng = parse_invocation_record(
        _invocation_record(
            "DDBStreamBatchInfo",
            {
                "shardId": shard["ShardId"],
                "startSequenceNumber": str(first + 2),
                "endSequenceNumber": str(first + 4),
                "batchSize": 3,
                "streamArn": stream_arn,
            },
        )
    )
    read = read_range(_clients(aws), rng)
    assert [r["dynamodb"]["Keys"]["k"]["S"] for r in read.records] == ["k2", "k3", "k4"]
    assert read.expired == 0
    record = read.records[0]
    assert record["eventSource"] == "aws:dynamodb"
    assert record["dynamodb"]["NewImage"]["b"] == {"B": "AAE="}  # binary as base64 text
    assert isinstance(record["dynamodb"]["ApproximateCreationDateTime"], int)
    json.dumps(read.records)  # the event is JSON, as Invoke sends it


# --------------------------------------------------------------------------- the pass


def test_a_message_is_deleted_once_every_record_is_handled(aws: boto3.Session) -> None:
    stream = Stream(aws, 30)
    sqs, url = _queue(aws, stream.message(0, 9), stream.message(20, 24))
    # First invocation reports from record 6 on; the resend starts there (as the mapping would).
    invoker = Recorder({"batchItemFailures": [{"itemIdentifier": stream.sequences[6]}]})
    progress = io.StringIO()
    report = redrive_queue(
        sqs, url, _clients(aws), invoker, progress=progress, sleep=lambda _: None
    )
    assert report.messages == 2 and report.deleted == 2 and report.left == 0
    assert report.redriven == 15 and report.expired == 0
    assert sorted(invoker.events, key=len) == sorted(
        [stream.sequences[0:10], stream.sequences[6:10], stream.sequences[20:25]], key=len
    )
    assert _depth(sqs, url) == 0
    assert "2/2 messages" in progress.getvalue()
    # A second run finds nothing to do.
    again = redrive_queue(sqs, url, _clients(aws), Recorder(), progress=None)
    assert again.messages == 0


def test_a_message_stays_when_the_function_keeps_failing(aws: boto3.Session) -> None:
    stream = Stream(aws, 10)
    sqs, url = _queue(aws, stream.message(0, 4))
    crash = FunctionFailed("Runtime.ExitError", "crashed")
    invoker = Recorder(crash, crash, crash)
    report = redrive_queue(
        sqs,
        url,
        _clients(aws),
        invoker,
        RedriveOptions(max_attempts=3),
        progress=None,
        sleep=lambda _: None,
    )
    assert report.deleted == 0 and report.left == 1
    assert len(invoker.events) == 3
    assert "the function failed 3 time(s)" in "\n".join(report.lines())
    assert _depth(sqs, url) == 1  # visible again at once, for the next run


def test_dry_run_counts_and_changes_nothing(aws: boto3.Session) -> None:
    stream = Stream(aws, 30)
    stream.expire(2)
    sqs, url = _queue(aws, stream.message(0, 9), "garbage")
    report = redrive_queue(
        sqs, url, _clients(aws), None, RedriveOptions(dry_run=True), progress=None
    )
    assert report.as_dict() | {"queue_url": None} == {
        "queue_url": None,
        "dry_run": True,
        "messages": 2,
        "records_in_ranges": 10,
        "records_found": 8,
        "records_expired": 2,
        "records_redriven": 0,
        "messages_deleted": 0,
        "messages_left": 2,
    }
    lines = "\n".join(report.lines())
    assert f"EXPIRED: 2 of {stream.arn} {stream.shard}" in lines
    assert "not JSON" in lines
    assert _depth(sqs, url) == 2


def test_reading_a_whole_queue_leaves_every_message_visible(aws: boto3.Session) -> None:
    """More messages than one receive call returns, and than one visibility batch takes: each
    read once, and all of them receivable again at once."""
    bodies = [f"message {i}" for i in range(23)]
    sqs, url = _queue(aws, *bodies)
    read = read_all_messages(sqs, url)
    assert sorted(m["Body"] for m in read) == sorted(bodies)
    assert len({m["MessageId"] for m in read}) == len(bodies)
    assert _depth(sqs, url) == len(bodies)
    assert sorted(m["Body"] for m in read_all_messages(sqs, url)) == sorted(bodies)


def test_expired_records_keep_their_message_unless_forgotten(aws: boto3.Session) -> None:
    stream = Stream(aws, 30)
    stream.expire(5)
    sqs, url = _queue(aws, stream.message(0, 9))
    invoker = Recorder()
    kept = redrive_queue(sqs, url, _clients(aws), invoker, progress=None)
    assert (kept.redriven, kept.expired, kept.deleted) == (5, 5, 0)
    assert invoker.events == [stream.sequences[5:10]]
    forgotten = redrive_queue(
        sqs, url, _clients(aws), invoker, RedriveOptions(forget_expired=True), progress=None
    )
    assert (forgotten.redriven, forgotten.deleted) == (5, 1)
    assert _depth(sqs, url) == 0


def test_events_stay_under_the_synchronous_invoke_limit() -> None:
    from stream_replica.redrive.driver import _events
    from stream_replica.redrive.invoking import MAX_REQUEST_BYTES

    records = [{"kinesis": {"sequenceNumber": str(i), "data": "x" * 1_000_000}} for i in range(14)]
    events = _events(records, batch_size=10)
    assert [len(e) for e in events] == [6, 6, 2]
    assert all(len(json.dumps({"Records": e})) < MAX_REQUEST_BYTES for e in events)
    assert [len(e) for e in _events(records[:3], batch_size=2)] == [2, 1]


class HandlerInvoker:
    """Runs the real replicator handler in-process (resource-policy mode, same account)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, table_arn: str, dlq: str) -> None:
        monkeypatch.setenv("ACCESS_MODE", "resource-policy")
        monkeypatch.setenv("TABLE_ARN", table_arn)
        monkeypatch.setenv("DEAD_LETTER_QUEUE_URL", dlq)

    def invoke(self, function_arn: str, event: dict[str, Any]) -> Any:
        return replicator.handler(event, None)


def test_the_replicator_writes_a_redriven_range_once(
    aws: boto3.Session, monkeypatch: pytest.MonkeyPatch
) -> None:
    stream = Stream(aws, 12)
    ddb = aws.client("dynamodb")
    table_arn = create_replica_table(ddb, TABLE)["TableArn"]
    sqs, url = _queue(aws, stream.message(0, 5), stream.message(0, 5))  # sent twice
    dlq = sqs.create_queue(QueueName="dead-letters")["QueueUrl"]
    invoker = HandlerInvoker(monkeypatch, table_arn, dlq)
    report = redrive_queue(sqs, url, _clients(aws), invoker, progress=None)
    assert (report.deleted, report.left) == (2, 0)
    items = ddb.scan(TableName=TABLE)["Items"]
    # Records 0..5 minus the poison one (3), each once although the range came twice.
    assert sorted(int(i["n"]["N"]) for i in items) == [0, 1, 2, 4, 5]
    assert _depth(sqs, dlq) == 2  # the poison record, dead-lettered by each pass


def test_the_cli_needs_a_queue_and_sane_numbers() -> None:
    args = parse_args(
        ["--queue-url", "https://sqs.eu-west-1.amazonaws.com/123456789012/q", "--dry-run"]
    )
    assert args.dry_run and args.max_attempts == 3
    with pytest.raises(SystemExit):
        parse_args(["--queue-url", "u", "--max-attempts", "0"])
    with pytest.raises(SystemExit):
        parse_args([])


# --------------------------------------------------------------------------- its IAM


class _FakeLambda:
    """A Lambda client whose Invoke answers "all written" (moto runs no function code)."""

    def __init__(self, calls: list[str]) -> None:
        self._calls = calls

    def invoke(self, **kwargs: Any) -> dict[str, Any]:
        self._calls.append(f"lambda:InvokeFunction {kwargs['FunctionName']}")
        return {"StatusCode": 200, "Payload": io.BytesIO(b'{"batchItemFailures": []}')}


_IAM_ACTION = {
    "ChangeMessageVisibilityBatch": "ChangeMessageVisibility",
    "DeleteMessageBatch": "DeleteMessage",
}
_IAM_PREFIX = {"sqs": "sqs", "kinesis": "kinesis", "dynamodbstreams": "dynamodb"}


def _recording(client: Any, calls: list[str], resource: str) -> Any:
    prefix = _IAM_PREFIX[client.meta.service_model.service_name]

    def record(model: Any, **_: Any) -> None:
        calls.append(f"{prefix}:{_IAM_ACTION.get(model.name, model.name)} {resource}")

    client.meta.events.register("before-call", record)
    return client


def test_the_redrive_policy_allows_exactly_the_calls_the_redrive_makes(
    aws: boto3.Session,
) -> None:
    """Every call of a Kinesis pass and a table-stream pass (dry run and real) is allowed by
    :func:`redrive_policy`, and the policy allows nothing the passes don't call."""
    from stream_replica.components import policies
    from stream_replica.redrive import LambdaInvoker

    from tests.policy.documents import IamDocument
    from tests.policy.iam_eval import Request, evaluate
    from tests.policy.lint import lint

    stream = Stream(aws, 10)
    sqs = aws.client("sqs")
    url = sqs.create_queue(QueueName="failures")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    for body in (stream.message(0, 4), stream.message(5, 9)):
        sqs.send_message(QueueUrl=url, MessageBody=body)
    calls: list[str] = []
    _recording(sqs, calls, queue_arn)

    def clients(service: str, region: str) -> Any:
        return _recording(aws.client(service, region_name=region), calls, stream.arn)

    invoker = LambdaInvoker(_FakeLambda(calls))
    redrive_queue(sqs, url, clients, None, RedriveOptions(dry_run=True), progress=None)
    report = redrive_queue(sqs, url, clients, invoker, progress=None)
    assert report.deleted == 2

    document = policies.redrive_policy(
        failure_queue_arn=queue_arn, stream_arn=stream.arn, function_arn=FUNCTION_ARN
    )
    operator = f"arn:aws:iam::{ACCOUNT}:role/stream-replica-redrive"
    made = set(calls)
    for call in sorted(made):
        action, resource = call.split(" ")
        decision = evaluate(Request(operator, action, resource), identity_policies=[document])
        assert decision.allowed, f"{call}: {decision.reason}"
    granted = {
        f"{action} {resource}"
        for statement in document["Statement"]
        for action in statement["Action"]
        for resource in statement["Resource"]
    }
    assert granted == made, "granted but never called: " + str(sorted(granted - made))
    # Nothing else on the same resources: no writing to the stream, no sending to the queue, no
    # other function.
    for action, resource in [
        ("kinesis:PutRecords", stream.arn),
        ("kinesis:GetRecords", stream.arn.replace("clicks", "other")),
        ("sqs:SendMessage", queue_arn),
        ("sqs:PurgeQueue", queue_arn),
        ("lambda:InvokeFunction", FUNCTION_ARN.replace("replicator", "archiver")),
        ("lambda:UpdateFunctionCode", FUNCTION_ARN),
    ]:
        assert not evaluate(
            Request(operator, action, resource), identity_policies=[document]
        ).allowed, (action, resource)
    assert [r.describe() for r in lint(IamDocument("identity", "redrive", "t", document))] == []


def test_the_table_stream_redrive_policy_reads_only_that_stream() -> None:
    from stream_replica.components import policies

    stream = "arn:aws:dynamodb:eu-west-1:999999999999:table/replica/stream/2026-01-01T00:00:00.000"
    document = policies.redrive_policy(
        failure_queue_arn="arn:aws:sqs:eu-west-1:999999999999:archiver-failures",
        stream_arn=stream,
        function_arn="arn:aws:lambda:eu-west-1:999999999999:function:archiver",
    )
    reads = next(s for s in document["Statement"] if s["Sid"] == "RereadFailedRanges")
    assert reads["Action"] == ["dynamodb:GetRecords", "dynamodb:GetShardIterator"]
    assert reads["Resource"] == [stream]
    with pytest.raises(ValueError, match="Kinesis stream only"):
        policies.redrive_policy(
            failure_queue_arn="q", stream_arn=stream, function_arn="f", stream_kms_key_arn="k"
        )
