"""The stack's dashboard (``dashboardEnabled``): one :class:`PipelineDashboard` over whatever the
stack runs — its stream consumer functions, delivery stream, tables and alarms."""

from collections.abc import Callable, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws
from stream_replica.components.dashboard import (
    DashboardFunction,
    PipelineDashboard,
    PipelineDashboardArgs,
)

from stack_config.settings import Settings


def _environment(component: Any, variable: str) -> pulumi.Output[str]:
    """A variable of the component's function's environment, as deployed."""
    return component.function.environment.apply(
        lambda environment: str(((environment or {}).get("variables") or {})[variable])
    )


def consumer(kind: str, component: Any) -> DashboardFunction:
    """``component`` (a ReplicaSource, StreamToS3Archiver or StreamToQueryTable) as a dashboard
    function of ``kind``: its function, the Powertools service name and metrics namespace its
    environment sets, and its queues."""
    return DashboardFunction(
        kind=kind,
        function_name=component.function_name,
        service_name=_environment(component, "POWERTOOLS_SERVICE_NAME"),
        metrics_namespace=_environment(component, "POWERTOOLS_METRICS_NAMESPACE"),
        dead_letter_queue_url=component.dead_letter_queue_url,
        failure_queue_url=component.failure_queue_url,
    )


def add_dashboard(
    settings: Settings,
    provider: Callable[[str], aws.Provider],
    consumers: Sequence[tuple[str, Any]],
    delivery_stream_names: Sequence[pulumi.Input[str]] = (),
    table_names: Sequence[pulumi.Input[str]] = (),
) -> PipelineDashboard | None:
    """The stack's dashboard (its provider from ``provider(component name)``), exported as
    ``dashboardName``; ``None`` when ``dashboardEnabled`` is false or the stack runs no function
    (prod in target placement)."""
    if not settings.config.boolean("dashboardEnabled") or not consumers:
        return None
    dashboard = PipelineDashboard(
        "dashboard",
        PipelineDashboardArgs(
            region=settings.region,
            functions=[consumer(kind, component) for kind, component in consumers],
            delivery_stream_names=list(delivery_stream_names),
            table_names=list(table_names),
            alarm_arns=[alarm.arn for _, component in consumers for alarm in component.alarms],
        ),
        opts=pulumi.ResourceOptions(provider=provider("dashboard")),
    )
    pulumi.export("dashboardName", dashboard.dashboard_name)
    return dashboard
