"""Replicator: Kinesis records -> DynamoDB items in the target (POC) account.

``handler(event, context)`` takes a Kinesis event source mapping batch and returns
``{"batchItemFailures": [{"itemIdentifier": <sequenceNumber>}, ...]}`` (the mapping has
ReportBatchItemFailures on). See ``docs/handlers.md`` for the behaviour in full; in short:

* each record's data (base64 JSON object) becomes an item (see :mod:`.records`), keyed by the
  seed's ``seqNumbershardIdHash`` + ``sequenceNumber`` so that writing it again is a no-op;
* items go out with BatchWriteItem, 25 per call, up to ``MAX_WRITE_CONCURRENCY`` calls at once;
  UnprocessedItems, throttling and 5xx errors are retried with full-jitter backoff while the
  invocation's time allows;
* poison records go to ``DEAD_LETTER_QUEUE_URL`` and are not reported (they would block the
  shard); everything not written (or not dead-lettered) is reported.
"""

from __future__ import annotations

import contextlib
import datetime
import time
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from botocore.config import Config
from botocore.credentials import (
    AssumeRoleCredentialFetcher,
    CredentialProvider,
    CredentialResolver,
    RefreshableCredentials,
)
from botocore.exceptions import BotoCoreError, ClientError
from botocore.utils import parse_timestamp

from . import environment, runtime
from .batches import BATCH_WRITE_MAX_ITEMS
from .exceptions import ConfigError, PoisonRecordError
from .records import HASH_KEY, RANGE_KEY, partition_key, record_item, shard_id_of
from .retry import TimeBudget
from .ttl import expiry_attribute

SERVICE = "replicator"
ASSUME_ROLE = "assume-role"
RESOURCE_POLICY = "resource-policy"
#: Role chaining (a Lambda role assuming another role) caps sessions at one hour.
MAX_CHAINED_SESSION_SECONDS = 3600
#: Assumed-role credentials are refreshed when less than this is left (botocore refreshes them
#: in the background from 5 minutes and blocks from 2 minutes before expiry).
REFRESH_ADVISORY_SECONDS = 5 * 60
REFRESH_MANDATORY_SECONDS = 2 * 60


@dataclass(frozen=True)
class ReplicatorConfig:
    """The replicator's view of its environment (see ``handlers/__init__.py``)."""

    access_mode: str
    table: str  # what BatchWriteItem's RequestItems is keyed by: the name, or the ARN
    region: str | None
    role_arn: str | None
    session_name: str
    external_id: str | None
    session_seconds: int
    dead_letter_queue_url: str | None
    concurrency: int
    safety_margin_ms: int
    #: ``(attribute, days)`` of the TTL expiry added to each item, or None (no TTL).
    ttl: tuple[str, int] | None = None

    @classmethod
    def from_env(cls) -> ReplicatorConfig:
        mode = environment.env_str(environment.ACCESS_MODE, ASSUME_ROLE)
        if mode not in (ASSUME_ROLE, RESOURCE_POLICY):
            raise ConfigError(
                f"environment variable ACCESS_MODE={mode!r} must be "
                f"{ASSUME_ROLE!r} or {RESOURCE_POLICY!r}"
            )
        table_arn = environment.env_opt(environment.TABLE_ARN)
        table_name = environment.env_opt(environment.TABLE_NAME)
        if mode == RESOURCE_POLICY:
            if not table_arn:
                raise ConfigError(
                    "environment variable TABLE_ARN is required when ACCESS_MODE=resource-policy "
                    "(the table is in another account and is addressed by its ARN)"
                )
            table = table_arn
        elif table_name or table_arn:
            table = table_name or str(table_arn)
        else:
            raise ConfigError(
                "environment variable TABLE_NAME (or TABLE_ARN) is required but not set"
            )
        arn_region = table_arn.split(":")[3] if table_arn and table_arn.count(":") >= 5 else None
        session_seconds = environment.env_int(
            environment.WRITER_SESSION_DURATION_SECONDS, MAX_CHAINED_SESSION_SECONDS, minimum=900
        )
        if session_seconds > MAX_CHAINED_SESSION_SECONDS:
            raise ConfigError(
                f"environment variable WRITER_SESSION_DURATION_SECONDS={session_seconds} is over "
                f"{MAX_CHAINED_SESSION_SECONDS}: role chaining caps a session at one hour"
            )
        return cls(
            access_mode=mode,
            table=table,
            region=environment.env_opt(environment.TARGET_REGION)
            or arn_region
            or environment.own_region(),
            role_arn=environment.env_str(environment.WRITER_ROLE_ARN)
            if mode == ASSUME_ROLE
            else None,
            session_name=environment.env_str(
                environment.WRITER_ROLE_SESSION_NAME, "stream-replica-writer"
            ),
            external_id=environment.env_opt(environment.WRITER_EXTERNAL_ID),
            session_seconds=session_seconds,
            dead_letter_queue_url=environment.env_opt(environment.DEAD_LETTER_QUEUE_URL),
            concurrency=environment.env_int(environment.MAX_WRITE_CONCURRENCY, 4),
            safety_margin_ms=environment.env_int(
                environment.RETRY_SAFETY_MARGIN_MS, runtime.DEFAULT_SAFETY_MARGIN_MS, minimum=0
            ),
            ttl=_ttl_from_env(),
        )


