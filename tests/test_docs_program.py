"""The README stays true: every config key is documented, and the reuse example runs."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from pathlib import Path

from stream_replica.testing import render
from stream_replica.testing.mocks import run_components

import stack_config

README = Path(__file__).resolve().parent.parent / "README.md"


def section(title: str) -> str:
    """The README's ``## title`` section."""
    text = README.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_configuration_reference_lists_every_key_with_its_default() -> None:
    text = section("Configuration reference")
    _, schema = stack_config.load_schema()
    rows = {
        match.group(1): match.group(2)
        for match in re.finditer(r"^\| `(\w+)` \| \w+(?:<string>)? \| ([^|]+) \|", text, re.M)
    }
    assert set(rows) == set(schema)
    for key, spec in schema.items():
        if "default" not in spec:
            assert rows[key].strip() == "*(required)*", key
        elif isinstance(spec["default"], (int, str)) and spec["default"] not in ("", True, False):
            assert str(spec["default"]) in rows[key], key


def readme_example() -> Callable[[], None]:
    """The README's reuse example as a program."""
    text = section("Reusing the components")
    (example,) = re.findall(r"```python\n(.*?)```", text, re.S)
    return lambda: exec(compile(example, "README.md", "exec"), {})


def test_reuse_example_runs_and_puts_each_half_in_its_account() -> None:
    stack = run_components(readme_example())
    table = stack.one("aws:dynamodb/table:Table")
    assert table.provider_name == "poc"
    assert stack.one("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream").provider_name == (
        "poc"
    )
    replicator = stack.one("aws:lambda/function:Function", "clicks-source-function")
    assert replicator.provider_name == "prod"
    assert replicator.inputs["environment"]["variables"]["TABLE_NAME"] == "clicks"
    assert table.state["arn"].startswith("arn:aws:dynamodb:eu-west-1:999999999999:table/clicks")


def test_testing_example_passes_against_the_reuse_example(tmp_path: Path) -> None:
    """The README's pytest example, saved next to the reuse example as the README says."""
    (program,) = re.findall(r"```python\n(.*?)```", section("Reusing the components"), re.S)
    (test_code,) = re.findall(r"```python\n(.*?)```", section("Testing your program"), re.S)
    (tmp_path / "__main__.py").write_text(program, encoding="utf-8")
    test_file = tmp_path / "test_program.py"
    test_file.write_text(test_code, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("readme_test_program", test_file)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    tests = [getattr(module, name) for name in dir(module) if name.startswith("test_")]
    assert len(tests) == 3
    for test in tests:
        test()


def test_outputs_table_lists_each_components_registered_outputs() -> None:
    text = section("Reusing the components")
    table = text[text.index("### Outputs") :]
    listed = {
        match.group(1): set(re.findall(r"`(\w+)`", match.group(2).split("(and")[0]))
        for match in re.finditer(r"^\| `(\w+)` \| (.+) \|$", table, re.M)
    }
    (example,) = re.findall(r"```python\n(.*?)```", text, re.S)
    rendered = render(lambda: exec(compile(example, "README.md", "exec"), {}))
    # The example has every component but ReplicaTarget/ReplicaSource on their own: they are
    # the halves of the CrossAccountStreamReplica.
    registered = {
        r.type.rsplit(":", 1)[-1]: set(r.outputs)
        for r in rendered.resources
        if r.type.startswith("stream-replica:index:")
    }
    assert set(registered) == {
        "ReplicaTarget",
        "ReplicaSource",
        "CrossAccountStreamReplica",
        "StreamToS3Archiver",
    }
    assert listed == registered
