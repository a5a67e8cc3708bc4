"""The archiver's transform hook (``archiveTransformModule``): per INSERT/MODIFY image, it may
change, filter or fan out the archived line; an exception or a wrong answer is poison (in the
archiver's own dead-letter queue), REMOVE tombstones are not transformed."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from handler_support import blob, canonical, dead_letters, failures, parse_line
from stream_replica.handlers.records import partition_key
from stream_replica.handlers.transforms import forget_transforms

TRANSFORM = """
def transform(record, meta):
    n = int(record["n"])
    if n == 0:
        return None
    if n == 1:
        return [{"half": 1, "of": record["sequenceNumber"]}, {"half": 2, "event": meta.event_name}]
    if n == 2:
        raise RuntimeError("no archive for two")
    record["archived_by"] = meta.source
    return record
"""


def test_the_archive_transform_filters_fans_out_and_poisons(world, tmp_path: Path, monkeypatch):
    forget_transforms()
    (tmp_path / "transform").mkdir()
    (tmp_path / "transform" / "archive.py").write_text(TRANSFORM)
    monkeypatch.setattr("stream_replica.handlers.transforms.asset_root", lambda: tmp_path)

    world.source.put(blob({"n": i}) for i in range(4))
    kinesis_event = world.source.event()
    assert failures(world.replicate(kinesis_event)) == []
    seq = [r["kinesis"]["sequenceNumber"] for r in kinesis_event["Records"]]

    response = world.archive(world.target.stream_event(), TRANSFORM_MODULE="transform/archive.py")
    assert failures(response) == []
    lines: list[dict[str, Any]] = [parse_line(line) for line in world.target.archived_lines()]
    letters = dead_letters(world.poc.client("sqs"), world.archiver_dlq)
    assert [letter["reason"] for letter in letters] == [
        "transform raised RuntimeError: no archive for two"
    ]
    expected = [
        {"half": 1, "of": seq[1]},
        {"half": 2, "event": "INSERT"},
        {
            "n": 3,
            "sequenceNumber": seq[3],
            "shardId": world.source.shard_id,
            "seqNumbershardIdHash": partition_key(seq[3], world.source.shard_id),
            "archived_by": "dynamodb",
        },
    ]
    assert sorted(map(canonical_text, lines)) == sorted(map(canonical_text, expected))
    forget_transforms()


def canonical_text(value: dict[str, Any]) -> str:
    return repr(canonical(value))
