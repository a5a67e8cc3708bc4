"""The report's cost section: what a million records cost on Lambda at each memory size,
from the measured CPU time and the modelled I/O wait (``bench/cost.py``)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from . import cost
from .report_tables import SIDES, rate, table

if TYPE_CHECKING:
    from .run import Results


def cost_section(res: Results) -> str:
    n = res.config.cost_batch if res.config.cost_batch in res.config.sizes else 1000
    concurrency = res.concurrency
    rows = []
    keeps_up: list[str] = []
    for side in SIDES:
        for impl in ("ours", "baseline"):
            r0 = res.runs.get((side, impl, n, 0.0))
            r5 = res.runs.get((side, impl, n, 5.0))
            if r0 is None or r5 is None:
                continue
            cpu = r0.cpu
            io_wait = cost.io_wait_s(r0.warm_calls, concurrency[(side, impl)], 5.0)
            enough = [
                mem
                for mem in cost.MEMORY_SIZES_MB
                if cost.estimate(n, cpu, io_wait, mem).records_per_s
                >= cost.SHARD_WRITE_RECORDS_PER_S
            ]
            keeps_up.append(
                f"{side} ({impl}): "
                + (f"{enough[0]} MB" if enough else f"none up to {cost.MEMORY_SIZES_MB[-1]} MB")
            )
            for mem in cost.MEMORY_SIZES_MB:
                e = cost.estimate(n, cpu, io_wait, mem)
                rows.append(
                    [
                        side,
                        impl,
                        str(mem),
                        f"{e.duration_cpu_s * 1000:.1f}",
                        f"{e.duration_io_s * 1000:.1f}",
                        rate(e.records_per_s),
                        f"{e.cost['arm64'][0]:.4f}",
                        f"{e.cost['arm64'][1]:.4f}",
                        f"{e.cost['x86_64'][0]:.4f}",
                        f"{e.cost['x86_64'][1]:.4f}",
                    ]
                )
    return (
        f"Lambda cost per million records implied by the measured CPU time, batch of {n} "
        "(billed duration = CPU time ÷ CPU share, share = memory ÷ 1,769 MB; *+I/O* adds the "
        "wait at 5 ms per call: the warm invocation's calls, in rounds of the function's "
        "concurrency — ours 4, the baseline 1 — not overlapping the CPU work; prices: arm64 "
        "$0.0000133334 and x86_64 $0.0000166667 per GB-s, $0.20 per million requests — see "
        "bench/cost.py for sources and assumptions)\n\n"
        + table(
            [
                "function",
                "impl",
                "MB",
                "ms/batch CPU",
                "ms/batch +I/O",
                "records/s/shard +I/O",
                "arm64 $ CPU",
                "arm64 $ +I/O",
                "x86 $ CPU",
                "x86 $ +I/O",
            ],
            rows,
        )
        + "\n\nSmallest memory size (of those above; the components default to 512 MB for the "
        "replicator, 256 MB for the archiver) at which "
        "one invocation per shard keeps up with a shard's 1,000 records/s at 5 ms per call: "
        + "; ".join(keeps_up)
        + ". Below one vCPU, CPU-bound work costs the same per record at any memory size, so "
        "more memory buys throughput, not cost."
    )
