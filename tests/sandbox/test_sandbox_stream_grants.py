"""Target placement in the sandbox: a function in the analytics account reads the prod stream
(directly, or through an enhanced fan-out consumer) only as its stream's and consumer's
resource policies allow; any other principal is denied, as in AWS.

The stream, consumer, roles, function and mapping are real moto resources in two accounts; the
documents are the program's own (``components/policies.py``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from botocore.exceptions import ClientError
from stream_replica.components import policies

from sandbox import crossaccount
from sandbox.emulator import Emulator
from sandbox.mocks import _foreign_kinesis_mapping
from sandbox.poller import StreamPoller
from tests.sandbox.test_sandbox_poller import ScriptedRuntime, _Function, placeholder_function

PROD = "111111111111"
POC = "999999999999"
REGION = "eu-west-1"
LAMBDA_TRUST = json.dumps(policies.lambda_trust_policy(POC))


@dataclass
class World:
    emulator: Emulator
    stream_arn: str
    consumer_arn: str
    replicator_role: str
    other_role: str

    def creds(self, role_arn: str) -> dict[str, Any]:
        return self.emulator.credentials_for_role(role_arn, "test")

    def kinesis_as(self, role_arn: str) -> Any:
        return self.emulator.new_session(self.creds(role_arn)).client("kinesis", region_name=REGION)


def _role(iam: Any, name: str, stream_arn: str, consumer_arn: str, *, wide: bool) -> str:
    arn = str(iam.create_role(RoleName=name, AssumeRolePolicyDocument=LAMBDA_TRUST)["Role"]["Arn"])
    if wide:  # an identity policy that allows every Kinesis call: only the grant can stop it
        document: dict[str, Any] = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "kinesis:*", "Resource": "*"}],
        }
    else:
        document = policies.document(
            policies.kinesis_read_statement(stream_arn),
            policies.kinesis_consumer_read_statement(consumer_arn),
        )
    iam.put_role_policy(RoleName=name, PolicyName="p", PolicyDocument=json.dumps(document))
    return arn


@pytest.fixture
def world() -> Iterator[World]:
    with crossaccount.routing(), Emulator(REGION) as emulator:
        kinesis = emulator.client("kinesis", PROD)
        kinesis.create_stream(StreamName="web-analytics", ShardCount=2)
        stream_arn = kinesis.describe_stream_summary(StreamName="web-analytics")[
            "StreamDescriptionSummary"
        ]["StreamARN"]
        consumer_arn = kinesis.register_stream_consumer(
            StreamARN=stream_arn, ConsumerName="stream-replica"
        )["Consumer"]["ConsumerARN"]
        iam = emulator.client("iam", POC)
        replicator = _role(iam, "stream-replica-replicator", stream_arn, consumer_arn, wide=False)
        other = _role(iam, "analyst", stream_arn, consumer_arn, wide=True)
        kinesis.put_resource_policy(
            ResourceARN=stream_arn,
            Policy=json.dumps(policies.stream_resource_policy(stream_arn, POC, replicator)),
        )
        kinesis.put_resource_policy(
            ResourceARN=consumer_arn,
            Policy=json.dumps(policies.consumer_resource_policy(consumer_arn, POC, replicator)),
        )
        for i in range(6):
            kinesis.put_record(StreamARN=stream_arn, Data=f"r{i}".encode(), PartitionKey=str(i))
        yield World(emulator, stream_arn, consumer_arn, replicator, other)


def test_the_replicator_role_reads_the_prod_stream_across_accounts(world: World) -> None:
    kinesis = world.kinesis_as(world.replicator_role)
    shards = kinesis.list_shards(StreamARN=world.stream_arn)["Shards"]
    assert len(shards) == 2
    data = []
    for shard in shards:
        iterator = kinesis.get_shard_iterator(
            StreamARN=world.stream_arn, ShardId=shard["ShardId"], ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        data += [
            r["Data"]
            for r in kinesis.get_records(StreamARN=world.stream_arn, ShardIterator=iterator)[
                "Records"
            ]
        ]
    assert sorted(data) == [f"r{i}".encode() for i in range(6)]
    consumer = kinesis.describe_stream_consumer(ConsumerARN=world.consumer_arn)
    assert consumer["ConsumerDescription"]["ConsumerStatus"] == "ACTIVE"
    assert crossaccount.decisions["denied"] == 0


@pytest.mark.parametrize(
    "call",
    [
        lambda k, w: k.list_shards(StreamARN=w.stream_arn),
        lambda k, w: k.describe_stream_summary(StreamARN=w.stream_arn),
        lambda k, w: k.get_shard_iterator(
            StreamARN=w.stream_arn, ShardId="shardId-000000000000", ShardIteratorType="LATEST"
        ),
        lambda k, w: k.describe_stream_consumer(ConsumerARN=w.consumer_arn),
    ],
    ids=["ListShards", "DescribeStreamSummary", "GetShardIterator", "DescribeStreamConsumer"],
)
def test_any_other_principal_is_denied_the_stream_read(world: World, call: Any) -> None:
    kinesis = world.kinesis_as(world.other_role)
    with pytest.raises(ClientError) as denied:
        call(kinesis, world)
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"
    assert world.other_role in denied.value.response["Error"]["Message"]
    creds = world.creds(world.other_role)
    with pytest.raises(ClientError, match="SubscribeToShard"):
        crossaccount.authorize(
            "SubscribeToShard",
            world.consumer_arn,
            creds["AccessKeyId"],
            creds["SecretAccessKey"],
            creds["SessionToken"],
        )


def test_the_replicator_role_may_not_write_the_stream(world: World) -> None:
    kinesis = world.kinesis_as(world.replicator_role)
    with pytest.raises(ClientError) as denied:
        kinesis.put_record(StreamARN=world.stream_arn, Data=b"x", PartitionKey="k")
    assert denied.value.response["Error"]["Code"] == "AccessDeniedException"


def _mapping(world: World, role_arn: str, source_arn: str) -> tuple[str, str]:
    """A function with ``role_arn`` in the POC account and its mapping on ``source_arn``, made
    as the sandbox's mocks make it (with Lambda's permission check)."""
    lam = world.emulator.client("lambda", POC)
    name = f"fn-{abs(hash((role_arn, source_arn))) % 10**6}"
    function_arn = placeholder_function(lam, name, role_arn)

    @dataclass
    class _Mocks:
        emulator: Emulator

    @dataclass
    class _Ctx:
        mocks: Any
        account: str
        region: str

        def client(self, service: str) -> Any:
            return world.emulator.client(service, self.account, self.region)

    mapping = _foreign_kinesis_mapping(
        _Ctx(_Mocks(world.emulator), POC, REGION),  # type: ignore[arg-type]
        {
            "EventSourceArn": source_arn,
            "FunctionName": function_arn,
            "StartingPosition": "TRIM_HORIZON",
            "BatchSize": 4,
            "FunctionResponseTypes": ["ReportBatchItemFailures"],
        },
    )
    return str(mapping["UUID"]), function_arn


@pytest.mark.parametrize("through_consumer", [False, True], ids=["shared", "efo"])
def test_a_poc_mapping_delivers_every_prod_record(world: World, through_consumer: bool) -> None:
    source = world.consumer_arn if through_consumer else world.stream_arn
    uuid, function_arn = _mapping(world, world.replicator_role, source)
    runtime = ScriptedRuntime(
        _Function("fn", function_arn, account_id=POC),
        world.replicator_role,
        world.creds(world.replicator_role),
        lambda batch: {"batchItemFailures": []},
    )
    poller = StreamPoller(world.emulator, POC, REGION, uuid, runtime)  # type: ignore[arg-type]
    assert poller.settings.consumer_arn == (source if through_consumer else None)
    assert poller.poll() == 6
    delivered = sorted(d for batch in runtime.batches for d in batch)
    assert delivered == [f"r{i}" for i in range(6)]
    assert all(len(b) <= 4 for b in runtime.batches)
    # A new record arrives on the next poll, once.
    world.emulator.client("kinesis", PROD).put_record(
        StreamARN=world.stream_arn, Data=b"late", PartitionKey="late"
    )
    assert poller.poll() == 1
    assert runtime.batches[-1] == ["late"]
    assert crossaccount.decisions["denied"] == 0


@pytest.mark.parametrize("through_consumer", [False, True], ids=["shared", "efo"])
def test_lambda_refuses_a_mapping_for_any_other_role(world: World, through_consumer: bool) -> None:
    source = world.consumer_arn if through_consumer else world.stream_arn
    with pytest.raises(ClientError) as refused:
        _mapping(world, world.other_role, source)
    assert refused.value.response["Error"]["Code"] == "InvalidParameterValueException"


def test_efo_poller_stops_at_a_revoked_consumer_grant(world: World) -> None:
    uuid, function_arn = _mapping(world, world.replicator_role, world.consumer_arn)
    runtime = ScriptedRuntime(
        _Function("fn", function_arn, account_id=POC),
        world.replicator_role,
        world.creds(world.replicator_role),
        lambda batch: {"batchItemFailures": []},
    )
    poller = StreamPoller(world.emulator, POC, REGION, uuid, runtime)  # type: ignore[arg-type]
    # The consumer's grant without SubscribeToShard: describing works, subscribing doesn't.
    narrowed = policies.consumer_resource_policy(world.consumer_arn, POC, world.replicator_role)
    narrowed["Statement"][0]["Action"] = ["kinesis:DescribeStreamConsumer"]
    world.emulator.client("kinesis", PROD).put_resource_policy(
        ResourceARN=world.consumer_arn, Policy=json.dumps(narrowed)
    )
    with pytest.raises(ClientError, match="SubscribeToShard"):
        poller.poll()
    assert runtime.batches == []


def test_demo_in_target_placement_with_efo_matches_the_default_counts() -> None:
    """The issue's acceptance run, small: prod deployed first with only the grant, the
    replicator in the POC account reading the prod stream's consumer."""
    import io

    from sandbox.demo import run
    from sandbox.plan import DemoOptions

    out = io.StringIO()
    result = run(
        DemoOptions(records=60, progress=False, placement="target", consumer_mode="efo"), out=out
    )
    assert result.failures == []
    assert (result.placement, result.consumer_mode) == ("target", "efo")
    assert result.prod_functions == 0
    assert result.crossaccount_allowed > 0 and result.crossaccount_denied == 0
    # The same stages ran in the POC account: every archived line equals its payload with the
    # transform and the pseudonymised e-mail, and no raw e-mail is in the table or the archive.
    assert result.fidelity_checked == 60 and result.fidelity_mismatches == 0
    final = json.loads(out.getvalue().strip().splitlines()[-1])
    assert {key: final[key] for key in DEFAULT_RUN_COUNTS} == DEFAULT_RUN_COUNTS


#: What the default run of 60 records ends with (tests/sandbox/test_sandbox_demo.py).
DEFAULT_RUN_COUNTS = {
    "produced": 60,
    "poison": 5,
    "replicated_items": 60,
    "duplicate_items": 0,
    "archived_lines": 60,
    "dead_lettered": 5,
    "replay_new_items": 0,
    "raw_pii_in_target": 0,
    "redriven": 0,
    "ok": True,
}
