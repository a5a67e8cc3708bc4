"""Placement (where the replicator runs) and consumer mode (shared reads or enhanced fan-out),
component by component under mocks: what each side creates, and what it grants."""

from __future__ import annotations

import json
from typing import Any

import pytest
from stream_replica.components import (
    SettingError,
    StackConfigError,
    StreamReadGrant,
    StreamReadGrantArgs,
    policies,
)
from stream_replica.testing import RenderedStack
from stream_replica.testing.mocks import run_components

from stack_config.keys import STAGE_KEYS
from stack_config.references import agreements

PROD = "111111111111"
POC = "222222222222"
REGION = "eu-west-1"
STREAM_ARN = f"arn:aws:kinesis:{REGION}:{PROD}:stream/web-analytics"
REPLICATOR_ARN = f"arn:aws:iam::{POC}:role/stream-replica-replicator"
RESOURCE_POLICY = "aws:kinesis/resourcePolicy:ResourcePolicy"
CONSUMER = "aws:kinesis/streamConsumer:StreamConsumer"


def grant(**kwargs: Any) -> RenderedStack:
    settings: dict[str, Any] = {
        "stream_account_id": PROD,
        "reader_account_id": POC,
        "region": REGION,
        "replicator_role_name": "stream-replica-replicator",
        "source_stream_name": "web-analytics",
        **kwargs,
    }

    def build() -> dict[str, Any]:
        component = StreamReadGrant("grant", StreamReadGrantArgs(**settings))
        return {
            "stream_arn": component.stream_arn,
            "consumer_arn": component.consumer_arn,
            "replicator_role_arn": component.replicator_role_arn,
        }

    return run_components(build)


def _custom_types(stack: RenderedStack) -> list[str]:
    return sorted(r.type for r in stack.resources if r.custom)


def test_shared_grant_is_one_stream_policy_for_exactly_the_replicator_role() -> None:
    stack = grant()
    assert _custom_types(stack) == [RESOURCE_POLICY]
    (policy,) = stack.of_type(RESOURCE_POLICY)
    assert policy.inputs["resourceArn"] == STREAM_ARN
    assert policy.document("policy") == policies.stream_resource_policy(
        STREAM_ARN, POC, REPLICATOR_ARN
    )
    assert stack.outputs["stream_arn"] == STREAM_ARN
    assert stack.outputs["consumer_arn"] is None
    assert stack.outputs["replicator_role_arn"] == REPLICATOR_ARN


def test_efo_grant_registers_the_consumer_and_grants_it_after_it_exists() -> None:
    stack = grant(consumer_mode="efo", consumer_name="analytics-replica")
    assert _custom_types(stack) == [RESOURCE_POLICY, RESOURCE_POLICY, CONSUMER]
    consumer = stack.one(CONSUMER)
    assert consumer.inputs["name"] == "analytics-replica"
    assert consumer.inputs["streamArn"] == STREAM_ARN
    consumer_arn = consumer.state["arn"]
    assert stack.outputs["consumer_arn"] == consumer_arn
    by_target = {r.inputs["resourceArn"]: r for r in stack.of_type(RESOURCE_POLICY)}
    assert set(by_target) == {STREAM_ARN, consumer_arn}
    assert by_target[consumer_arn].document("policy") == policies.consumer_resource_policy(
        consumer_arn, POC, REPLICATOR_ARN
    )
    assert by_target[consumer_arn].depends_on(consumer)
    for policy in by_target.values():
        (statement,) = policy.document("policy")["Statement"]
        assert statement["Principal"] == {"AWS": f"arn:aws:iam::{POC}:root"}
        assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": REPLICATOR_ARN}}


def test_grant_by_stream_arn_and_role_path() -> None:
    other = f"arn:aws:kinesis:{REGION}:{PROD}:stream/clicks"
    stack = grant(source_stream_name=None, source_stream_arn=other, replicator_role_path="/team/")
    (policy,) = stack.of_type(RESOURCE_POLICY)
    assert policy.inputs["resourceArn"] == other
    (statement,) = json.loads(policy.inputs["policy"])["Statement"]
    assert statement["Condition"]["ArnEquals"]["aws:PrincipalArn"] == (
        f"arn:aws:iam::{POC}:role/team/stream-replica-replicator"
    )


REDRIVE_ROLE_ARN = f"arn:aws:iam::{POC}:role/ops/stream-replica-redrive"


