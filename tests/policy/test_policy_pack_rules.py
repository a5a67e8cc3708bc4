"""The CrossGuard pack's rules on small hand-written inputs: each rule passes the compliant form
and reports the violating one, through the pure check and through pulumi-policy's own
``ResourceValidationArgs``/``StackValidationArgs`` (the objects the CLI hands a validator).

The rules on the inputs the real stacks render (and on a violating program) are in
``test_policy_pack_stacks.py``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pytest
from pulumi_policy import (
    EnforcementLevel,
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import unknown_checking_proxy

from policy_pack import replica_rules as rules

PROD = "111111111111"
POC = "999999999999"
REPLICATOR = f"arn:aws:iam::{PROD}:role/stream-replica-replicator"
TABLE = f"arn:aws:dynamodb:eu-west-1:{POC}:table/t"


def doc(*statements: dict) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def options() -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=False,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
    )


def run_validator(rule_name: str, resource_type: str, props: Mapping[str, Any]) -> list[str]:
    """Call the pack's policy ``rule_name`` the way the CLI does; return the violations."""
    policy = next(p for p in rules.build_policies() if p.name == rule_name)
    assert isinstance(policy, ResourceValidationPolicy)
    # Wrapped as the engine wraps them: read-only Mapping/Sequence proxies, not dict/list.
    args = ResourceValidationArgs(
        resource_type,
        unknown_checking_proxy(dict(props)),
        f"urn:pulumi:s::p::{resource_type}::r",
        "r",
        options(),
        None,
    )
    found: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append(message)

    policy.validate(args, report)
    return found


