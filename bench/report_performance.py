"""The report's performance sections: AWS requests per batch, throughput and CPU per record
(ours against the seed design and the Powertools peer), where our CPU goes, peak memory, import
time and asset size."""

from __future__ import annotations

import statistics
from typing import TYPE_CHECKING, Any

from . import breakdown, cost
from .report_tables import SIDES, payload_bytes, rate, ratio, table

if TYPE_CHECKING:
    from .run import Results


OPS = {
    "replicator": ("sts:AssumeRole", "dynamodb:BatchWriteItem", "dynamodb:PutItem"),
    "archiver": ("firehose:PutRecordBatch", "firehose:PutRecord"),
}


def _other_ops(calls: dict[str, int], known: tuple[str, ...]) -> str:
    rest = {k: v for k, v in calls.items() if k not in known}
    return ", ".join(f"{k} {v}" for k, v in rest.items()) or "—"


def calls_section(res: Results) -> str:
    parts = []
    for side in SIDES:
        ops = OPS[side]
        rows = []
        for n in res.config.sizes:
            for impl in ("ours", "baseline"):
                run = res.runs.get((side, impl, n, 0.0))
                if run is None:
                    continue
                mark = "†" if run.scaled_from else ""
                for when, calls in (("first", run.first_calls), ("warm", run.warm_calls)):
                    rows.append(
                        [f"{n:,}{mark}", impl, when]
                        + [str(calls.get(op, 0)) for op in ops]
                        + [_other_ops(calls, ops), str(sum(calls.values()))]
                    )
        target = (
            "target: ≤ ceil(N/25) BatchWriteItem, no AssumeRole after the first invocation"
            if side == "replicator"
            else "target: ceil(N/500) PutRecordBatch"
        )
        parts.append(
            f"**{side}** — AWS requests per batch of N records ({target}); "
            "`first` = first invocation of an execution environment, `warm` = every later one\n\n"
            + table(["N", "impl", "invocation", *ops, "other", "total"], rows)
        )
    if any(r.scaled_from for r in res.runs.values() if r.latency_ms == 0.0):
        parts.append(
            f"† scaled linearly from {res.config.baseline_cpu_cap} records and an empty batch "
            "(the baseline makes one call per record and its set-up calls once per invocation)."
        )
    return "\n\n".join(parts)


def throughput_section(res: Results) -> str:
    lats = res.config.latencies
    header = ["function", "N"]
    for lat in lats:
        header += [f"ours @ {lat:g} ms", f"baseline @ {lat:g} ms", "ratio"]
    rows = []
    capped = False
    for side in SIDES:
        for n in res.config.sizes:
            row = [side, f"{n:,}"]
            for lat in lats:
                ours = res.runs.get((side, "ours", n, lat))
                base = res.runs.get((side, "baseline", n, lat))
                mark = ""
                if base is not None and base.scaled_from:
                    mark, capped = "†", True
                row += [
                    rate(ours.records_per_s) if ours else "—",
                    (rate(base.records_per_s) + mark) if base else "—",
                    ratio(ours.records_per_s, base.records_per_s) if ours and base else "—",
                ]
            rows.append(row)
    note = (
        f"\n\n† baseline timed on its first {res.config.baseline_io_cap} records under latency "
        f"({res.config.baseline_cpu_cap} at 0 ms) and on an empty batch (its per-invocation "
        "AssumeRole and client set-up), scaled linearly to N: it makes one sequential call per "
        "record."
        if capped
        else ""
    )
    return (
        "Records per second per shard (one invocation at a time, as Lambda processes a shard; "
        f"best of {res.config.repeats} warm invocations; AWS answered by the in-process fake "
        "behind botocore, latency added per request)\n\n" + table(header, rows) + note
    )


def cpu_section(res: Results) -> str:
    rows = []
    for side in SIDES:
        t_ours = res.transform_us.get((side, "ours"))
        t_base = res.transform_us.get((side, "baseline"))
        row = [
            side,
            f"{t_ours:.1f}" if t_ours else "—",
            f"{t_base:.1f}" if t_base else "—",
            ratio(t_base, t_ours) if t_ours and t_base else "—",
        ]
        n = 1000 if 1000 in res.config.sizes else res.config.sizes[-1]
        full = {}
        for impl in ("ours", "baseline"):
            run = res.runs.get((side, impl, n, 0.0))
            full[impl] = run.cpu / run.n * 1e6 if run else None
        row += [
            f"{full['ours']:.0f}" if full["ours"] else "—",
            f"{full['baseline']:.0f}" if full["baseline"] else "—",
            ratio(full["baseline"], full["ours"]) if full["ours"] and full["baseline"] else "—",
        ]
        rows.append(row)
    return (
        "CPU µs per record. *Transform*: decode + build the item (replicator) or image → JSON "
        "line (archiver), no client, no I/O, 1,000 records, best of 3. *Whole handler*: process "
        f"CPU of a warm invocation at 0 ms/call incl. botocore serialisation, signing and "
        f"parsing (N={n:,}, fake AWS). Ratio = baseline / ours (> 1: ours cheaper).\n\n"
        + table(
            [
                "function",
                "transform ours",
                "transform baseline",
                "ratio",
                "whole handler ours",
                "whole handler baseline",
                "ratio",
            ],
            rows,
        )
    )


