"""The target half of the replica (POC account): the table and how the replicator may write it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_aws as aws

from . import policies
from .common import ACCESS_MODES, require_account_id

HASH_KEY = "seqNumbershardIdHash"
RANGE_KEY = "sequenceNumber"

#: The replicator's execution role name when none is given; both halves must agree on it.
DEFAULT_REPLICATOR_ROLE_NAME = "stream-replica-replicator"

BILLING_MODES: tuple[str, ...] = ("PAY_PER_REQUEST", "PROVISIONED")
STREAM_VIEW_TYPES: tuple[str, ...] = ("NEW_IMAGE", "NEW_AND_OLD_IMAGES")
TABLE_ENCRYPTIONS: tuple[str, ...] = ("AWS_MANAGED", "AWS_OWNED")
_ATTRIBUTE_TYPES = ("S", "N", "B")


@dataclass
class SecondaryIndex:
    """A global secondary index on payload attributes (e.g. user e-mail + timestamp)."""

    name: str
    """Index name."""
    hash_key: str
    """Partition key attribute."""
    hash_key_type: str = "S"
    """``S``, ``N`` or ``B``."""
    range_key: str | None = None
    """Sort key attribute, if any."""
    range_key_type: str = "S"
    """``S``, ``N`` or ``B``."""
    projection_type: str = "ALL"
    """``ALL``, ``KEYS_ONLY`` or ``INCLUDE``."""
    non_key_attributes: Sequence[str] = ()
    """Projected attributes for ``INCLUDE``."""


@dataclass
class ReplicaTargetArgs:
    """Inputs of :class:`ReplicaTarget`."""

    source_account_id: str
    """Account of the replicator (prod): the only account trusted to write."""
    access_mode: str = "assume-role"
    """``assume-role`` (a writer role the replicator assumes) or ``resource-policy`` (a table
    resource policy; no STS)."""
    replicator_role_name: str = DEFAULT_REPLICATOR_ROLE_NAME
    """Name of the replicator's execution role in the source account (deterministic, so it can
    be trusted before it exists)."""
    replicator_role_path: str = "/"
    """IAM path of that role."""
    external_id: str | None = None
    """``sts:ExternalId`` the replicator must pass to assume the writer role."""
    partition: str = "aws"
    """AWS partition of both accounts."""
    table_name: str | None = None
    """Table name; ``None`` lets Pulumi autoname it."""
    billing_mode: str = "PAY_PER_REQUEST"
    """``PAY_PER_REQUEST`` (on demand) or ``PROVISIONED``."""
    read_capacity: int = 20
    """Read capacity units when provisioned (the seed's 20)."""
    write_capacity: int = 20
    """Write capacity units when provisioned (the seed's 20)."""
    stream_view_type: str = "NEW_IMAGE"
    """What the table's stream carries for the archiver."""
    point_in_time_recovery: bool = True
    """Continuous backups."""
    table_encryption: str | None = None
    """``AWS_MANAGED`` (KMS key ``aws/dynamodb``) or ``AWS_OWNED``. ``None`` picks
    ``AWS_MANAGED`` in assume-role mode and ``AWS_OWNED`` in resource-policy mode, because
    DynamoDB refuses cross-account access through a resource policy to a table encrypted
    with the AWS-managed key."""
    deletion_protection: bool = True
    """DynamoDB deletion protection."""
    protect: bool = True
    """Pulumi ``protect`` and ``retain_on_delete`` on the table: a destroy or a replacing
    change stops instead of dropping the data."""
    secondary_indexes: Sequence[SecondaryIndex] = field(default_factory=list)
    """Global secondary indexes."""
    writer_role_name: str | None = None
    """Writer role name (assume-role mode); ``None`` autonames it."""
    writer_role_path: str = "/"
    """IAM path of the writer role."""
    writer_max_session_seconds: int = 3600
    """Longest session the replicator gets (role chaining caps it at one hour anyway)."""

    def validate(self) -> None:
        """ValueError naming the field for settings that can't work."""
        require_account_id(self.source_account_id, "ReplicaTargetArgs.source_account_id")
        if self.access_mode not in ACCESS_MODES:
            raise ValueError(f"ReplicaTargetArgs.access_mode must be one of {ACCESS_MODES}")
        if self.billing_mode not in BILLING_MODES:
            raise ValueError(f"ReplicaTargetArgs.billing_mode must be one of {BILLING_MODES}")
        if self.stream_view_type not in STREAM_VIEW_TYPES:
            raise ValueError(
                f"ReplicaTargetArgs.stream_view_type must be one of {STREAM_VIEW_TYPES}"
            )
        if self.table_encryption is not None and self.table_encryption not in TABLE_ENCRYPTIONS:
            raise ValueError(
                f"ReplicaTargetArgs.table_encryption must be one of {TABLE_ENCRYPTIONS}"
            )
        if self.access_mode == "resource-policy" and self.table_encryption == "AWS_MANAGED":
            raise ValueError(
                "ReplicaTargetArgs.table_encryption: DynamoDB does not allow cross-account "
                "access through a resource policy to a table encrypted with the AWS-managed key; "
                "use AWS_OWNED"
            )
        for index in self.secondary_indexes:
            if index.name in ("", None):
                raise ValueError("ReplicaTargetArgs.secondary_indexes: index without a name")
            if index.hash_key_type not in _ATTRIBUTE_TYPES or (
                index.range_key and index.range_key_type not in _ATTRIBUTE_TYPES
            ):
                raise ValueError(
                    f"ReplicaTargetArgs.secondary_indexes[{index.name}]: key types are S, N or B"
                )

    @property
    def encryption(self) -> str:
        """The table encryption in effect."""
        if self.table_encryption:
            return self.table_encryption
        return "AWS_MANAGED" if self.access_mode == "assume-role" else "AWS_OWNED"

    @property
    def replicator_role_arn(self) -> str:
        """The ARN the replicator's execution role has (or will have)."""
        return policies.role_arn(
            self.source_account_id,
            self.replicator_role_name,
            self.replicator_role_path,
            self.partition,
        )


class ReplicaTarget(pulumi.ComponentResource):
    """The replica table (stream on) and the replicator's write access to it.

    Outputs: ``table_name``, ``table_arn``, ``table_stream_arn``, ``writer_role_arn`` /
    ``writer_role_name`` (``None`` in resource-policy mode), ``replicator_role_arn`` (the role
    this side trusts).
    """

    table_name: pulumi.Output[str]
    table_arn: pulumi.Output[str]
    table_stream_arn: pulumi.Output[str]
    writer_role_arn: pulumi.Output[str] | None
    writer_role_name: pulumi.Output[str] | None
    replicator_role_arn: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        args: ReplicaTargetArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("stream-replica:index:ReplicaTarget", name, None, opts)
        args.validate()
        self.args = args

        attributes = {HASH_KEY: "S", RANGE_KEY: "S"}
        indexes = []
        provisioned = args.billing_mode == "PROVISIONED"
        for index in args.secondary_indexes:
            attributes[index.hash_key] = index.hash_key_type
            if index.range_key:
                attributes[index.range_key] = index.range_key_type
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
                    projection_type=index.projection_type,
                    non_key_attributes=list(index.non_key_attributes) or None,
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
                enabled=args.point_in_time_recovery
            ),
            server_side_encryption=aws.dynamodb.TableServerSideEncryptionArgs(
                enabled=args.encryption == "AWS_MANAGED"
            ),
            deletion_protection_enabled=args.deletion_protection,
            opts=pulumi.ResourceOptions(
                parent=self, protect=args.protect, retain_on_delete=args.protect
            ),
        )

        replicator_role_arn = args.replicator_role_arn
        self.writer_role: aws.iam.Role | None = None
        self.writer_policy: aws.iam.RolePolicy | None = None
        self.resource_policy: aws.dynamodb.ResourcePolicy | None = None
        if args.access_mode == "assume-role":
            self.writer_role = aws.iam.Role(
                f"{name}-writer-role",
                name=args.writer_role_name,
                path=args.writer_role_path,
                max_session_duration=args.writer_max_session_seconds,
                assume_role_policy=json.dumps(
                    policies.writer_trust_policy(
                        args.source_account_id,
                        replicator_role_arn,
                        args.external_id,
                        args.partition,
                    )
                ),
                opts=pulumi.ResourceOptions(
                    parent=self, delete_before_replace=args.writer_role_name is not None
                ),
            )
            self.writer_policy = aws.iam.RolePolicy(
                f"{name}-writer-policy",
                role=self.writer_role.id,
                policy=self.table.arn.apply(lambda arn: json.dumps(policies.writer_policy(arn))),
                opts=pulumi.ResourceOptions(parent=self),
            )
        else:
            self.resource_policy = aws.dynamodb.ResourcePolicy(
                f"{name}-table-policy",
                resource_arn=self.table.arn,
                policy=self.table.arn.apply(
                    lambda arn: json.dumps(
                        policies.table_resource_policy(
                            arn, args.source_account_id, replicator_role_arn, args.partition
                        )
                    )
                ),
                opts=pulumi.ResourceOptions(parent=self),
            )

        self.table_name = self.table.name
        self.table_arn = self.table.arn
        self.table_stream_arn = self.table.stream_arn
        self.writer_role_arn = self.writer_role.arn if self.writer_role else None
        self.writer_role_name = self.writer_role.name if self.writer_role else None
        self.replicator_role_arn = pulumi.Output.from_input(replicator_role_arn)
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
