"""What went wrong talking to AWS, in one line that says what to do.

The command (``python -m stream_replica.redrive``) turns the errors that stop a pass — no or
refused credentials, an unknown profile, an endpoint it cannot reach, a denied call, a denied
read of the stream, a queue that does not exist — into one line and exit status 3
(:data:`EXIT_AWS_ERROR`), distinct from 1 (messages left). :func:`explain` returns that line, or
None for an exception that is not an AWS client error (a bug: it keeps its traceback). The rules
are every command's (:mod:`stream_replica.cli.aws_errors`); what is the redrive's own is below.
"""

from __future__ import annotations

import re

from botocore import exceptions as bce

from ..cli import aws_errors as shared
from ..cli.aws_errors import EXIT_AWS_ERROR, code_and_message, is_denied

__all__ = ["EXIT_AWS_ERROR", "StreamReadDenied", "explain", "is_denied"]

_NO_QUEUE = (
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "InvalidAddress",
)
_WHO = (
    "run as the queue's account (prod for the replicator's queue, POC for the archiver's): "
    "--profile, AWS_PROFILE, or AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
)
_IAM = (
    "the identity you run as needs the redrive's permissions for this queue, its stream and its "
    "function (docs/redrive.md, 'Its IAM': components/policies.py redrive_policy)"
)


class StreamReadDenied(Exception):
    """Re-reading ``stream_arn`` was denied (``error``: the AWS error). Raised by
    :func:`stream_replica.redrive.read_range` so that :func:`explain` can name the stream, and
    its resource policy when the stream is in another account than the queue."""

    def __init__(self, stream_arn: str, error: bce.ClientError) -> None:
        super().__init__(f"reading {stream_arn} was denied: {error}")
        self.stream_arn = stream_arn
        self.error = error


def _queue_account(queue_url: str) -> str | None:
    found = re.search(r"/(\d{12})/[^/]+/?$", queue_url)
    return found.group(1) if found else None


def _stream_denied(exc: StreamReadDenied, queue_url: str) -> str:
    code, message = code_and_message(exc.error)
    detail = f"{code}: {message}" if message else code
    call = exc.error.operation_name or "reading the stream"
    stream_account = exc.stream_arn.split(":")[4] if exc.stream_arn.count(":") >= 5 else ""
    queue_account = _queue_account(queue_url)
    if stream_account and queue_account and stream_account != queue_account:
        return (
            f"{call} on {exc.stream_arn} was denied ({detail}): the stream is in account "
            f"{stream_account}, not the queue's account {queue_account} (target placement), so "
            f"the stream's resource policy must admit the role you run as, and by default it "
            f"admits the replicator's role alone. Set redriveRoleArn in the prod stack "
            f"(StreamReadGrantArgs.redrive_role_arn) to the ARN of the role you run the redrive "
            f"with, deploy prod, and run as that role (docs/redrive.md, 'In target placement'); "
            f"the role also needs the redrive's permissions: {_IAM}"
        )
    return f"{call} on {exc.stream_arn} was denied ({detail}): {_IAM}"


def explain(exc: BaseException, *, queue_url: str, region: str | None) -> str | None:
    """One line naming what is wrong and what to do, for an error from botocore; else None."""
    if isinstance(exc, StreamReadDenied):
        return _stream_denied(exc, queue_url)
    missing = (
        f"the queue {queue_url} does not exist in {region or 'this region'} for this "
        "account ({detail}): check the URL (pulumi stack output "
        "replicatorFailureQueueUrl / archiverFailureQueueUrl) and the account you run as"
    )
    return shared.explain(
        exc,
        region=region,
        who=_WHO,
        iam=_IAM,
        missing=dict.fromkeys(_NO_QUEUE, missing),
        no_region="no AWS region: give --region (the queue URL names none)",
    )
