"""The pure record logic: key formula, decoding, DynamoDB limits, JSON lines, batching, time."""

from __future__ import annotations

import base64
import json
import re
from decimal import Decimal

import pytest
from boto3.dynamodb.types import Binary
from hypothesis import example, given, settings
from hypothesis import strategies as st
from stream_replica.handlers import batches, dead_letters, environment, images, records, retry
from stream_replica.handlers.exceptions import ConfigError, PoisonRecordError


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


@pytest.mark.parametrize(
    ("sequence_number", "expected"),
    [
        ("7", "_shardId-000000000000"),  # one digit: the slice is empty
        ("42", "4_shardId-000000000000"),  # two digits: the first one
        ("123", "12_shardId-000000000000"),
        ("49590338271490256608559692538361571095921575989136588898", "89_shardId-000000000000"),
    ],
)
def test_partition_key_is_the_seed_formula_for_every_length(sequence_number, expected):
    assert records.partition_key(sequence_number, "shardId-000000000000") == expected


def test_shard_id_comes_from_the_event_id():
    assert records.shard_id_of("shardId-000000000006:4959033827149025") == "shardId-000000000006"
    with pytest.raises(ValueError, match="eventID 'nonsense'"):
        records.shard_id_of("nonsense")


def test_numbers_decode_as_exact_decimals():
    payload = records.decode_payload(b64(b'{"f": 0.1, "i": 12345678901234567890, "e": 1e5}'))
    assert payload == {
        "f": Decimal("0.1"),
        "i": Decimal("12345678901234567890"),
        "e": Decimal("1E+5"),
    }
    assert all(isinstance(v, Decimal) for v in payload.values())


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        ("***", "not base64"),
        (b64(b"\xff\xfe"), "not UTF-8"),
        (b64(b"{oops"), "not JSON"),
        (b64(b'"a string"'), "JSON str, not an object"),
        (b64(b"[1]"), "JSON list, not an object"),
        (b64(b'{"x": Infinity}'), "Infinity"),
        (b64(b"[" * 5000 + b"]" * 5000), "nested too deeply"),
    ],
)
def test_undecodable_data_is_poison_with_a_reason(data, reason):
    with pytest.raises(PoisonRecordError, match=reason):
        records.decode_payload(data)


def test_build_item_drops_top_level_null_and_empty_and_adds_the_keys():
    item = records.build_item(
        {"a": None, "b": "", "c": {"d": None, "e": ""}, "sequenceNumber": "spoof"}, "123", "shard-1"
    )
    assert item == {
        "c": {"d": None, "e": ""},  # only top-level attributes are dropped
        "sequenceNumber": "123",  # the key attributes win over the payload's
        "shardId": "shard-1",
        "seqNumbershardIdHash": "12_shard-1",
    }


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (Decimal("1E+126"), "outside DynamoDB's range"),
        (Decimal("1E-131"), "outside DynamoDB's range"),
        (Decimal("1.234567890123456789012345678901234567891"), "outside DynamoDB's range"),
        ({"deep": [Decimal("1E+200")]}, "number at x.deep[0] is outside DynamoDB's range"),
        ({"v": set()}, "an empty set"),
    ],
)
def test_values_dynamodb_rejects_are_poison(value, reason):
    with pytest.raises(PoisonRecordError, match=re.escape(reason)):
        records.serialise_item({"x": value})


def test_item_limits_nesting_and_size():
    value: dict = {"leaf": Decimal(1)}
    for _ in range(31):
        value = {"m": value}
    records.serialise_item({"x": value})  # 32 levels: allowed
    with pytest.raises(PoisonRecordError, match="nesting deeper than DynamoDB's 32 levels"):
        records.serialise_item({"x": {"m": value}})
    with pytest.raises(PoisonRecordError, match="attribute name is empty"):
        records.serialise_item({"": Decimal(1)})
    just_fits = {"k": "x" * (400 * 1024 - 1)}
    assert records.item_size(records.serialise_item(just_fits)) == 400 * 1024
    with pytest.raises(PoisonRecordError, match="over DynamoDB's 409600-byte"):
        records.serialise_item({"k": "x" * (400 * 1024)})


def test_item_size_follows_dynamodbs_published_rules():
    item = records.serialise_item(
        {
            "s": "héllo",  # 1 + 6
            "n": Decimal("123.45"),  # 1 + (5 digits -> 3) + 1
            "b": True,  # 1 + 1
            "z": None,  # 1 + 1
            "l": [Decimal(1), "ab"],  # 1 + 3 + (1 + 2) + (1 + 2)
            "m": {"k": "v"},  # 1 + 3 + (1 + 1 + 1)
        }
    )
    assert records.item_size(item) == 7 + 5 + 2 + 2 + 10 + 7


