"""Replicator: Kinesis records -> DynamoDB items in the target (POC) account.

``handler(event, context)`` takes a Kinesis event source mapping batch and returns
``{"batchItemFailures": [{"itemIdentifier": <sequenceNumber>}, ...]}`` (the mapping has
ReportBatchItemFailures on). See ``docs/handlers.md`` for the behaviour in full; in short:

* each record's data (base64 JSON object) becomes an item (see :mod:`.records`), keyed by the
  seed's ``seqNumbershardIdHash`` + ``sequenceNumber`` so that writing it again is a no-op;
* items go out with BatchWriteItem, 25 and at most 16 MB per call, up to
  ``MAX_WRITE_CONCURRENCY`` calls at once;
  UnprocessedItems, throttling and 5xx errors are retried with full-jitter backoff while the
  invocation's time allows;
* poison records go to ``DEAD_LETTER_QUEUE_URL`` and are not reported (they would block the
  shard); everything not written (or not dead-lettered) is reported.
"""

from __future__ import annotations

import re
import time
from binascii import a2b_base64
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from . import environment, item_json
from .batch_close import BatchClose
from .dead_letters import DeadLetter
from .exceptions import ConfigError, PoisonRecordError, RedactionKeyError
from .records import (
    may_be_packed,
    one_pass_item_json,
    partition_key,
    record_item_json,
    shard_id_of,
)
from .replicator_writes import (
    ChunkWriter,
    _Entry,
    own_attributes,
    rejected_alike,
)
from .retry import DEFAULT_SAFETY_MARGIN_MS, TimeBudget
from .telemetry import get_logger
from .ttl import expiry_attribute
from .writer_role import ASSUME_ROLE, MAX_CHAINED_SESSION_SECONDS, RESOURCE_POLICY

#: A DynamoDB table ARN (DynamoDB API reference: table names 3..255 of ``[a-zA-Z0-9_.-]``).
_TABLE_ARN = re.compile(r"arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table/[A-Za-z0-9_.-]{3,255}")

if TYPE_CHECKING:  # the staged pipeline is imported only for records or settings that need it
    from . import pipeline

SERVICE = "replicator"
#: Concurrent BatchWriteItem calls when ``MAX_WRITE_CONCURRENCY`` is not set. With the one-pass
#: path a chunk of 25 records costs about a millisecond of CPU on a full core, about 3 ms at
#: 512 MB (0.29 vCPU), against a call of a few milliseconds: 4 calls in flight keep that CPU
#: busy. ``make bench`` compares 4/8/16 writers; on the shared bench machine the runs did not
#: separate them. The component sets the variable from its own default.
DEFAULT_WRITE_CONCURRENCY = 4


