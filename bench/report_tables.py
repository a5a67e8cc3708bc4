"""What the report's sections share: Markdown tables, the number formats, the functions
measured (:data:`SIDES`) and per-record figures of a run."""

from __future__ import annotations

from typing import Any

#: The two functions, in the order every section lists them.
SIDES = ("replicator", "archiver")


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table."""
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out)


def rate(x: float) -> str:
    """A rate, in whole units with thousands separators."""
    return f"{x:,.0f}"


def ratio(a: float, b: float) -> str:
    """``a / b`` as ``4.2x``; ``n/a`` when ``b`` is 0."""
    return f"{a / b:,.1f}x" if b else "n/a"


def pass_fail(flag: bool) -> str:
    """A target's verdict, in bold."""
    return "**pass**" if flag else "**FAIL**"


def per_record_us(run: Any) -> float:
    """CPU µs per record of a run (its best repeat)."""
    return float(run.cpu / run.n * 1e6)


def payload_bytes(shape: str) -> float:
    """Mean size of one record's JSON payload of ``shape`` (bytes)."""
    import json

    from stream_replica.testing.events import SHAPES

    payloads = SHAPES[shape](300)
    return sum(len(json.dumps(p).encode()) for p in payloads) / len(payloads)
