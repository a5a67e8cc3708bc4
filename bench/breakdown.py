"""Where our handlers' CPU goes, stage by stage, and what one client setting would change.

The profile (``python -m bench --profile``) shows the call tree; this measures the stages of the
hot path directly, each on the same 1,000-record batch, best of five passes of process CPU time:

replicator: base64+JSON decode (with the raw-text facts for the fast path) → build the item →
boto3 TypeSerializer → our limits check (``check_item``: the fast path, or the exact
``item_size`` walk when the fast path cannot decide) → botocore's parameter validation and JSON
serialisation of BatchWriteItem;
archiver: TypeDeserializer → JSON text → botocore's PutRecordBatch serialisation.

The "experiment" re-runs our handler with botocore's ``parameter_validation`` flipped from what
the handlers ship (patched into ``runtime.client_config`` in this process only), to show the
effect of that setting with evidence rather than a guess.
"""

from __future__ import annotations

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
    from stream_replica.handlers import runtime

    return bool(runtime.client_config().parameter_validation)


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
    from stream_replica.handlers import records as r

    recs = event["Records"]
    n = len(recs)
    decoded = [r.decode_payload_and_bound(x["kinesis"]["data"]) for x in recs]
    payloads = [payload for payload, _ in decoded]
    bounds = [bound for _, bound in decoded]
    keys = [(x["kinesis"]["sequenceNumber"], r.shard_id_of(x["eventID"])) for x in recs]
    items = [r.build_item(p, s, sh) for p, (s, sh) in zip(payloads, keys, strict=True)]
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
            "base64 + JSON decode (decode_payload_and_bound)",
            _best_us(lambda: [r.decode_payload_and_bound(x["kinesis"]["data"]) for x in recs], n),
        ),
        Stage(
            "build item (build_item)",
            _best_us(
                lambda: [r.build_item(p, s, sh) for p, (s, sh) in zip(payloads, keys, strict=True)],
                n,
            ),
        ),
        Stage(
            "boto3 TypeSerializer",
            _best_us(
                lambda: [{k: r._SERIALIZER.serialize(v) for k, v in it.items()} for it in items], n
            ),
        ),
        Stage(
            f"limits check (check_item; fast path for {sum(b is not None for b in bounds):,} "
            f"of {n:,})",
            _best_us(lambda: [r.check_item(t, b) for t, b in zip(typed, bounds, strict=True)], n),
        ),
        Stage(
            "botocore BatchWriteItem parameter validation",
            with_validation - without,
            paid=shipped_validation(),
        ),
        Stage("botocore BatchWriteItem JSON serialisation", without),
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
            "TypeDeserializer (image_to_object)",
            _best_us(lambda: [r.image_to_object(i) for i in images], n),
        ),
        Stage("exact JSON text (_json_text)", _best_us(lambda: [r._json_text(o) for o in objs], n)),
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
    from stream_replica.handlers import runtime

    original = runtime.client_config
    flipped = not shipped_validation()

    def patched(*args: Any, **kwargs: Any) -> Config:
        return original(*args, **kwargs).merge(Config(parameter_validation=flipped))

    runtime.client_config = patched
    try:
        yield
    finally:
        runtime.client_config = original


def experiment(
    subject: Subject, event: dict[str, Any], repeats: int
) -> tuple[harness.Invocations, harness.Invocations]:
    """Our handler with parameter validation flipped: (0 ms run, 5 ms run)."""
    with flipped_parameter_validation():
        r0 = harness.invoke(subject, event, latency_ms=0.0, repeats=repeats)
        r5 = harness.invoke(subject, event, latency_ms=5.0, repeats=repeats)
    subject.reset()
    return r0, r5
