"""Query-table keys and items from a source image: the one derivation the query writer
(:mod:`.query_writer`, live, from the replica's stream) and the backfill
(``stream_replica.backfill``, from the archive) both use.

* :func:`query_key`: the query key of an image = the image's hash attribute, and
  ``<range value>#<source key>`` as the sort key (numbers zero-padded so text order is number
  order); :class:`SkipRecord` when the image has no usable hash or range value.
* :func:`query_put`: the whole item written to the query table: the image, its query key and,
  with ``ttl_days``, the expiry (:func:`expiry`).

No AWS calls, no clients, no environment. The rules (:class:`QueryRules`) are any object with
the attributes below; the query writer passes its ``QueryWriterConfig``.
"""

from __future__ import annotations

import base64
from decimal import Decimal, InvalidOperation
from typing import Any, Protocol

from .exceptions import PoisonRecordError
from .ttl import DAY_SECONDS

#: Separates the range value from the source key in the sort key.
SEPARATOR = "#"
#: Integer digits numbers are padded to, so that their text sorts as they do: a nanosecond epoch
#: timestamp has 19; DynamoDB numbers have at most 38 significant digits.
NUMBER_WIDTH = 20


class QueryRules(Protocol):
    """What the derivation reads: the query table's key attributes and TTL rule.

    ``hash_attribute`` (str): image attribute that is the query table's hash key;
    ``hash_type`` (``"S"`` or ``"N"``); ``range_attribute`` (str): attribute that orders a
    user's events; ``sort_key_attribute`` (str): the query table's range key;
    ``ttl_attribute`` (str or None) and ``ttl_days`` (int, 0 = no expiry): the query item's
    expiry; ``source_ttl_days`` (int, 0 = the source table has no TTL): the source's TTL days.
    """

    @property
    def hash_attribute(self) -> str: ...
    @property
    def hash_type(self) -> str: ...
    @property
    def range_attribute(self) -> str: ...
    @property
    def sort_key_attribute(self) -> str: ...
    @property
    def ttl_attribute(self) -> str | None: ...
    @property
    def ttl_days(self) -> int: ...
    @property
    def source_ttl_days(self) -> int: ...


