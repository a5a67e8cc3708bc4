"""The benchmark's report: Markdown tables, printed and written to ``bench/results.md``; a full
run's summary also goes into docs/bench.md (:func:`render_summary`, :func:`update_docs`). The
sections are in ``report_targets``, ``report_performance``, ``report_cost`` and
``report_correctness``."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from . import pseudonymised
from .report_correctness import correctness_section
from .report_cost import cost_section
from .report_performance import (
    asset_section,
    breakdown_section,
    calls_section,
    cpu_section,
    import_section,
    memory_section,
    side_by_side_section,
    throughput_section,
)
from .report_targets import performance_targets_section, targets_section

if TYPE_CHECKING:
    from .run import Results


def _machine_speed(res: Results) -> str:
    """The yardstick loop and the fake's own cost, so a reader can tell a slow machine from a
    slow handler."""
    start, end = res.reference_us
    text = (
        f"Yardstick `sum(range(1000))`: {start:.1f} / {end:.1f} CPU µs (start / end; a run "
        "whose yardstick is k times another's has every CPU figure inflated by about k)."
    )
    if res.fake_us:
        text += " The fake AWS's own CPU per request, inside every timed run: " + ", ".join(
            f"{op} {us:.1f} µs" for op, us in res.fake_us.items()
        )
        text += "."
    return text


def render(res: Results, machine: str) -> str:
    cfg = res.config
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    head = [
        "# Benchmark results",
        "",
        f"`make bench{' ARGS=--quick' if cfg.quick else ''}` on {when}, {res.elapsed_s:.0f} s. "
        f"Machine: {machine}. Load average (1 min) at start / end: "
        f"{res.load[0]:.1f} / {res.load[1]:.1f} on {os.cpu_count()} cores. " + _machine_speed(res),
        f"Batch sizes {', '.join(f'{n:,}' for n in cfg.sizes)}; latency per AWS request "
        f"{', '.join(f'{lat:g}' for lat in cfg.latencies)} ms. Ratios are the figures to read: "
        "absolute times depend on this machine (shared, 2 cores) and not on Lambda's CPU.",
        "",
        "Sources: throughput, CPU, memory and per-batch request counts use the in-process fake "
        "behind botocore (`bench/emulation.py`: real botocore serialisation, signing and "
        "parsing; the HTTP send answered in-process); the correctness run and its request "
        "counts use moto. The baseline is the seed design re-implemented in "
        "`bench/baseline.py` (per-record PutItem, AssumeRole every invocation; per-record "
        "PutRecord).",
    ]
    for note in res.notes:
        head.append(f"\n> **Note:** {note}")
    body = [
        ("Performance targets", performance_targets_section(res)),
        ("Targets", targets_section(res)),
        ("AWS requests per batch", calls_section(res)),
        ("Side by side: ours, the Powertools peer, the seed design", side_by_side_section(res)),
        ("Side by side: plain and pseudonymised", pseudonymised.section(res)),
        ("Throughput per shard", throughput_section(res)),
        ("CPU per record", cpu_section(res)),
        ("Where our CPU goes", breakdown_section(res)),
        ("Peak memory", memory_section(res)),
        ("Import time", import_section(res)),
        ("Asset size", asset_section(res)),
        ("Lambda cost per million records", cost_section(res)),
        ("Correctness (moto)", correctness_section(res)),
    ]
    text = "\n".join(head) + "\n"
    for title, section in body:
        text += f"\n## {title}\n\n{section}\n"
    for side, prof in res.profiles.items():
        text += (
            f"\n## Profile: {side} (ours, pyinstrument)\n\nFive warm invocations, N=1,000, "
            "0 ms. pyinstrument samples the main thread only: the AWS calls (and botocore's "
            "serialisation of them) run in the handler's writer threads, whose cost is in "
            "*Where our CPU goes*.\n\n```\n" + prof + "\n```\n"
        )
    return text


DOCS_START = "<!-- bench:results:start (written by make bench) -->"
DOCS_END = "<!-- bench:results:end -->"


def render_summary(res: Results, machine: str) -> str:
    """The part of the results docs/bench.md's summary shows: measured figures and ratios (side by
    side, plain and pseudonymised, throughput, where the CPU goes, cost). The targets and their
    pass/fail marks are in bench/results.md, not in the summary."""
    when = datetime.now(UTC).strftime("%Y-%m-%d")
    return "\n".join(
        [
            f"Latest full run ({when}, {res.elapsed_s:.0f} s): {machine}; load average "
            f"{res.load[0]:.1f} / {res.load[1]:.1f} (start / end) on {os.cpu_count()} cores. "
            + _machine_speed(res)
            + " The targets, with this run's pass/fail marks, are in `bench/results.md`.",
            "",
            "**Side by side: ours, the Powertools peer, the seed design**",
            "",
            side_by_side_section(res),
            "",
            "**Side by side: plain and pseudonymised**",
            "",
            pseudonymised.section(res),
            "",
            "**Throughput per shard**",
            "",
            throughput_section(res),
            "",
            "**Where our CPU goes**",
            "",
            breakdown_section(res),
            "",
            "**Lambda cost per million records**",
            "",
            cost_section(res),
        ]
    )


def update_docs(path: Path, summary: str) -> bool:
    """Replace the text between the markers in ``path``; False if the markers are missing."""
    text = path.read_text() if path.exists() else ""
    start, end = text.find(DOCS_START), text.find(DOCS_END)
    if start < 0 or end < start:
        return False
    path.write_text(text[: start + len(DOCS_START)] + "\n" + summary + "\n" + text[end:])
    return True
