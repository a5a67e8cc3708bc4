"""Where our handlers' CPU goes, stage by stage, and what one client setting would change.

The profile (``python -m bench --profile``) shows the call tree; this measures the stages of the
hot path directly, each on the same 1,000-record batch, best of five passes of process CPU time:

replicator: base64+JSON decode (with the raw-text facts for the fast path) → build the item →
boto3 TypeSerializer → our limits check (``check_item``: the fast path, or the exact
``item_size`` walk when the fast path cannot decide) → botocore's parameter validation and JSON
serialisation of BatchWriteItem;
archiver: TypeDeserializer → JSON text → botocore's PutRecordBatch serialisation.

The "experiment" re-runs our handler with botocore's ``parameter_validation`` flipped from what
the handlers ship (patched into ``clients.client_config`` in this process only), to show the
effect of that setting with evidence rather than a guess.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import botocore.session
from botocore.config import Config
from stream_replica.testing.events import REGION

from . import harness
from .subjects import Subject


@dataclass
class Stage:
    name: str
    us_per_record: float
    paid: bool = True  # False: a stage the shipped handler skips (shown for comparison)


def shipped_validation() -> bool:
    """Whether the handlers' botocore clients validate parameters (botocore's default: yes)."""
    from stream_replica.handlers import clients

    return bool(clients.client_config().parameter_validation)


def _best_us(fn: Callable[[], Any], n: int, passes: int = 5) -> float:
    best = float("inf")
    for _ in range(passes):
        start = time.process_time()
        fn()
        best = min(best, time.process_time() - start)
    return best / n * 1e6


def _serializer(service: str, operation: str, validate: bool) -> Callable[[dict[str, Any]], Any]:
    client = botocore.session.Session().create_client(
        service,
        region_name=REGION,
        aws_access_key_id="x",
        aws_secret_access_key="y",
        config=Config(parameter_validation=validate),
    )
    model = client.meta.service_model.operation_model(operation)
    serializer = client._serializer
    return lambda params: serializer.serialize_to_request(params, model)


def replicator_stages(event: dict[str, Any]) -> list[Stage]:
    """The shipped one-pass path stage by stage, then the exact path's stages (not run by the
    handler for these records; shown for comparison)."""
    from stream_replica.handlers import item_json, write_requests
    from stream_replica.handlers import records as r

    recs = event["Records"]
    n = len(recs)
    keys = [(x["kinesis"]["sequenceNumber"], r.shard_id_of(x["eventID"])) for x in recs]
    datas = [x["kinesis"]["data"] for x in recs]
    texts = [base64.b64decode(d).decode("utf-8") for d in datas]
    item_texts = [r.record_item_json(d, s, sh) for d, (s, sh) in zip(datas, keys, strict=True)]
    puts = [
        write_requests.PutRequest(
            write_requests.key_attributes(r.HASH_KEY, r.partition_key(s, sh), r.RANGE_KEY, s), t
        )
        for t, (s, sh) in zip(item_texts, keys, strict=True)
    ]
    put_chunks = [puts[i : i + 25] for i in range(0, n, 25)]
    exact = [r.decode_payload_and_bound(d) for d in datas]
    items = [r.build_item(p, s, sh) for (p, _), (s, sh) in zip(exact, keys, strict=True)]
    typed = [r.serialise_item(i) for i in items]
    chunks = [typed[i : i + 25] for i in range(0, n, 25)]

    def bwi(validate: bool) -> Callable[[], None]:
        ser = _serializer("dynamodb", "BatchWriteItem", validate)

        def run() -> None:
            for chunk in chunks:
                ser({"RequestItems": {"t": [{"PutRequest": {"Item": it}} for it in chunk]}})

        return run

    with_validation = _best_us(bwi(True), n)
    without = _best_us(bwi(False), n)
    return [
        Stage(
            "base64 + JSON decode, numbers as their text (item_json.decode_object)",
            _best_us(lambda: [item_json.decode_object(t) for t in texts], n)
            + _best_us(lambda: [base64.b64decode(d, validate=True) for d in datas], n),
        ),
        Stage(
            "DynamoDB JSON text of the item (item_json.attributes_json + keys)",
            max(
                0.0,
                _best_us(
                    lambda: [
                        r.record_item_json(d, s, sh) for d, (s, sh) in zip(datas, keys, strict=True)
                    ],
                    n,
                )
                - _best_us(lambda: [item_json.decode_object(t) for t in texts], n)
                - _best_us(lambda: [base64.b64decode(d, validate=True) for d in datas], n),
            ),
        ),
        Stage(
            "BatchWriteItem body text (write_requests.body_text, UTF-8)",
            _best_us(
                lambda: [write_requests.body_text({"t": c}).encode("utf-8") for c in put_chunks],
                n,
            ),
        ),
        Stage(
            "exact path: decode with Decimal (decode_payload_and_bound)",
            _best_us(lambda: [r.decode_payload_and_bound(d) for d in datas], n),
            paid=False,
        ),
        Stage(
            "exact path: build item + boto3 TypeSerializer + limits check (serialise_item)",
            _best_us(
                lambda: [r.serialise_item(i, b) for i, (_, b) in zip(items, exact, strict=True)],
                n,
            ),
            paid=False,
        ),
        Stage(
            "exact path: botocore BatchWriteItem parameter validation",
            with_validation - without,
            paid=False,
        ),
        Stage("exact path: botocore BatchWriteItem JSON serialisation", without, paid=False),
    ]


def archiver_stages(event: dict[str, Any]) -> list[Stage]:
    from stream_replica.handlers import images as r

    recs = event["Records"]
    n = len(recs)
    images = [x["dynamodb"]["NewImage"] for x in recs]
    objs = [r.image_to_object(i) for i in images]
    lines = [r.image_to_json_line(i) for i in images]
    chunks = [lines[i : i + 500] for i in range(0, n, 500)]

    def prb(validate: bool) -> Callable[[], None]:
        ser = _serializer("firehose", "PutRecordBatch", validate)

        def run() -> None:
            for chunk in chunks:
                ser({"DeliveryStreamName": "s", "Records": [{"Data": d} for d in chunk]})

        return run

    with_validation = _best_us(prb(True), n)
    without = _best_us(prb(False), n)
    return [
        Stage(
            "JSON line in one pass over the typed image (image_to_json_line)",
            _best_us(lambda: [r.image_to_json_line(i) for i in images], n),
        ),
        Stage(
            "exact path: TypeDeserializer (image_to_object)",
            _best_us(lambda: [r.image_to_object(i) for i in images], n),
            paid=False,
        ),
        Stage(
            "exact path: exact JSON text (_json_text)",
            _best_us(lambda: [r._json_text(o) for o in objs], n),
            paid=False,
        ),
        Stage(
            "botocore PutRecordBatch parameter validation",
            with_validation - without,
            paid=shipped_validation(),
        ),
        Stage("botocore PutRecordBatch serialisation (base64)", without),
    ]


@contextmanager
def flipped_parameter_validation() -> Iterator[None]:
    """Flip ``parameter_validation`` in the handlers' client config, in this process only."""
    from stream_replica.handlers import clients

    original = clients.client_config
    flipped = not shipped_validation()

    def patched(*args: Any, **kwargs: Any) -> Config:
        return original(*args, **kwargs).merge(Config(parameter_validation=flipped))

    clients.client_config = patched
    try:
        yield
    finally:
        clients.client_config = original


def experiment(
    subject: Subject, event: dict[str, Any], repeats: int
) -> tuple[harness.Invocations, harness.Invocations]:
    """Our handler with parameter validation flipped: (0 ms run, 5 ms run)."""
    with flipped_parameter_validation():
        r0 = harness.invoke(subject, event, latency_ms=0.0, repeats=repeats)
        r5 = harness.invoke(subject, event, latency_ms=5.0, repeats=repeats)
    subject.reset()
    return r0, r5
