"""An example transform (``transformModule: examples/transform_day.py`` in a stack file).

The replicator calls ``transform(record, meta)`` once per decoded record, before redaction and
before the key attributes are added (docs/handlers.md, "Transform hook"). This one:

* filters out heartbeat events (returns ``None``: counted as ``filtered``, not written);
* derives ``day`` (``YYYY-MM-DD``, UTC) from the record's ``timestamp`` (ISO 8601 text, or
  epoch nanoseconds as the sandbox's clickstream sends) or, without one, from the Kinesis
  arrival time, so that analysts can partition and query by day.

A transform must be deterministic (a retry must produce the same items) and use the standard
library only (the file alone is bundled into the function's code).
"""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any


def transform(record: dict[str, Any], meta: Any) -> dict[str, Any] | None:
    if record.get("eventType") == "heartbeat":
        return None
    timestamp = record.get("timestamp")
    if isinstance(timestamp, str) and len(timestamp) >= 10:
        record["day"] = timestamp[:10]
    elif isinstance(timestamp, int | Decimal) and not isinstance(timestamp, bool):
        seconds = int(timestamp) // 1_000_000_000
        record["day"] = datetime.datetime.fromtimestamp(seconds, tz=datetime.UTC).date().isoformat()
    elif meta is not None and meta.arrival_time is not None:
        arrived = datetime.datetime.fromtimestamp(meta.arrival_time, tz=datetime.UTC)
        record["day"] = arrived.strftime("%Y-%m-%d")
    return record
