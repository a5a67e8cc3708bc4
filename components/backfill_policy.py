"""What whoever runs the backfill may do (``docs/backfill.md``, "Its IAM"): one pure function,
:func:`backfill_policy`, for the operator's role of ``python -m stream_replica.backfill`` and for
the backfill Lambda's role (``components/backfill.py`` adds only its log group).

* list the archive bucket only under the archive prefix (``s3:ListBucket`` with an
  ``s3:prefix`` condition) and read only the archive's objects (``s3:GetObject``);
* write only the target table, with BatchWriteItem's one action (``dynamodb:BatchWriteItem``
  covers its puts and deletes,
  https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/api-permissions-reference.html);
* with S3 checkpoints: read, write and list only the checkpoint prefix;
* with a customer-managed key on the bucket: decrypt (and, for checkpoints, encrypt) only
  through S3.
"""

from .policies import (
    KMS_DATA_KEY_ACTIONS,
    KMS_DECRYPT_ACTIONS,
    PolicyDocument,
    allow,
    document,
)

#: Listing the window's hour partitions and reading its objects.
BACKFILL_LIST_ACTIONS: tuple[str, ...] = ("s3:ListBucket",)
BACKFILL_READ_ACTIONS: tuple[str, ...] = ("s3:GetObject",)
#: The target table: puts and deletes go out with BatchWriteItem only.
BACKFILL_WRITE_ACTIONS: tuple[str, ...] = ("dynamodb:BatchWriteItem",)
#: S3 checkpoints (and the fanned-out run's manifest, tombstones and report).
BACKFILL_CHECKPOINT_ACTIONS: tuple[str, ...] = ("s3:GetObject", "s3:PutObject")


def backfill_policy(
    *,
    archive_bucket_arn: str,
    archive_prefix: str,
    table_arn: str,
    checkpoint_bucket_arn: str | None = None,
    checkpoint_prefix: str = "backfill/",
    bucket_kms_key_arn: str | None = None,
    region: str = "",
) -> PolicyDocument:
    """The backfill's identity policy.

    ``archive_bucket_arn`` (str): the archive bucket; ``archive_prefix`` (str, may be empty):
    the archive's object prefix (before ``year=``); ``table_arn`` (str): the table written (the
    replica, a new table of its schema, or the query table); ``checkpoint_bucket_arn`` (str or
    None, default None: checkpoints in a local file): where S3 checkpoints go, under
    ``checkpoint_prefix`` (default ``backfill/``); ``bucket_kms_key_arn`` (str or None): a
    customer-managed key of the bucket(s), used only through S3 in ``region``.
    Raises ValueError when the checkpoint prefix lies inside the archive prefix of the same
    bucket (checkpoints would be read as archive objects)."""
    if (
        checkpoint_bucket_arn == archive_bucket_arn
        and checkpoint_prefix.startswith(archive_prefix)
        and archive_prefix
    ):
        raise ValueError(
            f"checkpoint prefix {checkpoint_prefix!r} lies inside the archive prefix "
            f"{archive_prefix!r}: choose one outside it"
        )
    statements = [
        allow(
            "ListArchiveWindow",
            BACKFILL_LIST_ACTIONS,
            [archive_bucket_arn],
            {"StringLike": {"s3:prefix": [f"{archive_prefix}*"]}},
        ),
        allow("ReadArchive", BACKFILL_READ_ACTIONS, [f"{archive_bucket_arn}/{archive_prefix}*"]),
        allow("WriteTargetTable", BACKFILL_WRITE_ACTIONS, [table_arn]),
    ]
    if checkpoint_bucket_arn:
        statements += [
            allow(
                "Checkpoints",
                BACKFILL_CHECKPOINT_ACTIONS,
                [f"{checkpoint_bucket_arn}/{checkpoint_prefix}*"],
            ),
            allow(
                "ListCheckpoints",
                BACKFILL_LIST_ACTIONS,
                [checkpoint_bucket_arn],
                {"StringLike": {"s3:prefix": [f"{checkpoint_prefix}*"]}},
            ),
        ]
    if bucket_kms_key_arn:
        actions = KMS_DATA_KEY_ACTIONS if checkpoint_bucket_arn else KMS_DECRYPT_ACTIONS
        statements.append(
            allow(
                "UseBucketKeyThroughS3",
                actions,
                [bucket_kms_key_arn],
                {"StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"}},
            )
        )
    return document(*statements)
