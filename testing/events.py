"""Lambda events for the handlers: a deterministic web-analytics clickstream and the Lambda
events that carry it (the benchmark's input, and the handler tests').

The events follow AWS's documented formats for Kinesis and DynamoDB Streams event source
mappings (https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html and
.../with-ddb.html): 56-digit Kinesis sequence numbers, ``eventID`` = ``shardId:sequenceNumber``,
base64 ``data``; DynamoDB stream records with ``Keys``/``NewImage`` in DynamoDB JSON, a
``SequenceNumber``, ``SizeBytes`` and the table's stream ARN.
"""

from __future__ import annotations

import base64
import json
import random
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeSerializer

from .contexts import LambdaContext as LambdaContext  # the bench imports it from here

REGION = "eu-west-1"
PROD_ACCOUNT = "111111111111"
POC_ACCOUNT = "999999999999"
STREAM_NAME = "web-analytics"
STREAM_ARN = f"arn:aws:kinesis:{REGION}:{PROD_ACCOUNT}:stream/{STREAM_NAME}"
TABLE_NAME = "prod-raven-lambda-webanalytics-crossaccount"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{POC_ACCOUNT}:table/{TABLE_NAME}"
TABLE_STREAM_ARN = f"{TABLE_ARN}/stream/2026-11-27T00:00:00.000"
WRITER_ROLE_ARN = f"arn:aws:iam::{POC_ACCOUNT}:role/DynamoDB-ProdAnalyticsWrite-role"
REPLICATOR_ROLE_ARN = f"arn:aws:iam::{PROD_ACCOUNT}:role/ProdKinesisToPocDynamo-role"
SHARD_ID = "shardId-000000000000"
# A real Kinesis sequence number is 56 digits; the bench counts up from this one.
_SEQ_BASE = 49590338271490256608559692538361571095921575989136588898

_EVENT_TYPES = ("page_view", "click", "add_to_cart", "search", "checkout", "donate", "share")
_PAGES = ("/", "/search", "/fundraising/", "/charity/", "/checkout", "/account", "/blog/")
_BROWSERS = ("Chrome", "Firefox", "Safari", "Edge")
_OSES = ("Windows 11", "macOS 15", "iOS 18", "Android 15", "Ubuntu 24.04")


def clickstream(n: int, seed: int = 7) -> list[dict[str, Any]]:
    """``n`` clickstream events as the producers send them (plain JSON values).

    Each has a user id and e-mail, a nanosecond timestamp, an event type, URL and referrer,
    nested page/device/geo context with floats, a list of tags, a boolean, and some top-level
    attributes that are null or "" (the replicator drops those). About 700-900 bytes as JSON.
    """
    rng = random.Random(seed)
    start_ns = 1_795_000_000_000_000_000
    out: list[dict[str, Any]] = []
    for i in range(n):
        user = rng.randrange(1, 50_000)
        page = rng.choice(_PAGES)
        slug = f"{page}{rng.randrange(10_000)}" if page.endswith("/") and page != "/" else page
        out.append(
            {
                "eventId": f"{rng.getrandbits(128):032x}",
                "eventType": rng.choice(_EVENT_TYPES),
                "timestampNs": start_ns + i * 1_000_003 + rng.randrange(1_000_000),
                "userId": f"u-{user:06d}",
                "email": f"user{user}@example.com",
                "sessionId": f"s-{rng.getrandbits(64):016x}",
                "url": f"https://www.example.com{slug}?utm_source=mail&utm_campaign=c{i % 17}",
                "referrer": rng.choice(["https://www.google.com/", "", None, "https://t.co/x"]),
                "campaign": None if i % 3 else f"spring-{i % 5}",
                "amount": round(rng.uniform(1, 500), 2) if i % 4 == 0 else None,
                "loggedIn": rng.random() < 0.6,
                "tags": rng.sample(["mobile", "returning", "ab-test-b", "gift-aid", "uk", "eu"], 3),
                "context": {
                    "page": {
                        "path": slug,
                        "title": f"Page {slug} | Example",
                        "scrollDepth": round(rng.random(), 3),
                        "loadTimeMs": rng.randrange(80, 4000),
                    },
                    "device": {
                        "browser": rng.choice(_BROWSERS),
                        "os": rng.choice(_OSES),
                        "screen": {"w": rng.choice([390, 1920]), "h": rng.choice([844, 1080])},
                        "userAgent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 "
                        "(KHTML, like Gecko) Chrome/131.0 Safari/537.36",
                    },
                    "geo": {
                        "country": rng.choice(["GB", "IE", "US", "DE", "FR"]),
                        "lat": round(rng.uniform(-90, 90), 6),
                        "lon": round(rng.uniform(-180, 180), 6),
                    },
                    "experiment": None,
                },
            }
        )
    return out


_SKUS = tuple(f"SKU-{i:05d}" for i in range(40))
_COLOURS = ("red", "blue", "green", "black", "white")


