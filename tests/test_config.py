"""Config: the schema in Pulumi.yaml, the stack files against it, and each bad value's error.

Errors must come before any resource is created (as ``pulumi preview`` would show them) and name
the stack file and the key, so a user knows what to fix where.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml
from stream_replica.components import StackConfigError
from stream_replica.testing import RenderedStack

from stack_config.keys import STAGE_KEYS
from stack_config.references import (
    ACCOUNT_KEYS,
    AGREEMENTS,
    agreements,
    external_id_digest,
)
from stack_config.schema import key_side, load_schema
from tests.stack_runs import run_stack

REPO = Path(__file__).resolve().parent.parent
PROJECT = "kinesis-crossaccount-replica"
REQUIRED = {"prodAccountId", "pocAccountId"}
POC_REFERENCE = "organization/kinesis-crossaccount-replica/poc"
POC_OUTPUTS: dict[str, Any] = {
    "accessMode": "assume-role",
    "tableName": "t",
    "tableArn": "arn:aws:dynamodb:eu-west-1:999999999999:table/t",
    "tableRegion": "eu-west-1",
    "writerRoleArn": "arn:aws:iam::999999999999:role/w",
    "replicatorRoleArn": "arn:aws:iam::111111111111:role/ProdKinesisToPocDynamo-role",
    "externalIdSha256": external_id_digest(None),
    "ttlDays": 0,
    "ttlAttribute": "expiresAt",
}
TYPES = {"string": str, "integer": int, "boolean": bool, "array": list}


def load(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as handle:
        data = yaml.safe_load(handle)
    assert isinstance(data, dict)
    return data


#: The prod stack as the poc stack sees it in source placement: not deployed yet (no outputs).
PROD_REFERENCE = "organization/kinesis-crossaccount-replica/prod"


def run(stack: str, overrides: dict[str, object]) -> RenderedStack:
    return run_stack(
        stack, overrides, stack_outputs={POC_REFERENCE: POC_OUTPUTS, PROD_REFERENCE: {}}
    )


# --- the schema and the stack files ---------------------------------------------------------


def test_project_runtime_and_name() -> None:
    project = load(REPO / "Pulumi.yaml")
    assert project["name"] == PROJECT
    assert project["runtime"] == {
        "name": "python",
        "options": {"toolchain": "pip", "virtualenv": "venv"},
    }


def test_every_project_key_is_typed_described_and_defaulted() -> None:
    _, schema = load_schema()
    assert len(schema) > 40
    for key, spec in schema.items():
        assert spec.get("type") in TYPES, key
        assert isinstance(spec.get("description"), str) and len(spec["description"]) > 10, key
        if key in REQUIRED:
            assert "default" not in spec, key
            continue
        assert "default" in spec, key
        assert isinstance(spec["default"], TYPES[spec["type"]]), key


@pytest.mark.parametrize(("stack", "account"), [("poc", "999999999999"), ("prod", "111111111111")])
def test_stack_files_use_declared_keys_with_declared_types(stack: str, account: str) -> None:
    _, schema = load_schema()
    config = load(REPO / f"Pulumi.{stack}.yaml")["config"]
    assert config["aws:region"] == "eu-west-1"
    assert config["aws:allowedAccountIds"] == [account]
    for full, value in config.items():
        namespace, key = full.split(":", 1)
        if namespace == "aws":
            continue
        assert namespace == PROJECT, full
        assert key in schema, f"{full} is not declared in Pulumi.yaml"
        assert isinstance(value, TYPES[schema[key]["type"]]), full
    assert {full.split(":", 1)[1] for full in config} >= REQUIRED


def test_stack_files_carry_the_seed_setup() -> None:
    poc = load(REPO / "Pulumi.poc.yaml")["config"]
    prod = load(REPO / "Pulumi.prod.yaml")["config"]

    def value(config: dict[str, Any], key: str) -> Any:
        return config[f"{PROJECT}:{key}"]

    assert value(poc, "tableName") == "prod-raven-lambda-webanalytics-crossaccount"
    assert value(poc, "writerRoleName") == "DynamoDB-ProdAnalyticsWrite-role"
    assert value(poc, "archiverFunctionName") == "PocLambdaFirehose"
    assert value(poc, "deliveryStreamName") == "prod-s3-firehose"
    assert (value(poc, "bufferingSizeMb"), value(poc, "bufferingIntervalSeconds")) == (5, 300)
    assert value(poc, "deletionProtection") is True
    assert value(prod, "replicatorFunctionName") == "ProdKinesisToPocDynamo"
    assert value(prod, "sourceStreamName") == "web-analytics"
    assert value(prod, "pocStackReference") == POC_REFERENCE
    assert (value(prod, "batchSize"), value(prod, "replicatorTimeout")) == (300, 120)
    assert value(poc, "archiverTimeout") == 300
    # The keys both stacks must agree on, agree.
    for key in ("prodAccountId", "pocAccountId", "accessMode", "replicatorRoleName"):
        assert value(poc, key) == value(prod, key), key


def test_schema_defaults_apply_when_the_stack_file_leaves_a_key_out() -> None:
    stack = run_stack("poc", {"writerRoleName": None, "archiverTimeout": None})
    writer = stack.one("aws:iam/role:Role", "replica-target-writer-role")
    assert "name" not in writer.inputs  # schema default "" = autonamed
    function = stack.one("aws:lambda/function:Function", "archiver-function")
    assert function.inputs["timeout"] == 300  # schema default


# --- each bad value, its error --------------------------------------------------------------

BAD_VALUES: list[tuple[str, dict[str, object], str]] = [
    ("poc", {"prodAccountId": "12345"}, "prodAccountId: must be a 12-digit AWS account id"),
    ("prod", {"pocAccountId": "99999999999x"}, "pocAccountId: must be a 12-digit"),
    ("poc", {"prodAccountId": None}, "prodAccountId: is required"),
    ("poc", {"pocAccountId": "111111111111"}, "pocAccountId: must differ from prodAccountId"),
    ("prod", {"accessMode": "sideways"}, "accessMode: must be one of assume-role, resource-poli"),
    ("prod", {"batchSize": 0}, "batchSize: must be 1..10000, got 0"),
    ("poc", {"queryTableHashAttribute": ""}, "queryTableHashAttribute: is required when"),
    ("poc", {"queryTableHashType": "B"}, "queryTableHashType: must be one of S, N, got 'B'"),
    ("poc", {"glueColumns": ["userEmail"]}, "glueColumns: 'userEmail' is not 'name:hive type'"),
    ("poc", {"glueTableName": "Events"}, "glueTableName: must be 1..255 lower case letters"),
    ("poc", {"glueColumns": ["year:string"]}, "glueColumns: 'year' is a partition key"),
    ("poc", {"batchSize": 10001}, "batchSize: must be 1..10000, got 10001"),
    ("prod", {"batchSize": "many"}, "batchSize: must be an integer, got 'many'"),
    ("prod", {"createSourceStream": "yes"}, "createSourceStream: must be true or false"),
    ("prod", {"startingPosition": "AT_TIMESTAMP"}, "startingPosition: must be one of"),
    ("prod", {"maximumRecordAgeSeconds": 10}, "maximumRecordAgeSeconds: must be 60..604800"),
    ("prod", {"parallelizationFactor": 11}, "parallelizationFactor: must be 1..10"),
    ("poc", {"runtime": "python3.9"}, "runtime: must be one of python3.12"),
    ("poc", {"architecture": "arm"}, "architecture: must be one of arm64, x86_64"),
    ("poc", {"logRetentionDays": 31}, "logRetentionDays: must be one of 1, 3, 5, 7, 14, 30"),
    ("prod", {"replicatorTimeout": 901}, "replicatorTimeout: must be 1..900"),
    ("poc", {"replicatorTimeout": "slow"}, "replicatorTimeout: must be an integer"),
    ("prod", {"replicatorMemorySize": 64}, "replicatorMemorySize: must be 128..10240"),
    ("poc", {"aws:region": None}, "aws:region: is required"),
    ("poc", {"aws:region": "europe"}, "aws:region: is not an AWS region"),
    ("poc", {"aws:allowedAccountIds": None}, "aws:allowedAccountIds: is required"),
    (
        "prod",
        {"aws:allowedAccountIds": ["222222222222"]},
        "aws:allowedAccountIds: must contain the prod account 111111111111",
    ),
    ("poc", {"side": "prod"}, "aws:allowedAccountIds: must contain the prod account"),
    ("poc", {"side": "staging"}, "side: must be poc or prod"),
    ("poc", {"acessMode": "assume-role"}, "acessMode: not a config key of this project"),
    ("poc", {"tags": ["owner"]}, "tags: entries are Key=Value strings"),
    ("poc", {"tags": "owner=x"}, "tags: must be a list"),
    (
        "poc",
        {"alarmTopicArn": "arn:aws:sqs:eu-west-1:999999999999:q"},
        "alarmTopicArn: must be an ARN of the sns service",
    ),
    (
        "poc",
        {"accessMode": "resource-policy", "tableEncryption": "AWS_MANAGED"},
        "tableEncryption: can't be AWS_MANAGED with accessMode resource-policy",
    ),
    ("poc", {"tableEncryption": "CUSTOMER"}, "tableEncryption: must be one of"),
    ("poc", {"billingMode": "FREE"}, "billingMode: must be one of"),
    ("poc", {"gsiHashKey": ""}, "gsiHashKey: is required when gsiName is set"),
    ("poc", {"gsiHashKeyType": "X"}, "gsiHashKeyType: must be one of S, N, B"),
    ("poc", {"s3Prefix": "/data"}, "s3Prefix: must be a folder"),
    ("poc", {"compression": "ZSTD"}, "compression: must be one of UNCOMPRESSED, GZIP"),
    ("poc", {"bufferingSizeMb": 129}, "bufferingSizeMb: must be 1..128"),
    (
        "poc",
        {"bucketName": "a", "existingBucketName": "b"},
        "existingBucketName: can't be given with bucketName",
    ),
    (
        "poc",
        {"archiveTransitionDays": 30, "archiveExpirationDays": 10},
        "archiveExpirationDays: must be later than archiveTransitionDays",
    ),
    ("prod", {"pocStackReference": "poc"}, "pocStackReference: must be <organization>/"),
    ("prod", {"pocStackReference": ""}, "tableName: is required on prod"),
    (
        "prod",
        {"pocStackReference": "", "tableName": "t", "tableArn": "arn:aws:sqs:eu-west-1:1:x"},
        "tableArn: must be an ARN of the dynamodb service",
    ),
    (
        "prod",
        {
            "pocStackReference": "",
            "tableName": "t",
            "tableArn": "arn:aws:dynamodb:eu-west-1:222222222222:table/t",
        },
        "tableArn: is not in the POC account 999999999999",
    ),
    (
        "prod",
        {
            "pocStackReference": "",
            "tableName": "t",
            "tableArn": "arn:aws:dynamodb:eu-west-1:999999999999:table/t",
        },
        "writerRoleArn: is required on prod in assume-role mode",
    ),
    (
        "prod",
        {
            "createSourceStream": True,
            "sourceStreamArn": "arn:aws:kinesis:eu-west-1:111111111111:stream/s",
        },
        "sourceStreamArn: must be empty when createSourceStream is true",
    ),
    ("prod", {"sourceStreamName": ""}, "sourceStreamName: is required"),
    (
        "prod",
        {"replicatorRoleName": "bad name!"},
        "replicatorRoleName: must match [\\w+=,.@-]{1,64}",
    ),
    ("prod", {"powertoolsLayerArn": "layer-27"}, "powertoolsLayerArn: must be an ARN of the"),
    # --- issue 14: mistakes that used to render silently
    ("prod", {"prodAccountId": "111111111111\n"}, "prodAccountId: must be a 12-digit"),
    ("prod", {"prodAccountId": 0o11111111111}, "quote account ids in the stack file"),
    ("poc", {"pocAccountId": "٩٩٩٩٩٩٩٩٩٩٩٩"}, "pocAccountId: must be a 12-digit"),
    ("prod", {"tableName": "t"}, "tableName: is set but ignored: pocStackReference is set"),
    (
        "prod",
        {"writerRoleArn": "arn:aws:iam::999999999999:role/w"},
        "writerRoleArn: is set but ignored",
    ),
    ("prod", {"tableRegion": "eu-west-1"}, "tableRegion: is set but ignored"),
    (
        "prod",
        {
            "pocStackReference": "",
            "tableName": "t",
            "tableArn": "arn:aws:dynamodb:eu-west-1:999999999999:table/t",
            "writerRoleArn": "arn:aws:iam::222222222222:role/w",
        },
        "writerRoleArn: is not in the POC account 999999999999",
    ),
    (
        "prod",
        {
            "pocStackReference": "",
            "tableName": "t",
            "tableArn": "arn:aws:dynamodb:eu-west-1:999999999999:table/t",
            "writerRoleArn": "arn:aws:iam::999999999999:role/w",
            "tableRegion": "mars",
        },
        "tableRegion: is not an AWS region, got 'mars'",
    ),
    ("poc", {"tags": ["aws:owner=x"]}, "tags: tag 'aws:owner': the aws: prefix is reserved"),
    ("prod", {"tags": ["team=a", "team=b"]}, "tags: tag 'team' is given twice"),
    ("poc", {"tags": ["project=x"]}, "tags: tag 'project' is always set by the program"),
    ("poc", {"tags": ["component=x"]}, "tags: tag 'component' is always set"),
    ("poc", {"tags": ["k=" + "v" * 257]}, "tags: tag 'k': the value must be a string of at most"),
    ("poc", {"tags": ["k" * 129 + "=v"]}, "is over 128 characters"),
    ("poc", {"runtime": "python3.14"}, "runtime: python3.14: AWS's Powertools layer is known"),
    ("prod", {"deadLetterRetentionSeconds": 59}, "deadLetterRetentionSeconds: must be 60..1209600"),
    # values AWS refuses only at deploy or run time (the trial of 2026-11-29)
    ("prod", {"externalId": "a"}, "externalId: must be 2..1224 characters"),
    ("poc", {"externalId": "ä b"}, "externalId: must be 2..1224 characters"),
    (
        "prod",
        {"accessMode": "resource-policy", "externalId": "abc"},
        "externalId: is only used in assume-role mode",
    ),
    (
        "poc",
        {"accessMode": "resource-policy", "externalId": "abc"},
        "externalId: is only used in assume-role mode",
    ),
    (
        "prod",
        {"sourceStreamArn": "arn:aws:kinesis:eu-west-1:111111111111:stream/other"},
        "sourceStreamArn: names stream 'other', but sourceStreamName is 'web-analytics'",
    ),
    (
        "prod",
        {
            "sourceStreamName": "",
            "sourceStreamArn": "arn:aws:kinesis:us-east-1:111111111111:stream/x",
        },
        "sourceStreamArn: is in region us-east-1, not the stack's region eu-west-1",
    ),
    (
        "prod",
        {
            "sourceStreamName": "",
            "sourceStreamArn": "arn:aws:kinesis:eu-west-1:999999999999:stream/x",
        },
        "sourceStreamArn: is in account 999999999999, not the stream's account 111111111111",
    ),
    ("prod", {"sourceStreamArn": "arn:aws:sqs:eu-west-1:111111111111:q"}, "sourceStreamArn:"),
    (
        "prod",
        {
            "pocStackReference": "",
            "tableName": "t",
            "tableArn": "arn:aws:dynamodb:eu-west-1:999999999999:table/t",
            "writerRoleArn": "arn:aws:iam::999999999999:role/w",
            "tableRegion": "us-east-1",
        },
        "tableRegion: is us-east-1, but tableArn is in eu-west-1",
    ),
    ("poc", {"deliveryStreamName": "d" * 65}, "deliveryStreamName: must match"),
    ("poc", {"deliveryStreamName": "a b"}, "deliveryStreamName: must match"),
    ("poc", {"bucketName": "My_Bucket"}, "bucketName: must be 3..63 characters"),
    ("poc", {"bucketName": "ab"}, "bucketName: must be 3..63 characters"),
    ("poc", {"bucketName": "a..b"}, "bucketName: must be 3..63 characters"),
    ("poc", {"bucketName": "192.168.5.4"}, "bucketName: must not be formatted as an IP address"),
    ("poc", {"existingBucketName": "Bad_Name"}, "existingBucketName: must be 3..63 characters"),
    (
        "poc",
        {"powertoolsLayerArn": "arn:aws:lambda:eu-west-1:017000801446:layer"},
        "powertoolsLayerArn: must be a Lambda layer version ARN",
    ),
    ("poc", {"ttlAttribute": "timestamp"}, "ttlAttribute: must not be 'timestamp', a key or range"),
    (
        "poc",
        {"queryTableName": "events", "tableName": "events"},
        "queryTableName: must differ from tableName",
    ),
    # a key only the other stack reads, set to something other than its default
    ("poc", {"createSourceStream": True}, "createSourceStream: is set but ignored: only the prod"),
    ("poc", {"transformModule": "t.py"}, "transformModule: is set but ignored: only the prod"),
    ("prod", {"tableEncryption": "AWS_OWNED"}, "tableEncryption: is set but ignored: only the poc"),
    ("prod", {"s3Prefix": "x/"}, "s3Prefix: is set but ignored: only the poc stack"),
]


@pytest.mark.parametrize(
    ("stack", "overrides", "message"),
    BAD_VALUES,
    ids=[f"{stack}-{'-'.join(overrides)}" for stack, overrides, _ in BAD_VALUES],
)
def test_bad_value_names_the_stack_file_and_key(
    stack: str, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(StackConfigError) as raised:
        run(stack, overrides)
    text = str(raised.value)
    assert text.startswith(f"Pulumi.{stack}.yaml: "), text
    assert message in text, text


def test_a_key_of_the_other_stack_at_its_default_is_not_refused() -> None:
    """The CLI hands the program Pulumi.yaml's defaults as if set, so a key of the other stack
    at its default value cannot be told from an unset one, and is accepted."""
    poc = run("poc", {"createSourceStream": False, "transformModule": ""})
    assert poc.of_type("aws:dynamodb/table:Table")  # the poc stack rendered in full
    assert poc.of_type("aws:kinesis/stream:Stream") == []  # and the prod key had no effect


def test_each_side_only_key_is_read_by_its_side() -> None:
    """Pulumi.yaml's "poc only" / "prod only" descriptions are what the refusal reads."""
    _, schema = load_schema()
    sides = {key: key_side(spec) for key, spec in schema.items()}
    assert sides["createSourceStream"] == "prod"
    assert sides["writerRoleArn"] == "prod"  # "prod only, without pocStackReference."
    assert sides["tableEncryption"] == "poc"
    assert sides["batchSize"] is None


