"""The two cross-account calls of the pipeline, checked as AWS would check them.

moto accepts any credentials, so on its own it would let a wrong trust or resource policy
through. While :func:`routing` is active, botocore hooks (registered for every session, the
handlers' included) evaluate both sides of each cross-account call from the documents the
program deployed, for the subset of IAM we use (Allow/Deny, Action/Resource wildcards,
Principal by ARN, account or ``*``, ``String*``/``Arn*`` conditions on ``aws:PrincipalArn``,
``aws:PrincipalAccount`` and ``sts:ExternalId``):

* ``sts:AssumeRole`` of a role in another account (assume-role mode): the caller's identity
  policy must allow it on the role, and the role's trust policy must allow the caller;
* a DynamoDB call that addresses a table in another account by ARN (resource-policy mode): the
  caller's identity policy and the table's resource policy must both allow it. moto files a
  request under the caller's own account, so the hook also routes it to the table's account
  (moto's ``x-moto-account-id`` header);
* a Kinesis call that addresses a stream or an enhanced fan-out consumer in another account by
  ARN (target placement: the replicator reads the prod stream from the POC account): the
  caller's identity policy and the stream's (or the consumer's) resource policy must both allow
  ``kinesis:<Operation>`` on that ARN; the call is then routed to the stream's account.
  :func:`authorize` takes the same decision for a call the sandbox cannot make through moto
  (``SubscribeToShard``, an HTTP/2 event stream).

A denied call fails with ``AccessDenied``/``AccessDeniedException``, as in AWS.
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
    extra_context: dict[str, str] | None = None,
) -> tuple[bool, str]:
    """Cross-account decision: both sides must allow and neither may deny."""
    context = {"aws:principalarn": principal_arn, "aws:principalaccount": principal_account}
    context.update({k.lower(): v for k, v in (extra_context or {}).items()})
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
            return False, "explicit deny in the resource's policy"
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


def _before_sign_assume_role(request: Any, request_signer: Any, **_: Any) -> None:
    from urllib.parse import parse_qs

    from moto.core.models import DEFAULT_ACCOUNT_ID
    from moto.iam.models import get_account_id_from

    body = request.body
    if isinstance(body, bytes):
        body = body.decode()
    params = {k: v[0] for k, v in parse_qs(body or "").items()}
    role_arn = params.get("RoleArn", "")
    credentials = request_signer._credentials
    if not role_arn.startswith("arn:aws:iam::") or credentials is None:
        return
    frozen = credentials.get_frozen_credentials()
    caller_account = get_account_id_from(frozen.access_key)
    target_account = role_arn.split(":")[4]
    if caller_account in (target_account, DEFAULT_ACCOUNT_ID):
        return  # same account, or the sandbox itself acting as a deployer / as Lambda
    principal_arn, caller_account = _caller(frozen.access_key, frozen.secret_key, frozen.token)
    role = _role(target_account, role_arn.rsplit("/", 1)[-1])
    trust = role.assume_role_policy_document if role is not None else None
    if isinstance(trust, str):
        trust = json.loads(trust)
    extra = {"sts:ExternalId": params["ExternalId"]} if "ExternalId" in params else {}
    allowed, why = evaluate(
        "sts:AssumeRole",
        role_arn,
        principal_arn,
        caller_account,
        _identity_documents(principal_arn, caller_account),
        trust,
        extra,
    )
    with _LOCK:
        decisions["allowed" if allowed else "denied"] += 1
    if not allowed:
        why = why.replace("resource-based", "trust")
        raise ClientError(
            {
                "Error": {
                    "Code": "AccessDenied",
                    "Message": f"User: {principal_arn} is not authorized to perform: "
                    f"sts:AssumeRole on resource: {role_arn} ({why})",
                }
            },
            "AssumeRole",
        )


#: What Lambda checks on the execution role when it creates a Kinesis event source mapping,
#: written out here (not imported from the program) so the sandbox catches a policy that is too
#: narrow. Lambda guide, "Process Amazon Kinesis Data Streams records with Lambda": the stream
#: actions; on a consumer, also what reading through it needs (Kinesis guide, "Share access
#: using resource-based policies").
LAMBDA_KINESIS_STREAM_CHECK = (
    "DescribeStream",
    "DescribeStreamSummary",
    "GetRecords",
    "GetShardIterator",
    "ListShards",
)
LAMBDA_KINESIS_CONSUMER_CHECK = ("DescribeStreamConsumer", "SubscribeToShard")


def check_kinesis_mapping(role_arn: str, function_account: str, source_arn: str) -> None:
    """Lambda's check when it creates a Kinesis event source mapping for a function whose
    execution role is ``role_arn``: each action of the check on the stream (and on the consumer,
    when ``source_arn`` is one), by the role's identity policy and — when the stream is in another
    account — by the stream's and the consumer's resource policy. Raises the
    ``InvalidParameterValueException`` Lambda answers with."""
    stream_arn = source_arn.split("/consumer/", 1)[0]
    checks = [(a, stream_arn) for a in LAMBDA_KINESIS_STREAM_CHECK]
    if source_arn != stream_arn:
        checks += [(a, source_arn) for a in LAMBDA_KINESIS_CONSUMER_CHECK]
    identity = _identity_documents(role_arn, function_account)
    foreign = stream_arn.split(":")[4] != function_account
    for operation, arn in checks:
        action = f"kinesis:{operation}"
        if foreign:
            allowed, why = evaluate(
                action, arn, role_arn, function_account, identity, _kinesis_resource_policy(arn)
            )
        else:
            allowed = any(
                s.get("Effect") == "Allow"
                and _matches(
                    s,
                    action,
                    arn,
                    {"aws:principalarn": role_arn, "aws:principalaccount": function_account},
                    principal_required=False,
                )
                for d in identity
                for s in _as_list(d.get("Statement"))
            )
            why = "no identity-based policy allows it"
        with _LOCK:
            decisions["allowed" if allowed else "denied"] += 1
        if not allowed:
            raise ClientError(
                {
                    "Error": {
                        "Code": "InvalidParameterValueException",
                        "Message": f"Cannot access stream {arn}. Please ensure the role can "
                        f"perform the {action} action on your event source ({why}; role "
                        f"{role_arn})",
                    }
                },
                "CreateEventSourceMapping",
            )


#: The request fields of the Kinesis API that address a stream or a consumer by ARN.
_KINESIS_ARN_FIELDS = ("ConsumerARN", "StreamARN", "ResourceARN")


def _kinesis_target(body: bytes | str | None) -> str | None:
    """The ARN a Kinesis request addresses (a consumer before its stream), if any."""
    if not body:
        return None
    try:
        payload = json.loads(body)
    except ValueError:
        return None
    if not isinstance(payload, dict):
        return None
    for name in _KINESIS_ARN_FIELDS:
        value = payload.get(name)
        if isinstance(value, str) and value.startswith("arn:aws:kinesis:"):
            return value
    return None


def _kinesis_resource_policy(arn: str) -> dict[str, Any] | None:
    """The resource policy Kinesis holds for a stream or consumer ARN (``None`` if none)."""
    from moto.kinesis.models import kinesis_backends

    account, region = arn.split(":")[4], arn.split(":")[3]
    try:
        raw = kinesis_backends[account][region].resource_policies.get(arn)
    except Exception:
        return None
    if not raw:
        return None
    policy = json.loads(raw)
    return policy if policy else None


def _deny(action: str, resource: str, principal_arn: str, why: str, operation: str) -> ClientError:
    return ClientError(
        {
            "Error": {
                "Code": "AccessDeniedException",
                "Message": f"User: {principal_arn} is not authorized to perform: "
                f"{action} on resource: {resource} ({why})",
            }
        },
        operation,
    )


def authorize(
    operation: str, resource_arn: str, access_key: str, secret: str, token: str | None
) -> None:
    """Raise ``AccessDeniedException`` unless the caller with these credentials may perform the
    Kinesis ``operation`` on ``resource_arn`` in another account (same account: no check).

    Used for ``SubscribeToShard``, which the poller emulates instead of calling moto.
    """
    from moto.iam.models import get_account_id_from

    owner = resource_arn.split(":")[4]
    if get_account_id_from(access_key) == owner:
        return
    principal_arn, caller_account = _caller(access_key, secret, token)
    _check_kinesis(operation, resource_arn, principal_arn, caller_account)


def _check_kinesis(operation: str, arn: str, principal_arn: str, caller_account: str) -> None:
    action = f"kinesis:{operation}"
    policy = _kinesis_resource_policy(arn)
    allowed, why = evaluate(
        action,
        arn,
        principal_arn,
        caller_account,
        _identity_documents(principal_arn, caller_account),
        policy,
    )
    with _LOCK:
        decisions["allowed" if allowed else "denied"] += 1
    if not allowed:
        raise _deny(action, arn, principal_arn, why, operation)


def _before_sign_kinesis(request: Any, operation_name: str, request_signer: Any, **_: Any) -> None:
    arn = _kinesis_target(request.body)
    credentials = request_signer._credentials
    if arn is None or credentials is None:
        return
    from moto.iam.models import get_account_id_from

    frozen = credentials.get_frozen_credentials()
    owner = arn.split(":")[4]
    if get_account_id_from(frozen.access_key) == owner:
        return
    principal_arn, caller_account = _caller(frozen.access_key, frozen.secret_key, frozen.token)
    _check_kinesis(operation_name, arn, principal_arn, caller_account)
    request.headers["x-moto-account-id"] = owner


_HOOKS = [
    ("before-sign.dynamodb", _before_sign),
    ("before-sign.kinesis", _before_sign_kinesis),
    ("before-sign.sts.AssumeRole", _before_sign_assume_role),
]


@contextmanager
def routing() -> Iterator[None]:
    """While active, every botocore session created gets the hook; decisions start at zero."""
    with _LOCK:
        _CALLERS.clear()
        decisions.update(allowed=0, denied=0)
    botocore.handlers.BUILTIN_HANDLERS.extend(_HOOKS)
    try:
        yield
    finally:
        for hook in _HOOKS:
            botocore.handlers.BUILTIN_HANDLERS.remove(hook)
