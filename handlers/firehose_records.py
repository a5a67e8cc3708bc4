"""Archive lines packed into Firehose records, each close to Firehose's 5 KB billing increment.

Firehose bills ingestion per record rounded up to the next 5 KB
(https://aws.amazon.com/firehose/pricing/: "a 3KB record is billed as 5KB"): one ~1 KB archive
line per record is billed as five. Firehose writes a record's bytes to S3 as they are, one record
after another, so consecutive newline-terminated lines concatenated into one record arrive in the
S3 object byte for byte as if they had been sent one per record.

:func:`pack_lines` packs ``(sequenceNumber, line)`` pairs, in order, into :class:`FirehoseRecord`
values of at most :data:`PACK_TARGET_BYTES` each (a single line longer than that goes alone, up to
Firehose's 1,000 KiB record limit). Each record keeps the sequence numbers of the stream records
whose lines it holds, so a record Firehose fails reports every one of them, and nothing else.

No AWS calls, no clients, no environment.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from .images import MAX_FIREHOSE_RECORD_BYTES

#: Firehose's ingestion billing increment is "5KB". The pricing page does not say whether that is
#: 5,000 or 5,120 bytes; packing to 5,000 bytes is billed as one increment under either reading
#: (5,120 would be billed as two increments if the increment were 5,000 bytes).
PACK_TARGET_BYTES = 5_000


@dataclass(frozen=True)
class FirehoseRecord:
    """One Firehose record: whole lines, and the stream records they came from.

    ``data``: the concatenated lines (bytes, each line newline-terminated as given);
    ``sequence_numbers``: the distinct ``dynamodb.SequenceNumber`` values of the lines, in order;
    ``lines``: how many lines ``data`` holds (≥ 1)."""

    data: bytes
    sequence_numbers: tuple[str, ...]
    lines: int


def _record(entries: Sequence[tuple[str, bytes]]) -> FirehoseRecord:
    return FirehoseRecord(
        data=b"".join(line for _, line in entries),
        sequence_numbers=tuple(dict.fromkeys(seq for seq, _ in entries)),
        lines=len(entries),
    )


def pack_lines(
    lines: Iterable[tuple[str, bytes]], target_bytes: int = PACK_TARGET_BYTES
) -> list[FirehoseRecord]:
    """``(sequenceNumber, line)`` pairs, in order, as Firehose records of at most
    ``target_bytes`` (default :data:`PACK_TARGET_BYTES`) each; a line longer than that is a record
    of its own. Lines are never split or reordered, so the records' data concatenated is the lines
    concatenated. Raises ValueError for a ``target_bytes`` outside 1 … 1,000 KiB (Firehose's record
    limit) or for a line over that limit (the archiver dead-letters those before sending)."""
    if not 0 < target_bytes <= MAX_FIREHOSE_RECORD_BYTES:
        raise ValueError(
            f"target_bytes must be 1 to {MAX_FIREHOSE_RECORD_BYTES} (Firehose's record limit), "
            f"not {target_bytes}"
        )
    records: list[FirehoseRecord] = []
    pending: list[tuple[str, bytes]] = []
    pending_bytes = 0
    for seq, line in lines:
        if len(line) > MAX_FIREHOSE_RECORD_BYTES:
            raise ValueError(
                f"line of {len(line)} bytes for {seq} is over Firehose's "
                f"{MAX_FIREHOSE_RECORD_BYTES}-byte record limit"
            )
        if pending and pending_bytes + len(line) > target_bytes:
            records.append(_record(pending))
            pending, pending_bytes = [], 0
        pending.append((seq, line))
        pending_bytes += len(line)
    if pending:
        records.append(_record(pending))
    return records