def test_image_to_json_line_keeps_every_value_exact():
    image = {
        "big": {"N": "12345678901234567890123456789012345678"},
        "int": {"N": "100"},
        "exp": {"N": "1E+2"},
        "dec": {"N": "1.50"},
        "tiny": {"N": "1E-130"},
        "s": {"S": 'quote " backslash \\ unicode ✓'},
        "ss": {"SS": ["b", "a"]},
        "ns": {"NS": ["10", "9", "-1"]},
        "bs_text": {"BS": [b64(b"\x02"), b64(b"\x01")]},  # Lambda's JSON: base64 text
        "b_bytes": {"B": b"\x00\xff"},  # boto3's stream client: bytes
        "null": {"NULL": True},
        "bool": {"BOOL": False},
        "l": {"L": [{"M": {"x": {"N": "-0"}}}]},
    }
    line = images.image_to_json_line(image)
    assert line.endswith(b"\n") and line.count(b"\n") == 1
    text = line.decode("utf-8")
    assert '"big":12345678901234567890123456789012345678,' in text
    assert '"int":100,"exp":100,"dec":1.5,' in text
    assert '"tiny":0.' + "0" * 129 + "1" in text
    obj = json.loads(text, parse_float=Decimal, parse_int=Decimal)
    assert obj["s"] == 'quote " backslash \\ unicode ✓'
    assert obj["ss"] == ["a", "b"]
    assert obj["ns"] == [Decimal(-1), Decimal(9), Decimal(10)]
    assert obj["bs_text"] == [b64(b"\x01"), b64(b"\x02")]
    assert obj["b_bytes"] == "AP8="
    assert obj["null"] is None and obj["bool"] is False
    assert obj["l"] == [{"x": Decimal(0)}]


def test_tombstone_extra_attributes_and_line_limit():
    line = images.image_to_json_line({"k": {"S": "a"}}, {"_deleted": True})
    assert line == b'{"k":"a","_deleted":true}\n'
    with pytest.raises(PoisonRecordError, match="not valid DynamoDB JSON"):
        images.image_to_json_line({"n": {"N": "1" * 39}})  # DynamoDB never holds 39 digits
    with pytest.raises(PoisonRecordError, match="not valid Unicode"):
        images.image_to_json_line({"s": {"S": "lone \ud800 surrogate"}})
    with pytest.raises(PoisonRecordError, match="1,000 KiB"):
        images.image_to_json_line({"k": {"S": "x" * (1000 * 1024)}})


def test_stream_image_deserializer_accepts_text_and_bytes():
    deserializer = images.StreamImageDeserializer()
    assert deserializer.deserialize({"B": "AAE="}) == Binary(b"\x00\x01")
    assert deserializer.deserialize({"B": b"\x00\x01"}) == Binary(b"\x00\x01")


def test_chunked_respects_count_and_bytes():
    assert list(batches.chunked(list(range(60)), 25)) == [
        list(range(25)),
        list(range(25, 50)),
        list(range(50, 60)),
    ]
    sizes = [3, 3, 3, 10, 1]
    chunks = list(batches.chunked(sizes, 500, max_bytes=6, size_of=lambda s: s))
    assert chunks == [[3, 3], [3], [10], [1]]  # an entry over the limit goes alone


def test_full_jitter_is_bounded_by_the_exponential_cap():
    assert retry.full_jitter_delay(1, rand=lambda: 1.0) == pytest.approx(0.05)
    assert retry.full_jitter_delay(4, rand=lambda: 1.0) == pytest.approx(0.4)
    assert retry.full_jitter_delay(30, rand=lambda: 1.0) == 2.0
    assert retry.full_jitter_delay(30, rand=lambda: 0.0) == 0.0


def test_time_budget_keeps_the_safety_margin():
    class Context:
        left = 12_000

        def get_remaining_time_in_millis(self) -> int:
            return self.left

    context = Context()
    context.left = 60_000
    budget = retry.TimeBudget(context, safety_margin_ms=10_000)
    context.left = 12_000
    assert budget.remaining() == pytest.approx(2.0)
    assert budget.allows(1.5) and not budget.allows(2.5)
    context.left = 9_000
    assert not budget.allows()
    clock = iter([0.0, 0.0, 59.0, 61.0])  # made at 0 (end, margin), then asked at 59 and 61
    fallback = retry.TimeBudget(None, 0, default_ms=60_000, clock=lambda: next(clock))
    assert fallback.allows() and not fallback.allows()