GOOD_AND_BAD: list[tuple[str, str, dict[str, Any], dict[str, Any], str]] = [
    (
        "iam-no-wildcard-actions",
        "aws:iam/rolePolicy:RolePolicy",
        {
            "policy": doc(
                {"Effect": "Allow", "Action": ["dynamodb:BatchWriteItem"], "Resource": TABLE}
            )
        },
        {"policy": doc({"Effect": "Allow", "Action": ["dynamodb:*"], "Resource": TABLE})},
        "wildcard action 'dynamodb:*'",
    ),
    (
        "iam-no-wildcard-actions",
        "aws:iam/role:Role",
        {"assumeRolePolicy": doc(), "inlinePolicies": []},
        {
            "assumeRolePolicy": doc(),
            "inlinePolicies": [
                {
                    "name": "x",
                    "policy": doc({"Effect": "Allow", "NotAction": "iam:*", "Resource": TABLE}),
                }
            ],
        },
        "NotAction",
    ),
    (
        "iam-no-wildcard-resources",
        "aws:iam/policy:Policy",
        {"policy": doc({"Effect": "Allow", "Action": "cloudwatch:PutMetricData", "Resource": "*"})},
        {"policy": doc({"Effect": "Allow", "Action": "dynamodb:BatchWriteItem", "Resource": "*"})},
        "too wide for ['dynamodb:BatchWriteItem']",
    ),
    (
        "iam-no-wildcard-resources",
        "aws:iam/rolePolicy:RolePolicy",
        {
            "policy": doc(
                {
                    "Effect": "Allow",
                    "Action": "dynamodb:GetRecords",
                    "Resource": f"{TABLE}/stream/*",
                }
            )
        },
        {
            "policy": doc(
                {
                    "Effect": "Allow",
                    "Action": "dynamodb:GetRecords",
                    "Resource": f"arn:aws:dynamodb:eu-west-1:{POC}:table/*",
                }
            )
        },
        "too wide",
    ),
    (
        "iam-no-public-principal",
        "aws:s3/bucketPolicy:BucketPolicy",
        {
            "policy": doc(
                {
                    "Effect": "Deny",
                    "Principal": "*",
                    "Action": "s3:*",
                    "Resource": "arn:aws:s3:::b/*",
                    "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                }
            )
        },
        {
            "policy": doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": "*"},
                    "Action": "s3:GetObject",
                    "Resource": "arn:aws:s3:::b/*",
                }
            )
        },
        "every principal",
    ),
    (
        "iam-account-principal-pinned",
        "aws:iam/role:Role",
        {
            "assumeRolePolicy": doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{PROD}:root"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"ArnEquals": {"aws:PrincipalArn": REPLICATOR}},
                }
            )
        },
        {
            "assumeRolePolicy": doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": f"arn:aws:iam::{PROD}:root"},
                    "Action": "sts:AssumeRole",
                }
            )
        },
        "without an ArnEquals aws:PrincipalArn",
    ),
    (
        "iam-account-principal-pinned",
        "aws:dynamodb/resourcePolicy:ResourcePolicy",
        {
            "policy": doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": PROD},
                    "Action": "dynamodb:BatchWriteItem",
                    "Resource": TABLE,
                    "Condition": {"ArnEquals": {"aws:PrincipalArn": REPLICATOR}},
                }
            )
        },
        {
            "policy": doc(
                {
                    "Effect": "Allow",
                    "Principal": {"AWS": PROD},
                    "Action": "dynamodb:BatchWriteItem",
                    "Resource": TABLE,
                    "Condition": {"ArnLike": {"aws:PrincipalArn": f"arn:aws:iam::{PROD}:role/*"}},
                }
            )
        },
        "is a wildcard",
    ),
    (
        "iam-service-trust-scoped",
        "aws:iam/role:Role",
        {
            "assumeRolePolicy": doc(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "firehose.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"sts:ExternalId": POC}},
                }
            )
        },
        {
            "assumeRolePolicy": doc(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "firehose.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            )
        },
        "confused-deputy",
    ),
    (
        "iam-service-trust-scoped",
        "aws:iam/role:Role",
        {
            "assumeRolePolicy": doc(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                    "Condition": {"StringEquals": {"aws:SourceAccount": PROD}},
                }
            )
        },
        {
            "assumeRolePolicy": doc(
                {
                    "Effect": "Allow",
                    "Principal": {"Service": ["lambda.amazonaws.com", "ec2.amazonaws.com"]},
                    "Action": "sts:AssumeRole",
                }
            )
        },
        "several services",
    ),
    (
        "dynamodb-table-recoverable",
        "aws:dynamodb/table:Table",
        {"pointInTimeRecovery": {"enabled": True}},
        {"pointInTimeRecovery": {"enabled": False}},
        "pointInTimeRecovery.enabled",
    ),
    (
        "kinesis-stream-encrypted",
        "aws:kinesis/stream:Stream",
        {"encryptionType": "KMS", "kmsKeyId": "alias/aws/kinesis"},
        {"encryptionType": "NONE"},
        "encryptionType must be 'KMS'",
    ),
    (
        "sqs-queue-encrypted",
        "aws:sqs/queue:Queue",
        {"sqsManagedSseEnabled": True},
        {"sqsManagedSseEnabled": False},
        "queue must be encrypted",
    ),
    (
        "sns-topic-encrypted",
        "aws:sns/topic:Topic",
        {"kmsMasterKeyId": "alias/aws/sns"},
        {},
        "kmsMasterKeyId",
    ),
    (
        "s3-bucket-encrypted",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        {"rules": [{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}]},
        {"rules": []},
        "sseAlgorithm",
    ),
    (
        "s3-public-access-blocked",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        dict.fromkeys(rules.PUBLIC_ACCESS_FLAGS, True),
        {**dict.fromkeys(rules.PUBLIC_ACCESS_FLAGS, True), "restrictPublicBuckets": False},
        "restrictPublicBuckets must be true",
    ),
    (
        "firehose-encrypted-and-logged",
        "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
        {
            "serverSideEncryption": {"enabled": True},
            "extendedS3Configuration": {
                "prefix": "p/!{timestamp:yyyy}/",
                "errorOutputPrefix": "e/!{firehose:error-output-type}/",
                "cloudwatchLoggingOptions": {"enabled": True},
            },
        },
        {
            "serverSideEncryption": {"enabled": True},
            "extendedS3Configuration": {
                "prefix": "p/!{timestamp:yyyy}/",
                "errorOutputPrefix": "e/",
                "cloudwatchLoggingOptions": {"enabled": True},
            },
        },
        "!{firehose:error-output-type}",
    ),
    (
        "firehose-encrypted-and-logged",
        "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
        {"serverSideEncryption": {"enabled": True}},
        {"serverSideEncryption": {"enabled": False}},
        "serverSideEncryption.enabled",
    ),
    (
        "log-group-retention",
        "aws:cloudwatch/logGroup:LogGroup",
        {"retentionInDays": 30},
        {},
        "kept forever",
    ),
    (
        "stream-mapping-failure-handling",
        "aws:lambda/eventSourceMapping:EventSourceMapping",
        {
            "eventSourceArn": f"arn:aws:kinesis:eu-west-1:{PROD}:stream/s",
            "functionResponseTypes": ["ReportBatchItemFailures"],
            "bisectBatchOnFunctionError": True,
            "maximumRetryAttempts": 10,
            "maximumRecordAgeInSeconds": 21600,
            "destinationConfig": {
                "onFailure": {"destinationArn": f"arn:aws:sqs:eu-west-1:{PROD}:q"}
            },
        },
        {
            "eventSourceArn": f"arn:aws:kinesis:eu-west-1:{PROD}:stream/s",
            "functionResponseTypes": ["ReportBatchItemFailures"],
            "bisectBatchOnFunctionError": True,
            "maximumRetryAttempts": -1,
            "maximumRecordAgeInSeconds": 21600,
            "destinationConfig": {
                "onFailure": {"destinationArn": f"arn:aws:sqs:eu-west-1:{PROD}:q"}
            },
        },
        "maximumRetryAttempts must be 0..10000",
    ),
]


