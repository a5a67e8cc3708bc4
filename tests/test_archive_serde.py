"""Every line the archiver writes is readable through the Glue table's SerDe.

The OpenX JSON SerDe's rules, as documented (https://docs.aws.amazon.com/athena/latest/ug/
openx-json-serde.html) and as its struct inspector applies them
(``JsonStructObjectInspector.getJsonField``: a ``mapping.<field>`` property names the JSON key of
a column or struct field at any depth): with ``case.insensitive`` true it lower-cases every key,
and two keys that then coincide are a duplicate key, which fails the row (and the query over its
partition); a line that is not JSON fails too unless ``ignore.malformed.json`` is true (then it
reads as NULLs). :func:`read` models exactly that, and the table's rendered properties are
checked against it with lines the archiver itself writes.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from stream_replica.components import ArchiveCatalogArgs, SettingError
from stream_replica.components.archive_catalog import (
    CLICKSTREAM_COLUMNS,
    ArchiveColumn,
    serde_parameters,
)
from stream_replica.handlers.images import object_to_json_line

from tests.test_query_table_component import archive_and_catalog


class SerDeError(Exception):
    """The row fails: the whole query over its partition fails with it."""


def _object(pairs: list[tuple[str, Any]], lower: bool) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        name = key.lower() if lower else key
        if name in found:
            raise SerDeError(f"Duplicate key {name!r}")
        found[name] = value
    return found


def _field(value: Any, hive_type: str, mapping: dict[str, str]) -> Any:
    """``value`` through a struct type ``struct<a:t,...>`` (top-level split only: enough for
    the types below), scalars and arrays as they are."""
    if not hive_type.startswith("struct<") or not isinstance(value, dict):
        return value
    fields, depth, start, body = [], 0, 0, hive_type[len("struct<") : -1]
    for i, char in enumerate(body):
        depth += char == "<"
        depth -= char == ">"
        if char == "," and depth == 0:
            fields.append(body[start:i])
            start = i + 1
    fields.append(body[start:])
    result = {}
    for field in fields:
        name, _, kind = field.partition(":")
        lower = name.lower()
        result[lower] = _field(value.get(mapping.get(lower, lower)), kind, mapping)
    return result


def read(line: bytes, parameters: dict[str, str], columns: list[ArchiveColumn]) -> dict:
    """One row as the SerDe makes it from ``line`` (column name, lower case -> value)."""
    lower = parameters.get("case.insensitive", "true").lower() == "true"
    mapping = {k[len("mapping.") :]: v for k, v in parameters.items() if k.startswith("mapping.")}
    try:
        obj = json.loads(line, object_pairs_hook=lambda pairs: _object(pairs, lower))
    except json.JSONDecodeError:
        if parameters.get("ignore.malformed.json", "false").lower() == "true":
            return {c.name.lower(): None for c in columns}
        raise SerDeError("malformed JSON") from None
    row = {}
    for column in columns:
        name = column.name.lower()
        row[name] = _field(obj.get(mapping.get(name, name)), column.type, mapping)
    return row


def _rendered_parameters() -> dict[str, str]:
    table = archive_and_catalog("UNCOMPRESSED").one("aws:glue/catalogTable:CatalogTable")
    return table.inputs["storageDescriptor"]["serDeInfo"]["parameters"]


COLLIDING = {
    "url": "https://shop.example.com/a",
    "URL": "https://shop.example.com/B",
    "userEmail": "ana@example.com",
    "UserEmail": "other",
    "eventType": "page_view",
    "context": {
        "session": {"id": "s-1", "pageIndex": 3, "PAGEINDEX": 9, "Id": "x"},
        "device": {"browser": "firefox", "Browser": "FF"},
    },
}


def test_names_differing_only_in_case_do_not_fail_the_row_and_declared_names_match():
    parameters = _rendered_parameters()
    columns = list(CLICKSTREAM_COLUMNS)
    row = read(object_to_json_line(COLLIDING), parameters, columns)
    assert row["url"] == "https://shop.example.com/a"
    assert row["useremail"] == "ana@example.com"
    assert row["eventtype"] == "page_view"
    assert row["context"]["session"] == {"id": "s-1", "pageindex": 3}
    assert row["context"]["device"]["browser"] == "firefox"


def test_the_serdes_default_would_fail_that_row():
    """What the table had before: case.insensitive true makes ``url``/``URL`` one key twice."""
    with pytest.raises(SerDeError, match="Duplicate key"):
        read(object_to_json_line(COLLIDING), {"case.insensitive": "true"}, [])


def test_a_malformed_line_reads_as_nulls_not_a_failed_partition():
    parameters = _rendered_parameters()
    row = read(b'{"url": "a", \n', parameters, list(CLICKSTREAM_COLUMNS))
    assert set(row.values()) == {None}


def test_every_declared_name_with_upper_case_is_mapped():
    parameters = serde_parameters(list(CLICKSTREAM_COLUMNS))
    assert parameters["case.insensitive"] == "false"
    assert parameters["mapping.useremail"] == "userEmail"
    assert parameters["mapping.pageindex"] == "pageIndex"
    assert parameters["mapping.seqnumbershardidhash"] == "seqNumbershardIdHash"
    assert "mapping.url" not in parameters


def test_one_spelling_per_name_at_every_level():
    with pytest.raises(SettingError, match="'pageIndex' and 'pageindex' differ only in case"):
        ArchiveCatalogArgs(
            bucket_name="b",
            prefix="data/",
            columns=[
                ArchiveColumn("context", "struct<pageIndex:int>"),
                ArchiveColumn("pageindex", "int"),
            ],
        ).validate()
