"""Pulumi mocks for the stream replica's components, and a runner that records what they render.

Unit-test a program that uses the components without AWS or the Pulumi CLI::

    from stream_replica.testing import render

    def program():
        ...  # create providers and components, as in your __main__.py
        return {"table": replica.table_name}  # optional: outputs to resolve

    rendered = render(program)  # or render(main_program("__main__.py"))
    table = rendered.one("aws:dynamodb/table:Table")
    assert table.provider_name == "poc"
    policy = rendered.one("aws:iam/rolePolicy:RolePolicy", "clicks-source-policy").document()

``render(program, *, mocks=None, config=None, project="test", stack="test") -> Rendered``
    Runs ``program()`` as a whole Pulumi program under :class:`StreamReplicaMocks` (or
    ``mocks``) and returns every registration. ``config`` holds stack config values
    (``{"aws:region": "eu-west-1", "myproject:key": "v"}``, plain values or JSON strings).
    Resets Pulumi's process-global runtime before and after, so tests can call it repeatedly.

``main_program(path) -> program``
    A program that runs a project's ``__main__.py`` as the Pulumi CLI does.

``Rendered`` (also ``RenderedStack``)
    ``outputs``: the program's ``pulumi.export`` values and returned mapping, resolved to plain
    values. ``resources``: one
    :class:`RecordedResource` per registration, in order, including the providers
    (``pulumi:providers:aws``) and component resources. Inputs are fully resolved: IAM
    documents are JSON strings, see :meth:`RecordedResource.document`. Helpers: ``of_type``,
    ``one``, ``named``, ``children_of``, ``descendants_of``, ``provider_of``,
    ``policy_documents``. Each record also carries the resource options the engine sees
    (``dependencies``, ``protect``, ``retain_on_delete``, ``delete_before_replace``), and a
    component its registered ``outputs``.

:class:`StreamReplicaMocks` (also ``RecordingMocks``) returns realistic computed outputs for every
resource type the components create: ARNs in the account and region of the resource's provider
(an explicit ``aws.Provider``'s first ``allowed_account_ids`` entry and ``region``; otherwise
:data:`DEFAULT_ACCOUNT` / :data:`DEFAULT_REGION`), queue URLs, stream ARNs, the table's stream
ARN, event source mapping UUIDs, and autonames (logical name + 7 hex characters, deterministic so
tests can repeat). Data source calls fail the test (the components make none).
"""

from __future__ import annotations

import hashlib
import json
import runpy
import sys
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "eu-west-1"
PROVIDER_TYPE = "pulumi:providers:aws"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"

#: Where each resource type keeps an IAM document among its inputs.
POLICY_FIELDS: Mapping[str, tuple[str, ...]] = {
    "aws:iam/role:Role": ("assumeRolePolicy",),
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:iam/policy:Policy": ("policy",),
    "aws:s3/bucketPolicy:BucketPolicy": ("policy",),
    "aws:dynamodb/resourcePolicy:ResourcePolicy": ("policy",),
    "aws:kinesis/resourcePolicy:ResourcePolicy": ("policy",),
    "aws:sqs/queuePolicy:QueuePolicy": ("policy",),
    "aws:sqs/queue:Queue": ("policy",),
    "aws:sns/topicPolicy:TopicPolicy": ("policy",),
    "aws:sns/topic:Topic": ("policy",),
}


def autoname(name: str) -> str:
    """What Pulumi's autonaming would give ``name``, made deterministic."""
    return f"{name}-{hashlib.sha1(name.encode()).hexdigest()[:7]}"


