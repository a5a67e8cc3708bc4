"""Drive the component provider the way the Pulumi engine does: its own process, gRPC both ways.

The engine starts the provider (``python -u <provider folder> <engine address>``), reads the
port it prints, and for each component a program in another language declares sends
``Construct`` with the address of its resource monitor. The provider builds the component
there and registers each child with ``RegisterResource`` on that monitor, logs through the
engine's ``Log``, and answers with the component's URN and outputs.

:class:`Engine` is that engine in this process: a gRPC server offering the ``Engine`` service
and a ``ResourceMonitor`` that hands every call to the test harness's ``RecordingMonitor``
(realistic ids/ARNs per provider account, every registration recorded), so a component built
through the provider is recorded exactly as one built through the Python API.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator, Mapping
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.proto import (
    engine_pb2,
    engine_pb2_grpc,
    provider_pb2,
    provider_pb2_grpc,
    resource_pb2,
    resource_pb2_grpc,
)
from stream_replica.testing.mocks import RecordedResource, RecordingMocks, RecordingMonitor

PROJECT = "component-test"
STACK = "test"
STACK_URN = f"urn:pulumi:{STACK}::{PROJECT}::pulumi:pulumi:Stack::{PROJECT}-{STACK}"


class _Monitor(RecordingMonitor):
    """The harness's monitor with this engine's project and stack in its URNs."""

    def make_urn(self, parent: str, type_: str, name: str) -> str:
        if parent:
            type_ = parent.split("::")[2].split("$")[-1] + "$" + type_
        return "urn:pulumi:" + "::".join([STACK, PROJECT, type_, name])


class _MonitorService(resource_pb2_grpc.ResourceMonitorServicer):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def SupportsFeature(self, request: Any, context: Any) -> Any:
        answer = self.engine.monitor.SupportsFeature(request)
        return resource_pb2.SupportsFeatureResponse(hasSupport=answer.hasSupport)

    def GetDeploymentInfo(self, request: Any, context: Any) -> Any:
        return self.engine.monitor.GetDeploymentInfo(request)

    def RegisterResource(self, request: Any, context: Any) -> Any:
        return self.engine.monitor.RegisterResource(request)

    def RegisterResourceOutputs(self, request: Any, context: Any) -> Any:
        self.engine.outputs[request.urn] = rpc.deserialize_properties(request.outputs)
        return empty_pb2.Empty()

    def ReadResource(self, request: Any, context: Any) -> Any:
        return self.engine.monitor.ReadResource(request)

    def Invoke(self, request: Any, context: Any) -> Any:
        return self.engine.monitor.Invoke(request)

    def RegisterPackage(self, request: Any, context: Any) -> Any:
        return self.engine.monitor.RegisterPackage(request)

    def SignalAndWaitForShutdown(self, request: Any, context: Any) -> Any:
        return empty_pb2.Empty()


class _EngineService(engine_pb2_grpc.EngineServicer):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def Log(self, request: Any, context: Any) -> Any:
        severity = engine_pb2.LogSeverity.Name(request.severity).lower()
        if severity != "debug":
            self.engine.logs.append((severity, request.message))
        return empty_pb2.Empty()

    def GetRootResource(self, request: Any, context: Any) -> Any:
        return engine_pb2.GetRootResourceResponse(urn=STACK_URN)

    def SetRootResource(self, request: Any, context: Any) -> Any:
        return engine_pb2.SetRootResourceResponse()


@dataclass
class Constructed:
    """What one ``Construct`` did: the answer and everything it registered."""

    urn: str
    state: dict[str, Any]
    resources: list[RecordedResource]
    registered_outputs: dict[str, Any]
    logs: list[tuple[str, str]] = field(default_factory=list)


class Engine:
    """The engine side: monitor + engine services on one port, and the provider process."""

    def __init__(self) -> None:
        self.monitor = _Monitor(RecordingMocks())
        self.logs: list[tuple[str, str]] = []
        self.outputs: dict[str, Any] = {}
        self._lock = threading.Lock()
        self.server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
        resource_pb2_grpc.add_ResourceMonitorServicer_to_server(_MonitorService(self), self.server)
        engine_pb2_grpc.add_EngineServicer_to_server(_EngineService(self), self.server)
        self.port = self.server.add_insecure_port("127.0.0.1:0")
        self.server.start()
        self.address = f"127.0.0.1:{self.port}"

    def register_provider(self, name: str, region: str, account: str) -> str:
        """Register an ``aws`` provider as the calling program would; returns its reference."""
        request = resource_pb2.RegisterResourceRequest(
            type="pulumi:providers:aws",
            name=name,
            parent=STACK_URN,
            custom=True,
            object=struct({"region": region, "allowedAccountIds": f'["{account}"]'}),
        )
        response = self.monitor.RegisterResource(request)
        return f"{response.urn}::{response.id}"

    def construct(
        self,
        provider: Any,
        type_: str,
        name: str,
        inputs: Mapping[str, Any],
        *,
        providers: Mapping[str, str] | None = None,
        input_dependencies: Mapping[str, list[str]] | None = None,
    ) -> Constructed:
        """One ``Construct`` call, as the engine sends it for a program's component."""
        with self._lock:
            first = len(self.monitor.records)
            self.logs, self.outputs = [], {}
            response = provider.Construct(
                provider_pb2.ConstructRequest(
                    project=PROJECT,
                    stack=STACK,
                    organization="organization",
                    dryRun=False,
                    parallel=8,
                    monitorEndpoint=self.address,
                    type=type_,
                    name=name,
                    parent=STACK_URN,
                    inputs=struct(inputs),
                    inputDependencies={
                        key: provider_pb2.ConstructRequest.PropertyDependencies(urns=urns)
                        for key, urns in (input_dependencies or {}).items()
                    },
                    providers=dict(providers or {}),
                    accepts_output_values=True,
                ),
                timeout=60,
            )
            return Constructed(
                urn=response.urn,
                state=rpc.deserialize_properties(response.state),
                resources=self.monitor.records[first:],
                registered_outputs=dict(self.outputs),
                logs=list(self.logs),
            )

    def stop(self) -> None:
        self.server.stop(grace=None)


def struct(values: Mapping[str, Any]) -> struct_pb2.Struct:
    message = struct_pb2.Struct()
    message.update(dict(values))
    return message


def resource_reference(ref: str) -> dict[str, Any]:
    """A provider reference (``urn::id``) as a resource-reference property value."""
    urn, _, id_ = ref.rpartition("::")
    return {rpc._special_sig_key: rpc._special_resource_sig, "urn": urn, "id": id_}


def output_value(value: Any, *dependencies: str) -> dict[str, Any]:
    """An output value property (a known Output another resource produced)."""
    return {
        rpc._special_sig_key: rpc._special_output_value_sig,
        "value": value,
        "dependencies": list(dependencies),
    }


@contextmanager
def provider_process(folder: Path, engine: Engine) -> Iterator[Any]:
    """The provider started as the engine starts it; yields a ``ResourceProvider`` stub."""
    proc = subprocess.Popen(
        [sys.executable, "-u", ".", engine.address],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        if not line.strip().isdigit():
            proc.kill()
            _, err = proc.communicate(timeout=10)
            raise AssertionError(f"provider did not start: {line!r} {err.decode()[-3000:]}")
        channel = grpc.insecure_channel(f"127.0.0.1:{int(line)}")
        try:
            yield provider_pb2_grpc.ResourceProviderStub(channel)
        finally:
            channel.close()
    finally:
        proc.kill()
        proc.wait(timeout=10)
