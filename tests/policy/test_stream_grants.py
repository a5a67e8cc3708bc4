"""Target placement: the prod stream (and its enhanced fan-out consumer) grant exactly the
replicator's execution role in the analytics account exactly the reads its mapping needs.

Evaluated with the project's IAM evaluator (``iam_eval.py``) from the documents
``components/policies.py`` renders, with every other principal given the widest identity
policy it could have (``kinesis:*`` on ``*``): only the stream's or consumer's resource policy
stands between it and the data.
"""

from __future__ import annotations

import pytest
from stream_replica.components import policies

from .iam_eval import Request, evaluate

PROD = "111111111111"
POC = "999999999999"
OTHER = "333333333333"
STREAM = f"arn:aws:kinesis:eu-west-1:{PROD}:stream/web-analytics"
CONSUMER = f"{STREAM}/consumer/stream-replica:1700000000"
REPLICATOR = policies.role_arn(POC, "stream-replica-replicator")

STREAM_READS = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)
CONSUMER_READS = ("kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard")
#: What a principal might try besides reading: writes, consumer management, policy changes.
NOT_GRANTED = (
    "kinesis:PutRecord",
    "kinesis:PutRecords",
    "kinesis:DeleteStream",
    "kinesis:RegisterStreamConsumer",
    "kinesis:DeregisterStreamConsumer",
    "kinesis:PutResourcePolicy",
    "kinesis:GetResourcePolicy",
    "kinesis:UpdateShardCount",
    "kinesis:ListStreamConsumers",
)
EVERYTHING = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}],
}
#: The replicator's own identity policy in efo mode (target placement).
REPLICATOR_POLICY = policies.replicator_policy(
    source_stream_arn=STREAM,
    consumer_arn=CONSUMER,
    log_group_arn=f"arn:aws:logs:eu-west-1:{POC}:log-group:/aws/lambda/replicator",
    queue_arns=[f"arn:aws:sqs:eu-west-1:{POC}:dlq", f"arn:aws:sqs:eu-west-1:{POC}:failures"],
    access_mode="assume-role",
    table_arn=f"arn:aws:dynamodb:eu-west-1:{POC}:table/replica",
    placement="target",
)
STREAM_POLICY = policies.stream_resource_policy(STREAM, POC, REPLICATOR)
CONSUMER_POLICY = policies.consumer_resource_policy(CONSUMER, POC, REPLICATOR)

OTHER_PRINCIPALS = (
    f"arn:aws:iam::{POC}:role/analyst",  # anyone else in the analytics account
    f"arn:aws:iam::{POC}:role/stream-replica-archiver",
    f"arn:aws:iam::{POC}:role/team/stream-replica-replicator",  # same name, other path
    f"arn:aws:iam::{POC}:root",
    f"arn:aws:iam::{POC}:user/admin",
    f"arn:aws:iam::{OTHER}:role/stream-replica-replicator",  # same name, third account
    f"arn:aws:sts::{OTHER}:assumed-role/stream-replica-replicator/s",
)


def _decide(principal: str, action: str, resource: str, identity: dict) -> bool:
    policy = CONSUMER_POLICY if "/consumer/" in resource else STREAM_POLICY
    return evaluate(
        Request(principal, action, resource), identity_policies=[identity], resource_policy=policy
    ).allowed


@pytest.mark.parametrize(
    ("action", "resource"),
    [(a, STREAM) for a in STREAM_READS] + [(a, CONSUMER) for a in CONSUMER_READS],
)
def test_the_replicator_role_may_read_the_stream_and_consumer(action: str, resource: str) -> None:
    assert _decide(REPLICATOR, action, resource, REPLICATOR_POLICY)
    # ...also as the role session Lambda runs the function with.
    session = f"arn:aws:sts::{POC}:assumed-role/stream-replica-replicator/replicator"
    assert _decide(session, action, resource, REPLICATOR_POLICY)


@pytest.mark.parametrize("principal", OTHER_PRINCIPALS)
@pytest.mark.parametrize(
    ("action", "resource"),
    [(a, STREAM) for a in STREAM_READS] + [(a, CONSUMER) for a in CONSUMER_READS],
)
def test_any_other_principal_is_denied_the_read(principal: str, action: str, resource: str) -> None:
    assert not _decide(principal, action, resource, EVERYTHING)


@pytest.mark.parametrize("action", NOT_GRANTED)
@pytest.mark.parametrize("resource", [STREAM, CONSUMER])
def test_the_replicator_role_may_do_nothing_else(action: str, resource: str) -> None:
    assert not _decide(REPLICATOR, action, resource, EVERYTHING)


def test_stream_actions_are_not_granted_on_the_consumer_and_vice_versa() -> None:
    for action in STREAM_READS:
        assert not _decide(REPLICATOR, action, CONSUMER, EVERYTHING), action
    for action in CONSUMER_READS:
        if action == "kinesis:SubscribeToShard":
            continue  # SubscribeToShard addresses the consumer; the stream never sees it
        assert not _decide(REPLICATOR, action, STREAM, EVERYTHING), action


@pytest.mark.parametrize(
    ("document", "resource", "actions"),
    [(STREAM_POLICY, STREAM, STREAM_READS), (CONSUMER_POLICY, CONSUMER, CONSUMER_READS)],
    ids=["stream", "consumer"],
)
def test_grant_documents_name_no_public_principal_and_are_pinned(
    document: dict, resource: str, actions: tuple[str, ...]
) -> None:
    (statement,) = document["Statement"]
    assert statement["Effect"] == "Allow"
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{POC}:root"}
    assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": REPLICATOR}}
    assert statement["Resource"] == resource
    assert tuple(statement["Action"]) == actions
    read_only = ("kinesis:Describe", "kinesis:Get", "kinesis:List", "kinesis:SubscribeToShard")
    assert all(a.startswith(read_only) for a in statement["Action"])


def test_efo_identity_policy_names_exactly_the_stream_and_the_consumer() -> None:
    kinesis = [
        s
        for s in REPLICATOR_POLICY["Statement"]
        if any(a.startswith("kinesis:") for a in s["Action"])
    ]
    assert [(tuple(s["Action"]), tuple(s["Resource"])) for s in kinesis] == [
        (STREAM_READS, (STREAM,)),
        (CONSUMER_READS, (CONSUMER,)),
    ]
    actions = {a for s in REPLICATOR_POLICY["Statement"] for a in s["Action"]}
    assert "sts:AssumeRole" not in actions  # target placement writes its own table: no STS
    resources = {r for s in REPLICATOR_POLICY["Statement"] for r in s["Resource"]}
    assert "*" not in resources


def test_target_placement_needs_the_table_and_rejects_unknown_placements() -> None:
    with pytest.raises(ValueError, match="table_arn"):
        policies.replicator_policy(
            source_stream_arn=STREAM,
            log_group_arn="arn:aws:logs:eu-west-1:1:log-group:x",
            queue_arns=["arn:aws:sqs:eu-west-1:1:q"],
            access_mode="assume-role",
            placement="target",
        )
    with pytest.raises(ValueError, match="placement"):
        policies.replicator_policy(
            source_stream_arn=STREAM,
            log_group_arn="arn:aws:logs:eu-west-1:1:log-group:x",
            queue_arns=["arn:aws:sqs:eu-west-1:1:q"],
            access_mode="assume-role",
            table_arn="arn:aws:dynamodb:eu-west-1:1:table/t",
            placement="consumer",
        )