def _ttl_from_env() -> tuple[str, int] | None:
    days = environment.env_int(environment.TTL_DAYS, 0, minimum=0)
    if not days:
        return None
    return environment.env_str(environment.TTL_ATTRIBUTE, "expiresAt"), days


# --------------------------------------------------------------------------- the writer client


class _AssumedRoleProvider(CredentialProvider):
    """Hands botocore the refreshable assumed-role credentials."""

    METHOD = "assume-role"
    CANONICAL_NAME = "stream-replica-writer-role"

    def __init__(self, credentials: RefreshableCredentials) -> None:
        super().__init__()
        self._credentials = credentials

    def load(self) -> RefreshableCredentials:
        return self._credentials


def _now() -> datetime.datetime:
    """The clock the credential refresh reads (a module function, so tests can move time)."""
    return datetime.datetime.now(datetime.UTC)


class _NoCache(dict[str, Any]):
    """The fetcher's cache, always empty: the refreshable credentials are the only cache, so a
    refresh they ask for always reaches STS."""

    def __contains__(self, key: object) -> bool:
        return False

    def __setitem__(self, key: str, value: Any) -> None:
        return None


def _assume_writer_role(config: ReplicatorConfig) -> RefreshableCredentials:
    """AssumeRole once (now) and return credentials that botocore refreshes by calling it again
    shortly before they expire; the source credentials are the execution role's (from env)."""
    source = runtime.new_botocore_session()
    source_credentials = source.get_credentials()
    if source_credentials is None:
        raise ConfigError("no AWS credentials in the environment to call AssumeRole with")
    region = environment.own_region() or config.region

    def sts_client(service: str, **kwargs: Any) -> Any:
        # AssumeRole runs about once an hour: botocore's standard retries (3 attempts) are
        # cheaper than failing the batch on a throttled or dropped STS call.
        config = runtime.client_config().merge(Config(retries={"mode": "standard"}))
        client = source.create_client(service, region_name=region, config=config, **kwargs)
        return runtime.apply_hooks(client)

    extra: dict[str, Any] = {
        "RoleSessionName": config.session_name,
        "DurationSeconds": config.session_seconds,
    }
    if config.external_id:
        extra["ExternalId"] = config.external_id
    fetcher = AssumeRoleCredentialFetcher(
        client_creator=sts_client,
        source_credentials=source_credentials,
        role_arn=config.role_arn,
        extra_args=extra,
        cache=_NoCache(),
    )
    first = fetcher.fetch_credentials()  # the AssumeRole call; raises if STS refuses
    return RefreshableCredentials(
        access_key=first["access_key"],
        secret_key=first["secret_key"],
        token=first["token"],
        expiry_time=parse_timestamp(first["expiry_time"]),
        refresh_using=fetcher.fetch_credentials,
        method=_AssumedRoleProvider.METHOD,
        time_fetcher=lambda: _now(),
        advisory_timeout=REFRESH_ADVISORY_SECONDS,
        mandatory_timeout=REFRESH_MANDATORY_SECONDS,
    )


def writer_client(config: ReplicatorConfig) -> Any:
    """The DynamoDB client that writes the target table, cached per execution environment.

    assume-role mode: its credentials come from one AssumeRole of ``WRITER_ROLE_ARN`` (refreshed
    by botocore before expiry). resource-policy mode: the execution role's own credentials.
    Raises the STS error if AssumeRole fails (nothing is cached then; the next call tries again).
    """
    if config.access_mode == RESOURCE_POLICY:
        return runtime.own_client("dynamodb", region=config.region, pool=config.concurrency)

    def factory() -> Any:
        credentials = _assume_writer_role(config)
        target = runtime.new_botocore_session()
        target.register_component(
            "credential_provider", CredentialResolver([_AssumedRoleProvider(credentials)])
        )
        return target.create_client(
            "dynamodb",
            region_name=config.region,
            config=runtime.client_config(config.concurrency),
        )

    key = (
        "writer",
        config.role_arn,
        config.session_name,
        config.external_id,
        config.session_seconds,
        config.region,
        config.concurrency,
    )
    return runtime.cached_client(key, factory)


