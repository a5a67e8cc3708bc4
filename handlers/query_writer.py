"""Query writer: a table's stream (the replica's) -> a query table keyed for look-ups by user.

``handler(event, context)`` takes a DynamoDB Streams event source mapping batch and returns
``{"batchItemFailures": [{"itemIdentifier": <dynamodb.SequenceNumber>}, ...]}``. See
``docs/analytics.md`` and ``docs/handlers.md``; in short:

* INSERT/MODIFY: the ``NewImage`` is written whole to the query table, keyed by the image's
  ``QUERY_HASH_ATTRIBUTE`` (hash; e.g. the user's e-mail) and ``QUERY_SORT_KEY_ATTRIBUTE``
  (range) = ``<QUERY_RANGE_ATTRIBUTE value>#<source key>``: events of one user sort by the range
  value (numbers zero-padded so text order is number order), and two events with the same range
  value stay two items. The source key (the stream record's ``Keys``) makes the query key a
  function of the source item, so a redelivered record rewrites the same item (idempotent).
  A MODIFY that moved the item to another query key (``OldImage`` present) deletes the old one.
* REMOVE: deletes the query item of the ``OldImage`` (stream view ``NEW_AND_OLD_IMAGES``), except
  a TTL expiry (:func:`.ttl.is_ttl_expiry`): the query table's own TTL ages its items out.
  Without an ``OldImage`` the query key is unknown: the record is skipped, counted and logged.
* An image without the hash or range attribute (or of the wrong type, or a range value that
  cannot be ordered as text: a negative number) is skipped and counted (``skipped``), not poison.
* Requests go out with BatchWriteItem (25 and at most 16 MB per call, up to
  ``MAX_WRITE_CONCURRENCY`` calls at once); only the last request of each query key in a batch
  is sent (BatchWriteItem refuses two requests for one key, and the last one is the state to
  keep). UnprocessedItems, throttling and 5xx errors are retried with backoff while time allows,
  then reported; an item DynamoDB rejects (over 400 KB with the sort key added) is poison and
  goes to ``DEAD_LETTER_QUEUE_URL``, as does a record whose image is not valid DynamoDB JSON and
  a malformed event record (no ``dynamodb.SequenceNumber``: :mod:`.table_stream`); the rest of
  the batch flows on.
* With ``TTL_DAYS`` set, each query item's ``TTL_ATTRIBUTE`` is the event's arrival time + that
  many days. The arrival time is read back from the source item's own expiry (its
  ``TTL_ATTRIBUTE`` minus ``SOURCE_TTL_DAYS`` days) when the source table has TTL, else it is
  the stream record's ``ApproximateCreationDateTime``.
"""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from . import chunk_writes, environment, table_stream
from .batch_close import BatchClose
from .batches import BATCH_WRITE_MAX_BYTES, BATCH_WRITE_MAX_ITEMS, chunked
from .clients import own_client
from .dead_letters import DeadLetter
from .exceptions import ConfigError, PoisonRecordError
from .images import new_image
from .query_items import SkipRecord, query_key, query_put
from .query_items import sortable_number as sortable_number  # tests name it here
from .retry import DEFAULT_SAFETY_MARGIN_MS, TimeBudget
from .telemetry import get_logger
from .ttl import is_ttl_expiry

SERVICE = "query-writer"
#: Default name of the query table's range key attribute.
DEFAULT_SORT_KEY_ATTRIBUTE = "eventKey"
HASH_TYPES = ("S", "N")


