"""The query writer: replica stream -> query table by user, in time order; idempotent; TTL.

Records come from the replica table's real (moto) stream after the replicator wrote them, so the
event shapes are Lambda's; TTL-expiry and REMOVE shapes are built from AWS's documented format.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

import pytest
from botocore.exceptions import ClientError
from handler_support import FakeContext, blob, dead_letters, failures
from stream_replica.handlers import clients, query_writer, records
from stream_replica.handlers.ttl import DAY_SECONDS, TTL_PRINCIPAL

QUERY_TABLE = "clicks-by-user"
TTL_EXPIRY_IDENTITY = {"type": "Service", "principalId": TTL_PRINCIPAL}


class Query:
    """The query table in the POC account and a way to invoke the query writer."""

    def __init__(self, world: Any) -> None:
        self.world = world
        self.dynamodb = world.poc.client("dynamodb")
        self.dynamodb.create_table(
            TableName=QUERY_TABLE,
            KeySchema=[
                {"AttributeName": "userEmail", "KeyType": "HASH"},
                {"AttributeName": "eventKey", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "userEmail", "AttributeType": "S"},
                {"AttributeName": "eventKey", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
        self.dlq = world.poc.client("sqs").create_queue(QueueName="query-dead-letters")["QueueUrl"]

    def write(self, event: dict[str, Any], context: Any = None, **overrides: str) -> dict[str, Any]:
        env = {
            **self.world.poc.env,
            "QUERY_TABLE_NAME": QUERY_TABLE,
            "QUERY_HASH_ATTRIBUTE": "userEmail",
            "QUERY_RANGE_ATTRIBUTE": "timestamp",
            "DEAD_LETTER_QUEUE_URL": self.dlq,
            "POWERTOOLS_SERVICE_NAME": "query-writer",
        }
        env.update(overrides)
        for name in ("TTL_DAYS", "TTL_ATTRIBUTE", "SOURCE_TTL_DAYS", "QUERY_HASH_TYPE"):
            self.world.monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            self.world.monkeypatch.setenv(name, value)
        return query_writer.handler(event, context or FakeContext(remaining_ms=300_000))

    def user_events(self, email: str) -> list[dict[str, Any]]:
        """A user's events, in the query table's order (Query, ascending sort key)."""
        pages = self.dynamodb.get_paginator("query").paginate(
            TableName=QUERY_TABLE,
            KeyConditionExpression="userEmail = :u",
            ExpressionAttributeValues={":u": {"S": email}},
        )
        return [item for page in pages for item in page["Items"]]

    def count(self) -> int:
        return int(self.dynamodb.scan(TableName=QUERY_TABLE, Select="COUNT")["Count"])


@pytest.fixture
def query(world: Any) -> Query:
    return Query(world)


def _event(user: int, timestamp: int, n: int) -> dict[str, Any]:
    return {
        "eventId": f"e-{n}",
        "userEmail": f"user{user}@example.com",
        "timestamp": timestamp,
        "eventType": "page_view" if n % 2 else "click",
    }


def _replicated_stream_event(world: Any, payloads: list[dict[str, Any]]) -> dict[str, Any]:
    world.source.put(blob(p) for p in payloads)
    assert failures(world.replicate(world.source.event())) == []
    return world.target.stream_event()


def test_each_user_gets_their_events_in_time_order(world: Any, query: Query) -> None:
    base = 1_764_244_800_000_000_000
    payloads = [_event(n % 3, base + (97 * n) % 50 * 1000, n) for n in range(30)]
    # Two events of one user at the same nanosecond: both kept (the source key tells them apart).
    payloads.append({**_event(1, base, 100), "eventId": "same-time"})
    stream_event = _replicated_stream_event(world, payloads)

    assert failures(query.write(stream_event)) == []

    assert query.count() == len(payloads)
    for user in range(3):
        email = f"user{user}@example.com"
        got = query.user_events(email)
        expected = sorted(
            (p for p in payloads if p["userEmail"] == email), key=lambda p: p["timestamp"]
        )
        assert [int(i["timestamp"]["N"]) for i in got] == [p["timestamp"] for p in expected]
        assert sorted(i["eventId"]["S"] for i in got) == sorted(p["eventId"] for p in expected)
        # The whole replica item is there, key attributes included.
        assert all("seqNumbershardIdHash" in i and "sequenceNumber" in i for i in got)


def test_a_redelivered_batch_rewrites_the_same_items(world: Any, query: Query) -> None:
    stream_event = _replicated_stream_event(world, [_event(1, 10 + n, n) for n in range(12)])
    assert failures(query.write(stream_event)) == []
    before = query.user_events("user1@example.com")

    assert failures(query.write(copy.deepcopy(stream_event))) == []
    # Twice in one batch too (BatchWriteItem refuses duplicate keys in one call).
    doubled = {"Records": stream_event["Records"] + copy.deepcopy(stream_event["Records"])}
    assert failures(query.write(doubled)) == []

    assert query.user_events("user1@example.com") == before
    assert query.count() == 12


def test_records_without_the_key_attributes_are_skipped_not_poison(
    world: Any, query: Query
) -> None:
    payloads: list[dict[str, Any]] = [
        {"eventId": "no-user", "timestamp": 5},
        {"eventId": "no-time", "userEmail": "a@example.com"},
        {"eventId": "text-time", "userEmail": "a@example.com", "timestamp": "2026-11-29T12:00"},
        {"eventId": "negative", "userEmail": "a@example.com", "timestamp": -1},
        {"eventId": "number-user", "userEmail": 42, "timestamp": 7},
        _event(7, 9, 1),
    ]
    stream_event = _replicated_stream_event(world, payloads)

    assert failures(query.write(stream_event)) == []

    assert query.count() == 2  # the string timestamp orders as text: it has a key
    assert dead_letters(world.poc.client("sqs"), query.dlq) == []
    kept = {i["eventId"]["S"] for i in query.dynamodb.scan(TableName=QUERY_TABLE)["Items"]}
    assert kept == {"text-time", "e-1"}


def test_modify_updates_and_remove_deletes_but_a_ttl_expiry_does_not(
    world: Any, query: Query
) -> None:
    stream_event = _replicated_stream_event(world, [_event(1, 100, 1), _event(1, 200, 2)])
    assert failures(query.write(stream_event)) == []
    first, second = stream_event["Records"]

    modify = copy.deepcopy(first)
    modify["eventName"] = "MODIFY"
    modify["dynamodb"]["SequenceNumber"] = "900"
    modify["dynamodb"]["OldImage"] = copy.deepcopy(first["dynamodb"]["NewImage"])
    modify["dynamodb"]["NewImage"]["eventType"] = {"S": "purchase"}
    ttl_expiry = _remove(second, "901", identity=TTL_EXPIRY_IDENTITY)
    assert failures(query.write({"Records": [modify, ttl_expiry]})) == []

    items = query.user_events("user1@example.com")
    assert [i["eventType"]["S"] for i in items] == ["purchase", "click"]

    remove = _remove(first, "902")
    no_old_image = _remove(second, "903")
    del no_old_image["dynamodb"]["OldImage"]
    assert failures(query.write({"Records": [remove, no_old_image]})) == []
    assert [i["eventId"]["S"] for i in query.user_events("user1@example.com")] == ["e-2"]


def test_a_modify_that_moves_the_event_deletes_its_old_query_item(world: Any, query: Query) -> None:
    stream_event = _replicated_stream_event(world, [_event(1, 100, 1)])
    assert failures(query.write(stream_event)) == []
    (record,) = stream_event["Records"]
    moved = copy.deepcopy(record)
    moved["eventName"] = "MODIFY"
    moved["dynamodb"]["SequenceNumber"] = "900"
    moved["dynamodb"]["OldImage"] = copy.deepcopy(record["dynamodb"]["NewImage"])
    moved["dynamodb"]["NewImage"]["userEmail"] = {"S": "new@example.com"}

    assert failures(query.write({"Records": [moved]})) == []

    assert query.user_events("user1@example.com") == []
    assert len(query.user_events("new@example.com")) == 1


def _remove(record: dict[str, Any], sequence: str, identity: Any = None) -> dict[str, Any]:
    removed = copy.deepcopy(record)
    removed["eventName"] = "REMOVE"
    removed["dynamodb"]["SequenceNumber"] = sequence
    removed["dynamodb"]["OldImage"] = removed["dynamodb"].pop("NewImage")
    if identity is not None:
        removed["userIdentity"] = identity
    return removed


def test_ttl_expiry_is_the_arrival_time_plus_the_query_tables_days(
    world: Any, query: Query
) -> None:
    arrival = 1_700_000_000
    record = {
        "eventID": "1",
        "eventName": "INSERT",
        "eventSource": "aws:dynamodb",
        "dynamodb": {
            "ApproximateCreationDateTime": arrival + 5_000,  # written later than it arrived
            "Keys": {"k": {"S": "a"}},
            "NewImage": {
                "k": {"S": "a"},
                "userEmail": {"S": "t@example.com"},
                "timestamp": {"N": "1"},
                "expiresAt": {"N": str(arrival + 7 * DAY_SECONDS)},
            },
            "SequenceNumber": "1",
        },
    }
    assert (
        failures(
            query.write(
                {"Records": [record]}, TTL_DAYS="2", TTL_ATTRIBUTE="expiresAt", SOURCE_TTL_DAYS="7"
            )
        )
        == []
    )
    (item,) = query.user_events("t@example.com")
    assert int(item["expiresAt"]["N"]) == arrival + 2 * DAY_SECONDS

    # Without the source's TTL the stream record's creation time stands in for the arrival.
    assert (
        failures(query.write({"Records": [record]}, TTL_DAYS="2", TTL_ATTRIBUTE="expiresAt")) == []
    )
    (item,) = query.user_events("t@example.com")
    assert int(item["expiresAt"]["N"]) == arrival + 5_000 + 2 * DAY_SECONDS


def test_sortable_numbers_sort_as_numbers() -> None:
    values = ["0", "1", "1.5", "1.50", "2", "10", "99.001", "100", "1764244800123456789"]
    texts = [query_writer.sortable_number(v) for v in values]
    assert sorted(texts) == texts
    assert texts[2] == texts[3]  # 1.5 == 1.50
    keyed = sorted(f"{t}#x" for t in texts)
    assert keyed == [f"{t}#x" for t in texts]  # the separator keeps the order
    with pytest.raises(query_writer.SkipRecord):
        query_writer.sortable_number("-1")
    with pytest.raises(query_writer.SkipRecord):
        query_writer.sortable_number("1" * 21)


def test_throttled_writes_are_retried_and_then_reported(world: Any, query: Query) -> None:
    stream_event = _replicated_stream_event(world, [_event(1, n, n) for n in range(30)])
    seen = {"calls": 0}

    def throttle(**kwargs: Any) -> None:
        seen["calls"] += 1
        raise ClientError(
            {"Error": {"Code": "ProvisionedThroughputExceededException", "Message": "slow"}},
            "BatchWriteItem",
        )

    clients.add_event_hook("before-call.dynamodb.BatchWriteItem", throttle)
    # Time runs out after the second call (the margin is 10 s of the context's remaining time).
    context = FakeContext(remaining=lambda: 120_000 if seen["calls"] < 2 else 5_000)
    response = query.write(stream_event, context)
    clients.clear_event_hooks()

    sequence_numbers = [r["dynamodb"]["SequenceNumber"] for r in stream_event["Records"]]
    assert failures(response) == sequence_numbers  # nothing written: all reported, in order
    assert seen["calls"] >= 2
    assert failures(query.write(stream_event)) == []
    assert query.count() == 30


def _image_record(sequence: str, **attributes: dict[str, Any]) -> dict[str, Any]:
    image = {"k": {"S": sequence}, **attributes}
    return {
        "eventID": sequence,
        "eventName": "INSERT",
        "dynamodb": {
            "ApproximateCreationDateTime": 1,
            "Keys": {"k": {"S": sequence}},
            "NewImage": image,
            "SequenceNumber": sequence,
        },
    }


def test_an_item_dynamodb_rejects_is_dead_lettered_and_the_rest_written(
    world: Any, query: Query
) -> None:
    user = {"userEmail": {"S": "big@example.com"}, "timestamp": {"N": "1"}}
    small = _image_record("1", **user)
    # Just under 400 KB as the source item; over it once the sort key attribute is added.
    filler = (
        records.MAX_ITEM_BYTES
        - records.item_size(_image_record("2", **user, blob={"S": ""})["dynamodb"]["NewImage"])
        - 4
    )
    big = _image_record("2", **user, blob={"S": "x" * filler})
    assert records.item_size(big["dynamodb"]["NewImage"]) <= records.MAX_ITEM_BYTES
    response = query.write({"Records": [small, big, _image_record("3", **user)]})

    assert failures(response) == []
    letters = dead_letters(world.poc.client("sqs"), query.dlq)
    assert [body["sequenceNumber"] for body in letters] == ["2"]
    assert "DynamoDB rejected the item" in letters[0]["reason"]
    assert len(query.user_events("big@example.com")) == 2


def test_a_validation_error_that_is_the_tables_fault_is_reported_not_dead_lettered(
    world: Any, query: Query
) -> None:
    """A key schema or type mismatch (a configuration fault) is retried, never poison."""
    stream_event = _replicated_stream_event(world, [_event(1, 1, 1)])

    def mismatch(**kwargs: Any) -> None:
        raise ClientError(
            {
                "Error": {
                    "Code": "ValidationException",
                    "Message": "One or more parameter values were invalid: Type mismatch for key",
                }
            },
            "BatchWriteItem",
        )

    clients.add_event_hook("before-call.dynamodb.BatchWriteItem", mismatch)
    try:
        response = query.write(stream_event)
    finally:
        clients.clear_event_hooks()
    assert failures(response) == [stream_event["Records"][0]["dynamodb"]["SequenceNumber"]]
    assert dead_letters(world.poc.client("sqs"), query.dlq) == []


def test_a_missing_table_is_a_fault_reported_for_retry(world: Any, query: Query) -> None:
    stream_event = _replicated_stream_event(world, [_event(1, 1, 1)])
    response = query.write(stream_event, QUERY_TABLE_NAME="no-such-table")
    assert failures(response) == [stream_event["Records"][0]["dynamodb"]["SequenceNumber"]]
    assert dead_letters(world.poc.client("sqs"), query.dlq) == []


def test_binary_attributes_are_written_as_bytes_once(world: Any, query: Query) -> None:
    record = {
        "eventID": "1",
        "eventName": "INSERT",
        "dynamodb": {
            "ApproximateCreationDateTime": 1,
            "Keys": {"k": {"S": "a"}},
            "NewImage": {
                "k": {"S": "a"},
                "userEmail": {"S": "b@example.com"},
                "timestamp": {"N": "1"},
                "raw": {"B": "AAH/"},  # Lambda's JSON: base64 text
                "nested": {"M": {"blobs": {"BS": ["AQ=="]}}},
            },
            "SequenceNumber": "1",
        },
    }
    assert failures(query.write({"Records": [record]})) == []
    (item,) = query.user_events("b@example.com")
    assert item["raw"]["B"] == b"\x00\x01\xff"
    assert item["nested"]["M"]["blobs"]["BS"] == [b"\x01"]
    assert Decimal(item["timestamp"]["N"]) == 1


@pytest.mark.parametrize("text", ["4111-1111", "-31415926", "9" * 40, "NaN"])
def test_skip_reasons_never_hold_the_value(text: str) -> None:
    """Skip reasons are logged, one line per distinct reason: a value in them would leak it
    (and make a line per value)."""
    from stream_replica.handlers.query_writer import SkipRecord, sortable_number

    with pytest.raises(SkipRecord) as skipped:
        sortable_number(text)
    assert text.lstrip("-") not in skipped.value.reason
    assert "range value" in skipped.value.reason


def test_malformed_event_records_are_isolated_and_the_rest_flow(world: Any, query: Query) -> None:
    """A record without ``dynamodb`` or ``SequenceNumber``, or not an object at all, is poison
    with the reason (the whole record kept when there is no ``dynamodb`` object), as in the
    archiver; a record whose image is not a map is poison too; the others are written and
    nothing is reported."""
    stream_event = _replicated_stream_event(world, [_event(1, n, n) for n in range(5)])
    records = stream_event["Records"]
    no_stream = {k: v for k, v in records[0].items() if k != "dynamodb"}
    no_sequence = copy.deepcopy(records[1])
    del no_sequence["dynamodb"]["SequenceNumber"]
    bad_image = copy.deepcopy(records[2])
    bad_image["dynamodb"]["NewImage"] = "not a map"
    event = {"Records": [no_stream, no_sequence, "not a record", bad_image, records[3], records[4]]}

    assert failures(query.write(event)) == []

    assert [i["eventId"]["S"] for i in query.user_events("user1@example.com")] == ["e-3", "e-4"]
    letters = dead_letters(world.poc.client("sqs"), query.dlq)
    missing = [x for x in letters if x["reason"] == "event record has no dynamodb.SequenceNumber"]
    assert len(missing) == 3
    assert all(x["source"] == "query-writer" for x in letters)
    kept = {x.get("eventID"): x for x in missing}
    assert kept[no_stream["eventID"]]["event"] == no_stream
    assert kept[no_sequence["eventID"]]["payload"] == no_sequence["dynamodb"]["NewImage"]
    assert kept[None]["event"] == "not a record"
    (image_letter,) = [x for x in letters if x not in missing]
    assert image_letter["sequenceNumber"] == bad_image["dynamodb"]["SequenceNumber"]
    assert image_letter["reason"].startswith("bad image")


def test_a_poison_record_without_sequence_number_that_cannot_be_kept_retries_the_batch(
    world: Any, query: Query
) -> None:
    stream_event = _replicated_stream_event(world, [_event(1, n, n) for n in range(3)])
    records = stream_event["Records"]
    event = {"Records": [records[0], {"eventID": "x"}, records[1], records[2]]}

    response = query.write(event, DEAD_LETTER_QUEUE_URL="")

    assert failures(response) == [records[0]["dynamodb"]["SequenceNumber"]]
