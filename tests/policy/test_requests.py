"""Requests decided from the rendered documents of both stacks, as AWS would decide them."""

from __future__ import annotations

import pytest

from .requests import PolicySet, Scenario, request_problems, scenarios
from .stacks import EXTERNAL_ID, MODES, StackView, render


def policy_set(*views: StackView) -> PolicySet:
    policies = PolicySet()
    for view in views:
        policies.role_arns.update(view.role_arns())
        for doc in view.documents():
            label = view.owner_label(doc)
            if doc.kind == "identity":
                policies.identity.setdefault(label, []).append(doc.policy)
            elif doc.kind == "trust":
                policies.trust[label] = doc.policy
            else:
                policies.resource[label] = doc.policy
    return policies


def both(mode: str, external_id: str | None = None) -> tuple[PolicySet, dict[str, str]]:
    poc, prod = render("poc", mode, external_id), render("prod", mode, external_id)
    return policy_set(poc, prod), {**poc.placeholders(), **prod.placeholders()}


@pytest.mark.parametrize(
    ("mode", "external_id"),
    [(MODES[0], None), (MODES[1], None), (MODES[0], EXTERNAL_ID)],
    ids=["assume-role", "resource-policy", "assume-role-external-id"],
)
def test_requests_are_decided_as_intended(mode: str, external_id: str | None) -> None:
    policies, names = both(mode, external_id)
    cases = scenarios(names, mode, external_id)
    assert len(cases) >= 20
    assert any(c.allowed for c in cases) and any(not c.allowed for c in cases)
    problems = request_problems(policies, cases)
    assert not problems, "\n".join(problems)


def test_a_wrong_expectation_is_reported() -> None:
    # request_problems reports a scenario the documents decide the other way.
    policies, names = both("assume-role")
    wrong = Scenario(
        "writer DeleteTable (claimed allowed)",
        "writer role",
        "dynamodb:DeleteTable",
        names["<table>"],
        True,
    )
    assert request_problems(policies, [wrong]) == [
        "writer DeleteTable (claimed allowed): expected allowed, the documents decide otherwise"
    ]
