"""Where the benchmark finds the pieces of our handlers it needs besides ``handler``: the way to
forget cached clients, and each handler's transform without I/O."""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType
from typing import Any


def _find(module: ModuleType, *names: str) -> Callable[..., Any]:
    for name in names:
        fn = getattr(module, name, None)
        if callable(fn):
            return fn
    raise AttributeError(f"{module.__name__} has none of: {', '.join(names)}")


def reset_replicator(module: ModuleType) -> Callable[[], None]:
    return _find(module, "reset_clients", "_reset_clients", "reset")


def reset_archiver(module: ModuleType) -> Callable[[], None]:
    return _find(module, "reset_clients", "_reset_clients", "reset")


def replicator_transform(module: ModuleType) -> Callable[[dict[str, Any]], Any]:
    fn = _find(module, "to_item", "build_item", "record_to_item", "decode_record")
    return lambda event: [fn(r) for r in event["Records"]]


def archiver_transform(module: ModuleType) -> Callable[[dict[str, Any]], Any]:
    fn = _find(module, "to_line", "record_to_line", "image_to_line", "encode_record")
    return lambda event: [fn(r) for r in event["Records"]]
