"""The checks the policy tests apply to rendered documents, as functions that return problems.

Each function returns a list of human-readable problems (empty = the check holds). The tests
assert emptiness on what the stacks render, and the mutation tests assert non-emptiness on
widened copies — the same functions, so a check that cannot fail shows up there.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .documents import IamDocument
from .expected_permissions import Grant
from .iam_eval import Request, account_of, evaluate


def _canonical(value: Any) -> Any:
    """JSON-comparable form: lists sorted, one-element lists as the element, keys sorted."""
    if isinstance(value, Mapping):
        return {k: _canonical(v) for k, v in sorted(value.items())}
    if isinstance(value, list | tuple):
        items = sorted((_canonical(v) for v in value), key=json.dumps)
        return items[0] if len(items) == 1 else items
    return value


def _text(value: Any) -> str:
    return "" if value in (None, {}, "") else json.dumps(_canonical(value), sort_keys=True)


@dataclass(frozen=True, order=True)
class Atom:
    """One action on one resource (or one principal's trust), with its condition."""

    owner: str
    kind: str
    effect: str
    action: str
    resource: str
    principal: str
    condition: str

    def __str__(self) -> str:
        text = f"{self.owner} ({self.kind}): {self.effect} {self.action}"
        if self.resource:
            text += f" on {self.resource}"
        if self.principal:
            text += f" to {self.principal}"
        if self.condition:
            text += f" if {self.condition}"
        return text


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def atoms_of_grants(grants: Iterable[Grant]) -> set[Atom]:
    return {
        Atom(
            g.owner,
            g.kind,
            g.effect,
            action,
            resource,
            _text(g.principal),
            _text(g.condition),
        )
        for g in grants
        for action in g.actions
        for resource in (g.resources or ("",))
    }


def atoms_of_document(owner: str, doc: IamDocument) -> set[Atom]:
    """Every (action, resource) a document states; NotAction/NotResource appear as such."""
    atoms = set()
    for stmt in doc.statements:
        actions = [a for a in _as_list(stmt.get("Action"))] + [
            f"NOT {a}" for a in _as_list(stmt.get("NotAction"))
        ]
        resources = [r for r in _as_list(stmt.get("Resource"))] + [
            f"NOT {r}" for r in _as_list(stmt.get("NotResource"))
        ]
        principal = stmt.get("Principal")
        if "NotPrincipal" in stmt:
            principal = {"NOT": stmt["NotPrincipal"]}
        for action in actions:
            for resource in resources or [""]:
                atoms.add(
                    Atom(
                        owner,
                        doc.kind,
                        str(stmt.get("Effect")),
                        action,
                        resource,
                        _text(principal),
                        _text(stmt.get("Condition")),
                    )
                )
    return atoms


def permission_diff(rendered: set[Atom], expected: set[Atom]) -> list[str]:
    """Readable differences: grants the stack renders beyond the table, and grants it lacks."""
    lines = [f"+ rendered, not in the table: {a}" for a in sorted(rendered - expected)]
    lines += [f"- in the table, not rendered: {a}" for a in sorted(expected - rendered)]
    return lines


# --- trust ----------------------------------------------------------------------------------------


def writer_trust_problems(
    trust: Mapping[str, Any],
    *,
    writer_role_arn: str,
    replicator_role_arn: str,
    external_id: str | None,
) -> list[str]:
    """Only the replicator role (and its sessions) may assume the writer role.

    Evaluated, not only read: the replicator is allowed (with the ExternalId when one is
    configured, refused without it); another role of the prod account, a role of the same name
    in a third account, and a service are refused — each given an identity policy that allows
    the call, so only the trust policy can stop them.
    """
    problems = []
    prod = account_of(replicator_role_arn)
    may_assume = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": writer_role_arn}],
    }
    ctx: dict[str, str] = {"sts:ExternalId": external_id} if external_id else {}
    session = replicator_role_arn.replace(":iam::", ":sts::").replace(":role/", ":assumed-role/")
    callers = {
        "the replicator role": (replicator_role_arn, ctx, True),
        "a replicator session": (f"{session}/replica", ctx, True),
        "another role of the prod account": (f"arn:aws:iam::{prod}:role/intruder", ctx, False),
        "the replicator's name in another account": (
            replicator_role_arn.replace(f"::{prod}:", "::222222222222:"),
            ctx,
            False,
        ),
        "the replicator's name under another path": (
            f"arn:aws:iam::{prod}:role/other-path/{replicator_role_arn.rsplit('/', 1)[-1]}",
            ctx,
            False,
        ),
    }
    if external_id:
        callers["the replicator without the ExternalId"] = (replicator_role_arn, {}, False)
        callers["the replicator with a wrong ExternalId"] = (
            replicator_role_arn,
            {"sts:ExternalId": external_id + "-wrong"},
            False,
        )
    for who, (principal, context, should) in callers.items():
        request = Request(principal, "sts:AssumeRole", writer_role_arn, context)
        decision = evaluate(request, identity_policies=[may_assume], resource_policy=trust)
        if decision.allowed != should:
            verdict = "may" if decision.allowed else "may not"
            problems.append(f"{who} {verdict} assume the writer role ({decision.reason})")
    for service in ("lambda.amazonaws.com", "dynamodb.amazonaws.com"):
        if evaluate(Request(service, "sts:AssumeRole", writer_role_arn), resource_policy=trust):
            problems.append(f"service {service} may assume the writer role")
    for index, stmt in enumerate(_as_list(trust.get("Statement"))):
        if stmt.get("Effect") != "Allow":
            continue
        pins = (stmt.get("Condition") or {}).get("ArnEquals", {}).get("aws:PrincipalArn")
        if _canonical(pins) != replicator_role_arn:
            problems.append(
                f"statement {index}: ArnEquals aws:PrincipalArn is {pins!r}, "
                f"expected exactly {replicator_role_arn!r}"
            )
        if (
            external_id
            and (stmt.get("Condition") or {}).get("StringEquals", {}).get("sts:ExternalId")
            != external_id
        ):
            problems.append(
                f"statement {index}: StringEquals sts:ExternalId is not {external_id!r}"
            )
    return problems


