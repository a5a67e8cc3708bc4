"""The target half of the replica (POC account): the table and how the replicator may write it."""

import json
import re
from dataclasses import dataclass
from typing import Any, cast

import pulumi
import pulumi_aws as aws

from . import policies
from .exceptions import SettingError
from .outputs import lift, policy_json
from .settings import ACCESS_MODES, fill_defaults
from .validation import (
    IAM_ROLE_NAME,
    check_account_id,
    check_choice,
    check_external_id,
    check_name,
    check_range,
    check_tags,
    check_ttl_attribute,
    checked_account_id,
)

HASH_KEY = "seqNumbershardIdHash"
RANGE_KEY = "sequenceNumber"

BILLING_MODES: tuple[str, ...] = ("PAY_PER_REQUEST", "PROVISIONED")
#: Stream view types that carry the new image the archiver needs.
STREAM_VIEW_TYPES: tuple[str, ...] = ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
TABLE_ENCRYPTIONS: tuple[str, ...] = ("AWS_MANAGED", "AWS_OWNED")
ATTRIBUTE_TYPES: tuple[str, ...] = ("S", "N", "B")
PROJECTION_TYPES: tuple[str, ...] = ("ALL", "KEYS_ONLY", "INCLUDE")
#: DynamoDB table and index names: 3..255 of these (DynamoDB naming rules).
DYNAMODB_NAME = re.compile(r"[A-Za-z0-9_.-]{3,255}")


@dataclass
class SecondaryIndex:
    """A global secondary index on payload attributes (e.g. user e-mail + timestamp)."""

    name: str
    """Index name (3..255 of ``A-Za-z0-9_.-``)."""
    hash_key: str
    """Partition key attribute."""
    hash_key_type: str | None = None
    """``S``, ``N`` or ``B``. Default: ``S``."""
    range_key: str | None = None
    """Sort key attribute, if any."""
    range_key_type: str | None = None
    """``S``, ``N`` or ``B``. Default: ``S``."""
    projection_type: str | None = None
    """``ALL``, ``KEYS_ONLY`` or ``INCLUDE``. Default: ``ALL``."""
    non_key_attributes: list[str] | None = None
    """Projected attributes for ``INCLUDE``."""

    def __post_init__(self) -> None:
        fill_defaults(self, {"hash_key_type": "S", "range_key_type": "S", "projection_type": "ALL"})


#: Defaults of :class:`ReplicaTargetArgs`: a field left ``None`` takes its value from here.
REPLICA_TARGET_DEFAULTS: dict[str, Any] = {
    "access_mode": "assume-role",
    "replicator_role_path": "/",
    "partition": "aws",
    "billing_mode": "PAY_PER_REQUEST",
    "read_capacity": 20,
    "write_capacity": 20,
    "stream_view_type": "NEW_IMAGE",
    "point_in_time_recovery": True,
    "deletion_protection": True,
    "protect": True,
    "secondary_indexes": [],
    "writer_role_path": "/",
    "writer_max_session_seconds": 3600,
    "ttl_days": 0,
    "ttl_attribute": "expiresAt",
    "tags": {},
    "placement": "source",
}


