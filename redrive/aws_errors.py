"""What went wrong talking to AWS, in one line that says what to do.

The command (``python -m stream_replica.redrive``) turns the errors that stop a pass — no or
refused credentials, an unknown profile, an endpoint it cannot reach, a denied call, a queue that
does not exist — into one line and exit status 3 (:data:`EXIT_AWS_ERROR`), distinct from 1
(messages left). :func:`explain` returns that line, or None for an exception that is not an AWS
client error (a bug: it keeps its traceback). The rules are every command's
(:mod:`stream_replica.cli.aws_errors`); what is the redrive's own is below.
"""

from __future__ import annotations

from ..cli import aws_errors as shared
from ..cli.aws_errors import EXIT_AWS_ERROR

__all__ = ["EXIT_AWS_ERROR", "explain"]

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


def explain(exc: BaseException, *, queue_url: str, region: str | None) -> str | None:
    """One line naming what is wrong and what to do, for an error from botocore; else None."""
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
