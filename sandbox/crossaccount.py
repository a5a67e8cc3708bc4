"""Cross-account DynamoDB by table ARN (``resource-policy`` mode), which moto does not route.

In AWS, a caller in the prod account may address a POC table by its ARN; the request reaches
the table's account and is allowed only if the caller's identity policy AND the table's resource
policy both allow it. moto files a request under the caller's own account, so the table would
not be found. This hook, registered for every botocore session, finds a DynamoDB request that
names a table ARN in another account, evaluates both policies for the caller's role as AWS
would for the subset of IAM we use (Allow/Deny, Action/Resource wildcards, Principal by ARN,
account or ``*``, conditions ``StringEquals``/``StringLike``/``ArnEquals``/``ArnLike`` on
``aws:PrincipalArn``/``aws:PrincipalAccount``), and then sends the request to the table's
account (moto's ``x-moto-account-id`` header) or answers ``AccessDeniedException``.
"""

from __future__ import annotations

import fnmatch
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import boto3
import botocore.handlers
from botocore.exceptions import ClientError

_LOCK = threading.Lock()
_CALLERS: dict[str, tuple[str, str]] = {}  # access key -> (role ARN, account)
#: Decisions taken (for the summary and the tests).
decisions = {"allowed": 0, "denied": 0}


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _caller(access_key: str, secret: str, token: str | None) -> tuple[str, str]:
    with _LOCK:
        if access_key in _CALLERS:
            return _CALLERS[access_key]
    identity = boto3.client(
        "sts",
        aws_access_key_id=access_key,
        aws_secret_access_key=secret,
        aws_session_token=token,
    ).get_caller_identity()
    account = identity["Account"]
    arn = identity["Arn"]
    if ":assumed-role/" in arn:
        role_name = arn.split(":assumed-role/", 1)[1].split("/", 1)[0]
        role_arn = _role_arn(account, role_name)
    else:
        role_arn = arn
    with _LOCK:
        _CALLERS[access_key] = (role_arn, account)
    return role_arn, account


def _role(account: str, role_name: str) -> Any:
    from moto.iam.models import iam_backends

    try:
        return iam_backends[account]["aws"].get_role(role_name)
    except Exception:
        return None


def _role_arn(account: str, role_name: str) -> str:
    role = _role(account, role_name)
    return str(role.arn) if role is not None else f"arn:aws:iam::{account}:role/{role_name}"


def _identity_documents(role_arn: str, account: str) -> list[dict[str, Any]]:
    role = _role(account, role_arn.rsplit("/", 1)[-1])
    if role is None:
        return []
    documents = [json.loads(doc) for doc in role.policies.values()]
    for policy in role.managed_policies.values():
        for version in policy.versions:
            if version.is_default:
                documents.append(json.loads(version.document))
    return documents


def _condition_holds(condition: dict[str, Any], context: dict[str, str]) -> bool:
    for operator, pairs in condition.items():
        base = operator.removesuffix("IfExists")
        for key, expected in pairs.items():
            actual = context.get(key.lower())
            if actual is None:
                if operator.endswith("IfExists"):
                    continue
                return False
            values = _as_list(expected)
            if base in ("StringEquals", "ArnEquals"):
                ok = actual in values
            elif base in ("StringLike", "ArnLike"):
                ok = any(fnmatch.fnmatchcase(actual, v) for v in values)
            else:
                return False  # an operator this evaluator doesn't know never grants access
            if not ok:
                return False
    return True


def _matches(
    statement: dict[str, Any],
    action: str,
    resource: str,
    context: dict[str, str],
    *,
    principal_required: bool,
) -> bool:
    if "NotAction" in statement or "NotResource" in statement or "NotPrincipal" in statement:
        return False
    if not any(
        fnmatch.fnmatchcase(action.lower(), a.lower()) for a in _as_list(statement.get("Action"))
    ):
        return False
    if not any(fnmatch.fnmatchcase(resource, r) for r in _as_list(statement.get("Resource", "*"))):
        return False
    if principal_required:
        principal = statement.get("Principal")
        if principal != "*":
            names = _as_list((principal or {}).get("AWS"))
            account = context["aws:principalaccount"]
            accepted = {context["aws:principalarn"], f"arn:aws:iam::{account}:root", account}
            if "*" not in names and not accepted.intersection(names):
                return False
    return _condition_holds(statement.get("Condition") or {}, context)


