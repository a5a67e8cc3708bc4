"""examples/python: each folder is a standalone Pulumi Python project a user can copy.

Their own tests (``test_*.py`` in each folder) run under pytest's testpaths; this checks what
makes them standalone: the project file, the pinned release, the config keys they declare, and
that the program imports only what a user's program can.
"""

from __future__ import annotations

import ast
import re
import tomllib
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = sorted(p.parent for p in (REPO / "examples" / "python").glob("*/Pulumi.yaml"))
VERSION = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]


def test_there_are_both_examples() -> None:
    assert {p.name for p in EXAMPLES} == {"replica_and_archiver", "two_archivers"}


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.name)
def test_example_is_a_standalone_python_project(example: Path) -> None:
    project = yaml.safe_load((example / "Pulumi.yaml").read_text(encoding="utf-8"))
    assert project["runtime"]["name"] == "python"
    requirements = (example / "requirements.txt").read_text(encoding="utf-8")
    assert re.search(
        r"^crossaccount-stream-replica\[testing\] @ git\+\S+\.git@"
        rf"(<commit>|v{re.escape(VERSION)})$",
        requirements,
        re.M,
    ), "requirements.txt must pin a commit (or this release's tag)"
    tests = list(example.glob("test_*.py"))
    assert len(tests) == 1

    # Every config key the program reads is declared in Pulumi.yaml, and the test sets it.
    program = (example / "__main__.py").read_text(encoding="utf-8")
    used = set(re.findall(r'config\.require\(f?"([^"]+)"\)', program))
    declared = set(project["config"])
    expanded = {key.replace("{table}", table) for key in used for table in ("orders", "customers")}
    assert expanded <= declared
    test_source = tests[0].read_text(encoding="utf-8")
    for key in declared:
        assert f"{project['name']}:{key}" in test_source or "{table}" in test_source, key

    # Only what a user's program has: Pulumi, pulumi-aws and the installed package.
    imported: set[str] = set()
    for node in ast.walk(ast.parse(program)):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            imported.add((node.module or "").split(".")[0])
    assert imported <= {"pulumi", "pulumi_aws", "stream_replica"}, imported


#: Every place a user copies an install or ``pulumi package add`` line from.
_PINNING_DOCS = [
    REPO / "README.md",
    *sorted((REPO / "docs").glob("*.md")),
    *sorted((REPO / "examples").glob("*/README.md")),
    *sorted((REPO / "examples" / "python").glob("*/requirements.txt")),
]


@pytest.mark.parametrize("doc", _PINNING_DOCS, ids=lambda p: str(p.relative_to(REPO)))
def test_every_pin_names_this_release_and_installs_from_git(doc: Path) -> None:
    """A pin in the docs is this release's tag (``pyproject.toml``'s version), for the Python
    package and the Pulumi provider alike; the package is installed from its git URL (it is
    not on PyPI), never by bare name."""
    text = doc.read_text(encoding="utf-8")
    pins = re.findall(r"(?:\.git|/provider)@(v\d+\.\d+\.\d+)", text)
    assert all(pin == f"v{VERSION}" for pin in pins), (doc.name, pins)
    bare = [
        line
        for line in text.splitlines()
        if "pip install" in line and "crossaccount-stream-replica" in line and "git+" not in line
    ]
    assert bare == [], f"{doc.name}: not on PyPI, install from the git URL: {bare}"
