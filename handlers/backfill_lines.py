"""Archive lines back into table requests: what the backfill writes for one line of the archive.

The archiver (:mod:`.archiver`) writes one JSON line per INSERT/MODIFY image: the item as plain
JSON (exact numbers, sets as sorted lists, binary as base64 text) with its key attributes
``seqNumbershardIdHash``, ``sequenceNumber`` and ``shardId``; with ``ARCHIVE_REMOVES`` a user
delete is a tombstone line, the deleted item's key attributes plus ``"_deleted": true``. A TTL
expiry is never archived as a removal. This module turns a line into the request for a target:

* ``replica`` (the replica table, or a new table of its schema): the item the replicator wrote,
  through the replicator's own serialisation and limit checks (:func:`.records.serialise_item`):
  numbers as Decimal, maps, lists, booleans, nulls. A tombstone is a delete of its key.
* ``query`` (the query table): the query writer's key, item and expiry
  (:func:`.query_items.query_put`, the one derivation both use) from the line's image, with the
  archive object's time standing in for the stream record's ``ApproximateCreationDateTime``.
  An image without the query key is skipped and counted, as the query writer skips it.

What cannot come back exactly: a set or binary value the replicator wrote (only a user
transform makes them; a JSON payload has none) is archived as a list or as base64 text and is
restored as such: the archive line carries no type for it.

Rules shared by both targets (:func:`line_request`):

* a line whose key attributes were deleted by a user (the tombstone set, from the whole
  window) becomes a delete, wherever the tombstone is, so the order in which objects are written
  never resurrects a deleted item;
* a line whose item has already expired (the replica's TTL attribute, or the query item's
  expiry, at or before ``now``) is skipped and counted: DynamoDB's TTL deleted it, and a
  backfill must not bring it back;
* ``drop`` paths (:mod:`.redaction`) are removed again (idempotent) and an optional transform
  may change or filter a line (not fan it out: its keys are the archived ones). Pseudonymising
  is never applied: the archive holds what the replicator wrote, already pseudonymised, and
  pseudonymising a pseudonym would give values that match nothing.

No AWS calls, no clients, no environment.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from .archiver import TOMBSTONE_MARKER
from .exceptions import PoisonRecordError
from .query_items import QueryRules, SkipRecord, query_put
from .records import HASH_KEY, RANGE_KEY, SHARD_KEY, serialise_item
from .redaction import Path, redact
from .transforms import TransformFunction, TransformMeta, apply_transform

#: The two targets: the replica table (or a new table of its schema), the query table.
REPLICA = "replica"
QUERY = "query"
TARGETS = (REPLICA, QUERY)
#: A source item's identity: (``seqNumbershardIdHash``, ``sequenceNumber``).
SourceKey = tuple[str, str]


class Skip(Exception):
    """The line is left out on purpose (``reason`` is counted): no query key, expired, or
    filtered by the transform."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class LineRules:
    """How lines become requests for one target.

    ``target`` (``"replica"`` or ``"query"``); ``query`` (:class:`.query_items.QueryRules`,
    required for ``"query"``); ``ttl_attribute`` (str or None): the replica's expiry attribute,
    epoch seconds, for the replica target's TTL rule; ``drop`` (redaction paths removed again);
    ``transform`` (optional; may change or filter, not fan out)."""

    target: str
    query: QueryRules | None = None
    ttl_attribute: str | None = None
    drop: tuple[Path, ...] = ()
    transform: TransformFunction | None = None

    def key_names(self) -> tuple[str, str]:
        """The target table's (hash, range) key attribute names."""
        if self.target == QUERY:
            assert self.query is not None
            return (self.query.hash_attribute, self.query.sort_key_attribute)
        return (HASH_KEY, RANGE_KEY)


@dataclass
class Request:
    """One BatchWriteItem request: a put (``item``) or a delete (``key``), and the line (1-based)
    of the archive object it comes from."""

    line: int
    key_id: tuple[tuple[str, str], ...]
    item: dict[str, Any] | None = None
    key: dict[str, Any] | None = None

    def body(self) -> dict[str, Any]:
        if self.item is not None:
            return {"PutRequest": {"Item": self.item}}
        return {"DeleteRequest": {"Key": self.key}}


