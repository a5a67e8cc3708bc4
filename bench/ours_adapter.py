"""Where the benchmark finds the pieces of our handlers it needs besides ``handler``: the way to
forget cached clients (``clients.reset_clients``) and each handler's transform without I/O."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from types import ModuleType
from typing import Any

Event = dict[str, Any]


def reset(module: ModuleType) -> Callable[[], None]:
    """``reset_clients`` of the ``clients`` module beside the handler ``module``: the next
    invocation is the first of a new execution environment (new clients, and in assume-role
    mode a new AssumeRole)."""
    return importlib.import_module(f"{module.__package__}.clients").reset_clients


def replicator_transform(module: ModuleType) -> Callable[[Event], Any]:
    """Kinesis record -> the item's DynamoDB JSON text, exactly as the handler does it before
    writing (``record_item_json``: the one-pass path, the exact path for anything unusual)."""
    rec = module
    return lambda event: [
        rec.record_item_json(
            r["kinesis"]["data"], r["kinesis"]["sequenceNumber"], rec.shard_id_of(r["eventID"])
        )
        for r in event["Records"]
    ]


def archiver_transform(module: ModuleType) -> Callable[[Event], Any]:
    """DynamoDB stream record -> JSON line, exactly as the handler does it before sending."""
    return lambda event: [module.record_line(r, False) for r in event["Records"]]
