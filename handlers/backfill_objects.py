"""The backfill's unit of work: one archive object (read its lines, write its requests, record
its checkpoint), run by the local command (``python -m stream_replica.backfill``) one object
after another, or by the backfill Lambda (:mod:`.backfill_worker`) under a Step Functions
distributed map. Both call :func:`backfill_object`; see ``docs/backfill.md``.

A run has two phases over the same objects, each with a checkpoint per object:

1. ``scan``: collect the object's tombstones (user deletes); nothing is written;
2. ``write``: plan the object's lines (:func:`.backfill_lines.plan_object`) against the
   tombstones of the whole window and write them with BatchWriteItem
   (:func:`.chunk_writes.write_chunk`: 25 per call, UnprocessedItems retried with backoff, an
   item DynamoDB rejects isolated as poison) at most ``rate`` items per second.

An object whose checkpoint for the phase exists (same ETag) is not done again: a killed run
resumes at the first object without one and rewrites at most that object's items (writes are
puts and deletes of fixed keys: idempotent). An object some of whose requests stay unwritten
after the retries gets no checkpoint and is reported, to be done by the next run.

Also here: the archive's time window (:func:`window_prefixes`, :func:`list_window`) from the
partition layout Firehose writes (``<prefix>year=YYYY/month=MM/day=dd/hour=HH/``,
``components/archiver.py`` ``DATE_PARTITION``), the checkpoint stores (:class:`S3Checkpoints`,
:class:`MemoryCheckpoints`) and the write budget (:class:`WriteRate`).
"""

from __future__ import annotations

import gzip
import json
import re
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from . import chunk_writes
from .backfill_lines import LineRules, Request, SourceKey, plan_object, tombstones_of
from .backfill_lines import unprocessed_key as _unprocessed_key
from .batches import BATCH_WRITE_MAX_ITEMS, chunked
from .retry import TimeBudget

SCAN = "scan"
WRITE = "write"
PHASES = (SCAN, WRITE)
#: One hour: the archive's finest partition.
HOUR = timedelta(hours=1)
#: The time real Firehose puts in an object's name: ``…-yyyy-MM-dd-HH-mm-ss-<uuid>``
#: (https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html).
_OBJECT_TIME = re.compile(r"-(\d{4})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-(\d{2})-[0-9a-f-]{36}(\.gz)?$")


# --------------------------------------------------------------------------- the window


def parse_hour(text: str) -> datetime:
    """A window bound, UTC, truncated to the hour: ``2026-01-31T05``, ``2026-01-31T05:00``,
    ``2026-01-31`` (hour 00) or any ISO 8601 time (an offset is converted to UTC).

    :raises ValueError: not such a time."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        try:
            moment = datetime.strptime(text, "%Y-%m-%dT%H")
        except ValueError:
            raise ValueError(
                f"{text!r} is not a time like 2026-01-31T05 (UTC hour) or an ISO 8601 time"
            ) from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC).replace(tzinfo=None)
    return moment.replace(minute=0, second=0, microsecond=0, tzinfo=UTC)


def window_prefixes(prefix: str, start: datetime, end: datetime) -> list[str]:
    """The hour partitions ``prefix + year=YYYY/month=MM/day=dd/hour=HH/`` from ``start`` to
    ``end`` (both UTC, inclusive, truncated to the hour). Raises ValueError when ``end`` is
    before ``start``."""
    first = start.replace(minute=0, second=0, microsecond=0)
    last = end.replace(minute=0, second=0, microsecond=0)
    if last < first:
        raise ValueError(
            f"the window ends ({last:%Y-%m-%dT%H}) before it starts ({first:%Y-%m-%dT%H})"
        )
    out = []
    moment = first
    while moment <= last:
        out.append(f"{prefix}year={moment:%Y}/month={moment:%m}/day={moment:%d}/hour={moment:%H}/")
        moment += HOUR
    return out


@dataclass(frozen=True)
class ArchiveObject:
    """One archive object: ``key``, ``etag`` (its version: a checkpoint is for one ETag),
    ``size`` (bytes) and ``time`` (epoch seconds: the time in its name, the arrival of its
    oldest record; else its LastModified)."""

    key: str
    etag: str
    size: int
    time: float

    def as_dict(self) -> dict[str, Any]:
        return {"key": self.key, "etag": self.etag, "size": self.size, "time": self.time}

    @classmethod
    def from_dict(cls, value: dict[str, Any]) -> ArchiveObject:
        return cls(str(value["key"]), str(value["etag"]), int(value["size"]), float(value["time"]))


def object_time(key: str, last_modified: datetime | None) -> float:
    """Epoch seconds of an object: the time in its Firehose name, else ``last_modified``."""
    match = _OBJECT_TIME.search(key)
    if match:
        year, month, day, hour, minute, second = (int(p) for p in match.groups()[:6])
        return datetime(year, month, day, hour, minute, second, tzinfo=UTC).timestamp()
    return last_modified.timestamp() if last_modified else 0.0


def list_window(
    s3: Any, bucket: str, prefix: str, start: datetime, end: datetime
) -> list[ArchiveObject]:
    """The objects of the window's hour partitions, oldest partition first, in key order
    (ListObjectsV2, 1,000 keys a page)."""
    objects: list[ArchiveObject] = []
    paginator = s3.get_paginator("list_objects_v2")
    for hour in window_prefixes(prefix, start, end):
        for page in paginator.paginate(Bucket=bucket, Prefix=hour):
            for entry in page.get("Contents", []):
                key = entry["Key"]
                objects.append(
                    ArchiveObject(
                        key,
                        str(entry.get("ETag", "")).strip('"'),
                        int(entry.get("Size", 0)),
                        object_time(key, entry.get("LastModified")),
                    )
                )
    return objects


def read_object(s3: Any, bucket: str, obj: ArchiveObject) -> bytes:
    """The object's bytes, gunzipped when it is gzip (``.gz``, or the gzip magic)."""
    data: bytes = s3.get_object(Bucket=bucket, Key=obj.key)["Body"].read()
    if data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    return data


