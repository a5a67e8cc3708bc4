"""Lambda's billed duration from measured CPU time (used by the cost model and by the bench).

CPU share (https://docs.aws.amazon.com/lambda/latest/dg/configuration-memory.html): "At 1,769
MB, a function has the equivalent of one vCPU"; Lambda allocates CPU in proportion to memory,
so a function with M MB gets M/1769 of a vCPU (capped at 1 here: the handlers' CPU work is one
Python process, mostly one thread at a time under the GIL). A throttled CPU stretches CPU time to
``cpu / share`` wall time; I/O waits are not stretched.
"""

from __future__ import annotations

FULL_VCPU_MB = 1769


def cpu_share(memory_mb: int) -> float:
    """The share of one vCPU a function of ``memory_mb`` MB gets (0 < share ≤ 1)."""
    return min(1.0, memory_mb / FULL_VCPU_MB)


def billed_seconds(cpu_s: float, memory_mb: int, io_wait_s: float = 0.0) -> float:
    """Billed duration (seconds) of work that takes ``cpu_s`` CPU seconds on a full core and
    waits ``io_wait_s`` seconds on calls, at ``memory_mb`` MB."""
    return cpu_s / cpu_share(memory_mb) + io_wait_s


def gb_seconds(cpu_s: float, memory_mb: int, io_wait_s: float = 0.0) -> float:
    """GB-seconds Lambda bills for that work (no 1 ms rounding, no init)."""
    return billed_seconds(cpu_s, memory_mb, io_wait_s) * memory_mb / 1024
