"""``StreamToS3Archiver``: a DynamoDB table's stream → archiver function → Firehose → S3."""

import json
import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
from pulumi_aws.kinesis import (
    FirehoseDeliveryStreamExtendedS3ConfigurationArgs as ExtendedS3Config,
)
from pulumi_aws.kinesis import (
    FirehoseDeliveryStreamExtendedS3ConfigurationCloudwatchLoggingOptionsArgs as ExtendedS3Logging,
)
from stream_replica.handlers import environment as env

from . import alarms, assets, policies
from .archive_bucket import HOUSEKEEPING_RULE, LifecycleRule, create_archive_bucket
from .consumer import StreamConsumer
from .exceptions import SettingError
from .outputs import lift, policy_json
from .settings import (
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
from .validation import (
    DELIVERY_STREAM_NAME,
    LOG_RETENTION_DAYS,
    check_account_id,
    check_bucket_name,
    check_choice,
    check_name,
    check_range,
    check_tags,
    check_transform_module,
    checked_account_id,
    must,
)

#: Firehose's expression namespaces and the ``firehose`` namespace's values
#: (https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html).
PREFIX_NAMESPACES: tuple[str, ...] = (
    "firehose",
    "timestamp",
    "partitionKeyFromQuery",
    "partitionKeyFromLambda",
)
_FIREHOSE_VALUES: tuple[str, ...] = ("error-output-type", "random-string")
#: ``Prefix`` / ``ErrorOutputPrefix``: at most 1,024 characters
#: (ExtendedS3DestinationConfiguration).
MAX_PREFIX_LENGTH = 1024
_EXPRESSION = re.compile(r"!\{([^{}:]*):([^{}]*)\}")


def firehose_prefix_problem(value: str, *, error: bool) -> str | None:
    """What Firehose would reject (or what would silently change the archive's layout) in a
    user's ``prefix`` (``error=False``) or ``error_prefix`` (``error=True``), or ``None``.

    Rules (https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html): expressions are
    ``!{namespace:value}`` with namespace ``firehose``, ``timestamp``, ``partitionKeyFromQuery``
    or ``partitionKeyFromLambda``; ``firehose`` takes ``error-output-type`` (error prefix only)
    or ``random-string``; the ``partitionKeyFrom*`` namespaces need dynamic partitioning, which
    this component does not enable; the component appends the date partition itself (and
    ``!{firehose:error-output-type}`` to the error prefix), and the result must fit Firehose's
    1,024 characters. A ``${…}`` placeholder is refused: nothing expands it.
    """
    what = "error_prefix" if error else "prefix"
    if "${" in value:
        return (
            f"has a '${{…}}' placeholder: {value!r}; neither Pulumi config nor Firehose expands "
            "it (Firehose's expressions are !{namespace:value}), so objects would land under "
            "the literal text"
        )
    rest = _EXPRESSION.sub("", value)
    if "!{" in rest:
        return f"has an expression that is not '!{{namespace:value}}': {value!r}"
    for namespace, argument in _EXPRESSION.findall(value):
        expression = f"!{{{namespace}:{argument}}}"
        if namespace not in PREFIX_NAMESPACES:
            return (
                f"uses {expression}: Firehose accepts only the namespaces "
                f"{', '.join(PREFIX_NAMESPACES)}"
            )
        if namespace.startswith("partitionKeyFrom"):
            return (
                f"uses {expression}, which needs Firehose dynamic partitioning; this component "
                "does not enable it"
            )
        if namespace == "firehose" and argument not in _FIREHOSE_VALUES:
            return (
                f"uses {expression}: the firehose namespace takes error-output-type or "
                "random-string"
            )
        if namespace == "firehose" and argument == "error-output-type":
            return (
                "uses !{firehose:error-output-type}, which Firehose allows only in the error prefix"
                if not error
                else "uses !{firehose:error-output-type}: the component appends it already"
            )
        if not argument:
            return f"uses {expression} with an empty value"
    appended = len(DATE_PARTITION) + (len(ERROR_OUTPUT_TYPE) + 1 if error else 0)
    if len(value) + appended > MAX_PREFIX_LENGTH:
        return (
            f"is {len(value)} characters; with the {appended} the component appends it would "
            f"exceed Firehose's {MAX_PREFIX_LENGTH} ({what})"
        )
    return None


COMPRESSIONS: tuple[str, ...] = ("UNCOMPRESSED", "GZIP")
#: Stream view types whose records carry the new image the archiver writes.
ARCHIVABLE_VIEW_TYPES: tuple[str, ...] = ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
STREAM_VIEW_TYPES: tuple[str, ...] = (*ARCHIVABLE_VIEW_TYPES, "KEYS_ONLY", "OLD_IMAGE")

#: The archive's Hive-style date partitions, ``(key, Firehose timestamp pattern)``, in path order:
#: what the delivery stream writes and what the Glue table (``archive_catalog.py``) projects.
PARTITIONS: tuple[tuple[str, str], ...] = (
    ("year", "yyyy"),
    ("month", "MM"),
    ("day", "dd"),
    ("hour", "HH"),
)
#: Appended to the data prefix: one folder per hour (Firehose evaluates it at delivery, from the
#: arrival time of the oldest record in the object, UTC).
DATE_PARTITION = "".join(f"{key}=!{{timestamp:{pattern}}}/" for key, pattern in PARTITIONS)
#: Firehose requires an error prefix containing this when the prefix uses expressions.
ERROR_OUTPUT_TYPE = "!{firehose:error-output-type}"

#: The archiver function's defaults: a field of ``StreamToS3ArchiverArgs.function`` left
#: ``None`` takes its value from here (300 s: a batch waits for Firehose's retries).
ARCHIVER_FUNCTION_DEFAULTS = merge_settings(FUNCTION_DEFAULTS, FunctionSettings(timeout=300))


#: Defaults of :class:`StreamToS3ArchiverArgs`: a field left ``None`` takes its value from here.
ARCHIVER_DEFAULTS: dict[str, Any] = {
    "partition": "aws",
    "buffering_size_mb": 5,
    "buffering_interval_seconds": 300,
    "compression": "UNCOMPRESSED",
    "prefix": "data/",
    "error_prefix": "errors/",
    "lifecycle_rules": [HOUSEKEEPING_RULE],
    "protect": True,
    "archive_removes": False,
    "delivery_log_retention_days": 30,
    "function": ARCHIVER_FUNCTION_DEFAULTS,
    "mapping": MAPPING_DEFAULTS,
    "alarms": ALARM_DEFAULTS,
    "tags": {},
}


@dataclass
class StreamToS3ArchiverArgs:
    """Inputs of :class:`StreamToS3Archiver`. Fields left ``None`` take ``ARCHIVER_DEFAULTS``;
    a partial ``function``/``mapping``/``alarms`` merges over the defaults field by field."""

    table_stream_arn: pulumi.Input[str]
    """The DynamoDB stream to archive."""
    account_id: pulumi.Input[str]
    """The account the archiver lives in, 12 digits (Firehose's ``sts:ExternalId``, the
    default bucket name)."""
    region: pulumi.Input[str]
    """Its region (default bucket name, Powertools layer, KMS conditions)."""
    table_stream_view_type: str | None = None
    """The table stream's view type when the caller knows it: ``KEYS_ONLY`` and ``OLD_IMAGE``
    carry no new image and are refused at preview. Default: unknown (not checked)."""
    partition: str | None = None
    """AWS partition. Default: ``aws``."""
    delivery_stream_name: str | None = None
    """Firehose delivery stream name, 1..64 of ``A-Za-z0-9_.-`` (Firehose
    ``CreateDeliveryStream``); ``None`` lets Pulumi autoname it."""
    buffering_size_mb: int | None = None
    """Firehose buffer size, 1..128 MB (Firehose ``BufferingHints``). Default: 5."""
    buffering_interval_seconds: int | None = None
    """Firehose buffer interval, 0..900 s (Firehose ``BufferingHints``). Default: 300."""
    compression: str | None = None
    """``UNCOMPRESSED`` or ``GZIP``. Default: ``UNCOMPRESSED``."""
    prefix: str | None = None
    """Object prefix, a folder like ``data/``; a date partition (``year=/month=/day=/hour=``) is
    appended. Default: ``data/``."""
    error_prefix: str | None = None
    """Prefix of records Firehose couldn't deliver (the error type and date are appended).
    Default: ``errors/``."""
    bucket_name: str | None = None
    """Name of the bucket to create; ``None`` = ``<component name>-<account>-<region>``
    (bucket names are global: 3..63 lower-case letters, digits, dots and hyphens; S3 general
    purpose bucket naming rules)."""
    existing_bucket_name: str | None = None
    """Write to this existing bucket instead of creating one (its settings are its owner's)."""
    bucket_kms_key_arn: str | None = None
    """Customer-managed KMS key for the objects; ``None`` = SSE-S3 (AES256)."""
    lifecycle_rules: list[LifecycleRule] | None = None
    """Lifecycle rules of a created bucket. Default: ``[HOUSEKEEPING_RULE]``."""
    protect: bool | None = None
    """Pulumi ``protect`` and ``retain_on_delete`` on a created bucket; without them the bucket
    is ``force_destroy`` (a destroy deletes it with every object version). Default: true;
    false warns."""
    bucket_import_id: str | None = None
    """Adopt an existing bucket as the created one (its settings then managed here): its name
    (the Pulumi import id of ``aws:s3/bucket:Bucket``); ``bucket_name`` must name it too.
    To write into a bucket without managing it, use ``existing_bucket_name`` instead.
    Default: none."""
    archive_removes: bool | None = None
    """Write tombstone lines for REMOVE events (``ARCHIVE_REMOVES``). Default: false."""
    delivery_log_retention_days: int | None = None
    """Retention of Firehose's error log group (a value CloudWatch Logs accepts). Default: 30."""
    archive_transform_module: str | None = None
    """Path of the user's transform file for the archive (``transform(record, meta)`` per
    INSERT/MODIFY image, standard library only; docs/handlers.md), relative to the program's
    working directory; bundled into the archiver's asset. Default: none."""
    function: FunctionSettings | None = None
    """The archiver function; unset fields take ``ARCHIVER_FUNCTION_DEFAULTS`` (300 s)."""
    mapping: MappingSettings | None = None
    """The DynamoDB Streams event source mapping; unset fields take ``MAPPING_DEFAULTS``."""
    alarms: AlarmSettings | None = None
    """The archiver's and Firehose's alarms; unset fields take ``ALARM_DEFAULTS``."""
    tags: dict[str, str] | None = None
    """Tags for every taggable resource of the component (merged with the provider's default
    tags). Default: none."""

    def __post_init__(self) -> None:
        fill_defaults(self, ARCHIVER_DEFAULTS)
        self.lifecycle_rules = [
            LifecycleRule(**rule) if isinstance(rule, dict) else rule
            for rule in self.lifecycle_rules or []
        ]

    def validate(self) -> None:
        """:class:`SettingError` naming the field for settings that can't work."""
        owner = "StreamToS3ArchiverArgs"
        check_tags(owner, "tags", self.tags)
        check_account_id(owner, "account_id", self.account_id)
        if self.table_stream_view_type is not None:
            check_choice(
                owner, "table_stream_view_type", self.table_stream_view_type, STREAM_VIEW_TYPES
            )
            if self.table_stream_view_type not in ARCHIVABLE_VIEW_TYPES:
                raise SettingError(
                    owner,
                    "table_stream_view_type",
                    f"is {self.table_stream_view_type}: its records carry no new image to "
                    f"archive (use one of {', '.join(ARCHIVABLE_VIEW_TYPES)})",
                )
        check_choice(owner, "compression", self.compression, COMPRESSIONS)
        check_range(
            owner, "buffering_size_mb", self.buffering_size_mb, 1, 128, "Firehose BufferingHints"
        )
        check_range(
            owner,
            "buffering_interval_seconds",
            self.buffering_interval_seconds,
            0,
            900,
            "Firehose BufferingHints",
        )
        check_choice(
            owner,
            "delivery_log_retention_days",
            self.delivery_log_retention_days,
            LOG_RETENTION_DAYS,
        )
        if self.bucket_name and self.existing_bucket_name:
            raise SettingError(
                owner,
                "existing_bucket_name",
                "can't be given with bucket_name: give bucket_name (create) or "
                "existing_bucket_name (use), not both",
            )
        check_name(owner, "delivery_stream_name", self.delivery_stream_name, DELIVERY_STREAM_NAME)
        check_bucket_name(owner, "bucket_name", self.bucket_name)
        if self.bucket_import_id is not None and self.bucket_import_id != self.bucket_name:
            raise SettingError(
                owner,
                "bucket_import_id",
                f"adopts the bucket {self.bucket_import_id!r}, so bucket_name must name it too, "
                f"got {self.bucket_name!r}",
            )
        check_bucket_name(owner, "existing_bucket_name", self.existing_bucket_name)
        for what, value in (("prefix", self.prefix), ("error_prefix", self.error_prefix)):
            if not value or not value.endswith("/") or value.startswith("/"):
                raise SettingError(owner, what, f"must be a folder like 'data/', got {value!r}")
        if policies.prefix_root(str(self.prefix)).startswith(
            policies.prefix_root(str(self.error_prefix))
        ):
            raise SettingError(
                owner,
                "prefix",
                "must not lie under error_prefix (the delivery role's object permissions "
                "follow them)",
            )
        check_transform_module(owner, "archive_transform_module", self.archive_transform_module)
        for what, value in (("prefix", self.prefix), ("error_prefix", self.error_prefix)):
            problem = firehose_prefix_problem(str(value), error=what == "error_prefix")
            if problem:
                raise SettingError(owner, what, problem)
        validate_function(must(self.function, owner, "function"), owner)
        validate_mapping(must(self.mapping, owner, "mapping"), owner)
        validate_alarms(must(self.alarms, owner, "alarms"), owner)

    def default_bucket_name(self, component_name: str) -> pulumi.Input[str]:
        """The created bucket's name when ``bucket_name`` is not given:
        ``<component name>-<account>-<region>``, lower case, at most 63 characters (an Output
        when ``account_id`` or ``region`` is one)."""
        return lift(
            lambda account, region: physical_name(
                component_name.lower(), f"{account}-{region}", 63, "a-z0-9-"
            ),
            self.account_id,
            self.region,
        )

    @property
    def data_prefix(self) -> str:
        """The delivery stream's full object prefix."""
        return f"{self.prefix}{DATE_PARTITION}"

    @property
    def error_output_prefix(self) -> str:
        """The delivery stream's error prefix (contains ``!{firehose:error-output-type}``)."""
        return f"{self.error_prefix}{ERROR_OUTPUT_TYPE}/{DATE_PARTITION}"


class StreamToS3Archiver(StreamConsumer[StreamToS3ArchiverArgs]):
    """Archive every image a DynamoDB stream carries as JSON lines in S3, through Firehose.

    Outputs: ``function_name``, ``function_arn``, ``role_arn``, ``delivery_stream_name``,
    ``delivery_stream_arn``, ``firehose_role_arn``, ``bucket_name``, ``bucket_arn``,
    ``dead_letter_queue_url``, ``failure_queue_url``, ``event_source_mapping_id``.
    """

    function_name: pulumi.Output[str]
    """Name of the archiver function."""
    function_arn: pulumi.Output[str]
    """ARN of the archiver function."""
    role_arn: pulumi.Output[str]
    """ARN of the archiver's execution role."""
    delivery_stream_name: pulumi.Output[str]
    """Name of the Firehose delivery stream."""
    delivery_stream_arn: pulumi.Output[str]
    """ARN of the Firehose delivery stream."""
    firehose_role_arn: pulumi.Output[str]
    """ARN of the role Firehose delivers to S3 with."""
    bucket_name: pulumi.Output[str]
    """Name of the archive bucket (created, or the existing one given)."""
    bucket_arn: pulumi.Output[str]
    """ARN of the archive bucket."""
    dead_letter_queue_url: pulumi.Output[str]
    """URL of the SQS queue that keeps poison records."""
    failure_queue_url: pulumi.Output[str]
    """URL of the mapping's on-failure SQS queue (batches that ran out of retries)."""
    event_source_mapping_id: pulumi.Output[str]
    """UUID of the DynamoDB Streams event source mapping."""

    def __init__(
        self,
        name: str,
        args: StreamToS3ArchiverArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("stream-replica:index:StreamToS3Archiver", name, opts)
        args = self._accept(args, StreamToS3ArchiverArgs)
        account_id = checked_account_id("StreamToS3ArchiverArgs", "account_id", args.account_id)
        settings = self._settings(name)
        tags = settings.tags
        if args.protect is False and not args.existing_bucket_name:
            pulumi.log.warn(
                f"StreamToS3Archiver {name}: protect is off: a destroy or replacement deletes "
                "the archive bucket",
                self,
            )

        self.bucket: aws.s3.Bucket | None = None
        bucket_settings: list[pulumi.Resource] = []
        if args.existing_bucket_name:
            pulumi.log.warn(
                f"StreamToS3Archiver {name}: existing bucket {args.existing_bucket_name} is not "
                "managed here: check that it blocks public access, encrypts by default, denies "
                "plain HTTP (aws:SecureTransport) and enforces bucket-owner object ownership, as "
                "a bucket this component creates does",
                resource=self,
            )
            bucket_name: pulumi.Output[str] = pulumi.Output.from_input(args.existing_bucket_name)
            bucket_arn: pulumi.Output[str] = pulumi.Output.from_input(
                f"arn:{args.partition}:s3:::{args.existing_bucket_name}"
            )
        else:
            archive = create_archive_bucket(
                self,
                name,
                bucket_name=args.bucket_name or args.default_bucket_name(name),
                kms_key_arn=args.bucket_kms_key_arn,
                lifecycle_rules=args.lifecycle_rules or [],
                protect=bool(args.protect),
                tags=tags,
                import_id=args.bucket_import_id,
            )
            self.bucket = archive.bucket
            self.public_access_block = archive.public_access_block
            self.encryption = archive.encryption
            self.versioning = archive.versioning
            self.bucket_policy = archive.policy
            self.ownership_controls = archive.ownership_controls
            self.lifecycle = archive.lifecycle
            bucket_settings = archive.settings
            bucket_name, bucket_arn = archive.bucket.bucket, archive.bucket.arn

        # Firehose: its error log group/stream, its role, then the delivery stream.
        delivery_logs = aws.cloudwatch.LogGroup(
            f"{name}-delivery-logs",
            name=(
                f"/aws/kinesisfirehose/{args.delivery_stream_name}"
                if args.delivery_stream_name
                else None
            ),
            retention_in_days=args.delivery_log_retention_days,
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        delivery_log_stream = aws.cloudwatch.LogStream(
            f"{name}-delivery-log-stream",
            name="DestinationDelivery",
            log_group_name=delivery_logs.name,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.firehose_role = aws.iam.Role(
            f"{name}-firehose-role",
            assume_role_policy=lift(
                lambda account: json.dumps(policies.firehose_trust_policy(account)), account_id
            ),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.firehose_policy = aws.iam.RolePolicy(
            f"{name}-firehose-policy",
            role=self.firehose_role.id,
            policy=policy_json(
                lambda bucket, log_stream, region: policies.firehose_delivery_policy(
                    bucket_arn=bucket,
                    prefixes=[str(args.prefix), str(args.error_prefix)],
                    log_stream_arn=log_stream,
                    bucket_kms_key_arn=args.bucket_kms_key_arn,
                    region=region,
                ),
                bucket=bucket_arn,
                log_stream=delivery_log_stream.arn,
                region=args.region,
            ),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.delivery_stream = aws.kinesis.FirehoseDeliveryStream(
            f"{name}-delivery-stream",
            name=args.delivery_stream_name,
            tags=tags,
            destination="extended_s3",
            server_side_encryption=aws.kinesis.FirehoseDeliveryStreamServerSideEncryptionArgs(
                enabled=True, key_type="AWS_OWNED_CMK"
            ),
            extended_s3_configuration=ExtendedS3Config(
                bucket_arn=bucket_arn,
                role_arn=self.firehose_role.arn,
                buffering_size=args.buffering_size_mb,
                buffering_interval=args.buffering_interval_seconds,
                compression_format=args.compression,
                prefix=args.data_prefix,
                error_output_prefix=args.error_output_prefix,
                kms_key_arn=args.bucket_kms_key_arn,
                cloudwatch_logging_options=ExtendedS3Logging(
                    enabled=True,
                    log_group_name=delivery_logs.name,
                    log_stream_name=delivery_log_stream.name,
                ),
            ),
            opts=pulumi.ResourceOptions(
                parent=self,
                depends_on=[self.firehose_policy, *bucket_settings],
                delete_before_replace=args.delivery_stream_name is not None,
            ),
        )

        # The archiver function on the table's stream.
        self._create_consumer(
            name,
            settings,
            account_id=account_id,
            policy=policies.archiver_policy,
            policy_inputs={
                "table_stream_arn": args.table_stream_arn,
                "delivery_stream_arn": self.delivery_stream.arn,
            },
            handler=assets.ARCHIVER_HANDLER,
            environment={
                env.DELIVERY_STREAM_NAME: self.delivery_stream.name,
                env.ARCHIVE_REMOVES: "true" if args.archive_removes else "false",
            },
            event_source_arn=args.table_stream_arn,
            transform_module=args.archive_transform_module,
        )
        self.delivery_alarms: list[aws.cloudwatch.MetricAlarm] = []
        if settings.alarms.enabled:
            self.delivery_alarms = alarms.firehose_alarms(
                self,
                name,
                delivery_stream_name=self.delivery_stream.name,
                buffering_interval_seconds=args.buffering_interval_seconds or 0,
                settings=settings.alarms,
                tags=tags,
            )
        self.alarms = [*self.alarms, *self.delivery_alarms]
        self._register_outputs(
            delivery_stream_name=self.delivery_stream.name,
            delivery_stream_arn=self.delivery_stream.arn,
            firehose_role_arn=self.firehose_role.arn,
            bucket_name=bucket_name,
            bucket_arn=bucket_arn,
        )
