"""No silent loss in the corners: expired credentials, exhausted retries, a target table keyed
differently from the replica, a KPL aggregate that holds no user record."""

from __future__ import annotations

import hashlib
import json
import re
import time
from typing import Any

from botocore.awsrequest import AWSResponse
from handler_support import FakeContext, blob, error_response, failures
from stream_replica.handlers import clients
from stream_replica.handlers.aggregation import KPL_MAGIC
from stream_replica.handlers.records import HASH_KEY

from tests.handlers.test_replicator import clickstream, sequence_numbers

_CREDENTIAL = re.compile(rb"Credential=([A-Z0-9]+)/")


class ExpiresFirstCredentials:
    """A ``before-send`` hook: DynamoDB answers ``ExpiredTokenException`` to every request
    signed with the first access key it sees (the session AWS has ended), and lets any other
    through."""

    def __init__(self) -> None:
        self.expired: bytes | None = None
        self.refused = 0

    def __call__(self, request: Any, **_: Any) -> Any:
        header = request.headers.get("Authorization") or b""
        if isinstance(header, str):
            header = header.encode()
        found = _CREDENTIAL.search(header)
        key = found.group(1) if found else b""
        if self.expired is None:
            self.expired = key
        if key != self.expired:
            return None
        self.refused += 1
        body = json.dumps(
            {
                "__type": "com.amazonaws.dynamodb.v20120810#ExpiredTokenException",
                "message": "The security token included in the request is expired",
            }
        ).encode()
        return AWSResponse(
            request.url, 400, {"Content-Type": "application/x-amz-json-1.0"}, _Raw(body)
        )


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, *_: Any) -> bytes:
        body, self._body = self._body, b""
        return body


def _deadline(ms: int) -> FakeContext:
    """A context whose remaining time runs down with the clock from ``ms``."""
    end = time.monotonic() + ms / 1000
    return FakeContext(remaining=lambda: int((end - time.monotonic()) * 1000))


def test_expired_writer_credentials_are_refreshed_and_the_batch_written(world: Any) -> None:
    """The writer role's session ends mid-invocation: the replicator assumes the role again and
    writes with the new credentials (retrying with the expired ones would fail until the
    invocation's time ran out)."""
    expire = ExpiresFirstCredentials()
    clients.add_event_hook("before-send.dynamodb.BatchWriteItem", expire)
    world.source.put(blob(p) for p in clickstream(30))
    event = world.source.event()
    world.calls.reset()

    response = world.replicate(event, _deadline(4_000))

    assert failures(response) == []
    assert len(world.target.items()) == 30
    assert expire.refused >= 1
    assert world.calls["sts.AssumeRole"] == 2  # the first session, then one refresh


def test_expired_credentials_that_cannot_be_refreshed_are_reported_not_retried(
    world: Any,
) -> None:
    """When assuming the role again fails too, the batch is reported for retry at once (no
    retries with credentials known to be expired)."""
    expire = ExpiresFirstCredentials()
    clients.add_event_hook("before-send.dynamodb.BatchWriteItem", expire)
    assumed = {"count": 0}

    def second_assume_fails(**_: Any) -> Any:
        assumed["count"] += 1
        if assumed["count"] == 1:
            return None
        http = AWSResponse("https://injected.invalid", 403, {}, None)
        return http, {
            "Error": {"Code": "AccessDenied", "Message": "injected"},
            "ResponseMetadata": {"HTTPStatusCode": 403},
        }

    clients.add_event_hook("before-call.sts.AssumeRole", second_assume_fails)
    world.source.put(blob(p) for p in clickstream(5))
    event = world.source.event()

    response = world.replicate(event, _deadline(4_000))

    assert failures(response) == sequence_numbers(event)
    assert expire.refused == 1  # not retried with the expired credentials


def _error_lines(caplog: Any) -> list[dict[str, Any]]:
    """The ERROR lines logged: message and the ``error`` field."""
    return [
        {"message": r.getMessage(), "error": str(getattr(r, "error", ""))}
        for r in caplog.records
        if r.levelname == "ERROR"
    ]


def test_throttling_until_time_runs_out_logs_an_error_naming_it(world: Any, caplog: Any) -> None:
    """Retries of a throttled write that run out of time report the records and say so in an
    ERROR line: which call, how many attempts, what DynamoDB reported."""
    clients.add_event_hook(
        "before-call.dynamodb.BatchWriteItem",
        lambda **_: error_response("ProvisionedThroughputExceededException"),
    )
    world.source.put(blob(p) for p in clickstream(3))
    event = world.source.event()
    caplog.clear()

    response = world.replicate(event, _deadline(1_500))

    assert failures(response) == sequence_numbers(event)
    (line,) = _error_lines(caplog)
    assert line["message"] == "write failed; records reported for retry"
    assert "BatchWriteItem on " in line["error"]
    assert "time budget ran out while retrying" in line["error"]
    assert "ProvisionedThroughputExceededException" in line["error"]


