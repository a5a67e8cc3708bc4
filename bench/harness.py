"""Measurements: one invocation at a time, as Lambda runs one batch per shard at a time."""

from __future__ import annotations

import contextlib
import gc
import os
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stream_replica.testing.events import LambdaContext

from .emulation import emulation
from .subjects import LAMBDA_ENV, Event, Subject

REPO = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def quiet_stdout() -> Iterator[None]:
    """Send file descriptor 1 to /dev/null while a handler runs: its structured logs and EMF
    metrics are still produced (their cost counts, as in Lambda) but don't flood the report.
    The logging handlers hold the original ``sys.stdout`` object, so only a descriptor-level
    redirect catches them."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def call(subject: Subject, event: Event) -> Any:
    """Invoke as Lambda would: the function's own environment, a context, stdout discarded.
    (Credentials stay whatever the caller put in the environment.)"""
    os.environ.update(subject.env)
    ctx = LambdaContext(subject.function_name, subject.timeout_s)
    with quiet_stdout():
        return subject.handler(event, ctx)


def check_result(subject: Subject, result: Any) -> None:
    """Our handlers must report every record written: a benchmark of a failing run is void."""
    if subject.impl == "ours":
        failures = (result or {}).get("batchItemFailures")
        if failures:
            raise RuntimeError(
                f"{subject.label} reported {len(failures)} batchItemFailures in a benchmark run "
                f"(first: {failures[0]}); the figures would be meaningless"
            )


@dataclass
class Invocations:
    """A cold-client invocation followed by ``repeats`` warm ones, all against the fake."""

    n: int
    latency_ms: float
    first_calls: dict[str, int]
    warm_calls: dict[str, int]
    wall_s: list[float] = field(default_factory=list)
    cpu_s: list[float] = field(default_factory=list)
    gc_s: list[float] = field(default_factory=list)  # CPU in the cyclic collector, per run
    scaled_from: int = 0  # records actually sent, when scaled by extrapolate_sequential

    # Best of the repeats, not the median: the bench machine is shared, and interference only
    # ever adds time (the usual defence, as in ``timeit``).
    @property
    def wall(self) -> float:
        return min(self.wall_s)

    @property
    def cpu(self) -> float:
        return min(self.cpu_s)

    @property
    def records_per_s(self) -> float:
        return self.n / self.wall

    @property
    def gc(self) -> float:
        """CPU seconds the cyclic garbage collector took in the run with the least CPU."""
        if not self.gc_s:
            return 0.0
        return self.gc_s[self.cpu_s.index(self.cpu)]


class GcTimer:
    """CPU time spent in the cyclic garbage collector (all threads), via ``gc.callbacks``."""

    def __init__(self) -> None:
        self.total = 0.0
        self._local = threading.local()

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            self._local.start = time.thread_time()
        else:
            self.total += time.thread_time() - getattr(self._local, "start", time.thread_time())

    def __enter__(self) -> GcTimer:
        gc.callbacks.append(self)
        return self

    def __exit__(self, *exc: object) -> None:
        gc.callbacks.remove(self)


def invoke(
    subject: Subject,
    event: Event,
    *,
    latency_ms: float,
    repeats: int,
    warm_up: Event | None = None,
) -> Invocations:
    """Run ``subject``: once with fresh clients (the first invocation of an execution
    environment) on ``warm_up`` (default: the event itself), then ``repeats`` times warm on
    ``event``; time the warm ones (wall and process CPU, all threads) and count the AWS requests
    of each. ``first_calls`` is only comparable to ``warm_calls`` without ``warm_up``."""
    subject.reset()
    with emulation(fake=True, latency_ms=latency_ms) as counter:
        check_result(subject, call(subject, warm_up if warm_up is not None else event))
        first = counter.snapshot()
        run = Invocations(len(event["Records"]), latency_ms, first, {})
        for _ in range(repeats):
            counter.reset()
            with GcTimer() as collector:
                w0, c0 = time.perf_counter(), time.process_time()
                result = call(subject, event)
                run.wall_s.append(time.perf_counter() - w0)
                run.cpu_s.append(time.process_time() - c0)
            run.gc_s.append(collector.total)
            check_result(subject, result)
        run.warm_calls = counter.snapshot()
    return run


def extrapolate_sequential(sample: Invocations, setup: Invocations, n: int) -> Invocations:
    """A strictly sequential per-record handler (the baseline) timed on ``sample.n`` records,
    scaled to ``n``: the per-invocation setup (measured on an empty batch: AssumeRole and the
    client, for the seed replicator) once, plus ``n`` times the per-record time of the sample."""

    def scale(total: float, fixed: float) -> float:
        return fixed + (total - fixed) * n / sample.n

    def scale_calls(total: dict[str, int], fixed: dict[str, int]) -> dict[str, int]:
        return {op: round(scale(count, fixed.get(op, 0))) for op, count in sorted(total.items())}

    return Invocations(
        n,
        sample.latency_ms,
        scale_calls(sample.first_calls, setup.first_calls),
        scale_calls(sample.warm_calls, setup.warm_calls),
        wall_s=[scale(w, setup.wall) for w in sample.wall_s],
        cpu_s=[scale(c, setup.cpu) for c in sample.cpu_s],
        scaled_from=sample.n,
    )


def transform_us_per_record(subject: Subject, event: Event, min_time_s: float = 0.2) -> float:
    """CPU microseconds per record of the transform alone (no client, no I/O): the best of
    several passes, each repeated until it has run ``min_time_s``."""
    n = len(event["Records"])
    best = float("inf")
    for _ in range(3):
        loops, start = 0, time.process_time()
        while True:
            subject.transform(event)
            loops += 1
            elapsed = time.process_time() - start
            if elapsed >= min_time_s / 3:
                break
        best = min(best, elapsed / (loops * n))
    return best * 1e6


def peak_memory_bytes(subject: Subject, event: Event) -> int:
    """Peak Python heap allocated during one warm invocation (tracemalloc), the event itself
    excluded (Lambda's runtime holds it before the handler runs)."""
    with emulation(fake=True):
        # warm: clients exist, as on every invocation but the first
        call(subject, {"Records": event["Records"][:1]})
        tracemalloc.start()
        try:
            call(subject, event)
            return tracemalloc.get_traced_memory()[1]
        finally:
            tracemalloc.stop()


# --- assets and import time -------------------------------------------------------------------


def build_assets(tmp: Path) -> dict[str, Path]:
    """Each function's code asset as a zip, built the way the component builds it."""
    assets: dict[str, Path] = {}
    builder = _component_asset_builder()
    for side in ("replicator", "archiver"):
        path = tmp / f"{side}.zip"
        if builder is not None:
            builder(side, path)
        else:
            _zip_handlers(path)
        assets[side] = path
    baseline_zip = tmp / "baseline.zip"
    with zipfile.ZipFile(baseline_zip, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.write(REPO / "bench" / "baseline.py", "baseline.py")
    assets["baseline"] = baseline_zip
    return assets


def asset_builder_source() -> str:
    return (
        "components/assets.py `handler_files(handler=...)` (each function's modules), deflate"
        if _component_asset_builder() is not None
        else "all handlers/*.py, zip -9 (components/assets.py not available)"
    )


def _component_asset_builder() -> Any:
    """The file list of ``components/assets.py`` (what the Pulumi asset archive holds), zipped
    with deflate as Pulumi uploads it; None if that module is not importable."""
    try:
        from stream_replica.components.assets import handler_files
    except ImportError:
        return None

    def build(side: str, path: Path) -> None:
        with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
            for name, source in handler_files(handler=f"handlers.{side}.handler").items():
                zf.write(source, name)

    return build


def _zip_handlers(path: Path) -> None:
    """The layout the brief fixes for a function asset: ``handlers/__init__.py`` and every
    ``handlers/*.py``, nothing else."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for py in sorted((REPO / "handlers").glob("*.py")):
            zf.write(py, f"handlers/{py.name}")


# CPU time of the import, not wall time: on a shared machine the wall clock also counts the time
# the process waits for a core, which has nothing to do with what is imported.
_IMPORT_SNIPPET = (
    "import sys, time\n"
    "sys.path.insert(0, {path!r})\n"
    "t = time.process_time()\n"
    "import {module}\n"
    "print(time.process_time() - t)\n"
)


def _import_once(module: str, path: str) -> float:
    env = dict(os.environ)
    env.update(LAMBDA_ENV)
    env.pop("PYTHONPATH", None)
    # Lambda's /var/task is read-only: handler modules are compiled on every cold start.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    out = subprocess.run(
        [sys.executable, "-c", _IMPORT_SNIPPET.format(path=path, module=module)],
        env=env,
        cwd=path,
        capture_output=True,
        text=True,
        check=False,
    )
    if out.returncode != 0:
        raise RuntimeError(f"importing {module} from {path} failed:\n{out.stderr[-2000:]}")
    return float(out.stdout.strip().splitlines()[-1])


def importtime_split(module: str, path: str) -> tuple[float, float]:
    """``(bare, own)``: seconds a bare ``import boto3`` takes by the sum of its
    ``-X importtime`` self times, and seconds spent importing the modules a handler adds to
    what ``import boto3`` loads: the sum of ``python -X importtime``'s self times of every
    module not loaded by a bare ``import boto3`` (ours, compiled from source as on Lambda, plus
    any extra library module). Self times don't depend on import order, so this separates our
    cost from the noise of the shared stack."""

    def self_times(mod: str, cwd: str) -> dict[str, int]:
        env = dict(os.environ)
        env.update(LAMBDA_ENV)
        env.pop("PYTHONPATH", None)
        env["PYTHONDONTWRITEBYTECODE"] = "1"
        out = subprocess.run(
            [
                sys.executable,
                "-X",
                "importtime",
                "-c",
                f"import sys; sys.path.insert(0, {cwd!r}); import {mod}",
            ],
            env=env,
            cwd=cwd,
            capture_output=True,
            text=True,
            check=True,
        )
        times: dict[str, int] = {}
        for line in out.stderr.splitlines():
            if not line.startswith("import time:") or "self [us]" in line:
                continue
            self_us, _, name = (part.strip() for part in line[len("import time:") :].split("|"))
            times[name] = int(self_us)
        return times

    bare = self_times("boto3", path)
    handler = self_times(module, path)
    own = sum(us for name, us in handler.items() if name not in bare)
    # Both figures are -X importtime's (wall clock), so their ratio is not skewed by comparing
    # a wall time with the CPU time of the plain import on a busy machine.
    return sum(bare.values()) / 1e6, own / 1e6


def import_times(assets: dict[str, Path], repeats: int) -> dict[str, list[float]]:
    """Seconds to import each function's handler module from its unzipped asset, and a bare
    ``import boto3``, each in fresh interpreters, interleaved ``repeats`` times."""
    times: dict[str, list[float]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-import-") as tmp:
        modules: dict[str, tuple[str, str]] = {"import boto3": ("boto3", tmp)}
        for name, asset in assets.items():
            target = Path(tmp) / name
            with zipfile.ZipFile(asset) as zf:
                zf.extractall(target)
            module = "baseline" if name == "baseline" else f"handlers.{name}"
            modules[name] = (module, str(target))
        for _ in range(repeats):
            for name, (module, path) in modules.items():
                times.setdefault(name, []).append(_import_once(module, path))
        for name, (module, path) in modules.items():
            if name != "import boto3":
                splits = [importtime_split(module, path) for _ in range(3)]
                times[f"{name}: modules beyond boto3's"] = [own for _, own in splits]
                times[f"{name}: boto3 by -X importtime"] = [bare for bare, _ in splits]
    return times
