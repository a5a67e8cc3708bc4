"""Property tests of the data contract: any JSON object payload comes out of the archive as the
same object (top-level null/"" dropped) plus the three key attributes."""

from __future__ import annotations

import base64
import json
from typing import Any

from handler_support import blob, canonical, expected_line, failures, parse_line
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from stream_replica.handlers import images, records

KEYS = st.text(min_size=1, max_size=8).filter(lambda k: k not in records.KEY_ATTRIBUTES)
NUMBERS = st.one_of(
    st.integers(min_value=-(10**38) + 1, max_value=10**38 - 1),
    # Every finite double DynamoDB can hold (its range is 1E-130 .. 9.9…9E+125).
    st.floats(allow_nan=False, allow_infinity=False).filter(
        lambda f: f == 0 or 1e-130 <= abs(f) < 1e125
    ),
)
SCALARS = st.one_of(st.none(), st.booleans(), NUMBERS, st.text(max_size=20))
VALUES = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4), st.dictionaries(KEYS, children, max_size=4)
    ),
    max_leaves=15,
)
PAYLOADS = st.dictionaries(KEYS, VALUES, max_size=6)


@settings(max_examples=100, deadline=None)
@given(payload=PAYLOADS, sequence_number=st.from_regex(r"[1-9][0-9]{0,55}", fullmatch=True))
def test_transform_round_trip_without_io(payload: dict[str, Any], sequence_number: str) -> None:
    """payload -> item (TypeSerializer) -> image -> JSON line, as the handlers do it."""
    data = blob(payload)
    item = records.serialise_item(
        records.build_item(
            records.decode_payload(base64.b64encode(data).decode("ascii")),
            sequence_number,
            "shardId-000000000003",
        )
    )
    line = images.image_to_json_line(json.loads(json.dumps(item)))  # the image as Lambda's JSON
    assert canonical(parse_line(line.decode("utf-8"))) == canonical(
        expected_line(data, sequence_number, "shardId-000000000003")
    )


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(batch=st.lists(PAYLOADS, min_size=1, max_size=4))
def test_round_trip_through_moto(world, batch: list[dict[str, Any]]) -> None:
    """payload -> Kinesis -> replicator -> table -> stream -> archiver -> Firehose -> S3."""
    blobs = [blob(payload) for payload in batch]
    world.source.put(blobs)
    kinesis_event = world.source.event()
    assert failures(world.replicate(kinesis_event)) == []
    assert failures(world.archive(world.target.stream_event())) == []

    lines = [parse_line(line) for line in world.target.archived_lines()]
    got = sorted(lines, key=lambda o: int(o["sequenceNumber"]))
    seqs = [r["kinesis"]["sequenceNumber"] for r in kinesis_event["Records"]]
    expected = [
        expected_line(data, seq, world.source.shard_id)
        for data, seq in zip(blobs, seqs, strict=True)
    ]
    assert [canonical(o) for o in got] == [canonical(o) for o in expected]
