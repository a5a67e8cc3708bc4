"""Every IAM document a rendered stack holds, with who it belongs to.

``collect_documents`` walks the resources recorded by ``stream_replica.testing`` (type, name,
resolved inputs) and returns one ``IamDocument`` per policy: role trust policies, inline and
attached role policies, and the resource policies of buckets, DynamoDB tables, SQS queues and SNS
topics. Policies arrive as JSON strings in the inputs (that is what Pulumi sends AWS); a policy
that is not valid JSON is an error naming the resource.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol

DocKind = Literal["trust", "identity", "resource"]


class ResourceRecord(Protocol):
    """What the policy tests need from one resource the mocks recorded."""

    @property
    def type(self) -> str: ...

    @property
    def name(self) -> str: ...

    @property
    def inputs(self) -> Mapping[str, Any]: ...


@dataclass(frozen=True)
class IamDocument:
    """One policy document and where it came from.

    ``owner`` is the logical name of the role (trust/identity policies) or of the resource a
    resource policy protects; ``source`` names the Pulumi resource that carries the document.
    """

    kind: DocKind
    owner: str
    source: str
    policy: dict[str, Any] = field(compare=False)

    @property
    def statements(self) -> list[dict[str, Any]]:
        stmts = self.policy.get("Statement", [])
        return list(stmts) if isinstance(stmts, list) else [stmts]

    def where(self) -> str:
        return f"{self.kind} policy of {self.owner} (from {self.source})"


# type token -> (input key holding the policy, kind, input key naming the owner or None)
_RESOURCE_POLICY_TYPES: dict[str, tuple[str, str | None]] = {
    "aws:s3/bucketPolicy:BucketPolicy": ("policy", "bucket"),
    "aws:dynamodb/resourcePolicy:ResourcePolicy": ("policy", "resourceArn"),
    "aws:sqs/queuePolicy:QueuePolicy": ("policy", "queueUrl"),
    "aws:sns/topicPolicy:TopicPolicy": ("policy", "arn"),
    "aws:sqs/queue:Queue": ("policy", None),
    "aws:sns/topic:Topic": ("policy", None),
    "aws:kinesis/resourcePolicy:ResourcePolicy": ("policy", "resourceArn"),
}
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
MANAGED_POLICY = "aws:iam/policy:Policy"
POLICY_ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment"


def parse_policy(value: Any, where: str) -> dict[str, Any]:
    """A policy input as a dict; JSON strings are parsed, dicts are taken as they are."""
    if isinstance(value, Mapping):
        return dict(value)
    if not isinstance(value, str):
        raise TypeError(f"{where}: policy is {type(value).__name__}, expected a JSON string")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError as exc:
        raise ValueError(f"{where}: policy is not valid JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise ValueError(f"{where}: policy JSON is not an object")
    return parsed


def _role_key(record: ResourceRecord) -> set[str]:
    """Values another resource may use to point at this role or policy: its logical name, its
    ``name`` input, and (recorded by the mocks) its id and computed name/ARN."""
    keys = {record.name}
    if isinstance(record.inputs.get("name"), str):
        keys.add(record.inputs["name"])
    record_id = getattr(record, "id", None)
    if isinstance(record_id, str) and record_id:
        keys.add(record_id)
    state = getattr(record, "state", None)
    if isinstance(state, Mapping):
        keys.update(state[k] for k in ("name", "arn") if isinstance(state.get(k), str))
    return keys


def collect_documents(resources: Iterable[ResourceRecord]) -> list[IamDocument]:
    records = list(resources)
    roles = [r for r in records if r.type == ROLE]

    def owning_role(ref: Any, source: str) -> str:
        for role in roles:
            if isinstance(ref, str) and ref in _role_key(role):
                return role.name
        raise LookupError(f"{source}: role reference {ref!r} matches no recorded aws:iam/role:Role")

    managed = {r.name: r for r in records if r.type == MANAGED_POLICY}
    docs: list[IamDocument] = []
    for record in records:
        source = f"{record.type} {record.name}"
        inputs = record.inputs
        if record.type == ROLE:
            docs.append(
                IamDocument(
                    "trust",
                    record.name,
                    source,
                    parse_policy(inputs.get("assumeRolePolicy"), source),
                )
            )
            for inline in inputs.get("inlinePolicies") or []:
                if inline.get("policy"):
                    docs.append(
                        IamDocument(
                            "identity",
                            record.name,
                            f"{source} inline {inline.get('name')}",
                            parse_policy(inline["policy"], source),
                        )
                    )
        elif record.type == ROLE_POLICY:
            owner = owning_role(inputs.get("role"), source)
            docs.append(
                IamDocument("identity", owner, source, parse_policy(inputs.get("policy"), source))
            )
        elif record.type == POLICY_ATTACHMENT:
            arn = str(inputs.get("policyArn", ""))
            if arn.startswith("arn:aws:iam::aws:policy/"):
                raise ValueError(
                    f"{source}: AWS managed policy {arn} attached; its permissions cannot be "
                    "checked here — use a policy built by components/policies.py"
                )
            owner = owning_role(inputs.get("role"), source)
            match = [m for m in managed.values() if arn in _role_key(m)]
            if len(match) != 1:
                raise LookupError(f"{source}: policy {arn!r} matches {len(match)} aws:iam/policy")
            docs.append(
                IamDocument(
                    "identity",
                    owner,
                    f"{source} -> {match[0].name}",
                    parse_policy(match[0].inputs.get("policy"), source),
                )
            )
        elif record.type in _RESOURCE_POLICY_TYPES:
            key, owner_key = _RESOURCE_POLICY_TYPES[record.type]
            value = inputs.get(key)
            if not value:
                continue
            owner = str(inputs.get(owner_key)) if owner_key else record.name
            docs.append(IamDocument("resource", owner, source, parse_policy(value, source)))
    return docs