def key_id(key: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    """A hashable identity of a typed key (as the query writer identifies its requests)."""
    return tuple(sorted((name, repr(value)) for name, value in key.items()))


#: DynamoDB keeps at most 38 significant digits (boto3's context refuses to round).
_MAX_DIGITS = 38


def _number(text: str) -> Decimal:
    """A JSON number as Decimal. The archive writes numbers in plain notation (``1E+100`` as a
    1 and 100 zeros); such a number's trailing zeros are folded back into the exponent, so it
    has the digits DynamoDB stored, and boto3's serialiser takes it."""
    number = Decimal(text)
    if len(number.as_tuple().digits) > _MAX_DIGITS:
        number = number.normalize()
    return number


def parse_line(text: bytes) -> dict[str, Any]:
    """One archive line as a JSON object with numbers as Decimal (never float).

    :raises PoisonRecordError: not UTF-8 JSON, not an object, or without its key attributes."""
    try:
        obj = json.loads(text, parse_float=_number, parse_int=_number)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise PoisonRecordError(f"line is not JSON: {type(exc).__name__}") from None
    if not isinstance(obj, dict):
        raise PoisonRecordError(f"line is JSON {type(obj).__name__}, not an object")
    for name in (HASH_KEY, RANGE_KEY):
        if not isinstance(obj.get(name), str) or not obj[name]:
            raise PoisonRecordError(f"line has no key attribute {name!r} (text)")
    return obj


def is_tombstone(obj: Mapping[str, Any]) -> bool:
    """True for a tombstone line (a user delete archived with ``ARCHIVE_REMOVES``)."""
    return obj.get(TOMBSTONE_MARKER) is True


def source_key(obj: Mapping[str, Any]) -> SourceKey:
    """The line's source item key (hash, range)."""
    return (str(obj[HASH_KEY]), str(obj[RANGE_KEY]))


def _source_keys(key: SourceKey) -> dict[str, dict[str, str]]:
    return {HASH_KEY: {"S": key[0]}, RANGE_KEY: {"S": key[1]}}


def _expired(value: Any, now: float) -> bool:
    return isinstance(value, Decimal) and value.is_finite() and value <= Decimal(str(now))


def _staged(obj: dict[str, Any], rules: LineRules) -> dict[str, Any]:
    """The line's object after the optional stages, its key attributes always the archived
    ones (they win over what a transform returns, as in the replicator)."""
    keys = {name: obj[name] for name in (HASH_KEY, RANGE_KEY, SHARD_KEY) if name in obj}
    if rules.transform is not None:
        meta = TransformMeta(
            source="archive",
            sequence_number=str(obj[RANGE_KEY]),
            shard_id=str(obj[SHARD_KEY]) if SHARD_KEY in obj else None,
        )
        outputs = apply_transform(rules.transform, obj, meta)
        if not outputs:
            raise Skip("filtered by the transform")
        if len(outputs) != 1 or outputs[0][0] is not None:
            raise PoisonRecordError(
                "the transform fanned the line out: a backfill writes each archived item once, "
                "under its archived key"
            )
        obj = outputs[0][1]
    if rules.drop:
        redact(obj, rules.drop, (), None)
    obj.update(keys)
    return obj


def line_request(
    obj: dict[str, Any],
    line: int,
    rules: LineRules,
    tombstoned: Callable[[SourceKey], bool],
    now: float,
    created: float,
) -> Request:
    """The request for a parsed line (:func:`parse_line`; it is changed in place).

    ``line`` (int): its 1-based number in the object; ``tombstoned``: whether a user deleted the
    source item (a tombstone anywhere in the window); ``now`` (epoch seconds): the TTL rule's
    clock; ``created`` (epoch seconds): the archive object's time, the query item's arrival time
    when the source item carries no expiry.

    :raises Skip: left out on purpose (reason counted).
    :raises PoisonRecordError: the line can never be restored (reason reported with the line).
    """
    key = source_key(obj)
    deleted = is_tombstone(obj) or tombstoned(key)
    if rules.target == REPLICA:
        if deleted:
            typed_key = _source_keys(key)
            return Request(line, key_id(typed_key), key=typed_key)
        obj = _staged(obj, rules)
        if rules.ttl_attribute and _expired(obj.get(rules.ttl_attribute), now):
            raise Skip("expired (TTL): not resurrected")
        item = serialise_item(obj)
        return Request(line, key_id(_key_of(item, rules)), item=item)
    assert rules.query is not None
    if is_tombstone(obj):
        raise Skip("tombstone: the query key is derived from the item's own line")
    obj = _staged(obj, rules)
    image = serialise_item(obj)
    try:
        query_key, item = query_put(
            image, _source_keys(key), {"ApproximateCreationDateTime": created}, rules.query
        )
    except SkipRecord as skip:
        raise Skip(skip.reason) from None
    if deleted:
        return Request(line, key_id(query_key), key=query_key)
    ttl = rules.query.ttl_attribute
    if rules.query.ttl_days and ttl and _expired(Decimal(item[ttl]["N"]), now):
        raise Skip("expired (TTL): not resurrected")
    return Request(line, key_id(query_key), item=item)


def _key_of(item: Mapping[str, Any], rules: LineRules) -> dict[str, Any]:
    return {name: item[name] for name in rules.key_names()}


def unprocessed_key(entry: Mapping[str, Any], rules: LineRules) -> tuple[tuple[str, str], ...]:
    """The :func:`key_id` of an ``UnprocessedItems`` entry (a PutRequest or DeleteRequest)."""
    if "PutRequest" in entry:
        return key_id(_key_of(entry["PutRequest"]["Item"], rules))
    return key_id(entry["DeleteRequest"]["Key"])


@dataclass
class ObjectPlan:
    """What the lines of one archive object ask of the target: the requests (last per key:
    duplicate lines collapse onto one item, and BatchWriteItem refuses two requests for one key
    in a call), what was skipped (reason -> count), the poison lines ``(line, reason)`` and the
    source keys of its tombstones."""

    lines: int = 0
    requests: dict[tuple[tuple[str, str], ...], Request] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    poison: list[tuple[int, str]] = field(default_factory=list)
    tombstones: list[SourceKey] = field(default_factory=list)

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def split_lines(data: bytes) -> list[bytes]:
    """The object's lines (``\\n``-terminated JSON; an empty last line is not a line)."""
    lines = data.split(b"\n")
    if lines and not lines[-1].strip():
        lines.pop()
    return lines


def tombstones_of(data: bytes) -> tuple[list[SourceKey], int]:
    """The source keys of an object's tombstone lines, and its number of lines (unparseable
    lines are left to :func:`plan_object`, which reports them)."""
    keys: list[SourceKey] = []
    lines = split_lines(data)
    for text in lines:
        if TOMBSTONE_MARKER.encode() not in text:
            continue
        try:
            obj = parse_line(text)
        except PoisonRecordError:
            continue
        if is_tombstone(obj):
            keys.append(source_key(obj))
    return keys, len(lines)


def plan_object(
    data: bytes,
    rules: LineRules,
    tombstoned: Callable[[SourceKey], bool] | Sequence[SourceKey] | set[SourceKey],
    now: float,
    created: float,
) -> ObjectPlan:
    """The :class:`ObjectPlan` of an archive object's bytes (already decompressed)."""
    check = tombstoned if callable(tombstoned) else set(tombstoned).__contains__
    plan = ObjectPlan()
    for number, text in enumerate(split_lines(data), start=1):
        plan.lines += 1
        if not text.strip():
            plan.skip("empty line")
            continue
        try:
            obj = parse_line(text)
            if is_tombstone(obj):
                plan.tombstones.append(source_key(obj))
            request = line_request(obj, number, rules, check, now, created)
        except Skip as skip:
            plan.skip(skip.reason)
            continue
        except PoisonRecordError as exc:
            plan.poison.append((number, exc.reason))
            continue
        except (ValueError, TypeError) as exc:
            plan.poison.append((number, f"cannot restore the line: {exc!r}"))
            continue
        plan.requests.pop(request.key_id, None)
        plan.requests[request.key_id] = request
    return plan
