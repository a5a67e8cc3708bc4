"""One BatchWriteItem chunk (≤ 25 requests, ≤ 16 MB) with the retry rules both table writers
share: the replicator (replica table) and the query writer (query table). No clients of its own,
no environment.

* Items DynamoDB leaves in ``UnprocessedItems`` are sent again after a backoff, within the
  invocation's time budget (:class:`.retry.TimeBudget`); the first call is
  always made (:meth:`TimeBudget.claim_attempt`). Retries that run out of time leave an
  error naming the attempts and what AWS last reported (:func:`.retry.gave_up`).
* A ValidationException that blames an item's content (:func:`.faults.dynamodb_blames_item`)
  splits the chunk in halves until the request DynamoDB rejects is alone: that one is poison,
  the rest are written.
* Any other error (the table's, the role's, a policy's, a key's) leaves the chunk unwritten, to
  be reported for retry, never treated as a bad record.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Hashable
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from . import faults
from .retry import TimeBudget, gave_up, is_retryable, wait_before_retry

R = TypeVar("R")


@dataclass
class WriteOutcome(Generic[R]):
    """What became of a chunk's requests (``R``: the writer's own request type)."""

    written: int = 0
    retried: int = 0
    unwritten: list[R] = field(default_factory=list)
    rejected: list[tuple[R, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def merge(self, other: WriteOutcome[R]) -> None:
        self.written += other.written
        self.retried += other.retried
        self.unwritten += other.unwritten
        self.rejected += other.rejected
        self.errors += other.errors


@dataclass(frozen=True)
class ChunkTable(Generic[R]):
    """The table a writer writes and how its requests look on the wire: ``body(request)`` is
    the request's entry in ``RequestItems`` (a PutRequest or DeleteRequest), ``key(request)``
    identifies it, and ``unprocessed_key(entry)`` identifies an ``UnprocessedItems`` entry the
    same way; an index-key type mismatch on an attribute in ``ours`` is a fault, not poison."""

    name: str
    body: Callable[[R], Any]
    key: Callable[[R], Hashable]
    unprocessed_key: Callable[[dict[str, Any]], Hashable]
    #: The attributes the writer's own stages produce (:func:`.faults.dynamodb_blames_item`'s
    #: ``ours``); ``None``: the replicator's key attributes.
    ours: Container[str] | None = None


def write_chunk(
    client: Any, table: ChunkTable[R], chunk: list[R], budget: TimeBudget
) -> WriteOutcome[R]:
    """Write one chunk (≤ 25 requests) with BatchWriteItem under the rules in the module
    docstring; never raises for an AWS error (they are in the outcome)."""
    outcome: WriteOutcome[R] = WriteOutcome()
    by_key = {table.key(request): request for request in chunk}
    pending = chunk
    attempt = 0
    calls = 0
    last = ""
    call = f"BatchWriteItem on {table.name}"
    while pending:
        if not budget.claim_attempt():
            outcome.errors.append(gave_up(call, calls, len(pending), last))
            outcome.unwritten += pending
            break
        calls += 1
        retry: list[R]
        try:
            response = client.batch_write_item(
                RequestItems={table.name: [table.body(request) for request in pending]}
            )
        except ClientError as exc:
            if faults.dynamodb_blames_item(exc, table.ours):
                if len(pending) == 1:
                    message = exc.response.get("Error", {}).get("Message", "")
                    outcome.rejected.append((pending[0], f"DynamoDB rejected the item: {message}"))
                else:
                    middle = len(pending) // 2
                    for half in (pending[:middle], pending[middle:]):
                        outcome.merge(write_chunk(client, table, half, budget))
                break
            if not is_retryable(exc):
                outcome.errors.append(f"{call}: {exc}")
                outcome.unwritten += pending
                break
            retry, last = pending, str(exc)
        except BotoCoreError as exc:
            if not is_retryable(exc):
                outcome.errors.append(f"{call}: {exc}")
                outcome.unwritten += pending
                break
            retry, last = pending, str(exc)
        else:
            retry = [
                by_key[table.unprocessed_key(entry)]
                for entries in response.get("UnprocessedItems", {}).values()
                for entry in entries
            ]
            outcome.written += len(pending) - len(retry)
            last = f"{len(retry)} of {len(pending)} request(s) in UnprocessedItems (throttled)"
        if retry:
            attempt += 1
            outcome.retried += len(retry)
            if not wait_before_retry(attempt, budget):
                outcome.errors.append(gave_up(call, calls, len(retry), last))
                outcome.unwritten += retry
                break
        pending = retry
    return outcome