@pytest.mark.parametrize(
    ("stack", "overrides"),
    [
        ("poc", {"batchSize": 0}),
        ("prod", {"batchSize": 0}),
        ("poc", {"placement": "target", "replicatorMemorySize": 1}),
    ],
    ids=["poc", "prod", "poc-target-placement"],
)
def test_config_error_fails_the_preview_before_any_resource(
    stack: str, overrides: dict[str, object]
) -> None:
    """A bad value fails ``pulumi preview`` already, and before anything is registered: not
    even the StackReference of the other stack (both stack files name it), which is read only
    once every key is checked."""
    from stream_replica.testing import RecordingMocks, RecordingMonitor

    from sandbox.pulumi_runner import run_program

    mocks = RecordingMocks()
    monitor = RecordingMonitor(mocks)
    with pytest.raises(StackConfigError, match=list(overrides)[-1]):
        run_program(stack, mocks, config_overrides=overrides, monitor=monitor, preview=True)
    assert monitor.records == []


#: The prod stack's outputs in target placement, agreeing with the poc stack file.
PROD_TARGET_OUTPUTS = {
    "placement": "target",
    "consumerMode": "efo",
    "accessMode": "assume-role",
    "sourceStreamArn": "arn:aws:kinesis:eu-west-1:111111111111:stream/web-analytics",
    "streamConsumerArn": "arn:aws:kinesis:eu-west-1:111111111111:stream/web-analytics/consumer/c:1",
    "replicatorRoleArn": "arn:aws:iam::999999999999:role/ProdKinesisToPocDynamo-role",
}
#: The poc stack file's components (the query table and the catalog are on).
POC_ARGS = {
    "ReplicaTargetArgs",
    "StreamToS3ArchiverArgs",
    "StreamToQueryTableArgs",
    "ArchiveCatalogArgs",
}
#: One run of each kind of stack: (stack, overrides, the other stack's outputs, the args built).
BUILDS: list[tuple[str, dict[str, object], dict[str, Any], set[str]]] = [
    ("poc", {}, {}, POC_ARGS),
    ("poc", {"placement": "target"}, PROD_TARGET_OUTPUTS, POC_ARGS | {"ReplicaSourceArgs"}),
    ("prod", {}, POC_OUTPUTS, {"ReplicaSourceArgs"}),
    (
        "prod",
        {"placement": "target", **dict.fromkeys(STAGE_KEYS)},
        {},
        {"StreamReadGrantArgs"},
    ),
]