class SkipRecord(Exception):
    """The image lacks what the query key needs; ``reason`` is counted and logged."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def sortable_number(text: str) -> str:
    """A non-negative DynamoDB number as text that sorts as the number does: the integer part
    zero-padded to :data:`NUMBER_WIDTH` digits, the fraction without trailing zeros.
    Raises :class:`SkipRecord` for a negative number or one with more integer digits; the
    reason (logged, counted per reason) never holds the value."""
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise SkipRecord("range value is not a number") from None
    if not number.is_finite() or number < 0:
        raise SkipRecord("range value is negative or not finite: its text would not sort")
    plain = format(number, "f")
    whole, _, fraction = plain.partition(".")
    fraction = fraction.rstrip("0")
    if len(whole) > NUMBER_WIDTH:
        raise SkipRecord(f"range value has more than {NUMBER_WIDTH} integer digits")
    return whole.zfill(NUMBER_WIDTH) + (f".{fraction}" if fraction else "")


def _key_text(value: dict[str, Any]) -> str:
    ((kind, inner),) = value.items()
    if kind == "N":
        return sortable_number(str(inner))
    if kind == "S":
        return str(inner)
    if kind == "B":
        return inner if isinstance(inner, str) else base64.b64encode(inner).decode("ascii")
    raise SkipRecord(f"key value of type {kind} cannot be part of the sort key")


def source_key_text(keys: dict[str, dict[str, Any]]) -> str:
    """The stream record's ``Keys`` as text: each key attribute's value, ordered by name."""
    if not keys:
        raise PoisonRecordError("stream record has no Keys")
    parts = []
    for name in sorted(keys):
        ((kind, inner),) = keys[name].items()
        parts.append(str(inner) if kind in ("S", "N") else _key_text(keys[name]))
    return SEPARATOR.join(parts)


def query_key(
    image: dict[str, dict[str, Any]], keys: dict[str, dict[str, Any]], rules: QueryRules
) -> dict[str, dict[str, Any]]:
    """The query table key of a source image; :class:`SkipRecord` when it has none."""
    hash_value = image.get(rules.hash_attribute)
    if not hash_value or rules.hash_type not in hash_value:
        raise SkipRecord(f"no {rules.hash_type} attribute {rules.hash_attribute!r}")
    if rules.hash_type == "S" and not hash_value["S"]:
        raise SkipRecord(f"attribute {rules.hash_attribute!r} is empty")
    range_value = image.get(rules.range_attribute)
    if not range_value:
        raise SkipRecord(f"no attribute {rules.range_attribute!r}")
    ((kind, _),) = range_value.items()
    if kind not in ("S", "N"):
        raise SkipRecord(f"attribute {rules.range_attribute!r} is of type {kind}, not S or N")
    range_text = _key_text(range_value)
    if not range_text:
        raise SkipRecord(f"attribute {rules.range_attribute!r} is empty")
    return {
        rules.hash_attribute: hash_value,
        rules.sort_key_attribute: {"S": f"{range_text}{SEPARATOR}{source_key_text(keys)}"},
    }


def from_wire(value: dict[str, Any]) -> dict[str, Any]:
    """An attribute value from Lambda's JSON event (binary as base64 text) as a request value
    (binary as bytes, which botocore encodes once)."""
    ((kind, inner),) = value.items()
    if kind == "B":
        return {"B": base64.b64decode(inner) if isinstance(inner, str) else inner}
    if kind == "BS":
        return {"BS": [base64.b64decode(b) if isinstance(b, str) else b for b in inner]}
    if kind == "M":
        return {"M": {k: from_wire(v) for k, v in inner.items()}}
    if kind == "L":
        return {"L": [from_wire(v) for v in inner]}
    return {kind: inner}


def _number(value: dict[str, Any] | None) -> Decimal | None:
    if not value or "N" not in value:
        return None
    try:
        return Decimal(str(value["N"]))
    except InvalidOperation:
        return None


def expiry(image: dict[str, dict[str, Any]], stream: dict[str, Any], rules: QueryRules) -> int:
    """The query item's expiry, epoch seconds: the event's arrival + ``ttl_days`` days. The
    arrival is the source item's own expiry minus ``source_ttl_days`` days when the source
    table has TTL, else the stream record's ``ApproximateCreationDateTime`` (epoch seconds).
    Raises :class:`PoisonRecordError` when neither is there."""
    arrival: Decimal | None = None
    if rules.ttl_attribute and rules.source_ttl_days:
        source_expiry = _number(image.get(rules.ttl_attribute))
        if source_expiry is not None:
            arrival = source_expiry - rules.source_ttl_days * DAY_SECONDS
    if arrival is None:
        created = stream.get("ApproximateCreationDateTime")
        try:
            arrival = Decimal(str(created)) if created is not None else None
        except InvalidOperation:
            arrival = None
    if arrival is None:
        raise PoisonRecordError("stream record has no ApproximateCreationDateTime for the expiry")
    return int(arrival) + rules.ttl_days * DAY_SECONDS


def query_put(
    image: dict[str, dict[str, Any]],
    keys: dict[str, dict[str, Any]],
    stream: dict[str, Any],
    rules: QueryRules,
) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
    """``(query key, item)`` for a source image: the image whole (binary as bytes), its query
    key, and with ``ttl_days`` and ``ttl_attribute`` the expiry (:func:`expiry`; ``stream`` is
    the stream record's ``dynamodb`` part, or what stands in for it).

    :raises SkipRecord: the image has no usable query key (counted, not poison).
    :raises PoisonRecordError: no arrival time for the expiry, or no source ``keys``.
    """
    key = query_key(image, keys, rules)
    item = {name: from_wire(value) for name, value in image.items()}
    item.update(key)
    if rules.ttl_days and rules.ttl_attribute:
        item[rules.ttl_attribute] = {"N": str(expiry(image, stream, rules))}
    return key, item
