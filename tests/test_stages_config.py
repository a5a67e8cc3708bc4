"""Issue 11 on the Pulumi side: the transform file bundled into each function's asset, the
redaction settings as the replicator's environment, exactly ``ssm:GetParameter`` on the key
parameter (and ``kms:Decrypt`` only with a customer key), and the preview refusals with the
config key and stack file named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from stream_replica.components import ReplicaSourceArgs, StackConfigError, StreamToS3ArchiverArgs

from tests.stack_runs import run_stack
from tests.test_components import REGION, SOURCE, STREAM_ARN, TARGET, archiver, grants, source

EXAMPLE = "examples/transform_day.py"
KEY_PARAMETER = "/analytics/pseudonymization-key"
KEY_ARN = f"arn:aws:ssm:{REGION}:{SOURCE}:parameter/analytics/pseudonymization-key"
CMK = f"arn:aws:kms:{REGION}:{SOURCE}:key/11111111-2222-3333-4444-555555555555"
REPO = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _in_repo(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(REPO)  # transform paths are relative to the program's directory


def variables(stack: Any) -> dict[str, str]:
    return stack.one("aws:lambda/function:Function").inputs["environment"]["variables"]


def code_files(stack: Any) -> dict[str, Any]:
    return stack.one("aws:lambda/function:Function").inputs["code"]["assets"]


def test_source_with_a_transform_and_redaction() -> None:
    stack = source(
        transform_module=EXAMPLE,
        drop_fields=["ipAddress", "device.id"],
        pseudonymize_fields=["userEmail"],
        pseudonymization_key_parameter=KEY_PARAMETER,
        pseudonymization_key_kms_key_arn=CMK,
    )
    env = variables(stack)
    assert env["TRANSFORM_MODULE"] == "transform/transform_day.py"
    assert json.loads(env["DROP_FIELDS"]) == ["ipAddress", "device.id"]
    assert json.loads(env["PSEUDONYMIZE_FIELDS"]) == ["userEmail"]
    assert env["PSEUDONYMIZATION_KEY_PARAMETER"] == KEY_PARAMETER
    files = code_files(stack)
    assert files["transform/transform_day.py"]["path"] == str(REPO / EXAMPLE)
    assert "handlers/replicator.py" in files

    policy = stack.one("aws:iam/rolePolicy:RolePolicy").document("policy")
    statements = {s["Sid"]: s for s in policy["Statement"]}
    assert statements["ReadPseudonymizationKey"]["Action"] == ["ssm:GetParameter"]
    assert statements["ReadPseudonymizationKey"]["Resource"] == [KEY_ARN]
    decrypt = statements["DecryptPseudonymizationKey"]
    assert decrypt["Action"] == ["kms:Decrypt"]
    assert decrypt["Resource"] == [CMK]
    assert decrypt["Condition"] == {
        "StringEquals": {"kms:ViaService": f"ssm.{REGION}.amazonaws.com"}
    }


def test_source_without_redaction_gets_no_ssm_or_kms_grant_and_no_transform() -> None:
    stack = source()
    policy = grants(stack.one("aws:iam/rolePolicy:RolePolicy"))
    assert "ReadPseudonymizationKey" not in policy
    assert "DecryptPseudonymizationKey" not in policy
    env = variables(stack)
    assert not {"TRANSFORM_MODULE", "DROP_FIELDS", "PSEUDONYMIZE_FIELDS"} & set(env)
    assert not [name for name in code_files(stack) if name.startswith("transform/")]


def test_the_aws_managed_ssm_key_needs_no_kms_grant() -> None:
    stack = source(pseudonymize_fields=["userEmail"], pseudonymization_key_parameter=KEY_ARN)
    policy = grants(stack.one("aws:iam/rolePolicy:RolePolicy"))
    assert policy["ReadPseudonymizationKey"] == (["ssm:GetParameter"], [KEY_ARN])
    assert "DecryptPseudonymizationKey" not in policy


def test_archiver_with_a_transform() -> None:
    stack = archiver(archive_transform_module=EXAMPLE)
    assert variables(stack)["TRANSFORM_MODULE"] == "transform/transform_day.py"
    assert "transform/transform_day.py" in code_files(stack)


SOURCE_BASE: dict[str, Any] = {
    "account_id": SOURCE,
    "region": REGION,
    "table_name": "replica",
    "table_arn": f"arn:aws:dynamodb:{REGION}:{TARGET}:table/replica",
    "writer_role_arn": f"arn:aws:iam::{TARGET}:role/writer",
    "source_stream_name": "clicks",
}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"pseudonymize_fields": ["userEmail"]}, "pseudonymization_key_parameter is required"),
        ({"drop_fields": ["device..id"]}, "drop_fields 'device..id' is not attribute names"),
        ({"drop_fields": "ipAddress"}, "drop_fields must be a list of strings"),
        ({"pseudonymize_fields": ["sequenceNumber"]}, "a key attribute the replicator adds"),
        ({"pseudonymization_key_parameter": "bad name!"}, "must be an SSM parameter name"),
        ({"pseudonymization_key_kms_key_arn": CMK}, "needs pseudonymization_key_parameter"),
        ({"transform_module": "examples/missing.py"}, "transform_module 'examples/missing.py' is"),
        ({"transform_module": "README.md"}, "must be a Python file"),
    ],
)
def test_source_refuses_redaction_settings_that_cannot_work(kwargs: dict[str, Any], message: str):
    with pytest.raises(ValueError, match=message):
        ReplicaSourceArgs(**SOURCE_BASE, **kwargs).validate()


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"prefix": "data/!{timestamp:yyyy}/"}, None),
        ({"prefix": "data/!{firehose:random-string}/"}, None),
        ({"prefix": "data/!{hive:year}/"}, "Firehose accepts only the namespaces"),
        ({"prefix": "data/!{partitionKeyFromQuery:customer}/"}, "dynamic partitioning"),
        ({"prefix": "data/!{partitionKeyFromLambda:k}/"}, "dynamic partitioning"),
        ({"prefix": "data/!{firehose:error-output-type}/"}, "only in the error prefix"),
        ({"error_prefix": "errors/!{firehose:error-output-type}/"}, "appends it already"),
        ({"prefix": "data/!{firehose:shard}/"}, "takes error-output-type or random-string"),
        ({"prefix": "data/!{timestamp:yyyy/"}, "not '!{namespace:value}'"),
        ({"prefix": "data/!{timestamp:}/"}, "empty value"),
        ({"prefix": "d" * 1000 + "/"}, "exceed Firehose's 1024"),
        ({"archive_transform_module": "nowhere.py"}, "archive_transform_module 'nowhere.py'"),
    ],
)
def test_archiver_refuses_prefixes_firehose_rejects(kwargs: dict[str, Any], message: str | None):
    args = StreamToS3ArchiverArgs(
        table_stream_arn=STREAM_ARN, account_id=TARGET, region=REGION, **kwargs
    )
    if message is None:
        args.validate()
    else:
        with pytest.raises(ValueError, match=message.replace("{", r"\{").replace("(", r"\(")):
            args.validate()


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (
            {"gsiName": "byShard", "gsiHashKey": "shardId", "gsiHashKeyType": "N"},
            "gsiHashKey: declares 'shardId' as N, but it is S (the replicator always "
            "writes it as S)",
        ),
        (
            {"gsiName": "bySub", "gsiHashKey": "subSequenceNumber", "gsiHashKeyType": "S"},
            "declares 'subSequenceNumber' as S, but it is N (the replicator always writes it as N)",
        ),
        (
            {
                "gsiName": "bySeq",
                "gsiHashKey": "userId",
                "gsiRangeKey": "sequenceNumber",
                "gsiRangeKeyType": "N",
            },
            "gsiRangeKey: declares 'sequenceNumber' as N, but it is S (a key attribute",
        ),
    ],
)
def test_indexes_on_attributes_the_replicator_writes_keep_their_type(
    overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(StackConfigError) as raised:
        run_stack("poc", overrides)
    assert str(raised.value).startswith("Pulumi.poc.yaml: "), raised.value
    assert message in str(raised.value), raised.value


@pytest.mark.parametrize(
    ("stack", "overrides", "message"),
    [
        (
            "prod",
            {"pseudonymizeFields": ["userEmail"], "pseudonymizationKeyParameter": ""},
            "pseudonymizationKeyParameter: is required when pseudonymizeFields is set",
        ),
        ("prod", {"dropFields": ["a..b"]}, "dropFields: 'a..b' is not attribute names"),
        ("prod", {"transformModule": "nowhere.py"}, "transformModule: 'nowhere.py' is not a file"),
        (
            "prod",
            {"pseudonymizationKeyKmsKeyArn": "key-1"},
            "pseudonymizationKeyKmsKeyArn: must be an ARN of the kms service",
        ),
        (
            "poc",
            {"archiveTransformModule": "nowhere.py"},
            "archiveTransformModule: 'nowhere.py' is not a file",
        ),
        (
            "poc",
            {"s3Prefix": "data/!{partitionKeyFromQuery:c}/"},
            "s3Prefix: uses !{partitionKeyFromQuery:c}, which needs Firehose dynamic partitioning",
        ),
        (
            "poc",
            {"s3ErrorPrefix": "err/!{firehose:error-output-type}/"},
            "s3ErrorPrefix: uses !{firehose:error-output-type}: the component appends it already",
        ),
    ],
)
def test_bad_values_name_the_stack_file_and_key(
    stack: str, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(StackConfigError) as raised:
        run_stack(stack, overrides)
    text = str(raised.value)
    assert text.startswith(f"Pulumi.{stack}.yaml: "), text
    assert message in text, text
