"""The replicator's one-pass path (``records.record_item_json``: JSON payload text -> the item's
DynamoDB JSON text, ``handlers/item_json.py``) produces exactly the exact path's items and poison
reasons, and the request body handed to botocore (``handlers/write_requests.py``) carries exactly
the items botocore would have serialised itself.

The exact path is ``records.record_item_reference`` (decode -> build_item -> TypeSerializer ->
limits check), and, independently of the code under test, ``exact`` from
``test_records_fast_path`` (the decode written out again, the whole walk).
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import botocore.session
import pytest
from boto3.dynamodb.types import Binary, TypeSerializer
from handler_support import CapturedBatchWrites
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st
from stream_replica.handlers import item_json, records, write_requests
from stream_replica.handlers.records import PoisonRecordError
from test_records_fast_path import (
    _JSON_VALUES,
    LIMIT,
    SEQ,
    SHARD,
    _keys_size,
    _payload_text,
    _reference_decode,
    b64,
    exact,
)


def one_pass(data: str, shard: str = SHARD) -> tuple[str, Any]:
    """The one-pass path's answer, parsed: ("item", item) or ("poison", reason)."""
    try:
        return "item", json.loads(records.record_item_json(data, SEQ, shard))
    except PoisonRecordError as exc:
        return "poison", exc.reason


def reference(data: str, shard: str = SHARD) -> tuple[str, Any]:
    try:
        return "item", records.record_item_reference(data, SEQ, shard)
    except PoisonRecordError as exc:
        return "poison", exc.reason


def as_item(data: str) -> tuple[str, Any]:
    """``records.record_item`` (the one-pass path parsed back into the typed item)."""
    try:
        return "item", records.record_item(data, SEQ, SHARD)
    except PoisonRecordError as exc:
        return "poison", exc.reason


def took_one_pass(data: str, shard: str = SHARD) -> bool:
    try:
        records._one_pass_item_json(data, SEQ, shard)
    except (item_json.Unusual, ValueError, TypeError, RecursionError):
        return False
    return True