# --------------------------------------------------------------------------- writing


@dataclass(slots=True)
class _Entry:
    sequence_number: str
    key: tuple[str, str]
    item: dict[str, Any]


@dataclass
class _WriteOutcome:
    written: int = 0
    retried: int = 0
    unwritten: list[_Entry] = field(default_factory=list)
    rejected: list[tuple[_Entry, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def merge(self, other: _WriteOutcome) -> None:
        self.written += other.written
        self.retried += other.retried
        self.unwritten += other.unwritten
        self.rejected += other.rejected
        self.errors += other.errors


def _key_of(item: dict[str, Any]) -> tuple[str, str]:
    return item[HASH_KEY]["S"], item[RANGE_KEY]["S"]


def _is_schema_error(exc: ClientError) -> bool:
    """A ValidationException that is the table's fault (wrong key schema), not the item's."""
    message = str(exc.response.get("Error", {}).get("Message", ""))
    return "key element does not match the schema" in message or "Missing the key" in message


def _write_chunk(client: Any, table: str, chunk: list[_Entry], budget: TimeBudget) -> _WriteOutcome:
    """Write one chunk (≤ 25 items), retrying what DynamoDB leaves unprocessed.

    A ValidationException on a chunk is split in halves until the item DynamoDB rejects is alone;
    that one is poison, the rest are written.
    """
    outcome = _WriteOutcome()
    by_key = {entry.key: entry for entry in chunk}
    pending = chunk
    attempt = 0
    while pending:
        if not budget.allows():
            outcome.unwritten += pending
            break
        retry: list[_Entry]
        try:
            response = client.batch_write_item(
                RequestItems={table: [{"PutRequest": {"Item": e.item}} for e in pending]}
            )
        except ClientError as exc:
            code = runtime.error_code(exc)
            if code == "ValidationException" and not _is_schema_error(exc):
                if len(pending) == 1:
                    message = exc.response.get("Error", {}).get("Message", "")
                    outcome.rejected.append((pending[0], f"DynamoDB rejected the item: {message}"))
                else:
                    middle = len(pending) // 2
                    for half in (pending[:middle], pending[middle:]):
                        outcome.merge(_write_chunk(client, table, half, budget))
                break
            if not runtime.is_retryable(exc):
                outcome.errors.append(f"BatchWriteItem on {table}: {exc}")
                outcome.unwritten += pending
                break
            retry = pending
        except BotoCoreError as exc:
            if not runtime.is_retryable(exc):
                outcome.errors.append(f"BatchWriteItem on {table}: {exc}")
                outcome.unwritten += pending
                break
            retry = pending
        else:
            retry = [
                by_key[_key_of(request["PutRequest"]["Item"])]
                for requests in response.get("UnprocessedItems", {}).values()
                for request in requests
            ]
            outcome.written += len(pending) - len(retry)
        if retry:
            attempt += 1
            outcome.retried += len(retry)
            if not runtime.wait_before_retry(attempt, budget):
                outcome.unwritten += retry
                break
        pending = retry
    return outcome


class ChunkWriter:
    """Writes entries as they are prepared: every 25 go out as one chunk on a pool of
    ``MAX_WRITE_CONCURRENCY`` threads, so the network waits of earlier chunks overlap the
    decoding of later records. The writer client (and in assume-role mode the AssumeRole call)
    is made when the first chunk is ready; if that fails, nothing is sent and every entry added
    is reported."""

    def __init__(self, config: ReplicatorConfig, budget: TimeBudget, log: Any) -> None:
        self._config = config
        self._budget = budget
        self._log = log
        self._pending: list[_Entry] = []
        self._futures: list[Future[_WriteOutcome]] = []
        self._pool: ThreadPoolExecutor | None = None
        self._client: Any = None
        self._not_sent: list[_Entry] = []
        self._client_failed = False

    def add(self, entry: _Entry) -> None:
        self._pending.append(entry)
        if len(self._pending) >= BATCH_WRITE_MAX_ITEMS:
            self._submit()

    def _submit(self) -> None:
        chunk, self._pending = self._pending, []
        if not chunk:
            return
        if self._client is None and not self._client_failed:
            try:
                self._client = writer_client(self._config)
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
        if self._client_failed:
            self._not_sent += chunk
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=self._config.concurrency)
        self._futures.append(
            self._pool.submit(_write_chunk, self._client, self._config.table, chunk, self._budget)
        )

    def finish(self) -> _WriteOutcome:
        """Send what is left, wait for every chunk, and return the combined outcome."""
        self._submit()
        outcome = _WriteOutcome(unwritten=list(self._not_sent))
        try:
            for future in self._futures:
                outcome.merge(future.result())
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=True)
        return outcome