@dataclass(frozen=True)
class QueryWriterConfig:
    """The query writer's view of its environment (see ``handlers/__init__.py``)."""

    table: str
    hash_attribute: str
    hash_type: str
    range_attribute: str
    sort_key_attribute: str
    ttl_attribute: str | None
    ttl_days: int
    source_ttl_days: int
    dead_letter_queue_url: str | None
    concurrency: int
    safety_margin_ms: int

    @classmethod
    def from_env(cls) -> QueryWriterConfig:
        hash_type = environment.env_str(environment.QUERY_HASH_TYPE, "S")
        if hash_type not in HASH_TYPES:
            raise ConfigError(
                f"environment variable {environment.QUERY_HASH_TYPE}={hash_type!r} must be one "
                f"of {HASH_TYPES}"
            )
        ttl_days = environment.env_int(environment.TTL_DAYS, 0, minimum=0)
        ttl_attribute = environment.env_opt(environment.TTL_ATTRIBUTE)
        if ttl_days and not ttl_attribute:
            raise ConfigError(
                f"environment variable {environment.TTL_ATTRIBUTE} is required when "
                f"{environment.TTL_DAYS} is set"
            )
        return cls(
            table=environment.env_str(environment.QUERY_TABLE_NAME),
            hash_attribute=environment.env_str(environment.QUERY_HASH_ATTRIBUTE),
            hash_type=hash_type,
            range_attribute=environment.env_str(environment.QUERY_RANGE_ATTRIBUTE),
            sort_key_attribute=environment.env_str(
                environment.QUERY_SORT_KEY_ATTRIBUTE, DEFAULT_SORT_KEY_ATTRIBUTE
            ),
            ttl_attribute=ttl_attribute,
            ttl_days=ttl_days,
            source_ttl_days=environment.env_int(environment.SOURCE_TTL_DAYS, 0, minimum=0),
            dead_letter_queue_url=environment.env_opt(environment.DEAD_LETTER_QUEUE_URL),
            concurrency=environment.env_int(environment.MAX_WRITE_CONCURRENCY, 4),
            safety_margin_ms=environment.env_int(
                environment.RETRY_SAFETY_MARGIN_MS, DEFAULT_SAFETY_MARGIN_MS, minimum=0
            ),
        )


# --------------------------------------------------------------------------- keys and items
# The derivation is .query_items (one code path with the backfill).


@dataclass
class _Request:
    """One BatchWriteItem request and the stream record it comes from."""

    sequence_number: str
    key: tuple[tuple[str, str], ...]
    put: dict[str, Any] | None = None
    delete: dict[str, Any] | None = None

    def body(self) -> dict[str, Any]:
        if self.put is not None:
            return {"PutRequest": {"Item": self.put}}
        return {"DeleteRequest": {"Key": self.delete}}


def _key_id(key: dict[str, dict[str, Any]]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((name, repr(value)) for name, value in key.items()))


@dataclass
class Plan:
    """What one batch asks of the query table."""

    requests: dict[tuple[tuple[str, str], ...], _Request] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)
    ttl_expiries: int = 0
    poison: list[DeadLetter] = field(default_factory=list)

    def add(self, request: _Request) -> None:
        # The last request of a key wins; its position is the later record's.
        self.requests.pop(request.key, None)
        self.requests[request.key] = request

    def skip(self, reason: str) -> None:
        self.skipped[reason] = self.skipped.get(reason, 0) + 1


def _dead_letter_body(record: Any, reason: str) -> dict[str, Any]:
    return table_stream.dead_letter_body(record, reason, SERVICE, old_image=True)


def plan_batch(records: Sequence[tuple[str, dict[str, Any]]], config: QueryWriterConfig) -> Plan:
    """The requests (last per query key), skips, TTL expiries and poison of a batch of
    well-formed records (``(sequence number, record)``: :func:`.table_stream.well_formed`)."""
    plan = Plan()
    for sequence_number, record in records:
        stream = record["dynamodb"]
        name = record.get("eventName")
        keys = stream.get("Keys") or {}
        try:
            if name == "REMOVE":
                if is_ttl_expiry(record):
                    plan.ttl_expiries += 1
                    continue
                old = stream.get("OldImage")
                if old is None:
                    plan.skip("REMOVE without OldImage")
                    continue
                key = query_key(old, keys, config)
                plan.add(_Request(sequence_number, _key_id(key), delete=key))
                continue
            image = new_image(record)
            old = stream.get("OldImage")
            if old is not None:
                try:
                    old_key = query_key(old, keys, config)
                except SkipRecord:
                    old_key = None
                if old_key is not None:
                    plan.add(_Request(sequence_number, _key_id(old_key), delete=old_key))
            key, item = query_put(image, keys, stream, config)
            plan.add(_Request(sequence_number, _key_id(key), put=item))
        except SkipRecord as skip:
            plan.skip(skip.reason)
        except (PoisonRecordError, ValueError, TypeError, AttributeError) as exc:
            # AttributeError: an image or key value that is not a map of attributes.
            reason = exc.reason if isinstance(exc, PoisonRecordError) else f"bad image: {exc!r}"
            plan.poison.append(DeadLetter(sequence_number, _dead_letter_body(record, reason)))
    return plan


# --------------------------------------------------------------------------- writing


_WriteOutcome = chunk_writes.WriteOutcome


def _unprocessed_key(body: dict[str, Any], config: QueryWriterConfig) -> tuple[Any, ...]:
    if "PutRequest" in body:
        item = body["PutRequest"]["Item"]
        key = {n: item[n] for n in (config.hash_attribute, config.sort_key_attribute)}
    else:
        key = body["DeleteRequest"]["Key"]
    return _key_id(key)


