"""The local command's checkpoints: one small JSON file (``--checkpoint PATH``).

``{"run": {...}, "objects": {"<phase>/<archive key>": {...}}}``, rewritten atomically (a
temporary file renamed over it) after each object, so a run killed at any moment leaves the
file of the last finished object. ``run`` names the bucket, prefix, target and table; a file
from another run is refused (:class:`CheckpointMismatch`) rather than skipping its objects.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class CheckpointMismatch(ValueError):
    """The checkpoint file belongs to another run (another bucket, prefix, target or table)."""


class FileCheckpoints:
    """:class:`stream_replica.handlers.backfill_objects.Checkpoints` in a JSON file at
    ``path`` for the run described by ``run`` (a JSON-able dict).

    :raises CheckpointMismatch: the file exists and records another run.
    """

    def __init__(self, path: str | Path, run: dict[str, Any]) -> None:
        self.path = Path(path)
        self.run = run
        self._lock = threading.Lock()
        self._objects: dict[str, dict[str, Any]] = {}
        if self.path.exists():
            saved = json.loads(self.path.read_text(encoding="utf-8"))
            if saved.get("run") != run:
                raise CheckpointMismatch(
                    f"checkpoint file {self.path} is for another run ({saved.get('run')}); "
                    "give another --checkpoint or remove it"
                )
            self._objects = dict(saved.get("objects", {}))

    def get(self, phase: str, key: str) -> dict[str, Any] | None:
        with self._lock:
            return self._objects.get(f"{phase}/{key}")

    def put(self, phase: str, key: str, record: dict[str, Any]) -> None:
        with self._lock:
            self._objects[f"{phase}/{key}"] = record
            text = json.dumps({"run": self.run, "objects": self._objects}, sort_keys=True)
            temporary = self.path.with_name(self.path.name + ".tmp")
            temporary.write_text(text, encoding="utf-8")
            os.replace(temporary, self.path)

    def all(self, phase: str) -> Iterator[dict[str, Any]]:
        with self._lock:
            found = [r for name, r in self._objects.items() if name.startswith(f"{phase}/")]
        yield from found
