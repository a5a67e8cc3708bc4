"""Where the benchmark finds the pieces of our handlers it needs besides ``handler``: the way to
forget cached clients (``runtime.reset_clients``) and each handler's transform without I/O."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any

Event = dict[str, Any]


def reset(module: ModuleType) -> Callable[[], None]:
    """``handlers.runtime.reset_clients``: the next invocation is the first of a new execution
    environment (new clients, and in assume-role mode a new AssumeRole)."""
    return module.runtime.reset_clients


def replicator_transform(module: ModuleType) -> Callable[[Event], Any]:
    """Kinesis record -> DynamoDB-JSON item, exactly as the handler does it before writing."""
    rec = module  # the replicator imports these from .records (record_item: decode_payload →
    # build_item → serialise_item, with the size check's fast path)
    return lambda event: [
        rec.record_item(
            r["kinesis"]["data"], r["kinesis"]["sequenceNumber"], rec.shard_id_of(r["eventID"])
        )
        for r in event["Records"]
    ]


def archiver_transform(module: ModuleType) -> Callable[[Event], Any]:
    """DynamoDB stream record -> JSON line, exactly as the handler does it before sending."""
    return lambda event: [module.record_line(r, False) for r in event["Records"]]
