"""The replicator with one field pseudonymised, side by side with the plain one.

The example prod stack (``Pulumi.prod.yaml``) pseudonymises one field of every record. This
module gives the bench that configuration for our replicator and for the Powertools peer
(``bench/peer.py``, which hashes the same field the same way): :func:`variants` makes the two
subjects, which ``bench/run.py: measure_side_by_side`` runs interleaved with the plain ones, and
:func:`section` reports them against our plain replicator from the same run.

The field is ``userId``, a string in both record shapes; the key comes from the fake SSM
(``bench/emulation.py``), read once per execution environment as in Lambda.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from . import cost
from .subjects import Event, Subject

if TYPE_CHECKING:
    from .run import Results

#: The field pseudonymised, and the environment that configures it (as the component writes it).
FIELD = "userId"
ENV = {
    "PSEUDONYMIZE_FIELDS": json.dumps([FIELD]),
    "PSEUDONYMIZATION_KEY_PARAMETER": "/bench/pseudonymization-key",
}
#: ``impl`` of the pseudonymised subjects in ``Results.side_by_side``, by the plain one's.
IMPLS = {"ours": "ours-pseudonymised", "peer": "peer-pseudonymised"}


def _scoped(handler: Callable[[Event, Any], Any]) -> Callable[[Event, Any], Any]:
    """``handler`` with :data:`ENV` removed from the process environment after each call (the
    harness only ever adds a subject's variables), so no later plain run is pseudonymised."""

    def call(event: Event, context: Any) -> Any:
        try:
            return handler(event, context)
        finally:
            for name in ENV:
                os.environ.pop(name, None)

    return call


def variants(subjects: list[Subject]) -> list[Subject]:
    """The pseudonymised replicator of ours and of the peer, for those in ``subjects``."""
    return [
        replace(s, impl=IMPLS[s.impl], handler=_scoped(s.handler), env={**s.env, **ENV})
        for s in subjects
        if s.side == "replicator" and s.impl in IMPLS
    ]


def _table(header: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return "\n".join(out + ["| " + " | ".join(r) + " |" for r in rows])


def _us(run: Any) -> float:
    return float(run.cpu / run.n * 1e6)


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "n/a"


def _payload_bytes(shape: str) -> float:
    from stream_replica.testing.events import SHAPES

    payloads = SHAPES[shape](300)
    return sum(len(json.dumps(p).encode()) for p in payloads) / len(payloads)


def _at_512(run: Any, concurrency: int, shape: str) -> tuple[float, float]:
    """Records/s and payload MB/s that a run's CPU (0 ms) and its calls in rounds of
    ``concurrency`` at 5 ms imply at 512 MB, one invocation per shard (``bench/cost.py``)."""
    rounds = sum(-(-calls // concurrency) for calls in run.warm_calls.values())
    rate = cost.estimate(run.n, run.cpu, rounds * 0.005, 512).records_per_s
    return rate, rate * _payload_bytes(shape) / 1e6


def section(res: Results) -> str:
    """Our replicator plain and with one field pseudonymised, and the peer pseudonymised: CPU
    per record at 0 ms, records/s at 5 ms per call, and what the CPU implies at 512 MB."""
    runs = res.side_by_side
    ours_p, peer_p = IMPLS["ours"], IMPLS["peer"]
    keys = [k for k in runs if k[1] == "replicator" and k[2] == ours_p and k[4] == 0.0]
    if not keys:
        return "Not measured."
    shapes = sorted({k[0] for k in keys}, key=lambda shape: shape != "clickstream")
    sizes = sorted({k[3] for k in keys})
    cpu_rows, rate_rows = [], []
    concurrency = res.concurrency.get(("replicator", "ours"), 4)
    for shape in shapes:
        for n in sizes:
            plain = runs.get((shape, "replicator", "ours", n, 0.0))
            ours = runs.get((shape, "replicator", ours_p, n, 0.0))
            peer = runs.get((shape, "replicator", peer_p, n, 0.0))
            if plain is None or ours is None:
                continue
            cpu_rows.append(
                [
                    shape,
                    f"{n:,}",
                    f"{_us(plain):.1f}",
                    f"{_us(ours):.1f}",
                    _ratio(_us(ours), _us(plain)),
                    f"{_us(peer):.1f}" if peer else "—",
                    _ratio(_us(peer), _us(ours)) if peer else "—",
                ]
            )
        n = sizes[0]
        plain5 = runs.get((shape, "replicator", "ours", n, 5.0))
        ours5 = runs.get((shape, "replicator", ours_p, n, 5.0))
        peer5 = runs.get((shape, "replicator", peer_p, n, 5.0))
        ours0 = runs.get((shape, "replicator", ours_p, n, 0.0))
        if ours5 is None or ours0 is None:
            continue
        rate, mb_s = _at_512(ours0, concurrency, shape)
        rate_rows.append(
            [
                shape,
                f"{n:,}",
                f"{plain5.records_per_s:,.0f}" if plain5 else "—",
                f"{ours5.records_per_s:,.0f}",
                f"{peer5.records_per_s:,.0f}" if peer5 else "—",
                _ratio(ours5.records_per_s, peer5.records_per_s) if peer5 else "—",
                f"{rate:,.0f} ({mb_s:.1f} MB/s)",
            ]
        )
    text = (
        f"The example prod stack's configuration: one field (`{FIELD}`) pseudonymised "
        "(HMAC-SHA256 with a key read once from SSM), measured in the same loop as the plain "
        "runs of *Side by side* (ours plain is the *ours* column there). CPU µs per record of "
        "a warm invocation at 0 ms per call, best of the repeats; the peer hashes the same "
        "field in its `record_handler` (`bench/peer.py`).\n\n"
        + _table(
            [
                "shape",
                "N",
                "ours plain",
                "ours pseudonymised",
                "pseudonymised / plain",
                "peer pseudonymised",
                "peer / ours (pseudonymised)",
            ],
            cpu_rows,
        )
    )
    if rate_rows:
        text += (
            f"\n\nRecords/s per invocation at 5 ms per call (wall clock, N={sizes[0]:,}), and "
            "what ours pseudonymised implies at the replicator's default 512 MB (0.29 vCPU; "
            "CPU ÷ share + its I/O rounds at 5 ms, `bench/cost.py`) with the payload bytes that "
            "carries\n\n"
            + _table(
                [
                    "shape",
                    "N",
                    "ours plain",
                    "ours pseudonymised",
                    "peer pseudonymised",
                    "ours / peer (pseudonymised)",
                    "ours pseudonymised at 512 MB",
                ],
                rate_rows,
            )
        )
    return text
