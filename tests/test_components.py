"""Each component on its own, with its defaults and with every option, under mocks.

These run the components as a small program of their own (``run_components``), the way another
Pulumi program reuses them, without this project's stack config.
"""

from __future__ import annotations

import json
from typing import Any

import pulumi
import pulumi_aws as aws
import pytest
from stream_replica.components import (
    CrossAccountStreamReplica,
    CrossAccountStreamReplicaArgs,
    FunctionSettings,
    LifecycleRule,
    ReplicaSource,
    ReplicaSourceArgs,
    ReplicaTarget,
    ReplicaTargetArgs,
    SecondaryIndex,
    StreamToS3Archiver,
    StreamToS3ArchiverArgs,
    policies,
    powertools_layer_arn,
)
from stream_replica.testing import RenderedStack, autoname
from stream_replica.testing.mocks import run_components

SOURCE = "111111111111"
TARGET = "222222222222"
REGION = "eu-west-1"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{TARGET}:table/replica"
STREAM_ARN = f"{TABLE_ARN}/stream/2026-01-01T00:00:00.000"
WRITER_ARN = f"arn:aws:iam::{TARGET}:role/writer"


def grants(resource: Any) -> dict[str, tuple[list[str], list[str]]]:
    return {
        s["Sid"]: (s["Action"], s["Resource"]) for s in resource.document("policy")["Statement"]
    }


REPLICATOR_ROLE = "replicator"


def target(**kwargs: Any) -> RenderedStack:
    values: dict[str, Any] = {"source_account_id": SOURCE, "replicator_role_name": REPLICATOR_ROLE}
    values.update(kwargs)

    def build() -> dict[str, Any]:
        component = ReplicaTarget("t", ReplicaTargetArgs(**values))
        return {
            "table_name": component.table_name,
            "writer_role_arn": component.writer_role_arn,
            "replicator_role_arn": component.replicator_role_arn,
        }

    return run_components(build)


def source(**kwargs: Any) -> RenderedStack:
    values: dict[str, Any] = {
        "account_id": SOURCE,
        "region": REGION,
        "table_name": "replica",
        "table_arn": TABLE_ARN,
        "writer_role_arn": WRITER_ARN,
        "source_stream_name": "clicks",
    }
    values.update(kwargs)

    def build() -> dict[str, Any]:
        component = ReplicaSource("s", ReplicaSourceArgs(**values))
        return {"source_stream_arn": component.source_stream_arn, "role_arn": component.role_arn}

    return run_components(build)


def archiver(**kwargs: Any) -> RenderedStack:
    def build() -> dict[str, Any]:
        component = StreamToS3Archiver(
            "a",
            StreamToS3ArchiverArgs(
                table_stream_arn=STREAM_ARN, account_id=TARGET, region=REGION, **kwargs
            ),
        )
        return {"bucket_name": component.bucket_name, "bucket_arn": component.bucket_arn}

    return run_components(build)


# --- ReplicaTarget --------------------------------------------------------------------------


def test_target_defaults() -> None:
    stack = target()
    table = stack.one("aws:dynamodb/table:Table")
    assert "name" not in table.inputs  # autonamed
    assert table.state["name"] == autoname("t-table")
    assert table.inputs["billingMode"] == "PAY_PER_REQUEST"
    assert table.inputs["serverSideEncryption"] == {"enabled": True}
    assert table.inputs["deletionProtectionEnabled"] is True
    assert table.inputs["streamViewType"] == "NEW_IMAGE"
    assert "globalSecondaryIndexes" not in table.inputs
    assert table.protect and table.retain_on_delete
    role = stack.one("aws:iam/role:Role")
    assert not role.delete_before_replace  # autonamed: create-before-delete is safe
    assert role.inputs["maxSessionDuration"] == 3600
    (trust,) = role.document("assumeRolePolicy")["Statement"]
    expected_role = f"arn:aws:iam::{SOURCE}:role/{REPLICATOR_ROLE}"
    assert trust["Condition"] == {"ArnEquals": {"aws:PrincipalArn": expected_role}}
    assert stack.outputs["replicator_role_arn"] == expected_role
    assert stack.outputs["writer_role_arn"] == role.state["arn"]
    assert not stack.of_type("aws:dynamodb/resourcePolicy:ResourcePolicy")


