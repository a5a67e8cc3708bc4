"""KPL-aggregated Kinesis records into their user records: no AWS calls, no environment.

The Kinesis Producer Library packs many user records into one Kinesis record in its aggregation
format (https://github.com/awslabs/amazon-kinesis-producer/blob/master/aggregation-format.md)::

    F3 89 9A C2 | protobuf AggregatedRecord | MD5 of the protobuf bytes (16 bytes)

    message AggregatedRecord {
      repeated string partition_key_table     = 1;
      repeated string explicit_hash_key_table = 2;
      repeated Record records                 = 3;
    }
    message Record {
      required uint64 partition_key_index     = 1;
      optional uint64 explicit_hash_key_index = 2;
      required bytes  data                    = 3;
      repeated Tag    tags                    = 4;   // ignored here
    }

This is a small decoder of that protobuf wire format (varints and length-delimited fields;
unknown fields are skipped as protobuf does) so that the functions' asset needs no protobuf
runtime (several MB, against the asset's 50 KB budget). It is tested against records built by
``aws-kinesis-agg``, the library AWS publishes for the format
(``tests/handlers/test_aggregation.py``).

A user record's **sub-sequence number** is its index in ``records`` (0-based), as the KCL and
``aws-kinesis-agg``'s de-aggregator number them.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from .exceptions import PoisonRecordError

#: The 4 bytes that start every KPL-aggregated record.
KPL_MAGIC = b"\xf3\x89\x9a\xc2"
_DIGEST_BYTES = 16  # MD5

_VARINT = 0
_FIXED64 = 1
_LENGTH_DELIMITED = 2
_FIXED32 = 5


@dataclass(frozen=True, slots=True)
class UserRecord:
    """One user record of an aggregate."""

    sub_sequence_number: int
    partition_key: str
    explicit_hash_key: str | None
    data: bytes


def is_aggregated(raw: bytes) -> bool:
    """True if ``raw`` starts with the KPL magic ``F3 89 9A C2``."""
    return raw[:4] == KPL_MAGIC


class _Truncated(Exception):
    pass


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    """Decode a base-128 varint at ``pos``; returns (value, position after it)."""
    result = 0
    shift = 0
    end = len(buf)
    while True:
        if pos >= end:
            raise _Truncated("a varint runs past the end")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift >= 64:
            raise _Truncated("a varint is longer than 10 bytes")


def _fields(buf: bytes) -> list[tuple[int, int | bytes]]:
    """The (field number, value) pairs of one protobuf message: varints as int, length-delimited
    fields as bytes; fixed-width fields are skipped (none of the format's fields is one)."""
    out: list[tuple[int, int | bytes]] = []
    pos = 0
    end = len(buf)
    while pos < end:
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if number == 0:
            raise _Truncated("field number 0")
        if wire == _VARINT:
            value, pos = _varint(buf, pos)
            out.append((number, value))
        elif wire == _LENGTH_DELIMITED:
            length, pos = _varint(buf, pos)
            if pos + length > end:
                raise _Truncated(f"field {number} claims {length} bytes, {end - pos} are left")
            out.append((number, buf[pos : pos + length]))
            pos += length
        elif wire == _FIXED64:
            pos += 8
        elif wire == _FIXED32:
            pos += 4
        else:
            raise _Truncated(f"field {number} has wire type {wire}, which the format never uses")
        if pos > end:
            raise _Truncated(f"field {number} runs past the end")
    return out


def _text(value: int | bytes, what: str) -> str:
    if not isinstance(value, bytes):
        raise _Truncated(f"{what} is not a string")
    try:
        return value.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise _Truncated(f"{what} is not UTF-8: {exc}") from None


def deaggregate(raw: bytes) -> list[UserRecord]:
    """The user records of a KPL-aggregated record, in order (sub-sequence numbers 0, 1, …).

    :param raw: the Kinesis record's bytes, starting with :data:`KPL_MAGIC`.
    :raises PoisonRecordError: the MD5 at the end does not match the protobuf ("checksum"), or
        the protobuf is truncated or malformed (a user record without data, a partition-key
        index outside the table, ...); the reason names which.
    """
    body = raw[len(KPL_MAGIC) :]
    if len(body) < _DIGEST_BYTES:
        raise PoisonRecordError(
            f"KPL aggregate is truncated: {len(body)} bytes after the magic, "
            f"fewer than the {_DIGEST_BYTES}-byte MD5 checksum"
        )
    message, digest = body[:-_DIGEST_BYTES], body[-_DIGEST_BYTES:]
    if hashlib.md5(message, usedforsecurity=False).digest() != digest:
        raise PoisonRecordError(
            "KPL aggregate checksum mismatch: the MD5 of the protobuf does not match the last "
            "16 bytes (a truncated or corrupted aggregate)"
        )
    try:
        partition_keys: list[str] = []
        hash_keys: list[str] = []
        entries: list[bytes] = []
        for number, value in _fields(message):
            if number == 1:
                partition_keys.append(_text(value, "a partition key"))
            elif number == 2:
                hash_keys.append(_text(value, "an explicit hash key"))
            elif number == 3:
                if not isinstance(value, bytes):
                    raise _Truncated("a record entry is not a message")
                entries.append(value)
        records: list[UserRecord] = []
        for index, entry in enumerate(entries):
            pk_index: int | None = None
            ehk_index: int | None = None
            data: bytes | None = None
            for number, value in _fields(entry):
                if number == 1 and isinstance(value, int):
                    pk_index = value
                elif number == 2 and isinstance(value, int):
                    ehk_index = value
                elif number == 3 and isinstance(value, bytes):
                    data = value
            if data is None or pk_index is None:
                raise _Truncated(f"user record {index} lacks its required data or partition key")
            if pk_index >= len(partition_keys):
                raise _Truncated(
                    f"user record {index} names partition key {pk_index} of {len(partition_keys)}"
                )
            if ehk_index is not None and ehk_index >= len(hash_keys):
                raise _Truncated(
                    f"user record {index} names explicit hash key {ehk_index} of {len(hash_keys)}"
                )
            records.append(
                UserRecord(
                    index,
                    partition_keys[pk_index],
                    hash_keys[ehk_index] if ehk_index is not None else None,
                    data,
                )
            )
    except _Truncated as exc:
        reason = f"KPL aggregate protobuf is truncated or malformed: {exc}"
        raise PoisonRecordError(reason) from None
    return records
