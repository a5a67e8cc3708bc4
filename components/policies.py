"""IAM policy documents of the stream replica, as small pure functions.

Every function takes plain strings (ARNs, account ids) and returns one policy document (or one
statement) as a ``dict``; the actions each statement grants are in :mod:`.iam_actions`. The
components render them with ``pulumi.Output`` once their inputs are known; the unit tests, the
policy tests and the policy pack call them directly, so each role's permissions can be read in
one place:

========================  ================================================================
principal                 documents
========================  ================================================================
replicator role           :func:`lambda_trust_policy`, :func:`replicator_policy`
writer role (POC)         :func:`writer_trust_policy`, :func:`writer_policy`
table (resource-policy)   :func:`table_resource_policy`
stream (target placement) :func:`stream_resource_policy`
EFO consumer (target)     :func:`consumer_resource_policy`
archiver role (POC)       :func:`lambda_trust_policy`, :func:`archiver_policy`
query writer role (POC)   :func:`lambda_trust_policy`, :func:`query_writer_policy`
Firehose role (POC)       :func:`firehose_trust_policy`, :func:`firehose_delivery_policy`
archive bucket            :func:`.transport_policies.tls_only_bucket_policy`
queues (both consumers)   :func:`.transport_policies.tls_only_queue_policy`
redrive operator          :func:`redrive_policy` (``docs/redrive.md``; a role of yours)
========================  ================================================================

Rules the documents keep (and the tests check): no ``*`` or ``service:*`` action in an Allow;
every Allow names the exact resources it applies to. AWS has actions without resource-level
permissions; a statement may use ``"Resource": "*"`` only for an action listed in
:data:`ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS`, with the reason. The only one today is
``dynamodb:ListStreams`` (part of Lambda's DynamoDB Streams mapping check); metrics go out as
CloudWatch embedded-metric log lines, so no ``cloudwatch:PutMetricData``. Add to the table,
never around it.

The only wildcard *actions* are in Denies: the bucket's and the queues' TLS-only statements deny
``s3:*`` / ``sqs:*`` over plain HTTP, which is AWS's documented form and can only narrow access.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .iam_actions import (
    DYNAMODB_STREAM_LIST_ACTIONS,
    DYNAMODB_STREAM_READ_ACTIONS,
    FIREHOSE_BUCKET_ACTIONS,
    FIREHOSE_OBJECT_ACTIONS,
    FIREHOSE_PUT_ACTIONS,
    KINESIS_CONSUMER_READ_ACTIONS,
    KINESIS_SOURCE_READ_ACTIONS,
    KMS_DATA_KEY_ACTIONS,
    KMS_DECRYPT_ACTIONS,
    LOG_WRITE_ACTIONS,
    QUERY_TABLE_WRITE_ACTIONS,
    QUEUE_SEND_ACTIONS,
    REDRIVE_INVOKE_ACTIONS,
    REDRIVE_KINESIS_READ_ACTIONS,
    REDRIVE_QUEUE_ACTIONS,
    REDRIVE_TABLE_STREAM_READ_ACTIONS,
    TABLE_WRITE_ACTIONS,
)

PolicyDocument = dict[str, Any]
Statement = dict[str, Any]

VERSION = "2012-10-17"

#: Actions that AWS authorises only on ``"Resource": "*"``, with why we need each. This is the
#: one place a statement may use ``"Resource": "*"``.
ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS: Mapping[str, str] = {
    "dynamodb:ListStreams": (
        "Lambda checks it on the execution role when it creates a DynamoDB Streams event source "
        "mapping; ListStreams has no resource-level permissions (it only lists stream ARNs)."
    ),
}

#: Where the replicator runs: ``source`` (the stream's account; writes the table across the
#: boundary) or ``target`` (the table's account; reads the stream across the boundary through
#: the stream's, and in ``efo`` mode the consumer's, resource policy).
PLACEMENTS: tuple[str, ...] = ("source", "target")
#: How the mapping reads the stream: ``shared`` (GetRecords on the stream, sharing each shard's
#: 2 MB/s and 5 reads/s) or ``efo`` (an enhanced fan-out consumer with its own 2 MB/s per shard).
CONSUMER_MODES: tuple[str, ...] = ("shared", "efo")


def account_root_arn(account_id: str, partition: str = "aws") -> str:
    """The account principal ``arn:aws:iam::<account>:root``."""
    return f"arn:{partition}:iam::{account_id}:root"


def role_arn(account_id: str, role_name: str, path: str = "/", partition: str = "aws") -> str:
    """The ARN a role named ``role_name`` at ``path`` has (or will have) in ``account_id``.

    Deterministic, so the POC stack can trust the replicator's role before it exists.
    """
    if not path.startswith("/") or not path.endswith("/"):
        raise ValueError(f"IAM role path must start and end with '/': {path!r}")
    return f"arn:{partition}:iam::{account_id}:role{path}{role_name}"


def document(*statements: Statement) -> PolicyDocument:
    """A policy document holding ``statements`` in order."""
    return {"Version": VERSION, "Statement": list(statements)}


def allow(
    sid: str,
    actions: Sequence[str],
    resources: Sequence[str],
    condition: Mapping[str, Any] | None = None,
) -> Statement:
    """One Allow statement; ``"*"`` resources only for actions AWS can't scope."""
    if not resources:
        raise ValueError(f"statement {sid}: no resources")
    missing = [r for r in resources if not isinstance(r, str) or not r]
    if missing:
        # An ARN a resource has not reported yet (None): render the document once it is known.
        raise ValueError(f"statement {sid}: resources {missing!r} are not ARNs")
    if "*" in resources:
        unscoped = [a for a in actions if a not in ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS]
        if unscoped:
            raise ValueError(
                f"statement {sid}: Resource '*' for {unscoped}, which AWS can scope to a resource"
            )
    for action in actions:
        if action == "*" or action.endswith(":*"):
            raise ValueError(f"statement {sid}: wildcard action {action!r}")
    statement: Statement = {
        "Sid": sid,
        "Effect": "Allow",
        "Action": sorted(actions),
        "Resource": sorted(resources),
    }
    if condition:
        statement["Condition"] = {op: dict(values) for op, values in condition.items()}
    return statement


