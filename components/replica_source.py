"""The replicator half of the replica: the replicator function and what feeds it.

It runs in the stream's account (``placement="source"``, the default: prod) or in the table's
account (``placement="target"``: the analytics account, reading the prod stream through the
stream's resource policy; see :mod:`.stream_grant` for the prod side of that placement).
"""

import functools
import json
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws
from stream_replica.handlers import environment as env

from . import alarms, assets, policies
from .consumer import StreamConsumer
from .exceptions import SettingError
from .outputs import is_output, lift
from .settings import (
    ACCESS_MODES,
    ALARM_DEFAULTS,
    FUNCTION_DEFAULTS,
    MAPPING_DEFAULTS,
    AlarmSettings,
    FunctionSettings,
    MappingSettings,
    fill_defaults,
    merge_settings,
    physical_name,
    validate_alarms,
    validate_function,
    validate_mapping,
)
from .stream_grant import KINESIS_CONSUMER_NAME
from .validation import (
    IAM_ROLE_NAME,
    arn_account,
    arn_region,
    check_account_id,
    check_choice,
    check_external_id,
    check_field_paths,
    check_name,
    check_range,
    check_region,
    check_ssm_parameter,
    check_stream,
    check_tags,
    check_transform_module,
    check_ttl_attribute,
    checked_account_id,
    must,
)

#: The replicator is CPU-bound (decode, serialise); at 256 MB one invocation per shard keeps
#: ~820 records/s at 5 ms per AWS call, below a shard's 1,000 records/s write limit; 512 MB
#: keeps ~1,580 at about the same cost per record (bench/results.md, "Lambda cost").
DEFAULT_REPLICATOR_MEMORY_MB = 512

#: The replicator function's defaults: a field of ``ReplicaSourceArgs.function`` left ``None``
#: takes its value from here.
REPLICATOR_FUNCTION_DEFAULTS = merge_settings(
    FUNCTION_DEFAULTS, FunctionSettings(memory_size=DEFAULT_REPLICATOR_MEMORY_MB, timeout=120)
)

#: Defaults of :class:`ReplicaSourceArgs`: a field left ``None`` takes its value from here.
REPLICA_SOURCE_DEFAULTS: dict[str, Any] = {
    "access_mode": "assume-role",
    "session_name": "stream-replica",
    "partition": "aws",
    "create_source_stream": False,
    "source_stream_shard_count": 1,
    "source_stream_retention_hours": 24,
    "max_write_concurrency": 4,
    "ttl_days": 0,
    "ttl_attribute": "expiresAt",
    "drop_fields": [],
    "pseudonymize_fields": [],
    "function": REPLICATOR_FUNCTION_DEFAULTS,
    "mapping": MAPPING_DEFAULTS,
    "alarms": ALARM_DEFAULTS,
    "tags": {},
    "placement": "source",
    "consumer_mode": "shared",
}


