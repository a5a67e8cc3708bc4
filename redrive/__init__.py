"""Redrive: the on-failure queue of a stream event source mapping becomes a to-do list.

When a batch's retries run out (``MaximumRetryAttempts``, ``MaximumRecordAgeInSeconds``), Lambda
sends the mapping's on-failure destination an *invocation record* that names only the shard and
the sequence-number range of the batch, not its records
(https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html). This package
reads those messages from the SQS queue, re-reads exactly those ranges from the source stream
(Kinesis) or the table's stream (DynamoDB Streams) while they are retained, invokes the same
function (same code, same environment, same role: ``lambda:InvokeFunction``) with them in
Lambda's event format, and deletes a message only when the function has written or
dead-lettered every record of its range.

``python -m stream_replica.redrive --queue-url URL [--dry-run]`` (or ``make redrive
ARGS=...``) is the command; :func:`redrive_queue` is the same pass for programs (the sandbox
runs it with an in-process invoker). See ``docs/redrive.md``.
"""

from .driver import MessageOutcome, RedriveOptions, RedriveReport, redrive_queue
from .invoking import FunctionFailed, Invoker, LambdaInvoker
from .messages import FailedRange, parse_invocation_record
from .streams import RangeRead, read_range

__all__ = [
    "FailedRange",
    "FunctionFailed",
    "Invoker",
    "LambdaInvoker",
    "MessageOutcome",
    "RangeRead",
    "RedriveOptions",
    "RedriveReport",
    "parse_invocation_record",
    "read_range",
    "redrive_queue",
]
