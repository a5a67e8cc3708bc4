"""The backfill Lambda: the fanned-out form of ``python -m stream_replica.backfill``.

A Step Functions state machine (``components/backfill.py``, ``ArchiveBackfill``) runs it:

1. ``{"action": "plan", "from": "2026-01-31T00", "to": "2026-01-31T23"}``: lists the window's
   archive objects and writes them as a JSON array, ``<checkpoint prefix>manifest.json``, which
   the distributed maps read (ItemReader); returns ``{"bucket", "key", "objects"}``;
2. ``{"action": "scan", "object": {...}}`` per object (distributed map): its tombstones;
3. ``{"action": "tombstones"}``: merges the scan checkpoints into ``tombstones.json``;
4. ``{"action": "write", "object": {...}}`` per object (distributed map): writes its lines;
5. ``{"action": "report"}``: sums the write checkpoints (poison lines with object key and line
   number included) into ``report.json`` and returns the counts.

Steps 2 and 4 call :func:`.backfill_objects.backfill_object`, the same function the local
command runs. Environment (set by the component): ``BACKFILL_ARCHIVE_BUCKET``,
``BACKFILL_ARCHIVE_PREFIX``, ``BACKFILL_TARGET`` (``replica`` or ``query``), ``BACKFILL_TABLE``,
``BACKFILL_CHECKPOINT_BUCKET``, ``BACKFILL_CHECKPOINT_PREFIX``, ``BACKFILL_WRITE_RATE`` (items/s
for this worker: the run's budget divided by the maps' maximum concurrency), and as the query
writer and replicator read them ``QUERY_HASH_ATTRIBUTE``, ``QUERY_HASH_TYPE``,
``QUERY_RANGE_ATTRIBUTE``, ``QUERY_SORT_KEY_ATTRIBUTE``, ``TTL_ATTRIBUTE``, ``TTL_DAYS``,
``SOURCE_TTL_DAYS``, ``DROP_FIELDS``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from . import environment
from .backfill_lines import QUERY, REPLICA, TARGETS, LineRules
from .backfill_objects import (
    SCAN,
    WRITE,
    ArchiveObject,
    ObjectJob,
    S3Checkpoints,
    WriteRate,
    backfill_object,
    list_window,
    parse_hour,
    tombstone_set,
)
from .clients import own_client
from .exceptions import ConfigError
from .redaction import parse_paths
from .telemetry import emit_metrics, get_logger

SERVICE = "backfill"
ARCHIVE_BUCKET = "BACKFILL_ARCHIVE_BUCKET"
ARCHIVE_PREFIX = "BACKFILL_ARCHIVE_PREFIX"
TARGET = "BACKFILL_TARGET"
TABLE = "BACKFILL_TABLE"
CHECKPOINT_BUCKET = "BACKFILL_CHECKPOINT_BUCKET"
CHECKPOINT_PREFIX = "BACKFILL_CHECKPOINT_PREFIX"
WRITE_RATE = "BACKFILL_WRITE_RATE"
MANIFEST = "manifest.json"
TOMBSTONES = "tombstones.json"
REPORT = "report.json"


@dataclass(frozen=True)
class QueryKeyRules:
    """The query table's key and TTL rules (:class:`.query_items.QueryRules`) for a backfill."""

    hash_attribute: str
    range_attribute: str
    hash_type: str = "S"
    sort_key_attribute: str = "eventKey"
    ttl_attribute: str | None = None
    ttl_days: int = 0
    source_ttl_days: int = 0


def rules_from_env() -> LineRules:
    """The :class:`.backfill_lines.LineRules` of the environment; raises
    :class:`.exceptions.ConfigError` for a target that is not ``replica`` or ``query``."""
    target = environment.env_str(TARGET, REPLICA)
    if target not in TARGETS:
        raise ConfigError(f"environment variable {TARGET}={target!r} must be one of {TARGETS}")
    drop = parse_paths(environment.env_opt(environment.DROP_FIELDS), environment.DROP_FIELDS)
    ttl_attribute = environment.env_opt(environment.TTL_ATTRIBUTE)
    if target == REPLICA:
        return LineRules(REPLICA, ttl_attribute=ttl_attribute, drop=drop)
    query = QueryKeyRules(
        hash_attribute=environment.env_str(environment.QUERY_HASH_ATTRIBUTE),
        range_attribute=environment.env_str(environment.QUERY_RANGE_ATTRIBUTE),
        hash_type=environment.env_str(environment.QUERY_HASH_TYPE, "S"),
        sort_key_attribute=environment.env_str(environment.QUERY_SORT_KEY_ATTRIBUTE, "eventKey"),
        ttl_attribute=ttl_attribute,
        ttl_days=environment.env_int(environment.TTL_DAYS, 0, minimum=0),
        source_ttl_days=environment.env_int(environment.SOURCE_TTL_DAYS, 0, minimum=0),
    )
    return LineRules(QUERY, query=query, drop=drop)


