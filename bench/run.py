"""``make bench``: measure our handlers and the seed-design baseline side by side, in one run."""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stream_replica.testing.events import (
    SHAPES,
    clickstream,
    dynamodb_stream_event,
    kinesis_event,
)

from . import breakdown, correctness, harness, pseudonymised
from .subjects import Subject, apply_env, load_subjects

RESULTS = Path(__file__).resolve().parent / "results.md"
#: The page whose summary block a full run rewrites.
DOCS = Path(__file__).resolve().parent.parent / "docs" / "bench.md"
# A quick run must not overwrite the committed full results (.gitignore: bench/results-*.tmp).
QUICK_RESULTS = Path(__file__).resolve().parent / "results-quick.tmp"


@dataclass
class Config:
    sizes: list[int]
    latencies: list[float]
    repeats: int  # warm invocations timed per (function, size, latency); best reported
    baseline_io_cap: int  # baseline records actually sent when latency > 0 (see notes)
    baseline_cpu_cap: int  # … and at 0 ms
    import_repeats: int
    correctness_n: int
    cost_batch: int = 300
    quick: bool = False
    profile: bool = False
    out: Path = RESULTS


FULL = {
    "sizes": [100, 300, 1000, 10000],
    "latencies": [0.0, 5.0, 20.0],
    "repeats": 3,
    "baseline_io_cap": 300,
    "baseline_cpu_cap": 1000,
    "import_repeats": 9,
    "correctness_n": 300,
}
QUICK = {
    "sizes": [300, 1000],
    "latencies": [0.0, 5.0],
    "repeats": 2,
    "baseline_io_cap": 100,
    "baseline_cpu_cap": 300,
    "import_repeats": 3,
    "correctness_n": 100,
}


@dataclass
class Results:
    config: Config
    notes: list[str] = field(default_factory=list)
    runs: dict[tuple[str, str, int, float], harness.Invocations] = field(default_factory=dict)
    transform_us: dict[tuple[str, str], float] = field(default_factory=dict)
    memory: dict[tuple[str, str, int], int] = field(default_factory=dict)
    imports: dict[str, list[float]] = field(default_factory=dict)
    assets: dict[str, int] = field(default_factory=dict)
    correctness: dict[str, correctness.CorrectnessResult] = field(default_factory=dict)
    profiles: dict[str, str] = field(default_factory=dict)
    stages: dict[str, list[breakdown.Stage]] = field(default_factory=dict)
    experiments: dict[str, tuple[harness.Invocations, harness.Invocations]] = field(
        default_factory=dict
    )
    asset_source: str = ""
    load: tuple[float, float] = (0.0, 0.0)
    concurrency: dict[tuple[str, str], int] = field(default_factory=dict)
    side_by_side: dict[tuple[str, str, str, int, float], harness.Invocations] = field(
        default_factory=dict
    )
    writers: dict[int, harness.Invocations] = field(default_factory=dict)
    elapsed_s: float = 0.0
    #: CPU µs of a fixed pure-Python loop at start and end (:func:`reference_loop_us`)
    reference_us: tuple[float, float] = (0.0, 0.0)
    #: CPU µs per request the fake AWS itself costs, by operation (emulation.fake_cost_us)
    fake_us: dict[str, float] = field(default_factory=dict)


def event_for(side: str, n: int, shape: str = "clickstream") -> dict[str, Any]:
    payloads = SHAPES[shape](n) if shape != "clickstream" else clickstream(n)
    return kinesis_event(payloads) if side == "replicator" else dynamodb_stream_event(payloads)


#: Writer concurrencies compared for the replicator (MAX_WRITE_CONCURRENCY).
WRITER_CONCURRENCIES = (4, 8, 16)


