"""The local run: both phases over the window's objects, one object after another, with a
tqdm progress bar, and the run's report (:class:`BackfillReport`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from ..handlers.backfill_objects import (
    SCAN,
    WRITE,
    ArchiveObject,
    ObjectJob,
    ObjectResult,
    backfill_object,
)


@dataclass
class BackfillReport:
    """What a run did. ``objects`` (in the window), ``resumed`` (object-phases a checkpoint
    already covered), ``lines``, ``written`` (puts this run sent), ``deleted`` (deletes this run
    sent: tombstones replayed),
    ``would_write`` (dry run), ``skipped`` (reason -> lines), ``poison`` (``{"object", "line",
    "reason"}`` per line that cannot be restored: never dropped silently), ``unfinished``
    (objects with requests left unwritten: run again), ``errors``."""

    dry_run: bool
    objects: int = 0
    resumed: int = 0
    lines: int = 0
    written: int = 0
    deleted: int = 0
    would_write: int = 0
    retried: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    poison: list[dict[str, Any]] = field(default_factory=list)
    unfinished: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def add(self, result: ObjectResult) -> None:
        if result.resumed:
            self.resumed += 1
        if result.phase != WRITE:
            return
        self.lines += result.lines
        if not result.resumed:  # a checkpoint's writes were an earlier run's
            self.written += result.written
            self.deleted += result.deleted
            self.would_write += result.would_write
            self.retried += result.retried
        for reason, count in result.skipped.items():
            self.skipped[reason] = self.skipped.get(reason, 0) + count
        self.poison += [
            {"object": result.key, "line": line, "reason": reason} for line, reason in result.poison
        ]
        if result.unwritten:
            self.unfinished.append(result.key)
        self.errors += [e for e in result.errors if e not in self.errors]

    @property
    def complete(self) -> bool:
        """Every object of the window is written (or counted, on a dry run)."""
        return not self.unfinished

    def as_dict(self) -> dict[str, Any]:
        return {
            "dry_run": self.dry_run,
            "objects": self.objects,
            "resumed": self.resumed,
            "lines": self.lines,
            "written": self.written,
            "deleted": self.deleted,
            "would_write": self.would_write,
            "retried": self.retried,
            "skipped": dict(sorted(self.skipped.items())),
            "poison": self.poison,
            "unfinished": self.unfinished,
            "errors": self.errors,
        }

    def lines_out(self) -> list[str]:
        """The report for a reader, a line each (poison lines listed with key and line)."""
        verb = "would write" if self.dry_run else "written"
        count = self.would_write if self.dry_run else self.written
        out = [
            f"objects: {self.objects} ({self.resumed} object-phases resumed from checkpoints)",
            f"lines: {self.lines}; {verb}: {count}; deletes replayed: {self.deleted}",
        ]
        out += [f"skipped ({reason}): {n}" for reason, n in sorted(self.skipped.items())]
        out += [f"poison: {p['object']} line {p['line']}: {p['reason']}" for p in self.poison]
        out += [f"unfinished (run again): {key}" for key in self.unfinished]
        out += [f"error: {error}" for error in self.errors]
        return out


def run_backfill(
    job: ObjectJob,
    objects: list[ArchiveObject],
    progress: IO[str] | None = None,
    each: Callable[[ObjectResult], None] | None = None,
) -> BackfillReport:
    """Run both phases over ``objects`` in order (see
    :mod:`stream_replica.handlers.backfill_objects`); ``progress``: where tqdm draws its bar
    (None: no bar); ``each``: called after every object-phase (the sandbox and tests use it)."""
    report = BackfillReport(job.dry_run, objects=len(objects))
    bar: Any = None
    if progress is not None:
        from tqdm import tqdm

        bar = tqdm(total=2 * len(objects), file=progress, unit="object", desc="backfill")
    try:
        tombstoned: set[tuple[str, str]] = set()
        for phase in (SCAN, WRITE):
            job.tombstoned = tombstoned
            for obj in objects:
                result = backfill_object(job, obj, phase)
                if phase == SCAN:
                    # Fresh or from its checkpoint, a scan result names the object's tombstones.
                    tombstoned.update(result.tombstones)
                report.add(result)
                if each is not None:
                    each(result)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix(written=report.written, poison=len(report.poison))
    finally:
        if bar is not None:
            bar.close()
    return report
