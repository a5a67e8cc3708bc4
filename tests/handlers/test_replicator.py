"""The replicator against moto: real Kinesis records, the writer role in the other account, the
real table, faults injected through botocore event hooks on the handler's own clients."""

from __future__ import annotations

import json
import threading
from typing import Any

import pytest
from handler_support import (
    POC_ACCOUNT,
    WRITER_ROLE_ARN,
    FakeContext,
    blob,
    dead_letters,
    error_response,
    failures,
    kinesis_record,
)
from stream_replica.handlers import clients
from stream_replica.handlers.exceptions import ConfigError


def clickstream(count: int, start: int = 0) -> list[dict[str, Any]]:
    return [
        {
            "userId": f"user-{i % 13}",
            "email": f"user{i % 13}@example.com",
            "timestampNs": 1764244800123456789 + i,
            "eventType": "click" if i % 3 else "view",
            "url": f"https://shop.example.com/p/{i}",
            "context": {"screen": {"w": 1280, "h": 800}, "ratio": 1.5, "tags": ["a", "b"]},
            "score": 0.1 + i / 1000,
            "referrer": "",
            "campaign": None,
            "n": i + start,
        }
        for i in range(count)
    ]


def sequence_numbers(event: dict[str, Any]) -> list[str]:
    return [r["kinesis"]["sequenceNumber"] for r in event["Records"]]


def stored_sequence_numbers(world) -> list[str]:
    return sorted((item["sequenceNumber"] for item in world.target.items()), key=int)


# --------------------------------------------------------------------------- the happy path


def test_items_land_in_the_poc_account_with_the_seed_keys(world):
    world.source.put(blob(p) for p in clickstream(120))
    event = world.source.event()

    assert failures(world.replicate(event)) == []

    assert world.target.table_arn.split(":")[4] == POC_ACCOUNT
    items = {item["sequenceNumber"]: item for item in world.target.items()}
    assert sorted(items, key=int) == sequence_numbers(event)
    # moto numbers records "1", "2", …: the seed's [-3:-1] slice gives "" for one digit,
    # the first digit for two, the two digits before the last from three on.
    assert items["7"]["seqNumbershardIdHash"] == "_shardId-000000000000"
    assert items["42"]["seqNumbershardIdHash"] == "4_shardId-000000000000"
    assert items["117"]["seqNumbershardIdHash"] == "11_shardId-000000000000"
    first = items["1"]
    assert first["shardId"] == "shardId-000000000000"
    assert "referrer" not in first and "campaign" not in first  # top-level "" and null dropped
    assert first["timestampNs"] == 1764244800123456789  # exact, no float on the way
    assert str(first["context"]["ratio"]) == "1.5"


def test_same_batch_twice_gives_the_same_items(world):
    world.source.put(blob(p) for p in clickstream(60))
    event = world.source.event()

    assert failures(world.replicate(event)) == []
    first = sorted(world.target.items(), key=lambda i: int(i["sequenceNumber"]))
    assert failures(world.replicate(event)) == []
    second = sorted(world.target.items(), key=lambda i: int(i["sequenceNumber"]))

    assert len(first) == 60
    assert second == first


def test_a_record_delivered_twice_in_one_batch_is_written_once(world):
    world.source.put(blob(p) for p in clickstream(30))
    event = world.source.event()
    event["Records"].insert(20, dict(event["Records"][3]))  # same record again, later in the batch

    assert failures(world.replicate(event)) == []

    assert stored_sequence_numbers(world) == sequence_numbers(world_event_without_dupes(event))


def world_event_without_dupes(event: dict[str, Any]) -> dict[str, Any]:
    seen: set[str] = set()
    records = []
    for record in event["Records"]:
        seq = record["kinesis"]["sequenceNumber"]
        if seq not in seen:
            seen.add(seq)
            records.append(record)
    return {"Records": sorted(records, key=lambda r: int(r["kinesis"]["sequenceNumber"]))}


