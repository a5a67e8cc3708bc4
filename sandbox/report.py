"""What the run tells its user: the progress line while it runs, the summary table and the
final JSON line (:meth:`DemoResult.final_json`) at the end."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO

from . import analyst
from .run_cost import RunUsage, print_run_cost


@dataclass
class DemoResult:
    """The run's figures: the fields of the final JSON line, then the details of the summary
    table; ``failures`` says what went wrong, ``ok`` whether nothing did."""

    produced: int = 0
    poison: int = 0
    replicated_items: int = 0
    duplicate_items: int = 0
    archived_lines: int = 0
    #: records the emulated Firehose received (lines are packed, so well below archived_lines)
    firehose_records: int = 0
    dead_lettered: int = 0
    #: None when the replay was skipped (``--no-replay``): not run is not "added nothing"
    replay_new_items: int | None = None
    query_table_items: int = 0
    analyst_query_ok: bool = False
    raw_pii_in_target: int = 0
    #: None when the redrive pass was skipped (``--no-redrive``)
    redriven: int | None = None
    ok: bool = False
    # Details for the table (not in the final JSON line).
    archived_distinct: int = 0
    fidelity_checked: int = 0
    aggregated_items: int = 0
    fidelity_mismatches: int = 0
    on_failure_records: int = 0
    #: on-failure messages the redrive pass found / records they named / expired from the stream
    redrive_messages: int = 0
    redrive_range_records: int = 0
    redrive_expired: int = 0
    redrive_invocations: int = 0
    dead_letter_reasons: dict[str, int] = field(default_factory=dict)
    throttled_items: int = 0
    failed_firehose_records: int = 0
    crossaccount_denied: int = 0
    crossaccount_allowed: int = 0
    dead_letter_messages: int = 0
    query_table_deployed: bool = False
    query_users_checked: int = 0
    analyst: analyst.AnalystResult | None = None
    replay_stream_records_dropped: int = 0
    #: (seqNumbershardIdHash, sequenceNumber) of every archived line
    archived_keys: set[tuple[str, str]] = field(default_factory=set, repr=False)
    #: Where the Kinesis mapping really is (``source``: the stream's account) and what it reads
    #: (``efo``: a consumer ARN), read back from the emulator; and the prod account's functions.
    placement: str = ""
    consumer_mode: str = ""
    #: How the replicator reaches the table (``assume-role`` or ``resource-policy``), as the
    #: stacks were deployed.
    access_mode: str = ""
    prod_functions: int = 0
    pipeline_seconds: float = 0.0
    records_per_second: float = 0.0
    deploy_seconds: float = 0.0
    resources: dict[str, int] = field(default_factory=dict)
    mappings: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    #: what the run sent to the emulated services, priced in the summary (sandbox/run_cost.py)
    run_usage: RunUsage | None = None
    endpoint_url: str | None = None
    #: ``--switch-consumer-mode``: records both the replaced mapping and its replacement wrote
    #: (None: no switch), and each switch as "<mode> at <start>"
    switch_overlap_records: int | None = None
    switches: list[str] = field(default_factory=list)
    #: ``--cutover`` (None without): items the original deployment wrote before the take-over,
    #: records it skipped, produced events missing from the table at the end, events stored twice
    cutover_seed_items: int | None = None
    cutover_seed_skipped: int | None = None
    cutover_lost: int | None = None
    cutover_duplicates: int | None = None

    def final_json(self) -> str:
        """The last line of the run's output: the headline figures as one JSON object (the
        fields and their order are documented in docs/sandbox.md)."""
        keys = (
            "produced",
            "poison",
            "replicated_items",
            "duplicate_items",
            "archived_lines",
            "firehose_records",
            "dead_lettered",
            "replay_new_items",
            "query_table_items",
            "analyst_query_ok",
            "raw_pii_in_target",
            "redriven",
            "ok",
        )
        figures = {k: getattr(self, k) for k in keys}
        if self.switch_overlap_records is not None:  # after ok: only runs that switched
            figures["switch_overlap_records"] = self.switch_overlap_records
        if self.cutover_seed_items is not None:  # after ok: only cut-over runs
            for key in ("seed_items", "seed_skipped", "lost", "duplicates"):
                figures[f"cutover_{key}"] = getattr(self, f"cutover_{key}")
        return json.dumps(figures)


class Progress:
    """The progress line on ``stream`` (stderr): rewritten in place on a terminal, else a line
    every 2 s (or when ``force``d); nothing when not ``enabled``."""

    def __init__(self, enabled: bool, stream: TextIO) -> None:
        self.enabled = enabled
        self.stream = stream
        self.tty = enabled and stream.isatty()
        self._last = 0.0

    def show(self, text: str, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            self.stream.write(f"\r\033[K{text}")
            self.stream.flush()
        elif force or now - self._last >= 2.0:
            self.stream.write(text + "\n")
            self._last = now

    def line(self, text: str) -> None:
        """``text`` as a line of its own (on a terminal: replacing the progress line)."""
        if not self.enabled:
            return
        self.stream.write(f"\r\033[K{text}\n" if self.tty else f"{text}\n")
        self.stream.flush()
        self._last = time.monotonic()

    @contextmanager
    def phase(self, text: str) -> Iterator[None]:
        """A phase of the run: ``text ...`` when it starts, ``text: N.N s`` when it ends, so
        that no phase of more than a moment passes in silence, and the lines come in the order
        the phases run."""
        started = time.monotonic()
        if self.tty and self.enabled:
            self.stream.write(f"\r\033[K{text} ...")
            self.stream.flush()
        else:
            self.line(f"{text} ...")
        yield
        self.line(f"{text}: {time.monotonic() - started:.1f} s")

    def done(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _or_skipped(value: int | None) -> int | str:
    return "skipped" if value is None else value


def print_summary(result: DemoResult, out: TextIO) -> None:
    """The summary table, the dead-letter reasons, the analyst's view, every failure and the
    final JSON line, on ``out``."""
    rows = [
        ("records produced", result.produced),
        ("poison records produced", result.poison),
        ("items in the replica table", result.replicated_items),
        ("of which user records of KPL aggregates", result.aggregated_items),
        ("duplicate items", result.duplicate_items),
        ("lines archived to S3 (Firehose)", result.archived_lines),
        ("records the Firehose received (lines packed)", result.firehose_records),
        ("distinct items archived", result.archived_distinct),
        ("archived lines compared with their payload", result.fidelity_checked),
        ("dead-lettered (poison) records", result.dead_lettered),
        ("dead-letter messages (with redeliveries)", result.dead_letter_messages),
        ("on-failure messages redriven", result.redrive_messages),
        (
            "records named by them / redriven (counted in table, S3, dead letters)",
            f"{result.redrive_range_records} / {_or_skipped(result.redriven)}",
        ),
        ("records expired before the redrive", result.redrive_expired),
        ("batches left in on-failure queues", result.on_failure_records),
        ("items added by the replay from TRIM_HORIZON", _or_skipped(result.replay_new_items)),
        ("items in the query table (by user, time order)", result.query_table_items),
        ("users whose Query matches the replica, in order", result.query_users_checked),
        ("places in the target account holding raw PII", result.raw_pii_in_target),
        (
            "table-stream records of the replay's unchanged writes (dropped)",
            result.replay_stream_records_dropped,
        ),
        ("writes throttled (injected)", result.throttled_items),
        ("Firehose records failed (injected)", result.failed_firehose_records),
        (
            "cross-account calls allowed / denied (IAM checked)",
            f"{result.crossaccount_allowed} / {result.crossaccount_denied}",
        ),
        (
            "access mode / replicator placement / consumer mode (as deployed)",
            f"{result.access_mode} / {result.placement} / {result.consumer_mode}",
        ),
        ("Lambda functions in the prod account", result.prod_functions),
        ("resources deployed (both stacks)", sum(result.resources.values())),
        ("deploy time (both stacks)", f"{result.deploy_seconds:.1f} s"),
        ("pipeline time", f"{result.pipeline_seconds:.1f} s"),
        ("throughput", f"{result.records_per_second:,.0f} records/s"),
    ]
    if result.switch_overlap_records is not None:
        rows.append(("consumer-mode switches (new mapping's start)", "; ".join(result.switches)))
        rows.append(
            (
                "records both mappings wrote (the switches' overlap)",
                result.switch_overlap_records,
            )
        )
    if result.cutover_seed_items is not None:
        rows += [
            ("cut-over: items the original deployment wrote", result.cutover_seed_items),
            ("cut-over: records it skipped (repaired by the re-read)", result.cutover_seed_skipped),
            ("cut-over: produced records missing from the table", result.cutover_lost),
            ("cut-over: events stored twice", result.cutover_duplicates),
        ]
    for name, stats in result.mappings.items():
        rows.append(
            (
                f"{name}: invocations / errors / retries / bisections",
                f"{stats['invocations']} / {stats['function_errors']} / {stats['retries']} / "
                f"{stats['bisections']}",
            )
        )
    width = max(len(r[0]) for r in rows)
    print(f"{'check':<{width}}  value", file=out)
    print(f"{'-' * width}  {'-' * 12}", file=out)
    for label, value in rows:
        print(f"{label:<{width}}  {value}", file=out)
    if result.dead_letter_reasons:
        reasons = ", ".join(f"{k} x{v}" for k, v in sorted(result.dead_letter_reasons.items()))
        print(f"dead-letter reasons: {reasons}", file=out)
    if result.analyst is not None:
        a = result.analyst
        print(
            f"\nthe analyst's view: DuckDB over {a.objects} archived objects "
            f"({a.rows} lines, {a.distinct_rows} distinct items), read with the Glue table's "
            "partition layout:",
            file=out,
        )
        for line in a.report:
            print(line, file=out)
        print(f"analyst queries agree with the produced events: {a.ok}\n", file=out)
    if result.run_usage is not None:
        print_run_cost(result.run_usage, out)
    for failure in result.failures:
        print(f"FAILED: {failure}", file=out)
    print(result.final_json(), file=out)
    out.flush()
