"""What the report tests of the bench start from."""

from __future__ import annotations

from typing import Any


def empty_results(sizes: list[int]) -> Any:
    """A run's ``Results`` with nothing measured yet, for the report tests to fill: batches of
    ``sizes`` records at 0 and 5 ms per call, one repeat."""
    from bench.run import Config, Results

    return Results(
        Config(
            sizes=sizes,
            latencies=[0.0, 5.0],
            repeats=1,
            baseline_io_cap=300,
            baseline_cpu_cap=1000,
            import_repeats=1,
            correctness_n=10,
        )
    )
