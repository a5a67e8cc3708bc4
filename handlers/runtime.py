"""Shared I/O of both handlers: environment, cached clients, retries, dead letters, telemetry.

Nothing runs at import time. Clients are created at first use from the environment as it is at
that moment (the sandbox sets the function's environment and role credentials just before it
invokes) and reused across invocations of one execution environment. :func:`reset_clients`
forgets them (tests, the sandbox and the benchmarks call it when the environment or the moto
account changes); :func:`add_event_hook` lets them observe or slow down every call of every client
the handlers create (botocore event hooks such as ``before-call`` / ``before-send``).
"""

from __future__ import annotations

import base64
import gzip
import json
import os
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

from .batches import chunked
from .environment import (
    DEFAULT_METRICS_NAMESPACE,
    POWERTOOLS_METRICS_NAMESPACE,
    POWERTOOLS_SERVICE_NAME,
    env_str,
    own_region,
)
from .retry import TimeBudget, full_jitter_delay

#: Default seconds kept back from the Lambda timeout for the call in flight and the response.
DEFAULT_SAFETY_MARGIN_MS = 10_000

#: SQS: at most 10 messages and 1 MiB per SendMessageBatch, 1 MiB per message.
SQS_BATCH_MAX_MESSAGES = 10
SQS_MAX_BYTES = 1024 * 1024

#: Error codes that mean "try again later" on DynamoDB, Firehose, SQS and STS.
RETRYABLE_ERROR_CODES = frozenset(
    {
        "ProvisionedThroughputExceededException",
        "ThrottlingException",
        "Throttling",
        "ThrottledException",
        "RequestLimitExceeded",
        "RequestThrottled",
        "RequestThrottledException",
        "TooManyRequestsException",
        "ServiceUnavailable",
        "ServiceUnavailableException",
        "InternalServerError",
        "InternalFailure",
        "InternalError",
        "RequestTimeout",
        "RequestTimeoutException",
        "ExpiredTokenException",
        "IDPCommunicationError",
    }
)
_RETRYABLE_TRANSPORT_ERRORS = (
    EndpointConnectionError,
    ConnectionClosedError,
    ConnectTimeoutError,
    ReadTimeoutError,
)


# --------------------------------------------------------------------------- clients

_lock = threading.RLock()
_clients: dict[tuple[Any, ...], Any] = {}
_hooks: list[tuple[str, Callable[..., Any]]] = []


def client_config(max_pool_connections: int = 10, read_timeout: int = 10) -> Config:
    """Client settings: botocore retries off (the handlers retry within the time budget, and
    every attempt is one observable call), short timeouts, a pool for concurrent calls, and no
    client-side parameter validation: the handlers build every request from TypeSerializer
    output, and walking 300 items again costs about a third of the replicator's CPU."""
    return Config(
        retries={"mode": "standard", "total_max_attempts": 1},
        parameter_validation=False,
        connect_timeout=3,
        read_timeout=read_timeout,
        max_pool_connections=max(10, max_pool_connections),
    )


def apply_hooks(client: Any) -> Any:
    for event_name, hook in _hooks:
        client.meta.events.register(event_name, hook)
    return client


_loader: Any = None


def new_botocore_session() -> botocore.session.Session:
    """A fresh botocore session; it reads credentials from the environment when first used.

    All sessions share one data loader, so each service model and the endpoint data are read
    from disk once per process (a cold start builds up to three sessions: execution role, STS
    source and assumed writer role)."""
    global _loader
    session = botocore.session.Session()
    with _lock:
        if _loader is None:
            _loader = session.get_component("data_loader")
        else:
            session.register_component("data_loader", _loader)
    return session


def _source_identity() -> tuple[str | None, str | None]:
    """Which credentials the environment holds now: part of every cache key, so a process that
    runs handlers under different roles (the sandbox) never reuses another role's client."""
    return os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_PROFILE")


def cached_client(key: tuple[Any, ...], factory: Callable[[], Any]) -> Any:
    """The client cached under ``key`` (which should hold every setting it was built from) and
    the environment's credentials, created by ``factory`` on first use. A factory that raises
    caches nothing."""
    key = (*key, _source_identity())
    with _lock:
        found = _clients.get(key)
        if found is None:
            found = apply_hooks(factory())
            _clients[key] = found
        return found


