"""An SQS queue URL, checked and taken apart (the region the redrive talks to comes from it).

AWS writes a queue URL as ``https://sqs.<region>.amazonaws.com/<account id>/<queue name>``
(``.amazonaws.com.cn`` in the China regions, ``sqs-fips.`` for a FIPS endpoint;
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-queue-message-identifiers.html);
URLs on SQS's legacy hosts ``<region>.queue.amazonaws.com`` and ``queue.amazonaws.com``
(us-east-1) are still in use and accepted
(https://docs.aws.amazon.com/general/latest/gr/sqs-service.html).
A queue name is 1..80 characters of ``A-Z a-z 0-9 - _``, a FIFO queue's ending in ``.fifo``
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_CreateQueue.html).

Any other host (an emulator such as the sandbox's moto server, LocalStack, a VPC endpoint) is a
*custom endpoint*: its URL is accepted only when the caller talks to a custom endpoint too
(``--endpoint-url``, or ``endpoint_url`` in the profile or ``AWS_ENDPOINT_URL``), and it names
no region.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

_QUEUE_NAME = re.compile(r"[A-Za-z0-9_-]{1,75}(?:\.fifo)?|[A-Za-z0-9_-]{1,80}")
_ACCOUNT = re.compile(r"\d{12}")
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d+"
_AWS_HOSTS = (
    # sqs.<region>.amazonaws.com, sqs-fips.<region>.amazonaws.com, and the China partition's
    re.compile(rf"sqs(?:-fips)?\.(?P<region>{_REGION})\.amazonaws\.com(?:\.cn)?"),
    # legacy: <region>.queue.amazonaws.com
    re.compile(rf"(?P<region>{_REGION})\.queue\.amazonaws\.com(?:\.cn)?"),
    # legacy: queue.amazonaws.com is us-east-1
    re.compile(r"queue\.amazonaws\.com"),
)

#: What an SQS queue URL looks like, for error messages.
QUEUE_URL_FORM = "https://sqs.<region>.amazonaws.com/<12-digit account id>/<queue name>"


@dataclass(frozen=True)
class QueueUrl:
    """A checked queue URL. ``region`` is None for a custom endpoint's URL (it names none)."""

    url: str
    account: str | None
    name: str
    region: str | None
    aws_host: bool


def parse_queue_url(url: str, *, custom_endpoint: bool = False) -> QueueUrl:
    """Check ``url`` as an SQS queue URL and take it apart.

    ``custom_endpoint``: the caller talks to an endpoint other than AWS's, so a URL on another
    host (``http://127.0.0.1:5000/123456789012/q``) is accepted too; its path must still end in
    a queue name. Raises ``ValueError`` saying what is wrong and what a queue URL looks like.
    """
    problem = f"--queue-url {url!r} is not an SQS queue URL ({QUEUE_URL_FORM})"
    parts = urlsplit(url.strip()) if "://" in url else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{problem}: it has no https:// host")
    segments = [s for s in parts.path.split("/") if s]
    host = parts.hostname.lower()
    for pattern in _AWS_HOSTS:
        match = pattern.fullmatch(host)
        if match:
            if len(segments) != 2 or not _ACCOUNT.fullmatch(segments[0]):
                raise ValueError(f"{problem}: the path must be /<12-digit account id>/<queue name>")
            if not _QUEUE_NAME.fullmatch(segments[1]):
                raise ValueError(
                    f"{problem}: {segments[1]!r} is not a queue name (1..80 characters of "
                    "letters, digits, - and _; a FIFO queue's ends in .fifo)"
                )
            region = match.groupdict().get("region") or "us-east-1"
            return QueueUrl(url, segments[0], segments[1], region, aws_host=True)
    if not custom_endpoint:
        raise ValueError(
            f"{problem}: {host} is not an SQS endpoint; for an emulator or another custom "
            "endpoint, give --endpoint-url (or a profile with endpoint_url)"
        )
    if not segments or not _QUEUE_NAME.fullmatch(segments[-1]):
        raise ValueError(f"{problem}: its path does not end in a queue name")
    account = segments[-2] if len(segments) >= 2 and _ACCOUNT.fullmatch(segments[-2]) else None
    return QueueUrl(url, account, segments[-1], None, aws_host=False)
