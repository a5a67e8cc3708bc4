"""The documented offline check (``stream_replica_policy.offline``): the pack on a Pulumi
Python program rendered under mocks, here another team's program written to a file."""

from __future__ import annotations

from pathlib import Path

import pytest
from stream_replica.testing import mocks as pulumi_mocks

from policy_pack.stream_replica_policy.offline import check_program, check_resources, main

from . import foreign_program
from .test_policy_pack_stacks import pack_violations

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def program_file(tmp_path: Path) -> Path:
    """The foreign program as a team has it: a ``__main__.py`` of its own."""
    main_py = tmp_path / "__main__.py"
    main_py.write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(REPO)!r})\n"
        "from tests.policy.foreign_program import program\n"
        "program()\n",
        encoding="utf-8",
    )
    return main_py


def test_the_offline_check_reports_what_the_pack_reports() -> None:
    rendered = pulumi_mocks.run_components(foreign_program.program)
    found = check_resources(rendered.resources)
    by_rule: dict[str, list[str]] = {}
    for violation in found:
        by_rule.setdefault(violation.rule, []).append(violation.message)
    assert by_rule == pack_violations(rendered.resources)


def test_a_foreign_program_file_breaks_each_rule_once(program_file: Path) -> None:
    found = check_program(program_file)
    assert sorted(v.rule for v in found) == sorted(foreign_program.VIOLATIONS)


def test_the_command_line_fails_on_a_mandatory_rule_and_honours_levels(
    program_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([str(program_file)]) == 1
    out = capsys.readouterr().out
    assert "mandatory iam-no-public-principal: " in out
    assert f"{len(foreign_program.VIOLATIONS)} violation(s)" in out

    assert main([str(program_file), "--level", "all=advisory"]) == 0
    assert "0 mandatory" in capsys.readouterr().out

    main([str(program_file), "--level", "log-group-retention=disabled"])
    assert "log-group-retention" not in capsys.readouterr().out


def test_the_template_has_the_packs_version() -> None:
    pack = REPO / "policy_pack"
    pyproject = (pack / "pyproject.toml").read_text(encoding="utf-8")
    version = next(
        line.split('"')[1] for line in pyproject.splitlines() if line.startswith("version = ")
    )
    template = (pack / "template" / "PulumiPolicy.yaml").read_text(encoding="utf-8")
    assert f"\nversion: {version}\n" in template


def test_the_programs_own_project_name_is_its_config_namespace(tmp_path: Path) -> None:
    """A program reads its config in its own project's namespace (``Pulumi.yaml``'s ``name``),
    so ``--config team-b:queueName=x`` reaches ``pulumi.Config().require("queueName")``."""
    (tmp_path / "Pulumi.yaml").write_text("name: team-b\nruntime: python\n", encoding="utf-8")
    main_py = tmp_path / "__main__.py"
    main_py.write_text(
        "import pulumi\n"
        "import pulumi_aws as aws\n"
        'aws.sqs.Queue("q", name=pulumi.Config().require("queueName"))\n',
        encoding="utf-8",
    )
    # renders: today's failure was ConfigMissingError for 'offline-check:queueName'
    check_program(main_py, config={"team-b:queueName": "orders"})
    # an explicit project still wins
    with pytest.raises(Exception, match="other:queueName"):
        check_program(main_py, config={"team-b:queueName": "orders"}, project="other")