@dataclass
class RecordedResource:
    """One registration as the engine saw it."""

    type: str
    name: str
    urn: str
    id: str
    inputs: dict[str, Any]
    state: dict[str, Any]
    parent: str | None
    provider: str | None
    custom: bool
    dependencies: list[str] = field(default_factory=list)
    """URNs this resource waits for: explicit ``depends_on`` plus its inputs' resources."""
    protect: bool = False
    """``protect`` resource option."""
    retain_on_delete: bool = False
    """``retain_on_delete`` resource option."""
    delete_before_replace: bool = False
    """``delete_before_replace`` resource option."""
    import_id: str = ""
    """``import_`` resource option: the id of an existing resource to adopt ("" = create)."""
    outputs: dict[str, Any] = field(default_factory=dict)
    """What a component passed to ``register_outputs`` (plain values; empty for others)."""

    def depends_on(self, other: RecordedResource) -> bool:
        """Whether this resource waits for ``other``."""
        return other.urn in self.dependencies

    @property
    def parent_name(self) -> str | None:
        """Logical name of the parent (``None`` for the stack's direct children)."""
        if not self.parent or self.parent.endswith("::pulumi:pulumi:Stack"):
            return None
        return self.parent.split("::")[-1]

    @property
    def provider_name(self) -> str | None:
        """Logical name of the explicit provider (``None`` = default provider)."""
        if not self.provider:
            return None
        return self.provider.split("::")[-2]

    def document(self, field_name: str = "policy") -> dict[str, Any]:
        """An IAM document input (JSON string) parsed."""
        raw = self.inputs.get(field_name)
        if not isinstance(raw, str):
            raise AssertionError(f"{self.type} {self.name}: {field_name} is {raw!r}, not JSON")
        parsed = json.loads(raw)
        assert isinstance(parsed, dict)
        return parsed


@dataclass
class RenderedStack:
    """What one program run registered and exported."""

    resources: list[RecordedResource]
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[RecordedResource]:
        return [r for r in self.resources if r.type == type_]

    def one(self, type_: str, name: str | None = None) -> RecordedResource:
        """The single resource of ``type_`` (and ``name``); AssertionError otherwise."""
        found = [r for r in self.of_type(type_) if name is None or r.name == name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_)]
            raise AssertionError(f"expected one {type_} named {name!r}, found {names}")
        return found[0]

    def named(self, name: str) -> RecordedResource:
        found = [r for r in self.resources if r.name == name]
        if len(found) != 1:
            raise AssertionError(f"expected one resource named {name!r}, found {len(found)}")
        return found[0]

    def children_of(self, parent_name: str) -> list[RecordedResource]:
        """Resources whose parent has logical name ``parent_name`` (direct children)."""
        return [r for r in self.resources if r.parent_name == parent_name]

    def descendants_of(self, parent_name: str) -> list[RecordedResource]:
        """Every resource below ``parent_name`` in the component tree."""
        out: list[RecordedResource] = []
        todo = [parent_name]
        while todo:
            current = todo.pop()
            for child in self.children_of(current):
                out.append(child)
                todo.append(child.name)
        return out

    def provider_of(self, resource: RecordedResource) -> RecordedResource | None:
        """The explicit provider resource a custom resource uses."""
        if resource.provider_name is None:
            return None
        return self.one(PROVIDER_TYPE, resource.provider_name)

    def types(self) -> set[str]:
        return {r.type for r in self.resources}

    def policy_documents(self) -> Iterator[tuple[RecordedResource, str, dict[str, Any]]]:
        """Every IAM document rendered: ``(resource, input field, parsed document)``."""
        for resource in self.resources:
            for field_name in POLICY_FIELDS.get(resource.type, ()):
                if isinstance(resource.inputs.get(field_name), str):
                    yield resource, field_name, resource.document(field_name)


