"""The sandbox's redrive pass: ``stream_replica.redrive`` run against the emulator.

The command's own code (:func:`stream_replica.redrive.redrive_queue`) reads each on-failure
queue and re-reads the ranges through the emulator's Kinesis and DynamoDB Streams APIs; only the
invoker differs: moto runs no Lambda code, so :class:`RuntimeInvoker` runs the function's
deployed asset with its environment and role credentials, as the pollers do
(:class:`~sandbox.lambda_runtime.FunctionRuntime`). Injected crashes (``--crash-invocations``)
model the event source mapping's invocations and are not applied here; throttled writes and
failed Firehose puts are (they are botocore hooks every client sees).

:func:`range_snapshot` and :func:`count_redriven` count the redrive's result from what the
emulated accounts hold: records of the named ranges that are now items in the table (or
dead-lettered), and items of the named table-stream ranges that are now lines in S3 (or
dead-lettered).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from stream_replica.components import policies
from stream_replica.redrive import (
    FailedRange,
    FunctionFailed,
    RedriveOptions,
    RedriveReport,
    parse_invocation_record,
    redrive_queue,
)
from stream_replica.redrive.messages import KINESIS
from stream_replica.redrive.queue_messages import read_all_messages

from .emulator import Emulator
from .lambda_runtime import FunctionError, FunctionRuntime
from .plan import REDRIVE_ROLE_NAME
from .poller import StreamPoller


class RuntimeInvoker:
    """Invokes a deployed function in-process (see the module docstring)."""

    def __init__(self, runtimes: Iterable[FunctionRuntime]) -> None:
        self._by_arn = {runtime.function.arn: runtime for runtime in runtimes}
        self.invocations = 0

    def invoke(self, function_arn: str, event: dict[str, Any]) -> Any:
        runtime = self._by_arn.get(function_arn)
        if runtime is None:
            raise FunctionFailed("ResourceNotFoundException", f"no function {function_arn}")
        self.invocations += 1
        try:
            return runtime.invoke(event)
        except FunctionError as exc:
            raise FunctionFailed(exc.error_type, str(exc)) from None


def _queue_of(emulator: Emulator, poller: StreamPoller) -> tuple[Any, str]:
    destination = poller.settings.on_failure_arn
    if not destination:
        raise RuntimeError(f"{poller.runtime.function.name}: no on-failure destination")
    _, _, _, region, account, name = destination.split(":", 5)
    sqs = emulator.client("sqs", account, region)
    return sqs, str(sqs.get_queue_url(QueueName=name)["QueueUrl"])


def redrive_role(emulator: Emulator, poller: StreamPoller) -> str:
    """The role an operator runs the redrive of ``poller``'s queue with: ``REDRIVE_ROLE_NAME``
    in the queue's account, holding exactly :func:`policies.redrive_policy` for this mapping
    (one inline policy per function). Created on first use; returns its ARN."""
    destination = str(poller.settings.on_failure_arn)
    account = destination.split(":")[4]
    iam = emulator.client("iam", account)
    try:
        iam.get_role(RoleName=REDRIVE_ROLE_NAME)
    except iam.exceptions.NoSuchEntityException:
        iam.create_role(
            RoleName=REDRIVE_ROLE_NAME,
            AssumeRolePolicyDocument=json.dumps(
                policies.document(
                    {
                        "Effect": "Allow",
                        "Principal": {"AWS": policies.account_root_arn(account)},
                        "Action": "sts:AssumeRole",
                    }
                )
            ),
        )
    iam.put_role_policy(
        RoleName=REDRIVE_ROLE_NAME,
        PolicyName=f"redrive-{poller.runtime.function.name}",
        PolicyDocument=json.dumps(
            policies.redrive_policy(
                failure_queue_arn=destination,
                stream_arn=poller.settings.stream_arn,
                function_arn=poller.settings.function_arn,
            )
        ),
    )
    return f"arn:aws:iam::{account}:role/{REDRIVE_ROLE_NAME}"


def redrive_pass(
    emulator: Emulator,
    poller: StreamPoller,
    invoker: RuntimeInvoker,
    *,
    dry_run: bool = False,
) -> RedriveReport:
    """Redrive the on-failure queue of ``poller``'s mapping as an operator would: as the
    redrive role of the queue's account (:func:`redrive_role`). In target placement the
    replicator's queue is in the POC account and the stream in prod: the read is allowed only
    because the prod stack's stream policy grants that role (``redriveRoleArn``)."""
    _, url = _queue_of(emulator, poller)
    role_arn = redrive_role(emulator, poller)
    session = emulator.new_session(emulator.credentials_for_role(role_arn, "redrive"))
    sqs = session.client("sqs", region_name=str(poller.settings.on_failure_arn).split(":")[3])

    def clients(service: str, region: str) -> Any:
        return session.client(service, region_name=region)

    return redrive_queue(sqs, url, clients, invoker, RedriveOptions(dry_run=dry_run), progress=None)