@pytest.mark.parametrize("consumer_mode", ["shared", "efo"])
def test_a_redrive_role_is_granted_only_the_redrives_reads_of_the_stream(
    consumer_mode: str,
) -> None:
    """The redrive of the replicator's queue runs in the reader account (target placement):
    the stream admits that role too, for GetRecords and GetShardIterator only."""
    stack = grant(consumer_mode=consumer_mode, redrive_role_arn=REDRIVE_ROLE_ARN)
    by_target = {r.inputs["resourceArn"]: r for r in stack.of_type(RESOURCE_POLICY)}
    stream_policy = by_target.pop(STREAM_ARN).document("policy")
    assert stream_policy == policies.stream_resource_policy(
        STREAM_ARN, POC, REPLICATOR_ARN, redrive_role_arn=REDRIVE_ROLE_ARN
    )
    replicator, redrive = stream_policy["Statement"]
    assert replicator["Condition"] == {"ArnEquals": {"aws:PrincipalArn": REPLICATOR_ARN}}
    assert redrive == {
        "Sid": "RedriveRereadsStream",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{POC}:root"},
        "Action": ["kinesis:GetRecords", "kinesis:GetShardIterator"],
        "Resource": STREAM_ARN,
        "Condition": {"ArnEquals": {"aws:PrincipalArn": REDRIVE_ROLE_ARN}},
    }
    for consumer_policy in by_target.values():  # the redrive never reads through the consumer
        (statement,) = consumer_policy.document("policy")["Statement"]
        assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": REPLICATOR_ARN}}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"reader_account_id": PROD}, r"\.reader_account_id must differ"),
        ({"region": "nowhere"}, r"\.region is not an AWS region"),
        ({"source_stream_name": "bad name!"}, r"\.source_stream_name must match"),
        (
            {"source_stream_arn": f"arn:aws:sqs:{REGION}:{PROD}:q"},
            r"\.source_stream_arn must be a Kinesis stream ARN",
        ),
        (
            {"source_stream_arn": f"arn:aws:kinesis:{REGION}:999999999999:stream/web-analytics"},
            r"\.source_stream_arn is in account 999999999999, not the stream's account",
        ),
        (
            {"source_stream_arn": f"arn:aws:kinesis:{REGION}:{PROD}:stream/other"},
            r"\.source_stream_arn names stream 'other', but source_stream_name is",
        ),
        ({"reader_account_id": "12"}, r"\.reader_account_id must be a 12-digit"),
        ({"consumer_mode": "enhanced"}, r"\.consumer_mode must be one of shared, efo"),
        ({"source_stream_name": None}, r"\.source_stream_name is required"),
        ({"consumer_name": "has space"}, r"\.consumer_name must match"),
        ({"replicator_role_name": None}, r"\.replicator_role_name is required"),
        ({"replicator_role_path": "team"}, r"\.replicator_role_path .*start and end with '/'"),
        ({"redrive_role_arn": "ops-redrive"}, r"\.redrive_role_arn must be an IAM role ARN"),
        (
            {"redrive_role_arn": f"arn:aws:iam::{PROD}:role/ops-redrive"},
            r"\.redrive_role_arn must be a role in reader_account_id",
        ),
        (
            {"redrive_role_arn": f"arn:aws-cn:iam::{POC}:role/ops-redrive"},
            r"\.redrive_role_arn must be in partition 'aws'",
        ),
    ],
)
def test_grant_args_refuse_what_cannot_work(kwargs: dict[str, Any], message: str) -> None:
    settings: dict[str, Any] = {
        "stream_account_id": PROD,
        "reader_account_id": POC,
        "region": REGION,
        "replicator_role_name": "stream-replica-replicator",
        "source_stream_name": "web-analytics",
        **kwargs,
    }
    with pytest.raises(SettingError, match=rf"^StreamReadGrantArgs{message}"):
        StreamReadGrantArgs(**settings).validate()


# --- the stacks ---------------------------------------------------------------------------------

