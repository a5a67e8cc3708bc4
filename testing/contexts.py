"""A fake Lambda context object for invoking handlers outside Lambda.

It has the attributes of the Python runtime's context object that handlers and Powertools read
(https://docs.aws.amazon.com/lambda/latest/dg/python-context.html). The remaining time comes
from, in this order: ``remaining`` (a callable the test controls), ``remaining_ms`` (fixed),
``deadline`` (a ``time.monotonic()`` instant) or ``timeout_s`` (counted down from creation, as
in Lambda).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

DEFAULT_REGION = "eu-west-1"
DEFAULT_ACCOUNT = "123456789012"


class LambdaContext:
    """The context object of one invocation.

    :param function_name: the function's name; the ARN, log group and request id follow.
    :param timeout_s: the function's timeout in seconds (Lambda allows 1..900).
    :param memory_mb: ``memory_limit_in_mb``.
    :param remaining_ms: a fixed ``get_remaining_time_in_millis()``.
    :param remaining: called for each ``get_remaining_time_in_millis()``.
    :param deadline: the ``time.monotonic()`` instant the invocation times out.
    """

    def __init__(
        self,
        function_name: str = "test-function",
        timeout_s: float = 120.0,
        memory_mb: int = 128,
        *,
        region: str = DEFAULT_REGION,
        account_id: str = DEFAULT_ACCOUNT,
        function_version: str = "$LATEST",
        invoked_function_arn: str | None = None,
        memory_limit_in_mb: int | None = None,
        aws_request_id: str | None = None,
        log_group_name: str | None = None,
        log_stream_name: str = "2026/01/01/[$LATEST]00000000000000000000000000000000",
        deadline: float | None = None,
        remaining_ms: int | None = None,
        remaining: Callable[[], int] | None = None,
        identity: Any = None,
        client_context: Any = None,
        tenant_id: Any = None,
    ) -> None:
        self.function_name = function_name
        self.function_version = function_version
        self.invoked_function_arn = invoked_function_arn or (
            f"arn:aws:lambda:{region}:{account_id}:function:{function_name}"
        )
        self.memory_limit_in_mb = (
            memory_limit_in_mb if memory_limit_in_mb is not None else memory_mb
        )
        self.aws_request_id = aws_request_id or str(uuid.uuid4())
        self.log_group_name = log_group_name or f"/aws/lambda/{function_name}"
        self.log_stream_name = log_stream_name
        self.deadline = deadline if deadline is not None else time.monotonic() + timeout_s
        self.identity = identity
        self.client_context = client_context
        self.tenant_id = tenant_id
        self._remaining_ms = remaining_ms
        self._remaining = remaining

    def get_remaining_time_in_millis(self) -> int:
        """Milliseconds until the invocation times out (never negative)."""
        if self._remaining is not None:
            return self._remaining()
        if self._remaining_ms is not None:
            return self._remaining_ms
        return max(0, int((self.deadline - time.monotonic()) * 1000))
