"""``pip install --no-deps --target`` of a local source tree: a real wheel build by the
package's build backend (the ``build_backend`` fixture's folder on ``PYTHONPATH``, as a
consumer's isolated build would have it), without fetching anything from an index."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def pip_install_target(source: Path, target: Path, build_backend: Path) -> None:
    """Build ``source`` and install it, without its dependencies, into ``target``; raises
    ``subprocess.CalledProcessError`` (with pip's output) when the build fails."""
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--disable-pip-version-check",
            "--target",
            str(target),
            str(source),
        ],
        check=True,
        capture_output=True,
        cwd=source.parent,
        timeout=300,
        env={**os.environ, "PYTHONPATH": str(build_backend)},
    )
