"""The rules of the ``stream-replica-guardrails`` CrossGuard pack, as plain functions.

Each rule is a pure function ``check(resource_type, props) -> list[str]`` (one message per
violation, naming the resource property at fault) or, for rules that relate two resources, a
function over all of a stack's resources. :mod:`.pack` wraps them in pulumi-policy's
``ResourceValidationPolicy``/``StackValidationPolicy`` with each rule's enforcement level and the
pack's scope; the tests call the same functions (and the wrapped validators) on the inputs
captured from the mocks. ``props`` are the resource's inputs as the engine sees them (camelCase
keys; IAM policies as JSON strings or dicts).

The rules hold for any AWS program, not only ours: no wildcard Allow actions, no wildcard Allow
resources outside ``STAR_RESOURCE_EXCEPTIONS``, no public principals, cross-account trust pinned
by ``aws:PrincipalArn``, service principals in resource policies pinned to their source, no
AWS-managed administrator or full-access policy attached, Kinesis stream/consumer resource
policies that only let one pinned caller read, Firehose/Lambda trust pinned to the account,
encryption at rest on tables/streams/queues/topics/buckets/delivery streams, bucket public access
fully blocked, log retention, and stream mappings that cannot lose or loop on records.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

Check = Callable[[str, Mapping[str, Any]], list[str]]
Level = Literal["advisory", "mandatory", "disabled"]

#: The enforcement levels a rule can be set to (pulumi-policy's ``EnforcementLevel`` values).
LEVELS: tuple[Level, ...] = ("advisory", "mandatory", "disabled")


@dataclass(frozen=True)
class StarResourceGrant:
    """Why an action may be allowed on ``"Resource": "*"``, and the AWS page that says so."""

    reason: str
    source: str


_LAMBDA_VPC = "https://docs.aws.amazon.com/lambda/latest/dg/configuration-vpc.html"
_LAMBDA_VPC_POLICY = (
    "https://docs.aws.amazon.com/aws-managed-policy/latest/reference/"
    "AWSLambdaVPCAccessExecutionRole.html"
)

#: Actions an Allow may grant on ``"Resource": "*"``: actions AWS authorises only on ``*`` (no
#: resource-level permissions), and the network-interface actions Lambda needs for a function in
#: a VPC, which AWS documents on ``*``. Any other Allow on ``*`` (or on a wildcard ARN) is a
#: violation. ``components/policies.py``'s ``ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS`` (what
#: our own components use) must stay a subset of this, with the same reasons (a test checks).
STAR_RESOURCE_EXCEPTIONS: Mapping[str, StarResourceGrant] = {
    "cloudwatch:PutMetricData": StarResourceGrant(
        "metrics API calls have no resource ARN (scope them by the cloudwatch:namespace "
        "condition key)",
        "https://docs.aws.amazon.com/service-authorization/latest/reference/"
        "list_amazoncloudwatch.html",
    ),
    "xray:PutTraceSegments": StarResourceGrant(
        "X-Ray tracing from Lambda has no resource ARN",
        "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html",
    ),
    "xray:PutTelemetryRecords": StarResourceGrant(
        "X-Ray tracing from Lambda has no resource ARN",
        "https://docs.aws.amazon.com/service-authorization/latest/reference/list_awsx-ray.html",
    ),
    "dynamodb:ListStreams": StarResourceGrant(
        "Lambda checks it on the execution role when it creates a DynamoDB Streams event source "
        "mapping; ListStreams has no resource-level permissions (it only lists stream ARNs).",
        "https://docs.aws.amazon.com/service-authorization/latest/reference/"
        "list_amazondynamodb.html",
    ),
    "ec2:DescribeNetworkInterfaces": StarResourceGrant(
        "Lambda in a VPC: the Lambda guide says this action only works when allowed on '*'",
        _LAMBDA_VPC,
    ),
    "ec2:DescribeSubnets": StarResourceGrant(
        "Lambda in a VPC: a Describe action without resource-level permissions", _LAMBDA_VPC
    ),
    "ec2:CreateNetworkInterface": StarResourceGrant(
        "Lambda in a VPC creates the function's network interfaces in its subnets; AWS's "
        "AWSLambdaVPCAccessExecutionRole grants it on '*'",
        _LAMBDA_VPC_POLICY,
    ),
    "ec2:DeleteNetworkInterface": StarResourceGrant(
        "Lambda in a VPC deletes the function's network interfaces; the Lambda guide warns that "
        "scoping it to specific interfaces can break the function's VPC access",
        _LAMBDA_VPC,
    ),
    "ec2:AssignPrivateIpAddresses": StarResourceGrant(
        "Lambda in a VPC manages the addresses of the function's network interfaces; "
        "AWSLambdaVPCAccessExecutionRole grants it on '*'",
        _LAMBDA_VPC_POLICY,
    ),
    "ec2:UnassignPrivateIpAddresses": StarResourceGrant(
        "Lambda in a VPC manages the addresses of the function's network interfaces; "
        "AWSLambdaVPCAccessExecutionRole grants it on '*'",
        _LAMBDA_VPC_POLICY,
    ),
}

#: Where IAM documents live in pulumi-aws inputs: type token -> (property, document kind).
IAM_DOCUMENT_PROPERTIES: Mapping[str, tuple[tuple[str, str], ...]] = {
    "aws:iam/role:Role": (("assumeRolePolicy", "trust"),),
    "aws:iam/rolePolicy:RolePolicy": (("policy", "identity"),),
    "aws:iam/policy:Policy": (("policy", "identity"),),
    "aws:iam/userPolicy:UserPolicy": (("policy", "identity"),),
    "aws:iam/groupPolicy:GroupPolicy": (("policy", "identity"),),
    "aws:s3/bucketPolicy:BucketPolicy": (("policy", "resource"),),
    "aws:dynamodb/resourcePolicy:ResourcePolicy": (("policy", "resource"),),
    "aws:kinesis/resourcePolicy:ResourcePolicy": (("policy", "resource"),),
    "aws:sqs/queuePolicy:QueuePolicy": (("policy", "resource"),),
    "aws:sqs/queue:Queue": (("policy", "resource"),),
    "aws:sns/topicPolicy:TopicPolicy": (("policy", "resource"),),
    "aws:sns/topic:Topic": (("policy", "resource"),),
}


@dataclass(frozen=True)
class Rule:
    """One rule of the pack: its id, what it checks, the types it applies to, the check, and
    its default enforcement level (overridden per rule through the pack's config)."""

    name: str
    description: str
    resource_types: tuple[str, ...]
    check: Check
    default_level: Level = "advisory"


# --- reading documents --------------------------------------------------------------------------


def _as_list(value: Any) -> list[Any]:
    """A value or a sequence of values as a list. The engine hands validators read-only
    sequence proxies, not lists, so test for ``Sequence``."""
    if value is None:
        return []
    if isinstance(value, Sequence) and not isinstance(value, str):
        return list(value)
    return [value]


def _parse(value: Any, where: str) -> dict[str, Any] | None:
    if value is None or value == "":
        return None
    if isinstance(value, Mapping):
        return dict(value)
    if not isinstance(value, str):
        raise TypeError(f"{where}: expected a policy JSON string, got {type(value).__name__}")
    parsed = json.loads(value)
    if not isinstance(parsed, dict):
        raise ValueError(f"{where}: policy JSON is not an object")
    return parsed


def iam_documents(resource_type: str, props: Mapping[str, Any]) -> list[tuple[str, str, dict]]:
    """``(where, kind, document)`` for every IAM document in a resource's inputs."""
    docs = []
    for prop, kind in IAM_DOCUMENT_PROPERTIES.get(resource_type, ()):
        doc = _parse(props.get(prop), prop)
        if doc is not None:
            docs.append((prop, kind, doc))
    if resource_type == "aws:iam/role:Role":
        for index, inline in enumerate(_as_list(props.get("inlinePolicies"))):
            where = f"inlinePolicies[{index}]"
            doc = _parse((inline or {}).get("policy"), where)
            if doc is not None:
                docs.append((where, "identity", doc))
    return docs


def _statements(doc: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return _as_list(doc.get("Statement"))


def _label(where: str, index: int, stmt: Mapping[str, Any]) -> str:
    sid = stmt.get("Sid")
    return f"{where} statement {index}" + (f" ({sid})" if sid else "")


# --- IAM document rules -----------------------------------------------------------------------


def wildcard_action_violations(doc: Mapping[str, Any], where: str = "policy") -> list[str]:
    """Allow statements must list exact actions: no ``*``, ``svc:*``, ``svc:Get*`` or NotAction.

    Deny statements may use wildcards (``s3:*`` in the TLS-only bucket policy): they only narrow.
    """
    problems = []
    for index, stmt in enumerate(_statements(doc)):
        if stmt.get("Effect") != "Allow":
            continue
        label = _label(where, index, stmt)
        if "NotAction" in stmt:
            problems.append(f"{label}: Allow with NotAction grants every other action")
        for action in _as_list(stmt.get("Action")):
            if "*" in action or "?" in action:
                problems.append(f"{label}: wildcard action {action!r} in an Allow")
    return problems


def _arn_name_part(arn: str) -> str | None:
    """The resource-name part of an ARN, None if not an ARN.

    ``table/<name>/stream/...`` -> ``<name>``; ``log-group:<name>:*`` -> ``<name>`` (log group
    names contain ``/``); S3/SQS/SNS ARNs have no type prefix (``<bucket>/<key>`` -> ``<bucket>``).
    """
    parts = arn.split(":", 5)
    if len(parts) < 6 or parts[0] != "arn":
        return None
    service, rest = parts[2], parts[5]
    if service in ("s3", "sqs", "sns"):
        return re.split(r"[/:]", rest, maxsplit=1)[0]
    match = re.match(r"^[^/:]+[/:]", rest)
    if not match:
        return rest
    remainder = rest[match.end() :]
    if service == "logs":
        return remainder.split(":", 1)[0]
    return re.split(r"[/:]", remainder.lstrip("/"), maxsplit=1)[0]


def is_wide_resource(resource: str) -> bool:
    """``*``, or an ARN with a wildcard in its partition/service/region/account or name."""
    if resource == "*":
        return True
    name = _arn_name_part(resource)
    if name is None:
        return "*" in resource
    head = resource.split(":", 5)[:5]
    return any("*" in part for part in head) or "*" in name or name == ""


def wildcard_resource_violations(
    doc: Mapping[str, Any],
    where: str = "policy",
    exceptions: Mapping[str, object] = STAR_RESOURCE_EXCEPTIONS,
) -> list[str]:
    """Allow statements must name their resources; ``*`` only for the named exceptions."""
    problems = []
    for index, stmt in enumerate(_statements(doc)):
        if stmt.get("Effect") != "Allow":
            continue
        label = _label(where, index, stmt)
        if "NotResource" in stmt:
            problems.append(f"{label}: Allow with NotResource grants every other resource")
        wide = [r for r in _as_list(stmt.get("Resource")) if is_wide_resource(r)]
        if not wide:
            continue
        unexcused = [a for a in _as_list(stmt.get("Action")) if a not in exceptions]
        if unexcused:
            problems.append(
                f"{label}: resource(s) {wide} too wide for {sorted(unexcused)} "
                "(only actions without resource-level permissions may use '*')"
            )
    return problems


def _principals(stmt: Mapping[str, Any]) -> list[tuple[str, str]]:
    principal = stmt.get("Principal")
    if principal == "*":
        return [("AWS", "*")]
    if isinstance(principal, Mapping):
        return [(kind, v) for kind, values in principal.items() for v in _as_list(values)]
    return []


def _condition_values(stmt: Mapping[str, Any], key: str, operators: Iterable[str]) -> list[str]:
    values: list[str] = []
    condition = stmt.get("Condition") or {}
    for op in operators:
        for cond_key, cond_values in (condition.get(op) or {}).items():
            if cond_key.lower() == key.lower():
                values.extend(str(v) for v in _as_list(cond_values))
    return values


def public_principal_violations(doc: Mapping[str, Any], where: str = "policy") -> list[str]:
    """No Allow to ``*`` / ``{"AWS": "*"}`` (the TLS-only Deny to ``*`` is fine)."""
    problems = []
    for index, stmt in enumerate(_statements(doc)):
        if stmt.get("Effect") == "Allow" and ("AWS", "*") in _principals(stmt):
            problems.append(f"{_label(where, index, stmt)}: Allow to every principal ('*')")
        if stmt.get("Effect") == "Allow" and "NotPrincipal" in stmt:
            problems.append(f"{_label(where, index, stmt)}: Allow with NotPrincipal")
    return problems


_ACCOUNT_PRINCIPAL = re.compile(r"^(\d{12}|arn:[^:]+:iam::\d{12}:root)$")
_ARN_OPERATORS = ("ArnEquals", "ArnLike", "StringEquals", "StringLike")


def account_principal_violations(doc: Mapping[str, Any], where: str = "policy") -> list[str]:
    """An Allow to a whole account (trust or resource policy) must pin ``aws:PrincipalArn``.

    That is how the writer role's trust and the table's resource policy name the replicator's
    role before it exists; without the condition every principal of the account is trusted.
    """
    problems = []
    for index, stmt in enumerate(_statements(doc)):
        if stmt.get("Effect") != "Allow":
            continue
        accounts = [
            v for kind, v in _principals(stmt) if kind == "AWS" and _ACCOUNT_PRINCIPAL.match(v)
        ]
        if not accounts:
            continue
        pinned = _condition_values(stmt, "aws:PrincipalArn", _ARN_OPERATORS)
        label = _label(where, index, stmt)
        if not pinned:
            problems.append(
                f"{label}: trusts account(s) {accounts} without an ArnEquals aws:PrincipalArn "
                "condition naming the one role allowed"
            )
        elif any(is_wide_resource(v) or v.endswith("/*") for v in pinned):
            problems.append(f"{label}: aws:PrincipalArn condition {pinned} is a wildcard")
    return problems


#: Service principals whose trust must be pinned to the account, and the accepted keys.
SERVICE_TRUST_PINS: Mapping[str, tuple[str, ...]] = {
    "firehose.amazonaws.com": ("sts:ExternalId", "aws:SourceAccount", "aws:SourceArn"),
    "lambda.amazonaws.com": ("aws:SourceAccount", "aws:SourceArn"),
}


def service_trust_violations(doc: Mapping[str, Any], where: str = "assumeRolePolicy") -> list[str]:
    """A service role trusts one service per statement; Lambda and Firehose only on behalf of an
    account (confused-deputy protection AWS documents for both)."""
    problems = []
    for index, stmt in enumerate(_statements(doc)):
        if stmt.get("Effect") != "Allow":
            continue
        services = [v for kind, v in _principals(stmt) if kind == "Service"]
        label = _label(where, index, stmt)
        if len(services) > 1:
            problems.append(f"{label}: one statement trusts several services {services}")
        others = [v for kind, v in _principals(stmt) if kind != "Service"]
        if services and others:
            problems.append(f"{label}: trusts a service and other principals {others} together")
        for service in services:
            keys = SERVICE_TRUST_PINS.get(service)
            if keys and not any(
                _condition_values(stmt, k, ("StringEquals", "ArnEquals", "ArnLike")) for k in keys
            ):
                problems.append(
                    f"{label}: {service} trust lacks a confused-deputy condition (one of {keys})"
                )
    return problems


#: Condition keys that tie a service principal's access to the resource or account it acts for.
SOURCE_PIN_KEYS: tuple[str, ...] = ("aws:SourceArn", "aws:SourceAccount", "aws:SourceOrgID")


def resource_service_principal_violations(
    doc: Mapping[str, Any], where: str = "policy"
) -> list[str]:
    """A resource policy (queue, topic, bucket, stream) that allows a service principal pins the
    source with ``aws:SourceArn``/``aws:SourceAccount``/``aws:SourceOrgID``.

    Without it, any customer's resource of that service (another account's SNS topic, S3 bucket
    or EventBridge rule) can make the service act on this resource: AWS's confused-deputy
    guidance, https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html.
    """
    problems = []
    for index, stmt in enumerate(_statements(doc)):
        if stmt.get("Effect") != "Allow":
            continue
        services = [v for kind, v in _principals(stmt) if kind == "Service"]
        operators = ("ArnEquals", "ArnLike", "StringEquals", "StringLike")
        if services and not any(_condition_values(stmt, k, operators) for k in SOURCE_PIN_KEYS):
            problems.append(
                f"{_label(where, index, stmt)}: allows service(s) {services} without a "
                f"condition on one of {list(SOURCE_PIN_KEYS)}"
            )
    return problems


# --- managed-policy attachments -----------------------------------------------------------------

#: Where managed-policy ARNs live in pulumi-aws inputs: type token -> property (a string or a
#: list of strings).
MANAGED_POLICY_PROPERTIES: Mapping[str, str] = {
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": "policyArn",
    "aws:iam/userPolicyAttachment:UserPolicyAttachment": "policyArn",
    "aws:iam/groupPolicyAttachment:GroupPolicyAttachment": "policyArn",
    "aws:iam/policyAttachment:PolicyAttachment": "policyArn",
    "aws:iam/role:Role": "managedPolicyArns",
    "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive": "policyArns",
    "aws:iam/userPolicyAttachmentsExclusive:UserPolicyAttachmentsExclusive": "policyArns",
    "aws:iam/groupPolicyAttachmentsExclusive:GroupPolicyAttachmentsExclusive": "policyArns",
}

_AWS_MANAGED_POLICY = re.compile(
    r"^arn:aws[a-z-]*:iam::aws:policy/(?P<path>(?:[^/]+/)*)(?P<name>[^/]+)$"
)


def broad_managed_policy(arn: Any) -> str | None:
    """Why the AWS-managed policy ``arn`` is too broad to attach, or None.

    Broad: ``AdministratorAccess`` (and its ``AdministratorAccess-*`` variants),
    ``PowerUserAccess``, every ``*FullAccess*`` policy (``IAMFullAccess``, ``AmazonS3FullAccess``,
    ``AWSLambda_FullAccess``, ...) and the job-function administrator policies
    (``job-function/SystemAdministrator``, ...): AWS's job-function policies,
    https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_job-functions.html, and its
    service full-access policies (named ``...FullAccess``). Customer-managed policies
    (``arn:aws:iam::<account>:policy/...``) are judged by their document instead.
    """
    match = _AWS_MANAGED_POLICY.match(arn) if isinstance(arn, str) else None
    if not match:
        return None
    name, path = match["name"], match["path"]
    if name.startswith("AdministratorAccess") or name == "PowerUserAccess":
        return "grants every action (administrator)"
    if "FullAccess" in name:
        return "grants full access to one or more services on every resource"
    if path.startswith("job-function/") and name.endswith("Administrator"):
        return "is a job-function administrator policy"
    return None


def managed_policy_violations(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """No AWS-managed administrator or full-access policy attached to a role, user or group."""
    prop = MANAGED_POLICY_PROPERTIES.get(resource_type)
    if prop is None:
        return []
    problems = []
    for index, arn in enumerate(_as_list(props.get(prop))):
        why = broad_managed_policy(arn)
        if why:
            where = prop if isinstance(props.get(prop), str) else f"{prop}[{index}]"
            problems.append(f"{where}: {arn} {why}; attach a policy that lists what is needed")
    return problems


# --- Kinesis stream and consumer resource policies ------------------------------------------------

#: What a Kinesis stream or consumer resource policy may grant: reading, through shared
#: throughput (GetRecords) or enhanced fan-out (SubscribeToShard on a registered consumer).
#: https://docs.aws.amazon.com/streams/latest/dev/resource-based-policy-examples.html
KINESIS_READ_ACTIONS: tuple[str, ...] = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:DescribeStreamConsumer",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
    "kinesis:ListStreamConsumers",
    "kinesis:SubscribeToShard",
)

_ROLE_PRINCIPAL = re.compile(r"^arn:aws[a-z-]*:iam::\d{12}:role/[^*?]+$")


def kinesis_resource_policy_violations(doc: Mapping[str, Any], where: str = "policy") -> list[str]:
    """A Kinesis stream/consumer resource policy lets one pinned caller read, nothing more.

    Every Allow names a role ARN (no wildcard) or an account pinned by a non-wildcard
    ``aws:PrincipalArn`` condition; never ``*``, ``NotPrincipal``, a service or a user; and only
    :data:`KINESIS_READ_ACTIONS` (no writes, no ``RegisterStreamConsumer``, no wildcards).
    """
    problems = []
    for index, stmt in enumerate(_statements(doc)):
        if stmt.get("Effect") != "Allow":
            continue
        label = _label(where, index, stmt)
        if "NotPrincipal" in stmt:
            problems.append(f"{label}: Allow with NotPrincipal")
        if "NotAction" in stmt:
            problems.append(f"{label}: Allow with NotAction")
        pinned = _condition_values(stmt, "aws:PrincipalArn", _ARN_OPERATORS)
        pinned_ok = bool(pinned) and not any("*" in v or "?" in v for v in pinned)
        for kind, value in _principals(stmt):
            if (kind, value) == ("AWS", "*"):
                problems.append(f"{label}: allows every principal ('*')")
            elif kind != "AWS":
                problems.append(f"{label}: allows a {kind} principal {value!r}; name a role")
            elif _ACCOUNT_PRINCIPAL.match(value):
                if not pinned_ok:
                    problems.append(
                        f"{label}: allows account {value} without an ArnEquals "
                        "aws:PrincipalArn condition naming one role (no wildcard)"
                    )
            elif not _ROLE_PRINCIPAL.match(value):
                problems.append(f"{label}: principal {value!r} is not one role")
        writes = [a for a in _as_list(stmt.get("Action")) if a not in KINESIS_READ_ACTIONS]
        if writes:
            problems.append(
                f"{label}: grants {writes}, not only reads ({list(KINESIS_READ_ACTIONS)})"
            )
    return problems


def _doc_rule(*checks: Callable[..., list[str]], kinds: Sequence[str]) -> Check:
    def check(resource_type: str, props: Mapping[str, Any]) -> list[str]:
        problems: list[str] = []
        for where, kind, doc in iam_documents(resource_type, props):
            if kind in kinds:
                for fn in checks:
                    problems.extend(fn(doc, where))
        return problems

    return check


# --- hardening rules ------------------------------------------------------------------------------


def _get(props: Mapping[str, Any], *path: str) -> Any:
    value: Any = props
    for key in path:
        if isinstance(value, Sequence) and not isinstance(value, str):
            value = value[0] if value else None
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def table_violations(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """DynamoDB table: point-in-time recovery on.

    Encryption at rest is always on in DynamoDB (an AWS-owned key unless
    ``serverSideEncryption.enabled`` selects KMS); which key is allowed depends on the table's
    resource policy, which :func:`table_key_violations` checks at stack level.
    """
    if _get(props, "pointInTimeRecovery", "enabled") is not True:
        return ["pointInTimeRecovery.enabled must be true"]
    return []


def kinesis_stream_violations(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    if props.get("encryptionType") != "KMS" or not props.get("kmsKeyId"):
        return ["encryptionType must be 'KMS' with a kmsKeyId"]
    return []


def queue_violations(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    if props.get("sqsManagedSseEnabled") is True or props.get("kmsMasterKeyId"):
        return []
    return ["queue must be encrypted: sqsManagedSseEnabled true or a kmsMasterKeyId"]


def topic_violations(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    return [] if props.get("kmsMasterKeyId") else ["topic must set kmsMasterKeyId (SSE)"]


def bucket_sse_violations(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    rules = _as_list(props.get("rules"))
    algorithms = [_get(r, "applyServerSideEncryptionByDefault", "sseAlgorithm") for r in rules]
    if not any(a in ("aws:kms", "aws:kms:dsse", "AES256") for a in algorithms):
        return ["rules[].applyServerSideEncryptionByDefault.sseAlgorithm must be aws:kms or AES256"]
    return []


PUBLIC_ACCESS_FLAGS = (
    "blockPublicAcls",
    "blockPublicPolicy",
    "ignorePublicAcls",
    "restrictPublicBuckets",
)


def public_access_block_violations(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    return [f"{flag} must be true" for flag in PUBLIC_ACCESS_FLAGS if props.get(flag) is not True]


def delivery_stream_violations(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Firehose: SSE on, error logging on, and an error prefix wherever the prefix is dynamic."""
    problems = []
    if _get(props, "serverSideEncryption", "enabled") is not True:
        problems.append("serverSideEncryption.enabled must be true")
    s3 = props.get("extendedS3Configuration")
    if isinstance(s3, Mapping):
        prefix = str(s3.get("prefix") or "")
        error_prefix = str(s3.get("errorOutputPrefix") or "")
        if "!{" in prefix and "!{firehose:error-output-type}" not in error_prefix:
            problems.append(
                "extendedS3Configuration.errorOutputPrefix must contain "
                "'!{firehose:error-output-type}' when the prefix uses !{...} expressions"
            )
        if _get(s3, "cloudwatchLoggingOptions", "enabled") is not True:
            problems.append("extendedS3Configuration.cloudwatchLoggingOptions.enabled must be true")
    return problems


def _number(value: Any) -> float | None:
    """A numeric property: the engine passes numbers as floats (protobuf doubles)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def log_group_violations(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    days = _number(props.get("retentionInDays"))
    if days is None or days <= 0:
        return [f"retentionInDays must be a positive number of days (got {days!r}: kept forever)"]
    return []


def _is_stream_source(arn: Any) -> bool:
    return isinstance(arn, str) and (":kinesis:" in arn or ":dynamodb:" in arn)


def event_source_mapping_violations(resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Stream mappings must report partial failures, bisect, stop retrying and keep failures."""
    if not _is_stream_source(props.get("eventSourceArn")):
        return []
    problems = []
    if "ReportBatchItemFailures" not in _as_list(props.get("functionResponseTypes")):
        problems.append("functionResponseTypes must include ReportBatchItemFailures")
    if props.get("bisectBatchOnFunctionError") is not True:
        problems.append("bisectBatchOnFunctionError must be true")
    retries = _number(props.get("maximumRetryAttempts"))
    if retries is None or not 0 <= retries <= 10000:
        problems.append(f"maximumRetryAttempts must be 0..10000 (got {retries!r}: infinite)")
    age = _number(props.get("maximumRecordAgeInSeconds"))
    if age is None or not 60 <= age <= 604800:
        problems.append(f"maximumRecordAgeInSeconds must be 60..604800 (got {age!r}: infinite)")
    if not _get(props, "destinationConfig", "onFailure", "destinationArn"):
        problems.append("destinationConfig.onFailure.destinationArn must be set")
    return problems


_ALL_DOC_TYPES = tuple(IAM_DOCUMENT_PROPERTIES)

RULES: tuple[Rule, ...] = (
    Rule(
        "iam-no-wildcard-actions",
        "IAM Allow statements list exact actions (no '*', 'service:*', prefix wildcards or "
        "NotAction).",
        _ALL_DOC_TYPES,
        _doc_rule(wildcard_action_violations, kinds=("trust", "identity", "resource")),
    ),
    Rule(
        "iam-no-wildcard-resources",
        "IAM Allow statements name their resources; '*' (or a wildcard ARN) only for the actions "
        "listed below (STAR_RESOURCE_EXCEPTIONS), each with its AWS source.",
        _ALL_DOC_TYPES,
        _doc_rule(wildcard_resource_violations, kinds=("identity", "resource")),
    ),
    Rule(
        "iam-no-public-principal",
        "No resource or trust policy allows every principal ('*').",
        _ALL_DOC_TYPES,
        _doc_rule(public_principal_violations, kinds=("trust", "resource")),
        default_level="mandatory",
    ),
    Rule(
        "iam-account-principal-pinned",
        "A trust or resource policy that allows a whole account pins the caller with an "
        "ArnEquals aws:PrincipalArn condition (the writer role's trust, the table policy).",
        _ALL_DOC_TYPES,
        _doc_rule(account_principal_violations, kinds=("trust", "resource")),
        default_level="mandatory",
    ),
    Rule(
        "iam-service-trust-scoped",
        "A service role trusts one service per statement, and Lambda and Firehose only on behalf "
        "of the account (aws:SourceAccount / aws:SourceArn; sts:ExternalId for Firehose).",
        ("aws:iam/role:Role",),
        _doc_rule(service_trust_violations, kinds=("trust",)),
    ),
    Rule(
        "iam-resource-policy-service-pinned",
        "A resource policy (queue, topic, bucket, stream, table) that allows an AWS service pins "
        "the source with aws:SourceArn, aws:SourceAccount or aws:SourceOrgID.",
        _ALL_DOC_TYPES,
        _doc_rule(resource_service_principal_violations, kinds=("resource",)),
    ),
    Rule(
        "iam-no-broad-managed-policy",
        "No AWS-managed administrator, power-user, job-function administrator or full-access "
        "(name containing FullAccess) policy is attached to a role, user or group (attachments, "
        "managedPolicyArns, exclusive attachments).",
        tuple(MANAGED_POLICY_PROPERTIES),
        managed_policy_violations,
        default_level="mandatory",
    ),
    Rule(
        "kinesis-resource-policy-read-only",
        "A Kinesis stream or consumer resource policy allows only one role (by ARN, or an account "
        "pinned with aws:PrincipalArn), never '*', and only read actions (KINESIS_READ_ACTIONS).",
        ("aws:kinesis/resourcePolicy:ResourcePolicy",),
        _doc_rule(kinesis_resource_policy_violations, kinds=("resource",)),
        default_level="mandatory",
    ),
    Rule(
        "dynamodb-table-recoverable",
        "DynamoDB tables have point-in-time recovery on.",
        ("aws:dynamodb/table:Table",),
        table_violations,
    ),
    Rule(
        "kinesis-stream-encrypted",
        "Kinesis streams are encrypted with KMS.",
        ("aws:kinesis/stream:Stream",),
        kinesis_stream_violations,
    ),
    Rule(
        "sqs-queue-encrypted",
        "SQS queues (dead-letter and on-failure destinations) are encrypted.",
        ("aws:sqs/queue:Queue",),
        queue_violations,
    ),
    Rule(
        "sns-topic-encrypted",
        "SNS topics are encrypted with KMS.",
        ("aws:sns/topic:Topic",),
        topic_violations,
    ),
    Rule(
        "s3-bucket-encrypted",
        "Bucket server-side encryption configurations use aws:kms or AES256.",
        ("aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",),
        bucket_sse_violations,
    ),
    Rule(
        "s3-public-access-blocked",
        "Bucket public access blocks set all four flags.",
        ("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",),
        public_access_block_violations,
    ),
    Rule(
        "firehose-encrypted-and-logged",
        "Delivery streams have SSE on, CloudWatch error logging on, and an error-output prefix "
        "with !{firehose:error-output-type} when the prefix is dynamic.",
        ("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",),
        delivery_stream_violations,
    ),
    Rule(
        "log-group-retention",
        "CloudWatch log groups have a retention period.",
        ("aws:cloudwatch/logGroup:LogGroup",),
        log_group_violations,
    ),
    Rule(
        "stream-mapping-failure-handling",
        "Kinesis/DynamoDB stream event source mappings report batch item failures, bisect on "
        "error, have finite retries and record age, and an on-failure destination.",
        ("aws:lambda/eventSourceMapping:EventSourceMapping",),
        event_source_mapping_violations,
    ),
)


def check_resource(resource_type: str, props: Mapping[str, Any]) -> dict[str, list[str]]:
    """Every rule's violations for one resource (rules that don't apply are left out)."""
    found = {}
    for rule in RULES:
        if resource_type in rule.resource_types:
            problems = rule.check(resource_type, props)
            if problems:
                found[rule.name] = problems
    return found


# --- stack rules ----------------------------------------------------------------------------------

BUCKET = "aws:s3/bucket:Bucket"
BUCKET_COMPANIONS = {
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": "public access block",
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        "server-side encryption configuration"
    ),
}


@dataclass(frozen=True)
class StackResource:
    """What the stack rule reads of a resource: type, name, inputs, and per-input dependencies."""

    resource_type: str
    name: str
    props: Mapping[str, Any]
    urn: str = ""
    property_dependencies: Mapping[str, Sequence[str]] | None = None


TABLE = "aws:dynamodb/table:Table"
TABLE_POLICY = "aws:dynamodb/resourcePolicy:ResourcePolicy"


def _points_at(ref: StackResource, prop: str, target: StackResource, target_keys: set[str]) -> bool:
    deps = set((ref.property_dependencies or {}).get(prop, ()))
    return bool(deps & {target.urn} - {""}) or str(ref.props.get(prop) or "") in target_keys


def table_key_violations(resources: Sequence[StackResource]) -> list[str]:
    """A table with a cross-account resource policy must not use the AWS-managed KMS key.

    DynamoDB refuses cross-account access through a resource policy to a table encrypted with
    ``aws/dynamodb``: use the AWS-owned key (``serverSideEncryption.enabled`` false) or a
    customer-managed key (``serverSideEncryption.kmsKeyArn``).
    """
    problems = []
    for table in (r for r in resources if r.resource_type == TABLE):
        keys = {table.name, str(table.props.get("name") or ""), str(table.props.get("arn") or "")}
        keys -= {""}
        sse = table.props.get("serverSideEncryption") or {}
        aws_managed = sse.get("enabled") is True and not sse.get("kmsKeyArn")
        for policy in (r for r in resources if r.resource_type == TABLE_POLICY):
            if aws_managed and _points_at(policy, "resourceArn", table, keys):
                problems.append(
                    f"table {table.name!r} has resource policy {policy.name!r} but is encrypted "
                    "with the AWS-managed key aws/dynamodb, which blocks cross-account access"
                )
    return problems


def bucket_companion_violations(resources: Sequence[StackResource]) -> list[str]:
    """Every bucket the stack creates has a public access block and an SSE configuration.

    A companion points at its bucket through its ``bucket`` input: matched by the property
    dependency's URN when the engine gives one, else by the bucket's name/``bucket`` input.
    """
    problems = []
    for bucket in (r for r in resources if r.resource_type == BUCKET):
        keys = {bucket.urn, bucket.name, str(bucket.props.get("bucket") or "")} - {""}
        for companion_type, what in BUCKET_COMPANIONS.items():
            found = False
            for r in resources:
                if r.resource_type == companion_type and _points_at(r, "bucket", bucket, keys):
                    found = True
            if not found:
                problems.append(f"bucket {bucket.name!r} has no {what}")
    return problems


@dataclass(frozen=True)
class StackRule:
    """A rule over a whole stack: its id, what it checks, the check and its default level."""

    name: str
    description: str
    check: Callable[[Sequence[StackResource]], list[str]]
    default_level: Level = "advisory"


STACK_RULES: tuple[StackRule, ...] = (
    StackRule(
        "s3-bucket-has-public-access-block-and-encryption",
        "Every bucket the stack creates has a public access block and an SSE configuration.",
        bucket_companion_violations,
    ),
    StackRule(
        "dynamodb-resource-policy-key",
        "A table shared through a resource policy is not encrypted with the AWS-managed key.",
        table_key_violations,
    ),
)

#: Every rule's name, resource rules first (the order the pack registers them in).
RULE_NAMES: tuple[str, ...] = tuple(r.name for r in RULES) + tuple(r.name for r in STACK_RULES)
