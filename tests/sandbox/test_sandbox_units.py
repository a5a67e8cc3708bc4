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
    from sandbox.demo import DemoOptions, StackPlan

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