STACK_PROD = "111111111111"
STACK_POC = "999999999999"
STACK_STREAM = f"arn:aws:kinesis:{REGION}:{STACK_PROD}:stream/web-analytics"
STACK_REPLICATOR = f"arn:aws:iam::{STACK_POC}:role/ProdKinesisToPocDynamo-role"
POC_REFERENCE = "organization/kinesis-crossaccount-replica/poc"
PROD_REFERENCE = "organization/kinesis-crossaccount-replica/prod"
FUNCTION = "aws:lambda/function:Function"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
QUEUE = "aws:sqs/queue:Queue"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
TABLE_POLICY = "aws:dynamodb/resourcePolicy:ResourcePolicy"


def _target(consumer_mode: str, **overrides: Any) -> dict[str, Any]:
    return {"placement": "target", "consumerMode": consumer_mode, **overrides}


#: The example prod stack's redaction keys, moved out of prod as target placement requires.
MOVED = dict.fromkeys(STAGE_KEYS)


def _prod_target(consumer_mode: str) -> RenderedStack:
    from tests.stack_runs import run_stack

    return run_stack("prod", _target(consumer_mode, **MOVED), stack_outputs={POC_REFERENCE: {}})


def test_prod_in_target_placement_refuses_the_replicators_redaction() -> None:
    """Left in prod, the redaction would be silently dropped and raw values would reach the
    analytics account: refused, naming the key and where it goes."""
    from tests.stack_runs import run_stack

    with pytest.raises(StackConfigError) as raised:
        run_stack("prod", _target("shared"), stack_outputs={POC_REFERENCE: {}})
    text = str(raised.value)
    assert text.startswith("Pulumi.prod.yaml: kinesis-crossaccount-replica:pseudonymizeFields:")
    assert "in target placement the poc stack runs the replicator" in text
    assert "move it to the poc stack's file" in text


def test_prod_in_target_placement_grants_the_configured_redrive_role() -> None:
    from tests.stack_runs import run_stack

    role = f"arn:aws:iam::{STACK_POC}:role/stream-replica-redrive"
    prod = run_stack(
        "prod",
        _target("shared", redriveRoleArn=role, **MOVED),
        stack_outputs={POC_REFERENCE: {}},
    )
    (policy,) = prod.of_type(RESOURCE_POLICY)
    assert policy.document("policy") == policies.stream_resource_policy(
        STACK_STREAM, STACK_POC, STACK_REPLICATOR, redrive_role_arn=role
    )


def test_a_redrive_role_outside_target_placement_is_refused() -> None:
    """In source placement the redrive runs in prod next to the stream: the key would be set
    but ignored."""
    from tests.stack_runs import run_stack

    role = f"arn:aws:iam::{STACK_POC}:role/stream-replica-redrive"
    with pytest.raises(StackConfigError, match="redriveRoleArn: is read in target"):
        run_stack("prod", {"redriveRoleArn": role}, stack_outputs={POC_REFERENCE: {}})


def _poc_target(consumer_mode: str, prod: RenderedStack, **overrides: Any) -> RenderedStack:
    from tests.stack_runs import run_stack

    return run_stack(
        "poc",
        _target(consumer_mode, **overrides),
        stack_outputs={PROD_REFERENCE: prod.outputs},
    )


@pytest.mark.parametrize("consumer_mode", ["shared", "efo"])
def test_prod_in_target_placement_holds_only_the_grant(consumer_mode: str) -> None:
    prod = _prod_target(consumer_mode)
    custom = {r.type for r in prod.resources if r.custom and not r.type.startswith("pulumi:")}
    expected = {RESOURCE_POLICY} | ({CONSUMER} if consumer_mode == "efo" else set())
    assert custom == expected
    for kind in (FUNCTION, ROLE, QUEUE, MAPPING, ALARM):
        assert prod.of_type(kind) == []
    assert prod.outputs["placement"] == "target"
    assert prod.outputs["consumerMode"] == consumer_mode
    assert prod.outputs["sourceStreamArn"] == STACK_STREAM
    assert prod.outputs["replicatorRoleArn"] == STACK_REPLICATOR
    if consumer_mode == "efo":
        assert prod.outputs["streamConsumerArn"] == prod.one(CONSUMER).state["arn"]
    else:
        assert prod.outputs.get("streamConsumerArn") is None