@dataclass(frozen=True)
class ReplicatorConfig:
    """The replicator's view of its environment (see ``handlers/__init__.py``); also the
    :class:`.writer_role.WriterSettings` its writer client is built from."""

    access_mode: str
    table: str  # what BatchWriteItem's RequestItems is keyed by: the name, or the ARN
    region: str | None
    role_arn: str | None
    session_name: str
    external_id: str | None
    session_seconds: int
    dead_letter_queue_url: str | None
    concurrency: int
    safety_margin_ms: int
    #: ``(attribute, days)`` of the TTL expiry added to each item, or None (no TTL).
    ttl: tuple[str, int] | None = None

    @classmethod
    def from_env(cls) -> ReplicatorConfig:
        mode = environment.env_str(environment.ACCESS_MODE, ASSUME_ROLE)
        if mode not in (ASSUME_ROLE, RESOURCE_POLICY):
            raise ConfigError(
                f"environment variable ACCESS_MODE={mode!r} must be "
                f"{ASSUME_ROLE!r} or {RESOURCE_POLICY!r}"
            )
        table_arn = environment.env_opt(environment.TABLE_ARN)
        table_name = environment.env_opt(environment.TABLE_NAME)
        if table_arn and not _TABLE_ARN.fullmatch(table_arn):
            raise ConfigError(
                f"environment variable TABLE_ARN={table_arn!r} is not a DynamoDB table ARN "
                "(arn:aws:dynamodb:<region>:<account>:table/<name>)"
            )
        if mode == RESOURCE_POLICY:
            if not table_arn:
                raise ConfigError(
                    "environment variable TABLE_ARN is required when ACCESS_MODE=resource-policy "
                    "(the table is in another account and is addressed by its ARN)"
                )
            table = table_arn
        elif table_name or table_arn:
            table = table_name or str(table_arn)
        else:
            raise ConfigError(
                "environment variable TABLE_NAME (or TABLE_ARN) is required but not set"
            )
        arn_region = table_arn.split(":")[3] if table_arn and table_arn.count(":") >= 5 else None
        session_seconds = environment.env_int(
            environment.WRITER_SESSION_DURATION_SECONDS, MAX_CHAINED_SESSION_SECONDS, minimum=900
        )
        if session_seconds > MAX_CHAINED_SESSION_SECONDS:
            raise ConfigError(
                f"environment variable WRITER_SESSION_DURATION_SECONDS={session_seconds} is over "
                f"{MAX_CHAINED_SESSION_SECONDS}: role chaining caps a session at one hour"
            )
        return cls(
            access_mode=mode,
            table=table,
            region=environment.env_opt(environment.TARGET_REGION)
            or arn_region
            or environment.own_region(),
            role_arn=environment.env_str(environment.WRITER_ROLE_ARN)
            if mode == ASSUME_ROLE
            else None,
            session_name=environment.env_str(
                environment.WRITER_ROLE_SESSION_NAME, "stream-replica-writer"
            ),
            external_id=environment.env_opt(environment.WRITER_EXTERNAL_ID),
            session_seconds=session_seconds,
            dead_letter_queue_url=environment.env_opt(environment.DEAD_LETTER_QUEUE_URL),
            concurrency=environment.env_int(
                environment.MAX_WRITE_CONCURRENCY, DEFAULT_WRITE_CONCURRENCY
            ),
            safety_margin_ms=environment.env_int(
                environment.RETRY_SAFETY_MARGIN_MS, DEFAULT_SAFETY_MARGIN_MS, minimum=0
            ),
            ttl=_ttl_from_env(),
        )


def _ttl_from_env() -> tuple[str, int] | None:
    days = environment.env_int(environment.TTL_DAYS, 0, minimum=0)
    if not days:
        return None
    return environment.env_str(environment.TTL_ATTRIBUTE, "expiresAt"), days


# --------------------------------------------------------------------------- the handler


def _dead_letter_body(
    record: Any, shard_id: str | None, reason: str, sub_sequence: int | None = None
) -> dict[str, Any]:
    if not isinstance(record, dict):
        return {"reason": reason, "source": "replicator", "data": None, "event": record}
    kinesis = record.get("kinesis")
    if not isinstance(kinesis, dict):
        # Nothing to take the payload from: the whole event record is kept instead.
        return {**_dead_letter_body({**record, "kinesis": {}}, shard_id, reason), "event": record}
    extra = {} if sub_sequence is None else {"subSequenceNumber": sub_sequence}
    return {
        **extra,
        "reason": reason,
        "source": "replicator",
        "eventSourceARN": record.get("eventSourceARN"),
        "eventID": record.get("eventID"),
        "shardId": shard_id,
        "sequenceNumber": kinesis.get("sequenceNumber"),
        "partitionKey": kinesis.get("partitionKey"),
        "approximateArrivalTimestamp": kinesis.get("approximateArrivalTimestamp"),
        "data": kinesis.get("data"),
    }


@dataclass(slots=True)
class _Metadata:
    """What a record's event metadata says, checked before its payload is decoded.

    ``problem`` set and ``report`` false: the record is poison (no sequence number to report it
    by, or no data). ``report`` true: the record is fine but the event's metadata is not (an
    ``eventID`` that names no shard): it is reported for retry, never dead-lettered.
    """

    sequence_number: str | None
    shard_id: str | None = None
    problem: str | None = None
    report: bool = False
    #: The item's table key (hash, range), made once when the record names its shard.
    _key: tuple[str, str] | None = None

    @property
    def key(self) -> tuple[str, str]:
        if self._key is None:
            assert self.sequence_number is not None and self.shard_id is not None
            self._key = partition_key(self.sequence_number, self.shard_id), self.sequence_number
        return self._key


