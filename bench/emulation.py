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
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.handlers import BUILTIN_HANDLERS
from stream_replica.handlers.records import HASH_KEY, RANGE_KEY

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


#: The request id every fake response carries (a constant: generating one per call would be the
#: fake's own work, not the handler's).
FAKE_REQUEST_ID = "00000000-0000-4000-8000-000000000000"
_DDB = "application/x-amz-json-1.0"
_FIREHOSE = "application/x-amz-json-1.1"
_SSM = "application/x-amz-json-1.1"
#: The pseudonymisation key the fake SSM holds (any parameter name; 32 bytes, the shortest the
#: replicator accepts).
FAKE_PSEUDONYMIZATION_KEY = "bench-pseudonymization-key-0123456789"


def _canned(payload: dict[str, Any], content_type: str) -> tuple[int, dict[str, str], bytes]:
    return (
        200,
        {"x-amzn-RequestId": FAKE_REQUEST_ID, "Content-Type": content_type},
        json.dumps(payload, separators=(",", ":")).encode(),
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

#: Responses that do not depend on the request, built once.
_STATIC: dict[Operation, tuple[int, dict[str, str], bytes]] = {
    ("dynamodb", "BatchWriteItem"): _canned({"UnprocessedItems": {}}, _DDB),
    ("dynamodb", "PutItem"): _canned({}, _DDB),
    # The replicator reads the replica table's key schema once per client before writing.
    ("dynamodb", "DescribeTable"): _canned(
        {
            "Table": {
                "TableName": "replica",
                "KeySchema": [
                    {"AttributeName": HASH_KEY, "KeyType": "HASH"},
                    {"AttributeName": RANGE_KEY, "KeyType": "RANGE"},
                ],
                "AttributeDefinitions": [
                    {"AttributeName": HASH_KEY, "AttributeType": "S"},
                    {"AttributeName": RANGE_KEY, "AttributeType": "S"},
                ],
            }
        },
        _DDB,
    ),
    ("firehose", "PutRecord"): _canned({"RecordId": "fake", "Encrypted": False}, _FIREHOSE),
    ("ssm", "GetParameter"): _canned(
        {
            "Parameter": {
                "Name": "/bench/key",
                "Type": "SecureString",
                "Value": FAKE_PSEUDONYMIZATION_KEY,
            }
        },
        _SSM,
    ),
    ("sqs", "SendMessage"): _canned(
        {"MessageId": FAKE_REQUEST_ID, "MD5OfMessageBody": "0" * 32}, _DDB
    ),
}
#: PutRecordBatch answers, one per record count (at most 500 per call), built on first use.
_PUT_RECORD_BATCH: dict[int, tuple[int, dict[str, str], bytes]] = {}


def _body_bytes(request: AWSPreparedRequest) -> bytes:
    body = request.body
    if isinstance(body, str):
        return body.encode()
    return body if isinstance(body, bytes) else bytes(body or b"")


def _put_record_batch(request: AWSPreparedRequest) -> tuple[int, dict[str, str], bytes]:
    """One success entry per record sent. The records are counted in the body's text without
    parsing it: every record is ``{"Data": "<base64>"}`` and base64 has no quotes."""
    n = _body_bytes(request).count(b'"Data"')
    canned = _PUT_RECORD_BATCH.get(n)
    if canned is None:
        responses = [{"RecordId": f"fake-{i}"} for i in range(n)]
        canned = _PUT_RECORD_BATCH[n] = _canned(
            {"FailedPutCount": 0, "Encrypted": False, "RequestResponses": responses}, _FIREHOSE
        )
    return canned


def _send_message_batch(request: AWSPreparedRequest) -> tuple[int, dict[str, str], bytes]:
    """Dead letters only (never in a timed run): the entry ids must be echoed, so parse."""
    entries = json.loads(_body_bytes(request) or b"{}").get("Entries", [])
    ok = [
        {"Id": e["Id"], "MessageId": FAKE_REQUEST_ID, "MD5OfMessageBody": "0" * 32} for e in entries
    ]
    return _canned({"Successful": ok, "Failed": []}, _DDB)


def _assume_role(request: AWSPreparedRequest) -> tuple[int, dict[str, str], bytes]:
    expiration = (datetime.now(UTC) + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    xml = _ASSUME_ROLE_XML.format(expiration=expiration, request_id=FAKE_REQUEST_ID)
    return 200, {"Content-Type": "text/xml"}, xml.encode()


_DYNAMIC: dict[Operation, Callable[[AWSPreparedRequest], tuple[int, dict[str, str], bytes]]] = {
    ("firehose", "PutRecordBatch"): _put_record_batch,
    ("sqs", "SendMessageBatch"): _send_message_batch,
    ("sts", "AssumeRole"): _assume_role,
}


def fake_response(service: str, operation: str, request: AWSPreparedRequest) -> AWSResponse:
    """A success response for the operations the replicator and archiver (ours, the peer and the
    baseline) make. Anything else is an error naming the operation, so a new call in a handler
    can't go unnoticed.

    The fake is kept near-free so that the CPU per record a run reports is the handler's (and
    botocore's) own: the bodies are canned (built once per operation, and per record count for
    PutRecordBatch), no request body is parsed on the paths a timed run takes, and the request id
    is a constant. What is left (a dict lookup, a byte count and botocore's ``AWSResponse``) is
    measured by :func:`fake_cost_us` and reported with the results."""
    op = (service, operation)
    canned = _STATIC.get(op)
    if canned is None:
        build = _DYNAMIC.get(op)
        if build is None:
            raise NotImplementedError(
                f"bench.emulation: the in-process fake has no response for {service}:{operation}; "
                "add one to bench/emulation.py:fake_response or run this path under moto"
            )
        canned = build(request)
    status, headers, body = canned
    return AWSResponse(request.url, status, dict(headers), _Body(body))


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


def fake_cost_us(service: str, operation: str, body: bytes, repeats: int = 2000) -> float:
    """CPU microseconds one request costs inside the hook with the fake on (counting, the
    canned answer, botocore's ``AWSResponse``), for a request carrying ``body``: the best of 7
    passes of ``repeats`` calls. What a timed run's CPU per record includes of the fake is this
    divided by the records per request (25 per BatchWriteItem, up to 500 per PutRecordBatch)."""
    request = AWSPreparedRequest("POST", "https://fake.invalid/", {}, body, False)
    event = f"before-send.{service}.{operation}"
    best = float("inf")
    with emulation(fake=True):
        for _ in range(7):
            start = time.process_time()
            for _ in range(repeats):
                _before_send(request, event)
            best = min(best, time.process_time() - start)
    return best / repeats * 1e6