def _blob_text(value: Any) -> str:
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(value).decode("ascii")
    raise TypeError(f"not a request value: {type(value).__name__}")


#: The separator botocore's JSON serialiser (``json.dumps`` with its default separators) puts
#: between two requests.
_SEPARATOR = ", "


def request_bytes(request: _Request) -> int:
    """The bytes ``request`` adds to the BatchWriteItem body botocore serialises (``json.dumps``
    with its default separators, ASCII, binary as base64), its separator included."""
    return len(json.dumps(request.body(), default=_blob_text)) + len(_SEPARATOR)


def request_limit(table: str) -> int:
    """What the :func:`request_bytes` of one call's requests may add up to: the body, envelope
    ``{"RequestItems": {"<table>": [`` … ``]}}`` included, stays within BatchWriteItem's
    :data:`.batches.BATCH_WRITE_MAX_BYTES` (the last request has no separator)."""
    envelope = len(json.dumps({"RequestItems": {table: []}}))
    return BATCH_WRITE_MAX_BYTES - envelope + len(_SEPARATOR)


def _chunk_table(config: QueryWriterConfig) -> chunk_writes.ChunkTable[_Request]:
    """The query table as :func:`.chunk_writes.write_chunk` writes it (Put and Delete requests)."""
    return chunk_writes.ChunkTable(
        config.table,
        _Request.body,
        lambda request: request.key,
        lambda unprocessed: _unprocessed_key(unprocessed, config),
    )


def write_requests(
    client: Any, config: QueryWriterConfig, requests: list[_Request], budget: TimeBudget
) -> _WriteOutcome[_Request]:
    """Send ``requests`` in chunks of 25 and at most BatchWriteItem's 16 MB on the wire
    (:func:`request_bytes`), up to ``config.concurrency`` chunks at once."""
    chunks = list(
        chunked(requests, BATCH_WRITE_MAX_ITEMS, request_limit(config.table), request_bytes)
    )
    outcome: _WriteOutcome[_Request] = _WriteOutcome()
    table = _chunk_table(config)
    if len(chunks) <= 1 or config.concurrency <= 1:
        for chunk in chunks:
            outcome.merge(chunk_writes.write_chunk(client, table, chunk, budget))
        return outcome
    with ThreadPoolExecutor(max_workers=min(config.concurrency, len(chunks))) as pool:
        for part in pool.map(lambda c: chunk_writes.write_chunk(client, table, c, budget), chunks):
            outcome.merge(part)
    return outcome


def query_client(config: QueryWriterConfig) -> Any:
    """The DynamoDB client (own account and region), cached per execution environment."""
    return own_client("dynamodb", pool=config.concurrency)


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Write a DynamoDB stream batch to the query table; return the sequence numbers not done."""
    started = time.perf_counter()
    log = get_logger(SERVICE)
    config = QueryWriterConfig.from_env()
    budget = TimeBudget(context, config.safety_margin_ms)
    records: list[Any] = event.get("Records") or []
    # Malformed records are isolated as poison (with the whole event record); the rest flow on.
    good, malformed = table_stream.well_formed(records, SERVICE, old_image=True)
    order = [seq for seq, _ in good]
    batch = BatchClose(SERVICE, log, len(records), order, started=started, poison=malformed)

    plan = plan_batch(good, config)
    for reason, count in sorted(plan.skipped.items()):
        log.warning("records skipped", extra={"reason": reason, "count": count})

    outcome: _WriteOutcome[_Request] = _WriteOutcome()
    if plan.requests:
        try:
            client = query_client(config)
        except (ClientError, BotoCoreError) as exc:
            log.error("cannot create a DynamoDB client", extra={"error": str(exc)})
            batch.report(r.sequence_number for r in plan.requests.values())
        else:
            outcome = write_requests(client, config, list(plan.requests.values()), budget)
    batch.report(request.sequence_number for request in outcome.unwritten)
    batch.log_errors(outcome.errors, "write failed; records reported for retry")
    batch.poison.extend(plan.poison)
    by_sequence = dict(good)
    for request, reason in outcome.rejected:
        record = by_sequence[request.sequence_number]
        batch.dead_letter(request.sequence_number, _dead_letter_body(record, reason))

    return batch.respond(
        dead_letter_queue_url=config.dead_letter_queue_url,
        budget=budget,
        payload_field="payload",
        written=outcome.written,
        retried=outcome.retried,
        message="batch written to the query table",
        skipped=sum(plan.skipped.values()),
        ttl_expiries=plan.ttl_expiries,
    )
