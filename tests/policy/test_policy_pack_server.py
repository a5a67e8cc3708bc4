"""The pack as the Pulumi CLI runs it: its own process, spoken to over the analyzer gRPC protocol.

The CLI starts the pack (``python -u .`` in the pack's folder), reads the port it prints, and
calls ``GetAnalyzerInfo``, ``Configure`` (the policy config: every policy's level and
properties), ``Analyze`` per resource and ``AnalyzeStack``. This test does the same, so the
pack's entry point, its policy registration, pulumi-policy's handling of the configured levels and
the engine-side deserialisation (numbers as doubles, read-only proxies) are exercised.

Two packs: this repository's ``policy_pack/`` on our stacks, and a team's pack made from
``policy_pack/template`` outside the repository, with ``stream-replica-policy`` pip-installed
(not editable, no path to this repository) as the README tells a team to, run on another team's
program with one rule set to advisory and one disabled.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from policy_pack.stream_replica_policy import pack as replica_pack
from policy_pack.stream_replica_policy import rules
from tests.local_install import pip_install_target

from . import foreign_program
from .pack_protocol import analyze, configure
from .stacks import REPO_ROOT, VARIANTS, render, variant_id

Stub = Any
PACK_DIR = REPO_ROOT / "policy_pack"


def _start(cwd: Path, env: dict[str, str] | None = None) -> Iterator[Stub]:
    proc = subprocess.Popen(
        [sys.executable, "-u", "."],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.strip().isdigit():
            proc.kill()
            _, err = proc.communicate(timeout=10)
            pytest.fail(f"policy pack did not start: {line!r} {err.decode()[-2000:]}")
        channel = grpc.insecure_channel(f"127.0.0.1:{int(line)}")
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        proc.kill()
        proc.wait(timeout=10)


@pytest.fixture(scope="module")
def repo_pack() -> Iterator[Stub]:
    """This repository's pack, started in ``policy_pack/`` as ``--policy-pack policy_pack``."""
    yield from _start(PACK_DIR)


@pytest.fixture(scope="module")
def team_pack(tmp_path_factory: pytest.TempPathFactory, build_backend: Path) -> Iterator[Stub]:
    """A team's pack: ``template/`` copied elsewhere, the package pip-installed for it.

    ``pip install --no-deps --target`` of a clean copy of ``policy_pack/`` (a real wheel build by
    its build backend, from the ``build_backend`` fixture: what ``pip install -r
    requirements.txt`` builds in with the git URL); the pack process sees only that install,
    not this repository.
    """
    work = tmp_path_factory.mktemp("team")
    source = work / "src"
    source.mkdir()
    shutil.copy(PACK_DIR / "pyproject.toml", source)
    shutil.copytree(
        PACK_DIR / "stream_replica_policy",
        source / "stream_replica_policy",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    site = work / "site"
    pip_install_target(source, site, build_backend)
    assert (site / "stream_replica_policy" / "rules.py").is_file()
    team = work / "team-policy"
    shutil.copytree(PACK_DIR / "template", team, ignore=shutil.ignore_patterns("__pycache__"))
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(site)
    yield from _start(team, env)


def _registered(analyzer: Stub) -> dict[str, str]:
    """policy -> level as registered, checking the name, the order and the scope schema."""
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "stream-replica-guardrails"
    assert [p.name for p in info.policies] == list(rules.RULE_NAMES)
    for policy in info.policies:
        scope = policy.configSchema.properties["scope"]
        assert scope["default"] == "stack"
        assert list(scope["enum"]) == list(replica_pack.SCOPES)
    return {
        p.name: analyzer_pb2.EnforcementLevel.Name(p.enforcementLevel).lower()
        for p in info.policies
    }


def test_repo_pack_registers_every_rule_as_mandatory(repo_pack: Stub) -> None:
    assert set(_registered(repo_pack).values()) == {"mandatory"}


def test_team_pack_registers_every_rule_at_its_default_level(team_pack: Stub) -> None:
    defaults = {r.name: r.default_level for r in rules.RULES}
    defaults |= {r.name: r.default_level for r in rules.STACK_RULES}
    assert _registered(team_pack) == defaults
    assert set(defaults.values()) == {"advisory", "mandatory"}


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_our_stacks_pass_over_grpc(repo_pack: Stub, variant: tuple[str, str, str | None]) -> None:
    configure(repo_pack, {})
    assert analyze(repo_pack, render(*variant).resources) == []


def test_a_team_pack_outside_the_repository_with_one_rule_advisory_and_one_disabled(
    team_pack: Stub,
) -> None:
    from stream_replica.testing import mocks as pulumi_mocks

    sent = configure(
        team_pack,
        {"iam-account-principal-pinned": "advisory", "log-group-retention": "disabled"},
    )
    assert sent["iam-account-principal-pinned"][0] == "advisory"
    assert sent["log-group-retention"][0] == "disabled"

    rendered = pulumi_mocks.run_components(foreign_program.program)
    found = analyze(team_pack, rendered.resources)

    counts = Counter(d.policy for d in found)
    expected = {name: 1 for name in foreign_program.VIOLATIONS if name != "log-group-retention"}
    assert dict(counts) == expected
    levels = {d.policy: d.level for d in found}
    assert levels["iam-account-principal-pinned"] == "advisory"
    for name, level in levels.items():
        if name != "iam-account-principal-pinned":
            assert level == next(lv for n, (lv, _) in sent.items() if n == name), name
    for d in found:
        assert f"'{foreign_program.VIOLATIONS[d.policy]}'" in d.message, d
    admin = next(d for d in found if d.policy == "iam-no-broad-managed-policy")
    assert admin.level == "mandatory"
    assert "arn:aws:iam::aws:policy/AdministratorAccess grants every action" in admin.message
    for name in foreign_program.LEGITIMATE:
        assert not any(f"'{name}'" in d.message for d in found), name


def test_the_team_pack_can_limit_itself_to_our_components(team_pack: Stub) -> None:
    """The foreign program creates no stream-replica component: in components scope, silence."""
    from stream_replica.testing import mocks as pulumi_mocks

    configure(team_pack, {name: {"scope": "components"} for name in rules.RULE_NAMES})
    rendered = pulumi_mocks.run_components(foreign_program.program)
    assert analyze(team_pack, rendered.resources) == []


def _pins(text: str) -> dict[str, str]:
    """``name==version`` lines; names normalised as pip does (``pulumi_policy``)."""
    found = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", text, flags=re.MULTILINE)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in found}


def test_packs_pin_the_locked_versions() -> None:
    lock = _pins((REPO_ROOT / "requirements.lock").read_text(encoding="utf-8"))
    for requirements in (PACK_DIR / "requirements.txt", PACK_DIR / "template" / "requirements.txt"):
        pins = _pins(requirements.read_text(encoding="utf-8"))
        assert pins == {"pulumi": lock["pulumi"], "pulumi-policy": lock["pulumi-policy"]}, (
            requirements
        )
    template = (PACK_DIR / "template" / "requirements.txt").read_text(encoding="utf-8")
    assert re.search(r"^stream-replica-policy @ git\+\S+#subdirectory=policy_pack$", template, re.M)
    pyproject = (PACK_DIR / "pyproject.toml").read_text(encoding="utf-8")
    version = re.search(r'^version = "([^"]+)"', pyproject, re.M)
    pack_yaml = (PACK_DIR / "PulumiPolicy.yaml").read_text(encoding="utf-8")
    assert version and f"\nversion: {version[1]}\n" in f"\n{pack_yaml}"