@pytest.mark.parametrize("consumer_mode", ["shared", "efo"])
def test_poc_in_target_placement_runs_the_replicator_on_the_prod_stream(
    consumer_mode: str,
) -> None:
    prod = _prod_target(consumer_mode)
    poc = _poc_target(consumer_mode, prod)
    reference = poc.one("pulumi:pulumi:StackReference", PROD_REFERENCE)
    assert reference.inputs["name"] == PROD_REFERENCE
    mapping = poc.one(MAPPING, "replica-source-mapping")
    expected_source = prod.outputs["streamConsumerArn"] if consumer_mode == "efo" else STACK_STREAM
    assert mapping.inputs["eventSourceArn"] == expected_source
    role = poc.one(ROLE, "replica-source-role")
    assert role.state["arn"] == STACK_REPLICATOR
    (trust,) = role.document("assumeRolePolicy")["Statement"]
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": STACK_POC}}
    # No STS and no table resource policy: the replicator writes its own account's table.
    assert [r.name for r in poc.of_type(ROLE) if "writer" in r.name] == []
    assert poc.of_type(TABLE_POLICY) == []
    env = poc.one(FUNCTION, "replica-source-function").inputs["environment"]["variables"]
    assert "WRITER_ROLE_ARN" not in env
    assert env["TABLE_ARN"].split(":")[4] == STACK_POC
    actions = {
        a
        for s in poc.one(ROLE_POLICY, "replica-source-policy").document("policy")["Statement"]
        for a in s["Action"]
    }
    assert "sts:AssumeRole" not in actions
    assert poc.outputs["placement"] == "target"
    assert (
        poc.outputs["replicatorFunctionName"]
        == poc.one(FUNCTION, "replica-source-function").state["name"]
    )


def test_source_placement_efo_maps_the_replicator_on_its_own_consumer() -> None:
    from tests.stack_runs import run_stack

    prod = run_stack("prod", {"consumerMode": "efo"})
    consumer = prod.one(CONSUMER)
    assert consumer.inputs["streamArn"] == STACK_STREAM
    mapping = prod.one(MAPPING)
    assert mapping.inputs["eventSourceArn"] == consumer.state["arn"]
    statements = prod.one(ROLE_POLICY).document("policy")["Statement"]
    by_sid = {s["Sid"]: (s["Action"], s["Resource"]) for s in statements}
    assert by_sid["ReadStreamConsumer"] == (
        ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"],
        [consumer.state["arn"]],
    )
    assert by_sid["ReadSourceStream"][1] == [STACK_STREAM]
    # No resource policies in source placement: the replicator reads its own account's stream.
    assert prod.of_type(RESOURCE_POLICY) == []


@pytest.mark.parametrize("consumer_mode", ["shared", "efo"])
def test_alarms_fit_the_consumer_mode(consumer_mode: str) -> None:
    from tests.stack_runs import run_stack

    prod = run_stack("prod", {"consumerMode": consumer_mode})
    metrics = {a.inputs["metricName"]: a.inputs for a in prod.of_type(ALARM)}
    assert "IteratorAge" in metrics  # both modes
    throttled = metrics.get("ReadProvisionedThroughputExceeded")
    if consumer_mode == "shared":
        assert throttled is not None
        assert throttled["namespace"] == "AWS/Kinesis"
        assert throttled["dimensions"] == {"StreamName": "web-analytics"}
    else:
        assert throttled is None


@pytest.mark.parametrize("output", [a.output for a in agreements("target") if not a.missing_ok])
def test_target_placement_agreement_outputs_are_required(output: str) -> None:
    from tests.stack_runs import run_stack

    prod = _prod_target("shared")
    outputs = {k: v for k, v in prod.outputs.items() if k != output}
    with pytest.raises(ValueError, match=f"has no output '{output}'"):
        run_stack("poc", _target("shared"), stack_outputs={PROD_REFERENCE: outputs})


def test_poc_in_target_placement_refuses_a_prod_stack_in_source_placement() -> None:
    from tests.stack_runs import run_stack

    prod = run_stack("prod")  # source placement (the stack files' default)
    with pytest.raises(ValueError, match=r"Pulumi\.poc\.yaml: .*:placement: .*both stacks"):
        _poc_target("shared", prod)


def test_poc_in_target_placement_refuses_another_consumer_mode() -> None:
    prod = _prod_target("shared")
    with pytest.raises(ValueError, match=r"Pulumi\.poc\.yaml: .*:consumerMode: .*both stacks"):
        _poc_target("efo", prod)


