"""``StreamToQueryTable``: a table's stream -> query writer function -> a table keyed by user.

The analysts' look-up table of the original design: hash on the user (e.g. ``userEmail``), range
on the event time (e.g. the clickstream's nanosecond ``timestamp``) followed by the source item's
key, so "what did this user do, in order" is one ``Query``. It is fed from the replica table's
stream by its own function and event source mapping, with the same guarantees as the other
consumers (batched idempotent writes, partial batch failures, bisect, on-failure and dead-letter
queues, alarms, a least-privilege role); the table is encrypted, has point-in-time recovery and
deletion protection, and with ``ttl_days`` keeps only a hot window (DynamoDB TTL).
"""

import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
from stream_replica.handlers import environment as env

from . import assets, policies
from .consumer import StreamConsumer
from .exceptions import SettingError
from .replica_target import table_ttl
from .settings import (
    ALARM_DEFAULTS,
    FUNCTION_DEFAULTS,
    MAPPING_DEFAULTS,
    AlarmSettings,
    FunctionSettings,
    MappingSettings,
    fill_defaults,
    merge_settings,
    validate_alarms,
    validate_function,
    validate_mapping,
)
from .validation import (
    check_account_id,
    check_choice,
    check_range,
    check_region,
    check_tags,
    checked_account_id,
    must,
)

#: Types the query writer can key by (``QUERY_HASH_TYPE``).
HASH_TYPES: tuple[str, ...] = ("S", "N")
BILLING_MODES: tuple[str, ...] = ("PAY_PER_REQUEST", "PROVISIONED")
TABLE_ENCRYPTIONS: tuple[str, ...] = ("AWS_MANAGED", "AWS_OWNED")
#: DynamoDB key attribute names are 1..255 bytes
#: (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/ServiceQuotas.html).
MAX_KEY_ATTRIBUTE_NAME_BYTES = 255
#: DynamoDB table names: 3..255 of these (same page).
TABLE_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")
#: DynamoDB TTL only deletes items whose expiry is at most five years in the past; a window
#: longer than ten years is almost certainly a unit mistake (days, not seconds).
MAX_TTL_DAYS = 3650

#: The query writer function's defaults (a field of ``function`` left ``None`` takes its value
#: from here).
QUERY_WRITER_FUNCTION_DEFAULTS = merge_settings(FUNCTION_DEFAULTS, FunctionSettings())

#: Defaults of :class:`StreamToQueryTableArgs`: a field left ``None`` takes its value from here.
QUERY_TABLE_DEFAULTS: dict[str, Any] = {
    "hash_attribute_type": "S",
    "sort_key_attribute": "eventKey",
    "billing_mode": "PAY_PER_REQUEST",
    "read_capacity": 5,
    "write_capacity": 5,
    "table_encryption": "AWS_MANAGED",
    "point_in_time_recovery": True,
    "deletion_protection": True,
    "protect": True,
    "ttl_days": 0,
    "ttl_attribute": "expiresAt",
    "source_ttl_days": 0,
    "partition": "aws",
    "function": QUERY_WRITER_FUNCTION_DEFAULTS,
    "mapping": MAPPING_DEFAULTS,
    "alarms": ALARM_DEFAULTS,
    "tags": {},
}


