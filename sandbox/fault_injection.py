"""Fault injection through botocore event hooks, seen by every client in the process.

While a :class:`Faults` is active, its hooks are in botocore's ``BUILTIN_HANDLERS``, so the
handlers' own clients, created inside the function code, get them too:

* ``throttle_writes``: each item of a DynamoDB ``BatchWriteItem`` is, with that probability,
  not written and returned in ``UnprocessedItems`` — what DynamoDB does when a partition is
  throttled.
* ``fail_firehose``: each record of a Firehose ``PutRecordBatch`` is, with that probability, not
  delivered and marked with ``ErrorCode: ServiceUnavailableException`` (``FailedPutCount`` > 0).

The items and records are really withheld from the emulator, so a handler that ignores the
response loses them and the end-to-end checks fail.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from typing import Any

import botocore.awsrequest
import botocore.handlers


@dataclass
class Faults:
    throttle_writes: float = 0.0
    fail_firehose: float = 0.0
    seed: int = 0
    throttled_items: int = 0
    failed_firehose_records: int = 0
    _rng: random.Random = field(default_factory=random.Random)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        for name in ("throttle_writes", "fail_firehose"):
            rate = getattr(self, name)
            if not 0.0 <= rate < 1.0:
                raise ValueError(f"--{name.replace('_', '-')} must be in [0, 1), got {rate}")
        self._rng.seed(self.seed)

    def _hit(self, rate: float) -> bool:
        with self._lock:
            return rate > 0 and self._rng.random() < rate

    def __enter__(self) -> Faults:
        global _ACTIVE
        botocore.handlers.BUILTIN_HANDLERS.extend(_HOOKS)
        _ACTIVE = self
        return self

    def __exit__(self, *exc: object) -> None:
        global _ACTIVE
        _ACTIVE = None
        for hook in _HOOKS:
            botocore.handlers.BUILTIN_HANDLERS.remove(hook)


_ACTIVE: Faults | None = None


def _before_batch_write(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    faults = _ACTIVE
    if faults is None or not faults.throttle_writes:
        return
    kept: dict[str, list[Any]] = {}
    withheld: dict[str, list[Any]] = {}
    for table, requests in (params.get("RequestItems") or {}).items():
        for request in requests:
            target = withheld if faults._hit(faults.throttle_writes) else kept
            target.setdefault(table, []).append(request)
    if not withheld:
        return
    count = sum(len(v) for v in withheld.values())
    with faults._lock:
        faults.throttled_items += count
    if not kept:
        # Nothing left to send: answer for DynamoDB without a call.
        context["sandbox_all_throttled"] = True
    # Replace (never mutate) the caller's structures: the handler may still hold them.
    params["RequestItems"] = kept or params["RequestItems"]
    context["sandbox_withheld"] = withheld


def _before_call_batch_write(context: dict[str, Any], **_: Any) -> Any:
    if context.get("sandbox_all_throttled"):
        http = botocore.awsrequest.AWSResponse("https://sandbox", 200, {}, None)
        return http, {"UnprocessedItems": context["sandbox_withheld"], "ResponseMetadata": {}}
    return None


def _after_batch_write(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    withheld = context.get("sandbox_withheld")
    if not withheld or context.get("sandbox_all_throttled"):
        return
    unprocessed = parsed.setdefault("UnprocessedItems", {})
    for table, requests in withheld.items():
        unprocessed.setdefault(table, []).extend(requests)


def _before_put_record_batch(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    faults = _ACTIVE
    if faults is None or not faults.fail_firehose:
        return
    records = list(params.get("Records") or [])
    failed = [i for i in range(len(records)) if faults._hit(faults.fail_firehose)]
    if not failed:
        return
    if len(failed) == len(records):
        failed = failed[1:]  # keep one so the call is valid; the others fail
    with faults._lock:
        faults.failed_firehose_records += len(failed)
    failed_set = set(failed)
    params["Records"] = [r for i, r in enumerate(records) if i not in failed_set]
    context["sandbox_failed_indexes"] = (len(records), failed)


def _after_put_record_batch(parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
    info = context.get("sandbox_failed_indexes")
    if not info or "RequestResponses" not in parsed:
        return
    total, failed = info
    delivered = iter(parsed["RequestResponses"])
    failed_set = set(failed)
    responses = []
    for index in range(total):
        if index in failed_set:
            responses.append(
                {
                    "ErrorCode": "ServiceUnavailableException",
                    "ErrorMessage": "Slow down. (sandbox --fail-firehose)",
                }
            )
        else:
            responses.append(next(delivered))
    parsed["RequestResponses"] = responses
    parsed["FailedPutCount"] = int(parsed.get("FailedPutCount") or 0) + len(failed)


#: Registered in botocore's BUILTIN_HANDLERS while a Faults is active, so every session created
#: meanwhile (the handlers' own included) carries them.
_HOOKS = [
    ("before-parameter-build.dynamodb.BatchWriteItem", _before_batch_write),
    ("before-call.dynamodb.BatchWriteItem", _before_call_batch_write),
    ("after-call.dynamodb.BatchWriteItem", _after_batch_write),
    ("before-parameter-build.firehose.PutRecordBatch", _before_put_record_batch),
    ("after-call.firehose.PutRecordBatch", _after_put_record_batch),
]