@pytest.mark.parametrize(
    ("stack", "overrides", "other_outputs", "built"),
    BUILDS,
    ids=["poc", "poc-target-placement", "prod", "prod-target-placement"],
)
def test_each_components_args_are_built_once_per_run(
    monkeypatch: pytest.MonkeyPatch,
    stack: str,
    overrides: dict[str, object],
    other_outputs: dict[str, Any],
    built: set[str],
) -> None:
    """``load()`` builds (reads, checks) every component's args of the stack once, and the
    program creates the components from those: nothing reads and checks them a second time."""
    from collections import Counter

    from stack_config import args as builders

    calls: Counter[str] = Counter()
    build_args = builders.build_args

    def counting(cfg: Any, factory: Any, *rest: Any) -> Any:
        calls[factory.__name__] += 1
        return build_args(cfg, factory, *rest)

    monkeypatch.setattr(builders, "build_args", counting)
    other = PROD_REFERENCE if stack == "poc" else POC_REFERENCE
    run_stack(stack, overrides, stack_outputs={other: other_outputs})
    assert calls == dict.fromkeys(built, 1)


# --- the poc stack's outputs, read by StackReference, checked like explicit config ------------


def _refused(outputs: dict[str, Any], overrides: dict[str, object] | None = None) -> str:
    with pytest.raises(ValueError) as raised:
        run_stack("prod", overrides, stack_outputs={POC_REFERENCE: outputs})
    return str(raised.value)


