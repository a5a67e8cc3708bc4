"""One CloudWatch dashboard for a stack's part of the pipeline.

Widgets, each on metrics that exist (``tests/test_dashboard.py`` checks every one against what
the handlers emit and AWS's metric tables):

* iterator age (``AWS/Lambda`` ``IteratorAge``, maximum) and invocations/errors of every stream
  consumer function;
* each function's own embedded metrics (the handlers' ``records_in``, ``written``, ``retried``,
  ``poison``, ``failed``, and the ones only some emit: :data:`HANDLER_METRICS`), namespace
  ``metrics_namespace``, dimension ``service`` = the function's Powertools service name;
* messages waiting in each dead-letter and on-failure queue (``AWS/SQS``
  ``ApproximateNumberOfMessagesVisible``);
* Firehose delivery freshness and success (``AWS/Firehose`` ``DeliveryToS3.DataFreshness``,
  ``DeliveryToS3.Success``);
* table writes and write throttles (``AWS/DynamoDB`` ``ConsumedWriteCapacityUnits``,
  ``WriteThrottleEvents``);
* the state of every alarm given (an alarm status widget).
"""

import json
import re
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from .exceptions import SettingError
from .settings import fill_defaults, physical_name
from .validation import check_choice, check_range, check_region

#: The embedded metrics each handler emits per batch (``runtime.emit_metrics`` in
#: ``handlers/replicator.py``, ``archiver.py``, ``query_writer.py``), by function kind.
HANDLER_METRICS: dict[str, tuple[str, ...]] = {
    "replicator": (
        "records_in",
        "written",
        "retried",
        "poison",
        "failed",
        "filtered",
        "empty_aggregates",
    ),
    "archiver": ("records_in", "written", "retried", "poison", "failed", "skipped", "filtered"),
    "query_writer": (
        "records_in",
        "written",
        "retried",
        "poison",
        "failed",
        "skipped",
        "ttl_expiries",
    ),
}
#: The handlers' metrics namespace unless a function sets ``metrics_namespace``.
DEFAULT_METRICS_NAMESPACE = "StreamReplica"
#: CloudWatch dashboard names: up to 255 of ``A-Za-z0-9-_`` (PutDashboard ``DashboardName``).
DASHBOARD_NAME = re.compile(r"[A-Za-z0-9_-]{1,255}")
#: An alarm status widget shows at most 100 alarms.
MAX_ALARMS_PER_WIDGET = 100

PIPELINE_DASHBOARD_DEFAULTS: dict[str, Any] = {
    "functions": [],
    "delivery_stream_names": [],
    "table_names": [],
    "alarm_arns": [],
    "period_seconds": 60,
}


@dataclass
class DashboardFunction:
    """One stream consumer function on the dashboard."""

    kind: str
    """``replicator``, ``archiver`` or ``query_writer``: which handler runs (its metrics)."""
    function_name: pulumi.Input[str]
    """The function's name (``AWS/Lambda`` ``FunctionName``)."""
    service_name: pulumi.Input[str]
    """The function's Powertools service name: the ``service`` dimension of its metrics."""
    metrics_namespace: pulumi.Input[str] | None = None
    """The namespace of its embedded metrics. Default: ``StreamReplica``."""
    dead_letter_queue_url: pulumi.Input[str] | None = None
    """Its dead-letter queue's URL (the queue's name is the URL's last part). Default: none."""
    failure_queue_url: pulumi.Input[str] | None = None
    """Its mapping's on-failure queue's URL. Default: none."""