def test_calls_per_300_record_batch(world):
    """Benchmark-style count: 300 records -> 12 BatchWriteItem; AssumeRole only on the first
    invocation of the execution environment."""
    world.source.put(blob(p) for p in clickstream(300))
    first = world.source.event()
    world.source.put(blob(p) for p in clickstream(50, start=300))
    second = world.source.event()

    world.calls.reset()
    assert failures(world.replicate(first)) == []
    assert world.calls["dynamodb.BatchWriteItem"] == 12
    assert world.calls["sts.AssumeRole"] == 1

    world.calls.reset()
    assert failures(world.replicate(second)) == []
    assert world.calls["dynamodb.BatchWriteItem"] == 2
    assert world.calls["sts.AssumeRole"] == 0
    assert len(world.target.items()) == 350


def test_assume_role_request_carries_session_settings(world):
    seen: list[dict[str, Any]] = []
    clients.add_event_hook(
        "before-parameter-build.sts.AssumeRole", lambda params, **_: seen.append(dict(params))
    )
    world.source.put(blob(p) for p in clickstream(3))

    assert failures(world.replicate(world.source.event(), WRITER_EXTERNAL_ID="ext-123")) == []

    assert seen == [
        {
            "RoleArn": WRITER_ROLE_ARN,
            "RoleSessionName": "ProdKinesisToPocDynamo",
            "DurationSeconds": 3600,
            "ExternalId": "ext-123",
        }
    ]


def test_resource_policy_mode_uses_no_sts_and_addresses_the_table_by_arn(world):
    """moto cannot route a table ARN of another account, so this run holds POC credentials;
    what it shows is the mode's own behaviour: no STS call and RequestItems keyed by the ARN."""
    tables: list[str] = []
    clients.add_event_hook(
        "before-parameter-build.dynamodb.BatchWriteItem",
        lambda params, **_: tables.extend(params["RequestItems"]),
    )
    world.source.put(blob(p) for p in clickstream(30))
    world.monkeypatch.setattr(world, "prod", world.poc)

    response = world.replicate(world.source.event(), ACCESS_MODE="resource-policy")

    assert failures(response) == []
    assert world.calls["sts.AssumeRole"] == 0
    assert set(tables) == {world.target.table_arn}
    assert len(world.target.items()) == 30


# --------------------------------------------------------------------------- poison


def nested(depth: int) -> dict[str, Any]:
    value: dict[str, Any] = {"leaf": 1}
    for _ in range(depth):
        value = {"child": value}
    return value


POISON = {
    "not UTF-8": b"\xff\xfe{}",
    "not JSON": b"hello, world",
    "not an object": b"[1, 2, 3]",
    "NaN": b'{"x": NaN}',
    "number out of range": b'{"x": 1e400}',
    "too many digits": b'{"x": 123456789012345678901234567890123456789012}',
    "item over 400 KB": blob({"blob": "x" * (400 * 1024)}),
    "nested too deeply": blob(nested(40)),
    "empty attribute name": b'{"": 1, "a": 2}',
    "lone surrogate": b'{"s": "\\ud800"}',
}


def test_poison_records_of_each_kind_go_to_the_dead_letter_queue(world):
    good = clickstream(20)
    world.source.put([blob(good[0]), *POISON.values(), *(blob(p) for p in good[1:])])
    event = world.source.event()
    event["Records"].append(kinesis_record("not base64 ***", "999001"))

    response = world.replicate(event)

    assert failures(response) == []  # dead-lettered, so they don't block the shard
    assert len(world.target.items()) == 20
    letters = {
        letter["sequenceNumber"]: letter
        for letter in dead_letters(world.prod.client("sqs"), world.replicator_dlq)
    }
    by_seq = {r["kinesis"]["sequenceNumber"]: r for r in event["Records"]}
    poison_seqs = [r["kinesis"]["sequenceNumber"] for r in event["Records"][1 : 1 + len(POISON)]]
    assert sorted(letters) == sorted([*poison_seqs, "999001"])
    for seq, letter in letters.items():
        assert letter["data"] == by_seq[seq]["kinesis"]["data"]  # the raw payload, as received
        assert letter["shardId"] == "shardId-000000000000"
        assert letter["eventSourceARN"] == by_seq[seq]["eventSourceARN"]
        assert letter["reason"]
    reasons = [letters[seq]["reason"] for seq in poison_seqs]
    for kind, reason in zip(POISON, reasons, strict=True):
        expected = {
            "not UTF-8": "not UTF-8",
            "not JSON": "not JSON",
            "not an object": "not an object",
            "NaN": "NaN",
            "number out of range": "outside DynamoDB's range",
            "too many digits": "outside DynamoDB's range",
            "item over 400 KB": "400 KB",
            "nested too deeply": "nesting deeper",
            "empty attribute name": "attribute name is empty",
            "lone surrogate": "not valid Unicode",
        }[kind]
        assert expected in reason, (kind, reason)
    assert "not base64" in letters["999001"]["reason"]


