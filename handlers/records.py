"""A Kinesis record's data as the DynamoDB item the replicator writes: no AWS calls, no clients,
no environment.

* decoding a Kinesis record into a DynamoDB item (the seed's data contract),
* the seed's key formula,
* DynamoDB's limits (item size, nesting depth, number range) as poison checks.

Stream images back to JSON lines are in :mod:`.images`; batching in :mod:`.batches`; the time
budget and backoff in :mod:`.retry`.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterable, Mapping
from decimal import Decimal, DecimalException
from typing import Any

from boto3.dynamodb.types import Binary, TypeSerializer

from . import item_json
from .exceptions import PoisonRecordError

#: Hash key of the table (the seed's name and formula, see :func:`partition_key`).
HASH_KEY = "seqNumbershardIdHash"
#: Range key of the table: the Kinesis sequence number, stored as a string (S).
RANGE_KEY = "sequenceNumber"
#: Attribute holding the Kinesis shard id.
SHARD_KEY = "shardId"
KEY_ATTRIBUTES = (HASH_KEY, RANGE_KEY, SHARD_KEY)
_KEY_NAMES = frozenset(KEY_ATTRIBUTES)

#: DynamoDB's item size limit (400 KB, binary units).
MAX_ITEM_BYTES = 400 * 1024
#: DynamoDB's nesting limit for lists and maps.
MAX_NESTING_DEPTH = 32

_SERIALIZER = TypeSerializer()

__all__ = ["PoisonRecordError"]  # re-exported for callers of the record functions


def partition_key(sequence_number: str, shard_id: str) -> str:
    """The seed's hash key: ``sequenceNumber[-3:-1] + "_" + shardId``.

    Python slicing makes it defined for every length, and it is kept exactly so that items written
    by the seed and by this handler share one key space:

    * 3 or more digits: the two digits before the last one (``"...123"`` -> ``"12_shardId-…"``),
    * 2 digits: the first digit (``"45"`` -> ``"4_shardId-…"``),
    * 1 digit: nothing (``"7"`` -> ``"_shardId-…"``; moto numbers its records ``"1"``, ``"2"``, …).

    Uniqueness never depends on the hash: the range key is the full sequence number.
    """
    return f"{sequence_number[-3:-1]}_{shard_id}"


def shard_id_of(event_id: str) -> str:
    """Shard id of a Kinesis Lambda record: its ``eventID`` is ``"<shardId>:<sequenceNumber>"``."""
    shard, sep, _ = event_id.partition(":")
    if not sep or not shard:
        raise ValueError(f"Kinesis eventID {event_id!r} is not '<shardId>:<sequenceNumber>'")
    return shard


#: Base64 text starts with one of these when the bytes start with ``1F 8B`` (gzip: "H4" and the
#: top two bits of the third byte) or ``F3 89 9A`` (the first three bytes of the KPL magic).
_PACKED_PREFIXES = ("H4s", "H4t", "H4u", "H4v", "84ma")


def may_be_packed(data: str) -> bool:
    """True if base64 ``data`` may hold gzip or a KPL aggregate (a prefix test on the text, so
    plain records pay one ``startswith``). Such data is never a JSON object, so sending it
    through :func:`.pipeline.stage_record` changes nothing for records the plain path accepts."""
    return data.startswith(_PACKED_PREFIXES)


def _reject_constant(name: str) -> Any:
    raise PoisonRecordError(f"JSON contains {name}, which DynamoDB cannot store")


#: DynamoDB's number range as ``Decimal.adjusted()`` exponents: 1E-130 to 9.9…9E+125.
MIN_NUMBER_EXPONENT = -130
MAX_NUMBER_EXPONENT = 125
#: DynamoDB's number precision: up to 38 significant digits.
MAX_NUMBER_DIGITS = 38
#: ``\uD800``-``\uDFFF`` escapes: the only way JSON text can make a (possibly lone) surrogate.
_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")


class _OutOfRange(Exception):
    """Raised inside ``json.loads`` by :func:`_in_range_decimal`: decode again the plain way."""


def _in_range_decimal(text: str) -> Decimal:
    """``parse_float``/``parse_int`` of the fast path: the same Decimal, but a number outside
    DynamoDB's range stops the decode (the record is then decoded again and walked exactly)."""
    number = Decimal(text)
    if number and not MIN_NUMBER_EXPONENT <= number.adjusted() <= MAX_NUMBER_EXPONENT:
        raise _OutOfRange
    return number


