"""docs/components.md's generated field tables: every args class the package exports, every
field with a docstring, the default the args really take."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import stream_replica.components as components
from stream_replica.components import ReplicaSourceArgs
from stream_replica.components.field_tables import DOCUMENTED, field_docstrings, markdown

PAGE = Path(__file__).resolve().parent.parent / "docs" / "components.md"


def test_every_exported_args_class_is_documented() -> None:
    exported = {
        name
        for name in components.__all__
        if name.endswith("Args") and dataclasses.is_dataclass(getattr(components, name))
    }
    assert exported <= {cls.__name__ for cls, _ in DOCUMENTED}


def test_every_field_has_a_docstring_and_a_row() -> None:
    text = markdown()
    for cls, _ in DOCUMENTED:
        docs = field_docstrings(cls)
        section = text.split(f"### `{cls.__name__}`", 1)[1].split("\n### ", 1)[0]
        for field in dataclasses.fields(cls):
            assert docs.get(field.name), f"{cls.__name__}.{field.name} has no docstring"
            assert f"| `{field.name}` |" in section, f"{cls.__name__}.{field.name}"


def test_a_default_in_the_table_is_the_one_the_args_take() -> None:
    args = ReplicaSourceArgs(
        account_id="111111111111", region="eu-west-1", source_stream_name="s", table_name="t"
    )
    section = markdown().split("### `ReplicaSourceArgs`", 1)[1].split("\n### ", 1)[0]
    row = next(line for line in section.splitlines() if line.startswith("| `access_mode` |"))
    assert f'`"{args.access_mode}"`' in row


def test_the_page_holds_the_generated_tables() -> None:
    assert markdown() in PAGE.read_text(encoding="utf-8")