def test_unprocessed_items_until_time_runs_out_log_an_error(world: Any, caplog: Any) -> None:
    def leave_all_unprocessed(params: dict[str, Any], **_: Any) -> Any:
        request = json.loads(params["body"])
        http = AWSResponse("https://injected.invalid", 200, {}, None)
        return http, {"UnprocessedItems": request["RequestItems"]}

    clients.add_event_hook("before-call.dynamodb.BatchWriteItem", leave_all_unprocessed)
    world.source.put(blob(p) for p in clickstream(2))
    event = world.source.event()
    caplog.clear()

    assert failures(world.replicate(event, _deadline(1_500))) == sequence_numbers(event)
    (line,) = _error_lines(caplog)
    assert "2 of 2 request(s) in UnprocessedItems" in line["error"]


def test_firehose_failures_until_time_runs_out_log_an_error(world: Any, caplog: Any) -> None:
    world.source.put(blob(p) for p in clickstream(2))
    assert failures(world.replicate(world.source.event())) == []
    stream_event = world.target.stream_event()

    def fail_every_entry(params: dict[str, Any], **_: Any) -> Any:
        count = len(json.loads(params["body"])["Records"])
        http = AWSResponse("https://injected.invalid", 200, {}, None)
        return http, {
            "FailedPutCount": count,
            "RequestResponses": [
                {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "slow down"}
            ]
            * count,
        }

    clients.add_event_hook("before-call.firehose.PutRecordBatch", fail_every_entry)
    caplog.clear()

    response = world.archive(stream_event, _deadline(1_500))

    assert len(failures(response)) == 2
    (line,) = _error_lines(caplog)
    assert "PutRecordBatch on " in line["error"]
    # the two archive lines are packed into one Firehose record: one failed entry, two records
    assert "failed entries: ServiceUnavailableException (1)" in line["error"]


def test_an_aggregate_with_no_user_records_is_counted_and_logged(
    world: Any, capsys: Any, caplog: Any
) -> None:
    """A KPL aggregate whose checksum is right but which holds no user record has nothing to
    write; it is neither poison nor a failure, but it must not vanish unseen."""
    empty = KPL_MAGIC + hashlib.md5(b"").digest()  # no protobuf fields, valid MD5
    world.source.put([blob({"eventId": "kept"}), empty])
    event = world.source.event()
    capsys.readouterr()
    caplog.clear()

    assert failures(world.replicate(event)) == []

    assert len(world.target.items()) == 1
    (emf,) = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("{") and "_aws" in line
    ]
    assert emf["empty_aggregates"] == [1.0]
    (warning,) = [r for r in caplog.records if r.levelname == "WARNING"]
    assert "no user records" in warning.getMessage()
    assert warning.sequence_numbers == [sequence_numbers(event)[1]]


def test_a_target_table_keyed_otherwise_is_a_fault_and_never_written(
    world: Any, caplog: Any
) -> None:
    """A table keyed by the hash key alone would keep one item per shard: every record would
    overwrite the one before. Nothing is written into it; the batch is reported for retry and
    the ERROR line says what differs."""
    ddb = world.poc.client("dynamodb")
    wrong = ddb.create_table(
        TableName="hash-only",
        KeySchema=[{"AttributeName": HASH_KEY, "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": HASH_KEY, "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )["TableDescription"]
    world.source.put(blob(p) for p in clickstream(4))
    event = world.source.event()
    world.calls.reset()
    caplog.clear()

    response = world.replicate(event, TABLE_NAME="hash-only", TABLE_ARN=wrong["TableArn"])

    assert failures(response) == sequence_numbers(event)
    assert ddb.scan(TableName="hash-only")["Count"] == 0
    assert world.calls["dynamodb.BatchWriteItem"] == 0
    (line,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert "key schema is not the replica's" in line.getMessage()
    assert f"keyed HASH {HASH_KEY} (S), but the replicator writes items keyed" in line.error


def test_the_target_tables_key_is_read_once_per_execution_environment(world: Any) -> None:
    world.source.put(blob(p) for p in clickstream(3))
    event = world.source.event()
    world.calls.reset()

    assert failures(world.replicate(event)) == []
    assert failures(world.replicate(event)) == []

    assert world.calls["dynamodb.DescribeTable"] == 1
    assert len(world.target.items()) == 3
