"""Config errors a user meets in the first hour: one line each (a ``pulumi.RunError``), typos
named with the nearest known key, the two stacks' mismatches said as such, in both directions,
and the sandbox blaming the command line for what the command line set."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pulumi
import pytest
from stream_replica.components import StackConfigError

from sandbox.__main__ import main, parse_args
from sandbox.plan import DemoOptions, StackPlan
from stack_config.reader import aws_config_keys
from tests.stack_runs import run_stack
from tests.test_config import POC_OUTPUTS, POC_REFERENCE, PROD_REFERENCE

PROJECT = "kinesis-crossaccount-replica"
REPO = Path(__file__).resolve().parent.parent


def _refused(stack: str, overrides: dict[str, object], outputs: Mapping[str, object]) -> str:
    other = POC_REFERENCE if stack == "prod" else PROD_REFERENCE
    with pytest.raises(StackConfigError) as raised:
        run_stack(stack, overrides, stack_outputs={other: outputs})
    return str(raised.value)


def test_a_config_error_is_a_run_error_the_cli_prints_as_one_line() -> None:
    with pytest.raises(pulumi.RunError) as raised:
        run_stack("prod", {"batchSize": 0}, stack_outputs={POC_REFERENCE: POC_OUTPUTS})
    assert "\n" not in str(raised.value)
    assert isinstance(raised.value, ValueError)  # callers catching ValueError still do


def test_a_misspelt_project_namespace_is_refused_with_the_nearest_key() -> None:
    text = _refused("poc", {"kinesis-crossacount-replica:batchSize": 100}, {})
    assert text.startswith("Pulumi.poc.yaml: kinesis-crossacount-replica:batchSize: ")
    assert "unknown namespace 'kinesis-crossacount-replica'" in text
    assert f"did you mean {PROJECT}:batchSize?" in text


def test_a_misspelt_aws_key_is_refused_with_the_nearest_key() -> None:
    text = _refused("poc", {"aws:regoin": "eu-west-1"}, {})
    assert "aws:regoin: not a config key of the AWS provider" in text
    assert "did you mean aws:region?" in text


def test_a_misspelt_project_key_names_the_nearest_key() -> None:
    assert "did you mean batchSize?" in _refused("poc", {"batchSzie": 100}, {})


def test_the_aws_keys_are_read_from_the_provider_sdk() -> None:
    keys = aws_config_keys()
    assert {"region", "allowedAccountIds", "defaultTags", "profile"} <= keys
    assert "regoin" not in keys


def test_a_mismatch_says_what_the_other_stack_was_deployed_with_and_what_to_set() -> None:
    text = _refused("prod", {}, {**POC_OUTPUTS, "accessMode": "resource-policy"})
    assert "accessMode: is 'assume-role' here but the poc stack was deployed with " in text
    assert "set accessMode to 'resource-policy' in Pulumi.prod.yaml" in text


def test_a_ttl_days_mismatch_prints_the_number_as_the_stack_file_writes_it() -> None:
    """The engine hands a stack output's number over as a float."""
    text = _refused("prod", {"ttlDays": 30}, {**POC_OUTPUTS, "ttlDays": 0.0})
    assert "deployed with 0: the poc stack's ttlDays output is 0;" in text
    assert "0.0" not in text


def test_a_role_name_mismatch_names_the_role_name_to_set() -> None:
    arn = "arn:aws:iam::111111111111:role/OtherRole"
    text = _refused("prod", {}, {**POC_OUTPUTS, "replicatorRoleArn": arn})
    assert "set replicatorRoleName to 'OtherRole' in Pulumi.prod.yaml" in text


def test_a_poc_stack_in_source_placement_refuses_a_prod_stack_in_target_placement() -> None:
    prod = {"placement": "target", "consumerMode": "efo", "accessMode": "assume-role"}
    text = _refused("poc", {}, prod)
    assert text.startswith("Pulumi.poc.yaml: ")
    assert "the prod stack was deployed with 'target'" in text
    assert "set placement to 'target' in Pulumi.poc.yaml" in text


def test_an_unquoted_account_id_in_the_allowed_list_gets_the_hint_to_quote_it() -> None:
    text = _refused("poc", {"aws:allowedAccountIds": [12345678901]}, {})
    assert "quote account ids" in text


@pytest.mark.parametrize(
    ("override", "first", "second"),
    [
        ("poc.placement", "for the poc stack", "Pulumi.prod.yaml says 'source'"),
        ("prod.placement", "Pulumi.poc.yaml says 'source'", "for the prod stack"),
        ("poc.accessMode", "for the poc stack", "Pulumi.prod.yaml says 'assume-role'"),
    ],
)
def test_the_sandbox_refuses_stacks_that_disagree_before_deploying(
    override: str, first: str, second: str
) -> None:
    value = "resource-policy" if override.endswith("accessMode") else "target"
    with pytest.raises(StackConfigError) as raised:
        StackPlan.load(DemoOptions(config_overrides={override: value}))
    text = str(raised.value)
    assert text.index(first) < text.index(second), text
    assert "both stacks must agree" in text


def test_the_sandbox_blames_the_command_line_for_a_key_set_there(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["--records", "5", "--quiet", "--config", "batchSize=0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0, err
    assert err.startswith("sandbox: --config batchSize=0 (set on the command line")
    assert "not in Pulumi.poc.yaml" in err
    assert "batchSize: must be 1..10000, got 0" in err


def test_the_sandbox_refuses_zero_records() -> None:
    with pytest.raises(SystemExit):
        parse_args(["--records", "0"])


def test_the_sandbox_hints_to_quote_an_account_id_yaml_read_as_octal(tmp_path: Path) -> None:
    """``011111111111`` unquoted is octal to YAML 1.1: the stack file's id arrives as a number."""
    for name in ("Pulumi.yaml", "Pulumi.poc.yaml", "Pulumi.prod.yaml", "__main__.py"):
        (tmp_path / name).write_text((REPO / name).read_text(encoding="utf-8"), encoding="utf-8")
    poc = tmp_path / "Pulumi.poc.yaml"
    text = poc.read_text(encoding="utf-8")
    poc.write_text(text.replace('pocAccountId: "999999999999"', "pocAccountId: 011111111111"))
    with pytest.raises(StackConfigError) as raised:
        StackPlan.load(DemoOptions(project_dir=tmp_path))
    assert "pocAccountId: 1227133513 is not a 12-digit account id" in str(raised.value)
    assert "quote account ids" in str(raised.value)