@pytest.fixture
def fallbacks(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Counts the records the one-pass path hands to the exact path."""
    calls: list[str] = []
    real = records.record_item_reference

    def counting(data: str, sequence_number: str, shard_id: str, extra: Any = None) -> Any:
        calls.append(data)
        return real(data, sequence_number, shard_id, extra)

    monkeypatch.setattr(records, "record_item_reference", counting)
    return calls


# --------------------------------------------------------------------------- equality (property)


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_payload_text())
def test_one_pass_equals_the_exact_path_on_any_json_text(text):
    """Adversarial JSON text (numbers at and past DynamoDB's edges, every escape, surrogates,
    deep nesting, empty and key-named attributes): the same item, or the same poison reason."""
    data = b64(text)
    expected = exact(data)
    assert one_pass(data) == expected
    assert reference(data) == expected
    assert as_item(data) == expected
    event(f"{'one pass' if took_one_pass(data) else 'exact path'}: {expected[0]}")


def _with_extra(call: Any) -> tuple[str, Any]:
    try:
        return "item", call()
    except PoisonRecordError as exc:
        return "poison", exc.reason


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    _payload_text(),
    st.sampled_from(["expiresAt", "ttl", "n", "é" * 3, "sequenceNumber"]),
    st.integers(-(10**40), 10**40) | st.integers(0, 2 * 10**10),
)
def test_with_the_ttl_expiry_one_pass_equals_the_exact_path(text, name, expiry):
    """TTL on: the one-pass path with the expiry attribute (``extra``) gives the exact old typed
    path's item (build_item with the attribute, TypeSerializer, the full size walk) or its
    poison reason, also when a payload attribute or a key has the attribute's name, and for
    expiries past DynamoDB's 38 digits."""
    data = b64(text)
    extra = {name: expiry}

    def exact_with_extra() -> Any:
        item = records.build_item(_reference_decode(data), SEQ, SHARD, extra)
        return records.serialise_item(item)  # no bound: the full walk

    expected = _with_extra(exact_with_extra)
    got = _with_extra(lambda: json.loads(records.record_item_json(data, SEQ, SHARD, extra)))
    assert got == expected
    assert _with_extra(lambda: records.record_item(data, SEQ, SHARD, extra)) == expected
    try:
        records._one_pass_item_json(data, SEQ, SHARD, extra)
        event("one pass")
    except (item_json.Unusual, ValueError, TypeError, RecursionError):
        event("exact path")


def test_with_the_ttl_expiry_clickstream_records_take_the_one_pass_path(fallbacks):
    from stream_replica.testing.events import clickstream, kinesis_event

    extra = {"expiresAt": 1_900_000_000}
    for record in kinesis_event(clickstream(50))["Records"]:
        text = records.record_item_json(record["kinesis"]["data"], SEQ, SHARD, extra)
        assert json.loads(text)["expiresAt"] == {"N": "1900000000"}
    assert fallbacks == []


@pytest.mark.parametrize("slack", [-1, 0, 1])
def test_with_the_ttl_expiry_items_at_400_kb(slack):
    """The expiry attribute's exact size counts in the 400 KB check of both paths."""
    extra = {"expiresAt": 1_900_000_000}
    extra_size = len("expiresAt") + records.attribute_value_size({"N": "1900000000"})
    value_len = LIMIT - _keys_size() - len("k") - extra_size + slack
    data = b64('{"k":"' + "x" * value_len + '"}')

    def exact_with_extra() -> Any:
        item = records.build_item(_reference_decode(data), SEQ, SHARD, extra)
        return records.serialise_item(item)

    expected = _with_extra(exact_with_extra)
    assert expected[0] == ("poison" if slack > 0 else "item")
    got = _with_extra(lambda: json.loads(records.record_item_json(data, SEQ, SHARD, extra)))
    assert got == expected


@settings(deadline=None)
@given(
    st.dictionaries(st.text(min_size=1, max_size=8), _JSON_VALUES, max_size=8),
    st.booleans(),
    st.sampled_from([None, 0, 2]),
)
def test_one_pass_equals_the_exact_path_on_what_producers_send(payload, ascii_only, indent):
    text = json.dumps(payload, ensure_ascii=ascii_only, indent=indent, default=str)
    data = b64(text)
    assert one_pass(data) == exact(data)
    event("one pass" if took_one_pass(data) else "exact path")


_NUMBERS = st.one_of(
    st.integers(-(10**40), 10**40).map(str),
    st.decimals(allow_nan=False, allow_infinity=False).map(lambda d: format(d, "f")),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
    st.floats(allow_nan=False, allow_infinity=False).map(repr),
    st.builds(
        lambda sign, zeros, digits: f"{sign}0.{'0' * zeros}{digits}",
        st.sampled_from(["", "-"]),
        st.integers(0, 8),
        st.text("0123456789", min_size=1, max_size=40),
    ),
)


@settings(deadline=None)
@given(st.lists(_NUMBERS, min_size=1, max_size=5))
def test_number_text_is_typeserializers_at_every_edge(numbers):
    """JSON numbers of 1 to 41 digits, plain and scientific, with any run of zeros after the
    point: the ``N`` text is boto3's, or the record is the same poison."""
    data = b64('{"n":[' + ",".join(numbers) + '],"m":' + numbers[0] + "}")
    assert one_pass(data) == exact(data)


@pytest.mark.parametrize(
    ("number", "one_pass_taken"),
    [
        ("12.50", True),  # trailing zeros kept, as Decimal keeps them
        ("-0", True),
        ("-0.0", True),
        ("0.001", True),
        ("0.0001", True),
        ("0.00001", False),  # close to Decimal's switch to scientific notation: exact path
        ("0.000000", False),  # str(Decimal) is 0E-6
        ("0.0000001", False),  # str(Decimal) is 1E-7
        ("1e5", False),
        ("9" * 38, True),
        ("9" * 39, False),  # boto3 traps the rounding: poison, from the exact path
        ("1." + "0" * 37, True),
        ("1." + "0" * 38, False),
    ],
)
def test_number_edges(number, one_pass_taken):
    data = b64('{"n": ' + number + "}")
    assert took_one_pass(data) is one_pass_taken
    assert one_pass(data) == exact(data)


def test_clickstream_and_nested_records_all_take_the_one_pass_path(fallbacks):
    from stream_replica.testing.events import clickstream, kinesis_event, nested

    done = []
    for payloads in (clickstream(200), nested(50)):
        for record in kinesis_event(payloads)["Records"]:
            data = record["kinesis"]["data"]
            seq = record["kinesis"]["sequenceNumber"]
            done.append((data, seq, records.record_item_json(data, seq, SHARD)))
    assert fallbacks == []
    for data, seq, text in done:
        assert json.loads(text) == records.record_item_reference(data, seq, SHARD)


@pytest.mark.parametrize(
    "text",
    [
        '{"a": 1, "a": 2, "b": "x"}',  # duplicate names: the last value, the first place
        '{"sequenceNumber": "mine", "x": 1}',  # a key attribute's name: the key wins
        '{"": 1}',
        '{"": null, "x": 1}',  # dropped before the empty-name check
        '{"x": "", "y": null, "z": [null, ""], "w": {"v": null}}',
        '{"unicode": "caf\\u00e9 \u2028 \U0001f600", "k\u00e9y": {"\u00e9": "\u00e9"}}',
        '{"t": true, "f": false, "n": null, "e": [], "m": {}}',
        '{"bad": NaN}',
        "[1, 2]",
        "not json",
    ],
)
def test_unusual_payloads_keep_the_exact_paths_answer(text):
    assert one_pass(b64(text)) == exact(b64(text))


@pytest.mark.parametrize("data", ["not base64!", b64(b"\xff\xfe"), b64("{")])
def test_undecodable_records_keep_their_poison_reason(data):
    assert one_pass(data) == exact(data)
    assert one_pass(data)[0] == "poison"


@pytest.mark.parametrize("extra", [-1, 0, 1])
def test_items_at_the_one_pass_bound_and_at_400_kb(extra, fallbacks):
    """The one-pass path takes raw text of n bytes while 2·n + the key attributes ≤ 400 KB;
    beyond, the exact path measures the item (and refuses it one byte over 400 KB)."""
    largest = (LIMIT - _keys_size()) // 2
    text = '{"k":"' + "x" * (largest - 8 + extra) + '"}'
    assert one_pass(b64(text)) == exact(b64(text))
    assert bool(fallbacks) is (extra > 0)
    value_len = LIMIT - _keys_size() - len("k") + extra
    at_limit = b64('{"k":"' + "x" * value_len + '"}')
    assert one_pass(at_limit) == exact(at_limit)
    assert one_pass(at_limit)[0] == ("poison" if extra > 0 else "item")


# --------------------------------------------------------------------------- typed items as text


def _botocore_item_text(typed: dict[str, Any]) -> dict[str, Any]:
    """What botocore's own serialiser writes for ``typed`` in a BatchWriteItem body."""
    client = botocore.session.Session().create_client(
        "dynamodb", region_name="eu-west-1", aws_access_key_id="x", aws_secret_access_key="y"
    )
    model = client.meta.service_model.operation_model("BatchWriteItem")
    request = client._serializer.serialize_to_request(
        {"RequestItems": {"t": [{"PutRequest": {"Item": typed}}]}}, model
    )
    return json.loads(request["body"])["RequestItems"]["t"][0]["PutRequest"]["Item"]


def test_typed_item_json_is_botocores_serialisation():
    serializer = TypeSerializer()
    item = {
        "s": "caf\u00e9",
        "n": Decimal("1.50"),
        "b": Binary(b"\x00\xff"),
        "raw": b"bytes",
        "ss": {"a", "b"},
        "ns": {Decimal(1), Decimal("2.5")},
        "bs": {Binary(b"x")},
        "m": {"l": [None, True, Decimal("-0")]},
    }
    typed = {k: serializer.serialize(v) for k, v in item.items()}
    assert json.loads(item_json.typed_item_json(typed)) == _botocore_item_text(typed)


# --------------------------------------------------------------------------- the body sent


def _client(capture: CapturedBatchWrites, encoded: bool) -> Any:
    client = botocore.session.Session().create_client(
        "dynamodb",
        region_name="eu-west-1",
        aws_access_key_id="AKIDEXAMPLE",
        aws_secret_access_key="secret",
    )
    client.meta.events.register("before-send.dynamodb.BatchWriteItem", capture)
    return write_requests.install(client) if encoded else client


def _requests(payloads: list[dict[str, Any]]) -> tuple[list[Any], list[Any]]:
    """(PutRequests from the one-pass texts, the same requests as typed items)."""
    encoded, typed = [], []
    for i, payload in enumerate(payloads):
        seq = f"{SEQ[:-3]}{i:03d}"
        data = b64(json.dumps(payload))
        key = write_requests.key_attributes(
            records.HASH_KEY, records.partition_key(seq, SHARD), records.RANGE_KEY, seq
        )
        encoded.append(write_requests.PutRequest(key, records.record_item_json(data, seq, SHARD)))
        typed.append({"PutRequest": {"Item": records.record_item_reference(data, seq, SHARD)}})
    return encoded, typed


def test_the_body_botocore_sends_carries_the_same_items_signed(monkeypatch):
    import datetime

    import botocore.auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    from stream_replica.testing.events import clickstream

    now = datetime.datetime(2026, 11, 29, 12, 0, tzinfo=datetime.UTC)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: now)
    encoded, typed = _requests(clickstream(25))
    ours, theirs = CapturedBatchWrites(), CapturedBatchWrites()
    _client(ours, encoded=True).batch_write_item(RequestItems={"table": encoded})
    _client(theirs, encoded=False).batch_write_item(RequestItems={"table": typed})
    (sent,), (expected,) = ours.requests, theirs.requests
    assert json.loads(sent.body) == json.loads(expected.body)
    assert sent.headers["X-Amz-Target"] == b"DynamoDB_20120810.BatchWriteItem"
    assert str(sent.headers["Content-Length"]) == str(len(sent.body))
    # SigV4 covers the payload: signing our body afresh gives the signature that was sent.
    unsigned = {k: _text(sent.headers[k]) for k in ("Content-Type", "X-Amz-Target")}
    again = AWSRequest(method="POST", url=sent.url, headers=unsigned, data=sent.body)
    auth = botocore.auth.SigV4Auth(Credentials("AKIDEXAMPLE", "secret"), "dynamodb", "eu-west-1")
    auth.add_auth(again)
    assert again.headers["Authorization"] == _text(sent.headers["Authorization"])
    placeholder = AWSRequest(method="POST", url=sent.url, headers=unsigned, data=b"{}")
    auth.add_auth(placeholder)
    assert placeholder.headers["Authorization"] != again.headers["Authorization"]


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def test_a_hook_that_adds_its_own_request_gets_full_items_serialised_by_botocore():
    from stream_replica.testing.events import clickstream

    encoded, typed = _requests(clickstream(3))
    capture = CapturedBatchWrites()
    client = _client(capture, encoded=True)
    key = {"seqNumbershardIdHash": {"S": "h"}, "sequenceNumber": {"S": "r"}}
    extra = {"PutRequest": {"Item": key}}

    def add_one(params: dict[str, Any], **_: Any) -> None:
        params["RequestItems"]["table"] = [*params["RequestItems"]["table"], extra]

    client.meta.events.register("before-parameter-build.dynamodb.BatchWriteItem", add_one)
    client.batch_write_item(RequestItems={"table": encoded})
    body = json.loads(capture.requests[0].body)
    assert body == {"RequestItems": {"table": [*typed, extra]}}


def test_put_requests_expose_their_key_to_hooks_and_unprocessed_items():
    encoded, typed = _requests([{"a": 1}])
    item = typed[0]["PutRequest"]["Item"]
    assert encoded[0]["PutRequest"]["Item"] == {
        records.HASH_KEY: item[records.HASH_KEY],
        records.RANGE_KEY: item[records.RANGE_KEY],
    }
    assert encoded[0].typed() == typed[0]


def test_the_one_pass_writer_uses_dynamodbs_nesting_limit():
    assert item_json.MAX_NESTING_DEPTH == records.MAX_NESTING_DEPTH


@pytest.mark.parametrize(("levels", "one_pass_taken"), [(32, True), (33, False)])
def test_nesting_is_counted_by_the_one_pass_writer(levels, one_pass_taken):
    """Many brackets side by side are not depth: a list of 50 maps takes the one-pass path."""
    deep = b64('{"a":' + "[" * levels + "0" + "]" * levels + "}")
    assert took_one_pass(deep) is one_pass_taken
    assert one_pass(deep) == exact(deep)
    wide = b64('{"a":[' + ",".join(['{"b":[1]}'] * 50) + "]}")
    assert took_one_pass(wide)
    assert one_pass(wide) == exact(wide)
