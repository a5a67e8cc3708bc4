"""Widen a rendered policy and show the suite's own checks catch it.

Each case copies one document the stacks render, widens it the way a careless edit would, and
calls the same check functions the other tests apply to the real documents — every one that
should notice must report a problem. A check that cannot fail would show up here.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from stream_replica.components import policies

from policy_pack.stream_replica_policy import rules as replica_rules

from .checks import (
    atoms_of_document,
    atoms_of_grants,
    permission_diff,
    service_trust_problems,
    wildcard_action_problems,
    wildcard_resource_problems,
    writer_trust_problems,
)
from .documents import IamDocument
from .expected_permissions import expected_for, resolve
from .requests import request_problems, scenarios
from .stacks import EXTERNAL_ID, StackView, render
from .test_requests import policy_set

Mutation = Callable[[dict[str, Any]], None]


def _statement(doc: dict[str, Any], sid: str | None = None) -> dict[str, Any]:
    statements = doc["Statement"]
    return next(s for s in statements if sid is None or s.get("Sid") == sid)


def add_action(action: str, sid: str | None = None) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        stmt = _statement(doc, sid)
        stmt["Action"] = [
            *([stmt["Action"]] if isinstance(stmt["Action"], str) else stmt["Action"]),
            action,
        ]

    return mutate


def set_resource(resource: str, sid: str | None = None) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        _statement(doc, sid)["Resource"] = resource

    return mutate


def drop_condition(key: str | None = None) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        stmt = _statement(doc)
        if key is None:
            stmt.pop("Condition")
        else:
            for values in stmt["Condition"].values():
                values.pop(key, None)
            stmt["Condition"] = {op: v for op, v in stmt["Condition"].items() if v}

    return mutate


def set_condition(operator: str, key: str, value: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        _statement(doc)["Condition"] = {operator: {key: value}}

    return mutate


def remove_statement(sid: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        doc["Statement"] = [s for s in doc["Statement"] if s.get("Sid") != sid]

    return mutate


def add_principal(kind: str, value: str) -> Mutation:
    def mutate(doc: dict[str, Any]) -> None:
        _statement(doc)["Principal"][kind] = value

    return mutate


def findings(
    mode: str, external_id: str | None, label: str, kind: str, mutate: Mutation
) -> dict[str, list[str]]:
    """Run every check on both stacks with one document of ``label``/``kind`` mutated."""
    poc, prod = render("poc", mode, external_id), render("prod", mode, external_id)
    view: StackView = poc if label != "replicator role" else prod
    (original,) = view.documents_of(label, kind)
    widened = IamDocument(
        original.kind, original.owner, original.source, copy.deepcopy(original.policy)
    )
    mutate(widened.policy)
    assert widened.policy != original.policy, "the mutation changed nothing"

    # Documents are re-parsed on every call: compare by identity of origin (kind/owner/source).
    docs = [widened if d == original else d for d in view.documents()]
    names = {**poc.placeholders(), **prod.placeholders()}
    found: dict[str, list[str]] = {}

    # exact permission table
    rendered = set().union(*(atoms_of_document(view.owner_label(d), d) for d in docs))
    expected = atoms_of_grants(
        resolve(expected_for(view.stack, mode, external_id), view.placeholders())
    )
    found["table"] = permission_diff(rendered, expected)
    # wildcards
    found["wildcards"] = wildcard_action_problems(docs) + wildcard_resource_problems(
        docs, policies.ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS
    )
    # evaluated requests over both stacks
    mutated_set = policy_set(poc, prod)
    if kind == "identity":
        mutated_set.identity[label] = [
            widened.policy if p == original.policy else p for p in mutated_set.identity[label]
        ]
    elif kind == "trust":
        mutated_set.trust[label] = widened.policy
    else:
        mutated_set.resource[label] = widened.policy
    found["requests"] = request_problems(mutated_set, scenarios(names, mode, external_id))
    # trust
    if kind == "trust" and label == "writer role":
        found["trust"] = writer_trust_problems(
            widened.policy,
            writer_role_arn=names["<writer role>"],
            replicator_role_arn=names["<replicator role>"],
            external_id=external_id,
        )
    elif kind == "trust":
        service = "firehose.amazonaws.com" if label == "delivery role" else "lambda.amazonaws.com"
        key = "sts:ExternalId" if label == "delivery role" else "aws:SourceAccount"
        pin = {key: view.account}
        found["trust"] = service_trust_problems(
            widened.policy,
            role_arn=view.role_arn(label),
            service=service,
            account=view.account,
            pin=pin,
        )
    # the policy pack, on the mutated resource's inputs
    record = next(r for r in view.resources if r.name in original.source.split()[-1:])
    field_name = "assumeRolePolicy" if kind == "trust" else "policy"
    inputs = {**record.inputs, field_name: json.dumps(widened.policy)}
    found["pack"] = [
        m for ms in replica_rules.check_resource(record.type, inputs).values() for m in ms
    ]
    return found


CASES = [
    # (id, mode, external id, owner, kind, mutation, checks that must report it)
    ("writer gets dynamodb:*", "assume-role", None, "writer role", "identity",
     add_action("dynamodb:*"), {"table", "wildcards", "requests", "pack"}),
    ("writer table ARN becomes *", "assume-role", None, "writer role", "identity",
     set_resource("*"), {"table", "wildcards", "requests", "pack"}),
    ("writer may DeleteTable", "assume-role", None, "writer role", "identity",
     add_action("dynamodb:DeleteTable"), {"table", "requests"}),
    ("writer trust loses its PrincipalArn condition", "assume-role", None, "writer role", "trust",
     drop_condition(), {"table", "trust", "requests", "pack"}),
    ("writer trust pins role/* instead of the replicator", "assume-role", None, "writer role",
     "trust", set_condition("ArnLike", "aws:PrincipalArn", "arn:aws:iam::111111111111:role/*"),
     {"table", "trust", "requests", "pack"}),
    ("writer trust loses its ExternalId", "assume-role", EXTERNAL_ID, "writer role", "trust",
     drop_condition("sts:ExternalId"), {"table", "trust"}),
    ("table policy pins any prod role", "resource-policy", None, "table", "resource",
     set_condition("ArnLike", "aws:PrincipalArn", "arn:aws:iam::111111111111:role/*"),
     {"table", "requests", "pack"}),
    # Cross-account access needs both sides, so widening one side alone grants nothing new (the
    # requests still decide the same) — but the table, the wildcard check and the pack notice.
    ("table policy gets dynamodb:*", "resource-policy", None, "table", "resource",
     add_action("dynamodb:*"), {"table", "wildcards", "pack"}),
    ("replicator may write any table", "resource-policy", None, "replicator role", "identity",
     set_resource("arn:aws:dynamodb:eu-west-1:999999999999:table/*", "WriteReplicaTable"),
     {"table", "wildcards", "pack"}),
    ("archiver may put to any delivery stream", "assume-role", None, "archiver role", "identity",
     set_resource("arn:aws:firehose:eu-west-1:999999999999:deliverystream/*",
                  "PutToDeliveryStream"),
     {"table", "wildcards", "requests", "pack"}),
    ("bucket policy loses the TLS-only deny", "assume-role", None, "bucket", "resource",
     remove_statement("DenyInsecureTransport"), {"table", "requests"}),
    ("Firehose trust loses its ExternalId", "assume-role", None, "delivery role", "trust",
     drop_condition(), {"table", "trust", "requests", "pack"}),
    ("Lambda trust loses aws:SourceAccount", "assume-role", None, "replicator role", "trust",
     drop_condition(), {"table", "trust", "pack"}),
    ("Lambda trust also trusts an account", "assume-role", None, "archiver role", "trust",
     add_principal("AWS", "arn:aws:iam::999999999999:root"), {"table", "trust", "pack"}),
]  # fmt: skip


@pytest.mark.parametrize(
    ("mode", "external_id", "label", "kind", "mutate", "must_catch"),
    [case[1:] for case in CASES],
    ids=[case[0] for case in CASES],
)
def test_widening_is_caught(
    mode: str,
    external_id: str | None,
    label: str,
    kind: str,
    mutate: Mutation,
    must_catch: set[str],
) -> None:
    found = findings(mode, external_id, label, kind, mutate)
    missed = sorted(check for check in must_catch if not found.get(check))
    assert not missed, f"checks that did not notice: {missed}; findings: {found}"
