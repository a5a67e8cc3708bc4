"""Run the real ``__main__.py`` for one stack under any ``pulumi.runtime.Mocks``.

There is no Pulumi CLI here, so this module plays the CLI's part for one ``pulumi up``:

* reads ``Pulumi.yaml`` (project name, the typed ``config:`` schema and its defaults) and
  ``Pulumi.<stack>.yaml`` (the stack's config), applies ``config_overrides`` on top, and hands the
  result to the Pulumi runtime in the CLI's wire format (every value a string; lists and maps as
  JSON; booleans as ``true``/``false``);
* resets the process-global Pulumi runtime state (root stack resource, RPC bookkeeping, config),
  so the function can be called several times in one process (``poc`` then ``prod``);
* runs ``__main__.py`` with the project folder on ``sys.path`` (as the CLI's Python host does),
  waits for every outstanding registration, and returns the stack's exports resolved to plain
  Python values (unknown values, which only occur in a preview, come back as ``None``).

Pulumi calls ``Mocks.new_resource`` from worker threads, concurrently: a mocks class that keeps
state must guard it with a lock.

Any exception the program raises (a config error, a failing ``apply``, a mock that rejects a
resource) is re-raised unchanged.

Usage::

    from sandbox.pulumi_runner import run_program

    outputs = run_program("poc", MyMocks())
    outputs = run_program("prod", MyMocks(), config_overrides={"accessMode": "resource-policy"})

``config_overrides`` keys are either bare project keys (``"accessMode"``, placed in the project
namespace) or fully qualified (``"aws:region"``); a value of ``None`` removes the key, which is
how tests simulate a stack file that lacks it.
"""

from __future__ import annotations

import copy
import functools
import json
import runpy
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import settings as _settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

REPO_ROOT = Path(__file__).resolve().parent.parent

__all__ = ["REPO_ROOT", "load_stack_config", "project_name", "run_program"]


#: libyaml's loader when PyYAML was built with it (10x faster than the pure-Python one).
_YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


@functools.lru_cache(maxsize=64)
def _parse_yaml(path: Path, mtime_ns: int) -> dict[str, Any]:
    del mtime_ns  # part of the cache key only: an edited file is read again
    with path.open(encoding="utf-8") as handle:
        data = yaml.load(handle, Loader=_YAML_LOADER) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a YAML mapping at the top level")
    return data


def _load_yaml(path: Path) -> dict[str, Any]:
    if not path.is_file():
        raise FileNotFoundError(f"{path} does not exist")
    return copy.deepcopy(_parse_yaml(path, path.stat().st_mtime_ns))


def project_name(project_dir: Path = REPO_ROOT) -> str:
    """The ``name:`` of the project's ``Pulumi.yaml``."""
    name = _load_yaml(project_dir / "Pulumi.yaml").get("name")
    if not isinstance(name, str) or not name:
        raise ValueError(f"{project_dir / 'Pulumi.yaml'}: missing 'name'")
    return name


def _qualify(key: str, project: str) -> str:
    return key if ":" in key else f"{project}:{key}"


def _wire(value: Any) -> str:
    """A config value as the CLI passes it to a program."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    return json.dumps(value)


def load_stack_config(
    stack: str,
    *,
    config_overrides: Mapping[str, object] | None = None,
    project_dir: Path = REPO_ROOT,
) -> dict[str, Any]:
    """The stack's effective config as plain values, keyed ``namespace:key``.

    Order, as the Pulumi CLI applies it: project defaults from ``Pulumi.yaml``'s ``config:``
    schema, then ``Pulumi.<stack>.yaml``, then ``config_overrides`` (``None`` deletes a key).
    """
    project_file = _load_yaml(project_dir / "Pulumi.yaml")
    project = project_name(project_dir)
    merged: dict[str, Any] = {}
    for key, spec in (project_file.get("config") or {}).items():
        full = _qualify(key, project)
        if isinstance(spec, dict):
            if "default" in spec:
                merged[full] = spec["default"]
            elif "value" in spec:
                merged[full] = spec["value"]
        else:
            merged[full] = spec
    stack_file = _load_yaml(project_dir / f"Pulumi.{stack}.yaml")
    for key, value in (stack_file.get("config") or {}).items():
        if isinstance(value, dict) and "secure" in value:
            raise ValueError(
                f"Pulumi.{stack}.yaml: {key} is a secret; the runner has no key to decrypt it"
            )
        merged[_qualify(key, project)] = value
    for key, value in (config_overrides or {}).items():
        full = _qualify(key, project)
        if value is None:
            merged.pop(full, None)
        else:
            merged[full] = value
    return merged


def _reset_runtime() -> None:
    """Forget the previous run's root stack and pending work (process-global in Pulumi)."""
    _settings.set_root_resource(None)  # type: ignore[arg-type]
    _settings.SETTINGS.outputs.clear()


def run_program(
    stack: str,
    mocks: pulumi.runtime.Mocks,
    *,
    config_overrides: Mapping[str, object] | None = None,
    project_dir: Path = REPO_ROOT,
    preview: bool = False,
    organization: str = "organization",
    monitor: MockMonitor | None = None,
) -> dict[str, Any]:
    """Run ``project_dir/__main__.py`` as stack ``stack`` under ``mocks``; return its exports.

    :param stack: stack name; its config comes from ``Pulumi.<stack>.yaml``.
    :param mocks: any ``pulumi.runtime.Mocks``; every resource the program registers (including
        providers as ``pulumi:providers:aws`` and StackReferences as
        ``pulumi:pulumi:StackReference``, which must return ``{"outputs": {...}}``) goes to its
        ``new_resource``.
    :param config_overrides: config values to set or (with ``None``) remove after the stack file.
    :param project_dir: folder holding ``Pulumi.yaml``, the stack files and ``__main__.py``.
    :param preview: run as ``pulumi preview`` (mocks' outputs may then be unknown).
    :param organization: what ``pulumi.get_organization()`` returns.
    :param monitor: a ``pulumi.runtime.mocks.MockMonitor`` (subclass) built on ``mocks``, for
        callers that need what ``Mocks`` doesn't see (e.g. each registration's parent URN).
    :returns: the stack outputs (``pulumi.export``) resolved to plain values.
    """
    project_dir = Path(project_dir).resolve()
    project = project_name(project_dir)
    config = load_stack_config(stack, config_overrides=config_overrides, project_dir=project_dir)
    main = project_dir / "__main__.py"
    if not main.is_file():
        raise FileNotFoundError(f"{main} does not exist")

    _reset_runtime()
    set_all_config({key: _wire(value) for key, value in config.items()}, [])
    pulumi.runtime.set_mocks(
        mocks,
        project=project,
        stack=stack,
        preview=preview,
        organization=organization,
        monitor=monitor,
    )
    root = _settings.get_root_resource()

    added_path = str(project_dir) not in sys.path
    if added_path:
        sys.path.insert(0, str(project_dir))
    try:

        def program() -> None:
            runpy.run_path(str(main), run_name="__main__")

        _sync_await(run_pulumi_func(program))
        outputs: dict[str, Any] = getattr(root, "outputs", {})
        resolved = _sync_await(pulumi.Output.from_input(dict(outputs)).future())
    finally:
        if added_path:
            sys.path.remove(str(project_dir))
        _reset_runtime()
    return dict(resolved or {})
