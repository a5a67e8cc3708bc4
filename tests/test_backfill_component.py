"""``ArchiveBackfill`` under Pulumi mocks: the backfill Lambda, the distributed maps over the
manifest, the write budget split across the workers, least-privilege roles."""

from __future__ import annotations

import json
from typing import Any

import pytest
from stream_replica.components.backfill import (
    BACKFILL_HANDLER,
    ArchiveBackfill,
    ArchiveBackfillArgs,
    state_machine_policy,
)
from stream_replica.components.exceptions import SettingError
from stream_replica.testing import RenderedStack
from stream_replica.testing.mocks import run_components

from tests.policy.documents import IamDocument
from tests.policy.lint import lint

TABLE_ARN = "arn:aws:dynamodb:eu-west-1:999999999999:table/replica"


def render(**kwargs: Any) -> RenderedStack:
    values: dict[str, Any] = {
        "archive_bucket_name": "archive",
        "archive_prefix": "data/",
        "table_name": "replica",
        "table_arn": TABLE_ARN,
        "account_id": "999999999999",
        "write_rate": 200.0,
        "max_concurrency": 8,
    }
    values.update(kwargs)

    def build() -> dict[str, Any]:
        component = ArchiveBackfill("bf", ArchiveBackfillArgs(**values))
        return {"sm": component.state_machine_arn, "fn": component.function_name}

    return run_components(build)


def test_the_state_machine_fans_the_per_object_function_out_over_the_manifest():
    stack = render()
    function = stack.one("aws:lambda/function:Function")
    assert function.inputs["handler"] == BACKFILL_HANDLER
    env = function.inputs["environment"]["variables"]
    # The budget split across the workers: 200 items/s over 8 at once.
    assert env["BACKFILL_WRITE_RATE"] == "25"
    assert env["BACKFILL_TARGET"] == "replica" and env["BACKFILL_CHECKPOINT_PREFIX"] == "backfill/"
    machine = stack.one("aws:sfn/stateMachine:StateMachine")
    definition = json.loads(machine.inputs["definition"])
    states = definition["States"]
    assert list(states) == ["Plan", "Scan", "Tombstones", "Write", "Report"]
    for phase in ("Scan", "Write"):
        state = states[phase]
        assert state["ItemProcessor"]["ProcessorConfig"]["Mode"] == "DISTRIBUTED"
        assert state["MaxConcurrency"] == 8
        assert state["ItemReader"]["Parameters"] == {
            "Bucket.$": "$.plan.bucket",
            "Key.$": "$.plan.key",
        }
        task = state["ItemProcessor"]["States"]["Object"]
        assert task["Parameters"]["Payload"] == {"action": phase.lower(), "object.$": "$.object"}
    for resource in stack.resources:
        if resource.type.startswith("aws:"):
            assert resource.name.startswith("bf-"), resource.name


def test_the_roles_are_least_privilege_and_lint_clean():
    stack = render()
    policies = {
        r.name: json.loads(r.inputs["policy"])
        for r in stack.of_type("aws:iam/rolePolicy:RolePolicy")
    }
    worker = {s["Sid"]: (s["Action"], s["Resource"]) for s in policies["bf-policy"]["Statement"]}
    assert worker["WriteTargetTable"] == (["dynamodb:BatchWriteItem"], [TABLE_ARN])
    assert worker["ReadArchive"] == (["s3:GetObject"], ["arn:aws:s3:::archive/data/*"])
    assert worker["Checkpoints"] == (
        ["s3:GetObject", "s3:PutObject"],
        ["arn:aws:s3:::archive/backfill/*"],
    )
    machine = {s["Sid"]: s["Action"] for s in policies["bf-sfn-policy"]["Statement"]}
    assert machine["InvokeBackfill"] == ["lambda:InvokeFunction"]
    worker_doc = IamDocument("identity", "bf-policy", "t", policies["bf-policy"])
    assert [r.describe() for r in lint(worker_doc)] == []


def test_a_query_backfill_gets_the_query_writers_key_settings():
    stack = render(target="query", query_hash_attribute="user", query_range_attribute="ts")
    env = stack.one("aws:lambda/function:Function").inputs["environment"]["variables"]
    assert env["QUERY_HASH_ATTRIBUTE"] == "user" and env["QUERY_RANGE_ATTRIBUTE"] == "ts"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"target": "other"}, "target"),
        ({"target": "query"}, "query_hash_attribute"),
        ({"max_concurrency": 0}, "max_concurrency"),
        ({"write_rate": 0}, "write_rate"),
        ({"checkpoint_prefix": "data/cp/"}, "checkpoint_prefix"),
    ],
)
def test_settings_aws_or_the_backfill_would_refuse_are_refused(kwargs, field):
    values: dict[str, Any] = {
        "archive_bucket_name": "a",
        "archive_prefix": "data/",
        "table_name": "t",
        "table_arn": TABLE_ARN,
        "account_id": "999999999999",
    }
    with pytest.raises(SettingError) as error:
        ArchiveBackfillArgs(**{**values, **kwargs}).validate()
    assert error.value.field == field


def test_the_state_machine_may_watch_only_its_own_children():
    document = state_machine_policy(
        function_arn="arn:aws:lambda:eu-west-1:111111111111:function:f",
        checkpoint_bucket_arn="arn:aws:s3:::b",
        checkpoint_prefix="backfill/",
        state_machine_arn="arn:aws:states:eu-west-1:111111111111:stateMachine:sm",
    )
    watch = next(s for s in document["Statement"] if s["Sid"] == "WatchMapChildren")
    assert watch["Resource"] == ["arn:aws:states:eu-west-1:111111111111:execution:sm/*"]
    # parliament knows execution ARNs as <machine>:<execution> (and express ones); a
    # distributed map's children are <machine>/<map run>:<execution>, which AWS's
    # distributed-map policy example grants as execution:<machine>/*.
    findings = [r.describe() for r in lint(IamDocument("identity", "sfn", "t", document))]
    assert all("RESOURCE_MISMATCH" in f and "states:DescribeExecution" in f for f in findings)
