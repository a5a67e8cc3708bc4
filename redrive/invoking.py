"""How the redrive runs the function: the deployed function itself, synchronously.

:class:`LambdaInvoker` calls ``lambda:InvokeFunction`` (``RequestResponse``), so the records run
through exactly the code, environment variables, role, layers and timeout the event source
mapping uses. The sandbox passes its own :class:`Invoker` that runs the function's asset
in-process the same way (moto runs no Lambda code).
"""

from __future__ import annotations

import json
from typing import Any, Protocol

#: A synchronous invocation's request payload is limited to 6 MB
#: (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html); events are cut
#: below it.
MAX_REQUEST_BYTES = 6 * 1024 * 1024 - 64 * 1024


class FunctionFailed(Exception):
    """The invocation failed (an unhandled error or a timeout of the function)."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(f"{error_type}: {message}")
        self.error_type = error_type


class Invoker(Protocol):
    def invoke(self, function_arn: str, event: dict[str, Any]) -> Any:
        """Run the function on ``event``; its response, or :class:`FunctionFailed`."""
        ...


class LambdaInvoker:
    """``lambda:InvokeFunction`` through a boto3/botocore Lambda client. The client's read
    timeout must exceed the function's timeout (the CLI sets 905 s: Lambda's maximum is 900 s)."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def invoke(self, function_arn: str, event: dict[str, Any]) -> Any:
        response = self._client.invoke(
            FunctionName=function_arn,
            InvocationType="RequestResponse",
            Payload=json.dumps(event).encode("utf-8"),
        )
        payload = response["Payload"].read()
        if response.get("FunctionError"):
            raise FunctionFailed(
                str(response["FunctionError"]), payload.decode("utf-8", "replace")[:500]
            )
        return json.loads(payload) if payload else None
