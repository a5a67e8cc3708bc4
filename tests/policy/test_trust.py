"""Who may assume each role, evaluated from the rendered trust policies."""

from __future__ import annotations

import pytest

from .checks import service_trust_problems, writer_trust_problems
from .iam_eval import Request, evaluate
from .requests import EVERYTHING
from .stacks import VARIANTS, render, variant_id


@pytest.mark.parametrize(
    "external_id", [None, "replica-external-id-7f3a"], ids=["plain", "external-id"]
)
def test_only_the_replicator_role_can_assume_the_writer_role(external_id: str | None) -> None:
    poc = render("poc", "assume-role", external_id)
    (trust,) = poc.documents_of("writer role", "trust")
    problems = writer_trust_problems(
        trust.policy,
        writer_role_arn=poc.role_arn("writer role"),
        replicator_role_arn=poc.placeholders()["<replicator role>"],
        external_id=external_id,
    )
    assert not problems, "\n".join(problems)


def test_the_trusted_arn_is_the_role_the_prod_stack_creates() -> None:
    # The poc stack pins a deterministic ARN before the role exists; the prod stack must create
    # exactly that role, or the replicator is locked out.
    poc, prod = render("poc", "assume-role"), render("prod", "assume-role")
    assert poc.placeholders()["<replicator role>"] == prod.role_arn("replicator role")


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_service_roles_trust_only_their_service(variant: tuple[str, str, str | None]) -> None:
    view = render(*variant)
    checked = 0
    for label, service, pin in (
        ("replicator role", "lambda.amazonaws.com", {"aws:SourceAccount": view.account}),
        ("archiver role", "lambda.amazonaws.com", {"aws:SourceAccount": view.account}),
        ("delivery role", "firehose.amazonaws.com", {"sts:ExternalId": view.account}),
    ):
        for trust in view.documents_of(label, "trust"):
            checked += 1
            problems = service_trust_problems(
                trust.policy,
                role_arn=view.role_arn(label),
                service=service,
                account=view.account,
                pin=pin,
            )
            assert not problems, f"{label}: " + "\n".join(problems)
    # source placement: the replicator in prod, archiver + delivery in poc; target placement:
    # no role in prod, all three in poc
    expected = {"prod": 1, "poc": 2} if view.placement == "source" else {"prod": 0, "poc": 3}
    assert checked == expected[view.stack]


def test_resource_policy_mode_has_no_writer_role_and_pins_the_table_policy() -> None:
    poc = render("poc", "resource-policy")
    assert "writer role" not in poc.role_arns()
    (policy,) = poc.documents_of("table", "resource")
    names = poc.placeholders()
    table = names["<table>"]
    replicator = names["<replicator role>"]
    may_write = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "dynamodb:BatchWriteItem", "Resource": table}],
    }

    def allowed(principal: str) -> bool:
        request = Request(principal, "dynamodb:BatchWriteItem", table)
        return evaluate(
            request, identity_policies=[may_write], resource_policy=policy.policy
        ).allowed

    assert allowed(replicator)
    assert allowed(
        replicator.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/") + "/s"
    )
    assert not allowed(f"arn:aws:iam::{names['<prod account>']}:role/intruder")
    assert not allowed(replicator.replace(names["<prod account>"], "222222222222"))
    # A POC principal with every identity permission still may (same account) — the table
    # policy restricts other accounts, not the table's own account.
    request = Request(
        f"arn:aws:iam::{names['<poc account>']}:role/admin", "dynamodb:BatchWriteItem", table
    )
    assert evaluate(request, identity_policies=[EVERYTHING], resource_policy=policy.policy).allowed


@pytest.mark.parametrize("label", ["replicator role", "archiver role"])
def test_lambda_trust_is_pinned_to_the_account(label: str) -> None:
    view = render("prod" if label == "replicator role" else "poc")
    (trust,) = view.documents_of(label, "trust")
    problems = service_trust_problems(
        trust.policy,
        role_arn=view.role_arn(label),
        service="lambda.amazonaws.com",
        account=view.account,
        pin={"aws:SourceAccount": view.account},
    )
    assert not problems, "\n".join(problems)
