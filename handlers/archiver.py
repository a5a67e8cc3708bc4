"""Archiver: DynamoDB stream records -> one JSON line each -> Firehose (-> S3).

``handler(event, context)`` takes a DynamoDB Streams event source mapping batch and returns
``{"batchItemFailures": [{"itemIdentifier": <dynamodb.SequenceNumber>}, ...]}``. See
``docs/handlers.md``; in short:

* INSERT/MODIFY: the ``NewImage`` as plain JSON with full fidelity (exact numbers, sets as sorted
  lists, binary as base64), ``\\n``-terminated; REMOVE is skipped unless ``ARCHIVE_REMOVES=true``,
  then the line is the item's key attributes plus ``"_deleted": true``; a TTL expiry (a REMOVE by
  DynamoDB's TTL process) is never archived as a removal: the archive keeps everything;
* consecutive lines are packed into Firehose records of about 5 KB, Firehose's billing increment
  (:mod:`.firehose_records`; the S3 objects hold the same lines); records go out with
  PutRecordBatch (≤ 500 records, ≤ 4 MiB per call, up to ``MAX_PUT_CONCURRENCY`` calls at once);
  records Firehose marks failed are resent with backoff while time allows, the rest reported
  (every stream record with a line in a record reported);
* a line over Firehose's 1,000 KiB record limit, a record without a usable image, or a
  malformed event record (no ``dynamodb.SequenceNumber``: :mod:`.table_stream`) is poison: it
  goes to ``DEAD_LETTER_QUEUE_URL`` instead of being reported (:mod:`.batch_close`).
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from . import environment, faults, table_stream
from .batch_close import BatchClose
from .batches import PUT_RECORD_BATCH_MAX_BYTES, PUT_RECORD_BATCH_MAX_RECORDS, chunked
from .clients import own_client
from .exceptions import PoisonRecordError
from .firehose_records import FirehoseRecord, pack_lines
from .images import image_to_json_line, image_to_object, new_image, object_to_json_line
from .retry import (
    DEFAULT_SAFETY_MARGIN_MS,
    TimeBudget,
    gave_up,
    is_retryable,
    wait_before_retry,
)
from .telemetry import get_logger
from .ttl import is_ttl_expiry

if TYPE_CHECKING:  # the transforms module is imported only when TRANSFORM_MODULE is set
    from .transforms import TransformFunction

SERVICE = "archiver"
#: The marker a tombstone line carries next to the deleted item's key attributes.
TOMBSTONE_MARKER = "_deleted"


@dataclass(frozen=True)
class ArchiverConfig:
    """The archiver's view of its environment (see ``handlers/__init__.py``)."""

    delivery_stream: str
    archive_removes: bool
    dead_letter_queue_url: str | None
    concurrency: int
    safety_margin_ms: int
    transform_module: str | None = None

    @classmethod
    def from_env(cls) -> ArchiverConfig:
        return cls(
            transform_module=environment.env_opt(environment.TRANSFORM_MODULE),
            delivery_stream=environment.env_str(environment.DELIVERY_STREAM_NAME),
            archive_removes=environment.env_bool(environment.ARCHIVE_REMOVES, False),
            dead_letter_queue_url=environment.env_opt(environment.DEAD_LETTER_QUEUE_URL),
            concurrency=environment.env_int(environment.MAX_PUT_CONCURRENCY, 4),
            safety_margin_ms=environment.env_int(
                environment.RETRY_SAFETY_MARGIN_MS, DEFAULT_SAFETY_MARGIN_MS, minimum=0
            ),
        )


def firehose_client(config: ArchiverConfig) -> Any:
    """The Firehose client (own account, own region), cached per execution environment."""
    return own_client("firehose", pool=config.concurrency)


def record_line(record: dict[str, Any], archive_removes: bool) -> bytes | None:
    """The JSON line for one stream record, or None if the record is skipped (a REMOVE without
    ``ARCHIVE_REMOVES``, or a TTL expiry). Raises :class:`PoisonRecordError` for a record that
    cannot be archived."""
    name = record.get("eventName")
    stream = record.get("dynamodb") or {}
    if name == "REMOVE":
        if not archive_removes or is_ttl_expiry(record):
            return None
        keys = stream.get("Keys")
        if not keys:
            raise PoisonRecordError("REMOVE record has no Keys")
        return image_to_json_line(keys, {TOMBSTONE_MARKER: True})
    return image_to_json_line(new_image(record))


def transformed_lines(
    record: dict[str, Any], archive_removes: bool, transform: TransformFunction
) -> list[bytes]:
    """The lines for one stream record with the user's transform applied to INSERT/MODIFY images
    (REMOVE tombstones are not transformed): none if the transform filtered the record out, one
    per dict it returned. Raises :class:`PoisonRecordError` as :func:`record_line` does, and for
    a transform that raises or returns something else than a dict, a list of dicts or None."""
    name = record.get("eventName")
    if name not in ("INSERT", "MODIFY"):
        line = record_line(record, archive_removes)
        return [] if line is None else [line]
    stream = record.get("dynamodb") or {}
    image = stream.get("NewImage")
    if image is None:
        record_line(record, archive_removes)  # raises the missing-image reason
        return []
    try:
        obj = image_to_object(image)
    except Exception as exc:
        raise PoisonRecordError(f"image is not valid DynamoDB JSON: {exc!r}") from None
    from .transforms import TransformMeta, apply_transform

    created = stream.get("ApproximateCreationDateTime")
    meta = TransformMeta(
        source="dynamodb",
        sequence_number=str(stream.get("SequenceNumber")),
        arrival_time=float(created) if isinstance(created, int | float) else None,
        event_name=name,
    )
    return [object_to_json_line(out) for _, out in apply_transform(transform, obj, meta)]


