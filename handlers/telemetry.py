"""The handlers' logs and metrics: Powertools' structured JSON logger and one CloudWatch
embedded-metric-format document per invocation.

Powertools is imported at first use (a layer provides it), so importing a handler costs little
more than importing boto3.
"""

from __future__ import annotations

import threading
from typing import Any

from .environment import (
    DEFAULT_METRICS_NAMESPACE,
    POWERTOOLS_METRICS_NAMESPACE,
    POWERTOOLS_SERVICE_NAME,
    env_str,
)

_lock = threading.Lock()
_loggers: dict[str, Any] = {}


def get_logger(default_service: str) -> Any:
    """The Powertools ``Logger`` of ``POWERTOOLS_SERVICE_NAME`` (default ``default_service``),
    created at first use and kept for the execution environment."""
    service = env_str(POWERTOOLS_SERVICE_NAME, default_service)
    with _lock:
        log = _loggers.get(service)
        if log is None:
            from aws_lambda_powertools import Logger

            log = Logger(service=service)
            _loggers[service] = log
        return log


def emit_metrics(default_service: str, counts: dict[str, int]) -> None:
    """Print one CloudWatch embedded-metric-format document with ``counts`` (unit Count), in
    ``POWERTOOLS_METRICS_NAMESPACE`` (default :data:`.environment.DEFAULT_METRICS_NAMESPACE`)
    with the dimension ``service`` (``POWERTOOLS_SERVICE_NAME``, default ``default_service``).

    A provider per call (not Powertools' shared ``Metrics`` class state) keeps the handlers'
    metrics apart when several run in one process (the sandbox)."""
    from aws_lambda_powertools.metrics.provider.cloudwatch_emf.cloudwatch import (
        AmazonCloudWatchEMFProvider,
    )

    provider = AmazonCloudWatchEMFProvider(
        namespace=env_str(POWERTOOLS_METRICS_NAMESPACE, DEFAULT_METRICS_NAMESPACE),
        service=env_str(POWERTOOLS_SERVICE_NAME, default_service),
    )
    for name, value in counts.items():
        provider.add_metric(name=name, unit="Count", value=value)
    provider.flush_metrics()
