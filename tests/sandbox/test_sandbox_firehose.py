"""The sandbox's Firehose key layout and the analyst's reading of it (no pipeline run)."""

from __future__ import annotations

import gzip
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from sandbox import analyst
from sandbox.firehose import evaluate_prefix, format_java_timestamp, object_key, real_key_layout

MOMENT = datetime(2026, 3, 7, 9, 5, 1, tzinfo=UTC)
PREFIX = (
    "clicks/year=!{timestamp:yyyy}/month=!{timestamp:MM}/day=!{timestamp:dd}/hour=!{timestamp:HH}/"
)


def test_prefix_expressions_expand_as_firehose_does() -> None:
    assert evaluate_prefix(PREFIX, MOMENT) == "clicks/year=2026/month=03/day=07/hour=09/"
    # No expressions: Firehose appends its own YYYY/MM/dd/HH/.
    assert evaluate_prefix("raw/", MOMENT) == "raw/2026/03/07/09/"
    assert format_java_timestamp("yyyy'-'MM'-'dd", MOMENT) == "2026-03-07"
    with pytest.raises(ValueError, match="not emulated"):
        format_java_timestamp("EEE", MOMENT)


def test_object_names_and_gzip() -> None:
    key = object_key(PREFIX, "clicks-to-s3", "1", MOMENT, "GZIP")
    assert re.fullmatch(
        r"clicks/year=2026/month=03/day=07/hour=09/clicks-to-s3-1-2026-03-07-09-05-01-"
        r"[0-9a-f-]{36}\.gz",
        key,
    )
    assert not object_key(PREFIX, "s", "1", MOMENT, "UNCOMPRESSED").endswith(".gz")


def test_moto_firehose_writes_the_real_layout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws(), real_key_layout():
        s3 = boto3.client("s3", region_name="eu-west-1")
        s3.create_bucket(
            Bucket="archive", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
        )
        firehose = boto3.client("firehose", region_name="eu-west-1")
        firehose.create_delivery_stream(
            DeliveryStreamName="clicks-to-s3",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/f",
                "BucketARN": "arn:aws:s3:::archive",
                "Prefix": PREFIX,
                "CompressionFormat": "GZIP",
            },
        )
        firehose.put_record_batch(
            DeliveryStreamName="clicks-to-s3", Records=[{"Data": b'{"a":1}\n'}, {"Data": b"{}\n"}]
        )
        (obj,) = s3.list_objects_v2(Bucket="archive")["Contents"]
        now = datetime.now(UTC)
        assert obj["Key"].startswith(f"clicks/year={now:%Y}/month={now:%m}/")
        assert obj["Key"].endswith(".gz")
        body = s3.get_object(Bucket="archive", Key=obj["Key"])["Body"].read()
        assert gzip.decompress(body) == b'{"a":1}\n{}\n'


GLUE_TABLE = {
    "Name": "events",
    "Parameters": {
        "storage.location.template": (
            "s3://archive/clicks/year=${year}/month=${month}/day=${day}/hour=${hour}/"
        ),
        "compressionType": "gzip",
        "projection.year.range": "2025,NOW",
    },
    "PartitionKeys": [{"Name": k, "Type": "string"} for k in ("year", "month", "day", "hour")],
    "StorageDescriptor": {"Columns": [{"Name": "useremail", "Type": "string"}]},
}


def test_the_analyst_reads_the_layout_the_glue_table_declares(tmp_path: Path) -> None:
    layout = analyst.GlueLayout.from_glue(GLUE_TABLE)
    assert (layout.bucket, layout.prefix) == ("archive", "clicks/")
    assert layout.partition_keys == ["year", "month", "day", "hour"]
    good = object_key(PREFIX, "s", "1", MOMENT, "GZIP")
    assert analyst.copy_archive([(good, b"")], layout, tmp_path) == 1
    with pytest.raises(ValueError, match="not in the Glue table's layout"):
        analyst.copy_archive([("clicks/2026/03/07/09/s-1-x", b"")], layout, tmp_path)


def test_the_analysts_sql_is_checked_against_what_was_produced(tmp_path: Path) -> None:
    layout = analyst.GlueLayout.from_glue(GLUE_TABLE)
    events = [
        {"userEmail": "a@x", "timestamp": 1_772_874_301_000_000_000 + n, "eventType": t, "url": "u"}
        for n, t in enumerate(["page_view", "page_view", "click"])
    ]
    lines = b"".join(
        json.dumps({**e, "shardId": "s", "sequenceNumber": str(n)}).encode() + b"\n"
        for n, e in enumerate(events)
    )
    key = object_key(PREFIX, "s", "1", MOMENT, "GZIP")
    # The same lines twice (Firehose is at-least-once): the queries de-duplicate on the key.
    analyst.copy_archive([(key, gzip.compress(lines + lines))], layout, tmp_path)
    result = analyst.run(tmp_path, layout, events)
    assert result.failures == [] and result.ok
    assert (result.rows, result.distinct_rows, result.user_events) == (6, 3, 3)
    # A produced event the archive lacks is a failed check, not a pass.
    wrong = analyst.run(tmp_path, layout, [*events, {**events[0], "timestamp": 5}])
    assert not wrong.ok and wrong.failures
