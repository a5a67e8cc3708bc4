"""The handlers' fallbacks agree with what the components set by default."""

from __future__ import annotations

import json

import pytest
from stream_replica.components import FUNCTION_DEFAULTS
from stream_replica.handlers import environment as env
from stream_replica.handlers import telemetry


def test_metrics_go_to_the_components_default_namespace_without_the_variable(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv(env.POWERTOOLS_METRICS_NAMESPACE, raising=False)
    monkeypatch.delenv(env.POWERTOOLS_SERVICE_NAME, raising=False)
    telemetry.emit_metrics("replicator", {"written": 3})
    document = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    (metrics,) = document["_aws"]["CloudWatchMetrics"]
    assert metrics["Namespace"] == FUNCTION_DEFAULTS.metrics_namespace == "StreamReplica"
    assert document["service"] == "replicator"
    assert document["written"] == [3.0] or document["written"] == 3.0


def test_the_variable_wins_over_the_default(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv(env.POWERTOOLS_METRICS_NAMESPACE, "Clicks")
    monkeypatch.setenv(env.POWERTOOLS_SERVICE_NAME, "clicks-source")
    telemetry.emit_metrics("replicator", {"written": 1})
    document = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert document["_aws"]["CloudWatchMetrics"][0]["Namespace"] == "Clicks"
    assert document["service"] == "clicks-source"
