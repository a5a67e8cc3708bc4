"""The archiver's one-pass line writer (``images.image_to_json_line``) writes byte for byte the
exact path's line (``images.image_to_json_line_reference``: TypeDeserializer, then the exact JSON
text), and refuses the same images with the same reasons."""

from __future__ import annotations

import base64
from decimal import Decimal
from typing import Any

import pytest
from boto3.dynamodb.types import Binary, TypeSerializer
from hypothesis import assume, event, given, settings
from hypothesis import strategies as st
from stream_replica.handlers import images
from stream_replica.handlers.exceptions import PoisonRecordError

_SERIALIZER = TypeSerializer()


def line(image: Any, extra: Any = None) -> tuple[str, Any]:
    try:
        return "line", images.image_to_json_line(image, extra)
    except PoisonRecordError as exc:
        return "poison", exc.reason


def reference(image: Any, extra: Any = None) -> tuple[str, Any]:
    try:
        return "line", images.image_to_json_line_reference(image, extra)
    except PoisonRecordError as exc:
        return "poison", exc.reason


def took_one_pass(image: Any) -> bool:
    try:
        images._one_pass_line(image)
    except Exception:
        return False
    return True


_NUMBERS = st.one_of(
    st.integers(-(10**38) + 1, 10**38 - 1).map(Decimal),
    st.decimals(allow_nan=False, allow_infinity=False, places=4),
    st.decimals(allow_nan=False, allow_infinity=False).filter(
        lambda d: len(d.as_tuple().digits) <= 38 and (not d or -128 <= d.adjusted() <= 125)
    ),
    st.sampled_from([Decimal("-0"), Decimal("0.000"), Decimal("1E+5"), Decimal("12.50")]),
)
_SCALARS = st.one_of(
    st.none(), st.booleans(), st.text(max_size=12), _NUMBERS, st.binary(max_size=8).map(Binary)
)
_SETS = st.one_of(
    st.sets(st.text(max_size=5), min_size=1, max_size=4),
    st.sets(st.integers(-1000, 1000).map(Decimal), min_size=1, max_size=4),
    st.sets(st.binary(max_size=4).map(Binary), min_size=1, max_size=3),
)
_VALUES = st.recursive(
    st.one_of(_SCALARS, _SCALARS, _SCALARS, _SETS),
    lambda children: (
        st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=6), children, max_size=5)
    ),
    max_leaves=25,
)


def _b64(value: Any) -> str:
    return base64.b64encode(value.value if isinstance(value, Binary) else value).decode()


def _lambda_form(typed: Any) -> Any:
    """A typed value as Lambda's event JSON carries it: binary as base64 text."""
    ((kind, inner),) = typed.items()
    if kind == "B":
        return {"B": _b64(inner)}
    if kind == "BS":
        return {"BS": [_b64(b) for b in inner]}
    if kind == "L":
        return {"L": [_lambda_form(v) for v in inner]}
    if kind == "M":
        return {"M": {k: _lambda_form(v) for k, v in inner.items()}}
    return typed


@settings(deadline=None)
@given(st.dictionaries(st.text(max_size=8), _VALUES, max_size=8), st.booleans())
def test_one_pass_line_is_the_exact_line(item, lambda_form):
    try:
        image = {k: _SERIALIZER.serialize(v) for k, v in item.items()}
    except Exception:  # a value DynamoDB could not hold: no such image exists
        assume(False)
    if lambda_form:
        image = {k: _lambda_form(v) for k, v in image.items()}
    assert line(image) == reference(image)
    event("one pass" if took_one_pass(image) else "exact path")


_TYPED_JUNK = st.recursive(
    st.one_of(
        st.dictionaries(
            st.sampled_from(["S", "N", "BOOL", "NULL", "B", "s", "X", "SS", "NS"]),
            st.one_of(
                st.text(max_size=6),
                st.sampled_from(["1", "01", "1.", ".5", "1e5", "-0", "1.2.3", "nan", "\uff11"]),
                st.booleans(),
                st.none(),
                st.integers(),
            ),
            max_size=2,
        ),
    ),
    lambda children: st.one_of(
        st.builds(lambda v: {"L": v}, st.lists(children, max_size=3)),
        st.builds(lambda v: {"M": v}, st.dictionaries(st.text(max_size=3), children, max_size=3)),
        st.builds(lambda v: {"M": v}, st.lists(children, max_size=2)),
    ),
    max_leaves=8,
)


@settings(deadline=None)
@given(st.dictionaries(st.text(max_size=4), _TYPED_JUNK, max_size=4))
def test_malformed_images_get_the_exact_paths_reason(image):
    assert line(image) == reference(image)


@pytest.mark.parametrize(
    ("number", "text"),
    [
        ("12.50", "12.5"),
        ("-0", "-0"),
        ("-0.0", "-0"),
        ("100.00", "100"),
        ("0.000001", "0.000001"),
        ("1E+5", "100000"),
        ("9" * 38, "9" * 38),
    ],
)
def test_number_text_is_exact(number, text):
    assert images.image_to_json_line({"n": {"N": number}}) == b'{"n":' + text.encode() + b"}\n"


def test_clickstream_images_take_the_one_pass_path():
    from stream_replica.testing.events import clickstream, dynamodb_stream_event, nested

    for payloads in (clickstream(100), nested(30)):
        for record in dynamodb_stream_event(payloads)["Records"]:
            image = record["dynamodb"]["NewImage"]
            assert took_one_pass(image)
            assert images.image_to_json_line(image) == images.image_to_json_line_reference(image)


def test_lone_surrogates_and_oversized_lines_keep_their_reasons():
    assert line({"s": {"S": "\ud800"}}) == reference({"s": {"S": "\ud800"}})
    assert line({"s": {"S": "\ud800"}})[0] == "poison"
    big = {"s": {"S": "x" * images.MAX_FIREHOSE_RECORD_BYTES}}
    assert line(big) == reference(big)
    assert line(big)[0] == "poison"


def test_extra_attributes_take_the_exact_path():
    keys = {"k": {"S": "a"}, "_deleted": {"S": "payload's own"}}
    assert line(keys, {"_deleted": True}) == ("line", b'{"k":"a","_deleted":true}\n')


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ({"S": 0}, "image attribute u: S holds a int, not text"),
        ({"S": None}, "image attribute u: S holds a NoneType, not text"),
        ({"BOOL": "yes"}, "image attribute u: BOOL holds a str, not a boolean"),
        ({"L": {}}, "image attribute u: L holds a dict, not a list"),
        ({"SS": []}, "image attribute u: SS is an empty set"),
        ({"M": {"a": {"L": [{"N": "abc"}]}}}, "image attribute u.a[0]: N is not a number"),
        ({"N": "secret-1234"}, "image attribute u: N is not a number"),
        ({"NS": ["1", 2]}, "image attribute u[1]: NS holds a int, not a number's text"),
        ({"X": "1"}, "image attribute u: unknown DynamoDB type 'X'"),
    ],
)
def test_a_value_of_the_wrong_shape_is_poison_naming_where(value, says):
    """What TypeDeserializer would let through with its type changed ({"S": 0} → 0) is poison,
    on both paths, with the attribute path and without the value."""
    image = {"id": {"S": "x"}, "u": value}
    outcome, reason = reference(image)
    assert outcome == "poison"
    assert line(image) == (outcome, reason)
    assert reason.startswith("image is not valid DynamoDB JSON: " + says), reason
    assert "secret" not in reason and "abc" not in reason
