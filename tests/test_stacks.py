"""Both stacks, each with its own stack file, run through the real ``__main__.py`` under mocks.

Each module-scoped fixture renders a stack once (rendering is deterministic); the tests read
what the program registered: resources, their inputs and options, and the exported outputs.
"""

from __future__ import annotations

from typing import Any

import pytest
from stream_replica.components import assets
from stream_replica.testing import RenderedStack

from stack_config.references import external_id_digest
from tests.stack_runs import run_stack

POC_ACCOUNT = "999999999999"
PROD_ACCOUNT = "111111111111"
REGION = "eu-west-1"
TABLE = "prod-raven-lambda-webanalytics-crossaccount"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{POC_ACCOUNT}:table/{TABLE}"
WRITER_ROLE_ARN = f"arn:aws:iam::{POC_ACCOUNT}:role/DynamoDB-ProdAnalyticsWrite-role"
REPLICATOR_ROLE_ARN = f"arn:aws:iam::{PROD_ACCOUNT}:role/ProdKinesisToPocDynamo-role"
SOURCE_STREAM_ARN = f"arn:aws:kinesis:{REGION}:{PROD_ACCOUNT}:stream/web-analytics"
#: The example prod stack reads through an enhanced fan-out consumer (consumerMode efo).
CONSUMER_ARN = f"{SOURCE_STREAM_ARN}/consumer/replica-source:1767225600"
POC_REFERENCE = "organization/kinesis-crossaccount-replica/poc"
POWERTOOLS_ARM = (
    f"arn:aws:lambda:{REGION}:017000801446:layer:AWSLambdaPowertoolsPythonV3-python313-arm64:27"
)

FUNCTION = "aws:lambda/function:Function"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
QUEUE = "aws:sqs/queue:Queue"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm"
PROVIDER = "pulumi:providers:aws"


@pytest.fixture(scope="module")
def poc() -> RenderedStack:
    return run_stack("poc")


@pytest.fixture(scope="module")
def prod() -> RenderedStack:
    return run_stack("prod")


@pytest.fixture(scope="module")
def poc_rp() -> RenderedStack:
    return run_stack("poc", {"accessMode": "resource-policy"})


@pytest.fixture(scope="module")
def prod_rp() -> RenderedStack:
    return run_stack("prod", {"accessMode": "resource-policy"})


def statements(resource: Any, field: str = "policy") -> list[dict[str, Any]]:
    return list(resource.document(field)["Statement"])


def grants(resource: Any) -> dict[str, tuple[list[str], list[str]]]:
    """Sid -> (actions, resources) of an identity policy, for exact comparison."""
    out = {}
    for statement in statements(resource):
        assert statement["Effect"] == "Allow"
        out[statement["Sid"]] = (statement["Action"], statement["Resource"])
    return out


def queue_arns(stack: RenderedStack, component: str) -> list[str]:
    return sorted(
        stack.one(QUEUE, f"{component}-{kind}").state["arn"]
        for kind in ("dead-letters", "mapping-failures")
    )


# --- poc ----------------------------------------------------------------------------------


def test_poc_table_keys_stream_encryption_and_protection(poc: RenderedStack) -> None:
    table = poc.one("aws:dynamodb/table:Table", "replica-target-table")
    inputs = table.inputs
    assert inputs["name"] == TABLE
    assert inputs["hashKey"] == "seqNumbershardIdHash"
    assert inputs["rangeKey"] == "sequenceNumber"
    attributes = {a["name"]: a["type"] for a in inputs["attributes"]}
    assert attributes == {
        "seqNumbershardIdHash": "S",
        "sequenceNumber": "S",
        "userEmail": "S",
        "timestamp": "N",
    }
    assert inputs["billingMode"] == "PAY_PER_REQUEST"
    assert "readCapacity" not in inputs
    assert inputs["streamEnabled"] is True
    # The query writer deletes a removed event's query item: it needs the old image.
    assert inputs["streamViewType"] == "NEW_AND_OLD_IMAGES"
    assert inputs["pointInTimeRecovery"] == {"enabled": True}
    assert inputs["serverSideEncryption"] == {"enabled": True}
    assert inputs["deletionProtectionEnabled"] is True
    (index,) = inputs["globalSecondaryIndexes"]
    assert index["name"] == "userEmail-timestamp"
    assert index["keySchemas"] == [
        {"attributeName": "userEmail", "keyType": "HASH"},
        {"attributeName": "timestamp", "keyType": "RANGE"},
    ]
    # Losing the table loses the replica: Pulumi must refuse to delete or replace it.
    assert table.protect and table.retain_on_delete


