"""``environment.VARIABLES`` (docs/handlers.md's table is generated from it) lists every variable
the module names, once, and says which handlers read each: exactly the handlers whose modules
(their asset's modules) read it."""

from __future__ import annotations

import re

from stream_replica.components import assets
from stream_replica.handlers import environment

#: Read by Powertools itself (every handler's logger), never named by a handler module.
READ_BY_POWERTOOLS = {environment.POWERTOOLS_LOG_LEVEL}

_ATTRIBUTE = re.compile(r"\benvironment\.([A-Z][A-Z0-9_]*)\b")
_FROM_IMPORT = re.compile(r"^\s*from\s+\.environment\s+import\s+(\([^)]*\)|[^\n#]*)", re.M)


def _declared() -> dict[str, tuple[str, ...]]:
    return {name: handlers for name, handlers, _default, _meaning in environment.VARIABLES}


def _read_by(handler: str) -> set[str]:
    """The variables the modules of ``handler``'s asset name (``environment.X`` or
    ``from .environment import X``), ``environment.py`` itself aside."""
    folder = assets.handlers_dir()
    names: set[str] = set()
    for module in assets.module_closure(folder, handler) - {"environment"}:
        source = (folder / f"{module}.py").read_text(encoding="utf-8")
        names.update(_ATTRIBUTE.findall(source))
        for imported in _FROM_IMPORT.findall(source):
            names.update(n.split()[0] for n in imported.strip("() \n").split(",") if n.strip())
    return names & set(_declared())


def test_every_variable_is_listed_once() -> None:
    constants = {
        value for name, value in vars(environment).items() if name.isupper() and value == name
    }
    listed = [name for name, *_ in environment.VARIABLES]
    assert len(listed) == len(set(listed))
    assert set(listed) == constants
    assert {environment.ACCESS_MODE, environment.QUERY_TABLE_NAME} <= constants


def test_each_row_names_its_handlers_a_default_and_a_meaning() -> None:
    for name, handlers, default, meaning in environment.VARIABLES:
        assert handlers, name
        assert set(handlers) <= set(environment.ALL_HANDLERS), name
        for text in (default, meaning):
            assert text.strip(), name
            assert "|" not in text and "\n" not in text, f"{name}: breaks its table row"


def test_the_handlers_listed_are_the_ones_that_read_it() -> None:
    readers: dict[str, set[str]] = {name: set() for name in _declared()}
    for handler in environment.ALL_HANDLERS:
        for name in _read_by(handler):
            readers[name].add(handler)
    for name in READ_BY_POWERTOOLS:
        assert readers.pop(name) == set()
    declared = {name: set(handlers) for name, handlers in _declared().items()}
    for name in READ_BY_POWERTOOLS:
        assert declared.pop(name) == set(environment.ALL_HANDLERS)
    assert declared == readers
    assert readers[environment.TRANSFORM_MODULE] == {"replicator", "archiver"}