def own_client(service: str, *, region: str | None = None, pool: int = 10) -> Any:
    """A client in the function's own account (execution role credentials from the env)."""
    region = region or own_region()

    def factory() -> Any:
        return new_botocore_session().create_client(
            service, region_name=region, config=client_config(pool)
        )

    return cached_client(("own", service, region, pool), factory)


def add_event_hook(event_name: str, hook: Callable[..., Any]) -> None:
    """Register a botocore event hook on every client the handlers hold now or create later
    (e.g. ``before-call`` to count calls, ``before-send`` to add latency or fake a response)."""
    with _lock:
        _hooks.append((event_name, hook))
        for client in _clients.values():
            client.meta.events.register(event_name, hook)


def clear_event_hooks() -> None:
    """Remove every hook added by :func:`add_event_hook`."""
    with _lock:
        for client in _clients.values():
            for event_name, hook in _hooks:
                client.meta.events.unregister(event_name, hook)
        _hooks.clear()


def reset_clients(cold: bool = False) -> None:
    """Forget every cached client and credential (the next call re-reads the environment and,
    in assume-role mode, assumes the writer role again). Hooks stay registered.

    ``cold=True`` also forgets the loaded service models, as a new execution environment would.
    """
    global _loader
    with _lock:
        _clients.clear()
        if cold:
            _loader = None


def registered_clients() -> list[Any]:
    """The clients currently cached (for tests and benchmarks that inspect them)."""
    with _lock:
        return list(_clients.values())


# --------------------------------------------------------------------------- retries


def error_code(exc: BaseException) -> str:
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "Unknown"))
    return type(exc).__name__


def is_retryable(exc: BaseException) -> bool:
    """Throttling, 5xx and transport errors are worth another attempt; the rest are not."""
    if isinstance(exc, ClientError):
        if error_code(exc) in RETRYABLE_ERROR_CODES:
            return True
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return int(status) >= 500 or int(status) == 429
    return isinstance(exc, _RETRYABLE_TRANSPORT_ERRORS)


def wait_before_retry(attempt: int, budget: TimeBudget) -> bool:
    """Sleep the backoff for ``attempt`` if the budget allows it and one more call; else False."""
    delay = full_jitter_delay(attempt)
    if not budget.allows(delay):
        return False
    time.sleep(delay)
    return True


# --------------------------------------------------------------------------- dead letters


@dataclass
class DeadLetter:
    """A poison record on its way to the dead-letter queue.

    ``record_id`` is what the handler reports in ``batchItemFailures`` if the send fails.
    """

    record_id: str
    body: dict[str, Any]


@dataclass
class DeadLetterResult:
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
    number (replicator) or the key (archiver) the body names.
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


# --------------------------------------------------------------------------- telemetry

_loggers: dict[str, Any] = {}


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


def get_logger(default_service: str) -> Any:
    """A Powertools structured JSON logger (created at first use; Powertools is imported lazily
    so that importing a handler costs little more than importing boto3)."""
    service = env_str(POWERTOOLS_SERVICE_NAME, default_service)
    with _lock:
        log = _loggers.get(service)
        if log is None:
            from aws_lambda_powertools import Logger

            log = Logger(service=service)
            _loggers[service] = log
        return log


def emit_metrics(default_service: str, counts: dict[str, int]) -> None:
    """Print one CloudWatch embedded-metric-format document with ``counts`` (unit Count).

    A provider per call (not Powertools' shared ``Metrics`` class state) keeps the two
    handlers' metrics apart when both run in one process (the sandbox)."""
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
        AmazonCloudWatchEMFProvider,
    )

    provider = AmazonCloudWatchEMFProvider(
        namespace=env_str(POWERTOOLS_METRICS_NAMESPACE, DEFAULT_METRICS_NAMESPACE),
        service=env_str(POWERTOOLS_SERVICE_NAME, default_service),
    )
    for name, value in counts.items():
        provider.add_metric(name=name, unit="Count", value=value)
    provider.flush_metrics()


def in_order(ids: Iterable[str], order: Sequence[str]) -> list[str]:
    """``ids`` as a list in the order they appear in ``order`` (the event's record order)."""
    wanted = set(ids)
    seen: set[str] = set()
    out = []
    for candidate in order:
        if candidate in wanted and candidate not in seen:
            seen.add(candidate)
            out.append(candidate)
    return out