@dataclass
class ReplicaSourceArgs:
    """Inputs of :class:`ReplicaSource`. Fields left ``None`` take ``REPLICA_SOURCE_DEFAULTS``;
    a partial ``function``/``mapping``/``alarms`` merges over the defaults field by field."""

    account_id: pulumi.Input[str]
    """The source (prod) account, 12 digits: where the stream and the replicator live."""
    region: pulumi.Input[str]
    """Region of the stream and the function (also picks the Powertools layer)."""
    table_name: pulumi.Input[str] | None = None
    """Target table name (from the target half). Required."""
    table_arn: pulumi.Input[str] | None = None
    """Target table ARN (from the target half). Required."""
    writer_role_arn: pulumi.Input[str] | None = None
    """Writer role to assume (from the target half). Required in ``assume-role`` mode."""
    target_region: pulumi.Input[str] | None = None
    """Region of the target table. Default: ``region``."""
    access_mode: str | None = None
    """``assume-role`` or ``resource-policy``; must match the target half.
    Default: ``assume-role``."""
    external_id: str | None = None
    """``sts:ExternalId`` to pass when assuming the writer role: 2..1224 characters of
    ``A-Za-z0-9_+=,.@:/-`` (STS ``AssumeRole``), assume-role mode only. Default: none."""
    session_name: str | None = None
    """Session name of the AssumeRole call (shows in the target account's CloudTrail).
    Default: ``stream-replica``."""
    partition: str | None = None
    """AWS partition. Default: ``aws``."""
    source_stream_name: str | None = None
    """Name of the Kinesis stream to replicate (in ``account_id``/``region``). Give this or
    ``source_stream_arn``."""
    source_stream_arn: str | None = None
    """ARN of the stream instead of its name."""
    create_source_stream: bool | None = None
    """Create the stream (named ``source_stream_name``) instead of using an existing one. The
    created stream is ``retain_on_delete``: setting this back to false hands it over (it stays
    in AWS with its data and is then used by name). Default: false."""
    source_stream_shard_count: int | None = None
    """Shards of a created stream, 1..10000. Default: 1."""
    source_stream_retention_hours: int | None = None
    """Retention of a created stream, 24..8760 hours (Kinesis quotas). Default: 24."""
    source_stream_kms_key_arn: str | None = None
    """Customer-managed key of an existing stream (the role may decrypt with it via
    Kinesis). A created stream uses the AWS-managed key ``alias/aws/kinesis``, which needs no
    grant."""
    max_write_concurrency: int | None = None
    """Concurrent BatchWriteItem calls per invocation (``MAX_WRITE_CONCURRENCY``), 1..64.
    Default: 4."""
    ttl_days: int | None = None
    """Add a TTL expiry to each item: the record's Kinesis ``approximateArrivalTimestamp`` +
    this many days (``TTL_DAYS``; arrival, not processing time, so a replay does not make old
    records live again), 0..3650; 0 adds none. ``ReplicaTargetArgs.ttl_days`` must agree.
    Default: 0."""
    ttl_attribute: str | None = None
    """Name of the expiry attribute (``TTL_ATTRIBUTE``). Default: ``expiresAt``."""
    transform_module: str | None = None
    """Path of the user's transform file (``transform(record, meta)``, standard library only;
    see docs/handlers.md), relative to the program's working directory; it is bundled into
    the function's asset and called per decoded record, before redaction. Default: none."""
    drop_fields: list[str] | None = None
    """Attribute paths (``ipAddress``, ``device.id``) removed from every record in the source
    account, before anything is sent. Default: none."""
    pseudonymize_fields: list[str] | None = None
    """Attribute paths whose values become HMAC-SHA256 (hex) with the key in
    ``pseudonymization_key_parameter``, in the source account, before anything is sent.
    Default: none."""
    pseudonymization_key_parameter: str | None = None
    """SSM parameter (SecureString, name or ARN, in the source account and region) holding the
    HMAC key, at least 32 bytes; the role gets ``ssm:GetParameter`` on exactly it. Required
    with ``pseudonymize_fields``. Default: none."""
    pseudonymization_key_kms_key_arn: str | None = None
    """Customer-managed KMS key of that SecureString; the role gets ``kms:Decrypt`` on it
    (through SSM only). Default: none (the AWS-managed ``alias/aws/ssm``, no grant needed)."""
    function: FunctionSettings | None = None
    """The replicator function; unset fields take ``REPLICATOR_FUNCTION_DEFAULTS`` (512 MB,
    120 s). Its ``role_name`` is always fixed (the target half trusts it by ARN): default
    ``<component name>-replicator``."""
    mapping: MappingSettings | None = None
    """The Kinesis event source mapping; unset fields take ``MAPPING_DEFAULTS``."""
    alarms: AlarmSettings | None = None
    """The replicator's alarms; unset fields take ``ALARM_DEFAULTS``."""
    tags: dict[str, str] | None = None
    """Tags for every taggable resource of the component (merged with the provider's default
    tags). Default: none."""
    placement: str | None = None
    """Where the replicator runs: ``source`` (``account_id`` is the stream's account; the
    function writes the table in another account by ``access_mode``) or ``target``
    (``account_id`` is the table's account; the function reads the stream in
    ``stream_account_id`` through the stream's resource policy and writes its own account's
    table with its own credentials: no STS, no table resource policy). Default: ``source``."""
    stream_account_id: pulumi.Input[str] | None = None
    """Account of the stream, 12 digits; required in ``target`` placement (where it differs from
    ``account_id``). Default: ``account_id``."""
    consumer_mode: str | None = None
    """``shared`` (the mapping polls the stream with GetRecords, sharing each shard's 5 reads/s
    and 2 MB/s with every other reader) or ``efo`` (the mapping reads an enhanced fan-out
    consumer with its own 2 MB/s per shard, billed per consumer-shard hour; Kinesis guide, "Read
    data from Amazon Kinesis Data Streams"). Default: ``shared``."""
    stream_consumer_arn: pulumi.Input[str] | None = None
    """``efo``: an existing consumer of the stream to read; required in ``target`` placement
    (the stream's account registers and grants it). Default: none — in ``source`` placement the
    component registers one named ``consumer_name``."""
    consumer_name: str | None = None
    """Name of the consumer the component registers (``efo``, ``source`` placement), 1..128 of
    ``[a-zA-Z0-9_.-]`` (Kinesis RegisterStreamConsumer). Default: the component's name."""

    def __post_init__(self) -> None:
        fill_defaults(self, REPLICA_SOURCE_DEFAULTS)

    def validate(self) -> None:
        """:class:`SettingError` naming the field for settings that can't work."""
        owner = "ReplicaSourceArgs"
        check_account_id(owner, "account_id", self.account_id)
        check_choice(owner, "access_mode", self.access_mode, ACCESS_MODES)
        check_range(owner, "ttl_days", self.ttl_days, 0, 3650)
        if self.ttl_days:
            check_ttl_attribute(owner, "ttl_attribute", self.ttl_attribute)
        if self.table_name is None:
            raise SettingError(owner, "table_name", "is required")
        if self.table_arn is None:
            raise SettingError(owner, "table_arn", "is required")
        self._validate_placement(owner)
        if (
            self.placement == "source"
            and self.access_mode == "assume-role"
            and self.writer_role_arn is None
        ):
            raise SettingError(owner, "writer_role_arn", "is required in assume-role mode")
        check_region(owner, "target_region", self.target_region)
        check_external_id(owner, "external_id", self.external_id, self.access_mode)
        table_region = arn_region(self.table_arn)
        if isinstance(self.target_region, str) and table_region not in (None, self.target_region):
            raise SettingError(
                owner,
                "target_region",
                f"is {self.target_region}, but table_arn is in {table_region}: the replicator "
                "would write to a table that is not there (leave target_region out to use the "
                "ARN's region)",
            )
        table_account = arn_account(self.table_arn)
        writer_account = arn_account(self.writer_role_arn)
        if table_account and writer_account and writer_account != table_account:
            raise SettingError(
                owner,
                "writer_role_arn",
                f"is in account {writer_account}, not the table's account {table_account}: the "
                "replicator would assume a role outside the target account",
            )
        check_tags(owner, "tags", self.tags)
        if self.create_source_stream and self.source_stream_arn:
            raise SettingError(
                owner,
                "source_stream_arn",
                "must be empty when create_source_stream is true (the stream is created by name)",
            )
        if not (self.source_stream_name or self.source_stream_arn):
            raise SettingError(owner, "source_stream_name", "is required (or source_stream_arn)")
        self._check_stream_arn(owner)
        check_range(owner, "max_write_concurrency", self.max_write_concurrency, 1, 64)
        check_range(owner, "source_stream_shard_count", self.source_stream_shard_count, 1, 10000)
        check_range(
            owner,
            "source_stream_retention_hours",
            self.source_stream_retention_hours,
            24,
            8760,
            "Kinesis Data Streams quotas",
        )
        check_transform_module(owner, "transform_module", self.transform_module)
        for what in ("drop_fields", "pseudonymize_fields"):
            check_field_paths(owner, what, getattr(self, what))
        if self.pseudonymize_fields and not self.pseudonymization_key_parameter:
            raise SettingError(
                owner,
                "pseudonymization_key_parameter",
                "is required when pseudonymize_fields is set (the HMAC key's SSM parameter)",
            )
        check_ssm_parameter(
            owner,
            "pseudonymization_key_parameter",
            self.pseudonymization_key_parameter,
            self.region,
            self.account_id,
        )
        if self.pseudonymization_key_kms_key_arn and not self.pseudonymization_key_parameter:
            raise SettingError(
                owner,
                "pseudonymization_key_kms_key_arn",
                "needs pseudonymization_key_parameter (the parameter it encrypts)",
            )
        function = must(self.function, owner, "function")
        check_name(owner, "function.role_name", function.role_name, IAM_ROLE_NAME)
        validate_function(function, owner)
        validate_mapping(must(self.mapping, owner, "mapping"), owner, kinesis=True)
        validate_alarms(must(self.alarms, owner, "alarms"), owner)

    def _check_stream_arn(self, owner: str) -> None:
        """The stream's name and ARN (:func:`.validation.check_stream`), against the account the
        stream is in (``stream_account_id`` in target placement, else ``account_id``)."""
        check_stream(
            owner,
            self.source_stream_name,
            self.source_stream_arn,
            self.region,
            self.stream_account_id or self.account_id,
        )

    def _validate_placement(self, owner: str) -> None:
        check_choice(owner, "placement", self.placement, policies.PLACEMENTS)
        check_choice(owner, "consumer_mode", self.consumer_mode, policies.CONSUMER_MODES)
        check_name(owner, "consumer_name", self.consumer_name, KINESIS_CONSUMER_NAME)
        if self.stream_consumer_arn is not None and self.consumer_mode != "efo":
            raise SettingError(owner, "stream_consumer_arn", "is read only in consumer_mode efo")
        if self.placement == "source":
            if (
                self.stream_account_id is not None
                and not is_output(self.account_id)
                and self.stream_account_id != self.account_id
            ):
                raise SettingError(
                    owner,
                    "stream_account_id",
                    "must be account_id in source placement (the replicator runs in the "
                    "stream's account); use placement target to read another account's stream",
                )
            return
        check_account_id(owner, "stream_account_id", self.stream_account_id)
        if not is_output(self.account_id) and self.stream_account_id == self.account_id:
            raise SettingError(
                owner,
                "stream_account_id",
                "must differ from account_id in target placement (the replicator runs in the "
                "table's account and reads the other account's stream)",
            )
        if self.create_source_stream:
            raise SettingError(
                owner,
                "create_source_stream",
                "must be false in target placement: the stream belongs to the other account",
            )
        if self.consumer_mode == "efo" and self.stream_consumer_arn is None:
            raise SettingError(
                owner,
                "stream_consumer_arn",
                "is required in target placement with consumer_mode efo (the stream's account "
                "registers the consumer and grants it: StreamReadGrant)",
            )

    def replicator_role_name(self, component_name: str) -> str:
        """The replicator role's name: ``function.role_name``, or one derived from the
        component's logical name (``<name>-replicator``, at most 64 characters)."""
        role_name = self.function.role_name if self.function else None
        return role_name or physical_name(component_name, "replicator", 64, r"\w+=,.@-")


