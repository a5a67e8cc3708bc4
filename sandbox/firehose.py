"""The sandbox's Firehose writes S3 objects where, and as, real Firehose does.

moto's Firehose writes every ``PutRecordBatch`` to ``<prefix>YYYY/MM/DD/HH/<name>-…`` with the
prefix taken literally (``!{timestamp:yyyy}`` and all) and ignores ``CompressionFormat``. Real
Firehose (https://docs.aws.amazon.com/firehose/latest/dev/s3-object-name.html and
https://docs.aws.amazon.com/firehose/latest/dev/s3-prefixes.html) writes
``<evaluated prefix><name>-<version>-<yyyy-MM-dd-HH-mm-ss>-<uuid>[.gz]``, where the evaluated
prefix expands each ``!{timestamp:<Java DateTimeFormatter pattern>}`` (UTC, the arrival time of
the oldest record in the object) and ``!{firehose:random-string}``, and is the prefix plus
``YYYY/MM/dd/HH/`` only when the prefix has no expressions. With ``CompressionFormat: GZIP`` the
object is gzip and its name ends in ``.gz``.

:func:`real_key_layout` patches moto's backend for as long as it is active. One object per
``PutRecordBatch`` call stands in for a buffer (the sandbox does not wait 300 s to flush). Each
call is reported to :mod:`.service_metrics` (Firehose's own metrics, the records received).
"""

from __future__ import annotations

import gzip
import re
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from . import service_metrics

#: ``!{namespace:value}`` expressions of a Firehose prefix.
_EXPRESSION = re.compile(r"!\{([a-zA-Z]+):([^}]*)\}")
#: Java DateTimeFormatter letters Firehose prefixes use, as strftime directives.
_JAVA_DATE_FIELDS = {
    "yyyy": "%Y",
    "yy": "%y",
    "MM": "%m",
    "dd": "%d",
    "HH": "%H",
    "mm": "%M",
    "ss": "%S",
}
_JAVA_TOKEN = re.compile(r"'[^']*'|yyyy|yy|MM|dd|HH|mm|ss|[A-Za-z]")


def format_java_timestamp(pattern: str, moment: datetime) -> str:
    """``moment`` formatted with a Java DateTimeFormatter ``pattern`` (the subset Firehose
    prefixes use: ``yyyy yy MM dd HH mm ss`` and quoted literals). Other pattern letters raise
    ValueError naming them, rather than writing a key real Firehose would not."""
    out = []
    position = 0
    for match in _JAVA_TOKEN.finditer(pattern):
        out.append(pattern[position : match.start()])
        token = match.group(0)
        if token.startswith("'"):
            out.append(token[1:-1] or "'")
        elif token in _JAVA_DATE_FIELDS:
            out.append(moment.strftime(_JAVA_DATE_FIELDS[token]))
        else:
            raise ValueError(f"Firehose prefix pattern {pattern!r}: {token!r} is not emulated")
        position = match.end()
    out.append(pattern[position:])
    return "".join(out)


def evaluate_prefix(prefix: str, moment: datetime, error_output_type: str | None = None) -> str:
    """The evaluated prefix of an object delivered at ``moment`` (UTC)."""
    if not _EXPRESSION.search(prefix):
        return f"{prefix}{moment.strftime('%Y/%m/%d/%H')}/"

    def expand(match: re.Match[str]) -> str:
        namespace, value = match.group(1), match.group(2)
        if namespace == "timestamp":
            return format_java_timestamp(value, moment)
        if namespace == "firehose" and value == "random-string":
            return secrets.token_hex(6)[:11]
        if namespace == "firehose" and value == "error-output-type" and error_output_type:
            return error_output_type
        raise ValueError(f"Firehose prefix {prefix!r}: expression {match.group(0)} is not emulated")

    return _EXPRESSION.sub(expand, prefix)


def object_key(
    prefix: str, stream_name: str, version: str, moment: datetime, compression: str | None
) -> str:
    """The key real Firehose gives an object (see the module docstring)."""
    suffix = ".gz" if compression == "GZIP" else ""
    return (
        f"{evaluate_prefix(prefix, moment)}{stream_name}-{version}-"
        f"{moment.strftime('%Y-%m-%d-%H-%M-%S')}-{uuid.uuid4()}{suffix}"
    )


@contextmanager
def real_key_layout() -> Iterator[None]:
    """Patch moto's Firehose S3 delivery to write real Firehose's keys and compression."""
    from moto.firehose.models import FirehoseBackend
    from moto.s3.models import s3_backends

    original = FirehoseBackend.put_s3_records

    def put_s3_records(
        self: Any,
        delivery_stream_name: str,
        version_id: str,
        s3_destination: dict[str, Any],
        records: list[dict[str, bytes]],
    ) -> list[dict[str, str]]:
        bucket = s3_destination["BucketARN"].split(":")[-1]
        compression = s3_destination.get("CompressionFormat") or "UNCOMPRESSED"
        if compression not in ("UNCOMPRESSED", "GZIP"):
            raise NotImplementedError(f"the sandbox's Firehose does not write {compression}")
        moment = datetime.now(UTC)
        key = object_key(
            s3_destination.get("Prefix") or "",
            delivery_stream_name,
            version_id,
            moment,
            compression,
        )
        data = b"".join(record["Data"] for record in records)
        if compression == "GZIP":
            data = gzip.compress(data)
        s3_backends[self.account_id][self.partition].put_object(bucket, key, data)
        service_metrics.RECORDER.delivered(
            self.account_id, self.region_name, delivery_stream_name, [r["Data"] for r in records]
        )
        return [{"RecordId": str(uuid.uuid4())} for _ in records]

    FirehoseBackend.put_s3_records = put_s3_records  # type: ignore[method-assign]
    try:
        yield
    finally:
        FirehoseBackend.put_s3_records = original  # type: ignore[method-assign]
