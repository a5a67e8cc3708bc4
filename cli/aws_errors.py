"""What went wrong talking to AWS, in one line that says what to do.

Every command turns the errors that stop it — no or refused credentials, an unknown profile,
an endpoint it cannot reach, a denied call, a resource that does not exist — into one line and
exit status 3 (:data:`EXIT_AWS_ERROR`), distinct from the command's own statuses (0 done,
1 work left, 2 usage). :func:`explain` returns that line, or None for an exception that is not
an AWS client error (a bug: it keeps its traceback). A command passes what is its own: who to
run as (``who``), where its IAM policy is (``iam``) and what a missing resource means
(``missing``: error code -> line).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from botocore import exceptions as bce

#: Exit status when AWS could not be reached or refused a call (every command's).
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


def is_denied(exc: bce.ClientError) -> bool:
    """Whether AWS refused the call for want of a permission (not for bad credentials)."""
    code, _ = code_and_message(exc)
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
    return code in _DENIED or (status == 403 and code not in _BAD_CREDENTIALS)


def code_and_message(exc: bce.ClientError) -> tuple[str, str]:
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


def explain(
    exc: BaseException,
    *,
    region: str | None,
    who: str,
    iam: str,
    missing: Mapping[str, str] | None = None,
    no_region: str = "no AWS region: give --region",
) -> str | None:
    """One line naming what is wrong and what to do, for an error from botocore; else None.

    ``who`` (str): how to run as the right account, appended to credential errors; ``iam``
    (str): where the command's policy is, appended to a denied call; ``missing`` (error code ->
    str): the line for a resource that does not exist, ``{detail}`` replaced by the error's
    code and message; ``no_region`` (str): the line when botocore found no region."""
    if isinstance(exc, bce.NoCredentialsError):
        return f"no AWS credentials found: {who}"
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
        return f"could not get AWS credentials ({exc}): log in again (aws sso login) or {who}"
    if isinstance(exc, bce.NoRegionError):
        return no_region
    if isinstance(exc, bce.EndpointConnectionError | bce.ConnectionError | bce.HTTPClientError):
        return (
            f"cannot reach AWS ({exc}): check the network or proxy, the region "
            f"({region or 'none'}) and --endpoint-url"
        )
    if isinstance(exc, bce.ClientError):
        code, message = code_and_message(exc)
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode")
        call = f"{exc.operation_name}" if exc.operation_name else "a call"
        detail = f"{code}: {message}" if message else code
        if code in _DENIED or (status == 403 and code not in _BAD_CREDENTIALS):
            return f"{call} was denied ({detail}): {iam}"
        if code in _BAD_CREDENTIALS:
            return f"AWS refused the credentials on {call} ({detail}): refresh them or {who}"
        if missing and code in missing:
            return missing[code].replace("{detail}", detail)
        return f"{call} failed ({detail})"
    if isinstance(exc, bce.BotoCoreError):
        return f"AWS call failed: {exc}"
    return None