class ReplicaSource(StreamConsumer[ReplicaSourceArgs]):
    """Kinesis stream (or its enhanced fan-out consumer) → replicator function → (AssumeRole) →
    target table.

    Runs in the stream's account (``placement="source"``) or in the table's account reading the
    stream across accounts (``placement="target"``).

    Outputs: ``function_name``, ``function_arn``, ``role_arn``, ``role_name``,
    ``source_stream_arn``, ``stream_consumer_arn`` (``None`` in shared mode),
    ``event_source_mapping_id``, ``dead_letter_queue_url``,
    ``dead_letter_queue_arn``, ``failure_queue_url``, ``failure_queue_arn``, ``log_group_name``.
    """

    function_name: pulumi.Output[str]
    """Name of the replicator function."""
    function_arn: pulumi.Output[str]
    """ARN of the replicator function."""
    role_arn: pulumi.Output[str]
    """ARN of the replicator's execution role (what the target half trusts)."""
    role_name: pulumi.Output[str]
    """Name of the replicator's execution role."""
    source_stream_arn: pulumi.Output[str]
    """ARN of the Kinesis stream replicated."""
    stream_consumer_arn: pulumi.Output[str] | None
    """ARN of the enhanced fan-out consumer the mapping reads (``efo``); ``None`` in ``shared``
    mode."""
    event_source_mapping_id: pulumi.Output[str]
    """UUID of the Kinesis event source mapping."""
    dead_letter_queue_url: pulumi.Output[str]
    """URL of the SQS queue that keeps poison records."""
    dead_letter_queue_arn: pulumi.Output[str]
    """ARN of the SQS queue that keeps poison records."""
    failure_queue_url: pulumi.Output[str]
    """URL of the mapping's on-failure SQS queue (batches that ran out of retries)."""
    failure_queue_arn: pulumi.Output[str]
    """ARN of the mapping's on-failure SQS queue."""
    log_group_name: pulumi.Output[str]
    """Name of the replicator's CloudWatch log group."""

    def __init__(
        self,
        name: str,
        args: ReplicaSourceArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("stream-replica:index:ReplicaSource", name, opts)
        args = self._accept(args, ReplicaSourceArgs)
        account_id = checked_account_id("ReplicaSourceArgs", "account_id", args.account_id)
        settings = self._settings(name, role_name=args.replicator_role_name(name))
        tags = settings.tags

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
                tags=tags,
                # Retained on delete: turning create_source_stream off later hands the stream
                # over (it leaves the stack's state and stays in AWS, with its data, to be used
                # by name) instead of deleting it.
                opts=pulumi.ResourceOptions(
                    parent=self,
                    delete_before_replace=args.source_stream_name is not None,
                    retain_on_delete=True,
                ),
            )
            stream_arn: pulumi.Output[str] = self.source_stream.arn
        elif args.source_stream_arn:
            stream_arn = pulumi.Output.from_input(args.source_stream_arn)
        else:
            stream_account = (
                account_id
                if args.stream_account_id is None
                else checked_account_id(
                    "ReplicaSourceArgs", "stream_account_id", args.stream_account_id
                )
            )
            stream_arn = pulumi.Output.from_input(
                lift(
                    lambda region, account: (
                        f"arn:{args.partition}:kinesis:{region}:{account}:"
                        f"stream/{args.source_stream_name}"
                    ),
                    args.region,
                    stream_account,
                )
            )

        # efo: the mapping reads an enhanced fan-out consumer of the stream instead.
        self.consumer: aws.kinesis.StreamConsumer | None = None
        consumer_arn: pulumi.Output[str] | None = None
        if args.consumer_mode == "efo":
            if args.stream_consumer_arn is not None:
                consumer_arn = pulumi.Output.from_input(args.stream_consumer_arn)
            else:
                self.consumer = aws.kinesis.StreamConsumer(
                    f"{name}-consumer",
                    name=args.consumer_name or physical_name(name, "", 128, r"\w.-"),
                    stream_arn=stream_arn,
                    tags=tags,
                    opts=pulumi.ResourceOptions(parent=self),
                )
                consumer_arn = self.consumer.arn

        self._create_consumer(
            name,
            settings,
            account_id=account_id,
            policy=functools.partial(
                policies.replicator_policy,
                access_mode=str(args.access_mode),
                placement=str(args.placement),
                source_stream_kms_key_arn=args.source_stream_kms_key_arn,
                key_parameter_kms_key_arn=args.pseudonymization_key_kms_key_arn,
            ),
            policy_inputs=self._policy_inputs(stream_arn, consumer_arn, account_id),
            handler=assets.REPLICATOR_HANDLER,
            environment=self._environment(),
            event_source_arn=consumer_arn if consumer_arn is not None else stream_arn,
            transform_module=args.transform_module,
        )
        if settings.alarms.enabled:
            self.alarms.append(
                alarms.rejected_alike_alarm(
                    self,
                    name,
                    namespace=str(settings.function.metrics_namespace),
                    service=str(settings.function.service_name),
                    settings=settings.alarms,
                    tags=tags,
                )
            )
        if (
            settings.alarms.enabled
            and args.consumer_mode == "shared"
            and args.placement == "source"
        ):
            self.alarms += alarms.shared_read_alarms(
                self,
                name,
                stream_name=stream_arn.apply(lambda arn: arn.rsplit("/", 1)[-1]),
                settings=settings.alarms,
                tags=tags,
            )
        self._register_outputs(source_stream_arn=stream_arn, stream_consumer_arn=consumer_arn)

    def _policy_inputs(
        self,
        stream_arn: pulumi.Output[str],
        consumer_arn: pulumi.Output[str] | None,
        account_id: pulumi.Input[str],
    ) -> dict[str, pulumi.Input[str]]:
        """The ARNs the replicator's role policy names besides its own log group and queues:
        the stream (and the EFO consumer), and only what the access mode's statement names
        (``validate()`` checked it is given); target placement always writes the table."""
        args = self.args
        inputs: dict[str, pulumi.Input[str]] = {
            "source_stream_arn": stream_arn,
            "region": args.region,
        }
        if args.placement == "source" and args.access_mode == "assume-role":
            inputs["writer_role_arn"] = cast(pulumi.Input[str], args.writer_role_arn)
        else:
            inputs["table_arn"] = cast(pulumi.Input[str], args.table_arn)
        if consumer_arn is not None:
            inputs["consumer_arn"] = consumer_arn
        parameter = args.pseudonymization_key_parameter
        if parameter:
            inputs["key_parameter_arn"] = lift(
                lambda region, account: policies.ssm_parameter_arn(
                    parameter, region, account, str(args.partition)
                ),
                args.region,
                account_id,
            )
        return inputs

    def _environment(self) -> dict[str, pulumi.Input[str]]:
        """The replicator's own environment variables (``handlers/environment.py``)."""
        args = self.args
        # target placement writes its own account's table with the execution role's own
        # credentials, addressed by ARN: the handler's resource-policy path (no STS).
        access_mode = "resource-policy" if args.placement == "target" else str(args.access_mode)
        environment: dict[str, pulumi.Input[str]] = {
            env.ACCESS_MODE: access_mode,
            env.TABLE_NAME: args.table_name,  # type: ignore[dict-item]
            env.TABLE_ARN: args.table_arn,  # type: ignore[dict-item]
            env.TARGET_REGION: (
                args.target_region if args.target_region is not None else args.region
            ),
            env.MAX_WRITE_CONCURRENCY: str(args.max_write_concurrency),
        }
        if args.ttl_days:
            environment[env.TTL_DAYS] = str(args.ttl_days)
            environment[env.TTL_ATTRIBUTE] = str(args.ttl_attribute)
        if args.drop_fields:
            environment[env.DROP_FIELDS] = json.dumps(args.drop_fields)
        if args.pseudonymize_fields:
            environment[env.PSEUDONYMIZE_FIELDS] = json.dumps(args.pseudonymize_fields)
        if args.pseudonymization_key_parameter:
            environment[env.PSEUDONYMIZATION_KEY_PARAMETER] = args.pseudonymization_key_parameter
        if access_mode == "assume-role":
            environment[env.WRITER_ROLE_ARN] = args.writer_role_arn  # type: ignore[assignment]
            environment[env.WRITER_ROLE_SESSION_NAME] = str(args.session_name)
            if args.external_id:
                environment[env.WRITER_EXTERNAL_ID] = args.external_id
        return environment