# --------------------------------------------------------------------------- the handler


def _dead_letter_body(record: dict[str, Any], shard_id: str | None, reason: str) -> dict[str, Any]:
    kinesis = record.get("kinesis", {})
    return {
        "reason": reason,
        "source": "replicator",
        "eventSourceARN": record.get("eventSourceARN"),
        "eventID": record.get("eventID"),
        "shardId": shard_id,
        "sequenceNumber": kinesis.get("sequenceNumber"),
        "partitionKey": kinesis.get("partitionKey"),
        "approximateArrivalTimestamp": kinesis.get("approximateArrivalTimestamp"),
        "data": kinesis.get("data"),
    }


def _prepare(
    records: list[dict[str, Any]],
    last_of_key: dict[tuple[str, str], int],
    writer: ChunkWriter,
    poison: list[runtime.DeadLetter],
    ttl: tuple[str, int] | None = None,
) -> None:
    """Decode each record into an item for ``writer``, or a dead letter into ``poison``; with
    ``ttl`` = ``(attribute, days)`` each item expires ``days`` after the record's arrival."""
    for index, record in enumerate(records):
        sequence_number = record["kinesis"]["sequenceNumber"]
        shard_id: str | None = None
        try:
            shard_id = shard_id_of(record["eventID"])
            key = (partition_key(sequence_number, shard_id), sequence_number)
            if last_of_key[key] != index:
                continue  # a later copy of this record is written instead
            extra = expiry_attribute(record["kinesis"], *ttl) if ttl else None
            item = record_item(record["kinesis"]["data"], sequence_number, shard_id, extra)
        except (PoisonRecordError, ValueError) as exc:
            reason = exc.reason if isinstance(exc, PoisonRecordError) else str(exc)
            poison.append(
                runtime.DeadLetter(sequence_number, _dead_letter_body(record, shard_id, reason))
            )
            continue
        writer.add(_Entry(sequence_number, key, item))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Replicate a Kinesis batch; return the sequence numbers not yet written."""
    started = time.perf_counter()
    log = runtime.get_logger(SERVICE)
    config = ReplicatorConfig.from_env()
    budget = TimeBudget(context, config.safety_margin_ms)
    records: list[dict[str, Any]] = event.get("Records") or []
    order = [r["kinesis"]["sequenceNumber"] for r in records]
    by_sequence = {r["kinesis"]["sequenceNumber"]: r for r in records}

    # A record delivered twice in one batch has the same key twice, which BatchWriteItem refuses
    # ("Provided list of item keys contains duplicates"): only the last one of a key is written.
    # The key comes from the record's metadata, so this is known before any payload is decoded.
    last_of_key: dict[tuple[str, str], int] = {}
    for index, record in enumerate(records):
        with contextlib.suppress(ValueError):
            shard = shard_id_of(record["eventID"])
            sequence_number = record["kinesis"]["sequenceNumber"]
            last_of_key[(partition_key(sequence_number, shard), sequence_number)] = index

    writer = ChunkWriter(config, budget, log)
    poison: list[runtime.DeadLetter] = []
    try:
        _prepare(records, last_of_key, writer, poison, config.ttl)
    except BaseException:
        writer.finish()  # let the chunks in flight end before the invocation fails
        raise
    outcome = writer.finish()
    failed: set[str] = {entry.sequence_number for entry in outcome.unwritten}
    for error in sorted(set(outcome.errors)):
        log.error("write failed; records reported for retry", extra={"error": error})
    for entry, reason in outcome.rejected:
        body = _dead_letter_body(
            by_sequence[entry.sequence_number], entry.item["shardId"]["S"], reason
        )
        poison.append(runtime.DeadLetter(entry.sequence_number, body))

    dead_lettered, undelivered = runtime.dispose_of_poison(
        config.dead_letter_queue_url, poison, budget, "data", log
    )
    failed.update(undelivered)

    failures = runtime.in_order(failed, order)
    counts = {
        "records_in": len(records),
        "written": outcome.written,
        "retried": outcome.retried,
        "poison": dead_lettered,
        "failed": len(failures),
    }
    runtime.emit_metrics(SERVICE, counts)
    log.info(
        "batch replicated",
        extra={**counts, "duration_ms": round((time.perf_counter() - started) * 1000, 1)},
    )
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in failures]}
