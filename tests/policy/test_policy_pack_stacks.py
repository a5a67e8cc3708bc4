"""The CrossGuard pack on what programs render: our stacks pass, a violating program fails.

Resources come from the recording mocks (``tests/pulumi_harness.py``): their type, name, URN
and resolved inputs are exactly what the engine would hand the pack's validators.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from pulumi_policy import (
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

from .stacks import VARIANTS, render, variant_id


def _options() -> PolicyResourceOptions:
    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def pack_violations(resources: Iterable[Any]) -> dict[str, list[str]]:
    """Run every policy of the pack over recorded resources, as the CLI would; by policy name."""
    records = [r for r in resources if r.custom]
    found: dict[str, list[str]] = {}
    policies = rules.build_policies()
    for policy in policies:

        def report(message: str, urn: str | None = None, name: str = policy.name) -> None:
            found.setdefault(name, []).append(message)

        if isinstance(policy, ResourceValidationPolicy):
            for r in records:
                # The engine wraps props in read-only proxies (Mapping/Sequence, not dict/list).
                props = unknown_checking_proxy(r.inputs)
                args = ResourceValidationArgs(r.type, props, r.urn, r.name, _options(), None)
                policy.validate(args, report)
        else:
            assert isinstance(policy, StackValidationPolicy)
            stack = StackValidationArgs(
                [
                    PolicyResource(
                        r.type,
                        {**r.inputs, **r.state},
                        r.urn,
                        r.name,
                        _options(),
                        None,
                        None,
                        [],
                        {},
                    )
                    for r in records
                ]
            )
            policy.validate(stack, report)
    return found


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_our_stacks_pass_the_pack(variant: tuple[str, str, str | None]) -> None:
    view = render(*variant)
    assert pack_violations(view.resources) == {}


def violating_program() -> dict[str, Any]:
    """A program that uses the same resource types the way the pack forbids."""
    table = aws.dynamodb.Table(
        "table",
        name="replica",
        hash_key="k",
        attributes=[aws.dynamodb.TableAttributeArgs(name="k", type="S")],
        billing_mode="PAY_PER_REQUEST",
        server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(enabled=True),
    )
    aws.dynamodb.ResourcePolicy(
        "table-policy",
        resource_arn=table.arn,
        policy=table.arn.apply(
            lambda arn: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                            "Action": "dynamodb:*",
                            "Resource": arn,
                        }
                    ],
                }
            )
        ),
    )
    role = aws.iam.Role(
        "writer",
        assume_role_policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    aws.iam.RolePolicy(
        "writer-policy",
        role=role.id,
        policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {"Effect": "Allow", "Action": "dynamodb:BatchWriteItem", "Resource": "*"}
                ],
            }
        ),
    )
    aws.iam.Role(
        "delivery",
        assume_role_policy=json.dumps(
            {
                "Version": "2012-10-17",
                "Statement": [
                    {
                        "Effect": "Allow",
                        "Principal": {"Service": "firehose.amazonaws.com"},
                        "Action": "sts:AssumeRole",
                    }
                ],
            }
        ),
    )
    bucket = aws.s3.Bucket("archive")
    aws.s3.BucketPublicAccessBlock(
        "archive-pab", bucket=bucket.id, block_public_acls=True, block_public_policy=False
    )
    aws.s3.BucketPolicy(
        "archive-policy",
        bucket=bucket.id,
        policy=bucket.arn.apply(
            lambda arn: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
                         "Resource": f"{arn}/*"}
                    ],
                }
            )
        ),
    )  # fmt: skip
    aws.s3.BucketServerSideEncryptionConfiguration("elsewhere-sse", bucket="elsewhere", rules=[])
    aws.sns.Topic("alarms")
    aws.sqs.Queue("dlq")
    aws.cloudwatch.LogGroup("logs")
    aws.kinesis.Stream("stream", shard_count=1)
    aws.kinesis.FirehoseDeliveryStream(
        "delivery-stream",
        destination="extended_s3",
        extended_s3_configuration=aws.kinesis.FirehoseDeliveryStreamExtendedS3ConfigurationArgs(
            role_arn="arn:aws:iam::999999999999:role/delivery",
            bucket_arn=bucket.arn,
            prefix="data/!{timestamp:yyyy}/",
            error_output_prefix="errors/",
        ),
    )
    aws.lambda_.EventSourceMapping(
        "mapping",
        function_name="fn",
        event_source_arn=table.stream_arn,
        starting_position="TRIM_HORIZON",
    )
    return {"table": table.name}


def test_a_violating_program_trips_every_rule() -> None:
    from tests import pulumi_harness

    rendered = pulumi_harness.run_components(violating_program)
    found = pack_violations(rendered.resources)
    every_policy = {p.name for p in rules.build_policies()}
    assert set(found) == every_policy, sorted(every_policy - set(found))
    # A few messages in full: they name the resource and the property at fault.
    assert any("wildcard action 'dynamodb:*'" in m for m in found["iam-no-wildcard-actions"])
    assert any("'logs'" in m and "retentionInDays" in m for m in found["log-group-retention"])
    assert (
        "bucket 'archive' has no server-side encryption configuration"
        in found["s3-bucket-has-public-access-block-and-encryption"]
    )
    assert pulumi.__name__  # the program ran under the same Pulumi SDK as the stacks