def test_target_every_option() -> None:
    stack = target(
        table_name="replica",
        billing_mode="PROVISIONED",
        stream_view_type="NEW_AND_OLD_IMAGES",
        point_in_time_recovery=False,
        deletion_protection=False,
        protect=False,
        table_encryption="AWS_OWNED",
        external_id="xyz",
        replicator_role_name="rep",
        replicator_role_path="/replica/",
        writer_role_name="writer",
        writer_role_path="/replica/",
        secondary_indexes=[
            SecondaryIndex(name="by-user", hash_key="userId", range_key="ts", range_key_type="N")
        ],
    )
    table = stack.one("aws:dynamodb/table:Table")
    inputs = table.inputs
    assert inputs["name"] == "replica"
    assert (inputs["readCapacity"], inputs["writeCapacity"]) == (20, 20)
    assert inputs["streamViewType"] == "NEW_AND_OLD_IMAGES"
    assert inputs["pointInTimeRecovery"] == {"enabled": False}
    assert inputs["deletionProtectionEnabled"] is False
    assert inputs["serverSideEncryption"] == {"enabled": False}
    assert not table.protect and not table.retain_on_delete
    (index,) = inputs["globalSecondaryIndexes"]
    assert (index["readCapacity"], index["writeCapacity"]) == (20, 20)
    assert {a["name"]: a["type"] for a in inputs["attributes"]}["ts"] == "N"
    role = stack.one("aws:iam/role:Role")
    assert role.inputs["name"] == "writer" and role.inputs["path"] == "/replica/"
    assert role.delete_before_replace
    (trust,) = role.document("assumeRolePolicy")["Statement"]
    assert trust["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{SOURCE}:role/replica/rep"},
        "StringEquals": {"sts:ExternalId": "xyz"},
    }


def test_target_resource_policy_mode() -> None:
    stack = target(access_mode="resource-policy")
    assert not stack.of_type("aws:iam/role:Role")
    table = stack.one("aws:dynamodb/table:Table")
    assert table.inputs["serverSideEncryption"] == {"enabled": False}
    policy = stack.one("aws:dynamodb/resourcePolicy:ResourcePolicy")
    assert policy.document() == policies.table_resource_policy(
        table.state["arn"], SOURCE, f"arn:aws:iam::{SOURCE}:role/{REPLICATOR_ROLE}"
    )
    assert stack.outputs["writer_role_arn"] is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"source_account_id": "1234"}, "source_account_id must be a 12-digit"),
        ({"access_mode": "sideways"}, "access_mode must be one of"),
        (
            {"access_mode": "resource-policy", "table_encryption": "AWS_MANAGED"},
            "AWS-managed key",
        ),
        ({"billing_mode": "FREE"}, "billing_mode"),
    ],
)
def test_target_rejects_settings_aws_would_refuse(kwargs: dict[str, Any], message: str) -> None:
    args = ReplicaTargetArgs(
        **{"source_account_id": SOURCE, "replicator_role_name": REPLICATOR_ROLE, **kwargs}
    )
    with pytest.raises(ValueError, match=message):
        args.validate()


# --- ReplicaSource --------------------------------------------------------------------------