def _metadata(record: Any) -> _Metadata:
    kinesis = record.get("kinesis") if isinstance(record, dict) else None
    if not isinstance(kinesis, dict):
        return _Metadata(None, problem="event record has no 'kinesis' object")
    sequence_number = kinesis.get("sequenceNumber")
    if not isinstance(sequence_number, str) or not sequence_number.isdecimal():
        return _Metadata(None, problem="event record has no kinesis.sequenceNumber")
    event_id = record.get("eventID")
    try:
        shard_id = shard_id_of(event_id) if isinstance(event_id, str) else None
    except ValueError:
        shard_id = None
    if shard_id is None:
        return _Metadata(
            sequence_number,
            problem=f"eventID {event_id!r} does not name the shard ('<shardId>:<sequenceNumber>')",
            report=True,
        )
    if not isinstance(kinesis.get("data"), str):
        return _Metadata(sequence_number, shard_id, problem="event record has no kinesis.data")
    return _Metadata(sequence_number, shard_id)


@dataclass(slots=True)
class _Decoded:
    """One Kinesis record decoded: its items as (table key, DynamoDB JSON text), its user
    records that are poison (sub-sequence number, reason), and how many user records the
    transform filtered out."""

    items: list[tuple[tuple[str, str], str]]
    poison: list[tuple[int | None, str]] = field(default_factory=list)
    filtered: int = 0
    empty_aggregate: bool = False


def _decode(
    record: dict[str, Any],
    meta: _Metadata,
    stages: pipeline.Stages | None,
    ttl: tuple[str, int] | None = None,
) -> _Decoded:
    """A plain JSON record with no ``stages`` takes the one-pass path
    (:func:`.records.record_item_json`); a packed record (gzip, KPL) or any configured stage
    goes through :func:`.pipeline.stage_record`. With ``ttl`` = ``(attribute, days)`` every item
    gets the expiry ``days`` after the record's arrival (:func:`.ttl.expiry_attribute`). Raises
    :class:`PoisonRecordError` (or ``ValueError``) when the whole record is poison."""
    assert meta.sequence_number is not None and meta.shard_id is not None
    kinesis = record["kinesis"]
    data = kinesis["data"]
    extra = expiry_attribute(kinesis, *ttl) if ttl else None
    if stages is None and not may_be_packed(data):
        text = record_item_json(data, meta.sequence_number, meta.shard_id, extra)
        return _Decoded([(meta.key, text)])
    from . import pipeline

    staged = pipeline.stage_record(
        kinesis, meta.sequence_number, meta.shard_id, stages or pipeline.Stages(), extra
    )
    return _Decoded(staged.items, staged.poison, staged.filtered, staged.empty_aggregate)


def _accept(
    record: dict[str, Any],
    meta: _Metadata,
    decoded: _Decoded,
    writer: ChunkWriter,
    poison: list[DeadLetter],
    empty: list[str],
) -> int:
    """Hand ``decoded``'s items to ``writer`` and its poison user records to ``poison``, and
    its sequence number to ``empty`` when it is a KPL aggregate of no user record; returns how
    many the transform filtered out."""
    sequence_number = str(meta.sequence_number)
    if decoded.empty_aggregate:
        empty.append(sequence_number)
    for sub, reason in decoded.poison:
        body = _dead_letter_body(record, meta.shard_id, reason, sub)
        poison.append(DeadLetter(sequence_number, body))
    for key, text in decoded.items:
        writer.add(_Entry(sequence_number, key, str(meta.shard_id), text))
    return decoded.filtered


def _poison(record: Any, meta: _Metadata, exc: Exception) -> DeadLetter:
    reason = exc.reason if isinstance(exc, PoisonRecordError) else str(exc)
    return DeadLetter(meta.sequence_number or "", _dead_letter_body(record, meta.shard_id, reason))