def breakdown_section(res: Results) -> str:
    if not res.stages:
        return "Not measured (our handlers not available)."
    parts = []
    for side, stages in res.stages.items():
        whole = res.runs.get((side, "ours", 1000, 0.0))
        rows = [
            [
                st.name if st.paid else f"~~{st.name}~~ (not run by the shipped handler)",
                f"{st.us_per_record:.1f}" if st.paid else f"({st.us_per_record:.1f})",
            ]
            for st in stages
        ]
        total = sum(st.us_per_record for st in stages if st.paid)
        if whole is not None:
            handler_us = whole.cpu / whole.n * 1e6
            rows.append(
                [
                    "rest (signing, hooks, threads, response parsing, logs and metrics)",
                    f"{max(0.0, handler_us - total):.1f}",
                ]
            )
            rows.append(["**whole handler** (warm, N=1,000, 0 ms)", f"**{handler_us:.1f}**"])
        parts.append(f"**{side}** (ours)\n\n" + table(["stage", "CPU µs/record"], rows))
    exp_rows = []
    for side, (r0, r5) in res.experiments.items():
        base0 = res.runs.get((side, "ours", 1000, 0.0))
        base5 = res.runs.get((side, "ours", 1000, 5.0))
        if base0 is None or base5 is None:
            continue
        exp_rows.append(
            [
                side,
                f"{base0.cpu / base0.n * 1e6:.0f} → {r0.cpu / r0.n * 1e6:.0f}",
                f"{rate(base5.records_per_s)} → {rate(r5.records_per_s)}",
                ratio(r5.records_per_s, base5.records_per_s),
            ]
        )
    shipped = breakdown.shipped_validation()
    parts.append(
        "Experiment, not the shipped handler: the same handler with botocore's "
        f"`parameter_validation` flipped from the shipped `{shipped}` to `{not shipped}` "
        "(`bench/breakdown.py`), N=1,000; wall-clock rates are noisy on a shared machine, the "
        "CPU figures less so\n\n"
        + table(
            ["function", "CPU µs/record (as shipped → flipped)", "records/s @ 5 ms", "ratio"],
            exp_rows,
        )
    )
    return "\n\n".join(parts)


IMPLS = ("ours", "peer", "baseline")


def _us(run: Any) -> str:
    if run is None:
        return "—"
    return f"{run.cpu / run.n * 1e6:.1f} ({run.gc / run.n * 1e6:.1f})"


