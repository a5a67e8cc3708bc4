"""The docs pages show the current permission table, rules and suppressions."""

from __future__ import annotations

import pytest

from .render_docs import DOC, PAGES, PERMISSIONS, POLICY_PACK, render
from .stacks import example_placeholders


@pytest.mark.parametrize("page", list(PAGES), ids=lambda page: page.name)
def test_generated_sections_match_their_sources(page) -> None:
    current = page.read_text(encoding="utf-8")
    assert render(current, example_placeholders(), page) == current, (
        f"{page.name} is out of date: run venv/bin/python -m tests.policy.render_docs"
    )


def test_docs_name_every_rule_suppression_and_grant() -> None:
    from policy_pack.stream_replica_policy import rules as replica_rules

    from .lint import SUPPRESSIONS

    readme = POLICY_PACK.read_text(encoding="utf-8") + PERMISSIONS.read_text(encoding="utf-8")
    text = DOC.read_text(encoding="utf-8")
    for rule in replica_rules.RULES:
        assert f"`{rule.name}`" in readme
    for stack_rule in replica_rules.STACK_RULES:
        assert f"`{stack_rule.name}`" in readme
    for suppression in SUPPRESSIONS:
        assert suppression.reason in text
    assert "| poc | writer role | trust | Allow | `sts:AssumeRole` |" in readme
