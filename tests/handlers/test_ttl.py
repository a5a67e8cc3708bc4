"""The hot window: the replicator's TTL expiry attribute, and TTL expiries on the table stream.

TTL on: each item carries ``expiresAt`` = the Kinesis record's arrival time + N days (a replay
of old records writes already-expired items, it does not give them N more days). TTL off: no
attribute. A TTL expiry arrives as a REMOVE by the DynamoDB service principal: the archiver
never archives it as a removal, even with ``ARCHIVE_REMOVES`` on.
"""

from __future__ import annotations

import base64
import copy
from decimal import Decimal
from typing import Any

import pytest
from handler_support import blob, failures, kinesis_record, parse_line
from hypothesis import given, settings
from hypothesis import strategies as st
from stream_replica.handlers import records, ttl
from stream_replica.handlers.exceptions import PoisonRecordError

DAYS = 7


def _items_by_event(world: Any) -> dict[str, dict[str, Any]]:
    return {item["eventId"]: item for item in world.target.items()}


def test_ttl_on_sets_the_expiry_from_the_arrival_time(world: Any) -> None:
    world.source.put(blob({"eventId": f"e-{n}", "n": n}) for n in range(3))
    event = world.source.event()
    arrivals = {
        f"e-{n}": r["kinesis"]["approximateArrivalTimestamp"]
        for n, r in enumerate(event["Records"])
    }
    assert failures(world.replicate(event, TTL_DAYS=str(DAYS), TTL_ATTRIBUTE="expiresAt")) == []

    items = _items_by_event(world)
    for event_id, arrival in arrivals.items():
        assert items[event_id]["expiresAt"] == int(arrival) + DAYS * ttl.DAY_SECONDS


def test_a_replay_of_an_old_record_is_already_expired(world: Any) -> None:
    """Processing time would give an old record N more days; arrival time does not."""
    old_arrival = 1_600_000_000.75  # 2020
    record = kinesis_record(base64.b64encode(blob({"eventId": "old"})).decode(), "1")
    record["kinesis"]["approximateArrivalTimestamp"] = old_arrival
    assert failures(world.replicate({"Records": [record]}, TTL_DAYS="30")) == []
    (item,) = world.target.items()
    assert item["expiresAt"] == 1_600_000_000 + 30 * ttl.DAY_SECONDS


def test_ttl_off_adds_no_attribute(world: Any) -> None:
    world.source.put([blob({"eventId": "e", "expiresAt": "payload's own"})])
    assert failures(world.replicate(world.source.event())) == []
    (item,) = world.target.items()
    assert item["expiresAt"] == "payload's own"
    assert set(item) == {"eventId", "expiresAt", *records.KEY_ATTRIBUTES}


def test_the_expiry_attribute_wins_over_a_payload_attribute_and_counts_in_the_size() -> None:
    data = base64.b64encode(blob({"expiresAt": "text", "a": 1})).decode()
    item = records.record_item(data, "123", "shardId-0", {"expiresAt": 5})
    assert item["expiresAt"] == {"N": "5"}
    # An item just under 400 KB without the attribute is over it with a long-named one.
    filler = records.MAX_ITEM_BYTES - 200
    data = base64.b64encode(blob({"f": "x" * filler})).decode()
    records.record_item(data, "123", "shardId-0")
    with pytest.raises(PoisonRecordError, match="400 KB"):
        records.record_item(data, "123", "shardId-0", {"e" * 300: 1})


def test_a_record_without_an_arrival_time_is_poison_not_given_processing_time() -> None:
    with pytest.raises(PoisonRecordError, match="approximateArrivalTimestamp"):
        ttl.expiry_attribute({"data": "e30="}, "expiresAt", 1)
    with pytest.raises(PoisonRecordError):
        ttl.expiry_attribute({"approximateArrivalTimestamp": "soon"}, "expiresAt", 1)


def _ttl_expiry(record: dict[str, Any]) -> dict[str, Any]:
    """A stream record as DynamoDB's TTL process writes it (REMOVE by the service principal)."""
    removed = copy.deepcopy(record)
    removed["eventName"] = "REMOVE"
    removed["dynamodb"]["SequenceNumber"] = "99" + removed["dynamodb"]["SequenceNumber"]
    removed["dynamodb"]["OldImage"] = removed["dynamodb"].pop("NewImage")
    removed["userIdentity"] = {"type": "Service", "principalId": "dynamodb.amazonaws.com"}
    return removed


def test_the_archiver_never_archives_a_ttl_expiry_as_a_removal(world: Any) -> None:
    world.source.put([blob({"eventId": "kept"})])
    assert failures(world.replicate(world.source.event())) == []
    stream_event = world.target.stream_event()
    assert failures(world.archive(stream_event, ARCHIVE_REMOVES="true")) == []
    (line,) = world.target.archived_lines()
    assert parse_line(line)["eventId"] == "kept"

    expiry = _ttl_expiry(stream_event["Records"][0])
    user_delete = copy.deepcopy(expiry)
    del user_delete["userIdentity"]
    user_delete["dynamodb"]["SequenceNumber"] = "77"
    response = world.archive({"Records": [expiry, user_delete]}, ARCHIVE_REMOVES="true")

    assert failures(response) == []
    (tombstone,) = world.target.archived_lines()  # the user's delete only
    assert parse_line(tombstone)["_deleted"] is True


@pytest.mark.parametrize(
    ("identity", "expected"),
    [
        ({"type": "Service", "principalId": "dynamodb.amazonaws.com"}, True),
        ({"type": "Service", "principalId": "lambda.amazonaws.com"}, False),
        ({"type": "AWS", "principalId": "dynamodb.amazonaws.com"}, False),
        (None, False),
    ],
)
def test_ttl_expiry_shape(identity: Any, expected: bool) -> None:
    record: dict[str, Any] = {"eventName": "REMOVE", "dynamodb": {}}
    if identity is not None:
        record["userIdentity"] = identity
    assert ttl.is_ttl_expiry(record) is expected
    assert ttl.is_ttl_expiry({**record, "eventName": "MODIFY"}) is False


def _outcome(call: Any) -> tuple[str, Any]:
    try:
        return "item", call()
    except PoisonRecordError as exc:
        return "poison", exc.reason


@settings(max_examples=20, deadline=None)
@given(
    filler=st.integers(records.MAX_ITEM_BYTES - 400, records.MAX_ITEM_BYTES),
    name=st.text(alphabet="abcxyz_é", min_size=1, max_size=300),
    expiry=st.integers(0, 10**12),
    collide=st.booleans(),
)
def test_the_fast_path_with_the_expiry_equals_the_exact_path(
    filler: int, name: str, expiry: int, collide: bool
) -> None:
    """Near the 400 KB limit, record_item with the expiry attribute (bound + its exact size)
    decides exactly as the full walk of the item with it (the reference path)."""
    payload = {"f": "x" * filler, **({name: "payload's"} if collide else {})}
    data = base64.b64encode(blob(payload)).decode()
    extra = {name: Decimal(expiry)}
    fast = _outcome(lambda: records.record_item(data, "123", "shardId-0", extra))
    exact = _outcome(
        lambda: records.serialise_item(
            records.build_item(records.decode_payload(data), "123", "shardId-0", extra)
        )
    )
    assert fast == exact