class RecordingMocks(pulumi.runtime.Mocks):
    """Mocks that return realistic computed outputs. Thread-safe (Pulumi calls from threads).

    :param stack_outputs: outputs of each ``pulumi.StackReference`` the program reads, by the
        referenced stack's name (``"org/project/stack"``); a reference not listed fails.
    """

    def __init__(self, stack_outputs: Mapping[str, Mapping[str, Any]] | None = None) -> None:
        self.stack_outputs = {k: dict(v) for k, v in (stack_outputs or {}).items()}
        self._lock = threading.Lock()
        self._providers: dict[str, tuple[str, str]] = {}

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict[str, Any], None]:
        raise AssertionError(f"the program must not call data sources: {args.token}")

    def _where(self, provider_ref: str | None) -> tuple[str, str]:
        if provider_ref:
            provider_id = provider_ref.split("::")[-1]
            with self._lock:
                if provider_id in self._providers:
                    return self._providers[provider_id]
        return DEFAULT_REGION, DEFAULT_ACCOUNT

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        inputs = dict(args.inputs)
        if args.typ == PROVIDER_TYPE:
            accounts = json.loads(inputs.get("allowedAccountIds") or "[]")
            where = (
                inputs.get("region") or DEFAULT_REGION,
                accounts[0] if accounts else DEFAULT_ACCOUNT,
            )
            provider_id = f"{args.name}-id"
            with self._lock:
                self._providers[provider_id] = where
            return provider_id, inputs
        if args.typ == STACK_REFERENCE_TYPE:
            name = inputs.get("name", args.name)
            if name not in self.stack_outputs:
                raise AssertionError(f"no outputs known for stack reference {name!r}")
            return name, {
                "name": name,
                "outputs": self.stack_outputs[name],
                "secretOutputNames": [],
            }
        region, account = self._where(args.provider)
        return _computed(args.typ, args.name, inputs, region, account)


def _computed(
    typ: str, logical: str, inputs: dict[str, Any], region: str, account: str
) -> tuple[str, dict[str, Any]]:
    """``(id, state)`` for one resource, as AWS would fill them in."""
    name = inputs.get("name") or autoname(logical)
    state = dict(inputs)
    prefix = f"{region}:{account}"
    if typ == "aws:iam/role:Role":
        path = inputs.get("path") or "/"
        state.update(
            name=name,
            arn=f"arn:aws:iam::{account}:role{path}{name}",
            uniqueId=f"AROA{name[:8].upper()}",
        )
        return name, state
    if typ == "aws:iam/rolePolicy:RolePolicy":
        state.update(name=name)
        return f"{inputs.get('role')}:{name}", state
    if typ == "aws:dynamodb/table:Table":
        arn = f"arn:aws:dynamodb:{prefix}:table/{name}"
        state.update(
            name=name,
            arn=arn,
            streamArn=f"{arn}/stream/2026-01-01T00:00:00.000",
            streamLabel="2026-01-01T00:00:00.000",
        )
        return name, state
    if typ == "aws:lambda/function:Function":
        arn = f"arn:aws:lambda:{prefix}:function:{name}"
        state.update(
            name=name,
            arn=arn,
            qualifiedArn=f"{arn}:$LATEST",
            version="$LATEST",
            invokeArn=f"arn:aws:apigateway:{region}:lambda:path/2015-03-31/functions/{arn}/invocations",
        )
        return name, state
    if typ == "aws:lambda/eventSourceMapping:EventSourceMapping":
        mapping_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"{account}/{logical}"))
        state.update(
            uuid=mapping_id,
            functionArn=inputs.get("functionName"),
            arn=f"arn:aws:lambda:{prefix}:event-source-mapping:{mapping_id}",
        )
        return mapping_id, state
    if typ == "aws:cloudwatch/logGroup:LogGroup":
        state.update(name=name, arn=f"arn:aws:logs:{prefix}:log-group:{name}")
        return name, state
    if typ == "aws:cloudwatch/logStream:LogStream":
        group = inputs.get("logGroupName")
        state.update(name=name, arn=f"arn:aws:logs:{prefix}:log-group:{group}:log-stream:{name}")
        return name, state
    if typ == "aws:sqs/queue:Queue":
        url = f"https://sqs.{region}.amazonaws.com/{account}/{name}"
        state.update(name=name, arn=f"arn:aws:sqs:{prefix}:{name}", url=url)
        return url, state
    if typ == "aws:kinesis/stream:Stream":
        state.update(name=name, arn=f"arn:aws:kinesis:{prefix}:stream/{name}")
        return state["arn"], state
    if typ == "aws:kinesis/streamConsumer:StreamConsumer":
        # A consumer's ARN is its stream's, /consumer/<name>:<creation epoch seconds>.
        arn = f"{inputs.get('streamArn')}/consumer/{name}:1767225600"
        state.update(name=name, arn=arn, creationTimestamp="2026-01-01T00:00:00Z")
        return arn, state
    if typ == "aws:kinesis/resourcePolicy:ResourcePolicy":
        return str(inputs.get("resourceArn")), state
    if typ == "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream":
        state.update(name=name, arn=f"arn:aws:firehose:{prefix}:deliverystream/{name}")
        return state["arn"], state
    if typ == "aws:s3/bucket:Bucket":
        bucket = inputs.get("bucket") or autoname(logical)
        state.update(
            bucket=bucket,
            arn=f"arn:aws:s3:::{bucket}",
            bucketDomainName=f"{bucket}.s3.amazonaws.com",
        )
        return bucket, state
    if typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
        state.update(name=name, arn=f"arn:aws:cloudwatch:{prefix}:alarm:{name}")
        return name, state
    if typ == "aws:cloudwatch/dashboard:Dashboard":
        dashboard = str(inputs.get("dashboardName") or name)
        # CloudWatch dashboards are global: the ARN has no region.
        state.update(dashboardArn=f"arn:aws:cloudwatch::{account}:dashboard/{dashboard}")
        return dashboard, state
    if typ == "aws:sns/topic:Topic":
        state.update(name=name, arn=f"arn:aws:sns:{prefix}:{name}")
        return state["arn"], state
    if typ.startswith("aws:s3/"):
        return str(inputs.get("bucket", logical)), state
    if typ == "aws:dynamodb/resourcePolicy:ResourcePolicy":
        return str(inputs.get("resourceArn")), state
    service = typ.split(":")[1].split("/")[0]
    state.setdefault("arn", f"arn:aws:{service}:{prefix}:{name}")
    return f"{logical}-id", state