_tombstones: dict[str, set[tuple[str, str]]] = {}


def _job(s3: Any, checkpoints: S3Checkpoints) -> ObjectJob:
    dynamodb = own_client("dynamodb")
    rate = WriteRate(float(environment.env_str(WRITE_RATE, "100")))
    return ObjectJob(
        bucket=environment.env_str(ARCHIVE_BUCKET),
        s3=s3,
        dynamodb=dynamodb,
        table=environment.env_str(TABLE),
        rules=rules_from_env(),
        checkpoints=checkpoints,
        rate=rate,
    )


def _read_json(s3: Any, bucket: str, key: str) -> Any:
    return json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())


def _write_json(s3: Any, bucket: str, key: str, value: Any) -> None:
    s3.put_object(Bucket=bucket, Key=key, Body=json.dumps(value).encode())


def sum_results(records: list[dict[str, Any]]) -> dict[str, Any]:
    """The run's report from its write checkpoints: totals, skips per reason, and every poison
    line as ``{"object", "line", "reason"}``."""
    report: dict[str, Any] = {"objects": len(records), "lines": 0, "written": 0, "deleted": 0}
    skipped: dict[str, int] = {}
    poison = []
    for record in sorted(records, key=lambda r: str(r["key"])):
        for name in ("lines", "written", "deleted"):
            report[name] += int(record.get(name, 0))
        for reason, count in record.get("skipped", {}).items():
            skipped[reason] = skipped.get(reason, 0) + int(count)
        poison += [
            {"object": record["key"], "line": line, "reason": reason}
            for line, reason in record.get("poison", [])
        ]
    report["skipped"] = skipped
    report["poison"] = poison
    return report


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """One step of the state machine (see the module docstring)."""
    log = get_logger(SERVICE)
    s3 = own_client("s3")
    bucket = environment.env_str(CHECKPOINT_BUCKET)
    prefix = environment.env_str(CHECKPOINT_PREFIX, "backfill/")
    checkpoints = S3Checkpoints(s3, bucket, prefix)
    action = event.get("action")
    if action == "plan":
        objects = list_window(
            s3,
            environment.env_str(ARCHIVE_BUCKET),
            environment.env_str(ARCHIVE_PREFIX, ""),
            parse_hour(str(event["from"])),
            parse_hour(str(event["to"])),
        )
        _write_json(s3, bucket, prefix + MANIFEST, [o.as_dict() for o in objects])
        log.info("backfill planned", extra={"objects": len(objects)})
        return {"bucket": bucket, "key": prefix + MANIFEST, "objects": len(objects)}
    if action == "tombstones":
        keys = sorted(tombstone_set(checkpoints))
        _write_json(s3, bucket, prefix + TOMBSTONES, [list(k) for k in keys])
        return {"tombstones": len(keys)}
    if action == "report":
        report = sum_results(list(checkpoints.all(WRITE)))
        _write_json(s3, bucket, prefix + REPORT, report)
        log.info("backfill report", extra={k: v for k, v in report.items() if k != "poison"})
        return {**report, "poison": len(report["poison"]), "report": prefix + REPORT}
    if action in (SCAN, WRITE):
        job = _job(s3, checkpoints)
        if action == WRITE:
            cache_key = f"{bucket}/{prefix}"
            if cache_key not in _tombstones:
                _tombstones[cache_key] = {
                    (str(h), str(r)) for h, r in _read_json(s3, bucket, prefix + TOMBSTONES)
                }
            job.tombstoned = _tombstones[cache_key]
        result = backfill_object(job, ArchiveObject.from_dict(event["object"]), action)
        counts = {
            "lines": result.lines,
            "written": result.written,
            "deleted": result.deleted,
            "poison": len(result.poison),
            "unwritten": result.unwritten,
        }
        emit_metrics(SERVICE, counts)
        if result.unwritten:
            # The map retries the object (its checkpoint is not written): fail this item.
            raise RuntimeError(f"{result.unwritten} requests unwritten: {result.errors[:3]}")
        return {"key": result.key, "phase": action, **counts}
    raise ConfigError(f"unknown backfill action {action!r}")


def forget_tombstones() -> None:
    """Forget the cached tombstone sets (tests; a new run starts a new execution environment
    or uses a new checkpoint prefix)."""
    _tombstones.clear()
