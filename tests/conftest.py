"""Test set-up shared by every test folder.

The repository root goes on ``sys.path`` so tests can import ``stack_config`` (top level, as the
Pulumi CLI's Python host sees it), ``sandbox.pulumi_runner`` and ``tests.stack_runs``. The
components and handlers are imported as the installed ``stream_replica`` package.

Hypothesis profiles: ``quick`` (the default, for ``make test``) and ``thorough`` (``make
test-thorough``, or ``HYPOTHESIS_PROFILE=thorough``). A property test that sets its own
``max_examples`` keeps it under both.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from hypothesis import settings

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

settings.register_profile("quick", max_examples=100, deadline=None)
settings.register_profile("thorough", max_examples=1000, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))

#: The projects whose ``[build-system] requires`` the build backend below satisfies.
BUILT_PROJECTS = (REPO_ROOT / "pyproject.toml", REPO_ROOT / "policy_pack" / "pyproject.toml")


@pytest.fixture(scope="session")
def build_backend() -> Path:
    """A folder holding the build requirements of this repository's two packages (their
    ``[build-system] requires``, e.g. ``setuptools>=77``), for ``pip install
    --no-build-isolation`` with it on ``PYTHONPATH``: the same build a consumer's ``pip
    install`` runs in its isolated environment, without fetching the backend from the index
    for every build.

    Kept under ``build/`` (ignored, removed by ``make clean``), one folder per requirement set
    and Python version, so only the first run on a machine downloads it.
    """
    projects = [tomllib.loads(p.read_text(encoding="utf-8")) for p in BUILT_PROJECTS]
    requires = sorted({r for project in projects for r in project["build-system"]["requires"]})
    key = hashlib.sha256(repr((sys.version_info[:2], requires)).encode()).hexdigest()[:12]
    folder = REPO_ROOT / "build" / f"test-build-backend-{key}"
    done = folder / ".complete"
    if not done.is_file():
        partial = folder.with_name(f"{folder.name}.{os.getpid()}.partial")
        shutil.rmtree(partial, ignore_errors=True)
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "--target",
                str(partial),
                *requires,
            ],
            check=True,
            capture_output=True,
            timeout=600,
        )
        (partial / ".complete").write_text("\n".join(requires) + "\n", encoding="utf-8")
        try:
            partial.rename(folder)
        except OSError:  # another session got there first (or a stale, incomplete folder)
            if not done.is_file():
                shutil.rmtree(folder, ignore_errors=True)
                partial.rename(folder)
            else:
                shutil.rmtree(partial, ignore_errors=True)
    return folder
