"""Each function's code asset holds the handler modules it imports and nothing else, and its
handler imports from the asset alone (a module the closure misses would fail the cold start)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from stream_replica.components import assets

HANDLERS = (assets.REPLICATOR_HANDLER, assets.ARCHIVER_HANDLER)


def stems(handler: str | None) -> set[str]:
    return {Path(name).stem for name in assets.handler_files(handler=handler)}


def test_neither_function_carries_the_others_handler() -> None:
    replicator, archiver = stems(assets.REPLICATOR_HANDLER), stems(assets.ARCHIVER_HANDLER)
    assert "replicator" in replicator and "archiver" not in replicator
    assert "archiver" in archiver and "replicator" not in archiver
    assert "images" not in replicator  # the archiver's image → line code
    assert {"pipeline", "aggregation", "redaction"}.isdisjoint(archiver)  # the replicator's stages
    assert replicator | archiver <= stems(None)


def test_the_closure_follows_imports_inside_functions(tmp_path: Path) -> None:
    (tmp_path / "__init__.py").write_text("")
    (tmp_path / "main.py").write_text(
        "from .a import x\n\ndef f():\n    from . import b  # deferred\n"
        "from . import (\n    d,\n    e as f,\n)\nfrom json import y\n"
    )
    (tmp_path / "d.py").write_text("")
    (tmp_path / "e.py").write_text("")
    (tmp_path / "a.py").write_text("from .c import y\nimport json\n")
    (tmp_path / "b.py").write_text("")
    (tmp_path / "c.py").write_text("")
    (tmp_path / "unused.py").write_text("")
    assert assets.module_closure(tmp_path, "main") == {"main", "a", "b", "c", "d", "e"}
    with pytest.raises(FileNotFoundError, match=r"nope\.py"):
        assets.module_closure(tmp_path, "nope")


@pytest.mark.parametrize("handler", HANDLERS)
def test_the_handler_imports_from_its_asset_alone(tmp_path: Path, handler: str) -> None:
    for name, source in assets.handler_files(handler=handler).items():
        target = tmp_path / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(source.read_bytes())
    module = handler.rsplit(".", 1)[0]
    # -I: isolated, so neither the repository nor the installed stream_replica is on the path;
    # boto3 and Powertools come from site-packages as the runtime and the layer provide them.
    code = (
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); import {module}; "
        f"assert {module}.__file__.startswith({str(tmp_path)!r})"
    )
    result = subprocess.run(
        [sys.executable, "-I", "-c", code], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