def test_source_defaults_use_the_named_stream() -> None:
    stack = source()
    expected_stream = f"arn:aws:kinesis:{REGION}:{SOURCE}:stream/clicks"
    assert stack.outputs["source_stream_arn"] == expected_stream
    assert not stack.of_type("aws:kinesis/stream:Stream")
    role = stack.one("aws:iam/role:Role")
    assert role.inputs["name"] == "s-replicator"  # derived from the component's name
    function = stack.one("aws:lambda/function:Function")
    assert function.inputs["timeout"] == 120
    assert function.inputs["memorySize"] == 512
    assert function.inputs["layers"] == [powertools_layer_arn(REGION, "python3.13", "arm64")]
    policy = grants(stack.one("aws:iam/rolePolicy:RolePolicy"))
    assert policy["ReadSourceStream"][1] == [expected_stream]
    assert policy["AssumeWriterRole"] == (["sts:AssumeRole"], [WRITER_ARN])
    assert "DecryptSourceStream" not in policy
    # five per consumer, the replicator's batch-refused-alike alarm, plus the shared-read
    # throttling alarm (consumer mode shared)
    assert len(stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")) == 7


def test_source_by_arn_with_a_customer_key_and_every_function_option() -> None:
    stream = f"arn:aws:kinesis:{REGION}:{SOURCE}:stream/clicks"
    key = f"arn:aws:kms:{REGION}:{SOURCE}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    stack = source(
        source_stream_name=None,
        source_stream_arn=stream,
        source_stream_kms_key_arn=key,
        external_id="xyz",
        session_name="replica-session",
        function=FunctionSettings(
            name="replicator",
            role_name="rep",
            runtime="python3.12",
            architecture="x86_64",
            memory_size=1024,
            timeout=60,
            reserved_concurrency=5,
            log_retention_days=7,
            log_level="WARNING",
            powertools_layer_arn=f"arn:aws:lambda:{REGION}:{SOURCE}:layer:pt:1",
            extra_layers=[f"arn:aws:lambda:{REGION}:{SOURCE}:layer:extra:2"],
        ),
    )
    function = stack.one("aws:lambda/function:Function").inputs
    assert function["runtime"] == "python3.12"
    assert function["architectures"] == ["x86_64"]
    assert (function["memorySize"], function["timeout"]) == (1024, 60)
    assert function["reservedConcurrentExecutions"] == 5
    assert function["layers"] == [
        f"arn:aws:lambda:{REGION}:{SOURCE}:layer:pt:1",
        f"arn:aws:lambda:{REGION}:{SOURCE}:layer:extra:2",
    ]
    assert function["loggingConfig"]["applicationLogLevel"] == "WARN"
    env = function["environment"]["variables"]
    assert env["WRITER_EXTERNAL_ID"] == "xyz"
    assert env["WRITER_ROLE_SESSION_NAME"] == "replica-session"
    assert env["POWERTOOLS_LOG_LEVEL"] == "WARNING"
    assert (
        stack.one("aws:lambda/eventSourceMapping:EventSourceMapping").inputs["eventSourceArn"]
        == stream
    )
    statement = next(
        s
        for s in stack.one("aws:iam/rolePolicy:RolePolicy").document()["Statement"]
        if s["Sid"] == "DecryptSourceStream"
    )
    assert statement["Action"] == ["kms:Decrypt"]
    assert statement["Resource"] == [key]
    assert statement["Condition"] == {
        "StringEquals": {"kms:ViaService": f"kinesis.{REGION}.amazonaws.com"}
    }
    assert stack.one("aws:cloudwatch/logGroup:LogGroup").inputs["retentionInDays"] == 7


def test_source_creates_the_stream() -> None:
    stack = source(create_source_stream=True, source_stream_name="fresh")
    stream = stack.one("aws:kinesis/stream:Stream")
    assert stream.inputs["name"] == "fresh"
    assert stream.inputs["encryptionType"] == "KMS"
    policy = grants(stack.one("aws:iam/rolePolicy:RolePolicy"))
    assert policy["ReadSourceStream"][1] == [stream.state["arn"]]


def test_source_resource_policy_mode() -> None:
    stack = source(access_mode="resource-policy", writer_role_arn=None)
    policy = grants(stack.one("aws:iam/rolePolicy:RolePolicy"))
    assert policy["WriteReplicaTable"] == (
        ["dynamodb:BatchWriteItem", "dynamodb:DescribeTable"],
        [TABLE_ARN],
    )
    assert "AssumeWriterRole" not in policy
    env = stack.one("aws:lambda/function:Function").inputs["environment"]["variables"]
    assert env["ACCESS_MODE"] == "resource-policy"
    assert "WRITER_ROLE_ARN" not in env


