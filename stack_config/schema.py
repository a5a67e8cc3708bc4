"""``Pulumi.yaml``'s typed ``config:`` schema: the one list of the project's keys, their types,
defaults and descriptions; which stack reads a key; docs/configuration.md's table of them."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

#: The project file, next to the program (this package is a folder of the program).
PROJECT_FILE = Path(__file__).resolve().parent.parent / "Pulumi.yaml"
#: The two stacks of the pair (the ``side`` a stack plays).
SIDES = ("poc", "prod")


def load_schema(project_file: Path = PROJECT_FILE) -> tuple[str, dict[str, dict[str, Any]]]:
    """``(project name, {key: {type, default?, description}})`` from ``Pulumi.yaml``."""
    with project_file.open(encoding="utf-8") as handle:
        project = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    schema = {
        key: spec
        for key, spec in (project.get("config") or {}).items()
        if ":" not in key and isinstance(spec, dict)
    }
    return project["name"], schema


def key_side(spec: Mapping[str, Any]) -> str | None:
    """The one stack that reads a key (``poc`` or ``prod``), from its description in
    ``Pulumi.yaml`` (``"poc only. …"``, ``"prod only, without …"``); ``None``: both read it."""
    description = str(spec.get("description", ""))
    for side in SIDES:
        if description.startswith(f"{side} only"):
            return side
    return None


def markdown_table(project_file: Path = PROJECT_FILE) -> str:
    """docs/configuration.md's configuration reference, generated from ``Pulumi.yaml``'s schema
    (the one list of keys): key, type, default, which stack reads it, description."""
    _, schema = load_schema(project_file)
    lines = ["| Key | Type | Default | Stack | Description |", "|---|---|---|---|---|"]
    for key, spec in schema.items():
        kind = spec.get("type", "string")
        if kind == "array":
            kind = f"array<{spec.get('items', {}).get('type', 'string')}>"
        if "default" not in spec:
            default = "*(required)*"
        elif isinstance(spec["default"], bool):
            default = f"`{str(spec['default']).lower()}`"
        elif spec["default"] in ("", []):
            default = f"`{json.dumps(spec['default'])}`"
        else:
            default = f"`{spec['default']}`"
        description = str(spec.get("description", ""))
        stack = key_side(spec) or "both"
        if stack != "both":
            description = description[len(f"{stack} only") :].lstrip(".,; ")
            description = description[:1].upper() + description[1:]
        lines.append(f"| `{key}` | {kind} | {default} | {stack} | {description} |")
    return "\n".join(lines)
