"""The component provider's schema, inferred in-process as Pulumi's analyzer does it.

``pulumi package add`` reads the schema the provider serves and generates each language's SDK
from it: what is required there is required in TypeScript, Go, C# and YAML; what is ``plain``
cannot be an Output; what has no description has no documentation. These tests pin each
component's required inputs, the types other languages see, and that everything is described.
"""

from __future__ import annotations

import json
import re
from dataclasses import fields, is_dataclass
from typing import Any

import pulumi
import pytest
from pulumi.provider.experimental.util import camel_case
from stream_replica import components
from stream_replica.components import (
    ALARM_DEFAULTS,
    ARCHIVER_DEFAULTS,
    FUNCTION_DEFAULTS,
    MAPPING_DEFAULTS,
    REPLICA_SOURCE_DEFAULTS,
    REPLICA_TARGET_DEFAULTS,
)

from provider import stream_replica_provider as provider_package
from tests.conftest import REPO_ROOT

TOKEN = "stream-replica:index:"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    return provider_package.schema()


def resource(schema: dict[str, Any], name: str) -> dict[str, Any]:
    found = schema["resources"][f"{TOKEN}{name}"]
    assert isinstance(found, dict)
    return found


def type_(schema: dict[str, Any], name: str) -> dict[str, Any]:
    found = schema["types"][f"{TOKEN}{name}"]
    assert isinstance(found, dict)
    return found


def test_package_name_and_version_come_from_the_project(schema: dict[str, Any]) -> None:
    pyproject = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    version = re.search(r'^version = "([^"]+)"', pyproject, re.M)
    assert version
    assert schema["name"] == "stream-replica"
    assert schema["version"] == version[1] == provider_package.package_version()


def test_every_component_the_package_exports_is_served() -> None:
    exported = {
        obj
        for name in components.__all__
        if isinstance(obj := getattr(components, name), type)
        and issubclass(obj, pulumi.ComponentResource)
    }
    assert set(provider_package.COMPONENTS) == exported
    assert {c.__name__ for c in exported} >= {
        "CrossAccountStreamReplica",
        "ReplicaTarget",
        "ReplicaSource",
        "StreamToS3Archiver",
    }


@pytest.mark.parametrize(
    ("component", "required"),
    [
        # The archiver needs only the table's stream and its own account/region identity.
        ("StreamToS3Archiver", {"tableStreamArn", "accountId", "region"}),
        ("ReplicaSource", {"accountId", "region"}),
        # Both of its trust fields are required at construction, but CrossAccountStreamReplica
        # fills them in when the same type is its `target`: optional in the schema.
        ("ReplicaTarget", set()),
        ("CrossAccountStreamReplica", {"source"}),
    ],
)
def test_only_the_truly_required_inputs_are_required(
    schema: dict[str, Any], component: str, required: set[str]
) -> None:
    definition = resource(schema, component)
    assert definition["isComponent"] is True
    assert set(definition.get("requiredInputs", [])) == required
    assert required <= set(definition["inputProperties"])


def _defaults_with_a_value(defaults: Any) -> set[str]:
    """camelCase names of the fields whose default is a value (not a settings object)."""
    items = (
        defaults.items()
        if isinstance(defaults, dict)
        else ((f.name, getattr(defaults, f.name)) for f in fields(defaults))
    )
    return {
        camel_case(name)
        for name, value in items
        if value is not None and not (is_dataclass(value) and not isinstance(value, type))
    }