def test_source_without_alarms() -> None:
    from stream_replica.components import AlarmSettings

    stack = source(alarms=AlarmSettings(enabled=False))
    assert not stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")


def test_source_alarm_actions_go_to_the_topic() -> None:
    from stream_replica.components import AlarmSettings

    topic = f"arn:aws:sns:{REGION}:{SOURCE}:oncall"
    stack = source(alarms=AlarmSettings(topic_arn=topic))
    for alarm in stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm"):
        assert alarm.inputs["alarmActions"] == [topic]
        assert alarm.inputs["okActions"] == [topic]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"writer_role_arn": None}, "writer_role_arn is required"),
        ({"function": FunctionSettings(role_name="bad name!")}, "function.role_name must match"),
        ({"create_source_stream": True, "source_stream_arn": "arn:x"}, "create_source_stream"),
        ({"function": FunctionSettings(role_name="r", runtime="python3.9")}, "runtime"),
        ({"account_id": "abc"}, "account_id must be a 12-digit"),
    ],
)
def test_source_rejects_settings_that_cannot_work(kwargs: dict[str, Any], message: str) -> None:
    values: dict[str, Any] = {
        "account_id": SOURCE,
        "region": REGION,
        "table_name": "replica",
        "table_arn": TABLE_ARN,
        "writer_role_arn": WRITER_ARN,
        "source_stream_name": "clicks",
        **kwargs,
    }
    with pytest.raises(ValueError, match=message):
        ReplicaSourceArgs(**values).validate()


# --- StreamToS3Archiver ---------------------------------------------------------------------


