"""Archive line -> restored item: the backfill gives back the item the replicator wrote, and
keys the query table as the query writer does (handlers/backfill_lines.py)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import TypeDeserializer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stream_replica.handlers import backfill_lines, images, query_writer
from stream_replica.handlers.backfill_lines import QUERY, REPLICA, LineRules, Skip
from stream_replica.handlers.backfill_worker import QueryKeyRules
from stream_replica.handlers.exceptions import PoisonRecordError
from stream_replica.handlers.records import PoisonRecordError as RecordPoison
from stream_replica.handlers.records import record_item
from test_records_fast_path import _JSON_VALUES, SEQ, SHARD, _payload_text, b64

_DESERIALIZER = TypeDeserializer()
NOW = 1_800_000_000.0


def plain(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _DESERIALIZER.deserialize(v) for k, v in item.items()}


def restored(item: dict[str, Any], rules: LineRules | None = None) -> Any:
    """The replicator's item -> the archiver's line -> the backfill's request."""
    line = images.image_to_json_line(item)
    obj = backfill_lines.parse_line(line)
    return backfill_lines.line_request(
        obj, 1, rules or LineRules(REPLICA), lambda key: False, NOW, NOW
    )


def _round_trip(data: str) -> None:
    try:
        item = record_item(data, SEQ, SHARD)
    except RecordPoison:
        return  # the replicator never wrote it
    request = restored(item)
    assert request.item is not None
    assert plain(request.item) == plain(item)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_payload_text())
def test_any_item_the_replicator_writes_is_restored_attribute_for_attribute(text):
    _round_trip(b64(text))


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.text(min_size=1, max_size=8), _JSON_VALUES, max_size=8))
def test_what_producers_send_is_restored_attribute_for_attribute(payload):
    _round_trip(b64(json.dumps(payload, default=str)))


@pytest.mark.parametrize("number", ["1e100", "1E-130", "-0", "12.50", "9" * 38, "0.000001"])
def test_numbers_come_back_as_the_same_decimal(number):
    item = record_item(b64(f'{{"n": {number}}}'), SEQ, SHARD)
    request = restored(item)
    assert request.item is not None
    value = plain(request.item)["n"]
    assert isinstance(value, Decimal)
    assert value == Decimal(number)


def test_sets_and_binary_come_back_as_the_archive_wrote_them():
    """The archive line has no type for a set or binary (only a transform makes them): they
    are restored as a sorted list and as base64 text, as docs/backfill.md says."""
    item = {
        "s": {"SS": ["b", "a"]},
        "b": {"B": b"\x00\x01"},
        "seqNumbershardIdHash": {"S": "9_s"},
        "sequenceNumber": {"S": "1"},
    }
    request = restored(item)
    assert request.item is not None
    assert plain(request.item)["s"] == ["a", "b"]
    assert plain(request.item)["b"] == "AAE="


RULES = QueryKeyRules(hash_attribute="user", range_attribute="ts")


def test_the_query_item_is_the_query_writers():
    """Same image, same keys: the backfill's query request is the query writer's put."""
    item = record_item(
        b64('{"user": "a@example.com", "ts": 1700000000123, "page": "/"}'), SEQ, SHARD
    )
    request = restored(item, LineRules(QUERY, query=RULES))
    config = query_writer.QueryWriterConfig(
        table="q",
        hash_attribute="user",
        hash_type="S",
        range_attribute="ts",
        sort_key_attribute="eventKey",
        ttl_attribute=None,
        ttl_days=0,
        source_ttl_days=0,
        dead_letter_queue_url=None,
        concurrency=1,
        safety_margin_ms=0,
    )
    keys = {k: item[k] for k in ("seqNumbershardIdHash", "sequenceNumber")}
    record = {
        "eventName": "INSERT",
        "dynamodb": {"SequenceNumber": "1", "Keys": keys, "NewImage": item},
    }
    plan = query_writer.plan_batch([("1", record)], config)
    (live,) = plan.requests.values()
    assert request.item is not None and live.put is not None
    assert plain(request.item) == plain(live.put)


