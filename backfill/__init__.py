"""Backfill: rebuild a table from the archive (``docs/backfill.md``).

``python -m stream_replica.backfill --bucket B --prefix P --from T --to T --target replica|query
--table NAME [--dry-run]`` (or ``make backfill ARGS=...``) reads the archived lines of a time
window and writes them to the chosen table: the replica table (or a new empty table of its
schema) exactly as the replicator wrote it, or the query table keyed as the query writer keys it.
:func:`run_backfill` is the same run for programs (the sandbox, the bench). The work per archive
object is :func:`stream_replica.handlers.backfill_objects.backfill_object`, the function the
backfill Lambda runs under a Step Functions distributed map (``components/backfill.py``).
"""

from .checkpoint_file import FileCheckpoints
from .driver import BackfillReport, run_backfill

__all__ = ["BackfillReport", "FileCheckpoints", "run_backfill"]