# --- trust policies -------------------------------------------------------------------------


def lambda_trust_policy(account_id: str) -> PolicyDocument:
    """Trust for a function's execution role: the Lambda service, on behalf of this account.

    ``aws:SourceAccount`` (which the Lambda guide documents for execution-role trust) keeps the
    service from assuming the role for a function in another account (confused deputy).
    """
    return document(
        {
            "Sid": "LambdaAssumesRole",
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"aws:SourceAccount": account_id}},
        }
    )


def writer_trust_policy(
    source_account_id: str,
    replicator_role_arn: str,
    external_id: str | None = None,
    partition: str = "aws",
) -> PolicyDocument:
    """Trust for the writer role: only the replicator's execution role in the source account.

    The principal is the source *account* with an ``ArnEquals aws:PrincipalArn`` condition on
    the replicator role's deterministic ARN: IAM rejects a trust policy naming a role that
    doesn't exist yet, and the POC stack is deployed before the prod one. With ``external_id``,
    the caller must also pass that ``sts:ExternalId``.
    """
    condition: dict[str, dict[str, str]] = {
        "ArnEquals": {"aws:PrincipalArn": replicator_role_arn},
    }
    if external_id:
        condition["StringEquals"] = {"sts:ExternalId": external_id}
    return document(
        {
            "Sid": "ReplicatorAssumesWriterRole",
            "Effect": "Allow",
            "Principal": {"AWS": account_root_arn(source_account_id, partition)},
            "Action": "sts:AssumeRole",
            "Condition": condition,
        }
    )