@dataclass
class ReplicaTargetArgs:
    """Inputs of :class:`ReplicaTarget`. Fields left ``None`` take
    ``REPLICA_TARGET_DEFAULTS``."""

    source_account_id: pulumi.Input[str] | None = None
    """Account of the replicator (prod), 12 digits: the only account trusted to write.
    Required (``CrossAccountStreamReplica`` fills it in from its source half)."""
    replicator_role_name: str | None = None
    """Name of the replicator's execution role in the source account (deterministic, so it can
    be trusted before it exists). Required (``CrossAccountStreamReplica`` fills it in)."""
    access_mode: str | None = None
    """``assume-role`` (a writer role the replicator assumes) or ``resource-policy`` (a table
    resource policy; no STS). Default: ``assume-role``."""
    replicator_role_path: str | None = None
    """IAM path of that role. Default: ``/``."""
    external_id: str | None = None
    """``sts:ExternalId`` the replicator must pass to assume the writer role: 2..1224
    characters of ``A-Za-z0-9_+=,.@:/-`` (STS ``AssumeRole``), assume-role mode only.
    Default: none."""
    partition: str | None = None
    """AWS partition of both accounts. Default: ``aws``."""
    table_name: str | None = None
    """Table name; ``None`` lets Pulumi autoname it (from the component's name)."""
    billing_mode: str | None = None
    """``PAY_PER_REQUEST`` (on demand) or ``PROVISIONED``. Default: ``PAY_PER_REQUEST``."""
    read_capacity: int | None = None
    """Read capacity units when provisioned. Default: 20 (the seed's)."""
    write_capacity: int | None = None
    """Write capacity units when provisioned. Default: 20 (the seed's)."""
    stream_view_type: str | None = None
    """What the table's stream carries for the archiver: ``NEW_IMAGE`` or
    ``NEW_AND_OLD_IMAGES``. Default: ``NEW_IMAGE``."""
    point_in_time_recovery: bool | None = None
    """Continuous backups. Default: true; false warns."""
    table_encryption: str | None = None
    """``AWS_MANAGED`` (KMS key ``aws/dynamodb``) or ``AWS_OWNED``. ``None`` picks
    ``AWS_MANAGED`` in assume-role mode and ``AWS_OWNED`` in resource-policy mode, because
    DynamoDB refuses cross-account access through a resource policy to a table encrypted
    with the AWS-managed key."""
    deletion_protection: bool | None = None
    """DynamoDB deletion protection. Default: true; false warns."""
    protect: bool | None = None
    """Pulumi ``protect`` and ``retain_on_delete`` on the table: a destroy or a replacing
    change stops instead of dropping the data. Default: true; false warns."""
    secondary_indexes: list[SecondaryIndex] | None = None
    """Global secondary indexes. Default: none."""
    writer_role_name: str | None = None
    """Writer role name (assume-role mode); ``None`` autonames it."""
    writer_role_path: str | None = None
    """IAM path of the writer role. Default: ``/``."""
    writer_max_session_seconds: int | None = None
    """Longest session the replicator gets, 3600..43200 (role chaining caps it at one hour
    anyway). Default: 3600."""
    ttl_days: int | None = None
    """The hot window: DynamoDB TTL on ``ttl_attribute``, which the replicator sets to each
    record's Kinesis arrival time + this many days (``ReplicaSourceArgs.ttl_days`` must agree),
    0..3650; 0 keeps everything. Default: 0."""
    ttl_attribute: str | None = None
    """Name of the TTL expiry attribute (epoch seconds). Default: ``expiresAt``."""
    tags: dict[str, str] | None = None
    """Tags for every taggable resource of the component (merged with the provider's default
    tags). Default: none."""
    table_import_id: str | None = None
    """Adopt an existing table instead of creating one: its name (the Pulumi import id of
    ``aws:dynamodb/table:Table``). The other fields must then describe the table as it is (a
    preview shows any difference, and the import refuses it); ``table_name`` must name it too.
    Default: none (create the table)."""
    placement: str | None = None
    """Where the replicator runs: ``source`` (in ``source_account_id``: this component creates
    the writer role or the table's resource policy for it) or ``target`` (in this table's own
    account: nothing crosses the boundary here, so no writer role, no table policy, and
    ``replicator_role_name`` is not needed). Default: ``source``."""

    def __post_init__(self) -> None:
        fill_defaults(self, REPLICA_TARGET_DEFAULTS)
        self.secondary_indexes = [
            SecondaryIndex(**index) if isinstance(index, dict) else index
            for index in self.secondary_indexes or []
        ]

    def validate(self) -> None:
        """:class:`SettingError` naming the field for settings that can't work."""
        owner = "ReplicaTargetArgs"
        if self.source_account_id is None:
            raise SettingError(owner, "source_account_id", "is required")
        check_tags(owner, "tags", self.tags)
        check_account_id(owner, "source_account_id", self.source_account_id)
        check_choice(owner, "placement", self.placement, policies.PLACEMENTS)
        if not self.replicator_role_name and self.placement == "source":
            raise SettingError(owner, "replicator_role_name", "is required in source placement")
        check_name(owner, "replicator_role_name", self.replicator_role_name, IAM_ROLE_NAME)
        check_name(owner, "writer_role_name", self.writer_role_name, IAM_ROLE_NAME)
        check_name(owner, "table_name", self.table_name, DYNAMODB_NAME)
        if self.table_import_id is not None and self.table_import_id != self.table_name:
            raise SettingError(
                owner,
                "table_import_id",
                f"adopts the table {self.table_import_id!r}, so table_name must name it too, "
                f"got {self.table_name!r}",
            )
        check_choice(owner, "access_mode", self.access_mode, ACCESS_MODES)
        check_external_id(owner, "external_id", self.external_id, self.access_mode)
        check_choice(owner, "billing_mode", self.billing_mode, BILLING_MODES)
        check_range(owner, "read_capacity", self.read_capacity, 1, 40000)
        check_range(owner, "write_capacity", self.write_capacity, 1, 40000)
        check_choice(owner, "stream_view_type", self.stream_view_type, STREAM_VIEW_TYPES)
        check_range(owner, "ttl_days", self.ttl_days, 0, 3650)
        check_ttl_attribute(owner, "ttl_attribute", self.ttl_attribute)
        check_range(
            owner, "writer_max_session_seconds", self.writer_max_session_seconds, 3600, 43200
        )
        if self.table_encryption is not None:
            check_choice(owner, "table_encryption", self.table_encryption, TABLE_ENCRYPTIONS)
        if (
            self.placement == "source"
            and self.access_mode == "resource-policy"
            and self.table_encryption == "AWS_MANAGED"
        ):
            raise SettingError(
                owner,
                "table_encryption",
                "can't be AWS_MANAGED with access_mode resource-policy: DynamoDB refuses "
                "cross-account access through a resource policy to a table encrypted with the "
                "AWS-managed key (use AWS_OWNED)",
            )
        # The replicator writes these with a fixed type: an index declaring another type would
        # make DynamoDB refuse every write ("Type mismatch for Index Key …").
        types: dict[str, str] = {
            HASH_KEY: "S",
            RANGE_KEY: "S",
            "shardId": "S",
            "subSequenceNumber": "N",
        }
        for position, index in enumerate(self.secondary_indexes or []):
            where = f"secondary_indexes[{position}]"
            check_name(owner, f"{where}.name", index.name, DYNAMODB_NAME)
            check_choice(owner, f"{where}.hash_key_type", index.hash_key_type, ATTRIBUTE_TYPES)
            check_choice(owner, f"{where}.range_key_type", index.range_key_type, ATTRIBUTE_TYPES)
            check_choice(owner, f"{where}.projection_type", index.projection_type, PROJECTION_TYPES)
            keys = [(index.hash_key, index.hash_key_type, "hash_key")]
            if index.range_key:
                keys.append((index.range_key, index.range_key_type, "range_key"))
            for attribute, kind, what in keys:
                known = types.setdefault(attribute, str(kind))
                if known != kind:
                    raise SettingError(
                        owner,
                        f"{where}.{what}",
                        f"declares {attribute!r} as {kind}, but it is {known} "
                        + (
                            "(a key attribute of the table: always S)"
                            if attribute in (HASH_KEY, RANGE_KEY)
                            else f"(the replicator always writes it as {known})"
                            if attribute in ("shardId", "subSequenceNumber")
                            else "elsewhere (one attribute has one type)"
                        ),
                    )

    @property
    def encryption(self) -> str:
        """The table encryption in effect."""
        if self.table_encryption:
            return self.table_encryption
        if self.placement == "target" or self.access_mode == "assume-role":
            return "AWS_MANAGED"
        return "AWS_OWNED"

    @property
    def replicator_role_arn(self) -> pulumi.Input[str]:
        """The ARN the replicator's execution role has (or will have): a string, or an Output
        when ``source_account_id`` is one."""
        return lift(
            lambda account: policies.role_arn(
                account,
                str(self.replicator_role_name),
                str(self.replicator_role_path),
                str(self.partition),
            ),
            checked_account_id("ReplicaTargetArgs", "source_account_id", self.source_account_id),
        )


