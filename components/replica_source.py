"""The source half of the replica (prod account): the replicator function and what feeds it."""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws
from stream_replica.handlers import environment as env

from . import assets, policies
from .common import (
    ACCESS_MODES,
    AlarmSettings,
    FunctionSettings,
    MappingSettings,
    create_consumer_base,
    create_consumer_function,
    require_account_id,
    validate_function,
    validate_mapping,
)
from .replica_target import DEFAULT_REPLICATOR_ROLE_NAME

#: The replicator is CPU-bound (decode, serialise); at 256 MB one invocation per shard keeps
#: ~820 records/s at 5 ms per AWS call, below a shard's 1,000 records/s write limit; 512 MB
#: keeps ~1,580 at about the same cost per record (bench/results.md, "Lambda cost").
DEFAULT_REPLICATOR_MEMORY_MB = 512


def _replicator_function() -> FunctionSettings:
    return FunctionSettings(
        role_name=DEFAULT_REPLICATOR_ROLE_NAME,
        timeout=120,
        memory_size=DEFAULT_REPLICATOR_MEMORY_MB,
    )


@dataclass
class ReplicaSourceArgs:
    """Inputs of :class:`ReplicaSource`."""

    account_id: str
    """The source (prod) account: where the stream and the replicator live."""
    region: str
    """Region of the stream and the function (also picks the Powertools layer)."""
    table_name: pulumi.Input[str] | None = None
    """Target table name (from the target half)."""
    table_arn: pulumi.Input[str] | None = None
    """Target table ARN (from the target half)."""
    writer_role_arn: pulumi.Input[str] | None = None
    """Writer role to assume (assume-role mode; from the target half)."""
    target_region: pulumi.Input[str] | None = None
    """Region of the target table; ``None`` = ``region``."""
    access_mode: str = "assume-role"
    """``assume-role`` or ``resource-policy``; must match the target half."""
    external_id: str | None = None
    """``sts:ExternalId`` to pass when assuming the writer role."""
    session_name: str = "stream-replica"
    """Session name of the AssumeRole call (shows in the target account's CloudTrail)."""
    partition: str = "aws"
    """AWS partition."""
    source_stream_name: str | None = "web-analytics"
    """Name of the Kinesis stream to replicate (in ``account_id``/``region``)."""
    source_stream_arn: str | None = None
    """ARN of the stream instead of its name."""
    create_source_stream: bool = False
    """Create the stream (named ``source_stream_name``) instead of using an existing one."""
    source_stream_shard_count: int = 1
    """Shards of a created stream."""
    source_stream_retention_hours: int = 24
    """Retention of a created stream."""
    source_stream_kms_key_arn: str | None = None
    """Customer-managed key of an existing stream (the role may decrypt with it via
    Kinesis). A created stream uses the AWS-managed key ``alias/aws/kinesis``, which needs no
    grant."""
    max_write_concurrency: int = 4
    """Concurrent BatchWriteItem calls per invocation (``MAX_WRITE_CONCURRENCY``)."""
    function: FunctionSettings = field(default_factory=_replicator_function)
    """The replicator function. Its ``role_name`` must be fixed (the target half trusts it)."""
    mapping: MappingSettings = field(default_factory=MappingSettings)
    """The Kinesis event source mapping."""
    alarms: AlarmSettings = field(default_factory=AlarmSettings)
    """The replicator's alarms."""

    def validate(self) -> None:
        """ValueError naming the field for settings that can't work."""
        require_account_id(self.account_id, "ReplicaSourceArgs.account_id")
        if self.access_mode not in ACCESS_MODES:
            raise ValueError(f"ReplicaSourceArgs.access_mode must be one of {ACCESS_MODES}")
        if self.table_name is None or self.table_arn is None:
            raise ValueError("ReplicaSourceArgs.table_name and table_arn are required")
        if self.access_mode == "assume-role" and self.writer_role_arn is None:
            raise ValueError("ReplicaSourceArgs.writer_role_arn is required in assume-role mode")
        if not self.function.role_name:
            raise ValueError(
                "ReplicaSourceArgs.function.role_name must be fixed: the target half trusts "
                "the replicator role by its ARN"
            )
        if self.create_source_stream and self.source_stream_arn:
            raise ValueError(
                "ReplicaSourceArgs: create_source_stream creates the stream by name; "
                "don't also give source_stream_arn"
            )
        if not (self.source_stream_name or self.source_stream_arn):
            raise ValueError("ReplicaSourceArgs: give source_stream_name or source_stream_arn")
        if not 1 <= self.max_write_concurrency <= 64:
            raise ValueError("ReplicaSourceArgs.max_write_concurrency must be 1..64")
        validate_function(self.function, "ReplicaSourceArgs.function")
        validate_mapping(self.mapping, "ReplicaSourceArgs.mapping")

    @property
    def role_arn(self) -> str:
        """The replicator role's deterministic ARN."""
        return policies.role_arn(
            self.account_id, str(self.function.role_name), self.function.role_path, self.partition
        )


