"""The Lambda code asset: our handler modules, plus the user's transform file if one is set.

Each function's zip holds ``handlers/__init__.py`` and the ``handlers/*.py`` modules of the
``stream_replica.handlers`` package its handler module imports, directly or through another
module, at module level or inside a function (:func:`module_closure`; no ``__pycache__``, no
tests, no third-party code: boto3 comes with the Lambda runtime and Powertools from a layer), so
the handler strings are ``handlers.replicator.handler`` and ``handlers.archiver.handler`` and
neither function carries the other's code.

The folder is found from the installed package, so a program that pip-installs these components
(in any layout, editable or not) packages the handler code that was installed with them, not
whatever happens to be in its working folder.
"""

from __future__ import annotations

import functools
import importlib.util
import re
from pathlib import Path

import pulumi

HANDLERS_PACKAGE = "stream_replica.handlers"

#: Path of the handler modules inside the zip; the handler strings below depend on it.
ARCHIVE_FOLDER = "handlers"

REPLICATOR_HANDLER = "handlers.replicator.handler"
ARCHIVER_HANDLER = "handlers.archiver.handler"
QUERY_WRITER_HANDLER = "handlers.query_writer.handler"


def handlers_dir() -> Path:
    """The folder of the installed ``stream_replica.handlers`` package.

    Falls back to the sibling of this package's folder (the same place in both the repository
    layout and an installed ``stream_replica`` package) if the package can't be located by name.
    """
    spec = importlib.util.find_spec(HANDLERS_PACKAGE)
    if spec is not None and spec.origin:
        return Path(spec.origin).resolve().parent
    fallback = Path(__file__).resolve().parent.parent / "handlers"
    if (fallback / "__init__.py").is_file():
        return fallback
    raise FileNotFoundError(
        f"cannot locate the {HANDLERS_PACKAGE} package (looked for {fallback}/__init__.py)"
    )


def handler_files(folder: Path | None = None, handler: str | None = None) -> dict[str, Path]:
    """Archive path (``handlers/<file>.py``) → source file: the modules ``handler``
    (``handlers.<module>.<function>``, e.g. :data:`REPLICATOR_HANDLER`) needs
    (:func:`module_closure`) plus ``__init__.py``, or every module of the package when
    ``handler`` is ``None``. Raises ``FileNotFoundError`` for a folder that is not the package or
    a handler module it does not hold."""
    folder = folder or handlers_dir()
    files = {f"{ARCHIVE_FOLDER}/{path.name}": path for path in sorted(folder.glob("*.py"))}
    if f"{ARCHIVE_FOLDER}/__init__.py" not in files:
        raise FileNotFoundError(f"{folder} holds no __init__.py: not the handlers package")
    if handler is None:
        return files
    keep = module_closure(folder, handler.split(".")[1]) | {"__init__"}
    return {name: path for name, path in files.items() if Path(name).stem in keep}


#: A relative import statement: ``from .x import …`` or ``from . import a, b`` (also a
#: parenthesised list over several lines). Read as text, not with ``ast``: CPython 3.11's
#: ``ast.parse`` can fail with "AST constructor recursion depth mismatch" after a program caught
#: a RecursionError (seen in this suite on 3.11.7), and the component runs in the user's program.
_RELATIVE_IMPORT = re.compile(r"^\s*from\s+\.(\w*)\s+import\s+(\([^)]*\)|[^\n#]*)", re.M)


@functools.cache
def module_closure(folder: Path, module: str) -> frozenset[str]:
    """``module`` and every module of the package in ``folder`` it imports with a relative
    import (``from . import x``, ``from .x import y``), transitively, wherever the import
    statement is (imports deferred into a function count too); read once per process. Raises
    ``FileNotFoundError`` when ``module`` is not in ``folder``."""
    if not (folder / f"{module}.py").is_file():
        raise FileNotFoundError(f"{folder} holds no {module}.py")
    seen: set[str] = set()
    pending = [module]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        source = (folder / f"{name}.py").read_text(encoding="utf-8")
        for submodule, names in _RELATIVE_IMPORT.findall(source):
            if submodule:
                targets = [submodule]
            else:
                targets = [n.split()[0] for n in names.strip("() \n").split(",") if n.strip()]
            pending.extend(t for t in targets if (folder / f"{t}.py").is_file())
    return frozenset(seen)


#: Folder of the user's transform module inside the asset (``transform/<file>.py``).
TRANSFORM_FOLDER = "transform"


def transform_archive_path(transform_module: str) -> str:
    """Where the user's transform file goes in the asset: ``transform/<file name>``; the
    handler finds it there through ``TRANSFORM_MODULE`` (``handlers/transforms.py``)."""
    return f"{TRANSFORM_FOLDER}/{Path(transform_module).name}"


def handler_archive(
    folder: Path | None = None, transform_module: str | None = None, handler: str | None = None
) -> pulumi.AssetArchive:
    """The code asset of a function: the handler modules ``handler`` needs (all of them when
    ``None``; :func:`handler_files`), plus the user's transform file (one file, standard library
    only; see ``docs/handlers.md``) when ``transform_module`` names one (a path as given in the
    stack config, relative to the program's working directory)."""
    files: dict[str, pulumi.Asset | pulumi.Archive] = {
        name: pulumi.FileAsset(str(path)) for name, path in handler_files(folder, handler).items()
    }
    if transform_module:
        files[transform_archive_path(transform_module)] = pulumi.FileAsset(
            str(Path(transform_module).resolve())
        )
    return pulumi.AssetArchive(files)