def firehose_trust_policy(account_id: str) -> PolicyDocument:
    """Trust for the delivery role: Firehose, for this account only (``sts:ExternalId``)."""
    return document(
        {
            "Sid": "FirehoseAssumesRole",
            "Effect": "Allow",
            "Principal": {"Service": "firehose.amazonaws.com"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": account_id}},
        }
    )


# --- statement groups -------------------------------------------------------------------------


def log_statement(log_group_arn: str) -> Statement:
    """Write log streams/events of one log group (the function's own)."""
    return allow("WriteOwnLogs", LOG_WRITE_ACTIONS, [f"{log_group_arn}:*"])


def queue_statement(queue_arns: Sequence[str]) -> Statement:
    """Send to the dead-letter queue and the mapping's on-failure destination."""
    return allow("SendToDeadLetterQueues", QUEUE_SEND_ACTIONS, list(queue_arns))


def kinesis_read_statement(stream_arn: str) -> Statement:
    """Read one Kinesis stream through an event source mapping."""
    return allow("ReadSourceStream", KINESIS_SOURCE_READ_ACTIONS, [stream_arn])


def kinesis_consumer_read_statement(consumer_arn: str) -> Statement:
    """Read one enhanced fan-out consumer of the stream (``efo`` mode)."""
    return allow("ReadStreamConsumer", KINESIS_CONSUMER_READ_ACTIONS, [consumer_arn])


def kms_decrypt_statement(sid: str, key_arn: str, via_service: str) -> Statement:
    """Decrypt with one customer-managed key, only when ``via_service`` asks on our behalf."""
    condition = {"StringEquals": {"kms:ViaService": via_service}}
    return allow(sid, KMS_DECRYPT_ACTIONS, [key_arn], condition)


def ssm_parameter_arn(parameter: str, region: str, account_id: str, partition: str = "aws") -> str:
    """The ARN of an SSM parameter given by name (``/a/b`` or ``a``) or already by ARN."""
    if parameter.startswith("arn:"):
        return parameter
    return f"arn:{partition}:ssm:{region}:{account_id}:parameter/{parameter.lstrip('/')}"


def ssm_parameter_read_statement(parameter_arn: str) -> Statement:
    """Read exactly one parameter (the pseudonymisation key): ``ssm:GetParameter`` only."""
    return allow("ReadPseudonymizationKey", ("ssm:GetParameter",), [parameter_arn])


def table_write_statement(table_arn: str) -> Statement:
    """The replicator's writes to one table."""
    return allow("WriteReplicaTable", TABLE_WRITE_ACTIONS, [table_arn])


def assume_writer_statement(writer_role_arn: str) -> Statement:
    """Assume exactly the writer role in the target account."""
    return allow("AssumeWriterRole", ("sts:AssumeRole",), [writer_role_arn])


def dynamodb_stream_read_statement(table_stream_arn: str) -> Statement:
    """Read one table's stream through an event source mapping."""
    return allow("ReadTableStream", DYNAMODB_STREAM_READ_ACTIONS, [table_stream_arn])


def dynamodb_list_streams_statement() -> Statement:
    """ListStreams, which Lambda's mapping check needs and AWS can't scope to a stream."""
    return allow("ListTableStreams", DYNAMODB_STREAM_LIST_ACTIONS, ["*"])


def firehose_put_statement(delivery_stream_arn: str) -> Statement:
    """Put batches to one delivery stream."""
    return allow("PutToDeliveryStream", FIREHOSE_PUT_ACTIONS, [delivery_stream_arn])


def query_table_write_statement(query_table_arn: str) -> Statement:
    """The query writer's puts and deletes on one query table."""
    return allow("WriteQueryTable", QUERY_TABLE_WRITE_ACTIONS, [query_table_arn])


# --- role policies --------------------------------------------------------------------------


def replicator_policy(
    *,
    source_stream_arn: str,
    log_group_arn: str,
    queue_arns: Sequence[str],
    access_mode: str,
    writer_role_arn: str | None = None,
    table_arn: str | None = None,
    source_stream_kms_key_arn: str | None = None,
    region: str = "",
    key_parameter_arn: str | None = None,
    key_parameter_kms_key_arn: str | None = None,
    placement: str = "source",
    consumer_arn: str | None = None,
) -> PolicyDocument:
    """The replicator execution role's inline policy.

    Reads exactly the source stream (and, with ``consumer_arn`` — ``efo`` mode — exactly that
    enhanced fan-out consumer), writes its own logs, sends to its two queues, and writes the
    table:

    * ``placement="source"``: either assumes exactly the writer role (``assume-role``) or writes
      exactly the target table (``resource-policy``; the table's resource policy must also
      allow it);
    * ``placement="target"``: the function runs in the table's account and writes exactly the
      table (``access_mode`` is not used); the stream's (and consumer's) resource policy must
      allow the reads (:func:`stream_resource_policy`, :func:`consumer_resource_policy`).

    With redaction, ``ssm:GetParameter`` on exactly the key parameter, and ``kms:Decrypt`` on
    its customer key (only through SSM) when one is named; the default key ``alias/aws/ssm``
    needs no grant.

    :raises ValueError: an unknown placement or access mode, or an ARN the choice needs missing.
    """
    statements = [kinesis_read_statement(source_stream_arn)]
    if consumer_arn:
        statements.append(kinesis_consumer_read_statement(consumer_arn))
    if source_stream_kms_key_arn:
        statements.append(
            kms_decrypt_statement(
                "DecryptSourceStream", source_stream_kms_key_arn, f"kinesis.{region}.amazonaws.com"
            )
        )
    if placement == "target":
        if not table_arn:
            raise ValueError("target placement needs table_arn")
        statements.append(table_write_statement(table_arn))
    elif placement != "source":
        raise ValueError(f"unknown placement {placement!r}; one of {PLACEMENTS}")
    elif access_mode == "assume-role":
        if not writer_role_arn:
            raise ValueError("assume-role mode needs writer_role_arn")
        statements.append(assume_writer_statement(writer_role_arn))
    elif access_mode == "resource-policy":
        if not table_arn:
            raise ValueError("resource-policy mode needs table_arn")
        statements.append(table_write_statement(table_arn))
    else:
        raise ValueError(f"unknown access mode {access_mode!r}")
    if key_parameter_arn:
        statements.append(ssm_parameter_read_statement(key_parameter_arn))
        if key_parameter_kms_key_arn:
            statements.append(
                kms_decrypt_statement(
                    "DecryptPseudonymizationKey",
                    key_parameter_kms_key_arn,
                    f"ssm.{region}.amazonaws.com",
                )
            )
    statements.append(queue_statement(queue_arns))
    statements.append(log_statement(log_group_arn))
    return document(*statements)


def writer_policy(table_arn: str) -> PolicyDocument:
    """The writer role's inline policy: exactly the replicator's writes on this table."""
    return document(table_write_statement(table_arn))


def table_resource_policy(
    table_arn: str,
    source_account_id: str,
    replicator_role_arn: str,
    partition: str = "aws",
) -> PolicyDocument:
    """The table's resource policy in ``resource-policy`` mode.

    Grants the replicator's writes to the source account's principal restricted by
    ``aws:PrincipalArn`` to the replicator role: DynamoDB rejects a resource policy naming a
    role that doesn't exist yet (the POC stack deploys first).
    """
    return document(
        {
            "Sid": "ReplicatorWritesTable",
            "Effect": "Allow",
            "Principal": {"AWS": account_root_arn(source_account_id, partition)},
            "Action": sorted(TABLE_WRITE_ACTIONS),
            "Resource": table_arn,
            "Condition": {"ArnEquals": {"aws:PrincipalArn": replicator_role_arn}},
        }
    )


def _pinned_statement(
    sid: str,
    actions: Sequence[str],
    resource_arn: str,
    reader_account_id: str,
    principal_role_arn: str,
    partition: str,
) -> dict[str, Any]:
    return {
        "Sid": sid,
        "Effect": "Allow",
        "Principal": {"AWS": account_root_arn(reader_account_id, partition)},
        "Action": sorted(actions),
        "Resource": resource_arn,
        "Condition": {"ArnEquals": {"aws:PrincipalArn": principal_role_arn}},
    }


def _pinned_grant(
    sid: str,
    actions: Sequence[str],
    resource_arn: str,
    reader_account_id: str,
    replicator_role_arn: str,
    partition: str,
) -> PolicyDocument:
    return document(
        _pinned_statement(
            sid, actions, resource_arn, reader_account_id, replicator_role_arn, partition
        )
    )


def stream_resource_policy(
    stream_arn: str,
    reader_account_id: str,
    replicator_role_arn: str,
    partition: str = "aws",
    redrive_role_arn: str | None = None,
) -> PolicyDocument:
    """The source stream's resource policy in ``target`` placement.

    Grants exactly the reads a Kinesis event source mapping needs
    (:data:`KINESIS_SOURCE_READ_ACTIONS`, in both consumer modes: Lambda lists the stream's
    shards even when it reads through a consumer) to the reader account's principal,
    restricted by ``ArnEquals aws:PrincipalArn`` to the replicator's execution role. The
    account principal with the condition, not the role ARN itself, because the prod stack
    (and this policy) is deployed before the role exists. Kinesis guide, "Share access using
    resource-based policies" (resource-based-policy-examples).

    ``redrive_role_arn``: the role operators run the redrive with (``docs/redrive.md``), an IAM
    role ARN in ``reader_account_id`` (the account of the replicator's on-failure queue); it is
    granted only what the redrive reads (:data:`REDRIVE_KINESIS_READ_ACTIONS`: re-reading a
    failed range), pinned the same way (statement ``RedriveRereadsStream``). Without it the
    stream admits the replicator alone, and a redrive from the reader account is denied.
    """
    statements = [
        _pinned_statement(
            "ReplicatorReadsStream",
            KINESIS_SOURCE_READ_ACTIONS,
            stream_arn,
            reader_account_id,
            replicator_role_arn,
            partition,
        )
    ]
    if redrive_role_arn:
        statements.append(
            _pinned_statement(
                "RedriveRereadsStream",
                REDRIVE_KINESIS_READ_ACTIONS,
                stream_arn,
                reader_account_id,
                redrive_role_arn,
                partition,
            )
        )
    return document(*statements)


def consumer_resource_policy(
    consumer_arn: str,
    reader_account_id: str,
    replicator_role_arn: str,
    partition: str = "aws",
) -> PolicyDocument:
    """The enhanced fan-out consumer's resource policy in ``target`` placement, ``efo`` mode.

    Exactly :data:`KINESIS_CONSUMER_READ_ACTIONS` on the consumer, for the replicator's
    execution role only (pinned as in :func:`stream_resource_policy`). Kinesis accepts a
    consumer's policy only once the consumer is ACTIVE.
    """
    return _pinned_grant(
        "ReplicatorReadsConsumer",
        KINESIS_CONSUMER_READ_ACTIONS,
        consumer_arn,
        reader_account_id,
        replicator_role_arn,
        partition,
    )


def archiver_policy(
    *,
    table_stream_arn: str,
    delivery_stream_arn: str,
    log_group_arn: str,
    queue_arns: Sequence[str],
) -> PolicyDocument:
    """The archiver execution role's inline policy: this stream in, this delivery stream out."""
    return document(
        dynamodb_stream_read_statement(table_stream_arn),
        dynamodb_list_streams_statement(),
        firehose_put_statement(delivery_stream_arn),
        queue_statement(queue_arns),
        log_statement(log_group_arn),
    )


def query_writer_policy(
    *,
    table_stream_arn: str,
    query_table_arn: str,
    log_group_arn: str,
    queue_arns: Sequence[str],
) -> PolicyDocument:
    """The query writer execution role's inline policy: this stream in, this table out."""
    return document(
        dynamodb_stream_read_statement(table_stream_arn),
        dynamodb_list_streams_statement(),
        query_table_write_statement(query_table_arn),
        queue_statement(queue_arns),
        log_statement(log_group_arn),
    )


def prefix_root(prefix: str) -> str:
    """The static part of an S3 prefix, up to the first ``!{...}`` expression."""
    return prefix.split("!{", 1)[0]


def firehose_delivery_policy(
    *,
    bucket_arn: str,
    prefixes: Sequence[str],
    log_stream_arn: str,
    bucket_kms_key_arn: str | None = None,
    region: str = "",
) -> PolicyDocument:
    """The delivery role's policy: this bucket, only under ``prefixes``, and its log stream.

    ``prefixes`` are the delivery stream's data and error prefixes; objects are allowed under
    the static part of each (before any ``!{...}``).
    """
    object_arns = sorted({f"{bucket_arn}/{prefix_root(p)}*" for p in prefixes})
    statements = [
        allow("ListArchiveBucket", FIREHOSE_BUCKET_ACTIONS, [bucket_arn]),
        allow("WriteArchiveObjects", FIREHOSE_OBJECT_ACTIONS, object_arns),
        allow("WriteDeliveryErrorLogs", ("logs:PutLogEvents",), [log_stream_arn]),
    ]
    if bucket_kms_key_arn:
        statements.append(
            allow(
                "EncryptArchiveObjects",
                KMS_DATA_KEY_ACTIONS,
                [bucket_kms_key_arn],
                {
                    "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
                    "StringLike": {"kms:EncryptionContext:aws:s3:arn": object_arns},
                },
            )
        )
    return document(*statements)


def redrive_policy(
    *,
    failure_queue_arn: str,
    stream_arn: str,
    function_arn: str,
    stream_kms_key_arn: str | None = None,
    region: str = "",
) -> PolicyDocument:
    """What the redrive of one mapping's on-failure queue may do (``docs/redrive.md``).

    Receive, delete and release messages of exactly that queue; read exactly the stream the
    mapping reads (a Kinesis stream ARN, or a table stream ARN ``…/stream/<label>``); invoke
    exactly the mapping's function. Attach it to the role an operator (or a scheduled job) runs
    ``python -m stream_replica.redrive`` with, in the account of the queue: prod for the
    replicator, POC for the archiver. ``stream_kms_key_arn``: a customer-managed key of the
    Kinesis stream (decrypt only through Kinesis).
    """
    kinesis = stream_arn.split(":")[2] == "kinesis"
    read_actions = REDRIVE_KINESIS_READ_ACTIONS if kinesis else REDRIVE_TABLE_STREAM_READ_ACTIONS
    statements = [
        allow("RedriveOnFailureQueue", REDRIVE_QUEUE_ACTIONS, [failure_queue_arn]),
        allow("RereadFailedRanges", read_actions, [stream_arn]),
        allow("InvokeSameFunction", REDRIVE_INVOKE_ACTIONS, [function_arn]),
    ]
    if stream_kms_key_arn:
        if not kinesis:
            raise ValueError("stream_kms_key_arn applies to a Kinesis stream only")
        statements.append(
            kms_decrypt_statement(
                "DecryptSourceStream", stream_kms_key_arn, f"kinesis.{region}.amazonaws.com"
            )
        )
    return document(*statements)
