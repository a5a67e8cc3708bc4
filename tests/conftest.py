"""Test set-up shared by every test folder.

The repository root goes on ``sys.path`` so tests can import ``stack_config`` (top level, as the
Pulumi CLI's Python host sees it), ``sandbox.pulumi_runner`` and ``tests.stack_runs``. The
components and handlers are imported as the installed ``stream_replica`` package.
"""

from __future__ import annotations

import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))
