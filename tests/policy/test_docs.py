"""docs/policy.md shows the current permission table, rules and suppressions."""

from __future__ import annotations

from .render_docs import DOC, render
from .stacks import example_placeholders


def test_policy_doc_is_generated_from_the_current_sources() -> None:
    current = DOC.read_text(encoding="utf-8")
    assert render(current, example_placeholders()) == current, (
        "docs/policy.md is out of date: run venv/bin/python -m tests.policy.render_docs"
    )


def test_policy_doc_names_every_rule_and_suppression() -> None:
    from policy_pack import replica_rules

    from .lint import SUPPRESSIONS

    text = DOC.read_text(encoding="utf-8")
    for rule in replica_rules.RULES:
        assert f"`{rule.name}`" in text
    for name, _description, _check in replica_rules.STACK_RULES:
        assert f"`{name}`" in text
    for suppression in SUPPRESSIONS:
        assert suppression.reason in text
    assert "| poc | writer role | trust | Allow | `sts:AssumeRole` |" in text
