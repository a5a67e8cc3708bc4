"""The IAM actions each AWS call of the stream replica needs, by service, each with its source.

Facts about AWS, not choices: what Lambda checks on an execution role when it creates an event
source mapping, what each handler calls, what Firehose and the redrive need. The documents that
grant them, to whom and on what, are in :mod:`.policies`.
"""

#: What Lambda checks on the execution role when it creates a Kinesis event source mapping,
#: and what the poller then calls.
KINESIS_SOURCE_READ_ACTIONS: tuple[str, ...] = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)

#: What an event source mapping on an enhanced fan-out consumer needs on the *consumer* ARN, on
#: top of :data:`KINESIS_SOURCE_READ_ACTIONS` on its stream: Lambda describes the consumer
#: (``DescribeStreamConsumer``) and pushes records through ``SubscribeToShard``. Lambda guide,
#: "Process Amazon Kinesis Data Streams records with Lambda" (services-kinesis-create), lists
#: ``SubscribeToShard`` with the stream actions; the Kinesis guide's "Share access using
#: resource-based policies" grants these two on a shared consumer.
KINESIS_CONSUMER_READ_ACTIONS: tuple[str, ...] = (
    "kinesis:DescribeStreamConsumer",
    "kinesis:SubscribeToShard",
)

#: What Lambda checks (and calls) for a DynamoDB Streams event source mapping, on the stream.
DYNAMODB_STREAM_READ_ACTIONS: tuple[str, ...] = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
)
#: ...and the part of that check that AWS can only authorise on ``"Resource": "*"``.
DYNAMODB_STREAM_LIST_ACTIONS: tuple[str, ...] = ("dynamodb:ListStreams",)

#: The replicator's calls on the target table: its writes, and one read of the key schema per
#: execution environment before the first of them (``handlers/target_table.py``: a table keyed
#: otherwise would let distinct records overwrite each other).
TABLE_WRITE_ACTIONS: tuple[str, ...] = ("dynamodb:BatchWriteItem", "dynamodb:DescribeTable")

#: The only call the query writer makes on the query table (puts and deletes in one call).
QUERY_TABLE_WRITE_ACTIONS: tuple[str, ...] = ("dynamodb:BatchWriteItem",)

#: The only call the archiver makes on its delivery stream.
FIREHOSE_PUT_ACTIONS: tuple[str, ...] = ("firehose:PutRecordBatch",)

#: Dead-letter queue and the event source mapping's on-failure destination (Lambda checks this
#: permission on the function's role when it creates the mapping).
QUEUE_SEND_ACTIONS: tuple[str, ...] = ("sqs:SendMessage",)

#: Writing the function's own log group (created by the component, so no CreateLogGroup).
LOG_WRITE_ACTIONS: tuple[str, ...] = ("logs:CreateLogStream", "logs:PutLogEvents")

#: What Firehose needs on the destination bucket (AWS's documented delivery-role policy).
FIREHOSE_BUCKET_ACTIONS: tuple[str, ...] = (
    "s3:GetBucketLocation",
    "s3:ListBucket",
    "s3:ListBucketMultipartUploads",
)
FIREHOSE_OBJECT_ACTIONS: tuple[str, ...] = (
    "s3:AbortMultipartUpload",
    "s3:GetObject",
    "s3:PutObject",
)

#: What ``python -m stream_replica.redrive`` calls on an on-failure queue: count, receive,
#: delete (``DeleteMessage``) and make visible again (``ChangeMessageVisibilityBatch`` is
#: authorised as ``sqs:ChangeMessageVisibility``).
REDRIVE_QUEUE_ACTIONS: tuple[str, ...] = (
    "sqs:ChangeMessageVisibility",
    "sqs:DeleteMessage",
    "sqs:GetQueueAttributes",
    "sqs:ReceiveMessage",
)
#: ...on the stream a range is re-read from (AT_SEQUENCE_NUMBER iterators and GetRecords only).
REDRIVE_KINESIS_READ_ACTIONS: tuple[str, ...] = ("kinesis:GetRecords", "kinesis:GetShardIterator")
REDRIVE_TABLE_STREAM_READ_ACTIONS: tuple[str, ...] = (
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
)
#: ...and on the function it runs the records through (a synchronous Invoke).
REDRIVE_INVOKE_ACTIONS: tuple[str, ...] = ("lambda:InvokeFunction",)

#: Using a customer-managed key through a service (S3 for the bucket, Kinesis for the stream).
KMS_DATA_KEY_ACTIONS: tuple[str, ...] = ("kms:Decrypt", "kms:GenerateDataKey")
KMS_DECRYPT_ACTIONS: tuple[str, ...] = ("kms:Decrypt",)
