"""How the benchmark intercepts AWS calls: a per-call latency model, a call counter and an
in-process fake AWS, all as botocore ``before-send`` hooks.

The hook is appended to ``botocore.handlers.BUILTIN_HANDLERS`` (as moto does), so every botocore
client created afterwards carries it — including clients that a handler builds from assumed-role
credentials in a new session. It runs after the request has been serialised and signed, i.e.
exactly where the HTTP request would leave the process, so the measured CPU cost includes all of
botocore's real work (parameter validation, serialisation, signing, response parsing).

Three things happen there, each switched on by :class:`Emulation`:

* counting: every request is counted by ``(service, operation)``; these are HTTP requests, so an
  SDK-level retry would count twice;
* latency: the hook sleeps ``latency_ms`` before the response is produced. ``time.sleep`` releases
  the GIL, so concurrent calls overlap as real network waits do;
* the fake: when ``fake=True`` the hook answers with a minimal, well-formed success response for
  the operations the handlers use. The fake costs a few microseconds, so throughput figures are
  not distorted by an emulator's own CPU time. When ``fake=False`` the request goes on to the
  next hook — moto's, when a ``mock_aws`` context is active — for correctness runs.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.handlers import BUILTIN_HANDLERS

Operation = tuple[str, str]


class _Body:
    """The ``raw`` object AWSResponse reads its content from."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body


@dataclass
class CallCounter:
    """Thread-safe count of HTTP requests by (service id, operation name)."""

    counts: Counter[Operation] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, op: Operation) -> None:
        with self._lock:
            self.counts[op] += 1

    def snapshot(self) -> dict[str, int]:
        """Counts keyed ``"service:Operation"``, e.g. ``"dynamodb:BatchWriteItem"``."""
        with self._lock:
            return {f"{s}:{o}": n for (s, o), n in sorted(self.counts.items())}

    def reset(self) -> None:
        with self._lock:
            self.counts.clear()

    def total(self) -> int:
        with self._lock:
            return sum(self.counts.values())


def _json(payload: dict[str, Any], content_type: str) -> tuple[int, dict[str, str], bytes]:
    return (
        200,
        {"x-amzn-RequestId": str(uuid.uuid4()), "Content-Type": content_type},
        json.dumps(payload).encode(),
    )


_ASSUME_ROLE_XML = """<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <Credentials>
      <AccessKeyId>ASIAFAKEBENCHKEY0001</AccessKeyId>
      <SecretAccessKey>fake-secret-access-key-for-the-benchmark</SecretAccessKey>
      <SessionToken>fake-session-token-for-the-benchmark</SessionToken>
      <Expiration>{expiration}</Expiration>
    </Credentials>
    <AssumedRoleUser>
      <AssumedRoleId>AROAFAKEBENCHROLE0001:bench</AssumedRoleId>
      <Arn>arn:aws:sts::999999999999:assumed-role/DynamoDB-ProdAnalyticsWrite-role/bench</Arn>
    </AssumedRoleUser>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>{request_id}</RequestId></ResponseMetadata>
</AssumeRoleResponse>"""


def _request_json(request: AWSPreparedRequest) -> dict[str, Any]:
    body = request.body
    if isinstance(body, bytes | bytearray):
        body = body.decode()
    return json.loads(body or "{}")


def fake_response(service: str, operation: str, request: AWSPreparedRequest) -> AWSResponse:
    """A success response for the operations the replicator and archiver (ours and the
    baseline) make. Anything else is an error naming the operation, so a new call in a handler
    can't go unnoticed."""
    ddb = "application/x-amz-json-1.0"
    if service == "dynamodb" and operation == "BatchWriteItem":
        status, headers, body = _json({"UnprocessedItems": {}}, ddb)
    elif service == "dynamodb" and operation == "PutItem":
        status, headers, body = _json({}, ddb)
    elif service == "firehose" and operation == "PutRecordBatch":
        n = len(_request_json(request).get("Records", []))
        responses = [{"RecordId": f"fake-{i}"} for i in range(n)]
        status, headers, body = _json(
            {"FailedPutCount": 0, "Encrypted": False, "RequestResponses": responses},
            "application/x-amz-json-1.1",
        )
    elif service == "firehose" and operation == "PutRecord":
        status, headers, body = _json(
            {"RecordId": "fake", "Encrypted": False}, "application/x-amz-json-1.1"
        )
    elif service == "sqs" and operation == "SendMessage":
        status, headers, body = _json(
            {"MessageId": str(uuid.uuid4()), "MD5OfMessageBody": "0" * 32}, ddb
        )
    elif service == "sqs" and operation == "SendMessageBatch":
        entries = _request_json(request).get("Entries", [])
        ok = [
            {"Id": e["Id"], "MessageId": str(uuid.uuid4()), "MD5OfMessageBody": "0" * 32}
            for e in entries
        ]
        status, headers, body = _json({"Successful": ok, "Failed": []}, ddb)
    elif service == "sts" and operation == "AssumeRole":
        expiration = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        xml = _ASSUME_ROLE_XML.format(expiration=expiration, request_id=uuid.uuid4())
        status, headers, body = 200, {"Content-Type": "text/xml"}, xml.encode()
    else:
        raise NotImplementedError(
            f"bench.emulation: the in-process fake has no response for {service}:{operation}; "
            "add one to bench/emulation.py:fake_response or run this path under moto"
        )
    return AWSResponse(request.url, status, headers, _Body(body))


@dataclass
class _State:
    counter: CallCounter | None = None
    latency_ms: float = 0.0
    fake: bool = False
    sleep: Callable[[float], None] = time.sleep


_STATE = _State()


def _before_send(request: AWSPreparedRequest, event_name: str, **kwargs: Any) -> AWSResponse | None:
    # event_name is "before-send.<service id>.<Operation>"
    _, service, operation = event_name.split(".", 2)
    state = _STATE
    if state.counter is not None:
        state.counter.add((service, operation))
    if state.latency_ms:
        state.sleep(state.latency_ms / 1000.0)
    if state.fake:
        return fake_response(service, operation, request)
    return None


def install() -> None:
    """Add the hook to every botocore client created from now on (idempotent)."""
    if ("before-send", _before_send) not in BUILTIN_HANDLERS:
        BUILTIN_HANDLERS.append(("before-send", _before_send))


@contextmanager
def emulation(
    *,
    latency_ms: float = 0.0,
    fake: bool = False,
    counter: CallCounter | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> Iterator[CallCounter]:
    """Within the block, every AWS request from clients created after :func:`install` is
    counted, delayed by ``latency_ms`` (through ``sleep``, which tests may replace) and (with
    ``fake``) answered in-process.

    Yields the counter (a new one unless given)."""
    install()
    counter = counter if counter is not None else CallCounter()
    saved = _State(_STATE.counter, _STATE.latency_ms, _STATE.fake, _STATE.sleep)
    _STATE.counter, _STATE.latency_ms, _STATE.fake, _STATE.sleep = (
        counter,
        latency_ms,
        fake,
        sleep,
    )
    try:
        yield counter
    finally:
        _STATE.counter, _STATE.latency_ms, _STATE.fake, _STATE.sleep = (
            saved.counter,
            saved.latency_ms,
            saved.fake,
            saved.sleep,
        )


install()