# --------------------------------------------------------------------------- checkpoints


class Checkpoints(Protocol):
    """Where a run records what it has done: one small JSON document per (phase, object)."""

    def get(self, phase: str, key: str) -> dict[str, Any] | None: ...

    def put(self, phase: str, key: str, record: dict[str, Any]) -> None: ...

    def all(self, phase: str) -> Iterator[dict[str, Any]]: ...


class MemoryCheckpoints:
    """Checkpoints in memory (a dry run, tests); thread-safe."""

    def __init__(self) -> None:
        self._records: dict[tuple[str, str], dict[str, Any]] = {}
        self._lock = threading.Lock()

    def get(self, phase: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            return self._records.get((phase, key))

    def put(self, phase: str, key: str, record: dict[str, Any]) -> None:
        with self._lock:
            self._records[(phase, key)] = record

    def all(self, phase: str) -> Iterator[dict[str, Any]]:
        with self._lock:
            found = [r for (p, _), r in self._records.items() if p == phase]
        yield from found


class S3Checkpoints:
    """Checkpoints as S3 objects ``<prefix><phase>/<archive key>.json`` (shared by the workers of
    a distributed map and by the local command given ``--checkpoint s3://…``)."""

    def __init__(self, s3: Any, bucket: str, prefix: str) -> None:
        self.s3, self.bucket, self.prefix = s3, bucket, prefix

    def _key(self, phase: str, key: str) -> str:
        return f"{self.prefix}{phase}/{key}.json"

    def get(self, phase: str, key: str) -> dict[str, Any] | None:
        try:
            body = self.s3.get_object(Bucket=self.bucket, Key=self._key(phase, key))["Body"]
        except self.s3.exceptions.NoSuchKey:
            return None
        record: dict[str, Any] = json.loads(body.read())
        return record

    def put(self, phase: str, key: str, record: dict[str, Any]) -> None:
        self.s3.put_object(
            Bucket=self.bucket,
            Key=self._key(phase, key),
            Body=json.dumps(record, sort_keys=True).encode(),
            ContentType="application/json",
        )

    def all(self, phase: str) -> Iterator[dict[str, Any]]:
        paginator = self.s3.get_paginator("list_objects_v2")
        for page in paginator.paginate(Bucket=self.bucket, Prefix=f"{self.prefix}{phase}/"):
            for entry in page.get("Contents", []):
                body = self.s3.get_object(Bucket=self.bucket, Key=entry["Key"])["Body"]
                yield json.loads(body.read())


def tombstone_set(checkpoints: Checkpoints) -> set[SourceKey]:
    """Every source key a ``scan`` checkpoint names as deleted by a user."""
    return {
        (str(h), str(r))
        for record in checkpoints.all(SCAN)
        for h, r in record.get("tombstones", [])
    }


# --------------------------------------------------------------------------- the write budget


class WriteRate:
    """At most ``items_per_second`` items a second, on average (a budget so the backfill never
    takes the write capacity the live pipeline needs). :meth:`acquire` lets a chunk through at
    once and makes the next one wait for the time the last one used up; thread-safe.
    ``clock``/``sleep`` are injectable for tests. Raises ValueError for a rate that is not
    positive."""

    def __init__(
        self,
        items_per_second: float,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not items_per_second > 0:
            raise ValueError(f"the write rate must be above 0 items/s, got {items_per_second}")
        self.items_per_second = items_per_second
        self._clock, self._sleep = clock, sleep
        self._free_at = clock()
        self._lock = threading.Lock()
        self.waited = 0.0

    def acquire(self, items: int) -> None:
        """Wait, if need be, until ``items`` more items keep the average within the rate."""
        with self._lock:
            now = self._clock()
            start = max(now, self._free_at)
            self._free_at = start + items / self.items_per_second
            wait = start - now
        if wait > 0:
            self.waited += wait
            self._sleep(wait)


# --------------------------------------------------------------------------- one object


@dataclass
class ObjectResult:
    """What became of one object in one phase: ``done`` (checkpointed now), ``resumed`` (its
    checkpoint was already there), the counts, the poison lines (``line``, ``reason``) and the
    errors that left requests unwritten."""

    key: str
    phase: str
    done: bool = False
    resumed: bool = False
    lines: int = 0
    written: int = 0
    deleted: int = 0
    would_write: int = 0
    retried: int = 0
    unwritten: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    poison: list[tuple[int, str]] = field(default_factory=list)
    tombstones: list[SourceKey] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "phase": self.phase,
            "lines": self.lines,
            "written": self.written,
            "deleted": self.deleted,
            "would_write": self.would_write,
            "retried": self.retried,
            "unwritten": self.unwritten,
            "skipped": dict(self.skipped),
            "poison": [[line, reason] for line, reason in self.poison],
            "tombstones": [list(key) for key in self.tombstones],
            "errors": list(self.errors),
        }

    @classmethod
    def from_checkpoint(cls, record: dict[str, Any]) -> ObjectResult:
        result = cls(str(record["key"]), str(record["phase"]), resumed=True)
        for name in ("lines", "written", "deleted", "would_write", "retried", "unwritten"):
            setattr(result, name, int(record.get(name, 0)))
        result.skipped = dict(record.get("skipped", {}))
        result.poison = [(int(line), str(reason)) for line, reason in record.get("poison", [])]
        result.tombstones = [(str(h), str(r)) for h, r in record.get("tombstones", [])]
        return result


@dataclass
class ObjectJob:
    """Everything :func:`backfill_object` needs besides the object: the archive ``bucket``, the
    ``s3`` client (reads) and ``dynamodb`` client (writes; unused on a dry run), the target
    ``table`` and its :class:`.backfill_lines.LineRules`, the ``checkpoints``, the ``rate``,
    ``dry_run`` (plan and count, write nothing and record no checkpoint), ``now`` (the TTL rule's
    clock, epoch seconds) and the tombstone set (``scan`` phase's, for ``write``)."""

    bucket: str
    s3: Any
    dynamodb: Any
    table: str
    rules: LineRules
    checkpoints: Checkpoints
    rate: WriteRate
    dry_run: bool = False
    now: float = field(default_factory=time.time)
    tombstoned: set[SourceKey] = field(default_factory=set)
    #: Seconds a chunk's retries may take (the chunk writer's time budget).
    chunk_budget_s: float = 60.0


def _chunk_table(job: ObjectJob) -> chunk_writes.ChunkTable[Request]:
    return chunk_writes.ChunkTable(
        job.table,
        Request.body,
        lambda request: request.key_id,
        lambda entry: _unprocessed_key(entry, job.rules),
    )


def backfill_object(job: ObjectJob, obj: ArchiveObject, phase: str) -> ObjectResult:
    """Do one phase (``"scan"`` or ``"write"``) of one archive object and record its checkpoint
    (see the module docstring). Never raises for a line's content (poison is in the result);
    an AWS error reading the object or the checkpoints propagates (the caller reports it)."""
    if phase not in PHASES:
        raise ValueError(f"phase must be one of {PHASES}, got {phase!r}")
    found = job.checkpoints.get(phase, obj.key)
    if found is not None and found.get("etag") == obj.etag:
        return ObjectResult.from_checkpoint(found)
    result = ObjectResult(obj.key, phase)
    data = read_object(job.s3, job.bucket, obj)
    if phase == SCAN:
        result.tombstones, result.lines = tombstones_of(data)
    else:
        plan = plan_object(data, job.rules, job.tombstoned, job.now, obj.time)
        result.lines, result.skipped, result.tombstones = plan.lines, plan.skipped, plan.tombstones
        result.poison = list(plan.poison)
        requests = list(plan.requests.values())
        if job.dry_run:
            result.would_write = len(requests)
        else:
            _write(job, requests, result)
    result.poison.sort()
    if not job.dry_run and result.unwritten == 0:
        job.checkpoints.put(phase, obj.key, {**result.as_dict(), "etag": obj.etag})
        result.done = True
    return result


def _write(job: ObjectJob, requests: list[Request], result: ObjectResult) -> None:
    table = _chunk_table(job)
    for chunk in chunked(requests, BATCH_WRITE_MAX_ITEMS):
        job.rate.acquire(len(chunk))
        budget = TimeBudget(None, 0, default_ms=int(job.chunk_budget_s * 1000))
        outcome = chunk_writes.write_chunk(job.dynamodb, table, chunk, budget)
        unwritten = {id(r) for r in outcome.unwritten} | {id(r) for r, _ in outcome.rejected}
        for request in chunk:
            if id(request) in unwritten:
                continue
            if request.item is not None:
                result.written += 1
            else:
                result.deleted += 1
        result.retried += outcome.retried
        result.unwritten += len(outcome.unwritten)
        result.poison += [(r.line, reason) for r, reason in outcome.rejected]
        result.errors += sorted(set(outcome.errors))