def _loads(text: str, number: Callable[[str], Decimal]) -> Any:
    """``json.loads`` with every number parsed by ``number``; errors become poison reasons."""
    try:
        return json.loads(
            text, parse_float=number, parse_int=number, parse_constant=_reject_constant
        )
    except json.JSONDecodeError as exc:
        raise PoisonRecordError(f"data is not JSON: {exc}") from None
    except RecursionError:
        raise PoisonRecordError("data is JSON nested too deeply to parse") from None


def decode_payload_and_bound(data: str) -> tuple[dict[str, Any], int | None]:
    """:func:`decode_payload`, plus what the raw JSON text proves about the item: an upper bound
    on :func:`item_size` of the payload's attributes, or ``None`` when :func:`check_item` must
    walk the item exactly. The bound is only given when the text also rules out every other check
    the walk makes, so that ``bound + <exact size of the key attributes> <= 400 KB`` means the
    walk would accept the item:

    * **Size ≤ 2·n** for JSON text of n UTF-8 bytes (S = DynamoDB size, T = bytes of text):
      a string is S ≤ T - 2 (the quotes; every escape decodes to fewer UTF-8 bytes than it
      takes: ``\\n`` 2 → 1, ``\\uXXXX`` 6 → ≤ 3, a surrogate pair 12 → 4); a number of T ≥ 1
      characters has at most T digits, so S = (significant + 1) // 2 + 1 ≤ T + 1 ≤ 2·T, whatever
      the notation (``1e5``, ``-0.0001``); ``true``/``false``/``null`` are S = 1 < T = 4; a list
      of k ≥ 1 elements is S = 3 + k + ΣS(e) against 2·T ≥ 2·(2 + (k-1) + ΣT(e)) = 2 + 2k + 2ΣT(e),
      and ``[]`` is 3 ≤ 4; a map of k ≥ 1 entries is S = 3 + Σ(len(key) + 1 + S(v)) with
      len(key) ≤ T(key) - 2, against 2·T ≥ 2 + 2k + Σ(2·T(key) + 2 + 2·T(v)) (braces, colons
      and commas), and ``{}`` is 3 ≤ 4; the top-level object's attributes are Σ(len(name) + S(v)) ≤
      2·n. Whitespace only adds to T; the top-level null and "" attributes that
      :func:`build_item` drops, and payload attributes a key attribute replaces, only shrink it.
    * **Depth:** the walk refuses a list or map 32 levels below a top-level attribute, which
      takes 33 nested lists/maps inside the outer object, so at least 34 ``[``/``{`` bytes in the
      text. With at most 33 (counting those inside strings too) depth cannot fail.
    * **Number range:** every number is checked as it is parsed (:func:`_in_range_decimal`,
      exactly the walk's range test on the same Decimal); one outside the range aborts the fast
      decode and the text is decoded again the plain way, with no bound.
    * **Lone surrogates:** Python's UTF-8 decoder rejects encoded surrogates, so only a
      ``\\uD800``-``\\uDFFF`` escape can put one in the payload; if the text has one, no bound.
    * **Empty sets:** JSON has no sets, so the payload has none.
    """
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise PoisonRecordError(f"data is not base64: {exc}") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PoisonRecordError(f"data is not UTF-8: {exc}") from None
    bound: int | None = None
    try:
        payload = _loads(text, _in_range_decimal)
    except _OutOfRange:
        payload = _loads(text, Decimal)
    else:
        if raw.count(b"[") + raw.count(b"{") <= MAX_NESTING_DEPTH + 1 and not (
            b"\\u" in raw and _SURROGATE_ESCAPE.search(raw)
        ):
            bound = 2 * len(raw)
    if not isinstance(payload, dict):
        raise PoisonRecordError(f"data is JSON {type(payload).__name__}, not an object")
    return payload, bound


