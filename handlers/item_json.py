"""DynamoDB JSON as text, written in one pass: the replicator's JSON payloads become the text of
the item that a BatchWriteItem request carries (``{"name":{"S":"…"},"n":{"N":"1.5"},…}``)
without building boto3's typed item tree or handing botocore a tree to serialise again.

No AWS calls, no clients, no environment; standard library only.

The one-pass writer only takes what it can write exactly as boto3's ``TypeSerializer`` would;
anything else raises :class:`Unusual`, and the caller (:func:`.records.record_item_json`) uses the
exact path instead. What it takes:

* numbers whose JSON text is already the ``N`` text ``TypeSerializer`` writes
  (``str(DYNAMODB_CONTEXT.create_decimal(Decimal(text)))``): integers of at most 38 digits, and
  plain decimals (no exponent) of at most 38 digits that ``Decimal.__str__`` does not turn into
  scientific notation (fewer than four zeros right after ``0.``). Decimal keeps the text of such
  numbers digit for digit (``12.50`` stays ``12.50``, ``-0`` stays ``-0``); 38 digits or fewer
  can never round, and their magnitude is far inside DynamoDB's range;
* strings, booleans, null, lists and maps of those, nested less than DynamoDB's 32 levels.

``NaN``/``Infinity`` and anything else the JSON decoder would hand a hook raise :class:`Unusual`
too, so every error is reported by the exact path, with its reason unchanged.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from json.encoder import encode_basestring
from typing import Any

from boto3.dynamodb.types import Binary

#: More digits than this never take the one-pass writer (DynamoDB keeps 38 significant digits;
#: boto3's context traps rounding).
MAX_PLAIN_DIGITS = 38
#: DynamoDB's nesting limit for lists and maps (``records.MAX_NESTING_DEPTH``).
MAX_NESTING_DEPTH = 32


class Unusual(Exception):
    """The one-pass writer cannot decide this value exactly: use the exact path."""


class Number(str):
    """A JSON number's text, already the exact ``N`` text DynamoDB JSON carries."""

    __slots__ = ()


def _integer(text: str) -> Number:
    """``parse_int`` hook: JSON integers have no leading zeros, so ``Decimal`` keeps their text
    (``-0`` included); more than 38 digits would round, which boto3 refuses."""
    if len(text) > MAX_PLAIN_DIGITS and len(text.lstrip("-")) > MAX_PLAIN_DIGITS:
        raise Unusual
    return Number(text)


def _decimal(text: str) -> Number:
    """``parse_float`` hook: plain decimals whose text ``Decimal.__str__`` keeps as it is.

    ``str(Decimal)`` uses plain notation while the adjusted exponent is above -7, i.e. for
    ``0.`` followed by at most five zeros before the first significant digit (and for all-zero
    fractions of up to six digits); the check below is stricter (fewer than four zeros)."""
    if "e" in text or "E" in text:
        raise Unusual
    digits = len(text) - 1 - (text[0] == "-")
    if digits > MAX_PLAIN_DIGITS:
        raise Unusual
    if text.startswith(("0.0000", "-0.0000")):
        raise Unusual
    return Number(text)


def _constant(name: str) -> Any:
    raise Unusual


_DECODER = json.JSONDecoder(parse_int=_integer, parse_float=_decimal, parse_constant=_constant)
#: The decoder's C scanner: ``(value, end)`` of the JSON value at an index (StopIteration when
#: there is none), without ``JSONDecoder.decode``'s Python wrapper.
_SCAN: Callable[[str, int], tuple[Any, int]] = _DECODER.scan_once  # type: ignore[attr-defined]
#: JSON's whitespace (RFC 8259), allowed around the value.
_JSON_WHITESPACE = " \t\n\r"


def decode_object(text: str) -> Any:
    """``text`` decoded with numbers as :class:`Number`; raises :class:`Unusual` for numbers the
    one-pass writer does not take, and a ``ValueError`` for text that is not one JSON value with
    optional whitespace around it (the caller falls back to the exact path, which names the
    error)."""
    start = 0
    if text[:1] in _JSON_WHITESPACE:
        start = len(text) - len(text.lstrip(_JSON_WHITESPACE))
    try:
        value, end = _SCAN(text, start)
    except StopIteration:
        raise ValueError("no JSON value") from None
    if end != len(text) and text[end:].strip(_JSON_WHITESPACE):
        raise ValueError("extra data after the JSON value")
    return value


