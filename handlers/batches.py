"""Splitting requests into the batches AWS accepts."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TypeVar

#: BatchWriteItem takes at most 25 put or delete requests ...
BATCH_WRITE_MAX_ITEMS = 25
#: ... and "can transmit up to 16MB of data over the network" (API reference, BatchWriteItem:
#: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html):
#: measured on the serialised request body, whose DynamoDB JSON can be several times an item's
#: counted size (a list of small numbers: ``{"N":"1"}`` on the wire for 3 counted bytes), so 25
#: items within the 400 KB item limit can exceed it. Read as 16,000,000 bytes, the smaller of
#: the two readings of "16MB".
BATCH_WRITE_MAX_BYTES = 16_000_000
#: Firehose PutRecordBatch takes at most 500 records and 4 MiB.
PUT_RECORD_BATCH_MAX_RECORDS = 500
PUT_RECORD_BATCH_MAX_BYTES = 4 * 1024 * 1024

T = TypeVar("T")


def chunked(
    entries: Sequence[T],
    max_count: int,
    max_bytes: int | None = None,
    size_of: Callable[[T], int] | None = None,
) -> Iterator[list[T]]:
    """Split ``entries`` in order into chunks of at most ``max_count`` entries and, when given,
    at most ``max_bytes`` by ``size_of`` (an entry bigger than ``max_bytes`` goes alone)."""
    chunk: list[T] = []
    chunk_bytes = 0
    for entry in entries:
        size = size_of(entry) if (max_bytes is not None and size_of is not None) else 0
        too_big = max_bytes is not None and chunk and chunk_bytes + size > max_bytes
        if len(chunk) >= max_count or too_big:
            yield chunk
            chunk, chunk_bytes = [], 0
        chunk.append(entry)
        chunk_bytes += size
    if chunk:
        yield chunk
