"""The staged path's one-pass writer (``pipeline.stage_record`` with no transform: drop,
pseudonymise, the TTL expiry and the key attributes applied by ``records.one_pass_item_json``)
gives exactly the items and poison reasons of the exact typed path it replaced
(``pipeline.stage_record_reference``: decode with Decimal numbers, ``redaction.redact``,
``build_item``, TypeSerializer, the full limits walk), for plain records, gzip and KPL user
records, with TTL on and off.
"""

from __future__ import annotations

import base64
import gzip
import json
from decimal import Decimal
from typing import Any

import pytest
from aws_kinesis_agg.aggregator import RecordAggregator
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from stream_replica.handlers import item_json, pipeline, records, redaction
from stream_replica.handlers.records import PoisonRecordError
from test_records_fast_path import SEQ, SHARD, _payload_text

KEY = b"0123456789abcdef0123456789abcdef-bench"
ARRIVAL = 1795000000.123


def kpl(payloads: list[bytes]) -> bytes:
    aggregator = RecordAggregator()
    for i, payload in enumerate(payloads):
        aggregator.add_user_record(f"user-{i}", payload)
    return bytes(aggregator.clear_and_get().get_contents()[2])


def kinesis(raw: bytes) -> dict[str, Any]:
    return {
        "data": base64.b64encode(raw).decode("ascii"),
        "partitionKey": "p",
        "approximateArrivalTimestamp": ARRIVAL,
    }


def outcome(staging: Any, record: dict[str, Any], stages: pipeline.Stages, extra: Any) -> Any:
    """What a staging function made of ``record``: each item's key and parsed item, the poison
    reasons and the filtered count, or the whole record's poison reason (or the error it raised:
    the replicator dead-letters a ValueError with its text, e.g. a lone surrogate in a map the
    exact path pseudonymises)."""
    try:
        staged = staging(record, SEQ, SHARD, stages, extra)
    except PoisonRecordError as exc:
        return "poison", exc.reason
    except ValueError as exc:
        return type(exc).__name__, str(exc)
    items = [(key, json.loads(text)) for key, text in staged.items]
    return items, staged.poison, staged.filtered


def one_pass_taken(raw: bytes, stages: pipeline.Stages, extra: Any) -> bool:
    try:
        records.one_pass_item_json(raw, SEQ, SHARD, extra, None, stages.one_pass_redaction)
    except (item_json.Unusual, ValueError, TypeError, RecursionError):
        return False
    return True


def assert_same(raw: bytes, stages: pipeline.Stages, extra: Any) -> Any:
    record = kinesis(raw)
    expected = outcome(pipeline.stage_record_reference, record, stages, extra)
    assert outcome(pipeline.stage_record, record, stages, extra) == expected
    return expected


# --------------------------------------------------------------------------- strategies

#: Few names, so that paths drawn from them reach into the records drawn from them.
_NAMES = st.sampled_from(["a", "a", "b", "b", "user", "é", "sequenceNumber", "expiresAt"])
_LEAVES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**20), 10**20),
    st.integers(-(10**40), 10**40),
    st.decimals(allow_nan=False, allow_infinity=False, places=4),
    st.just(""),
    st.text(max_size=12),
)
_VALUES = st.recursive(
    _LEAVES,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(_NAMES, children, max_size=4),
    max_leaves=16,
)
_PAYLOADS = st.dictionaries(_NAMES, _VALUES, max_size=6)
_PATHS = st.lists(st.lists(_NAMES, min_size=1, max_size=3).map(tuple), max_size=4).map(tuple)
_EXTRA = st.sampled_from([None, {"expiresAt": 1797592000}, {"ttl": 10**40}, {"shardId": 1}])


def _stages(drop: tuple[Any, ...], pseudonymise: tuple[Any, ...]) -> pipeline.Stages:
    return pipeline.Stages(drop=drop, pseudonymise=pseudonymise, key=KEY)


def _text(payload: dict[str, Any], ascii_only: bool) -> str:
    return json.dumps(payload, ensure_ascii=ascii_only, default=str)


# --------------------------------------------------------------------------- equality (property)


@settings(deadline=None, max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(_PAYLOADS, _PATHS, _PATHS, _EXTRA, st.booleans())
def test_drop_and_pseudonymise_equal_the_exact_path(payload, drop, pseudonymise, extra, ascii):
    """Nested paths, paths through lists, absent paths, paths to numbers, maps, lists, booleans,
    nulls and "" (non-string values are hashed as their JSON text), a path in both lists, paths
    to key-named attributes; TTL off, on, past 38 digits, named like a key: the same items and
    poison reasons as the exact path."""
    raw = _text(payload, ascii).encode("utf-8")
    stages = _stages(drop, pseudonymise)
    expected = assert_same(raw, stages, extra)
    event(f"{'one pass' if one_pass_taken(raw, stages, extra) else 'exact path'}")
    event("poison" if expected[0] == "poison" or expected[1] else "item")


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_payload_text(), _PATHS, _PATHS, _EXTRA)
def test_adversarial_json_text_with_redaction_equals_the_exact_path(
    text, drop, pseudonymise, extra
):
    """Adversarial JSON text (numbers at and past DynamoDB's edges, every escape, surrogates,
    deep nesting, empty and key-named attributes) with redaction and TTL: the same answer."""
    raw = text.encode("utf-8", "surrogatepass")
    assert_same(raw, _stages(drop, pseudonymise), extra)
    event(f"{'one pass' if one_pass_taken(raw, _stages(drop, pseudonymise), extra) else 'exact'}")


@settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_PAYLOADS, min_size=1, max_size=4), _PATHS, _PATHS, _EXTRA, st.booleans())
def test_kpl_user_records_and_gzip_equal_the_exact_path(payloads, drop, pseudonymise, extra, zip_):
    """An aggregate of user records (each one gzip or not) and a gzip record: per user record
    the same items (range key ``<seq>:<sub>``, ``subSequenceNumber``) and poison reasons."""
    stages = _stages(drop, pseudonymise)
    users = [_text(p, True).encode() for p in payloads]
    if zip_:
        users = [gzip.compress(u) if i % 2 else u for i, u in enumerate(users)]
    assert_same(kpl(users), stages, extra)
    assert_same(gzip.compress(users[0]), stages, extra)


# --------------------------------------------------------------------------- examples


@pytest.mark.parametrize(
    ("payload", "path"),
    [
        ({"n": 42}, ("n",)),  # hashed as "42", like the string "42"
        ({"n": Decimal("12.50")}, ("n",)),  # its exact text
        ({"m": {"x": 1, "a": [True, None, Decimal("-0.5")]}}, ("m",)),  # sorted keys, JSON text
        ({"l": [{"s": 1}, {"s": "x"}, {"t": 2}, 3]}, ("l", "s")),  # through a list
        ({"b": False}, ("b",)),
        ({"z": None}, ("z",)),  # null stays null (and is dropped at the top level)
        ({"e": ""}, ("e",)),  # "" is hashed (not dropped)
        ({"a": 1}, ("a", "b")),  # through a number: nothing
        ({"a": 1}, ("absent",)),
    ],
)
def test_pseudonyms_of_non_string_values(payload, path):
    raw = json.dumps(payload, default=str).encode()
    stages = _stages((), (path,))
    assert one_pass_taken(raw, stages, None)
    assert assert_same(raw, stages, None)[1] == []


def test_a_pseudonym_is_the_hmac_of_the_value():
    stages = _stages((("drop",),), (("user",), ("n",)))
    staged = pipeline.stage_record(
        kinesis(b'{"user": "ana@example.com", "n": 7, "drop": 1}'), SEQ, SHARD, stages
    )
    ((_, text),) = staged.items
    item = json.loads(text)
    assert item["user"] == {"S": redaction.pseudonym(KEY, "ana@example.com")}
    assert item["n"] == {"S": redaction.pseudonym(KEY, "7")}
    assert "drop" not in item


def test_pseudonyms_that_grow_the_item_past_400_kb_are_poison_on_both_paths():
    """Each pseudonym may grow the item by 64 bytes: 15,000 one-letter values within the plain
    bound (2 x 150 KB of text) become an item of about 1 MB, which is poison on both paths."""
    raw = json.dumps({"l": [{"v": "x"} for _ in range(15_000)]}).encode()
    assert 2 * len(raw) < records.MAX_ITEM_BYTES
    items, poison, _ = assert_same(raw, _stages((), (("l", "v"),)), None)
    assert items == []
    assert "400 KB" in poison[0][1]


def test_no_key_is_the_same_fault_on_both_paths():
    stages = pipeline.Stages(pseudonymise=(("a",),), key=None)
    for staging in (pipeline.stage_record, pipeline.stage_record_reference):
        with pytest.raises(redaction.RedactionKeyError):
            staging(kinesis(b'{"a": "x"}'), SEQ, SHARD, stages)


@pytest.fixture
def exact_calls(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the user records the staged path hands to the exact path."""
    calls: list[int] = []
    real = pipeline._stage_exact

    def counting(*args: Any) -> None:
        calls.append(1)
        real(*args)

    monkeypatch.setattr(pipeline, "_stage_exact", counting)
    return calls


def test_clickstream_and_nested_records_take_the_one_pass_path_when_redacted(exact_calls):
    """The bench's records, pseudonymised and with fields dropped, TTL on, plain, gzip and in
    KPL aggregates: none needs the exact path, and every item equals the reference's."""
    from stream_replica.testing.events import clickstream, nested

    stages = _stages((("context", "geo"), ("basket", "lines", "note")), (("userId",), ("email",)))
    extra = {"expiresAt": 1797592000}
    for payloads in (clickstream(100), nested(30)):
        raws = [json.dumps(p).encode() for p in payloads]
        wrapped = raws + [gzip.compress(r) for r in raws[:5]] + [kpl(raws[:7])]
        got = [pipeline.stage_record(kinesis(w), SEQ, SHARD, stages, extra) for w in wrapped]
        assert exact_calls == []
        for w, staged in zip(wrapped, got, strict=True):
            reference = pipeline.stage_record_reference(kinesis(w), SEQ, SHARD, stages, extra)
            assert [(k, json.loads(t)) for k, t in staged.items] == [
                (k, json.loads(t)) for k, t in reference.items
            ]
            assert staged.poison == reference.poison == []
        exact_calls.clear()


def test_a_transform_takes_the_exact_path(exact_calls):
    stages = pipeline.Stages(transform=lambda record, meta: record)
    staged = pipeline.stage_record(kinesis(b'{"a": 1}'), SEQ, SHARD, stages)
    assert exact_calls == [1]
    assert json.loads(staged.items[0][1])["a"] == {"N": "1"}