def service_trust_problems(
    trust: Mapping[str, Any],
    *,
    role_arn: str,
    service: str,
    account: str,
    pin: Mapping[str, str] | None = None,
) -> list[str]:
    """The role trusts ``service`` and nothing else; with ``pin``, only on behalf of ``account``.

    ``pin`` is the condition context the service sends (``{"sts:ExternalId": account}`` for
    Firehose); the same service acting for another account must then be refused.
    """
    problems = []
    context = dict(pin or {})
    if not evaluate(Request(service, "sts:AssumeRole", role_arn, context), resource_policy=trust):
        problems.append(f"{service} may not assume {role_arn}")
    if pin:
        other = {key: "222222222222" for key in pin}
        if evaluate(Request(service, "sts:AssumeRole", role_arn, other), resource_policy=trust):
            problems.append(f"{service} acting for another account may assume {role_arn}")
    for other_service in ("ec2.amazonaws.com", "lambda.amazonaws.com", "firehose.amazonaws.com"):
        if other_service != service and evaluate(
            Request(other_service, "sts:AssumeRole", role_arn, context), resource_policy=trust
        ):
            problems.append(f"{other_service} may assume {role_arn}")
    anyone = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": role_arn}],
    }
    for principal in (f"arn:aws:iam::{account}:role/someone", "arn:aws:iam::222222222222:root"):
        request = Request(principal, "sts:AssumeRole", role_arn, context)
        if evaluate(request, identity_policies=[anyone], resource_policy=trust):
            problems.append(f"{principal} may assume the service role {role_arn}")
    return problems


def wildcard_action_problems(docs: Sequence[IamDocument]) -> list[str]:
    """No Allow with a wildcard action (or NotAction) in any document."""
    from policy_pack.stream_replica_policy.rules import wildcard_action_violations

    return [p for d in docs for p in wildcard_action_violations(d.policy, d.where())]


def wildcard_resource_problems(
    docs: Sequence[IamDocument], exceptions: Mapping[str, str]
) -> list[str]:
    """No Allow on ``*``/wildcard ARNs except for the named actions without resource-level
    permissions."""
    from policy_pack.stream_replica_policy.rules import wildcard_resource_violations

    return [
        p
        for d in docs
        if d.kind != "trust"
        for p in wildcard_resource_violations(d.policy, d.where(), exceptions)
    ]
