"""The sandbox's mocks deploy the real program into moto: each resource in its stack's account,
with the settings the program asked for, readable back through the AWS APIs."""

from __future__ import annotations

import json

import pytest

from sandbox.deploy import deploy_stacks
from sandbox.emulator import Emulator
from sandbox.plan import DemoOptions, StackPlan

PROD, POC = "111111111111", "999999999999"


@pytest.fixture(scope="module")
def deployed():
    # The program creates the source stream here, so the stream creator is exercised too.
    options = DemoOptions(
        progress=False, config_overrides={"createSourceStream": True, "sourceStreamShardCount": 3}
    )
    plan = StackPlan.load(options)
    with Emulator(plan.prod_region) as emulator:
        poc, prod = deploy_stacks(emulator, plan, options)
        yield emulator, poc, prod


def test_accounts_come_from_the_stack_files(deployed) -> None:
    _, poc, prod = deployed
    assert (poc.account_id, prod.account_id) == (POC, PROD)
    assert {f.name: f.account_id for f in poc.functions.values()} == {
        "PocLambdaFirehose": POC,
        poc.outputs["queryWriterFunctionName"]: POC,
    }
    assert {f.name: f.account_id for f in prod.functions.values()} == {
        "ProdKinesisToPocDynamo": PROD
    }


def test_each_resource_lives_in_its_stacks_account(deployed) -> None:
    emulator, poc, _ = deployed
    table = emulator.client("dynamodb", POC).describe_table(TableName=poc.outputs["tableName"])
    assert table["Table"]["TableArn"] == poc.outputs["tableArn"]
    assert table["Table"]["StreamSpecification"]["StreamEnabled"] is True
    assert emulator.client("dynamodb", PROD).list_tables()["TableNames"] == []
    stream = emulator.client("kinesis", PROD).describe_stream_summary(StreamName="web-analytics")
    assert stream["StreamDescriptionSummary"]["OpenShardCount"] == 3
    assert emulator.client("kinesis", POC).list_streams()["StreamNames"] == []
    buckets = [b["Name"] for b in emulator.client("s3", POC).list_buckets()["Buckets"]]
    assert buckets == [poc.outputs["bucketName"]]
    query_table = poc.outputs["queryTableName"]
    assert query_table in emulator.client("dynamodb", POC).list_tables()["TableNames"]
    glue = emulator.client("glue", POC).get_table(DatabaseName="archive_catalog", Name="events")
    assert glue["Table"]["StorageDescriptor"]["Location"] == (
        f"s3://{poc.outputs['bucketName']}/prod-kinesis-data/"
    )


def test_stack_reference_carries_the_poc_outputs_into_prod(deployed) -> None:
    emulator, poc, prod = deployed
    assert prod.outputs["tableArn"] == poc.outputs["tableArn"]
    assert prod.outputs["writerRoleArn"] == poc.outputs["writerRoleArn"]
    (function,) = prod.functions.values()
    config = emulator.client("lambda", PROD).get_function_configuration(FunctionName=function.name)
    env = config["Environment"]["Variables"]
    assert env["WRITER_ROLE_ARN"] == poc.outputs["writerRoleArn"]
    assert env["TABLE_NAME"] == poc.outputs["tableName"]
    # The writer role really exists in the POC account, with the trust the program rendered.
    role = emulator.client("iam", POC).get_role(RoleName=poc.outputs["writerRoleName"])["Role"]
    trust = role["AssumeRolePolicyDocument"]
    trust = json.loads(trust) if isinstance(trust, str) else trust
    assert trust["Statement"][0]["Principal"] == {"AWS": f"arn:aws:iam::{PROD}:root"}


def test_mapping_settings_are_readable_back_from_the_emulator(deployed) -> None:
    emulator, _, prod = deployed
    ((account, region, uuid),) = prod.mappings
    mapping = emulator.client("lambda", account, region).get_event_source_mapping(UUID=uuid)
    assert mapping["BatchSize"] == 300
    assert mapping["StartingPosition"] == "TRIM_HORIZON"
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BisectBatchOnFunctionError"] is True
    assert mapping["MaximumRetryAttempts"] == 10
    assert mapping["DestinationConfig"]["OnFailure"]["Destination"].startswith(
        f"arn:aws:sqs:eu-west-1:{PROD}:"
    )


def test_provider_default_tags_reach_the_resources(deployed) -> None:
    """Tags travel through each explicit provider's defaultTags, which the mocks apply."""
    emulator, poc, _ = deployed
    ddb = emulator.client("dynamodb", POC)
    tags = {
        t["Key"]: t["Value"]
        for t in ddb.list_tags_of_resource(ResourceArn=poc.outputs["tableArn"])["Tags"]
    }
    assert tags.get("owner") == "analytics"  # from the stack file's `tags`
    assert len(tags) > 1