def evaluate(
    action: str,
    resource: str,
    principal_arn: str,
    principal_account: str,
    identity_documents: list[dict[str, Any]],
    resource_document: dict[str, Any] | None,
) -> tuple[bool, str]:
    """Cross-account decision: both sides must allow and neither may deny."""
    context = {"aws:principalarn": principal_arn, "aws:principalaccount": principal_account}
    identity = [s for d in identity_documents for s in _as_list(d.get("Statement"))]
    resource_side = _as_list((resource_document or {}).get("Statement"))
    for statement in identity:
        if statement.get("Effect") == "Deny" and _matches(
            statement, action, resource, context, principal_required=False
        ):
            return False, "explicit deny in the caller's identity policy"
    for statement in resource_side:
        if statement.get("Effect") == "Deny" and _matches(
            statement, action, resource, context, principal_required=True
        ):
            return False, "explicit deny in the table's resource policy"
    if not any(
        s.get("Effect") == "Allow"
        and _matches(s, action, resource, context, principal_required=False)
        for s in identity
    ):
        return False, "no identity-based policy allows it"
    if not any(
        s.get("Effect") == "Allow"
        and _matches(s, action, resource, context, principal_required=True)
        for s in resource_side
    ):
        return False, "no resource-based policy allows it"
    return True, "allowed"


def _table_arns(body: bytes | str | None) -> list[str]:
    if not body:
        return []
    try:
        payload = json.loads(body)
    except ValueError:
        return []
    names = [payload.get("TableName"), *(payload.get("RequestItems") or {})]
    return [n for n in names if isinstance(n, str) and n.startswith("arn:aws:dynamodb:")]


def _resource_policy(table_arn: str) -> dict[str, Any] | None:
    from moto.dynamodb.models import dynamodb_backends

    account, region = table_arn.split(":")[4], table_arn.split(":")[3]
    try:
        policy = dynamodb_backends[account][region].get_resource_policy(table_arn)
    except Exception:
        return None
    return json.loads(policy.policy_doc) if policy is not None else None


def _before_sign(request: Any, operation_name: str, request_signer: Any, **_: Any) -> None:
    arns = _table_arns(request.body)
    if not arns:
        return
    credentials = request_signer._credentials
    if credentials is None:
        return
    from moto.iam.models import get_account_id_from

    frozen = credentials.get_frozen_credentials()
    owners = {arn.split(":")[4] for arn in arns}
    foreign = owners - {get_account_id_from(frozen.access_key)}
    if not foreign:
        return
    principal_arn, caller_account = _caller(frozen.access_key, frozen.secret_key, frozen.token)
    if len(owners) > 1:
        raise ClientError(
            {"Error": {"Code": "ValidationException", "Message": "tables in several accounts"}},
            operation_name,
        )
    action = f"dynamodb:{operation_name}"
    for table_arn in arns:
        table_only = table_arn.split("/stream/")[0]
        allowed, why = evaluate(
            action,
            table_arn,
            principal_arn,
            caller_account,
            _identity_documents(principal_arn, caller_account),
            _resource_policy(table_only),
        )
        with _LOCK:
            decisions["allowed" if allowed else "denied"] += 1
        if not allowed:
            raise ClientError(
                {
                    "Error": {
                        "Code": "AccessDeniedException",
                        "Message": f"User: {principal_arn} is not authorized to perform: "
                        f"{action} on resource: {table_arn} ({why})",
                    }
                },
                operation_name,
            )
    request.headers["x-moto-account-id"] = foreign.pop()


_HOOK = ("before-sign.dynamodb", _before_sign)


@contextmanager
def routing() -> Iterator[None]:
    """While active, every botocore session created gets the hook; decisions start at zero."""
    with _LOCK:
        _CALLERS.clear()
        decisions.update(allowed=0, denied=0)
    botocore.handlers.BUILTIN_HANDLERS.append(_HOOK)
    try:
        yield
    finally:
        botocore.handlers.BUILTIN_HANDLERS.remove(_HOOK)
