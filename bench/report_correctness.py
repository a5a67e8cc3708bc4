"""The report's correctness section: the moto run of each implementation (two accounts, a
batch delivered twice, the archive compared with the payloads)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .report_tables import pass_fail, table

if TYPE_CHECKING:
    from .run import Results


def correctness_section(res: Results) -> str:
    rows = []
    for impl, c in res.correctness.items():
        first = c.replicator_calls[0] if c.replicator_calls else {}
        second = c.replicator_calls[1] if len(c.replicator_calls) > 1 else {}
        fmt = ", ".join
        rows.append(
            [
                impl,
                f"{c.n:,}",
                f"{c.items_after_first:,} / {c.items_after_redelivery:,}",
                f"{c.archived_lines:,}",
                "yes" if c.lines_equal_payloads else "NO",
                fmt(f"{k} {v}" for k, v in first.items()),
                fmt(f"{k} {v}" for k, v in second.items()),
                fmt(f"{k} {v}" for k, v in c.archiver_calls.items()),
                pass_fail(c.ok) + ("; " + "; ".join(c.failures) if c.failures else ""),
            ]
        )
    return (
        "Correctness under moto (two accounts; the same batch delivered twice; the archiver "
        "fed from moto's DynamoDB stream; S3 lines compared with the payloads)\n\n"
        + table(
            [
                "impl",
                "N",
                "items after 1st / 2nd delivery",
                "lines in S3",
                "lines = payloads + keys",
                "replicator requests, 1st",
                "replicator requests, 2nd",
                "archiver requests",
                "result",
            ],
            rows,
        )
    )