@dataclass
class RangeSnapshot:
    """The ranges an on-failure queue names, taken before the redrive."""

    ranges: list[FailedRange] = field(default_factory=list)
    #: for table-stream ranges: the (seqNumbershardIdHash, sequenceNumber) of each record
    item_keys: set[tuple[str, str]] = field(default_factory=set)
    #: for table-stream ranges: their stream sequence numbers
    stream_sequences: set[str] = field(default_factory=set)

    @property
    def records(self) -> int:
        return sum(r.batch_size for r in self.ranges)


def range_snapshot(emulator: Emulator, poller: StreamPoller) -> RangeSnapshot:
    """The ranges in ``poller``'s on-failure queue (the messages stay in it), and for a table
    stream the item keys of the records they name, read from the emulator's stream."""
    sqs, url = _queue_of(emulator, poller)
    snapshot = RangeSnapshot(
        ranges=[parse_invocation_record(m["Body"]) for m in read_all_messages(sqs, url)]
    )
    stream_ranges = [r for r in snapshot.ranges if r.kind != KINESIS]
    if stream_ranges:
        from moto.dynamodb.models import dynamodb_backends

        for rng in stream_ranges:
            _, _, _, region, account, resource = rng.stream_arn.split(":", 5)
            table = dynamodb_backends[account][region].get_table(resource.split("/")[1])
            shard = table.stream_shard
            if shard is None:
                continue
            first = shard.starting_sequence_number
            for number in range(max(int(rng.start), first), int(rng.end) + 1):
                index = number - first
                if index >= len(shard.items):
                    break
                record = shard.items[index].to_json()["dynamodb"]
                keys = record["Keys"]
                snapshot.item_keys.add(
                    (str(keys["seqNumbershardIdHash"]["S"]), str(keys["sequenceNumber"]["S"]))
                )
                snapshot.stream_sequences.add(str(record["SequenceNumber"]))
    return snapshot


def count_redriven(
    kinesis: RangeSnapshot,
    table_keys: Iterable[tuple[str, str]],
    replicator_dead_letters: Iterable[dict[str, Any]],
    table_stream: RangeSnapshot,
    archived_keys: set[tuple[str, str]],
    archiver_dead_letters: Iterable[dict[str, Any]],
) -> int:
    """Records of the named ranges that the accounts now hold: Kinesis ranges' records as table
    items (``(shardId, sequenceNumber)`` in ``table_keys``) or replicator dead letters; table
    stream ranges' items as archived lines (``(seqNumbershardIdHash, sequenceNumber)`` in
    ``archived_keys``) or archiver dead letters."""
    by_shard: dict[str, list[FailedRange]] = {}
    for rng in kinesis.ranges:
        by_shard.setdefault(rng.shard_id, []).append(rng)
    held: set[tuple[str, str]] = set()

    def in_ranges(shard: str, sequence: str) -> bool:
        return sequence.isdecimal() and any(
            r.position(sequence) == 0 for r in by_shard.get(shard, [])
        )

    for shard, sequence in table_keys:
        if in_ranges(shard, sequence):
            held.add((shard, sequence))
    for body in replicator_dead_letters:
        shard, sequence = str(body.get("shardId")), str(body.get("sequenceNumber"))
        if in_ranges(shard, sequence):
            held.add((shard, sequence))
    archived = table_stream.item_keys & archived_keys
    dead = {
        str(body.get("sequenceNumber"))
        for body in archiver_dead_letters
        if str(body.get("sequenceNumber")) in table_stream.stream_sequences
    }
    return len(held) + len(archived) + len(dead)


def dead_letter_bodies(emulator: Emulator, runtime: FunctionRuntime) -> list[dict[str, Any]]:
    """The bodies in ``runtime``'s dead-letter queue (left in it)."""
    url = runtime.env_vars.get("DEAD_LETTER_QUEUE_URL")
    if not url:
        return []
    sqs = emulator.client("sqs", runtime.function.account_id, runtime.function.region)
    return [json.loads(m["Body"]) for m in read_all_messages(sqs, url)]
