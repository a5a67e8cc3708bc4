"""Run this repository's stacks (``__main__.py`` with ``Pulumi.<stack>.yaml``) under the
recording mocks of :mod:`stream_replica.testing`.

``run_stack(stack, overrides=None, *, stack_outputs=None) -> RenderedStack``
    Runs the real ``__main__.py`` for ``stack`` with ``Pulumi.<stack>.yaml`` (plus ``overrides``;
    ``None`` values delete a key) under :class:`RecordingMocks`. For ``prod`` with a
    ``pocStackReference``, the poc stack is run first (with the overrides of the keys both stacks
    share) and its outputs become the StackReference's outputs, unless ``stack_outputs``
    (reference name -> outputs) is given. In ``target`` placement the order flips: for ``poc``
    with a ``prodStackReference`` the prod stack runs first. The stack deployed first sees the
    other one not deployed yet (a reference with no outputs). ``previous``: the outputs of the
    stack's own last deployment, which it reads back through a StackReference to itself
    (``deployed_settings.py``); default none (the first deployment).
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stream_replica.testing import RecordingMocks, RecordingMonitor, RenderedStack

from sandbox.pulumi_runner import REPO_ROOT, load_stack_config, project_name, run_program
from stack_config.references import ACCOUNT_KEYS, AGREEMENTS

#: Config keys both stacks must agree on (the settings they compare, the account ids, the
#: region); run_stack passes their overrides to the other stack's run too.
SHARED_KEYS = (*(a.key for a in AGREEMENTS), *ACCOUNT_KEYS.values(), "aws:region")


def self_reference(stack: str, project_dir: Path = REPO_ROOT) -> str:
    """The name of the StackReference a stack run by :func:`run_stack` makes to itself."""
    return f"organization/{project_name(project_dir)}/{stack}"


def _run(
    stack: str,
    mocks: RecordingMocks,
    overrides: Mapping[str, object] | None,
    project_dir: Path,
    previous: Mapping[str, Any] | None = None,
) -> RenderedStack:
    mocks.stack_outputs.setdefault(self_reference(stack, project_dir), dict(previous or {}))
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
    previous: Mapping[str, Any] | None = None,
) -> RenderedStack:
    """Run ``__main__.py`` for ``stack`` under :class:`RecordingMocks` (see module docstring)."""
    if stack_outputs is None:
        project = project_name(project_dir)
        shared = {k: v for k, v in (overrides or {}).items() if k in SHARED_KEYS}

        def reference_of(name: str, settings: Mapping[str, object] | None) -> str | None:
            key = "prodStackReference" if name == "poc" else "pocStackReference"
            config = load_stack_config(name, config_overrides=settings, project_dir=project_dir)
            value = config.get(f"{project}:{key}")
            return str(value) if value else None

        config = load_stack_config(stack, config_overrides=overrides, project_dir=project_dir)
        target = config.get(f"{project}:placement") == "target"
        other = "prod" if stack == "poc" else "poc"
        reference = reference_of(stack, overrides)
        stack_outputs = {}
        # The stack deployed second reads the first one's outputs (poc first in source
        # placement, prod first in target placement); the first sees the second not deployed.
        if reference and (stack == "poc") == target:
            back = reference_of(other, shared)
            first = _run(other, RecordingMocks({back: {}} if back else {}), shared, project_dir)
            stack_outputs = {reference: first.outputs}
        elif reference:
            stack_outputs = {reference: {}}
    return _run(stack, RecordingMocks(stack_outputs), overrides, project_dir, previous)