def measure_side_by_side(res: Results, subjects: list[Subject]) -> None:
    """Ours, the Powertools peer and the seed design on both record shapes, and ours and the
    peer's replicator with one field pseudonymised (:mod:`.pseudonymised`): CPU per record of a
    warm invocation at 0 ms (and the collector's share of it) at N=1,000 and N=10,000, and
    records/s at 5 ms per call; then our replicator at each writer concurrency."""
    cfg = res.config
    sizes: list[int] = [n for n in (1000, 10000) if n in cfg.sizes] or [max(cfg.sizes)]
    for shape in SHAPES:
        for n in sizes:
            for s in subjects + pseudonymised.variants(subjects):
                if s.impl == "baseline" and n > cfg.baseline_cpu_cap:
                    continue
                event = event_for(s.side, n, shape)
                repeats = min(cfg.repeats, 2) if n > 1000 else max(cfg.repeats, 3)
                run = harness.invoke(s, event, latency_ms=0.0, repeats=repeats)
                res.side_by_side[(shape, s.side, s.impl, n, 0.0)] = run
                if n == sizes[0] and s.impl != "baseline":
                    one = {"Records": event["Records"][:1]}
                    res.side_by_side[(shape, s.side, s.impl, n, 5.0)] = harness.invoke(
                        s, event, latency_ms=5.0, repeats=cfg.repeats, warm_up=one
                    )
                _progress(
                    f"side by side {shape:11} {s.label:24} N={n:>6}: "
                    f"{run.cpu / n * 1e6:7.1f} CPU µs/record ({run.gc / n * 1e6:.1f} in gc)"
                )
    ours = next((s for s in subjects if s.side == "replicator" and s.impl == "ours"), None)
    if ours is None:
        return
    n = sizes[0]
    event = event_for("replicator", n)
    one = {"Records": event["Records"][:1]}
    saved = dict(ours.env)
    try:
        for concurrency in WRITER_CONCURRENCIES:
            ours.env["MAX_WRITE_CONCURRENCY"] = str(concurrency)
            res.writers[concurrency] = harness.invoke(
                ours, event, latency_ms=5.0, repeats=max(cfg.repeats, 3), warm_up=one
            )
            _progress(
                f"writers={concurrency:>2}: {res.writers[concurrency].records_per_s:,.0f} "
                "records/s at 5 ms"
            )
    finally:
        ours.env.clear()
        ours.env.update(saved)
        os.environ.pop("MAX_WRITE_CONCURRENCY", None)
        ours.reset()


