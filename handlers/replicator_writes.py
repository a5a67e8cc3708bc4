"""The replicator's writes: each record's entry (its item as DynamoDB JSON text and its table
key), BatchWriteItem requests bounded by count and by size, and :class:`ChunkWriter`, which
sends them on a pool of threads while later records are still being decoded. Imported by
:mod:`.replicator`, whose settings (:class:`.replicator.ReplicatorConfig`) it takes."""

from __future__ import annotations

from collections.abc import Container
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from . import chunk_writes, faults, target_table, write_requests
from .batches import BATCH_WRITE_MAX_BYTES, BATCH_WRITE_MAX_ITEMS
from .exceptions import ConfigError
from .records import HASH_KEY, KEY_ATTRIBUTES, RANGE_KEY
from .retry import TimeBudget
from .writer_role import writer_client

if TYPE_CHECKING:  # the staged pipeline is imported only for records or settings that need it
    from . import pipeline
    from .replicator import ReplicatorConfig


@dataclass(slots=True)
class _Entry:
    """One item to write: the Kinesis sequence number it reports, its table key (hash, range),
    its shard, and the item as DynamoDB JSON text (:func:`.records.record_item_json`)."""

    sequence_number: str
    key: tuple[str, str]
    shard_id: str
    item_json: str

    def put_request(self) -> write_requests.PutRequest:
        hash_value, range_value = self.key
        key = write_requests.key_attributes(HASH_KEY, hash_value, RANGE_KEY, range_value)
        return write_requests.PutRequest(key, self.item_json)


_WriteOutcome = chunk_writes.WriteOutcome

#: What a put request adds to the body besides its item text (:func:`.write_requests.body_text`):
#: ``{"PutRequest":{"Item":`` … ``}}`` and the comma before the next request.
_PUT_REQUEST_BYTES = len('{"PutRequest":{"Item":}},')


def entry_bytes(entry: _Entry) -> int:
    """The bytes ``entry`` adds to a BatchWriteItem body, its separator included (UTF-8; the
    item text is ASCII for most records, and then its length is the count, at no cost)."""
    text = entry.item_json
    return _PUT_REQUEST_BYTES + (len(text) if text.isascii() else len(text.encode("utf-8")))


def request_limit(table: str) -> int:
    """What the :func:`entry_bytes` of one request's entries may add up to: the body is
    ``{"RequestItems":{"<table>":[`` + the entries, comma-separated + ``]}}``, at most
    :data:`.batches.BATCH_WRITE_MAX_BYTES` (the last entry has no comma: hence the + 1)."""
    envelope = len(('{"RequestItems":{' + encode_basestring(table) + ":[]}}").encode("utf-8"))
    return BATCH_WRITE_MAX_BYTES - envelope + 1


def _key_of(item: dict[str, Any]) -> tuple[str, str]:
    return item[HASH_KEY]["S"], item[RANGE_KEY]["S"]


def _chunk_table(table: str, ours: Container[str] | None = None) -> chunk_writes.ChunkTable[_Entry]:
    """The replica table as :func:`.chunk_writes.write_chunk` writes it: each entry's body is
    written from its item text (:mod:`.write_requests`), not serialised by botocore. ``ours``:
    :func:`own_attributes`."""
    return chunk_writes.ChunkTable(
        table,
        _Entry.put_request,
        lambda entry: entry.key,
        lambda unprocessed: _key_of(unprocessed["PutRequest"]["Item"]),
        ours,
    )


#: :data:`.pipeline.SUB_SEQUENCE_KEY` (the pipeline is imported only when a record needs it).
SUB_SEQUENCE_KEY = "subSequenceNumber"


