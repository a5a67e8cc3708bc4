"""The redrive in both placements, with the cross-account decisions AWS takes.

In ``source`` placement the replicator's on-failure queue and the stream are both in prod: the
redrive role reads the stream with its own permissions. In ``target`` placement the queue is in
the analytics (POC) account and the stream in prod: the read crosses the account boundary, so
the stream's resource policy must admit the redrive role too (``redrive_role_arn`` of the
grant, config ``redriveRoleArn``); without it the read is denied, and the error names the
stream's policy and the setting. The stream, queue and roles are moto resources; the policies
are the program's own (``components/policies.py``), evaluated by the sandbox's cross-account
checks (:mod:`sandbox.crossaccount`)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from stream_replica.components import policies
from stream_replica.redrive import parse_invocation_record, read_range, redrive_queue
from stream_replica.redrive.aws_errors import StreamReadDenied, explain

from sandbox import crossaccount
from sandbox.emulator import Emulator

PROD = "111111111111"
POC = "999999999999"
REGION = "eu-west-1"
RECORDS = 6


class Placement:
    """A prod stream with records; the replicator's queue (holding one invocation record for
    the shard's records) and the redrive role in ``queue_account``."""

    def __init__(self, emulator: Emulator, queue_account: str) -> None:
        self.emulator = emulator
        kinesis = emulator.client("kinesis", PROD)
        kinesis.create_stream(StreamName="web-analytics", ShardCount=1)
        self.stream_arn = kinesis.describe_stream_summary(StreamName="web-analytics")[
            "StreamDescriptionSummary"
        ]["StreamARN"]
        self.kinesis = kinesis
        sequences = [
            kinesis.put_record(StreamARN=self.stream_arn, Data=f"r{i}".encode(), PartitionKey="p")[
                "SequenceNumber"
            ]
            for i in range(RECORDS)
        ]
        self.function_arn = f"arn:aws:lambda:{REGION}:{queue_account}:function:replicator"
        self.sqs = emulator.client("sqs", queue_account)
        self.queue_url = self.sqs.create_queue(QueueName="replicator-failures")["QueueUrl"]
        queue_arn = f"arn:aws:sqs:{REGION}:{queue_account}:replicator-failures"
        self.message = json.dumps(
            {
                "requestContext": {
                    "requestId": "r",
                    "functionArn": self.function_arn,
                    "condition": "RetryAttemptsExhausted",
                    "approximateInvokeCount": 3,
                },
                "responseContext": {"statusCode": 200, "functionError": "Unhandled"},
                "version": "1.0",
                "timestamp": "2026-11-29T12:00:00.000Z",
                "KinesisBatchInfo": {
                    "shardId": "shardId-000000000000",
                    "startSequenceNumber": sequences[0],
                    "endSequenceNumber": sequences[-1],
                    "batchSize": RECORDS,
                    "streamArn": self.stream_arn,
                },
            }
        )
        self.sqs.send_message(QueueUrl=self.queue_url, MessageBody=self.message)
        iam = emulator.client("iam", queue_account)
        trust = policies.document(
            {
                "Effect": "Allow",
                "Principal": {"AWS": policies.account_root_arn(queue_account)},
                "Action": "sts:AssumeRole",
            }
        )
        self.redrive_role = iam.create_role(
            RoleName="stream-replica-redrive", AssumeRolePolicyDocument=json.dumps(trust)
        )["Role"]["Arn"]
        iam.put_role_policy(
            RoleName="stream-replica-redrive",
            PolicyName="redrive",
            PolicyDocument=json.dumps(
                policies.redrive_policy(
                    failure_queue_arn=queue_arn,
                    stream_arn=self.stream_arn,
                    function_arn=self.function_arn,
                )
            ),
        )
        self.replicator_role = f"arn:aws:iam::{queue_account}:role/stream-replica-replicator"

    def grant(self, redrive_role_arn: str | None) -> None:
        """The prod stack's stream policy (target placement)."""
        self.kinesis.put_resource_policy(
            ResourceARN=self.stream_arn,
            Policy=json.dumps(
                policies.stream_resource_policy(
                    self.stream_arn, POC, self.replicator_role, redrive_role_arn=redrive_role_arn
                )
            ),
        )

    def clients(self) -> Any:
        session = self.emulator.new_session(
            self.emulator.credentials_for_role(self.redrive_role, "redrive")
        )
        return lambda service, region: session.client(service, region_name=region)


class Succeeds:
    def __init__(self) -> None:
        self.records: list[str] = []

    def invoke(self, function_arn: str, event: dict[str, Any]) -> Any:
        self.records += [r["kinesis"]["sequenceNumber"] for r in event["Records"]]
        return {"batchItemFailures": []}


@pytest.fixture
def emulator() -> Iterator[Emulator]:
    with crossaccount.routing(), Emulator(REGION) as emulator:
        yield emulator


def _redrive(world: Placement) -> tuple[Any, Succeeds]:
    invoker = Succeeds()
    report = redrive_queue(world.sqs, world.queue_url, world.clients(), invoker, progress=None)
    return report, invoker


def test_source_placement_redrives_with_the_roles_own_permissions(emulator: Emulator) -> None:
    world = Placement(emulator, queue_account=PROD)
    report, invoker = _redrive(world)
    assert (report.deleted, report.left, len(invoker.records)) == (1, 0, RECORDS)


def test_target_placement_redrives_when_the_grant_names_the_redrive_role(
    emulator: Emulator,
) -> None:
    world = Placement(emulator, queue_account=POC)
    world.grant(redrive_role_arn=world.redrive_role)
    denied_before = crossaccount.decisions["denied"]
    report, invoker = _redrive(world)
    assert (report.deleted, report.left, len(invoker.records)) == (1, 0, RECORDS)
    assert crossaccount.decisions["denied"] == denied_before


def test_target_placement_without_the_grant_is_denied_and_the_error_names_the_stream_policy(
    emulator: Emulator,
) -> None:
    world = Placement(emulator, queue_account=POC)
    world.grant(redrive_role_arn=None)  # the stream admits the replicator alone
    with pytest.raises(StreamReadDenied) as denied:
        read_range(world.clients(), parse_invocation_record(world.message))
    assert denied.value.stream_arn == world.stream_arn
    line = explain(denied.value, queue_url=world.queue_url, region=REGION)
    assert line is not None
    assert line.startswith(f"GetShardIterator on {world.stream_arn} was denied (AccessDenied")
    assert f"the stream is in account {PROD}, not the queue's account {POC}" in line
    assert "stream's resource policy must admit the role you run as" in line
    assert "redriveRoleArn" in line
    # The message stays in the queue: nothing was redriven.
    attributes = world.sqs.get_queue_attributes(
        QueueUrl=world.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    assert attributes["ApproximateNumberOfMessages"] == "1"
