"""What the component provider serves, and its schema.

``PACKAGE_NAME`` is the Pulumi package (the type tokens are ``stream-replica:index:<Type>``),
``COMPONENTS`` the components it exposes: adding a component to the provider is one line there
(a test checks that every component ``stream_replica.components`` exports is listed). The
version is the Python package's, read from ``pyproject.toml``.

``provider/schema.json`` is the schema the provider serves, :func:`render_schema` as committed;
``make docs`` writes it (``docs/generate.py``), and a test fails when the committed file is stale.
"""

import importlib.metadata
import json
import tomllib
from pathlib import Path
from typing import Any

import pulumi
from pulumi.provider.experimental.component import ComponentProvider
from stream_replica import components

PACKAGE_NAME = "stream-replica"
#: The Python distribution the components come from (its version is the package's).
DISTRIBUTION = "crossaccount-stream-replica"

COMPONENTS: list[type[pulumi.ComponentResource]] = [
    components.CrossAccountStreamReplica,
    components.ReplicaTarget,
    components.ReplicaSource,
    components.StreamToS3Archiver,
    components.StreamToQueryTable,
    components.ArchiveCatalog,
    components.StreamReadGrant,
    components.PipelineDashboard,
]

HERE = Path(__file__).resolve().parent
SCHEMA_PATH = HERE / "schema.json"
PYPROJECT = HERE.parent / "pyproject.toml"


def package_version() -> str:
    """``[project] version`` of the repository's ``pyproject.toml`` (the checkout the provider
    runs from), else the installed distribution's version."""
    if PYPROJECT.is_file():
        project = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))
        if project.get("project", {}).get("name") == DISTRIBUTION:
            return str(project["project"]["version"])
    return importlib.metadata.version(DISTRIBUTION)


def schema() -> dict[str, Any]:
    """The schema the provider serves, inferred in-process from the components' annotations."""
    provider = ComponentProvider(COMPONENTS, PACKAGE_NAME, None, package_version())
    document = json.loads(provider.schema or "{}")
    assert isinstance(document, dict)
    return document


def render_schema(document: dict[str, Any] | None = None) -> str:
    """:func:`schema` (or ``document``) as committed: indented JSON with a final newline."""
    content = schema() if document is None else document
    return json.dumps(content, indent=2, ensure_ascii=False) + "\n"