class ReplicaSource(pulumi.ComponentResource):
    """Kinesis stream → replicator function → (AssumeRole) → target table.

    Outputs: ``function_name``, ``function_arn``, ``role_arn``, ``role_name``,
    ``source_stream_arn``, ``event_source_mapping_id``, ``dead_letter_queue_url``,
    ``dead_letter_queue_arn``, ``failure_queue_url``, ``failure_queue_arn``, ``log_group_name``.
    """

    function_name: pulumi.Output[str]
    function_arn: pulumi.Output[str]
    role_arn: pulumi.Output[str]
    role_name: pulumi.Output[str]
    source_stream_arn: pulumi.Output[str]
    event_source_mapping_id: pulumi.Output[str]
    dead_letter_queue_url: pulumi.Output[str]
    dead_letter_queue_arn: pulumi.Output[str]
    failure_queue_url: pulumi.Output[str]
    failure_queue_arn: pulumi.Output[str]
    log_group_name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: ReplicaSourceArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("stream-replica:index:ReplicaSource", name, None, opts)
        args.validate()
        self.args = args

        self.source_stream: aws.kinesis.Stream | None = None
        if args.create_source_stream:
            self.source_stream = aws.kinesis.Stream(
                f"{name}-stream",
                name=args.source_stream_name,
                shard_count=args.source_stream_shard_count,
                retention_period=args.source_stream_retention_hours,
                stream_mode_details=aws.kinesis.StreamStreamModeDetailsArgs(
                    stream_mode="PROVISIONED"
                ),
                encryption_type="KMS",
                kms_key_id="alias/aws/kinesis",
                opts=pulumi.ResourceOptions(
                    parent=self, delete_before_replace=args.source_stream_name is not None
                ),
            )
            stream_arn: pulumi.Output[str] = self.source_stream.arn
        elif args.source_stream_arn:
            stream_arn = pulumi.Output.from_input(args.source_stream_arn)
        else:
            stream_arn = pulumi.Output.from_input(
                f"arn:{args.partition}:kinesis:{args.region}:{args.account_id}:stream/"
                f"{args.source_stream_name}"
            )

        base = create_consumer_base(self, name, args.function, args.account_id)
        policy = pulumi.Output.all(
            stream=stream_arn,
            log_group=base.log_group.arn,
            dlq=base.dead_letter_queue.arn,
            failures=base.failure_queue.arn,
            writer=args.writer_role_arn,
            table=args.table_arn,
        ).apply(
            lambda v: json.dumps(
                policies.replicator_policy(
                    source_stream_arn=v["stream"],
                    log_group_arn=v["log_group"],
                    queue_arns=[v["dlq"], v["failures"]],
                    access_mode=args.access_mode,
                    writer_role_arn=v["writer"],
                    table_arn=v["table"],
                    source_stream_kms_key_arn=args.source_stream_kms_key_arn,
                    region=args.region,
                )
            )
        )
        environment: dict[str, pulumi.Input[str]] = {
            env.ACCESS_MODE: args.access_mode,
            env.TABLE_NAME: args.table_name,  # type: ignore[dict-item]
            env.TABLE_ARN: args.table_arn,  # type: ignore[dict-item]
            env.TARGET_REGION: (
                args.target_region if args.target_region is not None else args.region
            ),
            env.MAX_WRITE_CONCURRENCY: str(args.max_write_concurrency),
        }
        if args.access_mode == "assume-role":
            environment[env.WRITER_ROLE_ARN] = args.writer_role_arn  # type: ignore[assignment]
            environment[env.WRITER_ROLE_SESSION_NAME] = args.session_name
            if args.external_id:
                environment[env.WRITER_EXTERNAL_ID] = args.external_id
        consumer = create_consumer_function(
            self,
            name,
            base=base,
            policy=policy,
            function=args.function,
            mapping=args.mapping,
            alarm_settings=args.alarms,
            region=args.region,
            handler=assets.REPLICATOR_HANDLER,
            service_name="stream-replica-replicator",
            environment=environment,
            event_source_arn=stream_arn,
        )
        self.role = base.role
        self.role_policy = consumer.role_policy
        self.log_group = base.log_group
        self.dead_letter_queue = base.dead_letter_queue
        self.failure_queue = base.failure_queue
        self.function = consumer.function
        self.mapping = consumer.mapping
        self.alarms = consumer.alarms

        self.function_name = self.function.name
        self.function_arn = self.function.arn
        self.role_arn = self.role.arn
        self.role_name = self.role.name
        self.source_stream_arn = stream_arn
        self.event_source_mapping_id = self.mapping.uuid
        self.dead_letter_queue_url = self.dead_letter_queue.url
        self.dead_letter_queue_arn = self.dead_letter_queue.arn
        self.failure_queue_url = self.failure_queue.url
        self.failure_queue_arn = self.failure_queue.arn
        self.log_group_name = self.log_group.name
        self.register_outputs(
            {
                "function_name": self.function_name,
                "function_arn": self.function_arn,
                "role_arn": self.role_arn,
                "role_name": self.role_name,
                "source_stream_arn": self.source_stream_arn,
                "event_source_mapping_id": self.event_source_mapping_id,
                "dead_letter_queue_url": self.dead_letter_queue_url,
                "dead_letter_queue_arn": self.dead_letter_queue_arn,
                "failure_queue_url": self.failure_queue_url,
                "failure_queue_arn": self.failure_queue_arn,
                "log_group_name": self.log_group_name,
            }
        )