def _progress(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def measure_throughput(res: Results, subjects: list[Subject]) -> None:
    """Every function at every size and latency. The baseline is strictly sequential (one call
    per record; 10,000 records at 20 ms would take 200 s per invocation): past a cap it is timed
    once on the first records and once on an empty batch (its per-invocation set-up), and
    scaled linearly to each larger N (:func:`harness.extrapolate_sequential`)."""
    cfg = res.config
    events = {
        (side, n): event_for(side, n) for side in ("replicator", "archiver") for n in cfg.sizes
    }
    for s in subjects:
        one = {"Records": events[(s.side, cfg.sizes[0])]["Records"][:1]}
        for lat in cfg.latencies:
            cap = cfg.baseline_io_cap if lat > 0 else cfg.baseline_cpu_cap
            sample: tuple[harness.Invocations, harness.Invocations] | None = None
            for n in cfg.sizes:
                event = events[(s.side, n)]
                # Sleeps dominate the baseline's time under latency: one timed run suffices.
                repeats = 1 if (s.impl == "baseline" and lat > 0) else cfg.repeats
                if n > 1000:
                    repeats = min(repeats, 2)
                # At 0 ms the cold run shows the first invocation's calls; under latency a
                # one-record warm-up creates the clients without sleeping through a whole batch.
                warm_up = one if lat > 0 else None
                if s.impl == "baseline" and n > cap:
                    if sample is None:
                        capped = {"Records": events[(s.side, max(cfg.sizes))]["Records"][:cap]}
                        sample = (
                            harness.invoke(s, capped, latency_ms=lat, repeats=repeats),
                            harness.invoke(s, {"Records": []}, latency_ms=lat, repeats=repeats),
                        )
                    run = harness.extrapolate_sequential(*sample, n)
                else:
                    run = harness.invoke(s, event, latency_ms=lat, repeats=repeats, warm_up=warm_up)
                res.runs[(s.side, s.impl, n, lat)] = run
                _progress(
                    f"{s.label:24} N={n:>6} {lat:>4.0f} ms/call: "
                    f"{run.records_per_s:>10,.0f} records/s  {run.warm_calls}"
                    + (f"  (scaled from {run.scaled_from})" if run.scaled_from else "")
                )


def measure_cpu_and_memory(res: Results, subjects: list[Subject]) -> None:
    cfg = res.config
    n_transform = 1000
    for s in subjects:
        res.transform_us[(s.side, s.impl)] = harness.transform_us_per_record(
            s, event_for(s.side, n_transform)
        )
    for n in cfg.sizes:
        for s in subjects:
            # The baseline holds one record's item at a time: its peak does not grow with N.
            if s.impl == "baseline" and n > cfg.baseline_cpu_cap:
                continue
            res.memory[(s.side, s.impl, n)] = harness.peak_memory_bytes(s, event_for(s.side, n))
        _progress(f"peak memory N={n} done")


def measure_imports_and_assets(res: Results) -> None:
    with tempfile.TemporaryDirectory(prefix="bench-assets-") as tmp:
        assets = harness.build_assets(Path(tmp))
        res.asset_source = harness.asset_builder_source()
        res.assets = {name: path.stat().st_size for name, path in assets.items()}
        try:
            res.imports = harness.import_times(assets, res.config.import_repeats)
        except RuntimeError as exc:
            res.notes.append(f"import time not measured: {exc}")
    _progress("import times and asset sizes done")


def measure_correctness(res: Results, subjects: list[Subject]) -> None:
    by = {(s.side, s.impl): s for s in subjects}
    for impl in ("ours", "baseline"):
        if ("replicator", impl) in by and ("archiver", impl) in by:
            res.correctness[impl] = correctness.run(
                by[("replicator", impl)], by[("archiver", impl)], res.config.correctness_n
            )
            _progress(f"moto correctness ({impl}): ok={res.correctness[impl].ok}")


def measure_breakdown(res: Results, subjects: list[Subject], n: int = 1000) -> None:
    ours = {s.side: s for s in subjects if s.impl == "ours"}
    if not ours:
        return
    res.stages["replicator"] = breakdown.replicator_stages(event_for("replicator", n))
    res.stages["archiver"] = breakdown.archiver_stages(event_for("archiver", n))
    for side, s in ours.items():
        res.experiments[side] = breakdown.experiment(s, event_for(side, n), res.config.repeats)
    _progress("CPU breakdown and parameter-validation experiment done")


def profile_ours(res: Results, subjects: list[Subject], n: int = 1000) -> None:
    """pyinstrument profile of one warm invocation of each of our handlers (fake AWS, 0 ms)."""
    from pyinstrument import Profiler

    from .emulation import emulation

    for s in subjects:
        if s.impl != "ours":
            continue
        event = event_for(s.side, n)
        with emulation(fake=True):
            harness.call(s, event)
            profiler = Profiler(interval=0.0005)
            profiler.start()
            for _ in range(5):
                harness.call(s, event)
            profiler.stop()
        res.profiles[s.side] = profiler.output_text(unicode=False, color=False, show_all=False)


def reference_loop_us() -> float:
    """CPU µs of ``sum(range(1000))``, best of 7 passes of 200: a yardstick of how fast this
    machine runs Python right now (on a shared or throttled machine the same code takes longer
    in CPU time too), recorded with the results so that runs on different days can be compared."""
    best = float("inf")
    for _ in range(7):
        start = time.process_time()
        for _ in range(200):
            sum(range(1000))
        best = min(best, time.process_time() - start)
    return best / 200 * 1e6


def measure_fake_cost(res: Results) -> None:
    """What the fake AWS costs per request (it is inside every timed run's CPU)."""
    from .emulation import fake_cost_us

    record = b'{"Data":"' + b"A" * 1400 + b'"}'
    firehose_body = b'{"DeliveryStreamName":"x","Records":[' + b",".join([record] * 500) + b"]}"
    res.fake_us = {
        "dynamodb:BatchWriteItem (25 items)": fake_cost_us("dynamodb", "BatchWriteItem", b"{}"),
        "firehose:PutRecordBatch (500 records)": fake_cost_us(
            "firehose", "PutRecordBatch", firehose_body, repeats=200
        ),
    }


def run(cfg: Config) -> Results:
    start = time.perf_counter()
    apply_env()
    subjects, notes = load_subjects()
    res = Results(cfg, notes=notes)
    res.concurrency = {(s.side, s.impl): s.concurrency for s in subjects}
    load_start = os.getloadavg()[0]
    reference_start = reference_loop_us()
    measure_fake_cost(res)
    measure_side_by_side(res, subjects)
    # The earlier tables compare ours with the seed design only.
    subjects = [s for s in subjects if s.impl != "peer"]
    measure_throughput(res, subjects)
    measure_cpu_and_memory(res, subjects)
    measure_breakdown(res, subjects)
    measure_imports_and_assets(res)
    measure_correctness(res, subjects)
    if cfg.profile:
        profile_ours(res, subjects)
    res.elapsed_s = time.perf_counter() - start
    res.load = (load_start, os.getloadavg()[0])
    res.reference_us = (reference_start, reference_loop_us())
    return res


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import os

    return (
        f"{platform.machine()}, {cpu}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}"
    )


def parse_args(argv: list[str] | None) -> Config:
    p = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    p.add_argument("--quick", action="store_true", help="fewer sizes and repeats (~30 s)")
    p.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], help="e.g. 300,1000")
    p.add_argument(
        "--latencies", type=lambda s: [float(x) for x in s.split(",")], help="ms, e.g. 0,5,20"
    )
    p.add_argument(
        "--profile",
        action="store_true",
        help="with --quick: add pyinstrument profiles of ours (a full run always does)",
    )
    p.add_argument(
        "--out", type=Path, help=f"default {RESULTS} ({QUICK_RESULTS.name} with --quick)"
    )
    a = p.parse_args(argv)
    base: dict[str, Any] = dict(QUICK if a.quick else FULL)
    if a.sizes:
        base["sizes"] = a.sizes
    if a.latencies:
        base["latencies"] = a.latencies
    base["sizes"] = list(base["sizes"])
    if 5.0 not in base["latencies"]:
        p.error("--latencies must include 5 (the targets and the cost model are stated at 5 ms)")
    if 0.0 not in base["latencies"]:
        p.error("--latencies must include 0 (CPU and I/O wait are separated against it)")
    # A full run always profiles our handlers; --quick only when asked.
    out = a.out or (QUICK_RESULTS if a.quick else RESULTS)
    return Config(**base, quick=a.quick, profile=a.profile or not a.quick, out=out)


def main(argv: list[str] | None = None) -> int:
    from .report import render, render_summary, update_docs

    cfg = parse_args(argv)
    res = run(cfg)
    text = render(res, machine())
    print(text)
    cfg.out.write_text(text)
    _progress(f"written to {cfg.out} in {res.elapsed_s:.0f} s")
    # Only a full default run goes into the documentation.
    full_run = cfg.out == RESULTS and not cfg.quick and cfg.sizes == FULL["sizes"]
    if full_run and update_docs(DOCS, render_summary(res, machine())):
        _progress(f"summary written to {DOCS}")
    return 0
