"""The collector finds every document with its owner, and names the resource when it can't."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pytest

from .documents import collect_documents


@dataclass
class Record:
    type: str
    name: str
    inputs: dict[str, Any]
    id: str = ""
    state: dict[str, Any] = field(default_factory=dict)


DOC = json.dumps({"Version": "2012-10-17", "Statement": []})


def test_documents_and_owners() -> None:
    records = [
        Record("aws:iam/role:Role", "r", {"assumeRolePolicy": DOC}, id="r-1234567"),
        Record("aws:iam/rolePolicy:RolePolicy", "p", {"role": "r-1234567", "policy": DOC}),
        Record(
            "aws:iam/policy:Policy", "m", {"policy": DOC}, state={"arn": "arn:aws:iam::1:policy/m"}
        ),
        Record(
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "a",
            {"role": "r-1234567", "policyArn": "arn:aws:iam::1:policy/m"},
        ),
        Record("aws:sqs/queuePolicy:QueuePolicy", "q", {"queueUrl": "https://q", "policy": DOC}),
        Record("aws:sqs/queue:Queue", "plain-queue", {}),
    ]
    found = [(d.kind, d.owner, d.source) for d in collect_documents(records)]
    assert found == [
        ("trust", "r", "aws:iam/role:Role r"),
        ("identity", "r", "aws:iam/rolePolicy:RolePolicy p"),
        ("identity", "r", "aws:iam/rolePolicyAttachment:RolePolicyAttachment a -> m"),
        ("resource", "https://q", "aws:sqs/queuePolicy:QueuePolicy q"),
    ]


def test_errors_name_the_resource() -> None:
    bad_json = [Record("aws:iam/role:Role", "r", {"assumeRolePolicy": "{not json"})]
    with pytest.raises(ValueError, match="aws:iam/role:Role r: policy is not valid JSON"):
        collect_documents(bad_json)
    orphan = [Record("aws:iam/rolePolicy:RolePolicy", "p", {"role": "ghost", "policy": DOC})]
    with pytest.raises(LookupError, match="RolePolicy p: role reference 'ghost' matches no"):
        collect_documents(orphan)
    managed = [
        Record("aws:iam/role:Role", "r", {"assumeRolePolicy": DOC}),
        Record(
            "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
            "a",
            {"role": "r", "policyArn": "arn:aws:iam::aws:policy/AdministratorAccess"},
        ),
    ]
    with pytest.raises(ValueError, match=r"AWS managed policy .*AdministratorAccess"):
        collect_documents(managed)