def decode_payload(data: str) -> dict[str, Any]:
    """Decode a Kinesis record's ``data`` (base64 of a UTF-8 JSON object).

    Numbers become :class:`~decimal.Decimal` (never float, so no precision is lost and no float
    can fail the write). Raises :class:`PoisonRecordError` naming what is wrong.
    """
    return decode_payload_and_bound(data)[0]


def build_item(
    payload: Mapping[str, Any],
    sequence_number: str,
    shard_id: str,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The item for a payload: top-level null and "" attributes dropped (as in the seed), then
    the ``extra`` attributes (e.g. the TTL expiry) and the three key attributes, which win over
    payload attributes of the same name."""
    item = {k: v for k, v in payload.items() if v is not None and v != ""}
    if extra:
        item.update(extra)
    item[RANGE_KEY] = sequence_number
    item[SHARD_KEY] = shard_id
    item[HASH_KEY] = partition_key(sequence_number, shard_id)
    return item


def _number_size(text: str) -> int:
    """Approximate stored size of a DynamoDB number (1 byte per two significant digits, plus 1),
    after checking DynamoDB's range: a magnitude from 1E-130 to 9.9…9E+125, or zero (boto3's
    serialiser lets 1E+126 and subnormals like 1E-131 through; DynamoDB does not). The error
    describes the number without its digits; :func:`check_item` adds where it is."""
    if "E" not in text and len(text) <= 120:
        # Plain notation this short is always within range (|exponent| < 120): count digits.
        significant = len(text.replace("-", "").replace(".", "").strip("0")) or 1
        return (significant + 1) // 2 + 1
    number = Decimal(text)
    problem = number_problem(number, digits=False)
    if problem:
        raise PoisonRecordError(f"number {problem}")
    significant = len("".join(map(str, number.as_tuple().digits)).strip("0")) or 1
    return (significant + 1) // 2 + 1


def number_problem(number: Decimal, digits: bool = True) -> str | None:
    """Why DynamoDB cannot store ``number`` (``None`` if it can), in words that hold none of its
    digits: poison reasons are logged, and a number can be personal data (a card, a phone).
    ``digits=False`` checks the range only (for text TypeSerializer already rounded to 38)."""
    if not number.is_finite():
        return "is not a finite number (NaN or Infinity)"
    if not number:
        return None
    exponent = number.adjusted()
    if not MIN_NUMBER_EXPONENT <= exponent <= MAX_NUMBER_EXPONENT:
        return (
            f"is outside DynamoDB's range: its magnitude is 1E{exponent:+d}, DynamoDB stores "
            "1E-130 to 9.9…9E+125"
        )
    significant = len("".join(map(str, number.as_tuple().digits)).strip("0"))
    if digits and significant > MAX_NUMBER_DIGITS:
        return (
            f"is outside DynamoDB's range: it has {significant} significant digits, DynamoDB "
            f"stores at most {MAX_NUMBER_DIGITS}"
        )
    return None


def attribute_value_size(value: Mapping[str, Any], depth: int = 0) -> int:
    """Size in bytes of one serialised attribute value under DynamoDB's published rules
    (names are counted by the caller). Raises :class:`PoisonRecordError` past 32 levels."""
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        return _number_size(inner)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "B":
        return len(inner.value if isinstance(inner, Binary) else inner)
    if kind in ("SS", "NS", "BS") and not inner:
        raise PoisonRecordError("an empty set, which DynamoDB cannot store")
    if kind == "SS":
        return sum(len(s.encode("utf-8")) for s in inner)
    if kind == "NS":
        return sum(_number_size(n) for n in inner)
    if kind == "BS":
        return sum(len(b.value if isinstance(b, Binary) else b) for b in inner)
    if depth >= MAX_NESTING_DEPTH:
        raise PoisonRecordError(f"nesting deeper than DynamoDB's {MAX_NESTING_DEPTH} levels")
    if kind == "L":
        return 3 + sum(1 + attribute_value_size(v, depth + 1) for v in inner)
    if kind == "M":
        return 3 + sum(
            len(k.encode("utf-8")) + 1 + attribute_value_size(v, depth + 1)
            for k, v in inner.items()
        )
    raise PoisonRecordError(f"unknown DynamoDB type {kind!r}")


def item_size(serialised: Mapping[str, Mapping[str, Any]]) -> int:
    """Size in bytes of a serialised item (attribute names plus values)."""
    return sum(len(k.encode("utf-8")) + attribute_value_size(v) for k, v in serialised.items())


def _storable(value: Any) -> bool:
    return value is None or isinstance(value, str | bool | int | bytes | bytearray | Binary)


def describe_unstorable(value: Any, path: str) -> str | None:
    """Where under ``value`` (at attribute path ``path``) a Python value is that boto3's
    TypeSerializer or DynamoDB refuses, and why, without any part of the value: a number out of
    range or precision, a type DynamoDB has no type for (a float, a date). ``None`` if none."""
    if isinstance(value, Decimal):
        problem = number_problem(value)
        return f"number at {path} {problem}" if problem else None
    if _storable(value):
        return None
    if isinstance(value, Mapping):
        children: Iterable[tuple[str, Any]] = ((f"{path}.{k}", v) for k, v in value.items())
    elif isinstance(value, list | tuple | set | frozenset):
        children = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    else:
        return (
            f"attribute {path} holds a {type(value).__name__}, which DynamoDB cannot store "
            "(numbers must be Decimal or int; text str; binary bytes)"
        )
    for child_path, child in children:
        found = describe_unstorable(child, child_path)
        if found:
            return found
    return None


def _serialised_problem(value: Mapping[str, Any], path: str) -> str | None:
    """Where under a serialised attribute value a number is out of DynamoDB's range or a text
    holds a lone surrogate, and why, without any part of the value."""
    ((kind, inner),) = value.items()
    if kind == "N" or kind == "NS":
        for index, text in enumerate([inner] if kind == "N" else inner):
            problem = number_problem(Decimal(text))
            if problem:
                return f"number at {path if kind == 'N' else f'{path}[{index}]'} {problem}"
        return None
    if kind == "S" or kind == "SS":
        for index, text in enumerate([inner] if kind == "S" else inner):
            if not _encodes(text):
                where = path if kind == "S" else f"{path}[{index}]"
                return f"text is not valid Unicode (a lone surrogate) at {where}"
        return None
    if kind == "L":
        for index, child in enumerate(inner):
            found = _serialised_problem(child, f"{path}[{index}]")
            if found:
                return found
    if kind == "M":
        for name, child in inner.items():
            if not _encodes(name):
                return f"text is not valid Unicode (a lone surrogate) in a map key at {path}"
            found = _serialised_problem(child, f"{path}.{name}")
            if found:
                return found
    return None


def _encodes(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _locate(serialised: Mapping[str, Mapping[str, Any]], exc: Exception) -> str:
    """The reason for an item :func:`item_size` refused with ``exc``, with the attribute path
    and without any part of a value."""
    for name, value in serialised.items():
        if not _encodes(name):
            return "text is not valid Unicode (a lone surrogate) in an attribute name"
        found = _serialised_problem(value, name)
        if found:
            return found
        try:
            attribute_value_size(value)
        except PoisonRecordError as inner:
            return f"attribute {name!r}: {inner.reason}"
    if isinstance(exc, PoisonRecordError):
        return exc.reason
    return "text is not valid Unicode (a lone surrogate)"


def check_item(
    serialised: Mapping[str, Mapping[str, Any]], payload_size_bound: int | None = None
) -> None:
    """Check a serialised item against DynamoDB's limits (numbers, nesting, empty sets, lone
    surrogates, 400 KB); raises :class:`PoisonRecordError` with the reason.

    ``payload_size_bound`` (from :func:`decode_payload_and_bound`, for the payload the item was
    built from) is the fast path: when it plus the exact size of the key attributes is within
    400 KB, the walk over the payload's attributes is skipped, as it could neither fail nor find
    the item too big. Otherwise, or without a bound, :func:`item_size` walks the whole item.
    """
    try:
        if payload_size_bound is not None:
            keys = sum(
                len(k.encode("utf-8")) + attribute_value_size(v)
                for k, v in serialised.items()
                if k in _KEY_NAMES
            )
            if payload_size_bound + keys <= MAX_ITEM_BYTES:
                return
        size = item_size(serialised)
    except (UnicodeEncodeError, PoisonRecordError) as exc:
        raise PoisonRecordError(_locate(serialised, exc)) from None
    if size > MAX_ITEM_BYTES:
        raise PoisonRecordError(
            f"item is {size} bytes, over DynamoDB's {MAX_ITEM_BYTES}-byte (400 KB) item limit"
        )


def serialise_item(
    item: Mapping[str, Any], payload_size_bound: int | None = None
) -> dict[str, dict[str, Any]]:
    """Serialise an item with boto3's TypeSerializer and check it against DynamoDB's limits
    (names, numbers, nesting, 400 KB; see :func:`check_item` for ``payload_size_bound``).
    Raises :class:`PoisonRecordError` with the reason."""
    serialised: dict[str, dict[str, Any]] = {}
    for name, value in item.items():
        if not name:
            raise PoisonRecordError("an attribute name is empty; DynamoDB needs at least 1 char")
        try:
            serialised[name] = _SERIALIZER.serialize(value)
        except (TypeError, DecimalException) as exc:
            reason = describe_unstorable(value, name) or (
                f"attribute {name!r} cannot be serialised ({type(exc).__name__})"
            )
            raise PoisonRecordError(reason) from None
        except RecursionError:
            raise PoisonRecordError(f"attribute {name!r} is nested too deeply") from None
    check_item(serialised, payload_size_bound)
    return serialised


def _extra_size(extra: Mapping[str, Any]) -> int:
    """The exact DynamoDB size of the ``extra`` attributes (names and serialised values); 0 when
    a value does not serialise (:func:`serialise_item` then refuses it with the reason)."""
    try:
        return sum(
            len(name.encode("utf-8")) + attribute_value_size(_SERIALIZER.serialize(value))
            for name, value in extra.items()
        )
    except (TypeError, DecimalException):
        return 0


def record_item_reference(
    data: str, sequence_number: str, shard_id: str, extra: Mapping[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """The exact path: :func:`decode_payload_and_bound`, :func:`build_item` (with the ``extra``
    attributes, e.g. the TTL expiry) and :func:`serialise_item` (boto3's TypeSerializer, then the
    limits check with the size bound's fast path; the extra attributes' exact size is added to
    the payload's bound, so the 400 KB check counts them). The reference the one-pass path
    (:func:`record_item_json`) is tested against and falls back to; raises
    :class:`PoisonRecordError` with the reason."""
    payload, bound = decode_payload_and_bound(data)
    if extra and bound is not None:
        bound += _extra_size(extra)
    return serialise_item(build_item(payload, sequence_number, shard_id, extra), bound)


#: Integers below this in magnitude (at most 38 digits) are ``extra`` values the one-pass path
#: writes.
_PLAIN_INTEGER_LIMIT = 10**item_json.MAX_PLAIN_DIGITS
#: UTF-8 bytes of the three key attributes' names (their values are counted per record).
_KEY_NAME_BYTES = sum(len(name.encode("utf-8")) for name in KEY_ATTRIBUTES)

#: What a one-pass redaction does to a record decoded by :func:`.item_json.decode_object`: it
#: changes the record in place and returns an upper bound on the bytes the item grew by
#: (:func:`.redaction.redact_one_pass`).
OnePassRedaction = Callable[[dict[str, Any]], int]


def one_pass_item_json(
    raw: bytes,
    sequence_number: str,
    shard_id: str,
    extra: Mapping[str, int] | None = None,
    range_key: str | None = None,
    redaction: OnePassRedaction | None = None,
) -> str:
    """The item's DynamoDB JSON text in one pass from the record's bytes (UTF-8 JSON), or
    :class:`item_json.Unusual` (or any error) when the exact path must decide.

    Equal to the exact path's item (:func:`record_item_reference`; with ``range_key`` and
    ``redaction``, the staged path's, :func:`.pipeline.stage_record_reference`) because it only
    writes what :mod:`.item_json` writes exactly (numbers it proves in range, nesting it
    counts), under the size conditions of :func:`decode_payload_and_bound`'s bound (no
    surrogate escapes, ``2·n`` + the key attributes + what ``redaction`` may add within
    400 KB), for an object with, after ``redaction``, no empty attribute name and no attribute
    named like a key or like an ``extra`` attribute (integers, e.g. the TTL expiry or a KPL
    sub-sequence number, whose exact size joins the key attributes' in the size condition).

    ``range_key`` (default: ``sequence_number``) is the range key's value; the hash key is always
    :func:`partition_key` of ``sequence_number``. ``redaction`` drops and pseudonymises fields of
    the decoded record before the item is written, as :func:`.redaction.redact` does before
    :func:`build_item`."""
    if b"\\u" in raw and _SURROGATE_ESCAPE.search(raw):
        raise item_json.Unusual
    if range_key is None:
        range_key = sequence_number
    hash_key = partition_key(sequence_number, shard_id)
    bound = (
        2 * len(raw)
        + _KEY_NAME_BYTES
        + len(range_key.encode("utf-8"))
        + len(shard_id.encode("utf-8"))
        + len(hash_key.encode("utf-8"))
    )
    if extra:
        if not _KEY_NAMES.isdisjoint(extra) or any(
            type(v) is not int or abs(v) >= _PLAIN_INTEGER_LIMIT for v in extra.values()
        ):
            raise item_json.Unusual
        bound += _extra_size(extra)
    if bound > MAX_ITEM_BYTES:
        raise item_json.Unusual
    payload = item_json.decode_object(raw.decode("utf-8"))
    if type(payload) is not dict:
        raise item_json.Unusual
    if redaction is not None:
        bound += redaction(payload)
        if bound > MAX_ITEM_BYTES:
            raise item_json.Unusual
    if "" in payload or HASH_KEY in payload or RANGE_KEY in payload or SHARD_KEY in payload:
        raise item_json.Unusual
    parts = item_json.attributes_json(payload)
    if extra:
        if not extra.keys().isdisjoint(payload):
            raise item_json.Unusual
        parts += [item_json.integer_attribute_json(k, v) for k, v in extra.items()]
    parts.append(item_json.string_attribute_json(RANGE_KEY, range_key))
    parts.append(item_json.string_attribute_json(SHARD_KEY, shard_id))
    parts.append(item_json.string_attribute_json(HASH_KEY, hash_key))
    return "{" + ",".join(parts) + "}"


def _one_pass_item_json(
    data: str, sequence_number: str, shard_id: str, extra: Mapping[str, int] | None = None
) -> str:
    """:func:`one_pass_item_json` of a Kinesis record's base64 ``data``."""
    # base64.b64decode(data, validate=True) without its Python wrapper
    return one_pass_item_json(
        binascii.a2b_base64(data, strict_mode=True), sequence_number, shard_id, extra
    )


def record_item_json(
    data: str, sequence_number: str, shard_id: str, extra: Mapping[str, Any] | None = None
) -> str:
    """A Kinesis record's ``data`` as the DynamoDB JSON text of the item the replicator writes
    (``{"name":{"S":"…"},…}``, what BatchWriteItem's ``PutRequest.Item`` carries): the one-pass
    path for plain records, the exact path (:func:`record_item_reference`) for anything unusual.
    Parsed, the text equals the exact path's item; a record the exact path refuses raises the
    same :class:`PoisonRecordError`. ``extra`` attributes (e.g. the TTL expiry) are added as
    :func:`build_item` adds them."""
    try:
        # _one_pass_item_json inlined (one call less per record)
        return one_pass_item_json(
            binascii.a2b_base64(data, strict_mode=True), sequence_number, shard_id, extra
        )
    except (item_json.Unusual, ValueError, TypeError, RecursionError):
        # binascii.Error, JSONDecodeError and UnicodeError are ValueErrors
        pass
    return item_json.typed_item_json(record_item_reference(data, sequence_number, shard_id, extra))


def record_item(
    data: str, sequence_number: str, shard_id: str, extra: Mapping[str, Any] | None = None
) -> dict[str, dict[str, Any]]:
    """A Kinesis record's ``data`` as the serialised, checked item the replicator writes (the
    same item as :func:`record_item_reference`, or the same :class:`PoisonRecordError`),
    computed by the one-pass path where it applies (:func:`record_item_json`)."""
    try:
        return json.loads(_one_pass_item_json(data, sequence_number, shard_id, extra))
    except (item_json.Unusual, ValueError, TypeError, RecursionError):
        pass
    return record_item_reference(data, sequence_number, shard_id, extra)