def nested(n: int, seed: int = 13) -> list[dict[str, Any]]:
    """``n`` nested-heavy events (a basket with its line items): about three times the values of
    a clickstream event, most of them inside lists of maps two to four levels deep; 2-3 KB as
    JSON. Same value types as :func:`clickstream` (strings, integers, decimals, booleans, nulls)."""
    rng = random.Random(seed)
    out: list[dict[str, Any]] = []
    for i in range(n):
        lines = []
        for _ in range(rng.randrange(4, 9)):
            lines.append(
                {
                    "sku": rng.choice(_SKUS),
                    "qty": rng.randrange(1, 5),
                    "unitPrice": round(rng.uniform(1, 200), 2),
                    "attributes": {
                        "colour": rng.choice(_COLOURS),
                        "size": rng.choice(["S", "M", "L", "XL"]),
                        "giftWrap": rng.random() < 0.2,
                        "tags": rng.sample(["sale", "new", "eco", "bundle", "clearance"], 2),
                    },
                    "discounts": [
                        {"code": f"D{rng.randrange(100)}", "amount": round(rng.uniform(0, 5), 2)}
                        for _ in range(rng.randrange(0, 3))
                    ],
                    "note": None,
                }
            )
        out.append(
            {
                "eventId": f"{rng.getrandbits(128):032x}",
                "eventType": "basket_updated",
                "timestampNs": 1_795_000_000_000_000_000 + i * 1_000_003,
                "userId": f"u-{rng.randrange(1, 50_000):06d}",
                "basket": {
                    "id": f"b-{rng.getrandbits(48):012x}",
                    "currency": "GBP",
                    "lines": lines,
                    "totals": {
                        "items": len(lines),
                        "gross": round(rng.uniform(10, 900), 2),
                        "tax": round(rng.uniform(1, 90), 2),
                    },
                },
                "context": {
                    "device": {"os": rng.choice(_OSES), "browser": rng.choice(_BROWSERS)},
                    "geo": {"country": rng.choice(["GB", "IE", "US"]), "lat": 51.5, "lon": -0.12},
                    "experiments": [{"id": f"exp-{k}", "arm": rng.choice("AB")} for k in range(3)],
                },
                "campaign": None,
            }
        )
    return out


#: The record shapes the bench measures, by name.
SHAPES = {"clickstream": clickstream, "nested": nested}


def sequence_number(i: int) -> str:
    return str(_SEQ_BASE + i)


def kinesis_event(
    payloads: list[dict[str, Any]], *, shard_id: str = SHARD_ID, first: int = 0
) -> dict[str, Any]:
    """A Lambda event from a Kinesis event source mapping carrying ``payloads`` as JSON."""
    records = []
    for i, payload in enumerate(payloads):
        seq = sequence_number(first + i)
        records.append(
            {
                "kinesis": {
                    "kinesisSchemaVersion": "1.0",
                    "partitionKey": str(payload.get("userId", i)),
                    "sequenceNumber": seq,
                    "data": base64.b64encode(json.dumps(payload).encode()).decode(),
                    "approximateArrivalTimestamp": 1795000000.123 + i / 1000,
                },
                "eventSource": "aws:kinesis",
                "eventVersion": "1.0",
                "eventID": f"{shard_id}:{seq}",
                "eventName": "aws:kinesis:record",
                "invokeIdentityArn": REPLICATOR_ROLE_ARN,
                "awsRegion": REGION,
                "eventSourceARN": STREAM_ARN,
            }
        )
    return {"Records": records}


def item_for(payload: dict[str, Any], seq: str, shard_id: str = SHARD_ID) -> dict[str, Any]:
    """The table item the data contract makes of ``payload`` (DESIGN.md): top-level null/""
    dropped, numbers as Decimal, plus the three key attributes with the seed's hash formula."""
    decoded = json.loads(json.dumps(payload), parse_float=Decimal, parse_int=Decimal)
    item = {k: v for k, v in decoded.items() if v is not None and v != ""}
    item["sequenceNumber"] = seq
    item["shardId"] = shard_id
    item["seqNumbershardIdHash"] = f"{seq[-3:-1]}_{shard_id}"
    return item


def dynamodb_stream_event(
    payloads: list[dict[str, Any]], *, shard_id: str = SHARD_ID, first: int = 0
) -> dict[str, Any]:
    """A Lambda event from the table's DynamoDB stream (NEW_IMAGE): one INSERT per item the
    replicator would have written for ``payloads``."""
    ser = TypeSerializer()
    records = []
    for i, payload in enumerate(payloads):
        seq = sequence_number(first + i)
        item = item_for(payload, seq, shard_id)
        image = {k: ser.serialize(v) for k, v in item.items()}
        keys = {k: image[k] for k in ("seqNumbershardIdHash", "sequenceNumber")}
        stream_seq = str(1302160000000000159689367 + first + i)
        records.append(
            {
                "eventID": f"{first + i:032x}",
                "eventName": "INSERT",
                "eventVersion": "1.1",
                "eventSource": "aws:dynamodb",
                "awsRegion": REGION,
                "dynamodb": {
                    "ApproximateCreationDateTime": 1795000000 + i // 1000,
                    "Keys": keys,
                    "NewImage": image,
                    "SequenceNumber": stream_seq,
                    "SizeBytes": len(json.dumps(image)),
                    "StreamViewType": "NEW_IMAGE",
                },
                "eventSourceARN": TABLE_STREAM_ARN,
            }
        )
    return {"Records": records}
