"""Another team's Pulumi program (no stream-replica components): one violation per pack rule.

Written the way a team's own code looks: a Lambda in a VPC with AWS's network-interface
permissions (a legitimate ``"Resource": "*"``), an ops role with ``AdministratorAccess``, a
partner role, a stream shared with an analytics account, a queue fed by SNS, buckets, tables.
Each rule of the pack has exactly one resource that breaks it once (:data:`VIOLATIONS` names
it); everything else is compliant, so a rule that reports twice or misses is a bug.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_aws as aws

ACCOUNT = "123456789012"
PARTNER = "210987654321"
ANALYTICS_ROLE = f"arn:aws:iam::{PARTNER}:role/analytics-reader"

#: rule -> the logical name of the one resource that breaks it.
VIOLATIONS: Mapping[str, str] = {
    "iam-no-wildcard-actions": "app-s3",
    "iam-no-wildcard-resources": "app-lookup",
    "iam-no-public-principal": "site-policy",
    "iam-account-principal-pinned": "partner",
    "iam-service-trust-scoped": "delivery",
    "iam-resource-policy-service-pinned": "events-policy",
    "iam-no-broad-managed-policy": "ops-admin",
    "kinesis-resource-policy-read-only": "clicks-sharing",
    "dynamodb-table-recoverable": "sessions",
    "kinesis-stream-encrypted": "clicks",
    "sqs-queue-encrypted": "events",
    "sns-topic-encrypted": "notices",
    "s3-bucket-encrypted": "site-sse",
    "s3-public-access-blocked": "site-pab",
    "firehose-encrypted-and-logged": "clicks-archive",
    "log-group-retention": "app-logs",
    "stream-mapping-failure-handling": "clicks-mapping",
    "s3-bucket-has-public-access-block-and-encryption": "uploads",
    "dynamodb-resource-policy-key": "shared",
}

#: Resources that must pass: the legitimate exceptions.
LEGITIMATE: tuple[str, ...] = ("app-vpc-access", "app-vpc-managed")


def _doc(*statements: Mapping[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def _json(output: pulumi.Output[str], build: Any) -> pulumi.Output[str]:
    return output.apply(lambda value: json.dumps(build(value)))


def program() -> dict[str, Any]:
    lambda_trust = _doc(
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": ACCOUNT}},
        }
    )
    app = aws.iam.Role("app", assume_role_policy=lambda_trust)
    # AWS's VPC-Lambda network-interface permissions, inline and as the managed policy.
    aws.iam.RolePolicy(
        "app-vpc-access",
        role=app.id,
        policy=_doc(
            {
                "Effect": "Allow",
                "Action": [
                    "ec2:CreateNetworkInterface",
                    "ec2:DescribeNetworkInterfaces",
                    "ec2:DescribeSubnets",
                    "ec2:DeleteNetworkInterface",
                    "ec2:AssignPrivateIpAddresses",
                    "ec2:UnassignPrivateIpAddresses",
                ],
                "Resource": "*",
            }
        ),
    )
    aws.iam.RolePolicyAttachment(
        "app-vpc-managed",
        role=app.name,
        policy_arn="arn:aws:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
    )
    aws.iam.RolePolicy(
        "app-s3",
        role=app.id,
        policy=_doc({"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::uploads-1/*"}),
    )
    aws.iam.RolePolicy(
        "app-lookup",
        role=app.id,
        policy=_doc({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": "*"}),
    )
    ops = aws.iam.Role("ops", assume_role_policy=lambda_trust)
    aws.iam.RolePolicyAttachment(
        "ops-admin", role=ops.name, policy_arn="arn:aws:iam::aws:policy/AdministratorAccess"
    )
    aws.iam.Role(
        "partner",
        assume_role_policy=_doc(
            {
                "Effect": "Allow",
                "Principal": {"AWS": f"arn:aws:iam::{PARTNER}:root"},
                "Action": "sts:AssumeRole",
            }
        ),
    )
    delivery = aws.iam.Role(
        "delivery",
        assume_role_policy=_doc(
            {
                "Effect": "Allow",
                "Principal": {"Service": "firehose.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ),
    )
    aws.cloudwatch.LogGroup("app-logs")
    aws.cloudwatch.LogGroup("clicks-archive-logs", retention_in_days=30)

    clicks = aws.kinesis.Stream("clicks", shard_count=1)
    aws.kinesis.ResourcePolicy(
        "clicks-sharing",
        resource_arn=clicks.arn,
        policy=_json(
            clicks.arn,
            lambda arn: {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": ANALYTICS_ROLE},
                        "Action": ["kinesis:DescribeStreamSummary", "kinesis:PutRecords"],
                        "Resource": arn,
                    }
                ],
            },
        ),
    )
    notices = aws.sns.Topic("notices")
    events = aws.sqs.Queue("events")
    aws.sqs.QueuePolicy(
        "events-policy",
        queue_url=events.url,
        policy=_json(
            events.arn,
            lambda arn: {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "sns.amazonaws.com"},
                        "Action": "sqs:SendMessage",
                        "Resource": arn,
                    }
                ],
            },
        ),
    )
    failures = aws.sqs.Queue("clicks-failures", sqs_managed_sse_enabled=True)
    aws.lambda_.EventSourceMapping(
        "clicks-mapping",
        function_name="clicks-fn",
        event_source_arn=clicks.arn,
        starting_position="TRIM_HORIZON",
        function_response_types=["ReportBatchItemFailures"],
        bisect_batch_on_function_error=True,
        maximum_retry_attempts=-1,
        maximum_record_age_in_seconds=3600,
        destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
            on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(
                destination_arn=failures.arn
            )
        ),
    )

    site = aws.s3.Bucket("site")
    aws.s3.BucketPublicAccessBlock(
        "site-pab",
        bucket=site.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=False,
    )
    aws.s3.BucketServerSideEncryptionConfiguration("site-sse", bucket=site.id, rules=[])
    aws.s3.BucketPolicy(
        "site-policy",
        bucket=site.id,
        policy=_json(
            site.arn,
            lambda arn: {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": "*",
                        "Action": "s3:GetObject",
                        "Resource": f"{arn}/*",
                    }
                ],
            },
        ),
    )
    uploads = aws.s3.Bucket("uploads")
    aws.s3.BucketPublicAccessBlock(
        "uploads-pab",
        bucket=uploads.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
    )
    aws.kinesis.FirehoseDeliveryStream(
        "clicks-archive",
        destination="extended_s3",
        server_side_encryption=aws.kinesis.FirehoseDeliveryStreamServerSideEncryptionArgs(
            enabled=True
        ),
        extended_s3_configuration=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationArgs(
            role_arn=delivery.arn,
            bucket_arn=uploads.arn,
            prefix="clicks/!{timestamp:yyyy/MM/dd}/",
            error_output_prefix="clicks-errors/",
            cloudwatch_logging_options=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptionsArgs(
                enabled=True, log_group_name="clicks-archive-logs", log_stream_name="delivery"
            ),
        ),
    )

    key = aws.dynamodb.TableAttributeArgs(name="id", type="S")
    aws.dynamodb.Table("sessions", hash_key="id", attributes=[key], billing_mode="PAY_PER_REQUEST")
    shared = aws.dynamodb.Table(
        "shared",
        hash_key="id",
        attributes=[key],
        billing_mode="PAY_PER_REQUEST",
        point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(enabled=True),
        server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
    )
    aws.dynamodb.ResourcePolicy(
        "shared-policy",
        resource_arn=shared.arn,
        policy=_json(
            shared.arn,
            lambda arn: {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": PARTNER},
                        "Action": "dynamodb:GetItem",
                        "Resource": arn,
                        "Condition": {"ArnEquals": {"aws:PrincipalArn": ANALYTICS_ROLE}},
                    }
                ],
            },
        ),
    )
    return {"notices": notices.arn}
