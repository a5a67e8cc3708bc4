"""The Lambda code asset: our handler modules, plus the user's transform file if one is set.

Each function's zip holds ``handlers/__init__.py`` and every other ``handlers/*.py`` of the
``stream_replica.handlers`` package (no ``__pycache__``, no tests, no third-party code: boto3 comes
with the Lambda runtime and Powertools from a layer), so the handler strings are
``handlers.replicator.handler`` and ``handlers.archiver.handler``.

The folder is found from the installed package, so a program that pip-installs these components
(in any layout, editable or not) packages the handler code that was installed with them, not
whatever happens to be in its working folder.
"""

from __future__ import annotations

import importlib.util
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


def handler_files(folder: Path | None = None) -> dict[str, Path]:
    """Archive path (``handlers/<file>.py``) → source file, for every module of the package."""
    folder = folder or handlers_dir()
    files = {f"{ARCHIVE_FOLDER}/{path.name}": path for path in sorted(folder.glob("*.py"))}
    if f"{ARCHIVE_FOLDER}/__init__.py" not in files:
        raise FileNotFoundError(f"{folder} holds no __init__.py: not the handlers package")
    return files


#: Folder of the user's transform module inside the asset (``transform/<file>.py``).
TRANSFORM_FOLDER = "transform"


def transform_archive_path(transform_module: str) -> str:
    """Where the user's transform file goes in the asset: ``transform/<file name>``; the
    handler finds it there through ``TRANSFORM_MODULE`` (``handlers/transforms.py``)."""
    return f"{TRANSFORM_FOLDER}/{Path(transform_module).name}"


def handler_archive(
    folder: Path | None = None, transform_module: str | None = None
) -> pulumi.AssetArchive:
    """The code asset of a function: the handler modules, plus the user's transform file (one
    file, standard library only; see ``docs/handlers.md``) when ``transform_module`` names one
    (a path as given in the stack config, relative to the program's working directory)."""
    files: dict[str, pulumi.Asset | pulumi.Archive] = {
        name: pulumi.FileAsset(str(path)) for name, path in handler_files(folder).items()
    }
    if transform_module:
        files[transform_archive_path(transform_module)] = pulumi.FileAsset(
            str(Path(transform_module).resolve())
        )
    return pulumi.AssetArchive(files)
