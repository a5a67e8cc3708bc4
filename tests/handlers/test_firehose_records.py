"""Archive lines packed into ~5 KB Firehose records: the bytes are the same, every failure maps
back to the stream records whose lines were in the failed record."""

from __future__ import annotations

import json
from typing import Any

import pytest
from handler_support import blob, failures
from hypothesis import given, settings
from hypothesis import strategies as st
from stream_replica.handlers import archiver, clients
from stream_replica.handlers.batches import PUT_RECORD_BATCH_MAX_BYTES, PUT_RECORD_BATCH_MAX_RECORDS
from stream_replica.handlers.firehose_records import PACK_TARGET_BYTES, pack_lines
from stream_replica.handlers.images import MAX_FIREHOSE_RECORD_BYTES
from stream_replica.handlers.retry import TimeBudget

#: Lines of 1 byte to 12 KB (over the target, sometimes alone), newline-terminated, from a few
#: stream records each (a transform may fan one record out into several lines).
_line = st.integers(min_value=0, max_value=12_000).map(lambda n: b"x" * n + b"\n")
_lines = st.lists(
    st.tuples(st.integers(min_value=1, max_value=40).map(str), _line), max_size=120
).map(lambda pairs: sorted(pairs, key=lambda pair: int(pair[0])))


@given(_lines, st.sampled_from([1, 100, PACK_TARGET_BYTES, 64 * 1024]))
def test_records_concatenated_are_the_lines_concatenated(lines, target):
    records = pack_lines(lines, target)

    assert b"".join(r.data for r in records) == b"".join(line for _, line in lines)
    assert sum(r.lines for r in records) == len(lines)
    for record in records:
        assert record.data.endswith(b"\n")  # whole lines only
        assert len(record.data) <= target or record.lines == 1  # a long line goes alone
    # Greedy: a record and the next line would have been over the target.
    position = 0
    for record in records[:-1]:
        position += record.lines
        assert len(record.data) + len(lines[position][1]) > target


@given(_lines)
def test_each_record_names_exactly_the_stream_records_of_its_lines(lines):
    records = pack_lines(lines)
    position = 0
    for record in records:
        own = lines[position : position + record.lines]
        position += record.lines
        assert record.sequence_numbers == tuple(dict.fromkeys(seq for seq, _ in own))


def test_small_lines_are_packed_close_to_the_increment():
    lines = [(str(n), b"y" * 999 + b"\n") for n in range(100)]  # 1,000-byte lines

    records = pack_lines(lines)

    assert [len(r.data) for r in records] == [5_000] * 20
    assert records[0].sequence_numbers == ("0", "1", "2", "3", "4")


def test_limits_are_refused_not_worked_around():
    with pytest.raises(ValueError, match="record limit"):
        pack_lines([("1", b"z" * (MAX_FIREHOSE_RECORD_BYTES + 1))])
    with pytest.raises(ValueError, match="target_bytes"):
        pack_lines([], MAX_FIREHOSE_RECORD_BYTES + 1)


class _NoTime:
    def get_remaining_time_in_millis(self) -> int:
        return 0


class _FailingFirehose:
    """PutRecordBatch that fails the records whose data contains a marked line, every time."""

    def __init__(self, failing_lines: set[bytes]) -> None:
        self.failing_lines = failing_lines
        self.calls: list[list[bytes]] = []

    def put_record_batch(self, DeliveryStreamName: str, Records: list[dict[str, Any]]) -> Any:
        datas = [r["Data"] for r in Records]
        assert len(datas) <= PUT_RECORD_BATCH_MAX_RECORDS
        assert sum(len(d) for d in datas) <= PUT_RECORD_BATCH_MAX_BYTES
        assert all(len(d) <= MAX_FIREHOSE_RECORD_BYTES for d in datas)
        self.calls.append(datas)
        failing = [any(line in d.split(b"\n") for line in self.failing_lines) for d in datas]
        return {
            "FailedPutCount": sum(failing),
            "RequestResponses": [
                {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "injected"}
                if fail
                else {"RecordId": "r"}
                for fail in failing
            ],
        }


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.integers(min_value=10, max_value=4_000), min_size=1, max_size=200),
    st.data(),
)
def test_every_failure_maps_back_to_its_stream_records(sizes, data):
    """A failed packed record reports every stream record with a line in it, and only those."""
    lines = [(str(n), f"{n:06d}".encode() + b"a" * size + b"\n") for n, size in enumerate(sizes)]
    failing = set(data.draw(st.sets(st.sampled_from([line for _, line in lines]))))
    client = _FailingFirehose({line.rstrip(b"\n") for line in failing})

    outcome = archiver.put_lines(client, "s", lines, TimeBudget(_NoTime(), 0), concurrency=1)

    failed_records = [r for r in pack_lines(lines) if any(f in r.data for f in failing)]
    expected = {seq for r in failed_records for seq in r.sequence_numbers}
    assert set(outcome.unsent) == expected
    assert outcome.sent == len(lines) - sum(r.lines for r in failed_records)
    assert len(client.calls) == 1  # no time left: one attempt, then reported


def test_the_archiver_sends_fewer_records_than_lines_and_s3_holds_every_line(world):
    world.source.put(blob({"n": i, "user": f"u{i % 5}"}) for i in range(300))
    assert failures(world.replicate(world.source.event())) == []
    event = world.target.stream_event()
    sent: list[int] = []

    def count(params: dict[str, Any], **_: Any) -> None:
        sent.append(len(params["Records"]))

    clients.add_event_hook("before-parameter-build.firehose.PutRecordBatch", count)

    assert failures(world.archive(event)) == []

    lines = world.target.archived_lines()
    assert len(lines) == 300
    assert sorted(int(json.loads(line)["n"]) for line in lines) == list(range(300))
    assert 0 < sum(sent) <= 300 // 20  # lines of ~100 bytes: ≥ 20 per record
