"""Benchmarks of the replicator and archiver against the seed design (``make bench``).

See docs/bench.md for what is measured and how; ``bench/results.md`` holds the latest run."""