def test_a_line_without_the_query_key_is_skipped_as_the_query_writer_skips_it():
    item = record_item(b64('{"page": "/"}'), SEQ, SHARD)
    with pytest.raises(Skip, match="no S attribute 'user'"):
        restored(item, LineRules(QUERY, query=RULES))


def test_expired_items_are_not_resurrected():
    item = record_item(b64('{"user": "u", "ts": 1}'), SEQ, SHARD, {"expiresAt": int(NOW) - 1})
    with pytest.raises(Skip, match="expired"):
        restored(item, LineRules(REPLICA, ttl_attribute="expiresAt"))
    alive = record_item(b64('{"user": "u", "ts": 1}'), SEQ, SHARD, {"expiresAt": int(NOW) + 60})
    assert restored(alive, LineRules(REPLICA, ttl_attribute="expiresAt")).item is not None
    # The query item's own expiry: arrival (the object's time) + TTL days.
    rules = QueryKeyRules("user", "ts", ttl_attribute="expiresAt", ttl_days=1)
    line = images.image_to_json_line(record_item(b64('{"user": "u", "ts": 1}'), SEQ, SHARD))
    obj = backfill_lines.parse_line(line)
    with pytest.raises(Skip, match="expired"):
        backfill_lines.line_request(
            obj, 1, LineRules(QUERY, query=rules), lambda k: False, NOW, NOW - 2 * 86_400
        )


def test_a_tombstoned_item_becomes_a_delete_on_either_target():
    item = record_item(b64('{"user": "u", "ts": 5}'), SEQ, SHARD)
    line = images.image_to_json_line(item)
    key = (item["seqNumbershardIdHash"]["S"], SEQ)
    replica = backfill_lines.line_request(
        backfill_lines.parse_line(line), 3, LineRules(REPLICA), {key}.__contains__, NOW, NOW
    )
    assert replica.item is None and replica.key == {
        "seqNumbershardIdHash": item["seqNumbershardIdHash"],
        "sequenceNumber": {"S": SEQ},
    }
    query = backfill_lines.line_request(
        backfill_lines.parse_line(line),
        3,
        LineRules(QUERY, query=RULES),
        {key}.__contains__,
        NOW,
        NOW,
    )
    assert query.item is None and query.key is not None and query.key["user"] == {"S": "u"}
    tombstone = images.image_to_json_line(
        {k: item[k] for k in ("seqNumbershardIdHash", "sequenceNumber")}, {"_deleted": True}
    )
    assert backfill_lines.tombstones_of(tombstone + line) == ([key], 2)


def test_poison_lines_are_reported_with_their_line_number():
    good = images.image_to_json_line(record_item(b64('{"a": 1}'), SEQ, SHARD))
    data = good + b"not json\n" + b"[1]\n" + b'{"a": 1}\n' + good
    plan = backfill_lines.plan_object(data, LineRules(REPLICA), set(), NOW, NOW)
    assert [line for line, _ in plan.poison] == [2, 3, 4]
    assert "not JSON" in plan.poison[0][1] and "seqNumbershardIdHash" in plan.poison[2][1]
    # The duplicate good line collapses onto one request, the later line's.
    (request,) = plan.requests.values()
    assert request.line == 5 and plan.lines == 5


def test_drop_fields_apply_again_and_a_transform_may_not_fan_out(tmp_path):
    from stream_replica.handlers.redaction import parse_paths

    item = record_item(b64('{"a": 1, "secret": {"x": 1}}'), SEQ, SHARD)
    request = restored(item, LineRules(REPLICA, drop=parse_paths('["secret.x"]', "t")))
    assert request.item is not None and plain(request.item)["secret"] == {}

    def fan_out(record: dict[str, Any], meta: Any) -> list[dict[str, Any]]:
        return [record, record]

    with pytest.raises(PoisonRecordError, match="fanned"):
        restored(item, LineRules(REPLICA, transform=fan_out))

    def rename(record: dict[str, Any], meta: Any) -> dict[str, Any]:
        return {"b": record["a"], "sequenceNumber": "changed"}

    changed = restored(item, LineRules(REPLICA, transform=rename))
    assert changed.item is not None
    assert plain(changed.item)["b"] == 1 and plain(changed.item)["sequenceNumber"] == SEQ