def test_a_missing_output_names_the_reference_and_the_output() -> None:
    outputs = {k: v for k, v in POC_OUTPUTS.items() if k != "tableArn"}
    text = _refused(outputs)
    assert "Pulumi.prod.yaml: kinesis-crossaccount-replica:pocStackReference: " in text
    assert f"the stack {POC_REFERENCE!r} has no output 'tableArn'" in text
    # ...and says which name form each backend needs.
    assert "self-managed backend" in text and "Pulumi Cloud" in text


def test_the_agreement_list_holds_every_key_both_stacks_must_agree_on() -> None:
    """The settings the stacks compare, with the account ids every ARN read from the other
    stack is checked against, are the keys Pulumi.yaml (and so the README) says both stacks
    must agree on."""
    _, schema = load_schema()
    marked = {
        key
        for key, spec in schema.items()
        if "both stacks must agree" in str(spec.get("description", "")).lower()
    }
    assert {a.key for a in AGREEMENTS} | set(ACCOUNT_KEYS.values()) == marked


@pytest.mark.parametrize("output", [a.output for a in agreements("source") if not a.missing_ok])
def test_agreement_outputs_are_required(output: str) -> None:
    outputs = {k: v for k, v in POC_OUTPUTS.items() if k != output}
    assert f"has no output {output!r}" in _refused(outputs)


