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

from policy_pack.stream_replica_policy import pack, rules

PROD = "111111111111"
POC = "999999999999"
REPLICATOR = f"arn:aws:iam::{PROD}:role/stream-replica-replicator"
TABLE = f"arn:aws:dynamodb:eu-west-1:{POC}:table/t"
BUCKET_OBJECTS = "arn:aws:s3:::b/*"
AWS_POLICY = "arn:aws:iam::aws:policy/"
STREAM = f"arn:aws:kinesis:eu-west-1:{PROD}:stream/s"
CONSUMER = f"{STREAM}/consumer/analytics:1700000000"
ANALYTICS_ROLE = f"arn:aws:iam::{POC}:role/analytics-replicator"
#: AWSLambdaVPCAccessExecutionRole's network-interface actions.
VPC_ENI_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)
SNS_TO_QUEUE = {
    "Effect": "Allow",
    "Principal": {"Service": "sns.amazonaws.com"},
    "Action": "sqs:SendMessage",
    "Resource": f"arn:aws:sqs:eu-west-1:{PROD}:q",
    "Condition": {"ArnEquals": {"aws:SourceArn": f"arn:aws:sns:eu-west-1:{PROD}:t"}},
}
#: Shared-throughput read of the stream by one role of the analytics account.
STREAM_READ = {
    "Effect": "Allow",
    "Principal": {"AWS": ANALYTICS_ROLE},
    "Action": [
        "kinesis:DescribeStream",
        "kinesis:DescribeStreamSummary",
        "kinesis:GetRecords",
        "kinesis:GetShardIterator",
        "kinesis:ListShards",
    ],
    "Resource": STREAM,
}
#: Enhanced fan-out read through a registered consumer: the account, pinned to one role.
CONSUMER_READ = {
    "Effect": "Allow",
    "Principal": {"AWS": f"arn:aws:iam::{POC}:root"},
    "Action": ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"],
    "Resource": CONSUMER,
    "Condition": {"ArnEquals": {"aws:PrincipalArn": ANALYTICS_ROLE}},
}


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
    policy = next(p for p in pack.build_policies() if p.name == rule_name)
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
    # Inline policies on users and groups are identity documents like a role's.
    (
        "iam-no-wildcard-actions",
        "aws:iam/userPolicy:UserPolicy",
        {"policy": doc({"Effect": "Allow", "Action": "s3:GetObject", "Resource": BUCKET_OBJECTS})},
        {"policy": doc({"Effect": "Allow", "Action": "s3:*", "Resource": BUCKET_OBJECTS})},
        "wildcard action 's3:*'",
    ),
    (
        "iam-no-wildcard-resources",
        "aws:iam/groupPolicy:GroupPolicy",
        {"policy": doc({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE})},
        {"policy": doc({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"})},
        "too wide for ['dynamodb:GetItem']",
    ),
    # The VPC-Lambda network-interface statement (AWSLambdaVPCAccessExecutionRole's ec2 actions)
    # is a documented exception; another ENI action on '*' is not.
    (
        "iam-no-wildcard-resources",
        "aws:iam/rolePolicy:RolePolicy",
        {"policy": doc({"Effect": "Allow", "Action": list(VPC_ENI_ACTIONS), "Resource": "*"})},
        {
            "policy": doc(
                {
                    "Effect": "Allow",
                    "Action": [*VPC_ENI_ACTIONS, "ec2:AttachNetworkInterface"],
                    "Resource": "*",
                }
            )
        },
        "too wide for ['ec2:AttachNetworkInterface']",
    ),
    # SQS queue policies: no public principal, services pinned to their source.
    (
        "iam-no-public-principal",
        "aws:sqs/queuePolicy:QueuePolicy",
        {"policy": doc(SNS_TO_QUEUE)},
        {"policy": doc({**SNS_TO_QUEUE, "Principal": "*"})},
        "every principal",
    ),
    (
        "iam-resource-policy-service-pinned",
        "aws:sqs/queuePolicy:QueuePolicy",
        {"policy": doc(SNS_TO_QUEUE)},
        {"policy": doc({k: v for k, v in SNS_TO_QUEUE.items() if k != "Condition"})},
        "without a condition on one of",
    ),
    (
        "iam-no-broad-managed-policy",
        "aws:iam/rolePolicyAttachment:RolePolicyAttachment",
        {"role": "app", "policyArn": f"{AWS_POLICY}service-role/AWSLambdaVPCAccessExecutionRole"},
        {"role": "app", "policyArn": f"{AWS_POLICY}AdministratorAccess"},
        "AdministratorAccess grants every action (administrator)",
    ),
    (
        "iam-no-broad-managed-policy",
        "aws:iam/userPolicyAttachment:UserPolicyAttachment",
        {"user": "u", "policyArn": f"arn:aws:iam::{PROD}:policy/AmazonS3FullAccess"},
        {"user": "u", "policyArn": f"{AWS_POLICY}AmazonS3FullAccess"},
        "full access",
    ),
    (
        "iam-no-broad-managed-policy",
        "aws:iam/groupPolicyAttachment:GroupPolicyAttachment",
        {"group": "g", "policyArn": f"{AWS_POLICY}ReadOnlyAccess"},
        {"group": "g", "policyArn": f"{AWS_POLICY}job-function/SystemAdministrator"},
        "job-function administrator",
    ),
    (
        "iam-no-broad-managed-policy",
        "aws:iam/role:Role",
        {
            "assumeRolePolicy": doc(),
            "managedPolicyArns": [f"{AWS_POLICY}service-role/AWSLambdaBasicExecutionRole"],
        },
        {
            "assumeRolePolicy": doc(),
            "managedPolicyArns": [
                f"{AWS_POLICY}service-role/AWSLambdaBasicExecutionRole",
                f"{AWS_POLICY}PowerUserAccess",
            ],
        },
        "managedPolicyArns[1]",
    ),
    (
        "iam-no-broad-managed-policy",
        "aws:iam/rolePolicyAttachmentsExclusive:RolePolicyAttachmentsExclusive",
        {"roleName": "app", "policyArns": []},
        {"roleName": "app", "policyArns": ["arn:aws-us-gov:iam::aws:policy/IAMFullAccess"]},
        "IAMFullAccess",
    ),
    (
        "kinesis-resource-policy-read-only",
        "aws:kinesis/resourcePolicy:ResourcePolicy",
        {"resourceArn": STREAM, "policy": doc(STREAM_READ)},
        {"resourceArn": STREAM, "policy": doc({**STREAM_READ, "Action": ["kinesis:PutRecords"]})},
        "grants ['kinesis:PutRecords'], not only reads",
    ),
    (
        "kinesis-resource-policy-read-only",
        "aws:kinesis/resourcePolicy:ResourcePolicy",
        {"resourceArn": CONSUMER, "policy": doc(CONSUMER_READ)},
        {
            "resourceArn": CONSUMER,
            "policy": doc({k: v for k, v in CONSUMER_READ.items() if k != "Condition"}),
        },
        "without an ArnEquals aws:PrincipalArn condition",
    ),
    (
        "kinesis-resource-policy-read-only",
        "aws:kinesis/resourcePolicy:ResourcePolicy",
        {"resourceArn": STREAM, "policy": doc(STREAM_READ)},
        {
            "resourceArn": STREAM,
            "policy": doc({**STREAM_READ, "Principal": {"AWS": f"arn:aws:iam::{POC}:role/*"}}),
        },
        "is not one role",
    ),
    (
        "kinesis-resource-policy-read-only",
        "aws:kinesis/resourcePolicy:ResourcePolicy",
        {"resourceArn": STREAM, "policy": doc(STREAM_READ)},
        {"resourceArn": STREAM, "policy": doc({**STREAM_READ, "Principal": {"AWS": "*"}})},
        "allows every principal",
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


#: The rules whose violation lets another principal in or makes one an administrator.
MANDATORY_BY_DEFAULT = {
    "iam-no-public-principal",
    "iam-account-principal-pinned",
    "iam-no-broad-managed-policy",
    "kinesis-resource-policy-read-only",
}


def test_every_rule_has_a_case_and_its_documented_default_level() -> None:
    policies = pack.build_policies()
    names = [p.name for p in policies]
    assert len(names) == len(set(names))
    assert names == list(rules.RULE_NAMES)
    assert {r.name for r in rules.RULES} == {case[0] for case in GOOD_AND_BAD}
    levels = {p.name: p.enforcement_level for p in policies}
    assert {n for n, level in levels.items() if level == EnforcementLevel.MANDATORY} == (
        MANDATORY_BY_DEFAULT
    )
    assert {n for n, level in levels.items() if level == EnforcementLevel.ADVISORY} == (
        set(names) - MANDATORY_BY_DEFAULT
    )


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
    policy = next(p for p in pack.build_policies() if p.name == name)
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


def test_star_resource_exceptions_hold_the_components_list_and_cite_aws() -> None:
    """The pack carries its own list (it installs without the components); ours must stay in it,
    with the same reason, and every entry names the AWS page it comes from."""
    from stream_replica.components import policies

    for action, reason in policies.ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS.items():
        assert rules.STAR_RESOURCE_EXCEPTIONS[action].reason == reason, action
    for action, grant in rules.STAR_RESOURCE_EXCEPTIONS.items():
        assert grant.source.startswith("https://docs.aws.amazon.com/"), action
        assert grant.reason, action


def test_broad_managed_policies() -> None:
    broad = [
        "arn:aws:iam::aws:policy/AdministratorAccess",
        "arn:aws:iam::aws:policy/AdministratorAccess-Amplify",
        "arn:aws:iam::aws:policy/PowerUserAccess",
        "arn:aws:iam::aws:policy/AWSLambda_FullAccess",
        "arn:aws-cn:iam::aws:policy/AmazonKinesisFullAccess",
        "arn:aws:iam::aws:policy/job-function/NetworkAdministrator",
    ]
    narrow = [
        "arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
        "arn:aws:iam::aws:policy/service-role/AWSLambdaKinesisExecutionRole",
        "arn:aws:iam::aws:policy/ReadOnlyAccess",
        # Customer-managed: judged by its document.
        f"arn:aws:iam::{PROD}:policy/AdministratorAccess",
        "AdministratorAccess",
        None,
    ]
    assert all(rules.broad_managed_policy(arn) for arn in broad)
    assert not any(rules.broad_managed_policy(arn) for arn in narrow)
