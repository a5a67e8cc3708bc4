"""What went wrong talking to AWS, in one line that says what to do.

The command (``python -m stream_replica.redrive``) turns the errors that stop a pass — no or
refused credentials, an unknown profile, an endpoint it cannot reach, a denied call, a queue that
does not exist — into one line and exit status 3 (:data:`EXIT_AWS_ERROR`), distinct from 1
(messages left). :func:`explain` returns that line, or None for an exception that is not an AWS
client error (a bug: it keeps its traceback).
"""

from __future__ import annotations

import re

from botocore import exceptions as bce

#: Exit status when AWS could not be reached or refused a call (see docs/redrive.md).
EXIT_AWS_ERROR = 3
#: An AWS error message is cut to this many characters to keep the line one line.
_MAX_MESSAGE = 300

_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "AuthorizationError",
    "KMSAccessDeniedException",
    "KMS.AccessDeniedException",
}
_BAD_CREDENTIALS = {
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "InvalidAccessKeyId",
    "InvalidSignatureException",
    "ExpiredToken",
    "ExpiredTokenException",
    "RequestExpired",
}
_NO_QUEUE = {
    "AWS.SimpleQueueService.NonExistentQueue",
    "QueueDoesNotExist",
    "InvalidAddress",
}
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


def is_denied(exc: bce.ClientError) -> bool:
    """Whether AWS refused the call for want of a permission (not for bad credentials)."""
    code, _ = _code_and_message(exc)
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in _DENIED or (status == 403 and code not in _BAD_CREDENTIALS)


def _queue_account(queue_url: str) -> str | None:
    found = re.search(r"/(\d{12})/[^/]+/?$", queue_url)
    return found.group(1) if found else None


def _stream_denied(exc: StreamReadDenied, queue_url: str) -> str:
    code, message = _code_and_message(exc.error)
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


def _code_and_message(exc: bce.ClientError) -> tuple[str, str]:
    """The error's code and message on one line. An error body botocore could not parse for
    the client's protocol (an XML body to a JSON client: some proxies and emulators) arrives as
    the HTTP status and the raw body; its ``<Code>`` and ``<Message>`` are taken from it."""
    error = exc.response.get("Error", {})
    code = str(error.get("Code", ""))
    message = str(error.get("Message", ""))
    xml_code = re.search(r"<Code>([^<]*)</Code>", message)
    if xml_code:
        code = xml_code.group(1)
        xml_message = re.search(r"<Message>([^<]*)</Message>", message)
        message = xml_message.group(1) if xml_message else ""
    message = " ".join(message.split())
    if len(message) > _MAX_MESSAGE:
        message = message[: _MAX_MESSAGE - 1] + "…"
    return code, message


def explain(exc: BaseException, *, queue_url: str, region: str | None) -> str | None:
    """One line naming what is wrong and what to do, for an error from botocore; else None."""
    if isinstance(exc, StreamReadDenied):
        return _stream_denied(exc, queue_url)
    if isinstance(exc, bce.NoCredentialsError):
        return f"no AWS credentials found: {_WHO}"
    if isinstance(exc, bce.ProfileNotFound):
        return f"{exc}: check --profile / AWS_PROFILE against your AWS config file"
    if isinstance(
        exc,
        bce.PartialCredentialsError
        | bce.CredentialRetrievalError
        | bce.TokenRetrievalError
        | bce.SSOError
        | bce.SSOTokenLoadError
        | bce.UnauthorizedSSOTokenError,
    ):
        return f"could not get AWS credentials ({exc}): log in again (aws sso login) or {_WHO}"
    if isinstance(exc, bce.NoRegionError):
        return "no AWS region: give --region (the queue URL names none)"
    if isinstance(exc, bce.EndpointConnectionError | bce.ConnectionError | bce.HTTPClientError):
        return (
            f"cannot reach AWS ({exc}): check the network or proxy, the region "
            f"({region or 'none'}) and --endpoint-url"
        )
    if isinstance(exc, bce.ClientError):
        code, message = _code_and_message(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        call = f"{exc.operation_name}" if exc.operation_name else "a call"
        detail = f"{code}: {message}" if message else code
        if code in _DENIED or (status == 403 and code not in _BAD_CREDENTIALS):
            return f"{call} was denied ({detail}): {_IAM}"
        if code in _BAD_CREDENTIALS:
            return f"AWS refused the credentials on {call} ({detail}): refresh them or {_WHO}"
        if code in _NO_QUEUE:
            return (
                f"the queue {queue_url} does not exist in {region or 'this region'} for this "
                f"account ({detail}): check the URL (pulumi stack output "
                f"replicatorFailureQueueUrl / archiverFailureQueueUrl) and the account you run as"
            )
        return f"{call} failed ({detail})"
    if isinstance(exc, bce.BotoCoreError):
        return f"AWS call failed: {exc}"
    return None
