"""The docs stay true: every config key is documented, and the reuse example runs (the README's
is the same as docs/reuse.md's)."""

from __future__ import annotations

import importlib.util
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stream_replica.testing import render
from stream_replica.testing.mocks import run_components

from stack_config.schema import load_schema

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
#: The pages the README's sections moved to (the README is the front door).
PAGES = (REPO / "docs" / "configuration.md", REPO / "docs" / "reuse.md")


def section(title: str) -> str:
    """The ``## title`` section of the page that holds it (:data:`PAGES`)."""
    heading = f"\n## {title}\n"
    text = next(t for t in (page.read_text(encoding="utf-8") for page in PAGES) if heading in t)
    start = text.index(heading)
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def test_configuration_reference_lists_every_key_with_its_default() -> None:
    text = section("Configuration reference")
    _, schema = load_schema()
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


def test_the_keys_both_stacks_must_agree_on_are_the_ones_the_readme_names() -> None:
    """The README's "five keys ... *Both stacks must agree*" are exactly the keys whose
    description (Pulumi.yaml, rendered into the table) says so."""
    text = section("Configuration reference")
    _, schema = load_schema()
    marked = {
        key
        for key, spec in schema.items()
        if "both stacks must agree" in str(spec.get("description", "")).lower()
    }
    sentence = re.search(
        r"The (\w+) keys whose description below says \*Both stacks must\s+agree\*[^(]*\(([^)]*)\)",
        text,
    )
    assert sentence, "the README's sentence on the keys both stacks must agree on"
    named = set(re.findall(r"`(\w+)`", sentence.group(2)))
    assert named == marked
    words = {4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}
    assert sentence.group(1) == words[len(marked)]


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
    registered: dict[str, set[str]] = {}
    for r in [*rendered.resources, *_efo_components().resources]:
        if r.type.startswith("stream-replica:index:"):
            registered.setdefault(r.type.rsplit(":", 1)[-1], set()).update(r.outputs)
    assert set(registered) == {
        "ReplicaTarget",
        "ReplicaSource",
        "CrossAccountStreamReplica",
        "StreamToS3Archiver",
        "StreamReadGrant",
        "PipelineDashboard",
    }
    assert listed == registered


def _efo_components() -> Any:
    """What the example doesn't show: a replicator reading an enhanced fan-out consumer (its
    ``stream_consumer_arn`` is registered only in ``efo`` mode) and a ``StreamReadGrant``."""
    from stream_replica.components import (
        ReplicaSource,
        ReplicaSourceArgs,
        StreamReadGrant,
        StreamReadGrantArgs,
    )

    def program() -> None:
        ReplicaSource(
            "efo-replica",
            ReplicaSourceArgs(
                account_id="111111111111",
                region="eu-west-1",
                table_name="t",
                table_arn="arn:aws:dynamodb:eu-west-1:999999999999:table/t",
                writer_role_arn="arn:aws:iam::999999999999:role/w",
                source_stream_name="web-analytics",
                consumer_mode="efo",
            ),
        )
        StreamReadGrant(
            "grant",
            StreamReadGrantArgs(
                stream_account_id="111111111111",
                reader_account_id="999999999999",
                region="eu-west-1",
                replicator_role_name="replicator",
                source_stream_name="web-analytics",
                consumer_mode="efo",
            ),
        )

    return render(program)


def test_the_readmes_example_is_the_tested_one() -> None:
    """The README's one reuse example is docs/reuse.md's, which the tests above run."""
    readme = README.read_text(encoding="utf-8")
    front = readme[readme.index("\n## Reuse in one example\n") :]
    (example,) = re.findall(r"```python\n(.*?)```", front.split("\n## ", 2)[1], re.S)
    (tested,) = re.findall(r"```python\n(.*?)```", section("Reusing the components"), re.S)
    assert example == tested
