"""The components' arguments as Markdown tables (``docs/components.md``, a generated section):
one table per args class, a row per field with its type, its default and its docstring, read
from the classes themselves so the page cannot drift from the code.

:func:`markdown` is pure (no files written); the docs generator puts its result between the
page's ``<!-- BEGIN generated:fields -->`` / ``<!-- END generated:fields -->`` markers.
"""

import ast
import dataclasses
import inspect
import itertools
import json
import re
import textwrap
from collections.abc import Mapping
from typing import Any

from .archive_bucket import LifecycleRule
from .archive_catalog import ARCHIVE_CATALOG_DEFAULTS, ArchiveCatalogArgs, ArchiveColumn
from .archiver import ARCHIVER_DEFAULTS, StreamToS3ArchiverArgs
from .dashboard import PIPELINE_DASHBOARD_DEFAULTS, PipelineDashboardArgs
from .query_table import QUERY_TABLE_DEFAULTS, StreamToQueryTableArgs
from .replica_source import REPLICA_SOURCE_DEFAULTS, ReplicaSourceArgs
from .replica_target import REPLICA_TARGET_DEFAULTS, ReplicaTargetArgs, SecondaryIndex
from .settings import (
    ALARM_DEFAULTS,
    FUNCTION_DEFAULTS,
    MAPPING_DEFAULTS,
    AlarmSettings,
    FunctionSettings,
    MappingSettings,
)
from .stream_grant import STREAM_READ_GRANT_DEFAULTS, StreamReadGrantArgs
from .stream_replica import CrossAccountStreamReplicaArgs

#: Each args class documented, with the defaults its ``None`` fields take (a ``*_DEFAULTS``
#: mapping, or for a settings class the instance its fields default to), in page order.
DOCUMENTED: tuple[tuple[type, Mapping[str, Any]], ...] = (
    (ReplicaTargetArgs, REPLICA_TARGET_DEFAULTS),
    (ReplicaSourceArgs, REPLICA_SOURCE_DEFAULTS),
    (StreamReadGrantArgs, STREAM_READ_GRANT_DEFAULTS),
    (StreamToS3ArchiverArgs, ARCHIVER_DEFAULTS),
    (StreamToQueryTableArgs, QUERY_TABLE_DEFAULTS),
    (ArchiveCatalogArgs, ARCHIVE_CATALOG_DEFAULTS),
    (PipelineDashboardArgs, PIPELINE_DASHBOARD_DEFAULTS),
    (CrossAccountStreamReplicaArgs, {}),
    (FunctionSettings, dataclasses.asdict(FUNCTION_DEFAULTS)),
    (MappingSettings, dataclasses.asdict(MAPPING_DEFAULTS)),
    (AlarmSettings, dataclasses.asdict(ALARM_DEFAULTS)),
    (SecondaryIndex, {}),
    (LifecycleRule, {}),
    (ArchiveColumn, {}),
)
#: The instance a settings class's fields default to: a component's own settings default is
#: shown as the fields where it differs from this.
_BASE_SETTINGS = {
    FunctionSettings: FUNCTION_DEFAULTS,
    MappingSettings: MAPPING_DEFAULTS,
    AlarmSettings: ALARM_DEFAULTS,
}


def field_docstrings(cls: type) -> dict[str, str]:
    """``{field: docstring}`` of a dataclass: the string literal under each annotated field
    (attribute docstrings, which Python itself drops), whitespace collapsed."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    docs: dict[str, str] = {}
    for statement, following in itertools.pairwise(body):
        if (
            isinstance(statement, ast.AnnAssign)
            and isinstance(statement.target, ast.Name)
            and isinstance(following, ast.Expr)
            and isinstance(following.value, ast.Constant)
            and isinstance(following.value.value, str)
        ):
            docs[statement.target.id] = " ".join(following.value.value.split())
    return docs


def _annotations(cls: type) -> dict[str, str]:
    """``{field: annotation as written}``, ``pulumi.`` dropped (``Input[str] | None``)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(cls)))
    body = tree.body[0].body  # type: ignore[attr-defined]
    return {
        statement.target.id: ast.unparse(statement.annotation).replace("pulumi.", "")
        for statement in body
        if isinstance(statement, ast.AnnAssign) and isinstance(statement.target, ast.Name)
    }


def _plain(value: Any) -> Any:
    """``value`` with dataclasses as dicts (of their fields, by name), for JSON."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _literal(value: Any) -> str:
    """A default as code: JSON (what a YAML or JSON program writes), else its ``repr``."""
    try:
        return f"`{json.dumps(_plain(value))}`"
    except TypeError:
        return f"`{value!r}`"


def _default(field: dataclasses.Field[Any], defaults: Mapping[str, Any]) -> str:
    """The default a field takes: the class's ``*_DEFAULTS`` entry, else its dataclass
    default; ``*(required)*`` when it has neither."""
    if field.name in defaults:
        value = defaults[field.name]
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            base = _BASE_SETTINGS.get(type(value))
            changed = [
                f"{f.name} {_literal(getattr(value, f.name))}"
                for f in dataclasses.fields(value)
                if base is None or getattr(value, f.name) != getattr(base, f.name)
            ]
            where = f"`{type(value).__name__}`'s defaults"
            return f"{where}, with {', '.join(changed)}" if changed else where
        return _literal(value)
    if field.default is None:
        return "none"
    if field.default is not dataclasses.MISSING:
        return _literal(field.default)
    if field.default_factory is not dataclasses.MISSING:
        return _literal(field.default_factory())
    return "*(required)*"


def _cell(text: str) -> str:
    """Docstring text as Markdown safe in a table cell: reST roles and double backquotes
    become code spans."""
    text = re.sub(r":[a-z]+:`~?([^`]+)`", r"`\1`", text).replace("``", "`")
    return text.replace("|", "\\|").replace("\n", " ")


def field_table(cls: type, defaults: Mapping[str, Any]) -> str:
    """One class's table: field, type, default, description."""
    docs = field_docstrings(cls)
    types = _annotations(cls)
    summary = " ".join((inspect.getdoc(cls) or "").split("\n\n")[0].split())
    lines = [
        f"### `{cls.__name__}`",
        "",
        _cell(summary) if summary else "",
        "",
        "| Field | Type | Default | Description |",
        "|---|---|---|---|",
    ]
    for field in dataclasses.fields(cls):
        lines.append(
            f"| `{field.name}` | `{_cell(types.get(field.name, ''))}` | "
            f"{_cell(_default(field, defaults))} | {_cell(docs.get(field.name, ''))} |"
        )
    return "\n".join(line for i, line in enumerate(lines) if line or lines[i - 1])


def markdown() -> str:
    """Every documented args class's table (:data:`DOCUMENTED`), in order."""
    text = "\n\n".join(field_table(cls, defaults) for cls, defaults in DOCUMENTED)
    return re.sub(r"\n{3,}", "\n\n", text)
