"""The KPL de-aggregator against aggregates built by aws-kinesis-agg (AWS's library for the
format): same user records, same order, same partition and explicit hash keys; a bad checksum or
a truncated aggregate is poison with that reason."""

from __future__ import annotations

import hashlib

import pytest
from aws_kinesis_agg.aggregator import RecordAggregator
from hypothesis import given, settings
from hypothesis import strategies as st
from stream_replica.handlers.aggregation import KPL_MAGIC, deaggregate, is_aggregated
from stream_replica.handlers.exceptions import PoisonRecordError


def aggregate(records: list[tuple[str, bytes, str | None]]) -> bytes:
    """One KPL record holding ``(partition key, data, explicit hash key)`` user records."""
    aggregator = RecordAggregator()
    for partition_key, data, explicit_hash_key in records:
        assert aggregator.add_user_record(partition_key, data, explicit_hash_key) is None
    _, _, raw = aggregator.clear_and_get().get_contents()
    return bytes(raw)


user_records = st.lists(
    st.tuples(
        st.text(min_size=1, max_size=20),
        st.binary(max_size=300),
        st.one_of(st.none(), st.integers(0, 2**128 - 1).map(str)),
    ),
    min_size=1,
    max_size=30,
)


@settings(max_examples=60, deadline=None)
@given(user_records)
def test_every_user_record_comes_back_in_order(records):
    raw = aggregate(records)
    assert is_aggregated(raw)
    decoded = deaggregate(raw)
    assert [r.sub_sequence_number for r in decoded] == list(range(len(records)))
    assert [(r.partition_key, r.data) for r in decoded] == [(pk, data) for pk, data, _ in records]
    for record, (_, _, explicit_hash_key) in zip(decoded, records, strict=True):
        if explicit_hash_key is not None:
            assert record.explicit_hash_key == explicit_hash_key


def test_three_json_user_records():
    raw = aggregate([(f"user-{i}", b'{"n": %d}' % i, None) for i in range(3)])
    assert [(r.sub_sequence_number, r.partition_key, r.data) for r in deaggregate(raw)] == [
        (0, "user-0", b'{"n": 0}'),
        (1, "user-1", b'{"n": 1}'),
        (2, "user-2", b'{"n": 2}'),
    ]


def test_a_bad_checksum_is_poison():
    raw = bytearray(aggregate([("pk", b'{"a": 1}', None)] * 3))
    raw[10] ^= 0x01  # a bit flipped inside the protobuf
    with pytest.raises(PoisonRecordError, match="checksum mismatch"):
        deaggregate(bytes(raw))


@pytest.mark.parametrize("keep", [0, 5, 19, 40])
def test_a_truncated_aggregate_is_poison(keep):
    raw = aggregate([("pk", b'{"a": 1}' * 5, None)] * 3)
    with pytest.raises(PoisonRecordError, match="KPL aggregate"):
        deaggregate(raw[: len(KPL_MAGIC) + keep])


def test_a_malformed_protobuf_with_a_valid_checksum_is_poison():
    # A record entry naming partition key 3 of an empty table: the MD5 is right, the content not.
    entry = b"\x08\x03\x1a\x02{}"  # partition_key_index=3, data="{}"
    message = b"\x1a" + bytes([len(entry)]) + entry
    raw = KPL_MAGIC + message + hashlib.md5(message).digest()
    with pytest.raises(PoisonRecordError, match="partition key 3 of 0"):
        deaggregate(raw)


def test_a_length_past_the_end_with_a_valid_checksum_is_poison():
    message = b"\x0a\x7fshort"  # partition key claiming 127 bytes
    raw = KPL_MAGIC + message + hashlib.md5(message).digest()
    with pytest.raises(PoisonRecordError, match="truncated or malformed"):
        deaggregate(raw)


def test_plain_json_is_not_aggregated():
    assert not is_aggregated(b'{"a": 1}')
