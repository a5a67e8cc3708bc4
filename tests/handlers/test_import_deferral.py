"""A cold start imports only what a plain invocation uses: the staged pipeline (gzip, KPL
de-aggregation, transforms, redaction) only when a record or a setting needs it, and the archiver
none of the replicator's record modules. Checked in a fresh interpreter, as Lambda imports the
handler module (import time within 1.2x a bare ``import boto3``)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
#: Modules of the staged pipeline, used only with stages configured or packed records.
STAGED = {"pipeline", "aggregation", "compression", "transforms", "redaction"}
#: The replicator's own modules, which the table-stream consumers never need.
REPLICATOR_ONLY = {"records", "item_json", "replicator", "write_requests", "writer_role"}


def _handler_modules_after_import(module: str) -> set[str]:
    code = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        f"import handlers.{module}\n"
        "print(json.dumps(sorted(m.split('.', 1)[1] for m in sys.modules "
        "if m.startswith('handlers.'))))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=REPO
    )
    return set(json.loads(out.stdout))


@pytest.mark.parametrize(
    ("module", "never"),
    [
        ("replicator", STAGED),
        ("archiver", STAGED | REPLICATOR_ONLY),
        ("query_writer", STAGED | REPLICATOR_ONLY),
    ],
)
def test_importing_a_handler_leaves_unused_modules_unloaded(module: str, never: set[str]) -> None:
    loaded = _handler_modules_after_import(module)
    assert module in loaded
    assert not loaded & never, f"handlers.{module} imports {sorted(loaded & never)} at start"


def test_the_deferred_modules_load_when_a_stage_is_configured(monkeypatch) -> None:
    """The replicator's stage settings still take effect: with DROP_FIELDS set, the pipeline
    is loaded and a field is dropped."""
    from stream_replica.handlers import replicator

    monkeypatch.setenv("DROP_FIELDS", '["email"]')
    stages = replicator._stages()
    assert stages is not None and stages.active
    assert "stream_replica.handlers.pipeline" in sys.modules
    monkeypatch.delenv("DROP_FIELDS")
    assert replicator._stages() is None
