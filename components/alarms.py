"""CloudWatch alarms of both sides: falling behind, failing, throttled, dead letters waiting,
Firehose not delivering.

Each alarm notifies ``topic_arn`` (if given) on ALARM and on OK, so a recovery is seen too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_aws as aws

if TYPE_CHECKING:
    from .settings import AlarmSettings


def _alarm(
    parent: pulumi.Resource,
    resource_name: str,
    description: str,
    metric: tuple[str, str, dict[str, Any]],
    statistic: str,
    *,
    settings: AlarmSettings,
    tags: Mapping[str, str] | None = None,
    comparison_operator: str = "GreaterThanThreshold",
    threshold: float = 0,
    period: int | None = None,
    evaluation_periods: int = 1,
) -> aws.cloudwatch.MetricAlarm:
    """One alarm on ``metric`` = (namespace, metric name, dimensions); by default it fires on any
    value above 0 in one period of ``settings.period_seconds``."""
    namespace, metric_name, dimensions = metric
    actions = [settings.topic_arn] if settings.topic_arn else []
    return aws.cloudwatch.MetricAlarm(
        resource_name,
        alarm_description=description,
        namespace=namespace,
        metric_name=metric_name,
        dimensions=dimensions,
        statistic=statistic,
        comparison_operator=comparison_operator,
        threshold=threshold,
        period=period or settings.period_seconds or 60,
        evaluation_periods=evaluation_periods,
        treat_missing_data="notBreaching",
        alarm_actions=actions,
        ok_actions=actions,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )


def consumer_alarms(
    parent: pulumi.Resource,
    name: str,
    *,
    function_name: pulumi.Input[str],
    dead_letter_queue_name: pulumi.Input[str],
    failure_queue_name: pulumi.Input[str],
    settings: AlarmSettings,
    tags: Mapping[str, str] | None = None,
) -> list[aws.cloudwatch.MetricAlarm]:
    """Iterator age, errors, throttles, and both queues' depth for one stream consumer."""
    fn = {"FunctionName": function_name}

    def queue_depth(queue_name: pulumi.Input[str]) -> tuple[str, str, dict[str, Any]]:
        return ("AWS/SQS", "ApproximateNumberOfMessagesVisible", {"QueueName": queue_name})

    return [
        _alarm(
            parent,
            f"{name}-iterator-age-alarm",
            "The consumer is falling behind its stream.",
            ("AWS/Lambda", "IteratorAge", fn),
            "Maximum",
            settings=settings,
            tags=tags,
            threshold=settings.iterator_age_ms or 0,
            evaluation_periods=settings.evaluation_periods or 1,
        ),
        _alarm(
            parent,
            f"{name}-errors-alarm",
            "The function failed (the mapping retries the batch).",
            ("AWS/Lambda", "Errors", fn),
            "Sum",
            settings=settings,
            tags=tags,
        ),
        _alarm(
            parent,
            f"{name}-throttles-alarm",
            "The function was throttled.",
            ("AWS/Lambda", "Throttles", fn),
            "Sum",
            settings=settings,
            tags=tags,
        ),
        _alarm(
            parent,
            f"{name}-dead-letters-alarm",
            "Poison records are waiting in the dead-letter queue.",
            queue_depth(dead_letter_queue_name),
            "Maximum",
            settings=settings,
            tags=tags,
        ),
        _alarm(
            parent,
            f"{name}-mapping-failures-alarm",
            "Batches gave up after their retries (see the on-failure queue).",
            queue_depth(failure_queue_name),
            "Maximum",
            settings=settings,
            tags=tags,
        ),
    ]


def shared_read_alarms(
    parent: pulumi.Resource,
    name: str,
    *,
    stream_name: pulumi.Input[str],
    settings: AlarmSettings,
    tags: Mapping[str, str] | None = None,
) -> list[aws.cloudwatch.MetricAlarm]:
    """``shared`` consumer mode: reads of the stream throttled.

    A shard serves 5 ``GetRecords`` calls/s and 2 MB/s to all its readers together (Kinesis
    Data Streams quotas); ``ReadProvisionedThroughputExceeded`` counts the calls it refused, the
    production applications' included. In ``efo`` mode the replicator's reads have their own
    throughput and don't count here, so there is no such alarm; Lambda's ``IteratorAge`` (in
    :func:`consumer_alarms`) covers both modes. The metric lives in the stream's account, so
    this alarm exists only where the replicator runs next to the stream (source placement).
    """
    return [
        _alarm(
            parent,
            f"{name}-read-throttled-alarm",
            "Reads of the source stream are throttled: the replicator and the stream's other "
            "readers compete for each shard's 5 reads/s and 2 MB/s (consumerMode efo gives the "
            "replicator its own throughput).",
            ("AWS/Kinesis", "ReadProvisionedThroughputExceeded", {"StreamName": stream_name}),
            "Sum",
            settings=settings,
            tags=tags,
            evaluation_periods=settings.evaluation_periods or 1,
        )
    ]


def firehose_alarms(
    parent: pulumi.Resource,
    name: str,
    *,
    delivery_stream_name: pulumi.Input[str],
    buffering_interval_seconds: int,
    settings: AlarmSettings,
    tags: Mapping[str, str] | None = None,
) -> list[aws.cloudwatch.MetricAlarm]:
    """Firehose delivery to S3: data getting stale, deliveries failing."""
    stream = {"DeliveryStreamName": delivery_stream_name}
    return [
        _alarm(
            parent,
            f"{name}-delivery-freshness-alarm",
            "The oldest record in Firehose waits well past the buffer interval.",
            ("AWS/Firehose", "DeliveryToS3.DataFreshness", stream),
            "Maximum",
            settings=settings,
            tags=tags,
            threshold=2 * buffering_interval_seconds + 300,
            period=300,
        ),
        _alarm(
            parent,
            f"{name}-delivery-failures-alarm",
            "Firehose deliveries to S3 are failing.",
            ("AWS/Firehose", "DeliveryToS3.Success", stream),
            "Minimum",
            settings=settings,
            tags=tags,
            comparison_operator="LessThanThreshold",
            threshold=1,
            period=300,
        ),
    ]


#: The replicator's metric (``handlers/replicator.py``): 1 for a batch whose every item
#: DynamoDB refused for one index key's type (each dead-lettered as the record's own).
REJECTED_ALIKE_METRIC = "rejected_alike"


def rejected_alike_alarm(
    parent: pulumi.Resource,
    name: str,
    *,
    namespace: str,
    service: str,
    settings: AlarmSettings,
    tags: Mapping[str, str] | None = None,
) -> aws.cloudwatch.MetricAlarm:
    """Fires when a whole batch was refused alike (the producers and an index disagree on a key
    attribute's type): the records go to the dead-letter queue one by one, and this says it is
    every one of them."""
    return _alarm(
        parent,
        f"{name}-rejected-alike-alarm",
        "DynamoDB refused every item of a batch for one index key's type: the producers and the "
        "index disagree (the records are in the dead-letter queue).",
        (namespace, REJECTED_ALIKE_METRIC, {"service": service}),
        "Sum",
        settings=settings,
        tags=tags,
    )
