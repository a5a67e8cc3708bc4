"""The replicator's staged record pipeline, for records that need more than the plain path.

A Kinesis record whose data is plain JSON, with no transform and no redaction configured, goes
through :func:`.records.record_item` exactly as before (its key byte for byte as always). Every
other record goes through :func:`stage_record`, in this order:

1. **decompress**: data starting with the gzip magic ``1F 8B`` is gunzipped, bounded by the
   400 KB item limit (:mod:`.compression`);
2. **de-aggregate**: data starting with the KPL magic ``F3 89 9A C2`` is split into its user
   records, MD5 checked (:mod:`.aggregation`); a user record's own data may be gzip too;
3. **decode JSON** (the exact path: :func:`.records.decode_payload`);
4. **transform** (:mod:`.transforms`): may drop, change or fan out the record;
5. **drop / pseudonymise** fields (:mod:`.redaction`);
6. **key attributes** (:func:`.records.build_item`; they win over anything the payload or the
   transform holds), the TTL expiry when the table has one, plus the sub-sequence number for a
   user record of an aggregate;
7. **size / type checks** and serialisation (:func:`.records.serialise_item`, the exact walk).

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
from typing import Any

from . import environment
from .aggregation import deaggregate, is_aggregated
from .compression import gunzip_bounded, is_gzip
from .exceptions import ConfigError, PoisonRecordError
from .records import (
    HASH_KEY,
    MAX_ITEM_BYTES,
    RANGE_KEY,
    build_item,
    decode_payload,
    serialise_item,
)
from .records import (
    may_be_packed as may_be_packed,  # re-exported: it lived here first
)
from .redaction import Path, parse_paths, redact
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

    * ``items``: ``((hash key, range key), serialised item)`` per item to write;
    * ``poison``: ``(sub-sequence number or None, reason)`` per user record (or transform
      output) that can never be written;
    * ``filtered``: records the transform filtered out (returned ``None``).
    """

    items: list[tuple[tuple[str, str], dict[str, Any]]] = field(default_factory=list)
    poison: list[tuple[int | None, str]] = field(default_factory=list)
    filtered: int = 0


def _range_key(sequence_number: str, sub: int | None, fan: int | None) -> str:
    key = sequence_number
    if sub is not None:
        key += f":{sub}"
    if fan is not None:
        key += f"#{fan}"
    return key


def _stage_user_record(
    out: StagedRecord,
    raw: bytes,
    meta: TransformMeta,
    shard_id: str,
    stages: Stages,
    extra: dict[str, Any] | None = None,
) -> None:
    sub = meta.sub_sequence_number
    where = f"user record {sub}: " if sub is not None else ""
    try:
        if is_gzip(raw):
            raw = gunzip_bounded(raw, MAX_ITEM_BYTES)
        payload = decode_payload(base64.b64encode(raw).decode("ascii"))
        if stages.transform is None:
            outputs: list[tuple[int | None, dict[str, Any]]] = [(None, payload)]
        else:
            outputs = apply_transform(stages.transform, payload, meta)
    except PoisonRecordError as exc:
        out.poison.append((sub, where + exc.reason))
        return
    if not outputs:
        out.filtered += 1
    for fan, record in outputs:
        try:
            redact(record, stages.drop, stages.pseudonymise, stages.key)
            item = build_item(record, meta.sequence_number, shard_id, extra)
            range_key = _range_key(meta.sequence_number, sub, fan)
            item[RANGE_KEY] = range_key
            if sub is not None:
                item[SUB_SEQUENCE_KEY] = sub
            serialised = serialise_item(item)
        except PoisonRecordError as exc:
            output = f"transform output {fan}: " if fan is not None else ""
            out.poison.append((sub, where + output + exc.reason))
            continue
        out.items.append(((item[HASH_KEY], range_key), serialised))


def stage_record(
    kinesis: dict[str, Any],
    sequence_number: str,
    shard_id: str,
    stages: Stages,
    extra: dict[str, Any] | None = None,
) -> StagedRecord:
    """Run a Kinesis record (the event record's ``kinesis`` part) through the stages; every item
    gets the ``extra`` attributes (e.g. the TTL expiry, :func:`.ttl.expiry_attribute`) after
    the transform and redaction, before the key attributes (:func:`.records.build_item`).

    :raises PoisonRecordError: the whole record is poison (not base64, bad gzip, gzip over the
        item limit, a bad KPL checksum or a truncated aggregate).
    """
    try:
        raw = base64.b64decode(kinesis["data"], validate=True)
    except (binascii.Error, ValueError, TypeError) as exc:
        raise PoisonRecordError(f"data is not base64: {exc}") from None
    if is_gzip(raw):
        raw = gunzip_bounded(raw, MAX_ITEM_BYTES)
    arrival = kinesis.get("approximateArrivalTimestamp")
    arrival_time = float(arrival) if isinstance(arrival, int | float) else None
    out = StagedRecord()
    if is_aggregated(raw):
        for user in deaggregate(raw):
            meta = TransformMeta(
                source="kinesis",
                sequence_number=sequence_number,
                shard_id=shard_id,
                sub_sequence_number=user.sub_sequence_number,
                arrival_time=arrival_time,
                partition_key=user.partition_key,
            )
            _stage_user_record(out, user.data, meta, shard_id, stages, extra)
    else:
        meta = TransformMeta(
            source="kinesis",
            sequence_number=sequence_number,
            shard_id=shard_id,
            arrival_time=arrival_time,
            partition_key=kinesis.get("partitionKey"),
        )
        _stage_user_record(out, raw, meta, shard_id, stages, extra)
    return out


def load_stages(settings: StageSettings, key: bytes | None) -> Stages:
    """The :class:`Stages` for ``settings`` (the transform module loaded once per execution
    environment) and the pseudonymisation key already read."""
    transform = load_transform(settings.transform_module) if settings.transform_module else None
    return Stages(transform, settings.drop, settings.pseudonymise, key)