@pytest.mark.parametrize(
    ("where", "name", "defaults"),
    [
        ("resources", "ReplicaTarget", REPLICA_TARGET_DEFAULTS),
        ("resources", "ReplicaSource", REPLICA_SOURCE_DEFAULTS),
        ("resources", "StreamToS3Archiver", ARCHIVER_DEFAULTS),
        ("types", "FunctionSettings", FUNCTION_DEFAULTS),
        ("types", "MappingSettings", MAPPING_DEFAULTS),
        ("types", "AlarmSettings", ALARM_DEFAULTS),
    ],
)
def test_fields_with_a_default_are_optional_and_name_it(
    schema: dict[str, Any], where: str, name: str, defaults: Any
) -> None:
    definition = schema[where][f"{TOKEN}{name}"]
    properties = definition.get("inputProperties", definition.get("properties"))
    required = set(definition.get("requiredInputs", definition.get("required", [])))
    with_value = _defaults_with_a_value(defaults)
    assert with_value, name
    for field_name in with_value:
        assert field_name in properties, f"{name}.{field_name}"
        assert field_name not in required, f"{name}.{field_name} has a default"
        assert "Default" in properties[field_name]["description"], f"{name}.{field_name}"


def _described(where: str, properties: dict[str, Any]) -> list[str]:
    return [
        f"{where}.{name}"
        for name, prop in properties.items()
        if not (isinstance(prop.get("description"), str) and prop["description"].strip())
    ]


def test_every_component_type_input_and_output_is_described(schema: dict[str, Any]) -> None:
    missing: list[str] = []
    for token, definition in schema["resources"].items():
        assert definition.get("description"), token
        missing += _described(f"{token} input", definition["inputProperties"])
        missing += _described(f"{token} output", definition["properties"])
        assert definition["properties"], f"{token} has no outputs"
    for token, definition in schema["types"].items():
        assert definition.get("description"), token
        missing += _described(token, definition["properties"])
    assert missing == []


def test_identity_and_wiring_inputs_accept_outputs(schema: dict[str, Any]) -> None:
    """Inputs another resource's output feeds are ``Input[...]`` (not ``plain``) everywhere."""
    archiver = resource(schema, "StreamToS3Archiver")["inputProperties"]
    source = resource(schema, "ReplicaSource")["inputProperties"]
    target = resource(schema, "ReplicaTarget")["inputProperties"]
    for properties, names in (
        (archiver, ["tableStreamArn", "accountId", "region"]),
        (source, ["accountId", "region", "tableName", "tableArn", "writerRoleArn", "targetRegion"]),
        (target, ["sourceAccountId"]),
    ):
        for name in names:
            assert properties[name]["type"] == "string", name
            assert "plain" not in properties[name], f"{name} would refuse an Output"
    # The nested halves of the whole replica keep that: their type is the same inferred type.
    assert "plain" not in type_(schema, "ReplicaSourceArgs")["properties"]["accountId"]


def test_nested_settings_are_object_types_with_described_fields(schema: dict[str, Any]) -> None:
    source = resource(schema, "ReplicaSource")["inputProperties"]
    assert source["function"]["$ref"] == f"#/types/{TOKEN}FunctionSettings"
    assert source["mapping"]["$ref"] == f"#/types/{TOKEN}MappingSettings"
    assert source["alarms"]["$ref"] == f"#/types/{TOKEN}AlarmSettings"
    function = type_(schema, "FunctionSettings")
    assert function["type"] == "object"
    assert function.get("required", []) == []  # a partial object merges over the defaults
    assert function["properties"]["memorySize"]["type"] == "integer"
    assert "128..10240" in function["properties"]["memorySize"]["description"]
    assert function["properties"]["extraLayers"]["type"] == "array"
    mapping = type_(schema, "MappingSettings")["properties"]
    assert mapping["bisectBatchOnFunctionError"]["type"] == "boolean"
    assert "Default: true" in mapping["bisectBatchOnFunctionError"]["description"]
    archiver = resource(schema, "StreamToS3Archiver")["inputProperties"]
    assert archiver["lifecycleRules"]["items"]["$ref"] == f"#/types/{TOKEN}LifecycleRule"
    assert type_(schema, "LifecycleRule")["required"] == ["id"]
    assert archiver["tags"]["additionalProperties"]["type"] == "string"
    whole = resource(schema, "CrossAccountStreamReplica")["inputProperties"]
    assert whole["source"]["$ref"] == f"#/types/{TOKEN}ReplicaSourceArgs"
    assert whole["target"]["$ref"] == f"#/types/{TOKEN}ReplicaTargetArgs"
    assert set(type_(schema, "ReplicaSourceArgs")["required"]) == {"accountId", "region"}


