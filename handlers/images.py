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


def image_to_object(image: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """A DynamoDB image (typed attribute values) as Python values via TypeDeserializer."""
    return {name: _DESERIALIZER.deserialize(value) for name, value in image.items()}


def image_to_json_line(
    image: Mapping[str, Mapping[str, Any]], extra: Mapping[str, Any] | None = None
) -> bytes:
    """One ``\\n``-terminated UTF-8 JSON line for an image (plus ``extra`` attributes).

    Raises :class:`PoisonRecordError` when the line is over Firehose's 1,000 KiB record limit.
    """
    try:
        obj = image_to_object(image)
    except (TypeError, ValueError, DecimalException, binascii.Error) as exc:
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
    except TypeError as exc:  # only a transform can put a non-JSON value here
        raise PoisonRecordError(str(exc)) from None
    if len(line) > MAX_FIREHOSE_RECORD_BYTES:
        raise PoisonRecordError(
            f"JSON line is {len(line)} bytes, over Firehose's {MAX_FIREHOSE_RECORD_BYTES}-byte "
            "(1,000 KiB) record limit"
        )
    return line