class RecordingMonitor(MockMonitor):
    """A MockMonitor that also records each registration's parent, provider and inputs."""

    def __init__(self, mocks: pulumi.runtime.Mocks) -> None:
        super().__init__(mocks)
        self.records: list[RecordedResource] = []
        self._record_lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self._record(request, request.object, custom=bool(request.custom))
        return response

    def RegisterResourceOutputs(self, request: Any) -> Any:
        """A component's ``register_outputs``: kept on its record."""
        response = super().RegisterResourceOutputs(request)
        outputs = _plain(rpc.deserialize_properties(request.outputs))
        with self._record_lock:
            for record in self.records:
                if record.urn == request.urn:
                    record.outputs = dict(outputs)
        return response

    def ReadResource(self, request: Any) -> Any:
        """Reads (a StackReference is one) are recorded like registrations."""
        response = super().ReadResource(request)
        self._record(request, request.properties, custom=True)
        return response

    def _record(self, request: Any, properties: Any, *, custom: bool) -> None:
        urn = self.make_urn(request.parent, request.type, request.name)
        registered = self.resources.get(urn)
        inputs = rpc.deserialize_properties(properties)
        record = RecordedResource(
            type=request.type,
            name=request.name,
            urn=urn,
            id=registered.id if registered else "",
            inputs=_plain(inputs),
            state=_plain(registered.state) if registered else {},
            parent=request.parent or None,
            provider=request.provider or None,
            custom=custom,
            dependencies=sorted(getattr(request, "dependencies", []) or []),
            protect=bool(getattr(request, "protect", False)),
            retain_on_delete=bool(getattr(request, "retainOnDelete", False)),
            delete_before_replace=bool(getattr(request, "deleteBeforeReplace", False)),
            import_id=str(getattr(request, "importId", "") or ""),
        )
        with self._record_lock:
            self.records.append(record)


