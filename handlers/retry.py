"""The invocation's time budget and the backoff schedule of in-invocation retries."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Protocol


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


class TimeBudget:
    """How long an invocation may keep retrying: the Lambda context's remaining time minus a
    safety margin (for the call in flight, the dead-letter sends and the response).

    Without a context (a direct call outside Lambda) ``default_ms`` stands in for the timeout.
    """

    def __init__(
        self,
        context: LambdaContext | None,
        safety_margin_ms: int,
        default_ms: int = 60_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._context = context if hasattr(context, "get_remaining_time_in_millis") else None
        self._margin_s = safety_margin_ms / 1000.0
        self._clock = clock
        self._fallback_end = clock() + default_ms / 1000.0

    def remaining(self) -> float:
        """Seconds left for retries (negative once the margin is reached)."""
        if self._context is not None:
            left = self._context.get_remaining_time_in_millis() / 1000.0
        else:
            left = self._fallback_end - self._clock()
        return left - self._margin_s

    def allows(self, wait_seconds: float = 0.0) -> bool:
        """True if waiting ``wait_seconds`` still leaves time for one more call."""
        return self.remaining() > wait_seconds
