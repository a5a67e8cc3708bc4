"""Settings refused at preview that would otherwise render silently and fail (or do nothing) at
run time, each error naming the stack file and the config key."""

from __future__ import annotations

import pytest
from stream_replica.components import StackConfigError

from tests.stack_runs import run_stack

KEY_ARN = "arn:aws:ssm:eu-west-1:111111111111:parameter/analytics/key"

REFUSED: list[tuple[str, dict[str, object], str]] = [
    # the pseudonymisation key parameter: form, region and account
    (
        "prod",
        {
            "pseudonymizeFields": ["userEmail"],
            "pseudonymizationKeyParameter": "arn:aws:ssm:eu-west-1:111111111111:parameter//key",
        },
        "pseudonymizationKeyParameter: is not the ARN of a Systems Manager parameter",
    ),
    (
        "prod",
        {"pseudonymizeFields": ["userEmail"], "pseudonymizationKeyParameter": "/analytics//key"},
        "pseudonymizationKeyParameter: must be an SSM parameter name",
    ),
    (
        "prod",
        {"pseudonymizeFields": ["userEmail"], "pseudonymizationKeyParameter": "analytics/key"},
        "pseudonymizationKeyParameter: must be an SSM parameter name",
    ),
    (
        "prod",
        {"pseudonymizeFields": ["userEmail"], "pseudonymizationKeyParameter": "/a" * 16},
        "pseudonymizationKeyParameter: must be an SSM parameter name",
    ),
    (
        "prod",
        {
            "pseudonymizeFields": ["userEmail"],
            "pseudonymizationKeyParameter": KEY_ARN.replace("eu-west-1", "us-east-1"),
        },
        "pseudonymizationKeyParameter: is in region us-east-1, not the replicator's region "
        "eu-west-1",
    ),
    (
        "prod",
        {
            "pseudonymizeFields": ["userEmail"],
            "pseudonymizationKeyParameter": KEY_ARN.replace("111111111111", "999999999999"),
        },
        "pseudonymizationKeyParameter: is in account 999999999999, not the replicator's account "
        "111111111111",
    ),
]


@pytest.mark.parametrize(
    ("stack", "overrides", "message"),
    REFUSED,
    ids=[f"{stack}-{message.split(':')[0]}-{i}" for i, (stack, _, message) in enumerate(REFUSED)],
)
def test_refused_at_preview_naming_the_stack_file_and_key(
    stack: str, overrides: dict[str, object], message: str
) -> None:
    with pytest.raises(StackConfigError) as raised:
        run_stack(stack, overrides)
    text = str(raised.value)
    assert text.startswith(f"Pulumi.{stack}.yaml: "), text
    assert message in text, text


ACCEPTED: list[tuple[str, dict[str, object]]] = [
    ("prod", {"pseudonymizeFields": ["userEmail"], "pseudonymizationKeyParameter": KEY_ARN}),
    ("prod", {"pseudonymizeFields": ["userEmail"], "pseudonymizationKeyParameter": "/a" * 15}),
    ("prod", {"pseudonymizeFields": ["userEmail"], "pseudonymizationKeyParameter": "key.v1"}),
]


@pytest.mark.parametrize(("stack", "overrides"), ACCEPTED)
def test_accepted_settings_render(stack: str, overrides: dict[str, object]) -> None:
    assert run_stack(stack, overrides).resources