def _prepare(
    records: list[Any],
    metas: list[_Metadata],
    repeated: set[tuple[str, str]],
    writer: ChunkWriter,
    poison: list[DeadLetter],
    stages: pipeline.Stages | None = None,
    ttl: tuple[str, int] | None = None,
    empty: list[str] | None = None,
) -> int:
    """Decode each record into items for ``writer``, or dead letters into ``poison``; returns
    how many user records the transform filtered out. ``ttl``: see :func:`_decode`; ``empty``
    collects the sequence numbers of KPL aggregates that hold no user record.

    Records whose metadata has a problem were sorted out before (see :func:`handler`). A record
    delivered more than once in the batch (its key in ``repeated``) is decided after the rest:
    the last copy that decodes is written, so a later poison copy never hides an earlier valid
    one; copies that don't decode are dead-lettered.
    """
    filtered = 0
    empty = [] if empty is None else empty
    copies: dict[tuple[str, str], list[int]] = {}
    add = writer.add
    # Records that are not packed (gzip, KPL) and stages without a transform: the one-pass path
    # of _decode and _accept inlined (one item per record, no poison user records, no filtering).
    inline = stages is None or stages.transform is None
    redaction = stages.one_pass_redaction if stages is not None and inline else None
    for index, (record, meta) in enumerate(zip(records, metas, strict=True)):
        if meta.problem is not None:
            continue
        key = meta.key
        if key in repeated:
            copies.setdefault(key, []).append(index)
            continue
        if inline:
            kinesis = record["kinesis"]
            data = kinesis["data"]
            if not may_be_packed(data):
                sequence_number, shard_id = key[1], str(meta.shard_id)
                try:
                    extra = expiry_attribute(kinesis, *ttl) if ttl else None
                    if stages is None:  # as _decode: records.record_item_json
                        add(
                            _Entry(
                                sequence_number,
                                key,
                                shard_id,
                                record_item_json(data, sequence_number, shard_id, extra),
                            )
                        )
                        continue
                    # as pipeline.stage_record's one-pass path (pipeline._one_pass) ...
                    text = one_pass_item_json(
                        a2b_base64(data, strict_mode=True),
                        sequence_number,
                        shard_id,
                        extra,
                        sequence_number,
                        redaction,
                    )
                except item_json.Unusual:
                    pass  # ... which leaves the record to the staged path's exact path, below
                except (PoisonRecordError, ValueError, TypeError, RecursionError) as exc:
                    if stages is None and not isinstance(exc, TypeError | RecursionError):
                        poison.append(_poison(record, meta, exc))
                        continue
                    # the staged path decides, below (its exact path, or its poison reason)
                else:
                    add(_Entry(sequence_number, key, shard_id, text))
                    continue
        try:
            decoded = _decode(record, meta, stages, ttl)
        except (PoisonRecordError, ValueError) as exc:
            poison.append(_poison(record, meta, exc))
            continue
        filtered += _accept(record, meta, decoded, writer, poison, empty)
    for indexes in copies.values():
        chosen: tuple[int, _Decoded] | None = None
        for index in indexes:
            try:
                chosen = (index, _decode(records[index], metas[index], stages, ttl))
            except (PoisonRecordError, ValueError) as exc:
                poison.append(_poison(records[index], metas[index], exc))
        if chosen is not None:
            index, decoded = chosen
            filtered += _accept(records[index], metas[index], decoded, writer, poison, empty)
    return filtered


#: The environment variables that configure a stage (:class:`.pipeline.StageSettings`).
_STAGE_VARIABLES = (
    environment.TRANSFORM_MODULE,
    environment.DROP_FIELDS,
    environment.PSEUDONYMIZE_FIELDS,
    environment.PSEUDONYMIZATION_KEY_PARAMETER,
)