@dataclass
class PipelineDashboardArgs:
    """Inputs of :class:`PipelineDashboard`. Fields left ``None`` take
    ``PIPELINE_DASHBOARD_DEFAULTS``."""

    region: pulumi.Input[str]
    """Region of the metrics (the stack's)."""
    functions: list[DashboardFunction] | None = None
    """The stack's stream consumer functions. Default: none."""
    delivery_stream_names: list[pulumi.Input[str]] | None = None
    """Firehose delivery streams to show. Default: none."""
    table_names: list[pulumi.Input[str]] | None = None
    """DynamoDB tables whose writes to show. Default: none."""
    alarm_arns: list[pulumi.Input[str]] | None = None
    """Alarms whose state to show, at most 100. Default: none."""
    period_seconds: int | None = None
    """Period of every graph, a multiple of 60 s. Default: 60."""
    dashboard_name: str | None = None
    """The dashboard's name, 1..255 of ``A-Za-z0-9-_``. Default: derived from the component's
    name."""

    def __post_init__(self) -> None:
        fill_defaults(self, PIPELINE_DASHBOARD_DEFAULTS)
        self.functions = [
            DashboardFunction(**f) if isinstance(f, dict) else f for f in self.functions or []
        ]

    def validate(self) -> None:
        """:class:`SettingError` naming the field for settings that can't work."""
        owner = "PipelineDashboardArgs"
        check_region(owner, "region", self.region)
        for index, function in enumerate(self.functions or []):
            check_choice(owner, f"functions[{index}].kind", function.kind, list(HANDLER_METRICS))
        period = int(self.period_seconds or 0)
        check_range(owner, "period_seconds", period, 60, 86_400, "CloudWatch metric periods")
        if period % 60:
            raise SettingError(owner, "period_seconds", f"must be a multiple of 60, not {period}")
        if len(self.alarm_arns or []) > MAX_ALARMS_PER_WIDGET:
            raise SettingError(
                owner, "alarm_arns", f"an alarm status widget shows at most {MAX_ALARMS_PER_WIDGET}"
            )
        if self.dashboard_name is not None and not DASHBOARD_NAME.fullmatch(self.dashboard_name):
            raise SettingError(
                owner, "dashboard_name", "must be 1..255 of A-Za-z0-9-_ (PutDashboard)"
            )


def queue_name(url: str) -> str:
    """An SQS queue's name from its URL (``https://sqs.<region>.amazonaws.com/<acct>/<name>``)."""
    return url.rstrip("/").rsplit("/", 1)[-1]


def _widget(
    title: str, metrics: list[list[Any]], region: str, period: int, **props: Any
) -> dict[str, Any]:
    return {
        "type": "metric",
        "properties": {
            "title": title,
            "metrics": metrics,
            "region": region,
            "period": period,
            "view": "timeSeries",
            **props,
        },
    }


