"""Reading an SQS queue without consuming it: every message received, then made visible again.

SQS hides a received message for the receive call's ``VisibilityTimeout``; a message that is
not deleted comes back when that ends, or at once when its visibility timeout is set to 0
(``ChangeMessageVisibilityBatch``). ReceiveMessage returns at most 10 messages per call and a
batch request takes at most 10 entries
(https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html,
https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibilityBatch.html).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

#: SQS ReceiveMessage returns at most 10 messages per call.
SQS_RECEIVE_MAX = 10
#: An SQS batch request (ChangeMessageVisibilityBatch, DeleteMessageBatch) takes at most 10.
SQS_BATCH_MAX = 10


def release_messages(sqs: Any, queue_url: str, receipt_handles: Sequence[str]) -> None:
    """Make the received messages of ``receipt_handles`` visible again now (visibility timeout
    0), in batches of :data:`SQS_BATCH_MAX`. ``sqs``: an SQS client of the queue's account.
    Raises what SQS raises (e.g. a receipt handle of another queue)."""
    for start in range(0, len(receipt_handles), SQS_BATCH_MAX):
        sqs.change_message_visibility_batch(
            QueueUrl=queue_url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                for i, handle in enumerate(receipt_handles[start : start + SQS_BATCH_MAX])
            ],
        )


def read_all_messages(
    sqs: Any, queue_url: str, *, visibility_timeout: int = 300
) -> list[dict[str, Any]]:
    """Every message of ``queue_url`` (the ReceiveMessage entries: ``MessageId``, ``Body``,
    ``ReceiptHandle``, ...), each once, in the order received; left in the queue and visible
    again afterwards, for a later reader.

    Messages are received until a call returns none, each hidden for ``visibility_timeout``
    seconds (300) so that none comes back during the read; the read should take less. A queue
    that others are consuming at the same time is read as SQS happens to return it.
    """
    seen: dict[str, dict[str, Any]] = {}
    handles: list[str] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=SQS_RECEIVE_MAX,
            VisibilityTimeout=visibility_timeout,
            WaitTimeSeconds=0,
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            seen[message["MessageId"]] = message
            handles.append(message["ReceiptHandle"])
    release_messages(sqs, queue_url, handles)
    return list(seen.values())
