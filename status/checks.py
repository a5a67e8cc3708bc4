"""Read the pipeline's state from AWS, per account, and say what needs action.

For each :class:`~.targets.Targets`: per function the maximum ``IteratorAge`` and the sums of
``Invocations`` and ``Errors`` (``AWS/Lambda``, dimension ``FunctionName``) over the last
``minutes``; messages waiting in each queue (``ApproximateNumberOfMessages`` and ``…NotVisible``);
the newest object of the archive bucket (a ``ListObjectsV2`` scan, under ``archive_prefix`` when
given); each table's approximate ``ItemCount`` (``DescribeTable``, refreshed by DynamoDB about
every six hours); the account's alarms in ``ALARM``.

Action is needed (:attr:`Report.actions`) when an on-failure queue holds messages (the redrive
command drains it), a dead-letter queue holds poison records (inspect them), an iterator age is
over ``max_iterator_age_ms``, or an alarm is in ``ALARM``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from .targets import Targets

#: The redrive command, for an on-failure queue with messages.
REDRIVE = "python -m stream_replica.redrive --queue-url {url}{profile}"


@dataclass
class FunctionStatus:
    role: str
    name: str
    max_iterator_age_ms: float | None
    invocations: float
    errors: float


@dataclass
class QueueStatus:
    url: str
    kind: str
    waiting: int
    in_flight: int


@dataclass
class AccountStatus:
    label: str
    functions: list[FunctionStatus] = field(default_factory=list)
    queues: list[QueueStatus] = field(default_factory=list)
    bucket: str | None = None
    newest_object_age_s: float | None = None
    newest_object_key: str | None = None
    tables: dict[str, int] = field(default_factory=dict)
    alarms_in_alarm: list[str] = field(default_factory=list)


@dataclass
class Report:
    minutes: int
    accounts: list[AccountStatus] = field(default_factory=list)
    actions: list[str] = field(default_factory=list)


def _statistic(
    cloudwatch: Any, metric: str, function: str, statistic: str, minutes: int
) -> float | None:
    end = datetime.now(UTC) + timedelta(minutes=1)
    start = end - timedelta(minutes=minutes + 1)
    points = cloudwatch.get_metric_statistics(
        Namespace="AWS/Lambda",
        MetricName=metric,
        Dimensions=[{"Name": "FunctionName", "Value": function}],
        StartTime=start,
        EndTime=end,
        Period=60 * (minutes + 1),
        Statistics=[statistic],
    )["Datapoints"]
    values = [float(p[statistic]) for p in points]
    if not values:
        return None
    return max(values) if statistic == "Maximum" else sum(values)


def _newest_object(s3: Any, bucket: str, prefix: str) -> tuple[str, datetime] | None:
    newest: tuple[str, datetime] | None = None
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if newest is None or obj["LastModified"] > newest[1]:
                newest = (obj["Key"], obj["LastModified"])
    return newest


def check_account(
    targets: Targets,
    client: Any,
    minutes: int,
    archive_prefix: str = "",
) -> AccountStatus:
    """``targets`` read through ``client(service)`` (a boto3 client factory for the account)."""
    status = AccountStatus(label=targets.label, bucket=targets.bucket)
    if targets.functions:
        cloudwatch = client("cloudwatch")
        for role, name in targets.functions.items():
            status.functions.append(
                FunctionStatus(
                    role,
                    name,
                    _statistic(cloudwatch, "IteratorAge", name, "Maximum", minutes),
                    _statistic(cloudwatch, "Invocations", name, "Sum", minutes) or 0.0,
                    _statistic(cloudwatch, "Errors", name, "Sum", minutes) or 0.0,
                )
            )
    if targets.queues:
        sqs = client("sqs")
        for url, kind in targets.queues.items():
            attributes = sqs.get_queue_attributes(
                QueueUrl=url,
                AttributeNames=[
                    "ApproximateNumberOfMessages",
                    "ApproximateNumberOfMessagesNotVisible",
                ],
            )["Attributes"]
            status.queues.append(
                QueueStatus(
                    url,
                    kind,
                    int(attributes.get("ApproximateNumberOfMessages", 0)),
                    int(attributes.get("ApproximateNumberOfMessagesNotVisible", 0)),
                )
            )
    if targets.bucket:
        newest = _newest_object(client("s3"), targets.bucket, archive_prefix)
        if newest is not None:
            status.newest_object_key = newest[0]
            status.newest_object_age_s = (datetime.now(UTC) - newest[1]).total_seconds()
    if targets.tables:
        dynamodb = client("dynamodb")
        for table in targets.tables:
            status.tables[table] = int(
                dynamodb.describe_table(TableName=table)["Table"].get("ItemCount", 0)
            )
    if targets.functions or targets.queues or targets.tables or targets.bucket:
        pages = client("cloudwatch").get_paginator("describe_alarms").paginate(StateValue="ALARM")
        status.alarms_in_alarm = sorted(
            alarm["AlarmName"] for page in pages for alarm in page.get("MetricAlarms", [])
        )
    return status


def actions(status: AccountStatus, profile: str | None, max_iterator_age_ms: float) -> list[str]:
    """What needs doing in one account, one line each (empty: nothing)."""
    out: list[str] = []
    flag = f" --profile {profile}" if profile else ""
    for queue in status.queues:
        if queue.waiting + queue.in_flight == 0:
            continue
        if queue.kind == "on-failure":
            out.append(
                f"{status.label}: {queue.waiting + queue.in_flight} batch(es) in the on-failure "
                f"queue: {REDRIVE.format(url=queue.url, profile=flag)}"
            )
        else:
            out.append(
                f"{status.label}: {queue.waiting + queue.in_flight} poison record(s) in the "
                f"dead-letter queue {queue.url}: inspect them (docs/redrive.md)"
            )
    for function in status.functions:
        age = function.max_iterator_age_ms
        if age is not None and age > max_iterator_age_ms:
            out.append(
                f"{status.label}: {function.name} is {age / 1000:,.0f} s behind its stream "
                f"(over {max_iterator_age_ms / 1000:,.0f} s)"
            )
    for alarm in status.alarms_in_alarm:
        out.append(f"{status.label}: alarm {alarm} is in ALARM")
    return out
