"""DynamoDB stream images (``NewImage``) as exact JSON lines for the archive.

No AWS calls, no clients, no environment.
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Mapping
from decimal import Decimal, DecimalException
from json.encoder import encode_basestring
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer

from .exceptions import PoisonRecordError

#: Firehose: a record is at most 1,000 KiB.
MAX_FIREHOSE_RECORD_BYTES = 1000 * 1024


def new_image(record: Mapping[str, Any]) -> dict[str, Any]:
    """The ``NewImage`` of an INSERT or MODIFY DynamoDB stream record (Lambda's event format).
    Raises :class:`PoisonRecordError` for another ``eventName`` or a record without one (the
    table's stream view type must then be NEW_IMAGE or NEW_AND_OLD_IMAGES)."""
    name = record.get("eventName")
    if name not in ("INSERT", "MODIFY"):
        raise PoisonRecordError(f"unknown eventName {name!r}")
    image = (record.get("dynamodb") or {}).get("NewImage")
    if image is None:
        raise PoisonRecordError(
            f"{name} record has no NewImage: the table's stream view type must be "
            "NEW_IMAGE or NEW_AND_OLD_IMAGES"
        )
    return image


class StreamImageDeserializer(TypeDeserializer):
    """boto3's TypeDeserializer, also accepting binary as base64 text.

    Lambda delivers DynamoDB stream images as JSON, where ``B``/``BS`` values are base64 strings;
    boto3's stream client delivers bytes. Both become :class:`Binary`.
    """

    def _deserialize_b(self, value: Any) -> Binary:
        if isinstance(value, str):
            value = base64.b64decode(value)
        return Binary(value)


_DESERIALIZER = StreamImageDeserializer()


def _number_text(value: Decimal) -> str:
    """Exact JSON text of a DynamoDB number: never float, no exponent, integers without ".0"."""
    if not value.is_finite():  # TypeDeserializer turns an N that is not a number into NaN
        raise TypeError(f"N value {value} is not a number")
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text


def _set_key(value: Any) -> Any:
    return value.value if isinstance(value, Binary) else value


def _json_text(value: Any) -> str:
    """JSON text of a deserialised DynamoDB value with full fidelity.

    Numbers keep their exact digits, sets become sorted lists, binary becomes base64.
    """
    if isinstance(value, str):
        return encode_basestring(value)
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if isinstance(value, Decimal):
        return _number_text(value)
    if isinstance(value, int | float):  # only from a transform: images hold Decimal
        if isinstance(value, float) and not math.isfinite(value):
            raise TypeError(f"cannot write {value} as JSON")
        return repr(value)
    if isinstance(value, dict):
        return (
            "{"
            + ",".join(encode_basestring(k) + ":" + _json_text(v) for k, v in value.items())
            + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(_json_text(v) for v in value) + "]"
    if isinstance(value, (set, frozenset)):
        return "[" + ",".join(_json_text(v) for v in sorted(value, key=_set_key)) + "]"
    if isinstance(value, Binary):
        return '"' + base64.b64encode(value.value).decode("ascii") + '"'
    raise TypeError(f"cannot write {type(value).__name__} as JSON")


#: What each DynamoDB type's value must be in a stream image as Lambda delivers it (JSON):
#: the Python types, and the words for a reason. ``B``/``BS`` may be bytes from boto3's client.
_SCALAR_TYPES: dict[str, tuple[tuple[type, ...], str]] = {
    "S": ((str,), "text"),
    "N": ((str,), "a number's text"),
    "B": ((str, bytes, bytearray, Binary), "base64 text"),
    "BOOL": ((bool,), "a boolean"),
    "NULL": ((bool,), "true"),
}


def image_problem(image: Any) -> str | None:
    """Why ``image`` is not a valid typed DynamoDB image (``None`` if it is), naming the
    attribute path and the problem, never the value: a type boto3's TypeDeserializer would let
    through with its type changed (``{"S": 0}`` → ``0``, ``{"BOOL": "yes"}``), an ``N`` that is
    not a number, an empty set, an unknown type."""
    if not isinstance(image, Mapping):
        return f"the image is a {type(image).__name__}, not a map of attributes"
    for name, value in image.items():
        found = _value_problem(value, str(name))
        if found:
            return found
    return None


def _value_problem(value: Any, path: str) -> str | None:
    if not isinstance(value, Mapping) or len(value) != 1:
        return f"image attribute {path}: not a single-type attribute value"
    ((kind, inner),) = value.items()
    if kind in _SCALAR_TYPES:
        types, words = _SCALAR_TYPES[kind]
        if not isinstance(inner, types):
            return f"image attribute {path}: {kind} holds a {type(inner).__name__}, not {words}"
        if kind == "N" and not _is_number(inner):
            return f"image attribute {path}: N is not a number"
        return None
    if kind in ("SS", "NS", "BS"):
        if not isinstance(inner, list):
            return f"image attribute {path}: {kind} holds a {type(inner).__name__}, not a list"
        if not inner:
            return f"image attribute {path}: {kind} is an empty set"
        types, words = _SCALAR_TYPES[kind[0]]
        for index, member in enumerate(inner):
            where = f"{path}[{index}]"
            if not isinstance(member, types):
                return (
                    f"image attribute {where}: {kind} holds a {type(member).__name__}, not {words}"
                )
            if kind == "NS" and not _is_number(member):
                return f"image attribute {where}: NS is not a number"
        return None
    if kind == "L":
        if not isinstance(inner, list):
            return f"image attribute {path}: L holds a {type(inner).__name__}, not a list"
        for index, member in enumerate(inner):
            found = _value_problem(member, f"{path}[{index}]")
            if found:
                return found
        return None
    if kind == "M":
        if not isinstance(inner, Mapping):
            return f"image attribute {path}: M holds a {type(inner).__name__}, not a map"
        for key, member in inner.items():
            found = _value_problem(member, f"{path}.{key}")
            if found:
                return found
        return None
    return f"image attribute {path}: unknown DynamoDB type {str(kind)[:8]!r}"


def _is_number(text: Any) -> bool:
    try:
        return Decimal(text).is_finite()
    except DecimalException:
        return False


def image_to_object(image: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A DynamoDB image (typed attribute values) as Python values via TypeDeserializer."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in image.items()}


def image_to_json_line_reference(
    image: Mapping[str, Mapping[str, Any]], extra: Mapping[str, Any] | None = None
) -> bytes:
    """The exact path: TypeDeserializer into Python values, then :func:`_json_text`. The
    reference :func:`image_to_json_line` is tested against and falls back to.

    Raises :class:`PoisonRecordError` when the image is not valid DynamoDB JSON, holds text that
    is not valid Unicode, or the line is over Firehose's 1,000 KiB record limit.
    """
    problem = image_problem(image)
    if problem:
        raise PoisonRecordError(f"image is not valid DynamoDB JSON: {problem}")
    try:
        obj = image_to_object(image)
    except (
        TypeError,
        ValueError,
        DecimalException,
        binascii.Error,
        AttributeError,
        KeyError,
    ) as exc:  # not expected after image_problem; kept so nothing escapes as a crash
        raise PoisonRecordError(f"image is not valid DynamoDB JSON: {exc!r}") from None
    if extra:
        obj.update(extra)
    return object_to_json_line(obj)


def object_to_json_line(obj: Mapping[str, Any]) -> bytes:
    """One ``\\n``-terminated UTF-8 JSON line for a deserialised image (or what a transform made
    of one: plain JSON types, Decimal, sets, :class:`Binary`).

    Raises :class:`PoisonRecordError` when a value cannot be written as JSON or the line is over
    Firehose's 1,000 KiB record limit.
    """
    try:
        line = (_json_text(dict(obj)) + "\n").encode("utf-8")
    except UnicodeEncodeError as exc:  # a lone surrogate: not in real DynamoDB data, but not lost
        raise PoisonRecordError(f"image holds text that is not valid Unicode: {exc}") from None
    except (TypeError, DecimalException) as exc:  # a transform's value; {"N": "x"} (NaN)
        raise PoisonRecordError(f"cannot write the image as JSON: {exc!r}") from None
    if len(line) > MAX_FIREHOSE_RECORD_BYTES:
        raise PoisonRecordError(
            f"JSON line is {len(line)} bytes, over Firehose's {MAX_FIREHOSE_RECORD_BYTES}-byte "
            "(1,000 KiB) record limit"
        )
    return line


class _Unusual(Exception):
    """The one-pass writer leaves this value to the exact path."""


_DIGITS = frozenset("0123456789")
#: More digits than this: TypeDeserializer's context (38 digits) may round or refuse.
_MAX_PLAIN_DIGITS = 38


def _plain_number_text(text: str) -> str:
    """The exact JSON text of a DynamoDB ``N`` whose text is a plain integer or decimal of at
    most 38 digits (``-?(0|[1-9][0-9]*)(\\.[0-9]+)?``): what ``_number_text`` makes of it
    (trailing fractional zeros and a bare point dropped). Anything else: :class:`_Unusual`."""
    body = text[1:] if text[:1] == "-" else text
    whole, point, fraction = body.partition(".")
    if (
        not whole
        or (point and not fraction)
        or len(whole) + len(fraction) > _MAX_PLAIN_DIGITS
        or not _DIGITS.issuperset(whole)
        or not _DIGITS.issuperset(fraction)
        or (whole[0] == "0" and len(whole) > 1)
    ):
        raise _Unusual
    if point:
        return text.rstrip("0").rstrip(".")
    return text


def _value_text(value: Mapping[str, Any]) -> str:
    """JSON text of one typed attribute value (``{"S": …}``, ``{"N": …}``, …) in one pass, as
    :func:`_json_text` writes its deserialised value; sets and anything unusual raise
    :class:`_Unusual`."""
    if type(value) is not dict or len(value) != 1:
        raise _Unusual
    ((kind, inner),) = value.items()
    if kind == "S" and type(inner) is str:
        return encode_basestring(inner)
    if kind == "N" and type(inner) is str:
        return _plain_number_text(inner)
    if kind == "M" and type(inner) is dict:
        return (
            "{"
            + ",".join([encode_basestring(k) + ":" + _value_text(v) for k, v in inner.items()])
            + "}"
        )
    if kind == "L" and type(inner) is list:
        return "[" + ",".join([_value_text(v) for v in inner]) + "]"
    if kind == "BOOL" and type(inner) is bool:
        return "true" if inner else "false"
    if kind == "NULL" and inner is True:
        return "null"
    raise _Unusual


def _one_pass_line(image: Mapping[str, Mapping[str, Any]]) -> bytes:
    if type(image) is not dict:
        raise _Unusual
    text = (
        "{"
        + ",".join([encode_basestring(k) + ":" + _value_text(v) for k, v in image.items()])
        + "}\n"
    )
    line = text.encode("utf-8")
    if len(line) > MAX_FIREHOSE_RECORD_BYTES:
        raise _Unusual
    return line


def image_to_json_line(
    image: Mapping[str, Mapping[str, Any]], extra: Mapping[str, Any] | None = None
) -> bytes:
    """One ``\\n``-terminated UTF-8 JSON line for an image (plus ``extra`` attributes).

    Written in one pass over the typed image (strings, plain numbers, maps, lists, booleans,
    nulls); an image with sets, binary, numbers in other notations or anything unusual, and every
    image with ``extra``, takes the exact path (:func:`image_to_json_line_reference`). The line
    is byte for byte the exact path's. Raises :class:`PoisonRecordError` as the exact path does.
    """
    if not extra:
        try:
            return _one_pass_line(image)
        except (_Unusual, UnicodeEncodeError, RecursionError, AttributeError, TypeError):
            pass
    return image_to_json_line_reference(image, extra)
