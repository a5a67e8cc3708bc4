"""Pieces of the sandbox that fail loudly: an unknown resource type, and the cross-account
policy decision that stands in for AWS's in resource-policy mode."""

from __future__ import annotations

import pulumi
import pytest

from sandbox.crossaccount import evaluate
from sandbox.emulator import Emulator
from sandbox.mocks import Deployment, EmulatorMocks, UnsupportedResourceError

TABLE = "arn:aws:dynamodb:eu-west-1:999999999999:table/replica"
WRITER = "arn:aws:iam::111111111111:role/ProdKinesisToPocDynamo-role"
OTHER = "arn:aws:iam::111111111111:role/someone-else"

IDENTITY = [
    {
        "Statement": [
            {"Effect": "Allow", "Action": ["dynamodb:BatchWriteItem"], "Resource": TABLE},
        ]
    }
]
RESOURCE = {
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::111111111111:root"},
            "Action": ["dynamodb:BatchWriteItem", "dynamodb:PutItem"],
            "Resource": TABLE,
            "Condition": {"ArnEquals": {"aws:PrincipalArn": WRITER}},
        }
    ]
}


def test_unsupported_resource_type_is_an_error_naming_it() -> None:
    mocks = EmulatorMocks(Emulator("eu-west-1"), Deployment("poc", "999999999999", "eu-west-1"))
    args = pulumi.runtime.MockResourceArgs(
        typ="aws:ec2/instance:Instance", name="web", inputs={}, custom=True
    )
    with pytest.raises(UnsupportedResourceError, match=r"aws:ec2/instance:Instance.*'web'"):
        mocks.new_resource(args)


def test_writer_role_is_allowed_by_both_policies() -> None:
    assert evaluate("dynamodb:BatchWriteItem", TABLE, WRITER, "111111111111", IDENTITY, RESOURCE)[0]


@pytest.mark.parametrize(
    ("action", "principal", "identity", "resource", "why"),
    [
        ("dynamodb:BatchWriteItem", OTHER, IDENTITY, RESOURCE, "resource-based"),
        ("dynamodb:DeleteTable", WRITER, IDENTITY, RESOURCE, "identity-based"),
        ("dynamodb:BatchWriteItem", WRITER, [], RESOURCE, "identity-based"),
        ("dynamodb:BatchWriteItem", WRITER, IDENTITY, None, "resource-based"),
        (
            "dynamodb:BatchWriteItem",
            WRITER,
            IDENTITY,
            {
                "Statement": [
                    *RESOURCE["Statement"],
                    {
                        "Effect": "Deny",
                        "Principal": "*",
                        "Action": "dynamodb:*",
                        "Resource": TABLE,
                    },
                ]
            },
            "explicit deny",
        ),
    ],
)
def test_cross_account_denials(action, principal, identity, resource, why) -> None:
    allowed, reason = evaluate(action, TABLE, principal, "111111111111", identity, resource)
    assert not allowed
    assert why in reason


def test_command_line_options_map_to_the_run() -> None:
    from sandbox.__main__ import parse_args

    options = parse_args(
        [
            "--records",
            "10",
            "--throttle-writes",
            "0.2",
            "--access-mode",
            "resource-policy",
            "--config",
            "batchSize=100",
            "--config",
            "createSourceStream=true",
        ]
    )
    assert (options.records, options.throttle_writes) == (10, 0.2)
    assert options.access_mode == "resource-policy"
    assert options.config_overrides == {"batchSize": 100, "createSourceStream": True}


def test_a_config_value_goes_to_the_stacks_that_read_it() -> None:
    """A key only one stack reads is set on that stack alone (the other refuses it as set but
    ignored); a key both read goes to both; ``poc.``/``prod.`` pick one explicitly."""
    from sandbox.plan import DemoOptions, StackPlan

    plan = StackPlan.load(
        DemoOptions(
            progress=False,
            config_overrides={
                "batchSize": 100,
                "createSourceStream": True,
                "archiverMemorySize": 1024,
                "poc.logLevel": "DEBUG",
            },
        )
    )
    assert plan.prod_overrides["createSourceStream"] is True
    assert "createSourceStream" not in plan.poc_overrides
    assert plan.poc_overrides["archiverMemorySize"] == 1024
    assert "archiverMemorySize" not in plan.prod_overrides
    assert plan.poc_overrides["batchSize"] == plan.prod_overrides["batchSize"] == 100
    assert plan.poc_overrides["logLevel"] == "DEBUG"
    assert "logLevel" not in plan.prod_overrides


@pytest.mark.parametrize(
    "argv", [["--throttle-writes", "1.5"], ["--config", "novalue"], ["--records", "-1"]]
)
def test_bad_command_lines_are_refused(argv: list[str], capsys) -> None:
    from sandbox.__main__ import parse_args

    with pytest.raises(SystemExit):
        parse_args(argv)
    assert "error:" in capsys.readouterr().err


def test_the_documented_final_json_lines_have_the_real_fields() -> None:
    """Every example of the final JSON line in the README and docs/sandbox.md has exactly the
    fields, in the order, that :meth:`DemoResult.final_json` prints, and the field table of
    docs/sandbox.md lists each of them."""
    import json
    import re
    from pathlib import Path

    from sandbox.report import DemoResult

    repo = Path(__file__).resolve().parents[2]
    real = list(json.loads(DemoResult().final_json()))
    examples = 0
    for doc in (repo / "README.md", repo / "docs" / "pipeline.md", repo / "docs" / "sandbox.md"):
        for line in re.findall(
            r'^\s*(\{"produced".*\})\s*$', doc.read_text(encoding="utf-8"), re.M
        ):
            assert list(json.loads(line)) == real, (doc.name, line)
            examples += 1
    assert examples >= 3
    table = (repo / "docs" / "sandbox.md").read_text(encoding="utf-8")
    assert [f for f in real if not re.search(rf"^\s*\| `{f}` \|", table, re.M)] == []


def test_a_skipped_step_is_null_in_the_final_json() -> None:
    import json

    from sandbox.report import DemoResult

    skipped = json.loads(DemoResult(produced=3).final_json())
    assert (skipped["replay_new_items"], skipped["redriven"]) == (None, None)
    ran = json.loads(DemoResult(replay_new_items=0, redriven=0).final_json())
    assert (ran["replay_new_items"], ran["redriven"]) == (0, 0)