def value_json(value: Any, depth: int = 0) -> str:
    """The DynamoDB JSON text of one decoded value (``{"S":…}``, ``{"N":"…"}``, ``{"M":{…}}``,
    ``{"L":[…]}``, ``{"BOOL":…}``, ``{"NULL":true}``), as ``TypeSerializer`` would type it.

    ``depth`` is the value's nesting level below a top-level attribute (0 for the attribute's own
    value); a list or map at :data:`MAX_NESTING_DEPTH` or deeper, which DynamoDB refuses, raises
    :class:`Unusual` (the exact path names the problem)."""
    kind = type(value)
    # Maps and lists first: the callers write strings, numbers, booleans and nulls inline.
    if kind is dict:
        if depth >= MAX_NESTING_DEPTH:
            raise Unusual
        depth += 1
        # Strings, numbers, booleans and nulls, most values, are written inline (no call per
        # value).
        return (
            '{"M":{'
            + ",".join(
                [
                    encode_basestring(k)
                    + (
                        ':{"S":' + encode_basestring(v) + "}"
                        if type(v) is str
                        else ':{"N":"' + v + '"}'
                        if type(v) is Number
                        else ':{"BOOL":true}'
                        if v is True
                        else ':{"BOOL":false}'
                        if v is False
                        else ':{"NULL":true}'
                        if v is None
                        else ":" + value_json(v, depth)
                    )
                    for k, v in value.items()
                ]
            )
            + "}}"
        )
    if kind is list:
        if depth >= MAX_NESTING_DEPTH:
            raise Unusual
        depth += 1
        return (
            '{"L":['
            + ",".join(
                [
                    '{"S":' + encode_basestring(v) + "}"
                    if type(v) is str
                    else '{"N":"' + v + '"}'
                    if type(v) is Number
                    else value_json(v, depth)
                    for v in value
                ]
            )
            + "]}"
        )
    if kind is str:
        return '{"S":' + encode_basestring(value) + "}"
    if kind is Number:
        return '{"N":"' + value + '"}'
    if value is True:
        return '{"BOOL":true}'
    if value is False:
        return '{"BOOL":false}'
    if value is None:
        return '{"NULL":true}'
    raise Unusual


def attributes_json(payload: dict[str, Any]) -> list[str]:
    """``"name":<value_json>`` for each top-level attribute of ``payload`` except those whose
    value is null or "" (the seed drops them)."""
    return [
        encode_basestring(name)
        + (
            ':{"S":' + encode_basestring(value) + "}"
            if type(value) is str
            else ':{"N":"' + value + '"}'
            if type(value) is Number
            else ':{"BOOL":true}'
            if value is True
            else ':{"BOOL":false}'
            if value is False
            else ":" + value_json(value)
        )
        for name, value in payload.items()
        if value is not None and value != ""
    ]


def string_attribute_json(name: str, value: str) -> str:
    """``"name":{"S":"value"}``."""
    return encode_basestring(name) + ':{"S":' + encode_basestring(value) + "}"


def integer_attribute_json(name: str, value: int) -> str:
    """``"name":{"N":"value"}`` for an ``int`` of at most :data:`MAX_PLAIN_DIGITS` digits (what
    TypeSerializer writes for it); raises :class:`Unusual` for a longer one (the exact path
    decides)."""
    text = str(value)
    if len(text.lstrip("-")) > MAX_PLAIN_DIGITS:
        raise Unusual
    return encode_basestring(name) + ':{"N":"' + text + '"}'


def _typed_default(value: Any) -> Any:
    if isinstance(value, Binary):
        return base64.b64encode(value.value).decode("ascii")
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, set | frozenset):
        return list(value)
    raise TypeError(f"cannot write {type(value).__name__} as DynamoDB JSON")


def typed_item_json(item: Mapping[str, Any]) -> str:
    """The text of an item already in DynamoDB's typed form (what ``TypeSerializer`` returns),
    exactly as botocore's JSON serialiser would write it (binary as base64, sets as lists)."""
    return json.dumps(item, ensure_ascii=False, separators=(",", ":"), default=_typed_default)
