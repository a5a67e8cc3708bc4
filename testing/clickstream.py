"""A realistic web-analytics clickstream, and the poison records a real stream also carries.

Records are generated lazily from a seed (a run of 100,000 never holds them all) and written to
Kinesis with ``PutRecords`` in chunks of up to 500, partitioned by user id as a tracker would.
"""

from __future__ import annotations

import json
import random
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

EVENT_TYPES = ("page_view", "click", "scroll", "add_to_cart", "search", "purchase", "video_play")
PATHS = ("/", "/products", "/products/{id}", "/cart", "/checkout", "/search", "/blog/{id}")
BROWSERS = ("Chrome", "Firefox", "Safari", "Edge")
COUNTRIES = ("GB", "DE", "FR", "NL", "IE", "ES", "US")


def clickstream_event(rng: random.Random, index: int) -> dict[str, Any]:
    """One event: user id/e-mail, nanosecond timestamp, type, URL, nested context, floats."""
    user = rng.randrange(1, 5_000)
    path = rng.choice(PATHS).replace("{id}", str(rng.randrange(1, 10_000)))
    event_type = rng.choice(EVENT_TYPES)
    event: dict[str, Any] = {
        "eventId": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "userId": f"u-{user:06d}",
        "userEmail": f"user{user}@example.com",
        "timestamp": time.time_ns() + index,
        "eventType": event_type,
        "url": f"https://shop.example.com{path}?utm_source={rng.choice(('ads', 'mail', 'seo'))}",
        "referrer": rng.choice(("", None, "https://www.google.com/", "https://news.example.org/")),
        "context": {
            "session": {"id": f"s-{rng.getrandbits(48):012x}", "pageIndex": rng.randrange(1, 40)},
            "device": {
                "browser": rng.choice(BROWSERS),
                "viewport": [rng.choice((360, 768, 1280, 1920)), rng.choice((640, 900, 1080))],
                "touch": rng.random() < 0.4,
            },
            "geo": {
                "country": rng.choice(COUNTRIES),
                "lat": round(rng.uniform(-60, 70), 6),
                "lon": round(rng.uniform(-120, 150), 6),
            },
            "consent": rng.choice((True, False, None)),
        },
        "timeOnPageS": round(rng.expovariate(1 / 30), 3),
        "scrollDepth": round(rng.random(), 4),
    }
    if event_type == "purchase":
        event["order"] = {
            "total": round(rng.uniform(5, 500), 2),
            "currency": "EUR",
            "items": [
                {"sku": f"SKU-{rng.randrange(1, 999):03d}", "qty": rng.randrange(1, 4)}
                for _ in range(rng.randrange(1, 4))
            ],
        }
    return event


#: Poison records, one of each kind the data contract names (Kinesis data is bytes, so "not
#: base64" cannot occur on a real stream; the other kinds can). Each is (kind, data).
def poison_records() -> list[tuple[str, bytes]]:
    return [
        ("invalid-json", b'{"eventId": "broken", "eventType": "click", '),
        ("json-array", json.dumps([{"eventType": "click"}, {"eventType": "scroll"}]).encode()),
        ("json-scalar", b'"just a string"'),
        # A single item may not exceed 400 KB in DynamoDB; Kinesis takes up to 1 MiB.
        (
            "item-over-400kb",
            json.dumps({"eventId": "huge", "blob": "x" * 420_000}).encode(),
        ),
        # DynamoDB rejects an empty set and numbers beyond 38 digits of precision.
        (
            "number-dynamodb-rejects",
            b'{"eventId": "too-precise", "value": 1.00000000000000000000000000000000000000001}',
        ),
    ]


@dataclass
class Produced:
    """What one :func:`produce` call wrote."""

    records: int = 0
    poison: int = 0
    put_calls: int = 0
    retried_entries: int = 0


def _chunks(
    rng: random.Random, start: int, count: int, size: int
) -> Iterator[list[tuple[str, bytes, dict[str, Any]]]]:
    chunk: list[tuple[str, bytes, dict[str, Any]]] = []
    for index in range(start, start + count):
        event = clickstream_event(rng, index)
        chunk.append((event["userId"], json.dumps(event).encode(), event))
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def put_records(kinesis: Any, stream_arn: str, entries: list[tuple[str, bytes]]) -> Produced:
    """PutRecords with the retry of failed entries that every Kinesis producer needs."""
    produced = Produced()
    pending = [{"Data": data, "PartitionKey": key} for key, data in entries]
    delay = 0.05
    while pending:
        produced.put_calls += 1
        response = kinesis.put_records(StreamARN=stream_arn, Records=pending)
        if not response.get("FailedRecordCount"):
            break
        pending = [
            entry
            for entry, result in zip(pending, response["Records"], strict=True)
            if result.get("ErrorCode")
        ]
        produced.retried_entries += len(pending)
        time.sleep(delay)
        delay = min(delay * 2, 1.0)
    return produced


def generate(
    rng: random.Random, start: int, count: int, size: int = 500
) -> Iterator[list[tuple[str, bytes, dict[str, Any]]]]:
    """Chunks of up to ``size`` (partition key, data, event) for events ``start`` ..
    ``start + count - 1`` (``PutRecords`` takes at most 500 records)."""
    if not 1 <= size <= 500:
        raise ValueError(f"chunk size {size} is not in 1..500 (PutRecords' limit)")
    yield from _chunks(rng, start, count, size)


def aggregate_some(
    entries: list[tuple[str, bytes]], fraction: float, rng: random.Random
) -> list[tuple[str, bytes]]:
    """Pack about ``fraction`` of ``entries`` into KPL-aggregated records of 2 to 5 user records
    each (built with ``aws-kinesis-agg``, AWS's library for the KPL format), as a producer using
    the Kinesis Producer Library would; the rest stay one record each. Order is kept."""
    if fraction <= 0:
        return entries
    from aws_kinesis_agg.aggregator import RecordAggregator

    out: list[tuple[str, bytes]] = []
    index = 0
    while index < len(entries):
        if rng.random() < fraction / 3.5:  # a run of 2..5 (3.5 on average) becomes one record
            run = entries[index : index + rng.randrange(2, 6)]
            aggregator = RecordAggregator()
            for key, data in run:
                aggregator.add_user_record(key, data)
            partition_key, _, data = aggregator.clear_and_get().get_contents()
            out.append((partition_key, bytes(data)))
            index += len(run)
        else:
            out.append(entries[index])
            index += 1
    return out