def test_an_item_dynamodb_rejects_is_isolated_and_dead_lettered(world):
    """A ValidationException about an item's content that the checks did not foresee (here: a
    payload attribute whose type does not match a GSI's key) fails a whole BatchWriteItem; the
    handler halves the chunk until the rejected item is alone, dead-letters it and writes the
    rest."""

    def reject_marked(params: dict[str, Any], **_: Any) -> Any:
        if b"rejectMe" in params["body"]:
            return error_response(
                "ValidationException",
                message="One or more parameter values were invalid: Type mismatch for Index Key "
                "rejectMe Expected: S Actual: BOOL IndexName: byReject",
            )
        return None

    clients.add_event_hook("before-call.dynamodb.BatchWriteItem", reject_marked)
    payloads = clickstream(25)
    payloads[17]["rejectMe"] = True
    world.source.put(blob(p) for p in payloads)
    event = world.source.event()

    assert failures(world.replicate(event)) == []

    assert len(world.target.items()) == 24
    (letter,) = dead_letters(world.prod.client("sqs"), world.replicator_dlq)
    assert letter["sequenceNumber"] == sequence_numbers(event)[17]
    assert "DynamoDB rejected the item" in letter["reason"]


def test_poison_is_reported_when_the_dead_letter_send_fails(world):
    clients.add_event_hook(
        "before-call.sqs.SendMessageBatch",
        lambda **_: error_response("AccessDenied", status=403),
    )
    world.source.put([blob(clickstream(1)[0]), b"not json", blob(clickstream(1)[0])])
    event = world.source.event()

    assert failures(world.replicate(event)) == [sequence_numbers(event)[1]]
    assert len(world.target.items()) == 2


def test_poison_is_reported_when_no_dead_letter_queue_is_configured(world):
    world.source.put([blob(clickstream(1)[0]), b"not json", blob(clickstream(1)[0])])
    event = world.source.event()

    response = world.replicate(event, DEAD_LETTER_QUEUE_URL="")

    assert failures(response) == [sequence_numbers(event)[1]]
    assert len(world.target.items()) == 2
    assert world.calls["sqs.SendMessageBatch"] == 0


# --------------------------------------------------------------------------- faults


