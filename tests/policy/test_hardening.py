"""Encryption, public access, log retention and wildcard-free IAM on what the stacks render."""

from __future__ import annotations

import functools

import pytest
from stream_replica.components import policies

from .checks import wildcard_action_problems, wildcard_resource_problems
from .stacks import VARIANTS, StackView, Variant, render, variant_id


@functools.cache
def prod_with_created_stream() -> StackView:
    """The prod stack asked to create its source stream (the example stack uses an existing one)."""
    from tests import stack_runs

    rendered = stack_runs.run_stack("prod", {"createSourceStream": True})
    return StackView("prod", "assume-role", None, tuple(rendered.resources), rendered.outputs)


def test_table_encryption_matches_the_access_mode() -> None:
    # DynamoDB always encrypts at rest. assume-role: the AWS-managed KMS key (auditable in
    # CloudTrail). resource-policy: the AWS-owned key, because DynamoDB refuses cross-account
    # access through a resource policy to a table under the AWS-managed key.
    for mode, kms in (("assume-role", True), ("resource-policy", False)):
        table = render("poc", mode).one("aws:dynamodb/table:Table", "replica-target")
        assert table.inputs["serverSideEncryption"] == {"enabled": kms}, mode
        assert table.inputs["pointInTimeRecovery"] == {"enabled": True}
        assert table.inputs["deletionProtectionEnabled"] is True
        assert table.protect and table.retain_on_delete


def test_created_source_stream_is_kms_encrypted() -> None:
    (stream,) = prod_with_created_stream().of_type("aws:kinesis/stream:Stream")
    assert stream.inputs["encryptionType"] == "KMS"
    assert stream.inputs["kmsKeyId"]
    # The example stack reads an existing stream and creates none.
    assert render("prod").of_type("aws:kinesis/stream:Stream") == []


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_queues_are_encrypted_and_log_groups_expire(variant: Variant) -> None:
    view = render(*variant)
    queues = view.of_type("aws:sqs/queue:Queue")
    # two per function (dead letters, mapping failures); none in prod in target placement
    functions = len(view.of_type("aws:lambda/function:Function"))
    assert len(queues) == 2 * functions
    for queue in queues:
        assert queue.inputs.get("sqsManagedSseEnabled") is True or queue.inputs.get(
            "kmsMasterKeyId"
        ), queue.name
    groups = view.of_type("aws:cloudwatch/logGroup:LogGroup")
    # one per function, and poc's Firehose delivery log group
    assert len(groups) == functions + (0 if view.stack == "prod" else 1)
    for group in groups:
        assert group.inputs.get("retentionInDays", 0) > 0, group.name


def test_query_table_is_encrypted_recoverable_and_kept() -> None:
    table = render("poc").one("aws:dynamodb/table:Table", "query-table")
    assert table.inputs["serverSideEncryption"] == {"enabled": True}
    assert table.inputs["pointInTimeRecovery"] == {"enabled": True}
    assert table.inputs["deletionProtectionEnabled"] is True
    assert table.protect and table.retain_on_delete


def test_bucket_and_delivery_stream_are_locked_down() -> None:
    view = render("poc")
    (bucket,) = view.of_type("aws:s3/bucket:Bucket")
    name = bucket.inputs["bucket"]
    (pab,) = view.of_type("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")
    assert pab.inputs["bucket"] == name
    for flag in (
        "blockPublicAcls",
        "blockPublicPolicy",
        "ignorePublicAcls",
        "restrictPublicBuckets",
    ):
        assert pab.inputs[flag] is True, flag
    (sse,) = view.of_type(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    assert sse.inputs["bucket"] == name
    (rule,) = sse.inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] in ("AES256", "aws:kms")
    (policy,) = view.of_type("aws:s3/bucketPolicy:BucketPolicy")
    assert policy.depends_on(pab), "bucket policy must wait for the public access block"
    (delivery,) = view.of_type("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
    assert delivery.inputs["serverSideEncryption"]["enabled"] is True
    assert delivery.inputs["extendedS3Configuration"]["cloudwatchLoggingOptions"]["enabled"] is True


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_no_wildcard_actions_or_resources(variant: Variant) -> None:
    docs = render(*variant).documents()
    assert docs
    assert wildcard_action_problems(docs) == []
    exceptions = policies.ACTIONS_WITHOUT_RESOURCE_LEVEL_PERMISSIONS
    assert wildcard_resource_problems(docs, exceptions) == []
    # The only wildcard actions are the TLS-only Denies of the bucket and each consumer's two
    # queues (the replicator's are in poc in target placement; prod then holds no queue).
    wildcards = sorted(
        (d.kind, s["Effect"], action)
        for d in docs
        for s in d.statements
        for action in _actions(s)
        if "*" in action
    )
    queues = [("resource", "Deny", "sqs:*")] * _queue_count(variant)
    expected = queues if variant[0] == "prod" else [("resource", "Deny", "s3:*"), *queues]
    assert wildcards == expected


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_both_queues_refuse_plain_http(variant: Variant) -> None:
    """The dead-letter queue keeps raw poison payloads for 14 days: TLS only, like the bucket."""
    view = render(*variant)
    queue_docs = [d for d in view.documents() if "sqs/queuePolicy" in d.source]
    assert len(queue_docs) == _queue_count(variant)
    assert len(queue_docs) == len(view.of_type("aws:sqs/queue:Queue"))
    for doc in queue_docs:
        (statement,) = doc.statements
        assert statement["Effect"] == "Deny" and statement["Principal"] == "*"
        assert statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}


def _queue_count(variant: Variant) -> int:
    """Two queues per consumer function in the stack: prod runs the replicator in source
    placement, poc the archiver, the query writer and, in target placement, the replicator."""
    stack, placement = variant[0], variant[3]
    if stack == "prod":
        return 2 if placement == "source" else 0
    # the archiver and the query writer, and the replicator in target placement
    return 6 if placement == "target" else 4


def _actions(statement: dict) -> list[str]:
    action = statement.get("Action", [])
    return [action] if isinstance(action, str) else list(action)