@pytest.mark.parametrize(
    ("rule_name", "resource_type", "good", "bad", "expected"),
    GOOD_AND_BAD,
    ids=[f"{case[0]}-{i}" for i, case in enumerate(GOOD_AND_BAD)],
)
def test_rule_passes_good_and_reports_bad(
    rule_name: str, resource_type: str, good: dict, bad: dict, expected: str
) -> None:
    assert run_validator(rule_name, resource_type, good) == []
    violations = run_validator(rule_name, resource_type, bad)
    assert violations, f"{rule_name} let {bad} through"
    assert any(expected in v for v in violations), violations
    # The wrapped validator reports exactly what the pure check returns, prefixed by the resource.
    rule = next(r for r in rules.RULES if r.name == rule_name)
    assert len(violations) == len(rule.check(resource_type, bad))


def test_every_rule_has_a_case_and_is_mandatory() -> None:
    policies = rules.build_policies()
    names = [p.name for p in policies]
    assert len(names) == len(set(names))
    assert {r.name for r in rules.RULES} == {case[0] for case in GOOD_AND_BAD}
    assert all(p.enforcement_level == EnforcementLevel.MANDATORY for p in policies)


def test_mapping_rule_ignores_queue_sources() -> None:
    # SQS event sources have no bisect/retry settings; the rule is about stream sources only.
    props = {"eventSourceArn": f"arn:aws:sqs:eu-west-1:{PROD}:q"}
    assert (
        run_validator(
            "stream-mapping-failure-handling",
            "aws:lambda/eventSourceMapping:EventSourceMapping",
            props,
        )
        == []
    )


def stack_args(*resources: tuple[str, str, dict, dict[str, list[str]]]) -> StackValidationArgs:
    by_urn: dict[str, PolicyResource] = {}
    built = []
    for resource_type, name, props, _deps in resources:
        urn = f"urn:pulumi:s::p::{resource_type}::{name}"
        res = PolicyResource(resource_type, props, urn, name, options(), None, None, [], {})
        by_urn[urn] = res
        built.append(res)
    for res, (_t, _n, _p, deps) in zip(built, resources, strict=True):
        res.property_dependencies = {
            key: [next(r for r in built if r.name == target) for target in targets]
            for key, targets in deps.items()
        }
    return StackValidationArgs(built)


def run_stack_rule(name: str, args: StackValidationArgs) -> list[str]:
    policy = next(p for p in rules.build_policies() if p.name == name)
    assert isinstance(policy, StackValidationPolicy)
    found: list[str] = []

    def report(message: str, urn: str | None = None) -> None:
        found.append(message)

    policy.validate(args, report)
    return found


PAB = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
SSE = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"


def test_bucket_needs_public_access_block_and_encryption() -> None:
    rule = "s3-bucket-has-public-access-block-and-encryption"
    complete = stack_args(
        ("aws:s3/bucket:Bucket", "archive", {}, {}),
        (PAB, "archive-pab", {"bucket": "archive-1234"}, {"bucket": ["archive"]}),
        (SSE, "archive-sse", {"bucket": "archive-1234"}, {"bucket": ["archive"]}),
    )
    assert run_stack_rule(rule, complete) == []
    # The same companions pointing at another bucket don't count.
    elsewhere = stack_args(
        ("aws:s3/bucket:Bucket", "archive", {"bucket": "archive-1234"}, {}),
        ("aws:s3/bucket:Bucket", "other", {"bucket": "other-1"}, {}),
        (PAB, "pab", {"bucket": "other-1"}, {"bucket": ["other"]}),
        (SSE, "sse", {"bucket": "archive-1234"}, {}),
    )
    assert run_stack_rule(rule, elsewhere) == [
        "bucket 'archive' has no public access block",
        "bucket 'other' has no server-side encryption configuration",
    ]


def test_shared_table_must_not_use_aws_managed_key() -> None:
    rule = "dynamodb-resource-policy-key"
    table = "aws:dynamodb/table:Table"
    policy = "aws:dynamodb/resourcePolicy:ResourcePolicy"
    managed = {"serverSideEncryption": {"enabled": True}}
    owned = {"serverSideEncryption": {"enabled": False}}
    assert (
        run_stack_rule(
            rule, stack_args((table, "t", owned, {}), (policy, "p", {}, {"resourceArn": ["t"]}))
        )
        == []
    )
    assert run_stack_rule(rule, stack_args((table, "t", managed, {}))) == []
    violations = run_stack_rule(
        rule, stack_args((table, "t", managed, {}), (policy, "p", {}, {"resourceArn": ["t"]}))
    )
    assert len(violations) == 1 and "AWS-managed key" in violations[0]