def _stages() -> pipeline.Stages | None:
    """The transform and redaction stages from the environment, or None when neither is
    configured. Raises :class:`RedactionKeyError` if the pseudonymization key can't be read.
    With none of the stage variables set, the pipeline modules are not imported at all."""
    if not any(environment.env_opt(name) for name in _STAGE_VARIABLES):
        return None
    from . import pipeline
    from .redaction import key_from_parameter

    settings = pipeline.StageSettings.from_env()
    if not settings.active:
        return None
    key = None
    if settings.pseudonymise and settings.key_parameter:
        key = key_from_parameter(settings.key_parameter)
    return pipeline.load_stages(settings, key)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Replicate a Kinesis batch; return the sequence numbers not yet written."""
    started = time.perf_counter()
    log = get_logger(SERVICE)
    config = ReplicatorConfig.from_env()
    budget = TimeBudget(context, config.safety_margin_ms)
    records: list[Any] = event.get("Records") or []
    # A malformed event record is isolated here, before anything is decoded: poison (with the
    # reason) when it has no sequence number or no data, reported when only its eventID is
    # wrong; the other records flow on.
    metas = [_metadata(record) for record in records]
    order = [m.sequence_number for m in metas if m.sequence_number is not None]
    by_sequence = {
        m.sequence_number: r for m, r in zip(metas, records, strict=True) if m.sequence_number
    }
    batch = BatchClose(SERVICE, log, len(records), order, started=started)
    for record, meta in zip(records, metas, strict=True):
        if meta.problem is None:
            continue
        if meta.report and meta.sequence_number is not None:
            batch.report([meta.sequence_number])
            log.error(
                "malformed event record; reported for retry",
                extra={"reason": meta.problem, "sequence_number": meta.sequence_number},
            )
        else:
            batch.poison.append(_poison(record, meta, PoisonRecordError(str(meta.problem))))

    # A record delivered twice in one batch has the same key twice, which BatchWriteItem refuses
    # ("Provided list of item keys contains duplicates"): such keys are decided after the rest.
    # The key comes from the record's metadata, so this is known before any payload is decoded.
    seen: set[tuple[str, str]] = set()
    repeated: set[tuple[str, str]] = set()
    for meta in metas:
        if meta.problem is None:
            key = meta.key
            if key in seen:
                repeated.add(key)
            seen.add(key)

    try:
        stages = _stages()
    except RedactionKeyError as exc:
        # A configuration fault: nothing is written (never raw), every record is reported.
        log.error("cannot read the pseudonymization key; batch reported", extra={"error": str(exc)})
        return batch.report_all()

    writer = ChunkWriter(config, budget, log, own_attributes(stages, config.ttl))
    empty: list[str] = []
    try:
        filtered = _prepare(
            records, metas, repeated, writer, batch.poison, stages, config.ttl, empty
        )
    except BaseException:
        writer.finish()  # let the chunks in flight end before the invocation fails
        raise
    outcome = writer.finish()
    if empty:
        # A valid aggregate with no user record has nothing to write; said once per batch.
        log.warning(
            "KPL aggregate(s) with a valid checksum and no user records: nothing written",
            extra={"empty_aggregates": len(empty), "sequence_numbers": empty[:10]},
        )
    batch.report(entry.sequence_number for entry in outcome.unwritten)
    batch.log_errors(outcome.errors, "write failed; records reported for retry")
    for entry, reason in outcome.rejected:
        body = _dead_letter_body(by_sequence[entry.sequence_number], entry.shard_id, reason)
        batch.dead_letter(entry.sequence_number, body)
    alike = rejected_alike(outcome)
    counts = {"filtered": filtered, "empty_aggregates": len(empty)}
    if alike is not None:
        counts["rejected_alike"] = 1
        log.error(
            "DynamoDB refused every item of the batch for one index key's type: the producers "
            "and the index disagree; records dead-lettered",
            extra={"attribute": alike, "rejected": len(outcome.rejected)},
        )

    return batch.respond(
        dead_letter_queue_url=config.dead_letter_queue_url,
        budget=budget,
        payload_field="data",
        written=outcome.written,
        retried=outcome.retried,
        message="batch replicated",
        **counts,
    )
