"""Lambda cost per million records implied by measured CPU time and I/O wait.

Figures used (``stream_replica.cost.prices``, from https://aws.amazon.com/lambda/pricing/, first
pricing tier, US East (N. Virginia); check your region's page):

* duration: $0.0000133334 per GB-second on arm64, $0.0000166667 per GB-second on x86_64;
* requests: $0.20 per million invocations (one invocation per batch).

CPU share: ``stream_replica.cost.lambda_cost.cpu_share`` (M/1769 of a vCPU at M MB, capped at 1).

Assumptions, stated in the report:
* the CPU seconds measured on the bench machine equal the vCPU seconds Lambda would bill (the
  bench machine's core is not Lambda's Graviton/x86 core; the arm64 row uses the same CPU time);
* a throttled CPU stretches CPU time to ``cpu / share`` wall time; I/O waits are not stretched;
* billed duration per batch = ``cpu / share``, plus, for the "with I/O" figure, the wait at
  5 ms per call: the warm invocation's calls in rounds of the function's concurrency (ours 4,
  the baseline 1), assumed not to overlap the CPU work (an upper bound; modelled rather than
  taken from wall-clock differences, which a shared machine makes noisy);
* no free tier, no 1 ms rounding, no cold-start init (billed since 2025 for on-demand, but
  once per execution environment, not per batch).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from stream_replica.cost.lambda_cost import cpu_share
from stream_replica.cost.prices import PRICES

#: The prices and the CPU share are the cost model's (``stream_replica.cost``), US East.
_US_EAST_1 = PRICES["us-east-1"]
PRICE_PER_GB_S = {arch: _US_EAST_1[f"lambda_gb_s_{arch}"].value for arch in ("arm64", "x86_64")}
PRICE_PER_REQUEST = _US_EAST_1["lambda_request"].value
#: The issue's three sizes plus 256 MB, the components' default for the archiver (the
#: replicator's is 512 MB, chosen from this table).
MEMORY_SIZES_MB = (128, 256, 512, 1024)
#: A Kinesis shard takes at most 1,000 records/s of writes: a replicator slower than that per
#: shard falls behind a busy shard.
SHARD_WRITE_RECORDS_PER_S = 1000


@dataclass(frozen=True)
class Estimate:
    memory_mb: int
    duration_cpu_s: float  # billed duration per batch, CPU only
    duration_io_s: float  # billed duration per batch, CPU + I/O wait
    records_per_s: float  # one shard, CPU + I/O wait
    cost: dict[str, tuple[float, float]]  # arch -> ($/1M records CPU only, with I/O)


def estimate(batch: int, cpu_s: float, io_wait_s: float, memory_mb: int) -> Estimate:
    """Per-million-record cost and per-shard throughput for batches of ``batch`` records that
    take ``cpu_s`` CPU seconds on a full core and wait ``io_wait_s`` on AWS calls."""
    share = cpu_share(memory_mb)
    d_cpu = cpu_s / share
    d_io = d_cpu + io_wait_s
    batches = 1_000_000 / batch
    gb = memory_mb / 1024
    cost = {
        arch: (
            batches * (d_cpu * gb * price + PRICE_PER_REQUEST),
            batches * (d_io * gb * price + PRICE_PER_REQUEST),
        )
        for arch, price in PRICE_PER_GB_S.items()
    }
    return Estimate(memory_mb, d_cpu, d_io, batch / d_io, cost)


def io_wait_s(calls: dict[str, int], concurrency: int, latency_ms: float) -> float:
    """I/O wait per batch: each operation's calls go out ``concurrency`` at a time, each round
    waiting ``latency_ms`` (assumed not to overlap the CPU work: an upper bound)."""
    return sum(math.ceil(c / concurrency) for c in calls.values()) * latency_ms / 1000
