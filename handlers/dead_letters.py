"""Poison records on their way to the dead-letter queue (SQS, the function's own account).

:func:`dispose_of_poison` logs each poison record and sends it; what cannot be sent is handed
back to be reported instead, so no record is dropped silently. The message body is the record's
dead letter as compact ASCII JSON, fitted to SQS's 1 MiB (:func:`dead_letter_body`).
"""

from __future__ import annotations

import base64
import gzip
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .batches import chunked
from .clients import own_client
from .retry import TimeBudget, is_retryable, wait_before_retry

#: SQS: at most 10 messages and 1 MiB per SendMessageBatch, 1 MiB per message.
SQS_BATCH_MAX_MESSAGES = 10
SQS_MAX_BYTES = 1024 * 1024


@dataclass
class DeadLetter:
    """A poison record on its way to the dead-letter queue.

    ``record_id`` is what the handler reports in ``batchItemFailures`` if the send fails (``""``
    for a record without a sequence number: see :mod:`.batch_close`); ``body`` is the message,
    with at least ``reason``.
    """

    record_id: str
    body: dict[str, Any]


@dataclass
class DeadLetterResult:
    """The letters SQS took (``sent``) and those it did not (``failed``)."""

    sent: list[DeadLetter] = field(default_factory=list)
    failed: list[DeadLetter] = field(default_factory=list)


def _dumps(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=True, separators=(",", ":"), default=str)


def dead_letter_body(letter: DeadLetter, payload_field: str) -> str:
    """The SQS message body: compact ASCII JSON of ``letter.body``.

    If that is over SQS's 1 MiB, the payload field is replaced by ``payloadGzipBase64`` (gzip of
    the payload's JSON, base64) with ``payloadEncoding: "gzip+base64"``; if even that is too big,
    by ``payloadPrefix`` (the start of the payload's JSON) with ``payloadTruncated: true`` and
    ``payloadBytes``: the record can then be read again from its source by the shard/sequence
    number (replicator) or the key (archiver, query writer) the body names.
    """
    text = _dumps(letter.body)
    if len(text) <= SQS_MAX_BYTES:
        return text
    payload = json.dumps(letter.body.get(payload_field), ensure_ascii=False, default=str)
    body = {k: v for k, v in letter.body.items() if k != payload_field}
    body["payloadEncoding"] = "gzip+base64"
    body["payloadGzipBase64"] = base64.b64encode(
        gzip.compress(payload.encode("utf-8"), mtime=0)
    ).decode("ascii")
    text = _dumps(body)
    if len(text) <= SQS_MAX_BYTES:
        return text
    del body["payloadEncoding"], body["payloadGzipBase64"]
    body["payloadTruncated"] = True
    body["payloadBytes"] = len(payload.encode("utf-8"))
    keep = SQS_MAX_BYTES - len(_dumps(body)) - 32
    while True:  # escaping can make the prefix longer than its length: shrink until it fits
        body["payloadPrefix"] = payload[: max(keep, 0)]
        text = _dumps(body)
        if len(text) <= SQS_MAX_BYTES:
            return text
        keep -= len(text) - SQS_MAX_BYTES + 32


def send_dead_letters(
    sqs: Any,
    queue_url: str,
    letters: Sequence[DeadLetter],
    budget: TimeBudget,
    payload_field: str,
    log: Any,
) -> DeadLetterResult:
    """Send ``letters`` with SendMessageBatch (10 per call, ≤ 1 MiB per call), resending the
    entries SQS reports as failed (not the sender's fault) with backoff while time allows."""
    result = DeadLetterResult()
    bodies = [(letter, dead_letter_body(letter, payload_field)) for letter in letters]
    for chunk in chunked(bodies, SQS_BATCH_MAX_MESSAGES, SQS_MAX_BYTES, lambda b: len(b[1])):
        pending = chunk
        attempt = 0
        while pending:
            try:
                response = sqs.send_message_batch(
                    QueueUrl=queue_url,
                    Entries=[
                        {"Id": str(i), "MessageBody": body} for i, (_, body) in enumerate(pending)
                    ],
                )
            except (ClientError, BotoCoreError) as exc:
                if not is_retryable(exc):
                    log.error(
                        "dead-letter send failed",
                        extra={"queue_url": queue_url, "error": str(exc)},
                    )
                    result.failed.extend(letter for letter, _ in pending)
                    break
                retry = pending
            else:
                failed = {int(f["Id"]): f for f in response.get("Failed", [])}
                for i, (letter, _) in enumerate(pending):
                    if i not in failed:
                        result.sent.append(letter)
                retry = []
                for i, entry in failed.items():
                    if entry.get("SenderFault"):
                        log.error(
                            "dead-letter queue refused a message",
                            extra={"record": pending[i][0].record_id, "error": entry},
                        )
                        result.failed.append(pending[i][0])
                    else:
                        retry.append(pending[i])
            attempt += 1
            if retry and not wait_before_retry(attempt, budget):
                result.failed.extend(letter for letter, _ in retry)
                break
            pending = retry
    return result


def dispose_of_poison(
    queue_url: str | None,
    poison: Sequence[DeadLetter],
    budget: TimeBudget,
    payload_field: str,
    log: Any,
) -> tuple[int, set[str]]:
    """Log each poison record and send it to the dead-letter queue.

    Returns how many were dead-lettered and the record ids to report as failures instead: those
    whose send failed, or every one when no queue is configured, so none is dropped silently.
    """
    for letter in poison:
        context = {"reason": letter.body["reason"], "sequence_number": letter.record_id}
        if "shardId" in letter.body:
            context["shard_id"] = letter.body["shardId"]
        log.warning("poison record", extra=context)
    if not poison:
        return 0, set()
    if not queue_url:
        log.error("DEAD_LETTER_QUEUE_URL is not set: poison records are reported as failures")
        return 0, {letter.record_id for letter in poison}
    sent = send_dead_letters(own_client("sqs"), queue_url, poison, budget, payload_field, log)
    return len(sent.sent), {letter.record_id for letter in sent.failed}