def table_ttl(ttl_days: int | None, attribute: str | None) -> aws.dynamodb.TableTtlArgs:
    """A table's TTL block, always explicit: on ``attribute`` when ``ttl_days`` (> 0), else
    ``enabled: false`` with no attribute (the provider's rule). Leaving the block out would not
    turn TTL off: the provider reads a missing block as "no change", so a table once given a
    hot window would keep expiring items after ``ttl_days`` went back to 0."""
    if ttl_days:
        return aws.dynamodb.TableTtlArgs(attribute_name=attribute, enabled=True)
    return aws.dynamodb.TableTtlArgs(enabled=False)


class ReplicaTarget(pulumi.ComponentResource):
    """The replica table (stream on) and the replicator's write access to it (none in
    ``target`` placement, where the replicator runs in this account).

    Outputs: ``table_name``, ``table_arn``, ``table_stream_arn``, ``writer_role_arn`` /
    ``writer_role_name`` (``None`` in resource-policy mode), ``replicator_role_arn`` (the role
    this side trusts; ``None`` in target placement).
    """

    table_name: pulumi.Output[str]
    """Name of the replica table."""
    table_arn: pulumi.Output[str]
    """ARN of the replica table."""
    table_stream_arn: pulumi.Output[str]
    """ARN of the table's DynamoDB stream (what ``StreamToS3Archiver`` reads)."""
    writer_role_arn: pulumi.Output[str] | None
    """ARN of the writer role the replicator assumes; unset in ``resource-policy`` mode."""
    writer_role_name: pulumi.Output[str] | None
    """Name of the writer role; unset in ``resource-policy`` mode."""
    replicator_role_arn: pulumi.Output[str] | None
    """ARN of the replicator's execution role in the source account, the one this side
    trusts; unset in ``target`` placement (the replicator runs in this account)."""

    def __init__(
        self,
        name: str,
        args: ReplicaTargetArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("stream-replica:index:ReplicaTarget", name, None, opts)
        if isinstance(args, dict):  # the multi-language provider passes a dict
            args = ReplicaTargetArgs(**args)
        args.validate()
        self.args = args
        tags = dict(args.tags or {})
        for weakened, what in (
            (args.protect is False, "protect is off: a destroy or replacement deletes the table"),
            (args.deletion_protection is False, "deletion_protection is off"),
            (args.point_in_time_recovery is False, "point_in_time_recovery is off"),
        ):
            if weakened:
                pulumi.log.warn(f"ReplicaTarget {name}: {what}", self)

        attributes = {HASH_KEY: "S", RANGE_KEY: "S"}
        indexes = []
        provisioned = args.billing_mode == "PROVISIONED"
        for index in args.secondary_indexes or []:
            attributes[index.hash_key] = str(index.hash_key_type)
            if index.range_key:
                attributes[index.range_key] = str(index.range_key_type)
            indexes.append(
                aws.dynamodb.TableGlobalSecondaryIndexArgs(
                    name=index.name,
                    key_schemas=[
                        aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                            attribute_name=index.hash_key, key_type="HASH"
                        ),
                        *(
                            [
                                aws.dynamodb.TableGlobalSecondaryIndexKeySchemaArgs(
                                    attribute_name=index.range_key, key_type="RANGE"
                                )
                            ]
                            if index.range_key
                            else []
                        ),
                    ],
                    projection_type=str(index.projection_type),
                    non_key_attributes=list(index.non_key_attributes or []) or None,
                    read_capacity=args.read_capacity if provisioned else None,
                    write_capacity=args.write_capacity if provisioned else None,
                )
            )

        self.table = aws.dynamodb.Table(
            f"{name}-table",
            name=args.table_name,
            hash_key=HASH_KEY,
            range_key=RANGE_KEY,
            attributes=[
                aws.dynamodb.TableAttributeArgs(name=attr, type=kind)
                for attr, kind in attributes.items()
            ],
            billing_mode=args.billing_mode,
            read_capacity=args.read_capacity if provisioned else None,
            write_capacity=args.write_capacity if provisioned else None,
            global_secondary_indexes=indexes or None,
            stream_enabled=True,
            stream_view_type=args.stream_view_type,
            point_in_time_recovery=aws.dynamodb.TablePointInTimeRecoveryArgs(
                enabled=bool(args.point_in_time_recovery)
            ),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=args.encryption == "AWS_MANAGED"
            ),
            deletion_protection_enabled=args.deletion_protection,
            ttl=table_ttl(args.ttl_days, args.ttl_attribute),
            tags=tags,
            opts=pulumi.ResourceOptions(
                parent=self,
                protect=bool(args.protect),
                retain_on_delete=bool(args.protect),
                import_=args.table_import_id,
            ),
        )

        target = args.placement == "target"  # the replicator runs in this account
        replicator_role_arn = "" if target else args.replicator_role_arn
        self.writer_role: aws.iam.Role | None = None
        self.writer_policy: aws.iam.RolePolicy | None = None
        self.resource_policy: aws.dynamodb.ResourcePolicy | None = None
        if target:
            pass  # nothing to grant across accounts: the replicator writes with its own role
        elif args.access_mode == "assume-role":
            self.writer_role = aws.iam.Role(
                f"{name}-writer-role",
                name=args.writer_role_name,
                path=args.writer_role_path,
                max_session_duration=args.writer_max_session_seconds,
                assume_role_policy=lift(
                    lambda account, role_arn: json.dumps(
                        policies.writer_trust_policy(
                            account, role_arn, args.external_id, str(args.partition)
                        )
                    ),
                    args.source_account_id,
                    replicator_role_arn,
                ),
                tags=tags,
                opts=pulumi.ResourceOptions(
                    parent=self, delete_before_replace=args.writer_role_name is not None
                ),
            )
            self.writer_policy = aws.iam.RolePolicy(
                f"{name}-writer-policy",
                role=self.writer_role.id,
                policy=policy_json(policies.writer_policy, table_arn=self.table.arn),
                opts=pulumi.ResourceOptions(parent=self),
            )
        else:
            self.resource_policy = aws.dynamodb.ResourcePolicy(
                f"{name}-table-policy",
                resource_arn=self.table.arn,
                policy=policy_json(
                    lambda table, source_account, replicator: policies.table_resource_policy(
                        table, source_account, replicator, str(args.partition)
                    ),
                    table=self.table.arn,
                    source_account=cast(pulumi.Input[str], args.source_account_id),
                    replicator=replicator_role_arn,
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )

        self.table_name = self.table.name
        self.table_arn = self.table.arn
        self.table_stream_arn = self.table.stream_arn
        self.writer_role_arn = self.writer_role.arn if self.writer_role else None
        self.writer_role_name = self.writer_role.name if self.writer_role else None
        self.replicator_role_arn = None if target else pulumi.Output.from_input(replicator_role_arn)
        self.register_outputs(
            {
                "table_name": self.table_name,
                "table_arn": self.table_arn,
                "table_stream_arn": self.table_stream_arn,
                "writer_role_arn": self.writer_role_arn,
                "writer_role_name": self.writer_role_name,
                "replicator_role_arn": self.replicator_role_arn,
            }
        )