def test_poc_writer_role_trusts_only_the_replicator_role(poc: RenderedStack) -> None:
    role = poc.one(ROLE, "replica-target-writer-role")
    assert role.inputs["name"] == "DynamoDB-ProdAnalyticsWrite-role"
    assert role.delete_before_replace  # fixed name: create-before-delete would collide
    (statement,) = statements(role, "assumeRolePolicy")
    assert statement["Principal"] == {"AWS": f"arn:aws:iam::{PROD_ACCOUNT}:root"}
    assert statement["Action"] == "sts:AssumeRole"
    assert statement["Condition"] == {"ArnEquals": {"aws:PrincipalArn": REPLICATOR_ROLE_ARN}}


def test_poc_writer_role_requires_external_id_when_configured() -> None:
    stack = run_stack("poc", {"externalId": "tenant-42"})
    (statement,) = statements(stack.one(ROLE, "replica-target-writer-role"), "assumeRolePolicy")
    assert statement["Condition"]["StringEquals"] == {"sts:ExternalId": "tenant-42"}
    assert statement["Condition"]["ArnEquals"] == {"aws:PrincipalArn": REPLICATOR_ROLE_ARN}


def test_poc_writer_policy_is_exactly_write_and_describe_on_the_table(poc: RenderedStack) -> None:
    policy = poc.one(ROLE_POLICY, "replica-target-writer-policy")
    assert grants(policy) == {
        "WriteReplicaTable": (["dynamodb:BatchWriteItem", "dynamodb:DescribeTable"], [TABLE_ARN])
    }


def test_poc_archiver_function_and_mapping(poc: RenderedStack) -> None:
    function = poc.one(FUNCTION, "archiver-function")
    inputs = function.inputs
    assert inputs["name"] == "PocLambdaFirehose"
    assert inputs["handler"] == assets.ARCHIVER_HANDLER == "handlers.archiver.handler"
    assert inputs["runtime"] == "python3.13"
    assert inputs["architectures"] == ["arm64"]
    assert inputs["timeout"] == 300
    assert inputs["layers"] == [POWERTOOLS_ARM]
    dead_letters = poc.one(QUEUE, "archiver-dead-letters").state["url"]
    assert inputs["environment"]["variables"] == {
        "DELIVERY_STREAM_NAME": "prod-s3-firehose",
        "ARCHIVE_REMOVES": "false",
        "DEAD_LETTER_QUEUE_URL": dead_letters,
        "POWERTOOLS_SERVICE_NAME": "archiver",
        "POWERTOOLS_METRICS_NAMESPACE": "StreamReplica",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    archive = inputs["code"]["assets"]
    assert set(archive) == set(assets.handler_files(handler=assets.ARCHIVER_HANDLER))
    assert "handlers/__init__.py" in archive and "handlers/archiver.py" in archive
    assert "handlers/replicator.py" not in archive

    mapping = poc.one(MAPPING, "archiver-mapping")
    table = poc.one("aws:dynamodb/table:Table", "replica-target-table")
    expect_mapping(
        mapping,
        source_arn=table.state["streamArn"],
        failure_queue_arn=poc.one(QUEUE, "archiver-mapping-failures").state["arn"],
        function_arn=function.state["arn"],
    )
    # Lambda checks the role when it creates the mapping: the policy must exist first.
    assert mapping.depends_on(poc.one(ROLE_POLICY, "archiver-policy"))
    assert function.depends_on(poc.one(ROLE_POLICY, "archiver-policy"))


def expect_mapping(
    mapping: Any, *, source_arn: str, failure_queue_arn: str, function_arn: str
) -> None:
    inputs = mapping.inputs
    assert inputs["eventSourceArn"] == source_arn
    assert inputs["functionName"] == function_arn
    assert inputs["batchSize"] == 300
    assert inputs["startingPosition"] == "TRIM_HORIZON"
    assert inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert inputs["bisectBatchOnFunctionError"] is True
    assert inputs["maximumRetryAttempts"] == 10
    assert inputs["maximumRecordAgeInSeconds"] == 21600
    assert inputs["destinationConfig"] == {"onFailure": {"destinationArn": failure_queue_arn}}


def test_poc_archiver_role_reads_this_stream_and_puts_to_this_delivery_stream(
    poc: RenderedStack,
) -> None:
    table = poc.one("aws:dynamodb/table:Table", "replica-target-table")
    delivery = poc.one("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
    log_group = poc.one(LOG_GROUP, "archiver-logs").state["arn"]
    assert grants(poc.one(ROLE_POLICY, "archiver-policy")) == {
        "ReadTableStream": (
            [
                "dynamodb:DescribeStream",
                "dynamodb:GetRecords",
                "dynamodb:GetShardIterator",
            ],
            [table.state["streamArn"]],
        ),
        "ListTableStreams": (["dynamodb:ListStreams"], ["*"]),
        "PutToDeliveryStream": (["firehose:PutRecordBatch"], [delivery.state["arn"]]),
        "SendToDeadLetterQueues": (["sqs:SendMessage"], queue_arns(poc, "archiver")),
        "WriteOwnLogs": (["logs:CreateLogStream", "logs:PutLogEvents"], [f"{log_group}:*"]),
    }
    (trust,) = statements(poc.one(ROLE, "archiver-role"), "assumeRolePolicy")
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"aws:SourceAccount": POC_ACCOUNT}}


