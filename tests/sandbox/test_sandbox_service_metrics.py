"""The sandbox puts Lambda's and Firehose's own CloudWatch metrics from what its poller and its
Firehose really did, and counts what the cost model prices."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws

from sandbox import service_metrics
from sandbox.firehose import real_key_layout
from sandbox.lambda_runtime import FunctionError
from tests.sandbox.test_sandbox_poller import ACCOUNT, REGION, world  # noqa: F401 - fixture


def _statistic(
    cloudwatch: Any, namespace: str, metric: str, dimension: tuple[str, str], statistic: str
) -> float | None:
    now = datetime.now(UTC)
    points = cloudwatch.get_metric_statistics(
        Namespace=namespace,
        MetricName=metric,
        Dimensions=[{"Name": dimension[0], "Value": dimension[1]}],
        StartTime=now - timedelta(minutes=10),
        EndTime=now + timedelta(minutes=1),
        Period=3600,
        Statistics=[statistic],
    )["Datapoints"]
    return points[0][statistic] if points else None


def test_firehose_metrics_and_counts_are_what_moto_received(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws(), real_key_layout(), service_metrics.recording() as recorder:
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket="archive", CreateBucketConfiguration={"LocationConstraint": REGION})
        firehose = boto3.client("firehose", region_name=REGION)
        firehose.create_delivery_stream(
            DeliveryStreamName="to-s3",
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::123456789012:role/f",
                "BucketARN": "arn:aws:s3:::archive",
            },
        )
        datas = [b"a" * 6000 + b"\n", b"{}\n"]
        firehose.put_record_batch(DeliveryStreamName="to-s3", Records=[{"Data": d} for d in datas])

        assert recorder.counted.firehose_records == 2
        assert recorder.counted.firehose_bytes == 6004
        assert recorder.counted.firehose_billed_bytes == 3 * 5120  # 6,001 B: two increments
        cloudwatch = boto3.client("cloudwatch", region_name=REGION)
        stream = ("DeliveryStreamName", "to-s3")
        assert _statistic(cloudwatch, "AWS/Firehose", "IncomingRecords", stream, "Sum") == 2
        assert _statistic(cloudwatch, "AWS/Firehose", "IncomingBytes", stream, "Sum") == 6004
        assert (
            _statistic(cloudwatch, "AWS/Firehose", "DeliveryToS3.Success", stream, "Average") == 1
        )
        assert (
            _statistic(cloudwatch, "AWS/Firehose", "DeliveryToS3.DataFreshness", stream, "Maximum")
            == 0
        )


def test_lambda_metrics_follow_the_pollers_invocations(world):  # noqa: F811
    make, put, _ = world
    put("a", "b", "c")
    crashes = iter([True, False])

    def script(batch: list[str]) -> Any:
        if next(crashes, False):
            raise FunctionError("Boom", "crash")
        return None

    with service_metrics.recording() as recorder:
        recorder.clock = lambda: time.time() + 90  # the records arrived 90 s before the poll
        poller, runtime = make(script)
        poller.poll()

    assert len(runtime.batches) == 2  # one crash, one retry
    counts = recorder.counted.functions["fn"]
    assert (counts.invocations, counts.errors, counts.records) == (2, 1, 6)
    # The function's account's CloudWatch (read from moto's backend: the fixture's emulator
    # clients are not exposed).
    from moto.cloudwatch.models import MetricDatum, cloudwatch_backends

    data = cloudwatch_backends[ACCOUNT][REGION].metric_data
    by_name: dict[str, list[float]] = {}
    for datum in data:
        if datum.namespace != "AWS/Lambda" or not isinstance(datum, MetricDatum):
            continue  # moto puts some AWS/Kinesis metrics of its own
        assert [(d.name, d.value) for d in datum.dimensions] == [("FunctionName", "fn")]
        by_name.setdefault(datum.name, []).append(datum.value)
    assert sum(by_name["Invocations"]) == 2
    assert sum(by_name["Errors"]) == 1
    assert min(by_name["IteratorAge"]) >= 90_000