@dataclass
class StreamToQueryTableArgs:
    """Inputs of :class:`StreamToQueryTable`. Fields left ``None`` take
    ``QUERY_TABLE_DEFAULTS``; a partial ``function``/``mapping``/``alarms`` merges over the
    defaults field by field."""

    table_stream_arn: pulumi.Input[str]
    """The DynamoDB stream to read (the replica table's)."""
    account_id: pulumi.Input[str]
    """The account the query table and function live in, 12 digits (the role's
    ``aws:SourceAccount``)."""
    region: pulumi.Input[str]
    """Its region (Powertools layer)."""
    hash_attribute: str
    """Attribute of each source item that becomes the query table's hash key (e.g.
    ``userEmail``), 1..255 bytes. Items without it are skipped and counted, not poison."""
    range_attribute: str
    """Attribute of each source item that orders a user's events (e.g. ``timestamp``, epoch
    nanoseconds); the sort key is ``<its value>#<the source item's key>``, numbers zero-padded
    to 20 integer digits so that text order is number order."""
    hash_attribute_type: str | None = None
    """DynamoDB type of the hash attribute, ``S`` or ``N``. Default: ``S``."""
    sort_key_attribute: str | None = None
    """Name of the query table's range key attribute (type ``S``). Default: ``eventKey``."""
    table_name: str | None = None
    """Query table name (3..255 of ``A-Za-z0-9_.-``); ``None`` lets Pulumi autoname it from
    the component's name."""
    billing_mode: str | None = None
    """``PAY_PER_REQUEST`` or ``PROVISIONED``. Default: ``PAY_PER_REQUEST``."""
    read_capacity: int | None = None
    """Read capacity units when provisioned, at least 1. Default: 5."""
    write_capacity: int | None = None
    """Write capacity units when provisioned, at least 1. Default: 5."""
    table_encryption: str | None = None
    """``AWS_MANAGED`` (KMS key ``aws/dynamodb``) or ``AWS_OWNED``. Default: ``AWS_MANAGED``."""
    point_in_time_recovery: bool | None = None
    """Continuous backups of the query table. Default: true; false warns."""
    deletion_protection: bool | None = None
    """DynamoDB deletion protection. Default: true; false warns."""
    protect: bool | None = None
    """Pulumi ``protect`` and ``retain_on_delete`` on the table. Default: true; false warns."""
    ttl_days: int | None = None
    """Keep each event this many days after it arrived (DynamoDB TTL on ``ttl_attribute``),
    0..3650; 0 keeps everything. Default: 0."""
    ttl_attribute: str | None = None
    """Name of the TTL expiry attribute (epoch seconds). Default: ``expiresAt``."""
    source_ttl_days: int | None = None
    """The source table's own TTL days (0 if it has none), 0..3650: the query writer recovers
    each event's arrival time from the source item's expiry. Default: 0."""
    partition: str | None = None
    """AWS partition. Default: ``aws``."""
    function: FunctionSettings | None = None
    """The query writer function; unset fields take ``QUERY_WRITER_FUNCTION_DEFAULTS`` (256 MB,
    120 s)."""
    mapping: MappingSettings | None = None
    """The DynamoDB Streams event source mapping; unset fields take ``MAPPING_DEFAULTS``."""
    alarms: AlarmSettings | None = None
    """The query writer's alarms; unset fields take ``ALARM_DEFAULTS``."""
    tags: dict[str, str] | None = None
    """Tags for every taggable resource of the component (merged with the provider's default
    tags). Default: none."""

    def __post_init__(self) -> None:
        fill_defaults(self, QUERY_TABLE_DEFAULTS)

    def validate(self) -> None:
        """:class:`SettingError` naming ``StreamToQueryTableArgs.<field>`` for settings that
        can't work."""
        owner = "StreamToQueryTableArgs"
        check_account_id(owner, "account_id", self.account_id)
        check_region(owner, "region", self.region)
        check_tags(owner, "tags", self.tags)
        for name in ("hash_attribute", "range_attribute", "sort_key_attribute", "ttl_attribute"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise SettingError(owner, name, f"must be a non-empty string, got {value!r}")
            if len(value.encode("utf-8")) > MAX_KEY_ATTRIBUTE_NAME_BYTES:
                raise SettingError(
                    owner,
                    name,
                    f"must be at most {MAX_KEY_ATTRIBUTE_NAME_BYTES} bytes (DynamoDB key "
                    "attribute names)",
                )
        if self.sort_key_attribute in (self.hash_attribute, self.range_attribute):
            raise SettingError(
                owner,
                "sort_key_attribute",
                "must differ from hash_attribute and range_attribute (it holds "
                "'<range value>#<source key>')",
            )
        if self.ttl_attribute in (
            self.hash_attribute,
            self.range_attribute,
            self.sort_key_attribute,
        ):
            raise SettingError(
                owner,
                "ttl_attribute",
                f"must not be {self.ttl_attribute!r}, a key or range attribute: the expiry would "
                "overwrite the event's value",
            )
        check_choice(owner, "hash_attribute_type", self.hash_attribute_type, HASH_TYPES)
        check_choice(owner, "billing_mode", self.billing_mode, BILLING_MODES)
        check_choice(owner, "table_encryption", self.table_encryption, TABLE_ENCRYPTIONS)
        if self.table_name is not None and not TABLE_NAME.fullmatch(str(self.table_name)):
            raise SettingError(
                owner, "table_name", f"must match {TABLE_NAME.pattern}, got {self.table_name!r}"
            )
        check_range(owner, "read_capacity", self.read_capacity, 1, 40000)
        check_range(owner, "write_capacity", self.write_capacity, 1, 40000)
        check_range(owner, "ttl_days", self.ttl_days, 0, MAX_TTL_DAYS)
        check_range(owner, "source_ttl_days", self.source_ttl_days, 0, MAX_TTL_DAYS)
        validate_function(must(self.function, owner, "function"), owner)
        validate_mapping(must(self.mapping, owner, "mapping"), owner)
        validate_alarms(must(self.alarms, owner, "alarms"), owner)


class StreamToQueryTable(StreamConsumer[StreamToQueryTableArgs]):
    """A query table (by user, in time order) fed from a table's stream by its own function.

    Outputs: ``table_name``, ``table_arn``, ``function_name``, ``function_arn``, ``role_arn``,
    ``dead_letter_queue_url``, ``failure_queue_url``, ``event_source_mapping_id``.
    """

    table_name: pulumi.Output[str]
    """Name of the query table."""
    table_arn: pulumi.Output[str]
    """ARN of the query table."""
    function_name: pulumi.Output[str]
    """Name of the query writer function."""
    function_arn: pulumi.Output[str]
    """ARN of the query writer function."""
    role_arn: pulumi.Output[str]
    """ARN of the query writer's execution role."""
    dead_letter_queue_url: pulumi.Output[str]
    """URL of the SQS queue that keeps poison stream records."""
    failure_queue_url: pulumi.Output[str]
    """URL of the event source mapping's on-failure SQS queue."""
    event_source_mapping_id: pulumi.Output[str]
    """UUID of the event source mapping on the table stream."""

    def __init__(
        self,
        name: str,
        args: StreamToQueryTableArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("stream-replica:index:StreamToQueryTable", name, opts)
        args = self._accept(args, StreamToQueryTableArgs)
        settings = self._settings(name)
        for weakened, what in (
            (args.point_in_time_recovery is False, "point_in_time_recovery is off"),
            (args.deletion_protection is False, "deletion_protection is off"),
            (
                args.protect is False,
                "protect is off: a destroy or replacement deletes the query table",
            ),
        ):
            if weakened:
                pulumi.log.warn(f"StreamToQueryTable {name}: {what}", self)

        provisioned = args.billing_mode == "PROVISIONED"
        self.table = aws.dynamodb.Table(
            f"{name}-table",
            name=args.table_name,
            hash_key=args.hash_attribute,
            range_key=args.sort_key_attribute,
            attributes=[
                aws.dynamodb.TableAttributeArgs(
                    name=args.hash_attribute, type=str(args.hash_attribute_type)
                ),
                aws.dynamodb.TableAttributeArgs(name=str(args.sort_key_attribute), type="S"),
            ],
            billing_mode=args.billing_mode,
            read_capacity=args.read_capacity if provisioned else None,
            write_capacity=args.write_capacity if provisioned else None,
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(
                enabled=bool(args.point_in_time_recovery)
            ),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=args.table_encryption == "AWS_MANAGED"
            ),
            ttl=table_ttl(args.ttl_days, args.ttl_attribute),
            deletion_protection_enabled=args.deletion_protection,
            tags=settings.tags,
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, retain_on_delete=args.protect
            ),
        )

        environment: dict[str, pulumi.Input[str]] = {
            env.QUERY_TABLE_NAME: self.table.name,
            env.QUERY_HASH_ATTRIBUTE: args.hash_attribute,
            env.QUERY_HASH_TYPE: str(args.hash_attribute_type),
            env.QUERY_RANGE_ATTRIBUTE: args.range_attribute,
            env.QUERY_SORT_KEY_ATTRIBUTE: str(args.sort_key_attribute),
        }
        if args.ttl_days:
            environment[env.TTL_DAYS] = str(args.ttl_days)
            environment[env.TTL_ATTRIBUTE] = str(args.ttl_attribute)
            if args.source_ttl_days:
                environment[env.SOURCE_TTL_DAYS] = str(args.source_ttl_days)
        self._create_consumer(
            name,
            settings,
            account_id=checked_account_id("StreamToQueryTableArgs", "account_id", args.account_id),
            policy=policies.query_writer_policy,
            policy_inputs={
                "table_stream_arn": args.table_stream_arn,
                "query_table_arn": self.table.arn,
            },
            handler=assets.QUERY_WRITER_HANDLER,
            environment=environment,
            event_source_arn=args.table_stream_arn,
        )
        self._register_outputs(table_name=self.table.name, table_arn=self.table.arn)