def test_poc_firehose_delivery_stream(poc: RenderedStack) -> None:
    delivery = poc.one("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream")
    inputs = delivery.inputs
    assert inputs["name"] == "prod-s3-firehose"
    assert inputs["destination"] == "extended_s3"
    assert inputs["serverSideEncryption"] == {"enabled": True, "keyType": "AWS_OWNED_CMK"}
    s3 = inputs["extendedS3Configuration"]
    bucket = poc.one("aws:s3/bucket:Bucket")
    assert s3["bucketArn"] == bucket.state["arn"]
    assert s3["roleArn"] == poc.one(ROLE, "archiver-firehose-role").state["arn"]
    assert s3["bufferingSize"] == 5
    assert s3["bufferingInterval"] == 300
    assert s3["compressionFormat"] == "UNCOMPRESSED"
    assert s3["prefix"].startswith("prod-kinesis-data/year=!{timestamp:yyyy}/")
    # A prefix with !{timestamp:...} is only accepted with an error prefix holding the type.
    assert "!{firehose:error-output-type}" in s3["errorOutputPrefix"]
    logging = s3["cloudwatchLoggingOptions"]
    assert logging["enabled"] is True
    log_stream = poc.one("aws:cloudwatch/logStream:LogStream")
    assert logging["logStreamName"] == log_stream.state["name"]
    assert delivery.depends_on(poc.one(ROLE_POLICY, "archiver-firehose-policy"))
    assert delivery.delete_before_replace


def test_poc_firehose_role_trust_and_policy(poc: RenderedStack) -> None:
    role = poc.one(ROLE, "archiver-firehose-role")
    (trust,) = statements(role, "assumeRolePolicy")
    assert trust["Principal"] == {"Service": "firehose.amazonaws.com"}
    assert trust["Condition"] == {"StringEquals": {"sts:ExternalId": POC_ACCOUNT}}
    bucket_arn = poc.one("aws:s3/bucket:Bucket").state["arn"]
    log_stream = poc.one("aws:cloudwatch/logStream:LogStream").state["arn"]
    assert grants(poc.one(ROLE_POLICY, "archiver-firehose-policy")) == {
        "ListArchiveBucket": (
            ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
            [bucket_arn],
        ),
        "WriteArchiveObjects": (
            ["s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"],
            [f"{bucket_arn}/prod-kinesis-data-errors/*", f"{bucket_arn}/prod-kinesis-data/*"],
        ),
        "WriteDeliveryErrorLogs": (["logs:PutLogEvents"], [log_stream]),
    }


