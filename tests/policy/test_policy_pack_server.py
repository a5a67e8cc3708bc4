"""The pack as the Pulumi CLI runs it: its own process, spoken to over the analyzer gRPC protocol.

The CLI starts the pack (``python -u .`` in ``policy_pack/``), reads the port it prints, and calls
``GetAnalyzerInfo``, ``Analyze`` per resource and ``AnalyzeStack``. This test does the same, so
the pack's entry point, its policy registration and the engine-side deserialisation (numbers as
doubles, read-only proxies) are exercised, not only the rule functions.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterable, Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from policy_pack import replica_rules as rules

from .stacks import REPO_ROOT, VARIANTS, render, variant_id
from .test_policy_pack_stacks import violating_program

Stub = Any


@pytest.fixture(scope="module")
def pack() -> Iterator[Stub]:
    proc = subprocess.Popen(
        [sys.executable, "-u", "."],
        cwd=REPO_ROOT / "policy_pack",
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


def _struct(values: dict[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(values)
    return message


def analyze(pack: Stub, resources: Iterable[Any]) -> list[tuple[str, str]]:
    """(policy, message) of every diagnostic on the custom resources, per resource and stack."""
    records = [r for r in resources if r.custom and not r.type.startswith("pulumi:")]
    found = []
    for r in records:
        request = analyzer_pb2.AnalyzeRequest(
            type=r.type, properties=_struct(r.inputs), urn=r.urn, name=r.name
        )
        found += [(d.policyName, d.message) for d in pack.Analyze(request).diagnostics]
    stack = analyzer_pb2.AnalyzeStackRequest(
        resources=[
            analyzer_pb2.AnalyzerResource(
                type=r.type, properties=_struct({**r.inputs, **r.state}), urn=r.urn, name=r.name
            )
            for r in records
        ]
    )
    found += [(d.policyName, d.message) for d in pack.AnalyzeStack(stack).diagnostics]
    return found


def test_pack_registers_every_rule_as_mandatory(pack: Stub) -> None:
    info = pack.GetAnalyzerInfo(empty_pb2.Empty())
    assert info.name == "stream-replica-guardrails"
    names = [p.name for p in info.policies]
    assert names == [p.name for p in rules.build_policies()]
    mandatory = analyzer_pb2.EnforcementLevel.Value("MANDATORY")
    assert all(p.enforcementLevel == mandatory for p in info.policies)


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_our_stacks_pass_over_grpc(pack: Stub, variant: tuple[str, str, str | None]) -> None:
    assert analyze(pack, render(*variant).resources) == []


def test_violating_program_fails_over_grpc(pack: Stub) -> None:
    from tests import pulumi_harness

    found = analyze(pack, pulumi_harness.run_components(violating_program).resources)
    assert {name for name, _ in found} == {p.name for p in rules.build_policies()}
    assert any(name == "log-group-retention" and "'logs'" in message for name, message in found), (
        found
    )
