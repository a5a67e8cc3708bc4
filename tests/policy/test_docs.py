"""The docs pages name every rule, suppression and grant (that their generated tables are
current: tests/test_generated_files.py)."""

from __future__ import annotations

from docs.generate import PERMISSIONS_DOC, POLICY_DOC, POLICY_PACK_DOC


def test_docs_name_every_rule_suppression_and_grant() -> None:
    from policy_pack.stream_replica_policy import rules as replica_rules

    from .lint import SUPPRESSIONS

    readme = POLICY_PACK_DOC.read_text(encoding="utf-8") + PERMISSIONS_DOC.read_text(
        encoding="utf-8"
    )
    text = POLICY_DOC.read_text(encoding="utf-8")
    for rule in replica_rules.RULES:
        assert f"`{rule.name}`" in readme
    for stack_rule in replica_rules.STACK_RULES:
        assert f"`{stack_rule.name}`" in readme
    for suppression in SUPPRESSIONS:
        assert suppression.reason in text
    assert "| poc | writer role | trust | Allow | `sts:AssumeRole` |" in readme
