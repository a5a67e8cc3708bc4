"""Requests decided from the rendered documents, as AWS would decide them.

``PolicySet`` gathers the documents of both stacks (same access mode) by the table's owner names;
``scenarios`` lists the requests that matter — who may do what, and, as importantly, what they
may not — and ``request_problems`` returns each scenario the documents decide the wrong way.
The mutation tests call ``request_problems`` on widened documents.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .iam_eval import Request, evaluate

Policy = Mapping[str, Any]

#: An outsider's identity policy that allows everything on everything: only a resource policy,
#: a trust policy or an explicit deny can stop this caller.
EVERYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}],
}


@dataclass
class PolicySet:
    """Documents by owner: identity policies per role, trust per role, resource policies."""

    identity: dict[str, list[Policy]] = field(default_factory=dict)
    trust: dict[str, Policy] = field(default_factory=dict)
    resource: dict[str, Policy] = field(default_factory=dict)
    role_arns: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    description: str
    caller: str
    """An owner name from the table (its role's policies apply) or an ARN of an outsider
    whose identity policy allows everything."""
    action: str
    resource: str
    allowed: bool
    target: str | None = None
    """Owner whose resource or trust policy governs ``resource`` (``bucket``, ``table``, a role)."""
    context: Mapping[str, Any] = field(default_factory=dict)


def decide(policies: PolicySet, scenario: Scenario) -> bool:
    if scenario.caller in policies.role_arns:
        principal = policies.role_arns[scenario.caller]
        identity: Sequence[Policy] = policies.identity.get(scenario.caller, [])
    else:
        principal, identity = scenario.caller, [EVERYTHING]
    resource_policy = None
    if scenario.target is not None:
        resource_policy = policies.trust.get(scenario.target) or policies.resource.get(
            scenario.target
        )
    request = Request(principal, scenario.action, scenario.resource, scenario.context)
    account = None
    if scenario.resource.startswith("arn:aws:s3:::"):
        account = policies.role_arns["delivery role"].split(":")[4]
    return evaluate(
        request,
        identity_policies=identity,
        resource_policy=resource_policy,
        resource_account=account,
    ).allowed


def scenarios(names: Mapping[str, str], mode: str, external_id: str | None) -> list[Scenario]:
    """What the rendered documents must allow and refuse (``names``: resolved placeholders)."""
    table, stream = names["<table>"], names["<table stream>"]
    other_table = table.rsplit("/", 1)[0] + "/some-other-table"
    prod, poc = names["<prod account>"], names["<poc account>"]
    intruder_prod = f"arn:aws:iam::{prod}:role/intruder"
    intruder_poc = f"arn:aws:iam::{poc}:role/intruder"
    bucket = names["<bucket>"]
    data_object = f"{bucket}/{names['<data prefix>']}2026/11/27/part-0001.gz"
    delivery = names["<delivery stream>"]
    other_delivery = delivery.rsplit("/", 1)[0] + "/another-stream"
    http = {"aws:SecureTransport": False}
    ext = {"sts:ExternalId": external_id} if external_id else {}
    out: list[Scenario] = []
    if mode == "assume-role":
        writer = names["<writer role>"]
        out += [
            Scenario(
                "replicator assumes the writer role",
                "replicator role",
                "sts:AssumeRole",
                writer,
                True,
                target="writer role",
                context=ext,
            ),
            Scenario(
                "another prod role assumes the writer role",
                intruder_prod,
                "sts:AssumeRole",
                writer,
                False,
                target="writer role",
                context=ext,
            ),
            Scenario(
                "the archiver assumes the writer role",
                "archiver role",
                "sts:AssumeRole",
                writer,
                False,
                target="writer role",
                context=ext,
            ),
            Scenario(
                "writer BatchWriteItem on the table",
                "writer role",
                "dynamodb:BatchWriteItem",
                table,
                True,
                target="table",
            ),
            Scenario(
                "writer DeleteTable",
                "writer role",
                "dynamodb:DeleteTable",
                table,
                False,
                target="table",
            ),
            Scenario(
                "writer PutItem (not a call the handler makes)",
                "writer role",
                "dynamodb:PutItem",
                table,
                False,
                target="table",
            ),
            Scenario("writer Scan", "writer role", "dynamodb:Scan", table, False, target="table"),
            Scenario(
                "writer BatchWriteItem on another table",
                "writer role",
                "dynamodb:BatchWriteItem",
                other_table,
                False,
            ),
            Scenario(
                "replicator writes the table directly (no resource policy)",
                "replicator role",
                "dynamodb:BatchWriteItem",
                table,
                False,
                target="table",
            ),
        ]
    else:
        out += [
            Scenario(
                "replicator BatchWriteItem on the table (identity + resource policy)",
                "replicator role",
                "dynamodb:BatchWriteItem",
                table,
                True,
                target="table",
            ),
            Scenario(
                "replicator DeleteTable",
                "replicator role",
                "dynamodb:DeleteTable",
                table,
                False,
                target="table",
            ),
            Scenario(
                "replicator BatchWriteItem on another table",
                "replicator role",
                "dynamodb:BatchWriteItem",
                other_table,
                False,
            ),
            Scenario(
                "another prod role writes the table",
                intruder_prod,
                "dynamodb:BatchWriteItem",
                table,
                False,
                target="table",
            ),
        ]
    out += [
        Scenario(
            "another POC role with no grant writes the table",
            "delivery role",
            "dynamodb:BatchWriteItem",
            table,
            False,
            target="table",
        ),
        Scenario(
            "archiver writes the table",
            "archiver role",
            "dynamodb:BatchWriteItem",
            table,
            False,
            target="table",
        ),
        Scenario(
            "archiver reads the table stream", "archiver role", "dynamodb:GetRecords", stream, True
        ),
        Scenario(
            "archiver reads another table's stream",
            "archiver role",
            "dynamodb:GetRecords",
            other_table + "/stream/2026-01-01T00:00:00.000",
            False,
        ),
        Scenario(
            "archiver puts to its delivery stream",
            "archiver role",
            "firehose:PutRecordBatch",
            delivery,
            True,
        ),
        Scenario(
            "archiver puts to another delivery stream",
            "archiver role",
            "firehose:PutRecordBatch",
            other_delivery,
            False,
        ),
        Scenario(
            "archiver deletes its delivery stream",
            "archiver role",
            "firehose:DeleteDeliveryStream",
            delivery,
            False,
        ),
        Scenario(
            "Firehose assumes the delivery role for this account",
            "firehose.amazonaws.com",
            "sts:AssumeRole",
            names["<delivery role>"],
            True,
            target="delivery role",
            context={"sts:ExternalId": poc},
        ),
        Scenario(
            "Firehose assumes the delivery role for another account",
            "firehose.amazonaws.com",
            "sts:AssumeRole",
            names["<delivery role>"],
            False,
            target="delivery role",
            context={"sts:ExternalId": "222222222222"},
        ),
        Scenario(
            "delivery role writes under the data prefix",
            "delivery role",
            "s3:PutObject",
            data_object,
            True,
            target="bucket",
        ),
        Scenario(
            "delivery role writes outside its prefixes",
            "delivery role",
            "s3:PutObject",
            f"{bucket}/elsewhere/x",
            False,
            target="bucket",
        ),
        Scenario(
            "delivery role deletes an object",
            "delivery role",
            "s3:DeleteObject",
            data_object,
            False,
            target="bucket",
        ),
        Scenario(
            "delivery role writes over plain HTTP",
            "delivery role",
            "s3:PutObject",
            data_object,
            False,
            target="bucket",
            context=http,
        ),
    ]
    # Nobody may read the bucket over plain HTTP — not even a POC principal allowed everything.
    for caller in ("delivery role", "archiver role", intruder_poc):
        out.append(
            Scenario(
                f"{caller} reads the bucket over plain HTTP",
                caller,
                "s3:GetObject",
                data_object,
                False,
                target="bucket",
                context=http,
            )
        )
    out.append(
        Scenario(
            "a POC principal allowed everything reads over TLS",
            intruder_poc,
            "s3:GetObject",
            data_object,
            True,
            target="bucket",
        )
    )
    return out


def request_problems(policies: PolicySet, cases: Iterable[Scenario]) -> list[str]:
    problems = []
    for case in cases:
        got = decide(policies, case)
        if got != case.allowed:
            want = "allowed" if case.allowed else "denied"
            problems.append(f"{case.description}: expected {want}, the documents decide otherwise")
    return problems