def test_time_budget_margin_scales_to_a_short_timeout_and_lets_one_call_through():
    class Context:
        def __init__(self, left: int) -> None:
            self.left = left

        def get_remaining_time_in_millis(self) -> int:
            return self.left

    # A 10 s (or shorter) invocation against the default 10 s margin: the margin shrinks to a
    # quarter of the time the invocation has, so there is time to write.
    for timeout_ms in (10_000, 5_000, 1_000):
        budget = retry.TimeBudget(Context(timeout_ms), safety_margin_ms=10_000)
        assert budget.margin_seconds == pytest.approx(timeout_ms / 1000 * 0.25)
        assert budget.allows() and budget.claim_attempt()
    # A long invocation keeps the configured margin.
    assert retry.TimeBudget(Context(120_000), 10_000).margin_seconds == pytest.approx(10.0)
    # No time left at all: the first call still goes, later ones don't.
    spent = retry.TimeBudget(Context(0), safety_margin_ms=10_000)
    assert not spent.allows()
    assert spent.claim_attempt()
    assert not spent.claim_attempt()


def test_dead_letter_body_fits_sqs_by_compressing_then_truncating():
    import os

    small = dead_letters.DeadLetter("1", {"reason": "r", "data": "abc"})
    assert json.loads(dead_letters.dead_letter_body(small, "data")) == {
        "reason": "r",
        "data": "abc",
    }

    compressible = dead_letters.DeadLetter("2", {"reason": "r", "data": "a" * 2_000_000})
    body = json.loads(dead_letters.dead_letter_body(compressible, "data"))
    assert body["payloadEncoding"] == "gzip+base64" and "data" not in body

    random_text = base64.b64encode(os.urandom(1_500_000)).decode("ascii")
    incompressible = dead_letters.DeadLetter("3", {"reason": "r", "data": random_text})
    text = dead_letters.dead_letter_body(incompressible, "data")
    body = json.loads(text)
    assert len(text) <= dead_letters.SQS_MAX_BYTES
    assert body["payloadTruncated"] is True
    assert body["payloadBytes"] == len(json.dumps(random_text))
    assert json.dumps(random_text).startswith(body["payloadPrefix"])


def test_environment_errors_name_the_variable(monkeypatch):
    monkeypatch.setenv(environment.MAX_PUT_CONCURRENCY, "0")
    with pytest.raises(ConfigError, match="MAX_PUT_CONCURRENCY=0 must be at least 1"):
        environment.env_int(environment.MAX_PUT_CONCURRENCY, 4)
    monkeypatch.setenv(environment.ARCHIVE_REMOVES, "maybe")
    with pytest.raises(ConfigError, match="ARCHIVE_REMOVES='maybe'"):
        environment.env_bool(environment.ARCHIVE_REMOVES)
    monkeypatch.delenv(environment.DELIVERY_STREAM_NAME, raising=False)
    with pytest.raises(ConfigError, match="DELIVERY_STREAM_NAME is required"):
        environment.env_str(environment.DELIVERY_STREAM_NAME)


@given(st.decimals(allow_nan=False, allow_infinity=False, places=None))
@example(Decimal("1.67194434873116755417158730373393042294E-32"))  # 39 digits: sized, not refused
@settings(max_examples=100, deadline=None)
def test_number_size_fast_path_agrees_with_decimal_arithmetic(number):
    """The plain-notation shortcut gives the size (or the range error) Decimal arithmetic does."""
    text = str(number)
    digits = number.as_tuple().digits
    significant = len("".join(map(str, digits)).strip("0")) or 1
    in_range = not number or -130 <= number.adjusted() <= 125
    if in_range:
        assert records._number_size(text) == (significant + 1) // 2 + 1
    else:
        with pytest.raises(PoisonRecordError, match="outside DynamoDB's range"):
            records._number_size(text)


def test_archiver_record_line_by_event_name():
    from stream_replica.handlers import archiver

    image = {"k": {"S": "a"}, "n": {"N": "5"}}
    insert = {"eventName": "INSERT", "dynamodb": {"Keys": {"k": {"S": "a"}}, "NewImage": image}}
    modify = {**insert, "eventName": "MODIFY"}
    remove = {"eventName": "REMOVE", "dynamodb": {"Keys": {"k": {"S": "a"}}}}
    assert archiver.record_line(insert, False) == b'{"k":"a","n":5}\n'
    assert archiver.record_line(modify, False) == b'{"k":"a","n":5}\n'
    assert archiver.record_line(remove, False) is None
    assert archiver.record_line(remove, True) == b'{"k":"a","_deleted":true}\n'
    with pytest.raises(PoisonRecordError, match="unknown eventName 'UPSERT'"):
        archiver.record_line({**insert, "eventName": "UPSERT"}, False)