class DropHalf:
    """Makes DynamoDB 'not process' every other put request of the next ``times`` calls: the
    dropped requests never reach moto and come back as UnprocessedItems."""

    def __init__(self, times: int | None) -> None:
        self.left = times
        self._lock = threading.Lock()

    def before(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        with self._lock:
            if self.left is not None:
                if self.left <= 0:
                    return
                self.left -= 1
        dropped = {}
        for table, requests in params["RequestItems"].items():
            if len(requests) > 1:
                params["RequestItems"][table] = requests[::2]
                dropped[table] = requests[1::2]
        context["dropped"] = dropped

    def after(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if context.get("dropped"):
            parsed["UnprocessedItems"] = context["dropped"]

    def install(self) -> None:
        clients.add_event_hook("before-parameter-build.dynamodb.BatchWriteItem", self.before)
        clients.add_event_hook("after-call.dynamodb.BatchWriteItem", self.after)


def test_unprocessed_items_are_retried_until_written(world):
    world.source.put(blob(p) for p in clickstream(100))
    event = world.source.event()
    DropHalf(times=4).install()

    assert failures(world.replicate(event)) == []

    assert stored_sequence_numbers(world) == sequence_numbers(event)
    assert world.calls["dynamodb.BatchWriteItem"] == 4 + 4  # each chunk: one call, one retry


def test_throttling_is_retried(world):
    left = {"n": 3}

    def throttle(**_: Any) -> Any:
        if left["n"] > 0:
            left["n"] -= 1
            return error_response("ProvisionedThroughputExceededException")
        return None

    clients.add_event_hook("before-call.dynamodb.BatchWriteItem", throttle)
    world.source.put(blob(p) for p in clickstream(50))
    event = world.source.event()

    assert failures(world.replicate(event, MAX_WRITE_CONCURRENCY="1")) == []
    assert stored_sequence_numbers(world) == sequence_numbers(event)
    # The injected errors answer before the request is sent (and before the counting hook,
    # which is less specific): three throttled attempts, then one real call per chunk.
    assert left["n"] == 0
    assert world.calls["dynamodb.BatchWriteItem"] == 2


def redeliver(event: dict[str, Any], response: dict[str, Any]) -> dict[str, Any]:
    """What Lambda sends next: the batch from the lowest reported sequence number on."""
    reported = failures(response)
    assert reported, "nothing to redeliver"
    lowest = min(reported, key=int)
    return {
        "Records": [
            r for r in event["Records"] if int(r["kinesis"]["sequenceNumber"]) >= int(lowest)
        ]
    }


def test_time_running_out_mid_batch_reports_exactly_the_unwritten_records(world):
    world.source.put(blob(p) for p in clickstream(100))
    event = world.source.event()
    # After two BatchWriteItem calls less time is left than the safety margin.
    context = FakeContext(
        remaining=lambda: 120_000 if world.calls["dynamodb.BatchWriteItem"] < 2 else 5_000
    )

    response = world.replicate(event, context, MAX_WRITE_CONCURRENCY="1")

    seqs = sequence_numbers(event)
    assert failures(response) == seqs[50:]
    assert stored_sequence_numbers(world) == seqs[:50]

    assert failures(world.replicate(redeliver(event, response))) == []
    assert stored_sequence_numbers(world) == seqs


@pytest.mark.parametrize("timeout_ms", [10_000, 3_000])
def test_a_short_timeout_still_writes_everything(world, timeout_ms):
    """A timeout at or under the default 10 s safety margin used to leave no time at all: every
    record was reported, forever. The margin now scales to the invocation's time."""
    world.source.put(blob(p) for p in clickstream(60))
    event = world.source.event()

    response = world.replicate(event, FakeContext(remaining_ms=timeout_ms))

    assert failures(response) == []
    assert stored_sequence_numbers(world) == sequence_numbers(event)


def test_with_no_time_left_one_write_is_still_attempted(world):
    world.source.put(blob(p) for p in clickstream(60))
    event = world.source.event()

    response = world.replicate(event, FakeContext(remaining_ms=0), MAX_WRITE_CONCURRENCY="1")

    seqs = sequence_numbers(event)
    assert stored_sequence_numbers(world) == seqs[:25]  # the first chunk went out
    assert failures(response) == seqs[25:]
    assert world.calls["dynamodb.BatchWriteItem"] == 1


def test_unprocessed_items_that_never_clear_are_reported_then_written_on_redelivery(world):
    world.source.put(blob(p) for p in clickstream(50))
    event = world.source.event()
    drop = DropHalf(times=None)
    drop.install()
    calls = world.calls
    context = FakeContext(remaining=lambda: 120_000 if calls["dynamodb.BatchWriteItem"] < 6 else 0)

    response = world.replicate(event, context, MAX_WRITE_CONCURRENCY="1")

    written = set(stored_sequence_numbers(world))
    reported = set(failures(response))
    assert reported and written
    assert reported.isdisjoint(written)
    assert reported | written == set(sequence_numbers(event))

    drop.left = 0
    assert failures(world.replicate(redeliver(event, response))) == []
    assert stored_sequence_numbers(world) == sequence_numbers(event)


def test_sts_failure_reports_the_whole_batch_then_recovers(world):
    clients.add_event_hook(
        "before-call.sts.AssumeRole", lambda **_: error_response("AccessDenied", status=403)
    )
    world.source.put([blob(p) for p in clickstream(10)] + [b"not json"])
    event = world.source.event()

    response = world.replicate(event)

    seqs = sequence_numbers(event)
    assert failures(response) == seqs[:10]  # the poison record still went to the DLQ
    assert world.target.items() == []
    assert len(dead_letters(world.prod.client("sqs"), world.replicator_dlq)) == 1

    clients.clear_event_hooks()
    clients.add_event_hook("before-call", world.calls)
    world.calls.reset()
    assert failures(world.replicate(event)) == []
    assert world.calls["sts.AssumeRole"] == 1
    assert stored_sequence_numbers(world) == seqs[:10]


def test_missing_configuration_names_the_variable(world):
    world.source.put([blob({"a": 1})])
    event = world.source.event()
    world.monkeypatch.setenv("MAX_WRITE_CONCURRENCY", "many")
    with pytest.raises(ConfigError, match="MAX_WRITE_CONCURRENCY='many'"):
        world.replicate(event, MAX_WRITE_CONCURRENCY="many")
    with pytest.raises(ConfigError, match="ACCESS_MODE='cross'"):
        world.replicate(event, ACCESS_MODE="cross")
    with pytest.raises(ConfigError, match="TABLE_ARN='garbage' is not a DynamoDB table ARN"):
        world.replicate(event, TABLE_ARN="garbage")
    with pytest.raises(ConfigError, match=r"TABLE_ARN=.* is not a DynamoDB table ARN"):
        world.replicate(event, TABLE_ARN="arn:aws:sqs:eu-west-1:999999999999:table/t")


def test_metrics_are_printed_in_embedded_metric_format(world, capsys):
    world.source.put([blob({"a": 1}), b"oops", blob({"b": 2})])
    event = world.source.event()

    world.replicate(event, POWERTOOLS_METRICS_NAMESPACE="StreamReplicaTest")

    documents = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("{") and "_aws" in line
    ]
    (emf,) = documents
    assert emf["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "StreamReplicaTest"
    assert {k: emf[k] for k in ("records_in", "written", "retried", "poison", "failed")} == {
        "records_in": [3.0],
        "written": [2.0],
        "retried": [0.0],
        "poison": [1.0],
        "failed": [0.0],
    }


def test_writer_credentials_are_refreshed_five_minutes_before_expiry(world, monkeypatch):
    """One AssumeRole per execution environment, then another only when the hour-long session
    is within 5 minutes of its end (botocore's refreshable credentials, moved in time here)."""
    import datetime

    from stream_replica.handlers import writer_role

    world.source.put(blob(p) for p in clickstream(3))
    event = world.source.event()
    start = datetime.datetime.now(datetime.UTC)

    world.calls.reset()
    assert failures(world.replicate(event)) == []
    assert world.calls["sts.AssumeRole"] == 1

    monkeypatch.setattr(writer_role, "_now", lambda: start + datetime.timedelta(minutes=50))
    assert failures(world.replicate(event)) == []
    assert world.calls["sts.AssumeRole"] == 1  # 10 minutes left: still valid

    real_now = writer_role._now
    monkeypatch.setattr(writer_role, "_now", lambda: start + datetime.timedelta(minutes=56))
    assert failures(world.replicate(event)) == []
    # Under 5 minutes left: refreshed. (moto dates the new session from the real clock, so at
    # this faked time it too looks nearly expired, and botocore may refresh on each signing.)
    refreshed = world.calls["sts.AssumeRole"]
    assert refreshed > 1

    monkeypatch.setattr(writer_role, "_now", real_now)
    assert failures(world.replicate(event)) == []
    assert world.calls["sts.AssumeRole"] == refreshed  # the new session is used, no more STS
    assert len(world.target.items()) == 3


def test_dead_letters_sqs_fails_without_sender_fault_are_resent(world):
    """SendMessageBatch answers partial failures per entry: the ones SQS failed on its side are
    sent again; every poison record ends up in the queue exactly once."""
    state = {"left": 1}

    def drop_first(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if state["left"]:
            state["left"] -= 1
            context["dropped"] = params["Entries"][0]["Id"]
            params["Entries"] = params["Entries"][1:]

    def report_dropped(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if "dropped" in context:
            parsed.setdefault("Failed", []).append(
                {"Id": context["dropped"], "SenderFault": False, "Code": "InternalError"}
            )

    clients.add_event_hook("before-parameter-build.sqs.SendMessageBatch", drop_first)
    clients.add_event_hook("after-call.sqs.SendMessageBatch", report_dropped)
    world.source.put([b"bad one", blob({"ok": 1}), b"bad two", b"[3]"])
    event = world.source.event()

    assert failures(world.replicate(event)) == []

    letters = dead_letters(world.prod.client("sqs"), world.replicator_dlq)
    seqs = sequence_numbers(event)
    assert sorted(letter["sequenceNumber"] for letter in letters) == [seqs[0], seqs[2], seqs[3]]
    assert world.calls["sqs.SendMessageBatch"] == 2


def test_malformed_event_records_are_isolated_and_the_rest_flow(world):
    """A record without ``kinesis``, ``sequenceNumber``, ``eventID`` or ``data`` used to raise
    KeyError for the whole invocation; an eventID without ':' sent a valid record to the
    dead-letter queue. Now: no sequence number or no data -> poison with the reason; a bad
    eventID -> reported for retry (the record itself is fine); the others are written."""
    world.source.put(blob(p) for p in clickstream(6))
    event = world.source.event()
    records = event["Records"]
    seqs = sequence_numbers(event)
    no_kinesis = {k: v for k, v in records[0].items() if k != "kinesis"}
    no_sequence = json.loads(json.dumps(records[1]))
    del no_sequence["kinesis"]["sequenceNumber"]
    no_event_id = {k: v for k, v in records[2].items() if k != "eventID"}
    bad_event_id = {**records[3], "eventID": "no-colon-here"}
    no_data = json.loads(json.dumps(records[4]))
    del no_data["kinesis"]["data"]
    event = {"Records": [no_kinesis, no_sequence, no_event_id, bad_event_id, no_data, records[5]]}

    response = world.replicate(event)

    assert failures(response) == [seqs[2], seqs[3]]  # reported, in order, not dead-lettered
    assert stored_sequence_numbers(world) == [seqs[5]]
    letters = dead_letters(world.prod.client("sqs"), world.replicator_dlq)
    reasons = sorted(letter["reason"] for letter in letters)
    assert reasons == [
        "event record has no 'kinesis' object",
        "event record has no kinesis.data",
        "event record has no kinesis.sequenceNumber",
    ]
    kept = next(x for x in letters if x["reason"] == "event record has no 'kinesis' object")
    assert kept["event"]["eventID"] == records[0]["eventID"]  # the whole record is kept


def test_a_later_poison_copy_does_not_hide_an_earlier_valid_copy(world):
    world.source.put(blob(p) for p in clickstream(3))
    event = world.source.event()
    valid = event["Records"][1]
    corrupt = json.loads(json.dumps(valid))
    corrupt["kinesis"]["data"] = "bm90IGpzb24="  # "not json"
    event["Records"].append(corrupt)

    assert failures(world.replicate(event)) == []

    assert stored_sequence_numbers(world) == sequence_numbers({"Records": event["Records"][:3]})
    letters = dead_letters(world.prod.client("sqs"), world.replicator_dlq)
    assert [(x["sequenceNumber"], x["data"]) for x in letters] == [
        (valid["kinesis"]["sequenceNumber"], "bm90IGpzb24=")
    ]


def test_a_poison_record_without_sequence_number_that_cannot_be_kept_retries_the_batch(world):
    world.source.put(blob(p) for p in clickstream(3))
    event = world.source.event()
    event["Records"].insert(1, {"eventID": "x"})  # nothing usable at all

    response = world.replicate(event, DEAD_LETTER_QUEUE_URL="")

    assert failures(response) == [event["Records"][0]["kinesis"]["sequenceNumber"]]


def test_a_record_that_is_not_an_object_is_isolated_and_the_rest_flow(world):
    world.source.put(blob(p) for p in clickstream(3))
    event = world.source.event()
    seqs = sequence_numbers(event)
    event["Records"].insert(1, "not a record")

    assert failures(world.replicate(event)) == []

    assert stored_sequence_numbers(world) == seqs
    (letter,) = dead_letters(world.prod.client("sqs"), world.replicator_dlq)
    assert letter["reason"] == "event record has no 'kinesis' object"
    assert letter["event"] == "not a record"
