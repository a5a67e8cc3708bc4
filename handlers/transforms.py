"""The user's transform hook: load the module bundled in the function's asset, call it per record.

A project configures ``transformModule`` (replicator) or ``archiveTransformModule`` (archiver):
a Python file that the component copies into the function's asset (``components/assets.py``)
and names in the ``TRANSFORM_MODULE`` environment variable (its path inside the asset). The
file defines::

    def transform(record: dict, meta: TransformMeta) -> dict | list[dict] | None: ...

called once per decoded record (replicator: the JSON object of a Kinesis record or of one user
record of a KPL aggregate; archiver: the item's image as plain JSON types), with ``meta`` giving
where the record came from. It returns:

* a ``dict``: the record to write instead (it may be the same dict, changed in place);
* a ``list`` of dicts: fan-out, each written as its own item (replicator: key suffix ``#<i>``,
  so a retry rewrites the same items) or line (archiver);
* ``None``: the record is filtered out (counted as ``filtered``, not an error).

An exception in ``transform``, or a return value of another type, makes that record poison, with
the exception's type and message (or the type returned) as the reason. The key attributes the
replicator adds after the transform always win over what the transform returns.

A module that cannot be loaded (missing file, syntax error, no ``transform`` function) is a
deployment fault: :class:`~.exceptions.ConfigError`, the invocation fails and nothing is lost.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .exceptions import ConfigError, PoisonRecordError

#: What the user's module must define.
TRANSFORM_FUNCTION = "transform"

TransformFunction = Callable[[dict[str, Any], "TransformMeta"], Any]


@dataclass(frozen=True, slots=True)
class TransformMeta:
    """Where a record came from, as the transform sees it.

    * ``source``: ``"kinesis"`` (replicator) or ``"dynamodb"`` (archiver).
    * ``shard_id``: the Kinesis shard id (replicator), ``None`` for the archiver.
    * ``sequence_number``: the Kinesis sequence number (replicator) or the DynamoDB stream
      record's ``SequenceNumber`` (archiver).
    * ``sub_sequence_number``: the user record's index in a KPL aggregate, ``None`` for a record
      that is not aggregated (and for the archiver).
    * ``arrival_time``: ``approximateArrivalTimestamp`` (replicator) or
      ``ApproximateCreationDateTime`` (archiver), seconds since the epoch, or ``None``.
    * ``partition_key``: the Kinesis partition key (of the user record, for an aggregate);
      ``None`` for the archiver.
    * ``event_name``: ``INSERT``/``MODIFY`` (archiver), ``None`` for the replicator.
    """

    source: str
    sequence_number: str
    shard_id: str | None = None
    sub_sequence_number: int | None = None
    arrival_time: float | None = None
    partition_key: str | None = None
    event_name: str | None = None


_lock = threading.Lock()
_loaded: dict[Path, TransformFunction] = {}


def asset_root() -> Path:
    """The folder the function's asset is unpacked in (``/var/task`` on Lambda): the parent of
    the ``handlers`` package."""
    return Path(__file__).resolve().parent.parent


def load_transform(path_in_asset: str, root: Path | None = None) -> TransformFunction:
    """The ``transform`` function of the module at ``path_in_asset`` (relative to the asset's
    root), loaded once per execution environment.

    :raises ConfigError: the file is missing, does not import, or has no callable ``transform``.
    """
    path = ((root or asset_root()) / path_in_asset).resolve()
    with _lock:
        found = _loaded.get(path)
        if found is not None:
            return found
        if not path.is_file():
            raise ConfigError(
                f"environment variable TRANSFORM_MODULE={path_in_asset!r}: no such file in the "
                f"function's code ({path})"
            )
        name = f"stream_replica_user_transform_{abs(hash(str(path))):x}"
        spec = importlib.util.spec_from_file_location(name, path)
        if spec is None or spec.loader is None:
            raise ConfigError(f"TRANSFORM_MODULE={path_in_asset!r} is not a Python module")
        module = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except Exception as exc:
            raise ConfigError(
                f"TRANSFORM_MODULE={path_in_asset!r} failed to import: {type(exc).__name__}: {exc}"
            ) from exc
        function = getattr(module, TRANSFORM_FUNCTION, None)
        if not callable(function):
            raise ConfigError(
                f"TRANSFORM_MODULE={path_in_asset!r} defines no function "
                f"{TRANSFORM_FUNCTION}(record, meta)"
            )
        _loaded[path] = function
        return function


def forget_transforms() -> None:
    """Forget the loaded modules (tests; a new execution environment loads them again)."""
    with _lock:
        _loaded.clear()


def apply_transform(
    transform: TransformFunction, record: dict[str, Any], meta: TransformMeta
) -> list[tuple[int | None, dict[str, Any]]]:
    """Call ``transform`` and normalise its answer to ``[(fan_out_index, record), ...]``:
    ``[(None, d)]`` for a dict, ``[(0, d0), (1, d1), ...]`` for a list, ``[]`` for ``None``.

    :raises PoisonRecordError: the transform raised (reason: ``transform raised <Type>:
        <message>``) or returned something else than a dict, a list of dicts or None.
    """
    try:
        result = transform(record, meta)
    except Exception as exc:
        raise PoisonRecordError(f"transform raised {type(exc).__name__}: {exc}") from None
    if result is None:
        return []
    if isinstance(result, dict):
        return [(None, result)]
    if isinstance(result, list):
        for index, part in enumerate(result):
            if not isinstance(part, dict):
                raise PoisonRecordError(
                    f"transform returned a list whose element {index} is "
                    f"{type(part).__name__}, not a dict"
                )
        return list(enumerate(result))
    raise PoisonRecordError(
        f"transform returned {type(result).__name__}, not a dict, a list of dicts or None"
    )