def test_archiver_defaults_create_a_locked_down_bucket() -> None:
    stack = archiver()
    bucket = stack.one("aws:s3/bucket:Bucket")
    assert bucket.inputs["bucket"] == f"a-{TARGET}-{REGION}"  # from the component's name
    assert bucket.inputs["forceDestroy"] is False
    assert stack.one("aws:s3/bucketVersioning:BucketVersioning").inputs[
        "versioningConfiguration"
    ] == {"status": "Enabled"}
    delivery = stack.one("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
    s3 = delivery.inputs["extendedS3Configuration"]
    assert "kmsKeyArn" not in s3
    assert s3["compressionFormat"] == "UNCOMPRESSED"
    # Firehose waits for the bucket's settings (policy, encryption...) before delivering.
    for setting in (
        "aws:s3/bucketPolicy:BucketPolicy",
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
    ):
        assert delivery.depends_on(stack.one(setting))
    function = stack.one("aws:lambda/function:Function")
    assert function.inputs["timeout"] == 300
    assert function.inputs["environment"]["variables"]["ARCHIVE_REMOVES"] == "false"
    assert (
        stack.one("aws:lambda/eventSourceMapping:EventSourceMapping").inputs["eventSourceArn"]
        == STREAM_ARN
    )
    assert len(stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")) == 7


def test_archiver_into_an_existing_bucket_creates_no_bucket_resources() -> None:
    stack = archiver(existing_bucket_name="company-archive")
    assert not [r for r in stack.resources if r.type.startswith("aws:s3/")]
    assert stack.outputs == {
        "bucket_name": "company-archive",
        "bucket_arn": "arn:aws:s3:::company-archive",
    }
    policy = grants(
        next(
            r
            for r in stack.of_type("aws:iam/rolePolicy:RolePolicy")
            if r.name == "a-firehose-policy"
        )
    )
    assert policy["ListArchiveBucket"][1] == ["arn:aws:s3:::company-archive"]
    assert policy["WriteArchiveObjects"][1] == [
        "arn:aws:s3:::company-archive/data/*",
        "arn:aws:s3:::company-archive/errors/*",
    ]


def test_archiver_every_option() -> None:
    key = f"arn:aws:kms:{REGION}:{TARGET}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    stack = archiver(
        bucket_name="my-archive",
        bucket_kms_key_arn=key,
        compression="GZIP",
        buffering_size_mb=64,
        buffering_interval_seconds=60,
        prefix="clicks/",
        error_prefix="failed/",
        delivery_stream_name="clicks-to-s3",
        archive_removes=True,
        protect=False,
        lifecycle_rules=[LifecycleRule(id="expire", expiration_days=365)],
    )
    bucket = stack.one("aws:s3/bucket:Bucket")
    assert bucket.inputs["bucket"] == "my-archive"
    assert not bucket.protect
    (rule,) = stack.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    ).inputs["rules"]
    assert rule == {
        "applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": key},
        "bucketKeyEnabled": True,
    }
    (lifecycle,) = stack.one(
        "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
    ).inputs["rules"]
    assert lifecycle["expiration"] == {"days": 365}
    delivery = stack.one("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream").inputs
    s3 = delivery["extendedS3Configuration"]
    assert delivery["name"] == "clicks-to-s3"
    assert (s3["compressionFormat"], s3["bufferingSize"], s3["bufferingInterval"]) == (
        "GZIP",
        64,
        60,
    )
    assert s3["kmsKeyArn"] == key
    assert s3["prefix"].startswith("clicks/year=")
    assert s3["errorOutputPrefix"].startswith("failed/!{firehose:error-output-type}/")
    firehose_policy = next(
        r for r in stack.of_type("aws:iam/rolePolicy:RolePolicy") if r.name == "a-firehose-policy"
    )
    kms = next(
        s for s in firehose_policy.document()["Statement"] if s["Sid"] == "EncryptArchiveObjects"
    )
    assert kms["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert kms["Resource"] == [key]
    assert kms["Condition"]["StringEquals"] == {"kms:ViaService": f"s3.{REGION}.amazonaws.com"}
    env = stack.one("aws:lambda/function:Function").inputs["environment"]["variables"]
    assert env["ARCHIVE_REMOVES"] == "true"
    assert env["DELIVERY_STREAM_NAME"] == "clicks-to-s3"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"compression": "ZSTD"}, "compression"),
        ({"bucket_name": "a", "existing_bucket_name": "b"}, "not both"),
        ({"prefix": "no-slash"}, "prefix must be a folder"),
        ({"prefix": "errors/data/", "error_prefix": "errors/"}, "must not lie under"),
        ({"buffering_size_mb": 0}, "buffering_size_mb"),
    ],
)
def test_archiver_rejects_settings_that_cannot_work(kwargs: dict[str, Any], message: str) -> None:
    args = StreamToS3ArchiverArgs(
        table_stream_arn=STREAM_ARN, account_id=TARGET, region=REGION, **kwargs
    )
    with pytest.raises(ValueError, match=message):
        args.validate()


# --- CrossAccountStreamReplica: one program, two providers -------------------------------


