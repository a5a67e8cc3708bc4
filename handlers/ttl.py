"""The hot window: DynamoDB Time to Live on the replica and query tables.

* :func:`expiry_attribute` — the expiry the replicator adds to an item: the Kinesis record's
  ``approximateArrivalTimestamp`` plus N days, in epoch seconds (what DynamoDB TTL reads). The
  arrival time, not the processing time, so a replay of old records writes items that are
  already expired and DynamoDB deletes them again, instead of keeping them for another N days.
* :func:`is_ttl_expiry` — whether a DynamoDB stream record is a TTL deletion: a ``REMOVE`` whose
  ``userIdentity`` is ``{"type": "Service", "principalId": "dynamodb.amazonaws.com"}``
  (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/time-to-live-ttl-streams.html).
  The archiver never archives these as removals and the query writer never deletes for them.

No AWS calls, no environment.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Any

from .exceptions import PoisonRecordError

#: Seconds in a day (TTL days are whole days).
DAY_SECONDS = 86_400
#: The principal DynamoDB names on the stream records of items its TTL process deleted.
TTL_PRINCIPAL = "dynamodb.amazonaws.com"


def expiry_epoch(arrival_seconds: Any, days: int) -> int:
    """Epoch seconds ``days`` after ``arrival_seconds`` (a Kinesis ``approximateArrivalTimestamp``:
    epoch seconds, possibly fractional). Raises :class:`PoisonRecordError` when the arrival time is
    missing or not a number (Kinesis always sets it: a record without it is not a Kinesis
    record)."""
    if isinstance(arrival_seconds, bool) or arrival_seconds is None:
        raise PoisonRecordError("record has no approximateArrivalTimestamp for its TTL expiry")
    if isinstance(arrival_seconds, (int, float)):  # what Lambda's JSON event carries
        if not math.isfinite(arrival_seconds) or arrival_seconds < 0:
            raise PoisonRecordError(
                f"approximateArrivalTimestamp {arrival_seconds!r} is not a time"
            )
        return int(arrival_seconds) + days * DAY_SECONDS
    try:
        arrival = Decimal(str(arrival_seconds))
    except InvalidOperation:
        raise PoisonRecordError(
            f"approximateArrivalTimestamp {arrival_seconds!r} is not a number"
        ) from None
    if not arrival.is_finite() or arrival < 0:
        raise PoisonRecordError(f"approximateArrivalTimestamp {arrival_seconds!r} is not a time")
    return int(arrival) + days * DAY_SECONDS


def expiry_attribute(kinesis: dict[str, Any], attribute: str, days: int) -> dict[str, int]:
    """``{attribute: expiry}`` for a Kinesis record's ``kinesis`` part (see :func:`expiry_epoch`),
    as a payload-style value (an ``int``, a DynamoDB number) for the replicator's item
    building."""
    return {attribute: expiry_epoch(kinesis.get("approximateArrivalTimestamp"), days)}


def is_ttl_expiry(record: dict[str, Any]) -> bool:
    """True for a DynamoDB stream REMOVE made by DynamoDB's TTL process."""
    if record.get("eventName") != "REMOVE":
        return False
    identity = record.get("userIdentity") or {}
    return identity.get("type") == "Service" and identity.get("principalId") == TTL_PRINCIPAL
