"""The examples for other languages use only what the schema offers.

They cannot run here (no Pulumi CLI, no Node.js), so their names are checked against
``provider/schema.json``, the schema ``pulumi package add`` generates their SDKs from: every
component type, every property (nested objects through their types), every required input
present, every ``${resource.output}`` an output of that component.
"""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
import yaml

from provider import stream_replica_provider as provider_package
from tests.conftest import REPO_ROOT

EXAMPLES = REPO_ROOT / "examples"
PREFIX = "stream-replica:"


@pytest.fixture(scope="module")
def schema() -> dict[str, Any]:
    document = json.loads(provider_package.SCHEMA_PATH.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def _type_of(schema: dict[str, Any], prop: dict[str, Any]) -> dict[str, Any] | None:
    ref = prop.get("$ref", "")
    if ref.startswith("#/types/"):
        found = schema["types"][ref.removeprefix("#/types/")]
        assert isinstance(found, dict)
        return found
    return None


def check_object(
    schema: dict[str, Any],
    where: str,
    values: dict[str, Any],
    properties: dict[str, Any],
    required: list[str],
) -> list[str]:
    """Problems of one object literal against its schema properties (recursively)."""
    problems = [f"{where}: missing required {name}" for name in required if name not in values]
    for name, value in values.items():
        prop = properties.get(name)
        if prop is None:
            problems.append(f"{where}.{name}: not in the schema ({sorted(properties)})")
            continue
        nested = _type_of(schema, prop)
        items = _type_of(schema, prop.get("items", {}))
        if nested is not None and isinstance(value, dict):
            problems += check_object(
                schema, f"{where}.{name}", value, nested["properties"], nested.get("required", [])
            )
        elif items is not None and isinstance(value, list):
            for position, item in enumerate(value):
                problems += check_object(
                    schema,
                    f"{where}.{name}[{position}]",
                    item,
                    items["properties"],
                    items.get("required", []),
                )
        elif prop.get("type") == "integer" and not (
            isinstance(value, int) or str(value).startswith("${")
        ):
            problems.append(f"{where}.{name}: {value!r} is not an integer")
    return problems


def test_the_yaml_example_uses_only_schema_names(schema: dict[str, Any]) -> None:
    program = yaml.safe_load((EXAMPLES / "yaml" / "Pulumi.yaml").read_text(encoding="utf-8"))
    assert program["runtime"] == "yaml"
    ours = {
        name: resource
        for name, resource in program["resources"].items()
        if resource["type"].startswith(PREFIX)
    }
    assert {r["type"] for r in ours.values()} >= {
        f"{PREFIX}index:CrossAccountStreamReplica",
        f"{PREFIX}index:StreamToS3Archiver",
    }
    problems: list[str] = []
    for name, resource in ours.items():
        definition = schema["resources"].get(resource["type"])
        assert definition, f"{name}: {resource['type']} is not in the schema"
        problems += check_object(
            schema,
            name,
            resource.get("properties", {}),
            definition["inputProperties"],
            definition.get("requiredInputs", []),
        )
    # ${resource.property} of our components name their outputs.
    text = (EXAMPLES / "yaml" / "Pulumi.yaml").read_text(encoding="utf-8")
    references = re.findall(r"\$\{(\w+)\.(\w+)\}", text)
    assert references
    for resource_name, output in references:
        if resource_name in ours:
            outputs = schema["resources"][ours[resource_name]["type"]]["properties"]
            if output not in outputs:
                problems.append(f"${{{resource_name}.{output}}}: not an output ({sorted(outputs)})")
    # Providers go where the schema says: inputs for the two accounts, or options.
    replica = next(r for r in ours.values() if r["type"].endswith(":CrossAccountStreamReplica"))
    assert replica["properties"]["sourceProvider"] == "${prod}"
    assert replica["properties"]["targetProvider"] == "${analytics}"
    assert problems == []


def test_the_yaml_check_catches_a_wrong_name(schema: dict[str, Any]) -> None:
    definition = schema["resources"][f"{PREFIX}index:StreamToS3Archiver"]
    problems = check_object(
        schema,
        "archive",
        {"tableStreamArn": "x", "accountID": "1", "region": "r", "function": {"memory": 1}},
        definition["inputProperties"],
        definition.get("requiredInputs", []),
    )
    assert "archive: missing required accountId" in problems
    assert any(p.startswith("archive.accountID: not in the schema") for p in problems)
    assert any(p.startswith("archive.function.memory: not in the schema") for p in problems)


def test_the_typescript_example_uses_schema_components_and_outputs(schema: dict[str, Any]) -> None:
    source = (EXAMPLES / "typescript" / "index.ts").read_text(encoding="utf-8")
    assert 'from "@pulumi/stream-replica"' in source
    used = dict(re.findall(r"const (\w+) = new streamReplica\.(\w+)\(", source))
    assert set(used.values()) == {"CrossAccountStreamReplica", "StreamToS3Archiver"}
    for variable, component in used.items():
        outputs = schema["resources"][f"{PREFIX}index:{component}"]["properties"]
        for output in re.findall(rf"\b{variable}\.(\w+)", source):
            assert output in outputs, f"{variable}.{output}"
    whole = schema["resources"][f"{PREFIX}index:CrossAccountStreamReplica"]["inputProperties"]
    for name in ("source", "target", "sourceProvider", "targetProvider", "tags"):
        assert re.search(rf"^    {name}: ", source, re.M), name
        assert name in whole


@pytest.mark.parametrize("language", ["yaml", "typescript"])
def test_each_example_readme_gives_the_exact_commands(language: str) -> None:
    readme = (EXAMPLES / language / "README.md").read_text(encoding="utf-8")
    assert f"cd examples/{language}" in readme
    assert re.search(
        r"pulumi package add github\.com/\S+\.git/provider@(<commit>|v\d+\.\d+\.\d+)", readme
    )
    assert "pulumi package add ../../provider" in readme
    assert (EXAMPLES / language / "../../provider/PulumiPlugin.yaml").resolve().is_file()
    assert "pulumi up" in readme


def test_the_readme_says_how_to_add_and_pin_the_package(schema: dict[str, Any]) -> None:
    readme = (REPO_ROOT / "docs" / "reuse.md").read_text(encoding="utf-8")
    section = readme.split("## From TypeScript, Go, C# and YAML", 1)[1].split("\n## ", 1)[0]
    assert "[`provider/schema.json`](../provider/schema.json)" in section
    assert re.search(
        r"pulumi package add github\.com/\S+\.git/provider@(<commit>|v\d+\.\d+\.\d+)", section
    )
    assert "make docs" in section
    # Its table of required inputs is the schema's.
    rows = dict(re.findall(r"^\| `(\w+)` \| ([^|]*) \|", section, re.M))
    for token, definition in schema["resources"].items():
        name = token.rsplit(":", 1)[1]
        assert name in rows, name
        listed = set(re.findall(r"`(\w+)`", rows[name].split("(")[0]))
        assert listed == set(definition.get("requiredInputs", [])), name
