"""The CrossGuard pack on what programs render: our stacks pass, a violating program fails.

Resources come from the recording mocks (``stream_replica.testing``): their type, name, URN
and resolved inputs are exactly what the engine would hand the pack's validators.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pytest
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from policy_pack.stream_replica_policy import pack, rules

from . import foreign_program
from .stacks import VARIANTS, render, variant_id


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def pack_violations(resources: Iterable[Any]) -> dict[str, list[str]]:
    """Run every policy of the pack over recorded resources, as the CLI would; by policy name."""
    records = [r for r in resources if r.custom]
    found: dict[str, list[str]] = {}
    policies = pack.build_policies()
    for policy in policies:

        def report(message: str, urn: str | None = None, name: str = policy.name) -> None:
            found.setdefault(name, []).append(message)

        if isinstance(policy, ResourceValidationPolicy):
            for r in records:
                # The engine wraps props in read-only proxies (Mapping/Sequence, not dict/list).
                props = unknown_checking_proxy(r.inputs)
                args = ResourceValidationArgs(r.type, props, r.urn, r.name, _options(), None)
                policy.validate(args, report)
        else:
            assert isinstance(policy, StackValidationPolicy)
            stack = StackValidationArgs(
                [
                    PolicyResource(
                        r.type,
                        {**r.inputs, **r.state},
                        r.urn,
                        r.name,
                        _options(),
                        None,
                        None,
                        [],
                        {},
                    )
                    for r in records
                ]
            )
            policy.validate(stack, report)
    return found


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_our_stacks_pass_the_pack(variant: tuple[str, str, str | None]) -> None:
    view = render(*variant)
    assert pack_violations(view.resources) == {}


def test_a_foreign_program_breaks_each_rule_once() -> None:
    """Another team's program: each rule reports exactly its one violation, by name, and the
    legitimate exceptions (VPC-Lambda network-interface permissions) pass."""
    from stream_replica.testing import mocks as pulumi_mocks

    rendered = pulumi_mocks.run_components(foreign_program.program)
    found = pack_violations(rendered.resources)
    assert set(foreign_program.VIOLATIONS) == set(rules.RULE_NAMES)
    for rule_name, resource_name in foreign_program.VIOLATIONS.items():
        messages = found.get(rule_name, [])
        assert len(messages) == 1, (rule_name, messages)
        assert f"'{resource_name}'" in messages[0], (rule_name, messages)
    every_message = [m for ms in found.values() for m in ms]
    for name in foreign_program.LEGITIMATE:
        assert not any(f"'{name}'" in m for m in every_message), name
    assert any(
        "arn:aws:iam::aws:policy/AdministratorAccess grants every action" in m
        for m in found["iam-no-broad-managed-policy"]
    )
