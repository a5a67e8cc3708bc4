"""Gzip payloads, decompressed with a bound: no AWS calls, no environment.

A Kinesis record (or a user record of a KPL aggregate) whose bytes start with the gzip magic
``1F 8B`` (RFC 1952, section 2.3.1) is decompressed before it is decoded. Decompression is
bounded: at most ``limit + 1`` bytes are ever produced, so a gzip bomb (a few KB that inflate to
gigabytes) costs at most ``limit`` bytes of memory and is a poison record, never an out-of-memory.
"""

from __future__ import annotations

import zlib

from .exceptions import PoisonRecordError

#: The first two bytes of every gzip member (RFC 1952, ID1 ID2).
GZIP_MAGIC = b"\x1f\x8b"
#: ``wbits`` for zlib: a gzip header and trailer, 32 KB window (zlib's ``16 + MAX_WBITS``).
_GZIP_WBITS = 16 + zlib.MAX_WBITS


def is_gzip(raw: bytes) -> bool:
    """True if ``raw`` starts with the gzip magic ``1F 8B``."""
    return raw[:2] == GZIP_MAGIC


def gunzip_bounded(raw: bytes, limit: int) -> bytes:
    """The decompressed bytes of ``raw`` (one gzip member, or several concatenated, as
    ``gzip.decompress`` accepts), producing never more than ``limit + 1`` bytes.

    :param raw: gzip data (starting with :data:`GZIP_MAGIC`).
    :param limit: the largest decompressed size accepted, in bytes (the replicator passes
        DynamoDB's 400 KB item limit, ``records.MAX_ITEM_BYTES``).
    :raises PoisonRecordError: the data is not valid gzip, is truncated, or decompresses to more
        than ``limit`` bytes (the reason names which).
    """
    out = bytearray()
    rest = raw
    while True:
        inflater = zlib.decompressobj(_GZIP_WBITS)
        try:
            out += inflater.decompress(rest, limit + 1 - len(out))
        except zlib.error as exc:
            raise PoisonRecordError(f"data is not valid gzip: {exc}") from None
        if len(out) > limit:
            raise PoisonRecordError(
                f"gzip data decompresses to more than {limit} bytes (the item limit); "
                "decompression stopped there"
            )
        if inflater.unconsumed_tail:
            # Output stopped at the bound with input left over: more than limit bytes.
            raise PoisonRecordError(
                f"gzip data decompresses to more than {limit} bytes (the item limit); "
                "decompression stopped there"
            )
        if not inflater.eof:
            raise PoisonRecordError("gzip data is truncated (no end of stream)")
        rest = inflater.unused_data
        if not rest:
            return bytes(out)
        if not is_gzip(rest):
            # gzip.decompress ignores trailing zero padding and rejects other trailing bytes.
            if rest.strip(b"\x00"):
                raise PoisonRecordError("gzip data has trailing bytes that are not a gzip member")
            return bytes(out)
