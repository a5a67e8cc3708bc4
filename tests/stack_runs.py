"""Run this repository's stacks (``__main__.py`` with ``Pulumi.<stack>.yaml``) under the
recording mocks of :mod:`stream_replica.testing`.

``run_stack(stack, overrides=None, *, stack_outputs=None) -> RenderedStack``
    Runs the real ``__main__.py`` for ``stack`` with ``Pulumi.<stack>.yaml`` (plus ``overrides``;
    ``None`` values delete a key) under :class:`RecordingMocks`. For ``prod`` with a
    ``pocStackReference``, the poc stack is run first (with the overrides of the keys both stacks
    share) and its outputs become the StackReference's outputs, unless ``stack_outputs``
    (reference name -> outputs) is given.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stream_replica.testing import RecordingMocks, RecordingMonitor, RenderedStack

from sandbox.pulumi_runner import REPO_ROOT, load_stack_config, project_name, run_program

#: Config keys both stacks must agree on; run_stack passes their overrides to the poc run too.
SHARED_KEYS = (
    "accessMode",
    "externalId",
    "replicatorRoleName",
    "ttlDays",
    "ttlAttribute",
    "prodAccountId",
    "pocAccountId",
    "aws:region",
)


def _run(
    stack: str,
    mocks: RecordingMocks,
    overrides: Mapping[str, object] | None,
    project_dir: Path,
) -> RenderedStack:
    monitor = RecordingMonitor(mocks)
    outputs = run_program(
        stack, mocks, config_overrides=overrides, project_dir=project_dir, monitor=monitor
    )
    return RenderedStack(resources=list(monitor.records), outputs=outputs)


def run_stack(
    stack: str,
    overrides: Mapping[str, object] | None = None,
    *,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
    project_dir: Path = REPO_ROOT,
) -> RenderedStack:
    """Run ``__main__.py`` for ``stack`` under :class:`RecordingMocks` (see module docstring)."""
    if stack_outputs is None:
        stack_outputs = {}
        project = project_name(project_dir)
        config = load_stack_config(stack, config_overrides=overrides, project_dir=project_dir)
        reference = config.get(f"{project}:pocStackReference")
        if reference:
            shared = {k: v for k, v in (overrides or {}).items() if k in SHARED_KEYS}
            poc = _run("poc", RecordingMocks(), shared, project_dir)
            stack_outputs = {str(reference): poc.outputs}
    return _run(stack, RecordingMocks(stack_outputs), overrides, project_dir)
