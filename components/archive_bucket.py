"""The archive bucket a :class:`~.archiver.StreamToS3Archiver` creates, locked down: no public
access, encrypted (SSE-S3, or a customer-managed KMS key), TLS only, versioned, objects owned by
the bucket owner, and lifecycle rules (:class:`LifecycleRule`, :data:`HOUSEKEEPING_RULE`).
"""

from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
from pulumi_aws.s3 import (
    BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs as SseDefault,
)

from . import transport_policies
from .outputs import policy_json
from .settings import fill_defaults


@dataclass
class LifecycleRule:
    """One lifecycle rule of the archive bucket."""

    id: str
    """Rule id."""
    prefix: str | None = None
    """Objects it applies to. Default: ``""`` (the whole bucket)."""
    transition_days: int | None = None
    """Move objects to ``transition_storage_class`` after this many days. Default: never."""
    transition_storage_class: str | None = None
    """Storage class of the transition. Default: ``GLACIER_IR``."""
    expiration_days: int | None = None
    """Delete objects after this many days. Default: never."""
    abort_incomplete_multipart_days: int | None = None
    """Clean up abandoned multipart uploads after this many days. Default: 7 for the
    ``housekeeping`` rule, never for others."""
    noncurrent_version_expiration_days: int | None = None
    """Delete overwritten/deleted object versions after this many days (versioning is on).
    Default: 30 for the ``housekeeping`` rule, never for others."""

    def __post_init__(self) -> None:
        fill_defaults(self, {"prefix": "", "transition_storage_class": "GLACIER_IR"})


#: The rule every created bucket gets unless the caller gives its own list.
HOUSEKEEPING_RULE = LifecycleRule(
    id="housekeeping", abort_incomplete_multipart_days=7, noncurrent_version_expiration_days=30
)


@dataclass
class ArchiveBucket:
    """The bucket and its settings resources (children of the archiver)."""

    bucket: aws.s3.Bucket
    public_access_block: aws.s3.BucketPublicAccessBlock
    encryption: aws.s3.BucketServerSideEncryptionConfiguration
    versioning: aws.s3.BucketVersioning
    policy: aws.s3.BucketPolicy
    ownership_controls: aws.s3.BucketOwnershipControls
    lifecycle: aws.s3.BucketLifecycleConfiguration | None

    @property
    def settings(self) -> list[pulumi.Resource]:
        """What a writer waits for: every setting but versioning (which the lifecycle rules,
        when there are any, wait for)."""
        settings: list[pulumi.Resource] = [
            self.public_access_block,
            self.encryption,
            self.policy,
            self.ownership_controls,
        ]
        if self.lifecycle is not None:
            settings.append(self.lifecycle)
        return settings


def create_archive_bucket(
    parent: pulumi.Resource,
    name: str,
    *,
    bucket_name: pulumi.Input[str],
    kms_key_arn: str | None,
    lifecycle_rules: list[LifecycleRule],
    protect: bool,
    tags: dict[str, str],
    import_id: str | None = None,
) -> ArchiveBucket:
    """The archive bucket ``bucket_name`` and its settings, children ``<name>-bucket…`` of
    ``parent``. ``kms_key_arn``: a customer-managed key for the objects (``None``: SSE-S3);
    ``protect``: Pulumi ``protect`` and ``retain_on_delete`` on the bucket; without it the bucket
    is ``force_destroy`` (a destroy deletes every object version with it); ``import_id``: adopt
    this existing bucket (Pulumi import) instead of creating it."""
    bucket = aws.s3.Bucket(
        f"{name}-bucket",
        bucket=bucket_name,
        tags=tags,
        # Versioned: without force_destroy a destroy stops at BucketNotEmpty. An unprotected
        # bucket is one the user chose to delete with the stack, data included.
        force_destroy=not protect,
        opts=pulumi.ResourceOptions(
            parent=parent, protect=protect, retain_on_delete=protect, import_=import_id
        ),
    )
    public_access_block = aws.s3.BucketPublicAccessBlock(
        f"{name}-bucket-public-access",
        bucket=bucket.id,
        block_public_acls=True,
        block_public_policy=True,
        ignore_public_acls=True,
        restrict_public_buckets=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    if kms_key_arn:
        default = SseDefault(sse_algorithm="aws:kms", kms_master_key_id=kms_key_arn)
    else:
        default = SseDefault(sse_algorithm="AES256")
    encryption = aws.s3.BucketServerSideEncryptionConfiguration(
        f"{name}-bucket-encryption",
        bucket=bucket.id,
        rules=[
            aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                apply_server_side_encryption_by_default=default,
                bucket_key_enabled=bool(kms_key_arn),
            )
        ],
        opts=pulumi.ResourceOptions(parent=parent),
    )
    versioning = aws.s3.BucketVersioning(
        f"{name}-bucket-versioning",
        bucket=bucket.id,
        versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(
            status="Enabled"
        ),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    # S3 rejects concurrent changes to one bucket's subresources ("conflicting conditional
    # operation"): chain the policy after the public access block.
    policy = aws.s3.BucketPolicy(
        f"{name}-bucket-policy",
        bucket=bucket.id,
        policy=policy_json(transport_policies.tls_only_bucket_policy, bucket_arn=bucket.arn),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[public_access_block]),
    )
    # ACLs off: every object belongs to the bucket owner, whoever writes it.
    ownership_controls = aws.s3.BucketOwnershipControls(
        f"{name}-bucket-ownership",
        bucket=bucket.id,
        rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[policy]),
    )
    lifecycle: aws.s3.BucketLifecycleConfiguration | None = None
    if lifecycle_rules:
        lifecycle = aws.s3.BucketLifecycleConfiguration(
            f"{name}-bucket-lifecycle",
            bucket=bucket.id,
            rules=[_lifecycle_rule(rule) for rule in lifecycle_rules],
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[versioning]),
        )
    return ArchiveBucket(
        bucket, public_access_block, encryption, versioning, policy, ownership_controls, lifecycle
    )


def _lifecycle_rule(rule: LifecycleRule) -> aws.s3.BucketLifecycleConfigurationRuleArgs:
    return aws.s3.BucketLifecycleConfigurationRuleArgs(
        id=rule.id,
        status="Enabled",
        filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=rule.prefix),
        transitions=(
            [
                aws.s3.BucketLifecycleConfigurationRuleTransitionArgs(
                    days=rule.transition_days, storage_class=str(rule.transition_storage_class)
                )
            ]
            if rule.transition_days is not None
            else None
        ),
        expiration=(
            aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=rule.expiration_days)
            if rule.expiration_days is not None
            else None
        ),
        abort_incomplete_multipart_upload=(
            aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                days_after_initiation=rule.abort_incomplete_multipart_days
            )
            if rule.abort_incomplete_multipart_days is not None
            else None
        ),
        noncurrent_version_expiration=(
            aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                noncurrent_days=rule.noncurrent_version_expiration_days
            )
            if rule.noncurrent_version_expiration_days is not None
            else None
        ),
    )