def test_whole_replica_puts_each_half_on_its_own_provider() -> None:
    def build() -> dict[str, Any]:
        source_provider = aws.Provider(
            "source-account", region=REGION, allowed_account_ids=[SOURCE]
        )
        target_provider = aws.Provider(
            "target-account", region="eu-central-1", allowed_account_ids=[TARGET]
        )
        replica = CrossAccountStreamReplica(
            "replica",
            CrossAccountStreamReplicaArgs(
                source=ReplicaSourceArgs(
                    account_id=SOURCE,
                    region=REGION,
                    external_id="xyz",
                    source_stream_name="clicks",
                    function=FunctionSettings(role_name="replicator"),
                ),
                target=ReplicaTargetArgs(source_account_id="000000000000"),
                source_provider=source_provider,
                target_provider=target_provider,
                target_region="eu-central-1",
            ),
        )
        return {
            "table_arn": replica.table_arn,
            "writer_role_arn": replica.writer_role_arn,
            "replicator_role_arn": replica.replicator_role_arn,
        }

    stack = run_components(build)
    target_half = stack.descendants_of("replica-target")
    source_half = stack.descendants_of("replica-source")
    assert {r.type for r in target_half} >= {"aws:dynamodb/table:Table", "aws:iam/role:Role"}
    assert "aws:lambda/function:Function" in {r.type for r in source_half}
    assert all(r.provider_name == "target-account" for r in target_half)
    assert all(r.provider_name == "source-account" for r in source_half)

    # ARNs land in each provider's account: the halves really are in two accounts.
    assert stack.outputs["table_arn"].startswith(f"arn:aws:dynamodb:eu-central-1:{TARGET}:")
    assert stack.outputs["writer_role_arn"].startswith(f"arn:aws:iam::{TARGET}:role/")
    assert stack.outputs["replicator_role_arn"] == f"arn:aws:iam::{SOURCE}:role/replicator"

    # The target trusts the source half's role (the source args win over the target's).
    writer = next(r for r in target_half if r.type == "aws:iam/role:Role")
    (trust,) = writer.document("assumeRolePolicy")["Statement"]
    assert trust["Principal"] == {"AWS": f"arn:aws:iam::{SOURCE}:root"}
    assert trust["Condition"] == {
        "ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{SOURCE}:role/replicator"},
        "StringEquals": {"sts:ExternalId": "xyz"},
    }
    # The source writes through the target's writer role to the target's table.
    function = next(r for r in source_half if r.type == "aws:lambda/function:Function")
    env = function.inputs["environment"]["variables"]
    assert env["WRITER_ROLE_ARN"] == stack.outputs["writer_role_arn"]
    assert env["TABLE_ARN"] == stack.outputs["table_arn"]
    assert env["TARGET_REGION"] == "eu-central-1"
    assert env["WRITER_EXTERNAL_ID"] == "xyz"
    policy = next(r for r in source_half if r.type == "aws:iam/rolePolicy:RolePolicy")
    assert grants(policy)["AssumeWriterRole"] == (
        ["sts:AssumeRole"],
        [stack.outputs["writer_role_arn"]],
    )


def test_components_register_under_their_type_tokens() -> None:
    def build() -> None:
        provider = aws.Provider("p", region=REGION, allowed_account_ids=[SOURCE])
        ReplicaTarget(
            "t",
            ReplicaTargetArgs(source_account_id=TARGET, replicator_role_name=REPLICATOR_ROLE),
            opts=pulumi.ResourceOptions(provider=provider),
        )

    stack = run_components(build)
    component = stack.one("stream-replica:index:ReplicaTarget")
    assert not component.custom
    children = stack.children_of("t")
    assert children and all(child.name.startswith("t-") for child in children)
    assert all(child.provider_name == "p" for child in children)
    assert json.loads(stack.one("pulumi:providers:aws").inputs["allowedAccountIds"]) == [SOURCE]


def test_whole_replica_derives_one_replicator_role_name_for_both_halves() -> None:
    def build() -> dict[str, Any]:
        replica = CrossAccountStreamReplica(
            "orders",
            CrossAccountStreamReplicaArgs(
                source=ReplicaSourceArgs(
                    account_id=SOURCE, region=REGION, source_stream_name="orders"
                ),
                target=ReplicaTargetArgs(source_account_id=SOURCE),
            ),
        )
        return {"replicator_role_arn": replica.replicator_role_arn}

    stack = run_components(build)
    expected = f"arn:aws:iam::{SOURCE}:role/orders-replicator"
    role = stack.one("aws:iam/role:Role", "orders-source-role")
    assert role.inputs["name"] == "orders-replicator"
    writer = stack.one("aws:iam/role:Role", "orders-target-writer-role")
    (trust,) = writer.document("assumeRolePolicy")["Statement"]
    assert trust["Condition"]["ArnEquals"]["aws:PrincipalArn"] == expected