def own_attributes(stages: pipeline.Stages | None, ttl: tuple[str, int] | None) -> Container[str]:
    """The attributes this deployment's own stages give every item: the key attributes, the
    KPL sub-sequence number, the TTL expiry, each pseudonymised top-level attribute; with a
    transform, every attribute (:data:`.faults.EVERY_ATTRIBUTE`). An index that refuses one of
    them refuses every record alike: a fault, not poison."""
    if stages is not None and stages.transform is not None:
        return faults.EVERY_ATTRIBUTE
    names = {*KEY_ATTRIBUTES, SUB_SEQUENCE_KEY}
    if ttl is not None:
        names.add(ttl[0])
    if stages is not None:
        names.update(path[0] for path in stages.pseudonymise if len(path) == 1)
    return frozenset(names)


def rejected_alike(outcome: _WriteOutcome[_Entry]) -> str | None:
    """The attribute when DynamoDB refused every item of the batch for the same index key's
    type (at least two, none written), else ``None``: each is the record's own poison, but a
    whole batch alike means the producers and the index disagree, worth an alarm."""
    if outcome.written or outcome.unwritten or len(outcome.rejected) < 2:
        return None
    attributes = {faults.index_key_in(reason) for _, reason in outcome.rejected}
    if len(attributes) != 1:
        return None
    return attributes.pop()


class ChunkWriter:
    """Writes entries as they are prepared: every 25 go out as one chunk on a pool of
    ``MAX_WRITE_CONCURRENCY`` threads, so the network waits of earlier chunks overlap the
    decoding of later records; a chunk goes out earlier when one more entry would take its body
    over BatchWriteItem's 16 MB (:func:`entry_bytes`, :func:`request_limit`). The writer client
    (and in assume-role mode the AssumeRole call) is made when the first chunk is ready; if that
    fails, nothing is sent and every entry added is reported.
    """

    def __init__(
        self,
        config: ReplicatorConfig,
        budget: TimeBudget,
        log: Any,
        ours: Container[str] | None = None,
    ) -> None:
        self._config = config
        self._table = _chunk_table(config.table, ours)
        self._budget = budget
        self._log = log
        self._pending: list[_Entry] = []
        self._pending_bytes = 0
        self._max_bytes = request_limit(config.table)
        self._futures: list[Future[_WriteOutcome[_Entry]]] = []
        self._pool: ThreadPoolExecutor | None = None
        self._client: Any = None
        self._not_sent: list[_Entry] = []
        self._client_failed = False

    def add(self, entry: _Entry) -> None:
        size = entry_bytes(entry)
        if self._pending and self._pending_bytes + size > self._max_bytes:
            self._submit()
        self._pending.append(entry)
        self._pending_bytes += size
        if len(self._pending) >= BATCH_WRITE_MAX_ITEMS:
            self._submit()

    def _submit(self) -> None:
        chunk, self._pending, self._pending_bytes = self._pending, [], 0
        if not chunk:
            return
        if self._client is None and not self._client_failed:
            try:
                self._client = write_requests.install(writer_client(self._config))
            except (ClientError, BotoCoreError, ConfigError) as exc:
                self._client_failed = True
                self._log.error(
                    "cannot get a writer client; the whole batch is reported for retry",
                    extra={
                        "role_arn": self._config.role_arn,
                        "table": self._config.table,
                        "error": str(exc),
                    },
                )
            if self._client is not None:
                problem = target_table.key_schema_problem(
                    self._client, self._config.table, self._log
                )
                if problem is not None:
                    self._client, self._client_failed = None, True
                    self._log.error(
                        "the target table's key schema is not the replica's; nothing written, "
                        "the whole batch is reported for retry",
                        extra={"table": self._config.table, "error": problem},
                    )
        if self._client_failed:
            self._not_sent += chunk
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self._config.concurrency)
        self._futures.append(
            self._pool.submit(
                chunk_writes.write_chunk, self._client, self._table, chunk, self._budget
            )
        )

    def finish(self) -> _WriteOutcome[_Entry]:
        """Send what is left, wait for every chunk, and return the combined outcome."""
        self._submit()
        outcome: _WriteOutcome[_Entry] = _WriteOutcome(unwritten=list(self._not_sent))
        try:
            for future in self._futures:
                outcome.merge(future.result())
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
        return outcome