def side_by_side_section(res: Results) -> str:
    """Ours, the Powertools peer and the seed design on both record shapes."""
    if not res.side_by_side:
        return "Not measured."
    keys = res.side_by_side
    shapes = sorted({k[0] for k in keys}, key=lambda x: x != "clickstream")
    sizes = sorted({k[3] for k in keys})
    rows = []
    for side in SIDES:
        for shape in shapes:
            for n in sizes:
                runs = {impl: keys.get((shape, side, impl, n, 0.0)) for impl in IMPLS}
                ours = runs["ours"]
                if ours is None:
                    continue
                row = [side, shape, f"{n:,}"] + [_us(runs[impl]) for impl in IMPLS]
                for impl in ("peer", "baseline"):
                    other = runs[impl]
                    row.append(ratio(other.cpu / other.n, ours.cpu / ours.n) if other else "—")
                rows.append(row)
    growth = []
    if len(sizes) > 1:
        for side in SIDES:
            for shape in shapes:
                small = keys.get((shape, side, "ours", sizes[0], 0.0))
                big = keys.get((shape, side, "ours", sizes[-1], 0.0))
                if small and big:
                    change = (big.cpu / big.n) / (small.cpu / small.n) - 1
                    growth.append(f"{side} {shape} {change:+.0%}")
    rate_rows = []
    for side in SIDES:
        for shape in shapes:
            n = sizes[0]
            ours5 = keys.get((shape, side, "ours", n, 5.0))
            peer5 = keys.get((shape, side, "peer", n, 5.0))
            seed5 = res.runs.get((side, "baseline", n, 5.0)) if shape == "clickstream" else None
            ours0 = keys.get((shape, side, "ours", n, 0.0))
            if ours5 is None or ours0 is None:
                continue
            mb = 512
            io_wait = cost.io_wait_s(ours0.warm_calls, res.concurrency.get((side, "ours"), 4), 5.0)
            at_512 = cost.estimate(n, ours0.cpu, io_wait, mb).records_per_s
            rate_rows.append(
                [
                    side,
                    shape,
                    f"{n:,}",
                    rate(ours5.records_per_s),
                    rate(peer5.records_per_s) if peer5 else "—",
                    ratio(ours5.records_per_s, peer5.records_per_s) if peer5 else "—",
                    rate(seed5.records_per_s) if seed5 else "—",
                    ratio(ours5.records_per_s, seed5.records_per_s) if seed5 else "—",
                    f"{rate(at_512)} ({at_512 * payload_bytes(shape) / 1e6:.1f} MB/s)",
                ]
            )
    writer_rows = [
        [
            str(c),
            rate(run.records_per_s),
            f"{run.cpu / run.n * 1e6:.1f}",
            f"{run.wall * 1000:.0f}",
        ]
        for c, run in sorted(res.writers.items())
    ]
    text = (
        "CPU µs per record of a warm invocation at 0 ms per call (process CPU, all threads; in "
        "brackets the part spent in Python's cyclic garbage collector, from `gc.callbacks`), "
        "best of the repeats; fake AWS behind real botocore. The peer is Powertools' "
        "`BatchProcessor` with boto3's `Table.batch_writer()` (replicator) and with "
        "`record.dynamodb.new_image` + `json.dumps` + `PutRecordBatch` (archiver), "
        "`bench/peer.py`; the seed design is `bench/baseline.py`. Ratio = theirs / ours "
        "(> 1: ours cheaper). Record shapes: *clickstream* (about "
        f"{payload_bytes('clickstream'):,.0f} B of JSON, "
        "`stream_replica.testing.events.clickstream`) and "
        f"*nested* (about {payload_bytes('nested'):,.0f} B, a basket of line items, lists "
        "of maps, `stream_replica.testing.events.nested`).\n\n"
        + table(
            [
                "function",
                "shape",
                "N",
                "ours (gc)",
                "peer (gc)",
                "seed (gc)",
                "peer / ours",
                "seed / ours",
            ],
            rows,
        )
    )
    if growth:
        text += (
            f"\n\nCPU per record of ours at N={sizes[-1]:,} against N={sizes[0]:,}: "
            + "; ".join(growth)
            + "."
        )
    if rate_rows:
        text += (
            f"\n\nRecords/s per shard at 5 ms per call (wall clock, one invocation at a time, "
            f"N={sizes[0]:,}; the seed design's figure is the clickstream run of *Throughput per "
            "shard*), and what the measured CPU implies at the replicator's default 512 MB "
            "(0.29 vCPU; CPU ÷ share + the I/O rounds at 5 ms, `bench/cost.py`) with the "
            "payload bytes that carries\n\n"
            + table(
                [
                    "function",
                    "shape",
                    "N",
                    "ours",
                    "peer",
                    "ours / peer",
                    "seed",
                    "ours / seed",
                    "ours at 512 MB",
                ],
                rate_rows,
            )
        )
    if writer_rows:
        text += (
            "\n\nOur replicator at each writer concurrency (`MAX_WRITE_CONCURRENCY`), clickstream, "
            f"N={sizes[0]:,}, 5 ms per call, best of the repeats\n\n"
            + table(["writers", "records/s", "CPU µs/record", "ms per batch"], writer_rows)
        )
    return text


def memory_section(res: Results) -> str:
    rows = []
    for side in SIDES:
        for n in res.config.sizes:
            o = res.memory.get((side, "ours", n))
            b = res.memory.get((side, "baseline", n))
            rows.append(
                [
                    side,
                    f"{n:,}",
                    f"{o / 2**20:.2f}" if o is not None else "—",
                    f"{b / 2**20:.2f}" if b is not None else "—",
                ]
            )
    return (
        "Peak Python heap during one warm invocation, MiB (tracemalloc; the event itself "
        "excluded)\n\n"
        + table(["function", "N", "ours", "baseline"], rows)
        + f"\n\n— baseline past {res.config.baseline_cpu_cap:,} records: not measured; it holds "
        "one record's item at a time, so its peak does not grow with N."
    )


def import_section(res: Results) -> str:
    if not res.imports:
        return "Import time: not measured."
    bare = statistics.median(res.imports["import boto3"])
    rows = []
    for name, times in res.imports.items():
        med = statistics.median(times)
        extra = "modules beyond" in name or "by -X importtime" in name
        rows.append(
            [name, f"{med * 1000:.0f}", f"+{med / bare:.0%}" if extra else ratio(med, bare)]
        )
    return (
        f"Import time (CPU time of the import statement), a fresh interpreter each, median of "
        f"{res.config.import_repeats} interleaved runs; the handler is imported from its unzipped "
        "asset with bytecode writing off (Lambda's /var/task is read-only). Ratio to a bare "
        "`import boto3` (target ≤ 1.3x). *modules beyond boto3's*: the `-X importtime` self "
        "times of the modules the handler loads that a bare `import boto3` does not (ours, "
        "compiled from source, and `boto3.dynamodb.types`), median of 3 — independent of "
        "import order, so it isolates what the handler itself adds; *boto3 by -X importtime*: "
        "the sum of bare boto3's self times in the same runs, the base of the ratio in the "
        "*Performance targets* table (both wall clock).\n\n"
        + table(["module", "ms", "x import boto3"], rows)
    )


def asset_section(res: Results) -> str:
    rows = [[name, f"{size:,}", f"{size / 1024:.1f}"] for name, size in res.assets.items()]
    return (
        f"Zipped code asset per function (built from {res.asset_source}; target ≤ 50 KB)\n\n"
        + table(["asset", "bytes", "KiB"], rows)
    )