@pytest.mark.parametrize(
    ("component", "outputs", "optional"),
    [
        (
            "ReplicaTarget",
            {"tableName", "tableArn", "tableStreamArn"},
            # replicatorRoleArn: none in target placement (the replicator runs in this account)
            {"writerRoleArn", "writerRoleName", "replicatorRoleArn"},
        ),
        (
            "ReplicaSource",
            {
                "functionName",
                "functionArn",
                "roleArn",
                "roleName",
                "sourceStreamArn",
                "eventSourceMappingId",
                "deadLetterQueueUrl",
                "deadLetterQueueArn",
                "failureQueueUrl",
                "failureQueueArn",
                "logGroupName",
            },
            {"streamConsumerArn"},  # efo mode only
        ),
        (
            "StreamReadGrant",
            {"streamArn", "replicatorRoleArn"},
            {"consumerArn"},  # efo mode only
        ),
        (
            "StreamToS3Archiver",
            {
                "functionName",
                "functionArn",
                "roleArn",
                "deliveryStreamName",
                "deliveryStreamArn",
                "firehoseRoleArn",
                "bucketName",
                "bucketArn",
                "deadLetterQueueUrl",
                "failureQueueUrl",
                "eventSourceMappingId",
            },
            set(),
        ),
        (
            "CrossAccountStreamReplica",
            {"tableName", "tableArn", "tableStreamArn", "functionName", "replicatorRoleArn"},
            {"writerRoleArn"},
        ),
    ],
)
def test_outputs_are_camel_case_string_properties(
    schema: dict[str, Any], component: str, outputs: set[str], optional: set[str]
) -> None:
    definition = resource(schema, component)
    properties = definition["properties"]
    assert set(properties) == outputs | optional  # no child component leaks out as an output
    assert all(p["type"] == "string" for p in properties.values())
    assert set(definition["required"]) == outputs


def test_the_providers_of_the_two_accounts_are_resource_inputs(schema: dict[str, Any]) -> None:
    """Two accounts need two ``aws`` providers; ``opts.providers`` holds one per package, so the
    whole replica also takes them as inputs (a ``pulumi:providers:aws`` reference)."""
    whole = resource(schema, "CrossAccountStreamReplica")["inputProperties"]
    for name in ("sourceProvider", "targetProvider"):
        assert whole[name]["$ref"] == "pulumi.json#/Any"
        assert "pulumi:providers:aws" in whole[name]["description"]
        assert "opts.providers" in whole[name]["description"]


def _pins(text: str) -> dict[str, str]:
    found = re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)$", text, flags=re.MULTILINE)
    return {re.sub(r"[-_.]+", "-", name).lower(): version for name, version in found}


def test_the_provider_runs_on_python_with_the_locked_sdks() -> None:
    folder = provider_package.HERE
    plugin = (folder / "PulumiPlugin.yaml").read_text(encoding="utf-8")
    assert re.search(r"^runtime:\n  name: python\n", plugin, re.M)
    lock = _pins((REPO_ROOT / "requirements.lock").read_text(encoding="utf-8"))
    requirements = (folder / "requirements.txt").read_text(encoding="utf-8")
    assert _pins(requirements) == {"pulumi": lock["pulumi"], "pulumi-aws": lock["pulumi-aws"]}
    # The components themselves come from the checkout the provider runs in.
    assert re.search(r"^\.\.$", requirements, re.M)
    assert json.loads(provider_package.SCHEMA_PATH.read_text(encoding="utf-8"))["name"] == (
        provider_package.PACKAGE_NAME
    )