def test_a_ttl_attribute_that_differs_between_the_stacks_is_refused() -> None:
    """The replicator would set one attribute and the table expire on another: nothing would
    ever expire, silently."""
    text = _refused(POC_OUTPUTS, {"ttlAttribute": "ttl"})
    assert "Pulumi.prod.yaml: kinesis-crossaccount-replica:ttlAttribute: is 'ttl' here" in text
    assert "'expiresAt'" in text


def test_an_external_id_that_differs_between_the_stacks_is_refused() -> None:
    text = _refused(POC_OUTPUTS, {"externalId": "prod-only"})
    assert "Pulumi.prod.yaml: kinesis-crossaccount-replica:externalId: differs from the poc" in text
    assert "prod-only" not in text  # the value is not repeated in the error either
    # The same value on both sides passes.
    same = {**POC_OUTPUTS, "externalIdSha256": external_id_digest("shared")}
    run_stack("prod", {"externalId": "shared"}, stack_outputs={POC_REFERENCE: same})


@pytest.mark.parametrize("output", ["tableArn", "writerRoleArn"])
def test_outputs_in_another_account_are_refused(output: str) -> None:
    outputs = {**POC_OUTPUTS, output: POC_OUTPUTS[output].replace("999999999999", "222222222222")}
    text = _refused(outputs)
    assert f"exports {output} " in text
    # named as the disagreement it is: the account key, this file's value, the other account
    assert ":pocAccountId: is 999999999999 in this stack file" in text
    assert "in account 222222222222: both stacks must agree on pocAccountId" in text


def test_the_poc_stack_exports_a_digest_of_the_external_id_not_the_value() -> None:
    poc = run_stack("poc", {"externalId": "abc-123"})
    assert poc.outputs["externalIdSha256"] == external_id_digest("abc-123")
    assert "abc-123" not in json.dumps(poc.outputs)


def test_a_runtime_without_a_known_layer_passes_with_an_explicit_layer() -> None:
    layer = "arn:aws:lambda:eu-west-1:111111111111:layer:powertools-py314:1"
    stack = run("prod", {"runtime": "python3.14", "powertoolsLayerArn": layer})
    (function,) = stack.of_type("aws:lambda/function:Function")
    assert function.inputs["layers"] == [layer]


def test_dead_letter_retention_is_configurable() -> None:
    stack = run("poc", {"deadLetterRetentionSeconds": 86_400})
    queues = stack.of_type("aws:sqs/queue:Queue")
    assert len(queues) == 4  # the archiver's and the query writer's
    assert {q.inputs["messageRetentionSeconds"] for q in queues} == {86_400}
    default = run("poc", {})
    assert {
        q.inputs["messageRetentionSeconds"] for q in default.of_type("aws:sqs/queue:Queue")
    } == {1_209_600}
