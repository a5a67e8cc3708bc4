"""CloudWatch alarms of both sides: falling behind, failing, throttled, dead letters waiting,
Firehose not delivering.

Each alarm notifies ``topic_arn`` (if given) on ALARM and on OK, so a recovery is seen too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pulumi
import pulumi_aws as aws

if TYPE_CHECKING:
    from .common import AlarmSettings


def _alarm(
    parent: pulumi.Resource,
    resource_name: str,
    *,
    description: str,
    namespace: str,
    metric_name: str,
    dimensions: dict[str, pulumi.Input[str]],
    statistic: str,
    comparison_operator: str,
    threshold: float,
    period: int,
    evaluation_periods: int,
    topic_arn: str | None,
) -> aws.cloudwatch.MetricAlarm:
    actions = [topic_arn] if topic_arn else []
    return aws.cloudwatch.MetricAlarm(
        resource_name,
        alarm_description=description,
        namespace=namespace,
        metric_name=metric_name,
        dimensions=dimensions,
        statistic=statistic,
        comparison_operator=comparison_operator,
        threshold=threshold,
        period=period,
        evaluation_periods=evaluation_periods,
        treat_missing_data="notBreaching",
        alarm_actions=actions,
        ok_actions=actions,
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
) -> list[aws.cloudwatch.MetricAlarm]:
    """Iterator age, errors, throttles, and both queues' depth for one stream consumer."""
    fn = {"FunctionName": function_name}
    return [
        _alarm(
            parent,
            f"{name}-iterator-age-alarm",
            description="The consumer is falling behind its stream.",
            namespace="AWS/Lambda",
            metric_name="IteratorAge",
            dimensions=fn,
            statistic="Maximum",
            comparison_operator="GreaterThanThreshold",
            threshold=settings.iterator_age_ms,
            evaluation_periods=settings.evaluation_periods,
            period=settings.period_seconds,
            topic_arn=settings.topic_arn,
        ),
        _alarm(
            parent,
            f"{name}-errors-alarm",
            description="The function failed (the mapping retries the batch).",
            namespace="AWS/Lambda",
            metric_name="Errors",
            dimensions=fn,
            statistic="Sum",
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            evaluation_periods=1,
            period=settings.period_seconds,
            topic_arn=settings.topic_arn,
        ),
        _alarm(
            parent,
            f"{name}-throttles-alarm",
            description="The function was throttled.",
            namespace="AWS/Lambda",
            metric_name="Throttles",
            dimensions=fn,
            statistic="Sum",
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            evaluation_periods=1,
            period=settings.period_seconds,
            topic_arn=settings.topic_arn,
        ),
        _alarm(
            parent,
            f"{name}-dead-letters-alarm",
            description="Poison records are waiting in the dead-letter queue.",
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": dead_letter_queue_name},
            statistic="Maximum",
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            evaluation_periods=1,
            period=settings.period_seconds,
            topic_arn=settings.topic_arn,
        ),
        _alarm(
            parent,
            f"{name}-mapping-failures-alarm",
            description="Batches gave up after their retries (see the on-failure queue).",
            namespace="AWS/SQS",
            metric_name="ApproximateNumberOfMessagesVisible",
            dimensions={"QueueName": failure_queue_name},
            statistic="Maximum",
            comparison_operator="GreaterThanThreshold",
            threshold=0,
            evaluation_periods=1,
            period=settings.period_seconds,
            topic_arn=settings.topic_arn,
        ),
    ]


def firehose_alarms(
    parent: pulumi.Resource,
    name: str,
    *,
    delivery_stream_name: pulumi.Input[str],
    buffering_interval_seconds: int,
    settings: AlarmSettings,
) -> list[aws.cloudwatch.MetricAlarm]:
    """Firehose delivery to S3: data getting stale, deliveries failing."""
    stream = {"DeliveryStreamName": delivery_stream_name}
    return [
        _alarm(
            parent,
            f"{name}-delivery-freshness-alarm",
            description="The oldest record in Firehose waits well past the buffer interval.",
            namespace="AWS/Firehose",
            metric_name="DeliveryToS3.DataFreshness",
            dimensions=stream,
            statistic="Maximum",
            comparison_operator="GreaterThanThreshold",
            threshold=2 * buffering_interval_seconds + 300,
            period=300,
            evaluation_periods=1,
            topic_arn=settings.topic_arn,
        ),
        _alarm(
            parent,
            f"{name}-delivery-failures-alarm",
            description="Firehose deliveries to S3 are failing.",
            namespace="AWS/Firehose",
            metric_name="DeliveryToS3.Success",
            dimensions=stream,
            statistic="Minimum",
            comparison_operator="LessThanThreshold",
            threshold=1,
            period=300,
            evaluation_periods=1,
            topic_arn=settings.topic_arn,
        ),
    ]