def dashboard_body(
    region: str,
    functions: list[dict[str, Any]],
    delivery_streams: list[str],
    tables: list[str],
    alarm_arns: list[str],
    period: int,
) -> dict[str, Any]:
    """The dashboard body (CloudWatch's dashboard body structure) from plain values.
    ``functions``: dicts with ``kind``, ``function_name``, ``service_name``, ``namespace`` and
    ``queues`` (queue names)."""
    widgets: list[dict[str, Any]] = []
    if functions:
        widgets.append(
            _widget(
                "Iterator age (ms, maximum)",
                [
                    [
                        "AWS/Lambda",
                        "IteratorAge",
                        "FunctionName",
                        f["function_name"],
                        {"stat": "Maximum", "label": f["function_name"]},
                    ]
                    for f in functions
                ],
                region,
                period,
            )
        )
        widgets.append(
            _widget(
                "Invocations and errors",
                [
                    [
                        "AWS/Lambda",
                        metric,
                        "FunctionName",
                        f["function_name"],
                        {"stat": "Sum", "label": f"{f['function_name']} {metric}"},
                    ]
                    for f in functions
                    for metric in ("Invocations", "Errors")
                ],
                region,
                period,
            )
        )
    for f in functions:
        widgets.append(
            _widget(
                f"{f['function_name']}: records per batch outcome ({f['kind']} metrics)",
                [
                    [
                        f["namespace"],
                        metric,
                        "service",
                        f["service_name"],
                        {"stat": "Sum", "label": metric},
                    ]
                    for metric in HANDLER_METRICS[f["kind"]]
                ],
                region,
                period,
            )
        )
    queues = [name for f in functions for name in f["queues"]]
    if queues:
        widgets.append(
            _widget(
                "Messages waiting in the dead-letter and on-failure queues",
                [
                    [
                        "AWS/SQS",
                        "ApproximateNumberOfMessagesVisible",
                        "QueueName",
                        name,
                        {"stat": "Maximum", "label": name},
                    ]
                    for name in queues
                ],
                region,
                period,
            )
        )
    if delivery_streams:
        widgets.append(
            _widget(
                "Firehose: delivery freshness (s, left) and success (right)",
                [
                    row
                    for stream in delivery_streams
                    for row in (
                        [
                            "AWS/Firehose",
                            "DeliveryToS3.DataFreshness",
                            "DeliveryStreamName",
                            stream,
                            {"stat": "Maximum", "label": f"{stream} freshness"},
                        ],
                        [
                            "AWS/Firehose",
                            "DeliveryToS3.Success",
                            "DeliveryStreamName",
                            stream,
                            {"stat": "Average", "label": f"{stream} success", "yAxis": "right"},
                        ],
                    )
                ],
                region,
                period,
            )
        )
    if tables:
        widgets.append(
            _widget(
                "Table writes: consumed write units and write throttles",
                [
                    [
                        "AWS/DynamoDB",
                        metric,
                        "TableName",
                        table,
                        {"stat": "Sum", "label": f"{table} {metric}"},
                    ]
                    for table in tables
                    for metric in ("ConsumedWriteCapacityUnits", "WriteThrottleEvents")
                ],
                region,
                period,
            )
        )
    if alarm_arns:
        widgets.append(
            {"type": "alarm", "properties": {"title": "Alarms", "alarms": sorted(alarm_arns)}}
        )
    for index, widget in enumerate(widgets):
        widget.update(x=(index % 2) * 12, y=(index // 2) * 6, width=12, height=6)
    return {"widgets": widgets}


class PipelineDashboard(pulumi.ComponentResource):
    """A CloudWatch dashboard of one stack's functions, queues, delivery streams, tables and
    alarms (module docstring).

    Outputs: ``dashboard_name``, ``dashboard_arn``.
    """

    dashboard_name: pulumi.Output[str]
    """The dashboard's name."""
    dashboard_arn: pulumi.Output[str]
    """The dashboard's ARN."""

    def __init__(
        self,
        name: str,
        args: PipelineDashboardArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("stream-replica:index:PipelineDashboard", name, None, opts)
        if isinstance(args, dict):  # the multi-language provider passes a dict
            args = PipelineDashboardArgs(**args)
        args.validate()
        self.args = args
        functions = args.functions or []

        def resolved(function: DashboardFunction) -> pulumi.Output[dict[str, Any]]:
            queues = [
                pulumi.Output.from_input(url).apply(queue_name)
                for url in (function.dead_letter_queue_url, function.failure_queue_url)
                if url is not None
            ]
            return pulumi.Output.all(
                pulumi.Output.from_input(function.function_name),
                pulumi.Output.from_input(function.service_name),
                pulumi.Output.from_input(function.metrics_namespace),
                *queues,
            ).apply(
                lambda values: {
                    "kind": function.kind,
                    "function_name": values[0],
                    "service_name": values[1],
                    "namespace": values[2] or DEFAULT_METRICS_NAMESPACE,
                    "queues": list(values[3:]),
                }
            )

        body = pulumi.Output.all(
            region=pulumi.Output.from_input(args.region),
            functions=pulumi.Output.all(*[resolved(f) for f in functions]),
            streams=pulumi.Output.all(*(args.delivery_stream_names or [])),
            tables=pulumi.Output.all(*(args.table_names or [])),
            alarms=pulumi.Output.all(*(args.alarm_arns or [])),
        ).apply(
            lambda v: json.dumps(
                dashboard_body(
                    v["region"],
                    list(v["functions"]),
                    list(v["streams"]),
                    list(v["tables"]),
                    list(v["alarms"]),
                    int(args.period_seconds or 60),
                )
            )
        )
        self.dashboard = aws.cloudwatch.Dashboard(
            f"{name}-dashboard",
            dashboard_name=args.dashboard_name or physical_name(name, "", 255, r"\w-"),
            dashboard_body=body,
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.dashboard_name = self.dashboard.dashboard_name
        self.dashboard_arn = self.dashboard.dashboard_arn
        self.register_outputs(
            {"dashboard_name": self.dashboard_name, "dashboard_arn": self.dashboard_arn}
        )