@dataclass
class _PutOutcome:
    sent: int = 0
    retried: int = 0
    unsent: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def merge(self, other: _PutOutcome) -> None:
        self.sent += other.sent
        self.retried += other.retried
        self.unsent += other.unsent
        self.errors += other.errors


def _put_chunk(
    client: Any, stream: str, chunk: list[FirehoseRecord], budget: TimeBudget
) -> _PutOutcome:
    """Send one chunk with PutRecordBatch, resending the entries Firehose marks failed. Counts
    are of lines; an unsent record reports every stream record with a line in it."""
    outcome = _PutOutcome()
    pending = chunk
    attempt = 0
    calls = 0
    last = ""
    call = f"PutRecordBatch on {stream}"
    while pending:
        if not budget.claim_attempt():
            outcome.errors.append(gave_up(call, calls, len(pending), last))
            outcome.unsent += [seq for entry in pending for seq in entry.sequence_numbers]
            break
        calls += 1
        retry: list[FirehoseRecord]
        try:
            response = client.put_record_batch(
                DeliveryStreamName=stream, Records=[{"Data": entry.data} for entry in pending]
            )
        except (ClientError, BotoCoreError) as exc:
            if not is_retryable(exc):
                outcome.errors.append(f"{call}: {exc}")
                outcome.unsent += [seq for entry in pending for seq in entry.sequence_numbers]
                break
            retry, last = pending, str(exc)
        else:
            results = response.get("RequestResponses", [])
            retry = []
            codes: dict[str, int] = {}
            for entry, result in zip(pending, results, strict=True):
                code = result.get("ErrorCode")
                if not code:
                    outcome.sent += entry.lines
                elif faults.firehose_entry_is_target_fault(code):
                    # The delivery stream's KMS key: a configuration fault, reported now.
                    outcome.errors.append(
                        f"PutRecordBatch on {stream}: {code}: {result.get('ErrorMessage', '')}"
                    )
                    outcome.unsent += entry.sequence_numbers
                else:
                    retry.append(entry)
                    codes[str(code)] = codes.get(str(code), 0) + 1
            if codes:
                last = "failed entries: " + ", ".join(f"{c} ({n})" for c, n in codes.items())
        if retry:
            attempt += 1
            outcome.retried += sum(entry.lines for entry in retry)
            if not wait_before_retry(attempt, budget):
                outcome.errors.append(gave_up(call, calls, len(retry), last))
                outcome.unsent += [seq for entry in retry for seq in entry.sequence_numbers]
                break
        pending = retry
    return outcome


def put_lines(
    client: Any,
    stream: str,
    lines: list[tuple[str, bytes]],
    budget: TimeBudget,
    concurrency: int,
) -> _PutOutcome:
    """Send ``(sequenceNumber, line)`` pairs packed into Firehose records of about 5 KB
    (:mod:`.firehose_records`), in calls of ≤ 500 records and ≤ 4 MiB."""
    chunks = list(
        chunked(
            pack_lines(lines),
            PUT_RECORD_BATCH_MAX_RECORDS,
            PUT_RECORD_BATCH_MAX_BYTES,
            lambda entry: len(entry.data),
        )
    )
    outcome = _PutOutcome()
    if len(chunks) <= 1 or concurrency <= 1:
        for chunk in chunks:
            outcome.merge(_put_chunk(client, stream, chunk, budget))
        return outcome
    with ThreadPoolExecutor(max_workers=min(concurrency, len(chunks))) as pool:
        for part in pool.map(lambda c: _put_chunk(client, stream, c, budget), chunks):
            outcome.merge(part)
    return outcome


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Archive a DynamoDB stream batch; return the sequence numbers not yet sent."""
    started = time.perf_counter()
    log = get_logger(SERVICE)
    config = ArchiverConfig.from_env()
    budget = TimeBudget(context, config.safety_margin_ms)
    records: list[Any] = event.get("Records") or []
    # Malformed records are isolated as poison (with the whole event record); the rest flow on.
    good, malformed = table_stream.well_formed(records, SERVICE)
    order = [seq for seq, _ in good]
    batch = BatchClose(SERVICE, log, len(records), order, started=started, poison=malformed)

    lines: list[tuple[str, bytes]] = []
    skipped = filtered = 0
    transform = None
    if config.transform_module:
        from .transforms import load_transform

        transform = load_transform(config.transform_module)
    for sequence_number, record in good:
        try:
            if transform is None:
                line = record_line(record, config.archive_removes)
                produced = [] if line is None else [line]
            else:
                produced = transformed_lines(record, config.archive_removes, transform)
        except PoisonRecordError as exc:
            body = table_stream.dead_letter_body(record, exc.reason, SERVICE)
            batch.dead_letter(sequence_number, body)
            continue
        if not produced:
            if transform is not None and record.get("eventName") in ("INSERT", "MODIFY"):
                filtered += 1
            else:
                skipped += 1
        lines += [(sequence_number, part) for part in produced]

    outcome = _PutOutcome()
    if lines:
        outcome = put_lines(
            firehose_client(config), config.delivery_stream, lines, budget, config.concurrency
        )
        batch.report(outcome.unsent)
        batch.log_errors(outcome.errors, "Firehose put failed; records reported for retry")

    return batch.respond(
        dead_letter_queue_url=config.dead_letter_queue_url,
        budget=budget,
        payload_field="payload",
        written=outcome.sent,
        retried=outcome.retried,
        message="batch archived",
        skipped=skipped,
        filtered=filtered,
    )