def _plain(value: Any) -> Any:
    """Deserialised inputs as plain JSON-like values (assets become their archive paths)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, pulumi.AssetArchive):
        return {"assets": {k: _plain(v) for k, v in value.assets.items()}}
    if isinstance(value, pulumi.FileAsset):
        return {"path": str(value.path)}
    return value


def render(
    program: Callable[[], Mapping[str, Any] | None],
    *,
    mocks: pulumi.runtime.Mocks | None = None,
    config: Mapping[str, Any] | None = None,
    project: str = "test",
    stack: str = "test",
) -> RenderedStack:
    """Run ``program()`` as a Pulumi program under mocks; see the module docstring.

    :param program: creates resources, as a ``__main__.py`` does (e.g.
        ``lambda: runpy.run_path("__main__.py")``); what it passes to ``pulumi.export`` and the
        mapping it returns (if any) become :attr:`RenderedStack.outputs`.
    :param mocks: defaults to a fresh :class:`StreamReplicaMocks`.
    :param config: stack config, keys ``namespace:key``; non-string values are JSON-encoded as
        the Pulumi CLI passes them.
    :param project: what ``pulumi.get_project()`` returns.
    :param stack: what ``pulumi.get_stack()`` returns.
    :raises Exception: whatever the program raises (e.g. a component's ``SettingError``).
    """
    import pulumi.runtime.settings as settings
    from pulumi.runtime.config import set_all_config
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    mocks = mocks if mocks is not None else RecordingMocks()
    monitor = RecordingMonitor(mocks)
    settings.set_root_resource(None)  # type: ignore[arg-type]
    settings.SETTINGS.outputs.clear()
    set_all_config(
        {k: v if isinstance(v, str) else json.dumps(v) for k, v in (config or {}).items()}, []
    )
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    root = settings.get_root_resource()
    result: dict[str, Any] = {}

    def run() -> None:
        returned = program()
        if returned is None:
            return
        if not isinstance(returned, Mapping) or "__builtins__" in returned:
            # runpy.run_path(...) and exec's namespaces are module globals, not outputs.
            raise TypeError(
                "render(program): program must return None or a mapping of outputs, got "
                f"{'a module namespace' if isinstance(returned, Mapping) else type(returned)}; "
                "to run a __main__.py use render(main_program(path))"
            )
        result.update(returned)

    try:
        _sync_await(run_pulumi_func(run))
        # pulumi.export(...) values, then what the program returned.
        exports = dict(getattr(root, "outputs", None) or {})
        resolved = _sync_await(pulumi.Output.from_input({**exports, **result}).future())
    finally:
        settings.set_root_resource(None)  # type: ignore[arg-type]
        settings.SETTINGS.outputs.clear()
    return RenderedStack(resources=list(monitor.records), outputs=dict(resolved or {}))


def main_program(path: str | Path) -> Callable[[], None]:
    """A program that runs ``path`` (a project's ``__main__.py``) as the Pulumi CLI's Python host
    does: with its folder first on ``sys.path`` (so it imports its own modules) and
    ``__name__ == "__main__"``. Use ``render(main_program("__main__.py"))``; its
    ``pulumi.export`` values become the outputs.

    :raises FileNotFoundError: ``path`` does not exist.
    """
    main = Path(path).resolve()
    if not main.is_file():
        raise FileNotFoundError(f"{main} does not exist")

    def program() -> None:
        folder = str(main.parent)
        added = folder not in sys.path
        if added:
            sys.path.insert(0, folder)
        try:
            runpy.run_path(str(main), run_name="__main__")
        finally:
            if added:
                sys.path.remove(folder)

    return program


def run_components(
    build: Callable[[], Mapping[str, Any] | None],
    *,
    project: str = "component-test",
    stack: str = "test",
) -> RenderedStack:
    """:func:`render` with this repository's test project name (kept for its tests)."""
    return render(build, project=project, stack=stack)


#: Shorter names for users.
StreamReplicaMocks = RecordingMocks
Rendered = RenderedStack
