"""The replicator's staged record pipeline, for records that need more than the plain path.

A Kinesis record whose data is plain JSON, with no transform and no redaction configured, goes
through :func:`.records.record_item_json` exactly as before (its key byte for byte as always).
Every other record goes through :func:`stage_record`, in this order:

1. **decompress**: data starting with the gzip magic ``1F 8B`` is gunzipped, bounded by the
   400 KB item limit (:mod:`.compression`);
2. **de-aggregate**: data starting with the KPL magic ``F3 89 9A C2`` is split into its user
   records, MD5 checked (:mod:`.aggregation`); a user record's own data may be gzip too;
3. **decode JSON**;
4. **transform** (:mod:`.transforms`): may drop, change or fan out the record;
5. **drop / pseudonymise** fields (:mod:`.redaction`);
6. **key attributes** (they win over anything the payload or the transform holds), the TTL
   expiry when the table has one, plus the sub-sequence number for a user record of an
   aggregate;
7. **size / type checks** and the item's DynamoDB JSON text.

Steps 3 and 5-7 take one of two paths, with the same items and the same poison reasons:

* **one pass** (no transform configured): :func:`.records.one_pass_item_json`, the plain path's
  writer, decodes the user record with numbers kept as their text, drops and pseudonymises in
  that tree (:func:`.redaction.one_pass_redaction`) and writes the item's text with its key, TTL
  and sub-sequence attributes; anything it cannot decide exactly goes to the exact path;
* **exact** (a transform, which is handed ``Decimal`` numbers, or anything unusual):
  :func:`.records.decode_payload`, :func:`.redaction.redact`, :func:`.records.build_item` and
  :func:`.records.serialise_item` (boto3's TypeSerializer, the full limits walk).
  :func:`stage_record_reference` takes it for every user record: the reference the one-pass
  path is tested against.

Keys (docs/handlers.md, "Keys"): the hash key is always the seed's formula over the Kinesis
sequence number; the range key ``sequenceNumber`` is

* ``<sequence number>`` for a record that is not aggregated and not fanned out (today's key);
* ``<sequence number>:<sub-sequence number>`` for user record *i* of a KPL aggregate (and the
  item gets ``subSequenceNumber`` = *i*, a number);
* ``…#<j>`` appended for output *j* of a transform that returned a list.

So every item's key is a function of the Kinesis record and its position in it: a retry rewrites
the same items and creates none.

Poison is per user record (or per transform output): the others of the same Kinesis record are
still written. A fault of the whole Kinesis record (not base64, bad gzip, bad checksum or
truncated aggregate) raises :class:`.exceptions.PoisonRecordError`.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, NamedTuple

from . import environment, item_json
from .aggregation import deaggregate, is_aggregated
from .compression import gunzip_bounded, is_gzip
from .exceptions import ConfigError, PoisonRecordError
from .records import (
    HASH_KEY,
    MAX_ITEM_BYTES,
    RANGE_KEY,
    OnePassRedaction,
    build_item,
    decode_payload,
    one_pass_item_json,
    partition_key,
    serialise_item,
)
from .records import (
    may_be_packed as may_be_packed,  # re-exported: it lived here first
)
from .redaction import Path, one_pass_redaction, parse_paths, redact
from .transforms import TransformFunction, TransformMeta, apply_transform, load_transform

#: Attribute holding a user record's index in its KPL aggregate (DynamoDB number).
SUB_SEQUENCE_KEY = "subSequenceNumber"


@dataclass(frozen=True)
class Stages:
    """What :func:`stage_record` applies besides decoding (all off by default)."""

    transform: TransformFunction | None = None
    drop: tuple[Path, ...] = ()
    pseudonymise: tuple[Path, ...] = ()
    key: bytes | None = None

    @property
    def active(self) -> bool:
        return self.transform is not None or bool(self.drop) or bool(self.pseudonymise)

    @cached_property
    def one_pass_redaction(self) -> OnePassRedaction | None:
        """The drops and pseudonyms as the one-pass path applies them
        (:func:`.redaction.one_pass_redaction`), or None when there are none."""
        if not (self.drop or self.pseudonymise):
            return None
        return one_pass_redaction(self.drop, self.pseudonymise, self.key)


@dataclass(frozen=True)
class StageSettings:
    """The replicator's stage settings from its environment (``TRANSFORM_MODULE``,
    ``DROP_FIELDS``, ``PSEUDONYMIZE_FIELDS``, ``PSEUDONYMIZATION_KEY_PARAMETER``)."""

    transform_module: str | None
    drop: tuple[Path, ...]
    pseudonymise: tuple[Path, ...]
    key_parameter: str | None

    @classmethod
    def from_env(cls) -> StageSettings:
        settings = cls(
            transform_module=environment.env_opt(environment.TRANSFORM_MODULE),
            drop=parse_paths(environment.env_opt(environment.DROP_FIELDS), environment.DROP_FIELDS),
            pseudonymise=parse_paths(
                environment.env_opt(environment.PSEUDONYMIZE_FIELDS),
                environment.PSEUDONYMIZE_FIELDS,
            ),
            key_parameter=environment.env_opt(environment.PSEUDONYMIZATION_KEY_PARAMETER),
        )
        if settings.pseudonymise and not settings.key_parameter:
            raise ConfigError(
                f"environment variable {environment.PSEUDONYMIZE_FIELDS} is set but "
                f"{environment.PSEUDONYMIZATION_KEY_PARAMETER} is not"
            )
        return settings

    @property
    def active(self) -> bool:
        return bool(self.transform_module or self.drop or self.pseudonymise)


@dataclass
class StagedRecord:
    """What one Kinesis record became.

    * ``items``: ``((hash key, range key), item)`` per item to write, the item as DynamoDB JSON
      text (what BatchWriteItem's ``PutRequest.Item`` carries; parsed, it is the serialised
      item);
    * ``poison``: ``(sub-sequence number or None, reason)`` per user record (or transform
      output) that can never be written;
    * ``filtered``: records the transform filtered out (returned ``None``);
    * ``empty_aggregate``: the record is a KPL aggregate with a valid checksum and no user
      record (nothing to write: the handler counts and logs it, so it does not vanish unseen).
    """

    items: list[tuple[tuple[str, str], str]] = field(default_factory=list)
    poison: list[tuple[int | None, str]] = field(default_factory=list)
    filtered: int = 0
    empty_aggregate: bool = False


def _range_key(sequence_number: str, sub: int | None, fan: int | None) -> str:
    key = sequence_number
    if sub is not None:
        key += f":{sub}"
    if fan is not None:
        key += f"#{fan}"
    return key


class _UserRecord(NamedTuple):
    """Where a user record (or a whole record that is not aggregated) came from."""

    sequence_number: str
    shard_id: str
    sub_sequence_number: int | None
    partition_key: str | None
    arrival_time: float | None

    def meta(self) -> TransformMeta:
        return TransformMeta(
            source="kinesis",
            sequence_number=self.sequence_number,
            shard_id=self.shard_id,
            sub_sequence_number=self.sub_sequence_number,
            arrival_time=self.arrival_time,
            partition_key=self.partition_key,
        )


def _stage_exact(
    out: StagedRecord,
    raw: bytes,
    user: _UserRecord,
    stages: Stages,
    extra: dict[str, Any] | None,
) -> None:
    """The exact path for one user record (already gunzipped): :func:`.records.decode_payload`,
    the transform, :func:`.redaction.redact`, :func:`.records.build_item` and
    :func:`.records.serialise_item` (boto3's TypeSerializer and the full limits walk)."""
    sub = user.sub_sequence_number
    where = f"user record {sub}: " if sub is not None else ""
    try:
        payload = decode_payload(base64.b64encode(raw).decode("ascii"))
        if stages.transform is None:
            outputs: list[tuple[int | None, dict[str, Any]]] = [(None, payload)]
        else:
            outputs = apply_transform(stages.transform, payload, user.meta())
    except PoisonRecordError as exc:
        out.poison.append((sub, where + exc.reason))
        return
    if not outputs:
        out.filtered += 1
    for fan, record in outputs:
        try:
            redact(record, stages.drop, stages.pseudonymise, stages.key)
            item = build_item(record, user.sequence_number, user.shard_id, extra)
            range_key = _range_key(user.sequence_number, sub, fan)
            item[RANGE_KEY] = range_key
            if sub is not None:
                item[SUB_SEQUENCE_KEY] = sub
            serialised = serialise_item(item)
        except PoisonRecordError as exc:
            output = f"transform output {fan}: " if fan is not None else ""
            out.poison.append((sub, where + output + exc.reason))
            continue
        out.items.append(((item[HASH_KEY], range_key), item_json.typed_item_json(serialised)))


def _one_pass(
    out: StagedRecord,
    raw: bytes,
    sequence_number: str,
    shard_id: str,
    sub: int | None,
    stages: Stages,
    extra: dict[str, Any] | None,
) -> bool:
    """The one-pass path for one user record (already gunzipped; no transform): the item added
    to ``out`` and True, or False when the exact path must decide
    (:func:`.records.one_pass_item_json`)."""
    if sub is None:
        range_key, attributes = sequence_number, extra
    else:
        range_key = f"{sequence_number}:{sub}"
        attributes = {**extra, SUB_SEQUENCE_KEY: sub} if extra else {SUB_SEQUENCE_KEY: sub}
    try:
        text = one_pass_item_json(
            raw, sequence_number, shard_id, attributes, range_key, stages.one_pass_redaction
        )
    except (item_json.Unusual, ValueError, TypeError, RecursionError):
        # binascii.Error, JSONDecodeError and UnicodeError are ValueErrors
        return False
    out.items.append(((partition_key(sequence_number, shard_id), range_key), text))
    return True


def _stage_user_record(
    out: StagedRecord,
    raw: bytes,
    user: _UserRecord,
    stages: Stages,
    extra: dict[str, Any] | None = None,
    exact: bool = False,
) -> None:
    """One user record through the stages: gunzipped when it is gzip, then, with no transform,
    the one-pass path (:func:`_one_pass`: the decoded record dropped and pseudonymised in place,
    the key attributes, the TTL expiry and the sub-sequence number written with it), which
    hands anything it cannot write exactly to the exact path (:func:`_stage_exact`), as does a
    transform. ``exact``: always the exact path."""
    sub = user.sub_sequence_number
    if is_gzip(raw):
        try:
            raw = gunzip_bounded(raw, MAX_ITEM_BYTES)
        except PoisonRecordError as exc:
            where = f"user record {sub}: " if sub is not None else ""
            out.poison.append((sub, where + exc.reason))
            return
    if (
        stages.transform is None
        and not exact
        and _one_pass(out, raw, user.sequence_number, user.shard_id, sub, stages, extra)
    ):
        return
    _stage_exact(out, raw, user, stages, extra)


def stage_record(
    kinesis: dict[str, Any],
    sequence_number: str,
    shard_id: str,
    stages: Stages,
    extra: dict[str, Any] | None = None,
    exact: bool = False,
) -> StagedRecord:
    """Run a Kinesis record (the event record's ``kinesis`` part) through the stages; every item
    gets the ``extra`` attributes (e.g. the TTL expiry, :func:`.ttl.expiry_attribute`) after
    the transform and redaction, before the key attributes (:func:`.records.build_item`).

    Without a transform, each user record takes the one-pass path where it applies
    (:func:`_stage_user_record`); ``exact`` sends every user record through the exact path
    instead (:func:`stage_record_reference`). Both give the same items and poison reasons.

    :raises PoisonRecordError: the whole record is poison (not base64, bad gzip, gzip over the
        item limit, a bad KPL checksum or a truncated aggregate).
    """
    try:
        raw = base64.b64decode(kinesis["data"], validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise PoisonRecordError(f"data is not base64: {exc}") from None
    out = StagedRecord()
    if (
        stages.transform is None
        and not exact
        and not is_gzip(raw)
        and not is_aggregated(raw)
        and _one_pass(out, raw, sequence_number, shard_id, None, stages, extra)
    ):
        return out  # a plain record, written in one pass
    if is_gzip(raw):
        raw = gunzip_bounded(raw, MAX_ITEM_BYTES)
    arrival = kinesis.get("approximateArrivalTimestamp")
    arrival_time = float(arrival) if isinstance(arrival, int | float) else None
    if is_aggregated(raw):
        users = deaggregate(raw)
        out.empty_aggregate = not users
        for user in users:
            where = _UserRecord(
                sequence_number,
                shard_id,
                user.sub_sequence_number,
                user.partition_key,
                arrival_time,
            )
            _stage_user_record(out, user.data, where, stages, extra, exact)
    else:
        where = _UserRecord(
            sequence_number, shard_id, None, kinesis.get("partitionKey"), arrival_time
        )
        _stage_user_record(out, raw, where, stages, extra, exact)
    return out


def stage_record_reference(
    kinesis: dict[str, Any],
    sequence_number: str,
    shard_id: str,
    stages: Stages,
    extra: dict[str, Any] | None = None,
) -> StagedRecord:
    """:func:`stage_record` with every user record on the exact path (decode with ``Decimal``
    numbers, :func:`.redaction.redact`, :func:`.records.build_item`, boto3's TypeSerializer and
    the full limits walk): the reference the one-pass staged path is tested against."""
    return stage_record(kinesis, sequence_number, shard_id, stages, extra, exact=True)


def load_stages(settings: StageSettings, key: bytes | None) -> Stages:
    """The :class:`Stages` for ``settings`` (the transform module loaded once per execution
    environment) and the pseudonymisation key already read."""
    transform = load_transform(settings.transform_module) if settings.transform_module else None
    return Stages(transform, settings.drop, settings.pseudonymise, key)
