"""In-invocation retries: the invocation's time budget, the backoff schedule, and which errors
are worth another attempt (throttling, 5xx, transport errors)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Protocol

from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

#: Default milliseconds kept back from the Lambda timeout for the call in flight and the response
#: (``RETRY_SAFETY_MARGIN_MS``).
DEFAULT_SAFETY_MARGIN_MS = 10_000

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
        "IDPCommunicationError",
    }
)
#: Error codes that mean the call's credentials have expired. Another attempt with the same
#: credentials fails the same way, so they are worth one only when the client has fresh ones:
#: the writer role's client assumes the role again when it sees one
#: (:mod:`.writer_role`) and marks the error with :data:`CREDENTIALS_REFRESHED`.
EXPIRED_CREDENTIAL_CODES = frozenset({"ExpiredToken", "ExpiredTokenException"})
#: Key a client's ``after-call`` hook sets in an error response once it has fresh credentials
#: (botocore raises the ``ClientError`` with that response: ``exc.response[...]``).
CREDENTIALS_REFRESHED = "StreamReplicaCredentialsRefreshed"
_RETRYABLE_TRANSPORT_ERRORS = (
    EndpointConnectionError,
    ConnectionClosedError,
    ConnectTimeoutError,
    ReadTimeoutError,
)


def full_jitter_delay(
    attempt: int,
    base: float = 0.05,
    cap: float = 2.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to wait before retry ``attempt`` (1, 2, …): exponential backoff with full jitter,
    uniformly in ``[0, min(cap, base * 2**(attempt-1))]``."""
    return rand() * min(cap, base * (2 ** max(attempt - 1, 0)))


class LambdaContext(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


#: The safety margin is at most this fraction of the time the invocation had when it started, so
#: a short timeout (10 s or less against the default 10 s margin) still leaves time to write.
MAX_MARGIN_FRACTION = 0.25


class TimeBudget:
    """How long an invocation may keep retrying: the Lambda context's remaining time minus a
    safety margin (for the call in flight, the dead-letter sends and the response).

    The margin is ``safety_margin_ms``, but never more than :data:`MAX_MARGIN_FRACTION` of the
    time left when the budget is made (at the start of the invocation: about the function's
    timeout). Without a context (a direct call outside Lambda) ``default_ms`` stands in for the
    timeout. :meth:`claim_attempt` lets the first call of an invocation through even when the
    budget is spent, so an invocation never ends without having tried to write.
    """

    def __init__(
        self,
        context: LambdaContext | None,
        safety_margin_ms: int,
        default_ms: int = 60_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._context = context if hasattr(context, "get_remaining_time_in_millis") else None
        self._clock = clock
        self._fallback_end = clock() + default_ms / 1000.0
        at_start = max(0.0, self._left())
        self._margin_s = min(safety_margin_ms / 1000.0, at_start * MAX_MARGIN_FRACTION)
        self._lock = threading.Lock()
        self._attempted = False

    @property
    def margin_seconds(self) -> float:
        """The margin in force (seconds), after scaling to the invocation's time."""
        return self._margin_s

    def _left(self) -> float:
        if self._context is not None:
            return self._context.get_remaining_time_in_millis() / 1000.0
        return self._fallback_end - self._clock()

    def remaining(self) -> float:
        """Seconds left for retries (negative once the margin is reached)."""
        return self._left() - self._margin_s

    def allows(self, wait_seconds: float = 0.0) -> bool:
        """True if waiting ``wait_seconds`` still leaves time for one more call."""
        return self.remaining() > wait_seconds

    def claim_attempt(self) -> bool:
        """True if a call may start now: the budget allows it, or it is the invocation's first
        call (thread-safe: of concurrent first calls, one is let through)."""
        with self._lock:
            first, self._attempted = not self._attempted, True
        return first or self.allows()


def _error_code(exc: BaseException) -> str:
    """The AWS error code of a :class:`ClientError` (``"Unknown"`` if it has none), else the
    exception's class name."""
    if isinstance(exc, ClientError):
        return str(exc.response.get("Error", {}).get("Code", "Unknown"))
    return type(exc).__name__


def is_retryable(exc: BaseException) -> bool:
    """Throttling, 5xx and transport errors are worth another attempt; so are expired
    credentials once the client has refreshed them (:data:`CREDENTIALS_REFRESHED`); the rest
    are not."""
    if isinstance(exc, ClientError):
        code = _error_code(exc)
        if code in EXPIRED_CREDENTIAL_CODES:
            return bool(exc.response.get(CREDENTIALS_REFRESHED))
        if code in RETRYABLE_ERROR_CODES:
            return True
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
        return int(status) >= 500 or int(status) == 429
    return isinstance(exc, _RETRYABLE_TRANSPORT_ERRORS)


def gave_up(call: str, attempts: int, left: int, last: str) -> str:
    """The error line for retries that ran out of time: ``call`` (e.g. ``"BatchWriteItem on
    <table>"``) was made ``attempts`` times, ``left`` requests are still unsent, and ``last`` is
    what AWS reported the last time (an exception, or the entries it left unprocessed)."""
    return (
        f"{call}: {left} request(s) not sent after {attempts} attempt(s): the invocation's "
        f"time budget ran out while retrying; last reported: {last}"
    )


def wait_before_retry(attempt: int, budget: TimeBudget) -> bool:
    """Sleep the backoff for ``attempt`` if the budget allows it and one more call; else False."""
    delay = full_jitter_delay(attempt)
    if not budget.allows(delay):
        return False
    time.sleep(delay)
    return True
