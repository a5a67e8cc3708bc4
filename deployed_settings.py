"""Day-two changes: what this stack deployed last, and the setting changes that can't simply be
applied.

Each stack exports the settings that matter for a safe change as one output,
``deployedSettings``, and reads it back at its next preview or update through a
``StackReference`` to itself (``<organization>/<project>/<stack>``; on the first deployment the
stack has no outputs yet, and nothing is compared). :func:`check` then compares it with the
config, before any resource is registered:

* **Refused** (:class:`StackConfigError` naming the stack file, the key and the safe procedure):
  a TTL attribute changed while TTL stays on (DynamoDB refuses enabling TTL on a new attribute
  while it is active on another, and allows about one TTL change per hour), on the replica
  table or the query table; a change that re-creates the table's stream (``streamViewType``)
  or replaces a table, unless the key is listed in ``acknowledgedChanges``.
* **Made safe**: a change that replaces the replicator's event source mapping (its source:
  ``consumerMode``, the source stream, ``placement``) starts the new mapping ``AT_TIMESTAMP``,
  ``switchRewindSeconds`` before the update, instead of ``startingPosition``: the new mapping
  is created before the old one is deleted (Pulumi's default for a replacement), both run for
  a while, and the idempotent key absorbs what both write. A warning names the replacement.
  ``startingPosition`` itself only applies to a mapping created from scratch: changing it later
  keeps the running mapping (and its checkpoint) and warns.

The chosen start is part of ``deployedSettings``, so the next update keeps it (no diff).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pulumi
from pulumi.runtime.sync_await import _sync_await
from stream_replica.components import (
    ReplicaSourceArgs,
    ReplicaTargetArgs,
    StreamToQueryTableArgs,
    StreamToS3ArchiverArgs,
)

from stack_config.reader import StackConfig
from stack_config.settings import Settings

#: The output each stack exports (and reads back from its own last deployment).
OUTPUT = "deployedSettings"
#: Logical name of the StackReference to the stack itself.
SELF_REFERENCE = "deployed-settings"
#: The keys ``acknowledgedChanges`` may list: each re-creates something that holds data.
ACKNOWLEDGEABLE = (
    "streamViewType",
    "tableName",
    "queryTableName",
    "bucketName",
    "deliveryStreamName",
    "sourceStreamName",
)


def self_reference_name() -> str:
    """``<organization>/<project>/<stack>`` of the running stack."""
    return f"{pulumi.get_organization()}/{pulumi.get_project()}/{pulumi.get_stack()}"


def read_previous() -> dict[str, Any]:
    """This stack's ``deployedSettings`` from its last deployment (``{}`` on the first one, or
    for a stack deployed before the output existed), read through a StackReference to itself.
    The value is plain (not an Output): the checks and the resource options need it before
    any resource is registered."""
    reference = pulumi.StackReference(SELF_REFERENCE, stack_name=self_reference_name())
    details = _sync_await(reference.get_output_details(OUTPUT))
    value = details.value if details.value is not None else details.secret_value
    return dict(value) if isinstance(value, Mapping) else {}


@dataclass(frozen=True)
class MappingStart:
    """Where the replicator's event source mapping starts: ``position`` (``TRIM_HORIZON``,
    ``LATEST`` or ``AT_TIMESTAMP``) and, with ``AT_TIMESTAMP``, ``timestamp`` (RFC 3339)."""

    position: str
    timestamp: str | None = None

    def as_output(self) -> dict[str, Any]:
        """The form kept in ``deployedSettings``."""
        return {"position": self.position, "timestamp": self.timestamp}


def with_start(args: ReplicaSourceArgs, start: MappingStart) -> ReplicaSourceArgs:
    """``args`` with its mapping starting at ``start``, checked again."""
    assert args.mapping is not None  # filled in by the args' defaults
    args.mapping.starting_position = start.position
    args.mapping.starting_position_timestamp = start.timestamp
    args.validate()
    return args


def replicator_source(settings: Settings) -> dict[str, Any]:
    """What the replicator's mapping reads, in config terms: changing any of these replaces the
    mapping (a new event source ARN)."""
    cfg = settings.config
    if settings.placement == "target":
        stream = cfg.optional("prodStackReference") or cfg.optional("sourceStreamArn") or ""
    else:
        stream = cfg.optional("sourceStreamArn") or cfg.optional("sourceStreamName") or ""
        if cfg.boolean("createSourceStream"):
            stream = f"created:{stream}"
    return {
        "placement": settings.placement,
        "consumerMode": settings.consumer_mode,
        "sourceStream": stream,
    }


def initial_start(cfg: StackConfig) -> MappingStart:
    """Where a replicator mapping created from scratch starts: ``startingPositionTimestamp``
    (``AT_TIMESTAMP``) when set, else ``startingPosition``."""
    timestamp = cfg.optional("startingPositionTimestamp")
    if timestamp is None:
        return MappingStart(cfg.string("startingPosition"))
    try:
        parsed = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    except ValueError:
        parsed = None
    if parsed is None or parsed.tzinfo is None:
        raise cfg.error(
            "startingPositionTimestamp",
            f"must be an RFC 3339 time with a zone, like 2026-01-31T12:00:00Z, got {timestamp!r}",
        )
    return MappingStart("AT_TIMESTAMP", timestamp)


def mapping_start(
    settings: Settings, previous: Mapping[str, Any], now: datetime | None = None
) -> MappingStart:
    """The start of the replicator's mapping in this deployment (module docstring):

    * the stack's first deployment with a replicator, and no replicator before it in the other
      placement: :func:`initial_start`;
    * the same source as last time: the start used last time (nothing changes);
    * a new source (``consumerMode``, the stream, or a placement switch that moves the
      replicator into this stack): ``AT_TIMESTAMP`` ``switchRewindSeconds`` before ``now``,
      with a warning naming what is replaced.
    """
    cfg = settings.config
    configured = initial_start(cfg)
    source = replicator_source(settings)
    before = previous.get("replicatorSource")
    if not previous or (before is None and previous.get("placement") == settings.placement):
        return configured
    if before == source:
        kept = previous.get("replicatorStart") or {}
        start = MappingStart(str(kept.get("position")), kept.get("timestamp"))
        if start.position not in (configured.position, "AT_TIMESTAMP"):
            pulumi.log.warn(
                f"{cfg.file}: startingPosition {configured.position} only applies to a new "
                f"mapping; the replicator's mapping keeps its position (it started at "
                f"{start.position})"
            )
        return start
    rewind = cfg.integer("switchRewindSeconds", 1, 604_800)
    moment = (now or datetime.now(UTC)) - timedelta(seconds=rewind)
    timestamp = moment.replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    changed = sorted(
        key for key in source if before is None or (before or {}).get(key) != source[key]
    )
    pulumi.log.warn(
        f"{cfg.file}: {', '.join(changed)} changed: the replicator's event source mapping is "
        f"replaced (old {before or 'in the other stack'}, new {source}). The new mapping starts "
        f"AT_TIMESTAMP {timestamp} (switchRewindSeconds {rewind} before this update) and is "
        "created before the old one is deleted: both write the records in between, the "
        "idempotent key keeps one item each. Nothing is lost if the old mapping's iterator age "
        f"stays under {rewind} s until it is gone"
    )
    return MappingStart("AT_TIMESTAMP", timestamp)


def _ttl_refusal(
    cfg: StackConfig,
    previous: Mapping[str, Any],
    days_key: str,
    days: int,
    attribute: str,
    table: str,
) -> None:
    before_days = int(previous.get(days_key) or 0)
    before_attribute = previous.get("ttlAttribute")
    if before_days and days and before_attribute and before_attribute != attribute:
        raise cfg.error(
            "ttlAttribute",
            f"changes the {table}'s TTL attribute from {before_attribute!r} to {attribute!r} "
            f"while TTL is on ({days_key} {before_days}): DynamoDB refuses enabling TTL on a "
            "new attribute while it is active on another, and allows about one TTL change per "
            f"hour, so the update would fail. Procedure: set {days_key} 0 in {cfg.file}, "
            f"`pulumi up`, wait an hour, then set ttlAttribute {attribute!r} and {days_key} "
            f"{days} and `pulumi up` again",
        )


def _replacement_refusal(
    cfg: StackConfig, previous: Mapping[str, Any], key: str, now: Any, why: str
) -> None:
    before = previous.get(key)
    if key not in previous or before == now:
        return
    acknowledged = cfg.get("acknowledgedChanges")
    if key in acknowledged:
        pulumi.log.warn(f"{cfg.file}: {key} {before!r} -> {now!r} (acknowledged): {why}")
        return
    raise cfg.error(
        key,
        f"changes from {before!r} to {now!r}: {why}. To go ahead anyway, add {key!r} to "
        f"acknowledgedChanges in {cfg.file} (docs/changes.md gives the procedure)",
    )


#: Why each acknowledgeable change needs a procedure.
REPLACEMENT_REASONS = {
    "streamViewType": (
        "an enabled DynamoDB stream can't change its view type, so the table's stream is "
        "re-created with a new ARN: writes between the two are on no stream (never archived, "
        "never in the query table) and records the archiver and the query writer haven't read "
        "yet are dropped when their mappings move. Drain first: disable the replicator, wait "
        "until the archiver's and the query writer's iterator age is 0, then change it"
    ),
    "tableName": (
        "the replica table is replaced by a new, empty one (with protectData the update stops "
        "at protect; without it the old table and its items are deleted)"
    ),
    "queryTableName": "the query table is replaced by a new, empty one",
    "bucketName": (
        "a new, empty archive bucket is created (the old one is retained with protectData, "
        "deleted with its objects without)"
    ),
    "deliveryStreamName": (
        "the delivery stream is deleted before its replacement exists (a fixed name): what it "
        "still buffers may never reach S3, and the archiver's batches fail (and are retried) "
        "until the new one is up. Drain first: disable the replicator, wait until the "
        "archiver's iterator age is 0 and one buffering interval has passed, then change it"
    ),
    "sourceStreamName": (
        "this stack created the source stream (createSourceStream), so the stream is deleted "
        "with every record it holds and a new, empty one is created; producers must move to "
        "it. Drain first: stop the producers, wait until the replicator's iterator age is 0"
    ),
}


def target_settings(
    settings: Settings,
    target: ReplicaTargetArgs,
    query: StreamToQueryTableArgs | None,
    archiver: StreamToS3ArchiverArgs,
) -> dict[str, Any]:
    """The poc stack's part of ``deployedSettings`` (``query``: ``None`` without a query
    table)."""
    return {
        "placement": settings.placement,
        "ttlDays": int(target.ttl_days or 0),
        "ttlAttribute": target.ttl_attribute,
        "streamViewType": target.stream_view_type,
        "tableName": target.table_name,
        "queryTableTtlDays": int(query.ttl_days or 0) if query is not None else 0,
        "queryTableName": query.table_name if query is not None else None,
        "bucketName": archiver.bucket_name,
        "deliveryStreamName": archiver.delivery_stream_name,
    }


def check_target(settings: Settings, previous: Mapping[str, Any], now: Mapping[str, Any]) -> None:
    """Refuse, with a :class:`StackConfigError` naming the key and the procedure, the
    poc stack's changes that can't be applied safely (module docstring); ``now`` is
    :func:`target_settings` of this run."""
    cfg = settings.config
    attribute = str(now["ttlAttribute"])
    _ttl_refusal(cfg, previous, "ttlDays", now["ttlDays"], attribute, "replica table")
    if previous.get("queryTableName") == now["queryTableName"]:
        _ttl_refusal(
            cfg, previous, "queryTableTtlDays", now["queryTableTtlDays"], attribute, "query table"
        )
    for key, why in REPLACEMENT_REASONS.items():
        if key == "sourceStreamName":
            continue  # the prod side's (check_source)
        if key != "streamViewType" and not previous.get(key):
            continue  # autonamed or absent before: nothing of a fixed name to replace
        _replacement_refusal(cfg, previous, key, now[key], why)


def check_source(settings: Settings, previous: Mapping[str, Any]) -> None:
    """Refuse renaming a source stream this stack created (module docstring), unless
    acknowledged: the rename replaces the stream and drops what it holds."""
    before = (previous.get("replicatorSource") or {}).get("sourceStream") or ""
    now = replicator_source(settings)["sourceStream"]
    if before.startswith("created:") and now.startswith("created:"):
        _replacement_refusal(
            settings.config,
            {"sourceStreamName": before.removeprefix("created:")},
            "sourceStreamName",
            now.removeprefix("created:"),
            REPLACEMENT_REASONS["sourceStreamName"],
        )


def check_keys(settings: Settings) -> None:
    """This module's own keys, before anything is registered: ``startingPositionTimestamp`` is
    a time, ``acknowledgedChanges`` lists only keys it can acknowledge."""
    cfg = settings.config
    initial_start(cfg)
    cfg.integer("switchRewindSeconds", 1, 604_800)
    for key in cfg.get("acknowledgedChanges"):
        if key not in ACKNOWLEDGEABLE:
            raise cfg.error(
                "acknowledgedChanges",
                f"lists {key!r}, which is not a change that needs acknowledging (one of "
                f"{', '.join(ACKNOWLEDGEABLE)})",
            )
