"""Every metric the stacks' dashboards graph exists: the handlers' own metrics as the handlers
really emit them (their embedded-metric output, captured here), AWS's metrics as AWS's metric
tables list them, each on a resource the stack has."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from handler_support import blob, failures
from stream_replica.components.dashboard import HANDLER_METRICS
from stream_replica.testing import RenderedStack
from test_query_writer import Query

from tests.stack_runs import run_stack

#: AWS's metrics the dashboards may graph, with the one dimension each is graphed by, from
#: AWS's metric tables:
#: Lambda https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html;
#: SQS https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-available-cloudwatch-metrics.html;
#: Firehose https://docs.aws.amazon.com/firehose/latest/dev/monitoring-with-cloudwatch-metrics.html
#: (DeliveryToS3.DataFreshness in seconds, DeliveryToS3.Success a 0..1 ratio);
#: DynamoDB https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/metrics-dimensions.html.
AWS_METRICS = {
    ("AWS/Lambda", "IteratorAge"): "FunctionName",
    ("AWS/Lambda", "Invocations"): "FunctionName",
    ("AWS/Lambda", "Errors"): "FunctionName",
    ("AWS/SQS", "ApproximateNumberOfMessagesVisible"): "QueueName",
    ("AWS/Firehose", "DeliveryToS3.DataFreshness"): "DeliveryStreamName",
    ("AWS/Firehose", "DeliveryToS3.Success"): "DeliveryStreamName",
    ("AWS/DynamoDB", "WriteThrottleEvents"): "TableName",
    ("AWS/DynamoDB", "ConsumedWriteCapacityUnits"): "TableName",
}
#: The resource type whose name each AWS dimension names.
DIMENSION_RESOURCE = {
    "FunctionName": "aws:lambda/function:Function",
    "QueueName": "aws:sqs/queue:Queue",
    "DeliveryStreamName": "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream",
    "TableName": "aws:dynamodb/table:Table",
}
DASHBOARD = "aws:cloudwatch/dashboard:Dashboard"
FUNCTION = "aws:lambda/function:Function"
#: The handler module each dashboard function kind runs.
HANDLER_OF_KIND = {
    "replicator": "handlers.replicator.handler",
    "archiver": "handlers.archiver.handler",
    "query_writer": "handlers.query_writer.handler",
}


@pytest.fixture(scope="module")
def stacks() -> dict[str, RenderedStack]:
    return {name: run_stack(name) for name in ("poc", "prod")}


def _emf(output: str) -> Iterator[tuple[str, str, tuple[str, ...], str]]:
    """(namespace, metric, dimension names, service) of each embedded-metric document."""
    for line in output.splitlines():
        if not line.startswith('{"_aws"'):
            continue
        document = json.loads(line)
        for directive in document["_aws"]["CloudWatchMetrics"]:
            (dimensions,) = directive["Dimensions"]
            for metric in directive["Metrics"]:
                yield (
                    directive["Namespace"],
                    metric["Name"],
                    tuple(dimensions),
                    document["service"],
                )


@pytest.fixture
def emitted(world: Any, capsys: pytest.CaptureFixture[str]) -> dict[str, set[tuple[str, str]]]:
    """Per handler kind, the (namespace, metric) pairs it emitted in a batch, each with the one
    dimension ``service``."""
    world.source.put([blob({"userEmail": "a@x", "timestamp": 1, "n": 1}), b"not json"])
    assert failures(world.replicate(world.source.event())) == []
    out = {"replicator": capsys.readouterr().out}
    event = world.target.stream_event()
    assert failures(world.archive(event)) == []
    out["archiver"] = capsys.readouterr().out
    assert failures(Query(world).write(event)) == []
    out["query_writer"] = capsys.readouterr().out
    metrics: dict[str, set[tuple[str, str]]] = {}
    for kind, text in out.items():
        documents = list(_emf(text))
        assert documents, kind
        assert {dims for _, _, dims, _ in documents} == {("service",)}, kind
        metrics[kind] = {(namespace, name) for namespace, name, _, _ in documents}
    return metrics


def _rows(body: dict[str, Any]) -> Iterator[tuple[str, str, str, str]]:
    """(namespace, metric, dimension name, dimension value) of every graphed metric."""
    for widget in body["widgets"]:
        if widget["type"] != "metric":
            continue
        for row in widget["properties"]["metrics"]:
            namespace, metric, dimension, value, _options = row
            yield namespace, metric, dimension, value


def _body(stack: RenderedStack) -> dict[str, Any]:
    return json.loads(stack.one(DASHBOARD).inputs["dashboardBody"])


def test_the_handler_metrics_graphed_are_the_ones_the_handlers_emit(stacks, emitted):
    for stack in stacks.values():
        body = _body(stack)
        graphed = [row for row in _rows(body) if not row[0].startswith("AWS/")]
        assert graphed
        for function in stack.of_type(FUNCTION):
            env = function.inputs["environment"]["variables"]
            (kind,) = [k for k, h in HANDLER_OF_KIND.items() if h == function.inputs["handler"]]
            service, namespace = env["POWERTOOLS_SERVICE_NAME"], env["POWERTOOLS_METRICS_NAMESPACE"]
            mine = {(ns, metric) for ns, metric, dim, value in graphed if value == service}
            # Each function's metrics: by its service dimension, exactly what its handler emits.
            assert {dim for _, _, dim, value in graphed if value == service} == {"service"}
            assert mine == {(namespace, name) for _, name in emitted[kind]}, kind
            assert {name for _, name in mine} == set(HANDLER_METRICS[kind])
        services = {
            f.inputs["environment"]["variables"]["POWERTOOLS_SERVICE_NAME"]
            for f in stack.of_type(FUNCTION)
        }
        assert {value for *_, value in graphed} == services


def test_the_aws_metrics_graphed_exist_on_resources_of_the_stack(stacks):
    seen: set[tuple[str, str]] = set()
    for name, stack in stacks.items():
        for namespace, metric, dimension, value in _rows(_body(stack)):
            if not namespace.startswith("AWS/"):
                continue
            assert AWS_METRICS.get((namespace, metric)) == dimension, (namespace, metric)
            names = {r.state["name"] for r in stack.of_type(DIMENSION_RESOURCE[dimension])}
            assert value in names, (name, namespace, metric, value)
            seen.add((namespace, metric))
        # Every function's iterator age, every queue, every table of the stack is on it.
        rows = set(_rows(_body(stack)))
        for function in stack.of_type(FUNCTION):
            assert ("AWS/Lambda", "IteratorAge", "FunctionName", function.state["name"]) in rows
        for queue in stack.of_type(DIMENSION_RESOURCE["QueueName"]):
            sqs = ("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName")
            assert (*sqs, queue.state["name"]) in rows
        for table in stack.of_type(DIMENSION_RESOURCE["TableName"]):
            assert ("AWS/DynamoDB", "WriteThrottleEvents", "TableName", table.state["name"]) in rows
    assert seen == set(AWS_METRICS)  # the poc and prod dashboards together graph each one


def test_the_alarm_widget_shows_every_alarm_of_the_stack(stacks):
    for stack in stacks.values():
        (widget,) = [w for w in _body(stack)["widgets"] if w["type"] == "alarm"]
        alarms = {a.state["arn"] for a in stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")}
        assert alarms and set(widget["properties"]["alarms"]) == alarms
        (dashboard,) = stack.of_type(DASHBOARD)
        assert dashboard.name == "dashboard-dashboard"
        assert stack.outputs["dashboardName"] == dashboard.state["dashboardName"]


def test_without_the_option_no_dashboard():
    stack = run_stack("prod", {"dashboardEnabled": False})
    assert stack.of_type(DASHBOARD) == []
    assert "dashboardName" not in stack.outputs
