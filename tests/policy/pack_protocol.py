"""Talk to the pack the way the Pulumi CLI does: the analyzer protocol, in-process or over gRPC.

The CLI asks ``GetAnalyzerInfo`` for the policies (their default levels and config schemas),
merges the user's policy config file over them and sends the result with ``Configure`` (every
policy's level and properties), then calls ``Analyze`` per resource and ``AnalyzeStack`` once.
:func:`configure` does the same merge; :func:`analyze` sends the resources. Both take a gRPC
``AnalyzerStub`` or :func:`in_process` (pulumi-policy's own servicer, no process), so the levels
are applied by pulumi-policy itself in both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2

Analyzer = Any


@dataclass(frozen=True)
class Diagnostic:
    policy: str
    level: str
    """``advisory`` / ``mandatory`` (the level pulumi-policy reported it at)."""
    message: str
    urn: str = ""


@dataclass(frozen=True)
class Resource:
    """What the engine sends for one resource (``inputs`` for Analyze, ``inputs`` + ``state``
    for AnalyzeStack)."""

    type: str
    name: str
    urn: str
    inputs: Mapping[str, Any]
    state: Mapping[str, Any]
    parent: str | None = None
    custom: bool = True


class _InProcess:
    """pulumi-policy's ``_PolicyAnalyzerServicer`` with a stub's call signature."""

    def __init__(self, servicer: Any) -> None:
        self._servicer = servicer

    def __getattr__(self, method: str) -> Any:
        bound = getattr(self._servicer, method)
        return lambda request: bound(request, None)


def in_process(policies: list[Any], name: str = "stream-replica-guardrails") -> Analyzer:
    """The analyzer pulumi-policy's ``PolicyPack`` would serve for ``policies``, without a port."""
    from pulumi_policy import EnforcementLevel
    from pulumi_policy.policy import _PolicyAnalyzerServicer

    return _InProcess(_PolicyAnalyzerServicer(name, "0.0.1", policies, EnforcementLevel.ADVISORY))


def struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(dict(values))
    return message


def _level(text: str) -> analyzer_pb2.EnforcementLevel.ValueType:
    return analyzer_pb2.EnforcementLevel.Value(text.upper())


def configure(analyzer: Analyzer, config: Mapping[str, Any]) -> dict[str, tuple[str, dict]]:
    """Send ``Configure`` as the CLI does for a policy config file holding ``config``.

    ``config`` is the file's JSON: ``{"all": "advisory", "<policy>": "disabled",
    "<policy>": {"enforcementLevel": "mandatory", "<property>": ...}}``. Every policy gets its
    level (its entry, else ``all``, else its default) and its properties (schema defaults,
    then its entry). Returns ``policy -> (level, properties)`` as sent.
    """
    info = analyzer.GetAnalyzerInfo(empty_pb2.Empty())
    known = {p.name for p in info.policies} | {"all"}
    unknown = sorted(set(config) - known)
    if unknown:
        raise ValueError(f"policy config names unknown policies {unknown}")
    sent: dict[str, tuple[str, dict]] = {}
    for policy in info.policies:
        level = analyzer_pb2.EnforcementLevel.Name(policy.enforcementLevel).lower()
        if isinstance(config.get("all"), str):
            level = config["all"]
        schema = json_format.MessageToDict(policy.configSchema.properties)
        properties = {k: v["default"] for k, v in schema.items() if "default" in v}
        entry = config.get(policy.name)
        if isinstance(entry, str):
            level = entry
        elif isinstance(entry, Mapping):
            level = entry.get("enforcementLevel", level)
            properties.update({k: v for k, v in entry.items() if k != "enforcementLevel"})
        sent[policy.name] = (level, properties)
    analyzer.Configure(
        analyzer_pb2.ConfigureAnalyzerRequest(
            policyConfig={
                name: analyzer_pb2.PolicyConfig(
                    enforcementLevel=_level(level), properties=struct(properties)
                )
                for name, (level, properties) in sent.items()
            }
        )
    )
    return sent


def _diagnostics(response: Any) -> list[Diagnostic]:
    return [
        Diagnostic(
            d.policyName,
            analyzer_pb2.EnforcementLevel.Name(d.enforcementLevel).lower(),
            d.message,
            d.urn,
        )
        for d in response.diagnostics
    ]


def analyze(analyzer: Analyzer, resources: Iterable[Any]) -> list[Diagnostic]:
    """Every diagnostic for ``resources`` (custom ones to ``Analyze``, all to ``AnalyzeStack``).

    ``resources`` are :class:`Resource` or the harness's ``RecordedResource`` (same fields).
    """
    records = [r for r in resources if not r.type.startswith("pulumi:")]
    found: list[Diagnostic] = []
    for r in records:
        if not r.custom:
            continue
        request = analyzer_pb2.AnalyzeRequest(
            type=r.type,
            properties=struct(r.inputs),
            urn=r.urn,
            name=r.name,
            options=analyzer_pb2.AnalyzerResourceOptions(parent=r.parent or ""),
        )
        found += _diagnostics(analyzer.Analyze(request))
    stack = analyzer_pb2.AnalyzeStackRequest(
        resources=[
            analyzer_pb2.AnalyzerResource(
                type=r.type,
                properties=struct({**r.inputs, **r.state}),
                urn=r.urn,
                name=r.name,
                parent=r.parent or "",
            )
            for r in records
        ]
    )
    found += _diagnostics(analyzer.AnalyzeStack(stack))
    return found
