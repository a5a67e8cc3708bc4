"""The components work pip-installed (not editable), from outside this repository, typed.

Another Pulumi program depends on this repository with pip; the components must import as
``stream_replica.components`` and the Lambda asset must hold the handler files that were
installed with them, not whatever sits in that program's working folder.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from tests.local_install import pip_install_target

REPO = Path(__file__).resolve().parent.parent

#: Runs in a fresh interpreter, from a folder that holds a decoy ``handlers/`` package.
PROBE = r"""
import json, sys
import pulumi
from stream_replica.components import ReplicaTarget, ReplicaTargetArgs, assets
import stream_replica.components as components

class Mocks(pulumi.runtime.Mocks):
    def new_resource(self, args):
        return args.name + "-id", {**args.inputs, "arn": "arn:aws:x:eu-west-1:1:" + args.name,
                                   "streamArn": "arn:stream"}
    def call(self, args):
        return {}

pulumi.runtime.set_mocks(Mocks(), project="consumer", stack="dev", preview=False)
target = ReplicaTarget(
    "t", ReplicaTargetArgs(source_account_id="111111111111", replicator_role_name="r")
)
archive = assets.handler_archive()
print(json.dumps({
    "components": components.__file__,
    "handlers_dir": str(assets.handlers_dir()),
    "archive": {name: str(asset.path) for name, asset in archive.assets.items()},
    "component_type": type(target).__name__,
}))
"""


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory, build_backend: Path) -> Path:
    """``pip install --no-deps --target`` of a clean copy of the project.

    A real wheel build by the project's build backend (``[build-system] requires``, from the
    ``build_backend`` fixture: the environment a consumer's ``pip install`` builds in, without
    fetching it from the index each time), from a copy so the repository gets no ``build/`` or
    ``*.egg-info`` of it.
    """
    work = tmp_path_factory.mktemp("pkg")
    source = work / "src"
    source.mkdir()
    shutil.copy(REPO / "pyproject.toml", source)
    shutil.copy(REPO / "LICENSE", source)
    readme = REPO / "README.md"
    if readme.exists():
        shutil.copy(readme, source)
    else:  # the build reads it as the long description
        (source / "README.md").write_text("stream replica\n", encoding="utf-8")
    for package in (
        "backfill",
        "cli",
        "components",
        "cost",
        "handlers",
        "redrive",
        "status",
        "testing",
    ):
        shutil.copytree(
            REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    target = work / "site"
    pip_install_target(source, target, build_backend)
    return target


def test_installed_tree_holds_both_packages_and_only_python(installed: Path) -> None:
    package = installed / "stream_replica"
    assert (package / "components" / "__init__.py").is_file()
    assert (package / "components" / "policies.py").is_file()
    installed_handlers = sorted(p.name for p in (package / "handlers").glob("*.py"))
    repo_handlers = sorted(p.name for p in (REPO / "handlers").glob("*.py"))
    assert installed_handlers == repo_handlers
    assert "replicator.py" in installed_handlers and "archiver.py" in installed_handlers
    # The redrive command installs with them (python -m stream_replica.redrive).
    assert (package / "redrive" / "__main__.py").is_file()
    assert (package / "cost" / "__main__.py").is_file()  # python -m stream_replica.cost
    # So do the backfill command and what the commands share.
    assert (package / "backfill" / "__main__.py").is_file()
    assert (package / "cli" / "options.py").is_file()
    assert (package / "testing" / "mocks.py").is_file()
    assert (package / "testing" / "events.py").is_file()
    # PEP 561 markers, so a consumer's mypy checks its args against ours.
    for name in ("components", "handlers", "testing"):
        assert (package / name / "py.typed").is_file(), name
    licenses = list(installed.glob("crossaccount_stream_replica-*.dist-info/licenses/LICENSE"))
    assert licenses and "Apache License" in licenses[0].read_text(encoding="utf-8")


def test_components_import_and_package_the_installed_handlers(
    installed: Path, tmp_path: Path
) -> None:
    # A consumer program's folder with its own, unrelated handlers/ package: the asset must
    # not pick it up.
    decoy = tmp_path / "handlers"
    decoy.mkdir()
    (decoy / "__init__.py").write_text("DECOY = True\n", encoding="utf-8")
    (decoy / "replicator.py").write_text("raise SystemExit('decoy')\n", encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": str(installed)}
    result = subprocess.run(
        [sys.executable, "-c", PROBE],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=env,
    )
    report = json.loads(result.stdout.strip().splitlines()[-1])
    site = str(installed.resolve())
    assert report["components"].startswith(site)
    assert report["handlers_dir"] == str((installed / "stream_replica" / "handlers").resolve())
    archive = report["archive"]
    assert set(archive) == {f"handlers/{p.name}" for p in (REPO / "handlers").glob("*.py")}
    assert all(path.startswith(site) for path in archive.values()), archive
    assert not any("__pycache__" in name for name in archive)
    assert report["component_type"] == "ReplicaTarget"


#: A consumer program that misspells an args field (``tabel_name``).
CONSUMER = textwrap.dedent(
    """
    from stream_replica.components import ReplicaTarget, ReplicaTargetArgs
    from stream_replica.testing import render


    def program() -> None:
        ReplicaTarget(
            "clicks",
            ReplicaTargetArgs(source_account_id="111111111111", tabel_name="clicks"),
        )


    rendered = render(program)
    table_arn: str = rendered.one("aws:dynamodb/table:Table").state["arn"]
    """
)

#: Pulumi's and pulumi-aws's own modules are left out of the check (pulumi-aws alone is
#: thousands of modules, minutes of mypy): their types become ``Any``, ours are checked.
MYPY_CONFIG = """\
[mypy]
python_version = 3.11
[mypy-pulumi.*,pulumi_aws.*,boto3.*,botocore.*,grpc.*,google.*]
follow_imports = skip
ignore_missing_imports = True
"""


#: mypy's cache, kept between runs (ignored, like the repository's own): the standard library
#: and our installed modules are read again only when they change.
MYPY_CACHE = REPO / ".mypy_cache" / "consumer-programs"


@pytest.fixture(scope="module")
def mypy_on_consumers(
    installed: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[int, dict[str, list[str]], str]:
    """One mypy run over two consumer programs, ``misspelt.py`` (``CONSUMER``) and
    ``spelt_right.py`` (the same with ``table_name``), with the pip ``--target`` on the search
    path as the consumer's site-packages: mypy reads our annotations only because of
    ``py.typed``. Returns the status, each program's error lines and the whole output."""
    from mypy import api

    folder = tmp_path_factory.mktemp("consumers")
    programs = {
        "misspelt.py": CONSUMER,
        "spelt_right.py": CONSUMER.replace("tabel_name", "table_name"),
    }
    for name, text in programs.items():
        (folder / name).write_text(text, encoding="utf-8")
    config = folder / "mypy.ini"
    config.write_text(MYPY_CONFIG, encoding="utf-8")
    # Second on sys.path: mypy drops the first entry (the script's own folder).
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(sys, "path", [sys.path[0], str(installed), *sys.path[1:]])
        stdout, stderr, status = api.run(
            [
                "--config-file",
                str(config),
                "--cache-dir",
                str(MYPY_CACHE),
                *(str(folder / name) for name in programs),
            ]
        )
    output = stdout + stderr
    errors = {
        name: [line for line in output.splitlines() if ": error:" in line and name in line]
        for name in programs
    }
    return status, errors, output


def test_mypy_reports_a_misspelt_args_field_in_a_consumer_program(
    mypy_on_consumers: tuple[int, dict[str, list[str]], str],
) -> None:
    status, errors, output = mypy_on_consumers
    assert status == 1, output
    (error,) = errors["misspelt.py"]  # only the misspelling: the rest type-checks
    assert 'Unexpected keyword argument "tabel_name" for "ReplicaTargetArgs"' in error, output
    # No other error anywhere (our installed modules included).
    assert len([line for line in output.splitlines() if ": error:" in line]) == 1, output


def test_the_same_consumer_program_spelt_right_type_checks(
    mypy_on_consumers: tuple[int, dict[str, list[str]], str],
) -> None:
    _, errors, output = mypy_on_consumers
    assert errors["spelt_right.py"] == [], output
    assert "spelt_right.py" not in output, output