def test_poc_bucket_is_private_encrypted_tls_only_and_kept(poc: RenderedStack) -> None:
    bucket = poc.one("aws:s3/bucket:Bucket")
    assert bucket.inputs["bucket"] == f"archiver-{POC_ACCOUNT}-{REGION}"
    assert bucket.protect and bucket.retain_on_delete
    block = poc.one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock").inputs
    assert {k: block[k] for k in block if k != "bucket"} == {
        "blockPublicAcls": True,
        "blockPublicPolicy": True,
        "ignorePublicAcls": True,
        "restrictPublicBuckets": True,
    }
    sse = poc.one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
    )
    (rule,) = sse.inputs["rules"]
    assert rule["applyServerSideEncryptionByDefault"] == {"sseAlgorithm": "AES256"}
    (deny,) = statements(poc.one("aws:s3/bucketPolicy:BucketPolicy"))
    assert deny["Effect"] == "Deny"
    assert deny["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert deny["Resource"] == [bucket.state["arn"], f"{bucket.state['arn']}/*"]
    lifecycle = poc.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").inputs[
        "rules"
    ]
    by_id = {rule["id"]: rule for rule in lifecycle}
    assert by_id["housekeeping"]["abortIncompleteMultipartUpload"] == {"daysAfterInitiation": 7}
    assert by_id["archive-age"]["transitions"] == [{"days": 90, "storageClass": "GLACIER_IR"}]
    assert by_id["archive-age"]["filter"] == {"prefix": "prod-kinesis-data/"}


def test_poc_queues_and_log_groups(poc: RenderedStack) -> None:
    for queue in poc.of_type(QUEUE):
        assert queue.inputs["sqsManagedSseEnabled"] is True
        assert queue.inputs["maxMessageSize"] == 1_048_576
    for group in poc.of_type(LOG_GROUP):
        assert group.inputs["retentionInDays"] == 30


def test_poc_alarms_cover_lag_errors_throttles_dead_letters_and_delivery(
    poc: RenderedStack,
) -> None:
    metrics = {(a.inputs["namespace"], a.inputs["metricName"]) for a in poc.of_type(ALARM)}
    assert metrics == {
        ("AWS/Lambda", "IteratorAge"),
        ("AWS/Lambda", "Errors"),
        ("AWS/Lambda", "Throttles"),
        ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/Firehose", "DeliveryToS3.DataFreshness"),
        ("AWS/Firehose", "DeliveryToS3.Success"),
    }
    queue_alarms = [a for a in poc.of_type(ALARM) if a.inputs["namespace"] == "AWS/SQS"]
    assert sorted(a.inputs["dimensions"]["QueueName"] for a in queue_alarms) == sorted(
        q.state["name"] for q in poc.of_type(QUEUE)
    )


def test_poc_alarms_fire_on_the_right_side_of_their_threshold(poc: RenderedStack) -> None:
    """Each alarm's metric, statistic, direction, threshold and window: an alarm with the
    comparison flipped or a threshold it can never cross is as good as none."""
    rules = {
        a.name: (
            a.inputs["metricName"],
            a.inputs["statistic"],
            a.inputs["comparisonOperator"],
            a.inputs["threshold"],
            a.inputs["period"],
            a.inputs["evaluationPeriods"],
        )
        for a in poc.of_type(ALARM)
        if not a.name.startswith("query-table-")  # the query writer's: the archiver's five
    }
    depth = "ApproximateNumberOfMessagesVisible"
    above_zero = ("GreaterThanThreshold", 0, 60, 1)
    assert rules == {
        "archiver-iterator-age-alarm": (
            "IteratorAge",
            "Maximum",
            "GreaterThanThreshold",
            300_000,
            60,
            5,
        ),
        "archiver-errors-alarm": ("Errors", "Sum", *above_zero),
        "archiver-throttles-alarm": ("Throttles", "Sum", *above_zero),
        "archiver-dead-letters-alarm": (depth, "Maximum", *above_zero),
        "archiver-mapping-failures-alarm": (depth, "Maximum", *above_zero),
        # Twice the 300 s buffer interval plus 300 s of slack.
        "archiver-delivery-freshness-alarm": (
            "DeliveryToS3.DataFreshness",
            "Maximum",
            "GreaterThanThreshold",
            900,
            300,
            1,
        ),
        "archiver-delivery-failures-alarm": (
            "DeliveryToS3.Success",
            "Minimum",
            "LessThanThreshold",
            1,
            300,
            1,
        ),
    }
    assert {a.inputs["treatMissingData"] for a in poc.of_type(ALARM)} == {"notBreaching"}


def test_poc_outputs(poc: RenderedStack) -> None:
    bucket = poc.one("aws:s3/bucket:Bucket")
    assert poc.outputs == {
        "accessMode": "assume-role",
        "placement": "source",
        "consumerMode": "efo",
        "tableName": TABLE,
        "tableArn": TABLE_ARN,
        "tableStreamArn": poc.one("aws:dynamodb/table:Table", "replica-target-table").state[
            "streamArn"
        ],
        "tableRegion": REGION,
        "writerRoleArn": WRITER_ROLE_ARN,
        "writerRoleName": "DynamoDB-ProdAnalyticsWrite-role",
        "replicatorRoleArn": REPLICATOR_ROLE_ARN,
        "externalIdSha256": external_id_digest(None),
        "bucketName": bucket.state["bucket"],
        "bucketArn": bucket.state["arn"],
        "deliveryStreamName": "prod-s3-firehose",
        "deliveryStreamArn": (
            f"arn:aws:firehose:{REGION}:{POC_ACCOUNT}:deliverystream/prod-s3-firehose"
        ),
        "archiverFunctionName": "PocLambdaFirehose",
        "archiverDeadLetterQueueUrl": poc.one(QUEUE, "archiver-dead-letters").state["url"],
        "archiverFailureQueueUrl": poc.one(QUEUE, "archiver-mapping-failures").state["url"],
        "queryTableName": poc.one("aws:dynamodb/table:Table", "query-table-table").state["name"],
        "queryWriterFunctionName": poc.one(FUNCTION, "query-table-function").state["name"],
        "ttlDays": 0,
        "ttlAttribute": "expiresAt",
        "glueDatabaseName": "archive_catalog",
        "glueTableName": "events",
        "dashboardName": "dashboard",
        "deployedSettings": {
            "placement": "source",
            "consumerMode": "efo",
            "ttlDays": 0,
            "ttlAttribute": "expiresAt",
            "streamViewType": "NEW_AND_OLD_IMAGES",
            "tableName": TABLE,
            "queryTableTtlDays": 0,
            "queryTableName": None,  # autonamed
            "bucketName": None,  # the default name
            "deliveryStreamName": "prod-s3-firehose",
        },
        "keyAttributes": [
            {
                "attribute": "userEmail",
                "type": "S",
                "key": "the hash key of index userEmail-timestamp",
            },
            {
                "attribute": "timestamp",
                "type": "N",
                "key": "the range key of index userEmail-timestamp",
            },
            {"attribute": "userEmail", "type": "S", "key": "the query table's hash attribute"},
            {"attribute": "timestamp", "type": "S", "key": "the query table's range attribute"},
        ],
    }


@pytest.mark.parametrize("stack_name", ["poc", "prod"])
def test_every_resource_is_on_a_tagged_provider_locked_to_the_stack_account(
    stack_name: str, poc: RenderedStack, prod: RenderedStack
) -> None:
    stack = poc if stack_name == "poc" else prod
    account = POC_ACCOUNT if stack_name == "poc" else PROD_ACCOUNT
    aws_resources = [r for r in stack.resources if r.type.startswith("aws:")]
    assert aws_resources
    for resource in aws_resources:
        provider = stack.provider_of(resource)
        assert provider is not None, f"{resource.name} uses the default provider"
        assert provider.inputs["region"] == REGION
        assert provider.inputs["allowedAccountIds"] == f'["{account}"]'
    for provider in stack.of_type(PROVIDER):
        tags = provider.inputs["defaultTags"]
        component = provider.name.split("-", 1)[1]
        assert tags == (
            f'{{"tags": {{"owner": "analytics", "project": "kinesis-crossaccount-replica", '
            f'"stack": "{stack_name}", "component": "{component}"}}}}'
        )


# --- prod ---------------------------------------------------------------------------------


def test_prod_reads_the_poc_stack_by_reference(prod: RenderedStack) -> None:
    reference = prod.one("pulumi:pulumi:StackReference", POC_REFERENCE)
    assert reference.inputs["name"] == POC_REFERENCE


def test_prod_replicator_function_consumes_poc_outputs(prod: RenderedStack) -> None:
    function = prod.one(FUNCTION, "replica-source-function")
    inputs = function.inputs
    assert inputs["name"] == "ProdKinesisToPocDynamo"
    assert inputs["handler"] == "handlers.replicator.handler"
    assert inputs["runtime"] == "python3.13"
    assert inputs["architectures"] == ["arm64"]
    assert inputs["timeout"] == 120
    assert inputs["layers"] == [POWERTOOLS_ARM]
    assert inputs["role"] == REPLICATOR_ROLE_ARN
    assert inputs["environment"]["variables"] == {
        "ACCESS_MODE": "assume-role",
        "TABLE_NAME": TABLE,
        "TABLE_ARN": TABLE_ARN,
        "TARGET_REGION": REGION,
        "WRITER_ROLE_ARN": WRITER_ROLE_ARN,
        "WRITER_ROLE_SESSION_NAME": "stream-replica",
        "MAX_WRITE_CONCURRENCY": "4",
        "PSEUDONYMIZE_FIELDS": '["userEmail"]',
        "PSEUDONYMIZATION_KEY_PARAMETER": "/web-analytics/pseudonymization-key",
        "DEAD_LETTER_QUEUE_URL": prod.one(QUEUE, "replica-source-dead-letters").state["url"],
        "POWERTOOLS_SERVICE_NAME": "replica-source",
        "POWERTOOLS_METRICS_NAMESPACE": "StreamReplica",
        "POWERTOOLS_LOG_LEVEL": "INFO",
    }
    assert function.delete_before_replace


def test_prod_replicator_role_is_the_one_poc_trusts(
    prod: RenderedStack, poc: RenderedStack
) -> None:
    role = prod.one(ROLE, "replica-source-role")
    assert role.inputs["name"] == "ProdKinesisToPocDynamo-role"
    assert role.delete_before_replace
    (own_trust,) = statements(role, "assumeRolePolicy")
    assert own_trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert own_trust["Condition"] == {"StringEquals": {"aws:SourceAccount": PROD_ACCOUNT}}
    (trust,) = statements(poc.one(ROLE, "replica-target-writer-role"), "assumeRolePolicy")
    assert trust["Condition"]["ArnEquals"]["aws:PrincipalArn"] == role.state["arn"]
    assert prod.outputs["replicatorRoleArn"] == poc.outputs["replicatorRoleArn"]


def test_prod_replicator_policy_is_exact(prod: RenderedStack) -> None:
    log_group = prod.one(LOG_GROUP, "replica-source-logs")
    assert log_group.inputs["name"] == "/aws/lambda/ProdKinesisToPocDynamo"
    assert grants(prod.one(ROLE_POLICY, "replica-source-policy")) == {
        "ReadSourceStream": (
            [
                "kinesis:DescribeStream",
                "kinesis:DescribeStreamSummary",
                "kinesis:GetRecords",
                "kinesis:GetShardIterator",
                "kinesis:ListShards",
            ],
            [SOURCE_STREAM_ARN],
        ),
        "ReadStreamConsumer": (
            ["kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard"],
            [CONSUMER_ARN],
        ),
        "AssumeWriterRole": (["sts:AssumeRole"], [WRITER_ROLE_ARN]),
        "ReadPseudonymizationKey": (
            ["ssm:GetParameter"],
            [f"arn:aws:ssm:{REGION}:{PROD_ACCOUNT}:parameter/web-analytics/pseudonymization-key"],
        ),
        "SendToDeadLetterQueues": (["sqs:SendMessage"], queue_arns(prod, "replica-source")),
        "WriteOwnLogs": (
            ["logs:CreateLogStream", "logs:PutLogEvents"],
            [f"{log_group.state['arn']}:*"],
        ),
    }


def test_prod_mapping_on_the_existing_stream(prod: RenderedStack) -> None:
    assert not prod.of_type("aws:kinesis/stream:Stream")
    mapping = prod.one(MAPPING)
    expect_mapping(
        mapping,
        source_arn=CONSUMER_ARN,
        failure_queue_arn=prod.one(QUEUE, "replica-source-mapping-failures").state["arn"],
        function_arn=prod.one(FUNCTION).state["arn"],
    )
    assert mapping.depends_on(prod.one(ROLE_POLICY, "replica-source-policy"))


def test_the_archive_bucket_enforces_bucket_owner_object_ownership(poc: RenderedStack) -> None:
    controls = poc.one("aws:s3/bucketOwnershipControls:BucketOwnershipControls")
    assert controls.inputs["rule"] == {"objectOwnership": "BucketOwnerEnforced"}
    assert controls.inputs["bucket"] == poc.one("aws:s3/bucket:Bucket").state["bucket"]


def test_prod_creates_the_stream_when_asked() -> None:
    stack = run_stack("prod", {"createSourceStream": True, "sourceStreamShardCount": 2})
    stream = stack.one("aws:kinesis/stream:Stream")
    assert stream.inputs["name"] == "web-analytics"
    assert stream.inputs["shardCount"] == 2
    assert stream.inputs["encryptionType"] == "KMS"
    assert stream.inputs["kmsKeyId"] == "alias/aws/kinesis"
    consumer = stack.one("aws:kinesis/streamConsumer:StreamConsumer")
    assert consumer.inputs["streamArn"] == stream.state["arn"]
    assert stack.one(MAPPING).inputs["eventSourceArn"] == consumer.state["arn"]
    assert stack.outputs["sourceStreamArn"] == stream.state["arn"]
    # createSourceStream: true, later false, must not delete the stream with its data: the
    # created stream is retained on delete (handed over to be used by name).
    assert stream.retain_on_delete


def test_prod_outputs(prod: RenderedStack) -> None:
    assert prod.outputs == {
        "accessMode": "assume-role",
        "placement": "source",
        "consumerMode": "efo",
        "streamConsumerArn": CONSUMER_ARN,
        "tableName": TABLE,
        "tableArn": TABLE_ARN,
        "writerRoleArn": WRITER_ROLE_ARN,
        "sourceStreamArn": SOURCE_STREAM_ARN,
        "replicatorFunctionName": "ProdKinesisToPocDynamo",
        "replicatorFunctionArn": prod.one(FUNCTION).state["arn"],
        "replicatorRoleArn": REPLICATOR_ROLE_ARN,
        "eventSourceMappingId": prod.one(MAPPING).state["uuid"],
        "replicatorDeadLetterQueueUrl": prod.one(QUEUE, "replica-source-dead-letters").state["url"],
        "replicatorFailureQueueUrl": prod.one(QUEUE, "replica-source-mapping-failures").state[
            "url"
        ],
        "dashboardName": "dashboard",
        "deployedSettings": {
            "placement": "source",
            "consumerMode": "efo",
            "replicatorSource": {
                "placement": "source",
                "consumerMode": "efo",
                "sourceStream": "web-analytics",
            },
            "replicatorStart": {"position": "TRIM_HORIZON", "timestamp": None},
        },
    }


def test_prod_from_explicit_config_without_a_stack_reference() -> None:
    other_table = f"arn:aws:dynamodb:eu-central-1:{POC_ACCOUNT}:table/other"
    stack = run_stack(
        "prod",
        {
            "pocStackReference": "",
            "tableName": "other",
            "tableArn": other_table,
            "tableRegion": "eu-central-1",
            "writerRoleArn": f"arn:aws:iam::{POC_ACCOUNT}:role/writer",
        },
    )
    # Only the stack's reference to itself (deployed_settings.py), none to the poc stack.
    assert [r.name for r in stack.of_type("pulumi:pulumi:StackReference")] == ["deployed-settings"]
    env = stack.one(FUNCTION).inputs["environment"]["variables"]
    assert env["TABLE_NAME"] == "other"
    assert env["TABLE_ARN"] == other_table
    assert env["TARGET_REGION"] == "eu-central-1"
    assert env["WRITER_ROLE_ARN"] == f"arn:aws:iam::{POC_ACCOUNT}:role/writer"
    assert grants(stack.one(ROLE_POLICY))["AssumeWriterRole"] == (
        ["sts:AssumeRole"],
        [f"arn:aws:iam::{POC_ACCOUNT}:role/writer"],
    )


def test_prod_refuses_a_poc_stack_in_another_access_mode() -> None:
    poc = run_stack("poc")
    with pytest.raises(ValueError, match=r"Pulumi\.prod\.yaml: .*:accessMode: .*both stacks"):
        run_stack(
            "prod",
            {"accessMode": "resource-policy"},
            stack_outputs={POC_REFERENCE: poc.outputs},
        )


def test_prod_refuses_a_poc_stack_trusting_another_role() -> None:
    poc = run_stack("poc", {"replicatorRoleName": "someone-else"})
    with pytest.raises(ValueError, match=r"replicatorRoleName: .*replicatorRoleArn"):
        run_stack("prod", stack_outputs={POC_REFERENCE: poc.outputs})


# --- resource-policy mode -------------------------------------------------------------------


def test_poc_resource_policy_mode_has_no_writer_role(poc_rp: RenderedStack) -> None:
    assert sorted(r.name for r in poc_rp.of_type(ROLE)) == [
        "archiver-firehose-role",
        "archiver-role",
        "query-table-role",
    ]
    table = poc_rp.one("aws:dynamodb/table:Table", "replica-target-table")
    # DynamoDB refuses cross-account resource-policy access with the AWS-managed key.
    assert table.inputs["serverSideEncryption"] == {"enabled": False}
    policy = poc_rp.one("aws:dynamodb/resourcePolicy:ResourcePolicy")
    assert policy.inputs["resourceArn"] == TABLE_ARN
    (statement,) = statements(policy)
    assert statement == {
        "Sid": "ReplicatorWritesTable",
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{PROD_ACCOUNT}:root"},
        "Action": ["dynamodb:BatchWriteItem", "dynamodb:DescribeTable"],
        "Resource": TABLE_ARN,
        "Condition": {"ArnEquals": {"aws:PrincipalArn": REPLICATOR_ROLE_ARN}},
    }
    assert poc_rp.outputs["writerRoleArn"] is None
    assert poc_rp.outputs["accessMode"] == "resource-policy"


def test_prod_resource_policy_mode_writes_the_table_without_sts(prod_rp: RenderedStack) -> None:
    policy = grants(prod_rp.one(ROLE_POLICY))
    assert "AssumeWriterRole" not in policy
    assert policy["WriteReplicaTable"] == (
        ["dynamodb:BatchWriteItem", "dynamodb:DescribeTable"],
        [TABLE_ARN],
    )
    env = prod_rp.one(FUNCTION).inputs["environment"]["variables"]
    assert env["ACCESS_MODE"] == "resource-policy"
    assert env["TABLE_ARN"] == TABLE_ARN
    assert "WRITER_ROLE_ARN" not in env and "WRITER_ROLE_SESSION_NAME" not in env
    assert all(
        statement["Action"] != ["sts:AssumeRole"]
        for statement in statements(prod_rp.one(ROLE_POLICY))
    )


def test_functions_set_only_documented_handler_variables(
    poc: RenderedStack, prod: RenderedStack
) -> None:
    """The handler contract (``environment.VARIABLES``, docs/handlers.md's table) names every
    variable the program sets."""
    from stream_replica.handlers.environment import VARIABLES

    documented = {name for name, *_ in VARIABLES}
    for stack in (poc, prod):
        for function in stack.of_type(FUNCTION):
            names = set(function.inputs["environment"]["variables"])
            assert names <= documented, names - documented
            assert "DEAD_LETTER_QUEUE_URL" in names
