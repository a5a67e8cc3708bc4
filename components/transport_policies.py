"""Resource policies that refuse every request not made over TLS: the archive bucket's and the
queues'. Built like every IAM document of :mod:`.policies`, as pure functions."""

from .policies import PolicyDocument, document


def tls_only_bucket_policy(bucket_arn: str) -> PolicyDocument:
    """Deny every request to the bucket and its objects that doesn't use TLS."""
    return document(
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": [bucket_arn, f"{bucket_arn}/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )


def tls_only_queue_policy(queue_arn: str) -> PolicyDocument:
    """Deny every request to the queue that doesn't use TLS (AWS's documented SQS form,
    https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-security-best-practices.html).

    The dead-letter queues keep raw poison payloads for their retention period; the on-failure
    queues name ranges of the stream."""
    return document(
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "sqs:*",
            "Resource": queue_arn,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        }
    )
