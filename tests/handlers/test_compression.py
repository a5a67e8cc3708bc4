"""Bounded gunzip: a gzip payload is decompressed; a bomb, a truncated or corrupt stream is
poison, and decompressing a bomb never holds more than the bound."""

from __future__ import annotations

import gzip
import tracemalloc
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from stream_replica.handlers.compression import gunzip_bounded, is_gzip
from stream_replica.handlers.exceptions import PoisonRecordError

LIMIT = 400 * 1024


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(max_size=2000), min_size=1, max_size=4))
def test_round_trip_of_one_or_more_members(parts):
    raw = b"".join(gzip.compress(p) for p in parts)
    assert is_gzip(raw)
    assert gunzip_bounded(raw, LIMIT) == gzip.decompress(raw)


def test_exactly_the_limit_is_accepted_and_one_byte_more_is_poison():
    assert len(gunzip_bounded(gzip.compress(b"a" * LIMIT), LIMIT)) == LIMIT
    with pytest.raises(PoisonRecordError, match="more than 409600 bytes"):
        gunzip_bounded(gzip.compress(b"a" * (LIMIT + 1)), LIMIT)


def test_a_bomb_is_poison_without_inflating_it():
    deflate = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    chunk = b"\0" * (1024 * 1024)
    bomb = b"".join(deflate.compress(chunk) for _ in range(64)) + deflate.flush()  # 64 MiB
    assert len(bomb) < 100 * 1024
    tracemalloc.start()
    try:
        with pytest.raises(PoisonRecordError, match="item limit"):
            gunzip_bounded(bomb, LIMIT)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 4 * LIMIT


def test_members_that_add_up_past_the_limit_are_poison():
    member = gzip.compress(b"b" * (LIMIT // 2 + 1))
    with pytest.raises(PoisonRecordError, match="item limit"):
        gunzip_bounded(member + member, LIMIT)


def test_truncated_and_corrupt_streams_are_poison():
    raw = gzip.compress(b'{"a": "' + b"x" * 5000 + b'"}')
    with pytest.raises(PoisonRecordError, match="truncated"):
        gunzip_bounded(raw[: len(raw) // 2], LIMIT)
    corrupt = bytearray(raw)
    corrupt[20] ^= 0xFF
    with pytest.raises(PoisonRecordError, match="gzip"):
        gunzip_bounded(bytes(corrupt), LIMIT)
    with pytest.raises(PoisonRecordError, match="trailing bytes"):
        gunzip_bounded(raw + b"garbage", LIMIT)