def test_prod_in_source_placement_refuses_a_poc_stack_in_target_placement() -> None:
    from tests.stack_runs import run_stack

    prod = _prod_target("shared")
    poc = _poc_target("shared", prod)
    with pytest.raises(ValueError, match=r"Pulumi\.prod\.yaml: .*:placement: .*both stacks"):
        run_stack("prod", stack_outputs={POC_REFERENCE: poc.outputs})


def test_prod_in_target_placement_refuses_a_deployed_poc_stack_in_source_placement() -> None:
    from tests.stack_runs import run_stack

    poc = run_stack("poc")
    with pytest.raises(ValueError, match=r"Pulumi\.prod\.yaml: .*:placement: .*both stacks"):
        run_stack("prod", _target("shared", **MOVED), stack_outputs={POC_REFERENCE: poc.outputs})


def test_poc_in_target_placement_from_explicit_config() -> None:
    from tests.stack_runs import run_stack

    consumer = f"{STACK_STREAM}/consumer/analytics:1767225600"
    poc = run_stack(
        "poc",
        _target(
            "efo", prodStackReference="", sourceStreamArn=STACK_STREAM, streamConsumerArn=consumer
        ),
    )
    # Only the stack's reference to itself (deployed_settings.py), none to the prod stack.
    assert [r.name for r in poc.of_type("pulumi:pulumi:StackReference")] == ["deployed-settings"]
    assert poc.one(MAPPING, "replica-source-mapping").inputs["eventSourceArn"] == consumer
    with pytest.raises(ValueError, match=r"Pulumi\.poc\.yaml: .*:streamConsumerArn: "):
        run_stack("poc", _target("efo", prodStackReference="", sourceStreamArn=STACK_STREAM))


# --- one program, two providers: CrossAccountStreamReplica in target placement ---------------


def test_whole_replica_in_target_placement_leaves_only_the_grant_in_the_stream_account() -> None:
    import pulumi_aws as aws
    from stream_replica.components import (
        CrossAccountStreamReplica,
        CrossAccountStreamReplicaArgs,
        FunctionSettings,
        ReplicaSourceArgs,
        ReplicaTargetArgs,
    )

    def build() -> dict[str, Any]:
        prod = aws.Provider("prod-account", region=REGION, allowed_account_ids=[PROD])
        poc = aws.Provider("poc-account", region=REGION, allowed_account_ids=[POC])
        replica = CrossAccountStreamReplica(
            "replica",
            CrossAccountStreamReplicaArgs(
                source=ReplicaSourceArgs(
                    account_id=PROD,
                    region=REGION,
                    source_stream_name="web-analytics",
                    placement="target",
                    consumer_mode="efo",
                    function=FunctionSettings(role_name="replicator"),
                ),
                target=ReplicaTargetArgs(source_account_id=PROD),
                source_provider=prod,
                target_provider=poc,
                target_account_id=POC,
            ),
        )
        return {"replicator_role_arn": replica.replicator_role_arn}

    stack = run_components(build)
    in_prod = {r.type for r in stack.resources if r.provider_name == "prod-account"}
    assert in_prod == {RESOURCE_POLICY, CONSUMER}
    consumer = stack.one(CONSUMER)
    assert consumer.inputs["streamArn"] == STREAM_ARN
    function = stack.one("aws:lambda/function:Function")
    assert function.provider_name == "poc-account"
    assert stack.outputs["replicator_role_arn"] == f"arn:aws:iam::{POC}:role/replicator"
    mapping = stack.one("aws:lambda/eventSourceMapping:EventSourceMapping")
    assert mapping.inputs["eventSourceArn"] == consumer.state["arn"]
    # The grant exists before the replicator (and so before Lambda creates the mapping).
    replicator = stack.one("stream-replica:index:ReplicaSource")
    for grant in stack.of_type(RESOURCE_POLICY):
        assert replicator.depends_on(grant), grant.name
    granted = {
        r.inputs["resourceArn"]: r.document("policy")["Statement"][0]["Condition"]
        for r in stack.of_type(RESOURCE_POLICY)
    }
    assert granted == {
        arn: {"ArnEquals": {"aws:PrincipalArn": f"arn:aws:iam::{POC}:role/replicator"}}
        for arn in (STREAM_ARN, consumer.state["arn"])
    }
    # No writer role and no table policy: the replicator writes its own account's table.
    assert [r for r in stack.of_type("aws:iam/role:Role") if "writer" in r.name] == []
    assert stack.of_type("aws:dynamodb/resourcePolicy:ResourcePolicy") == []
