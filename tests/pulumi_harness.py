"""Run the stacks (or single components) under Pulumi mocks and see everything they register.

API (used by the program tests and the policy tests):

``run_stack(stack, overrides=None, *, stack_outputs=None) -> RenderedStack``
    Runs the real ``__main__.py`` for ``stack`` with ``Pulumi.<stack>.yaml`` (plus ``overrides``;
    ``None`` values delete a key) under :class:`RecordingMocks`. For ``prod`` with a
    ``pocStackReference``, the poc stack is run first (with the overrides of the keys both stacks
    share) and its outputs become the StackReference's outputs, unless ``stack_outputs``
    (reference name -> outputs) is given.

``run_components(build) -> RenderedStack``
    Runs ``build()`` (a function that creates components and returns a dict of outputs) as a
    program of its own, for component-level tests.

``RenderedStack``
    ``outputs``: the stack's exports as plain values. ``resources``: one
    :class:`RecordedResource` per registration, in order, including the providers
    (``pulumi:providers:aws``) and component resources. Inputs are fully resolved: IAM
    documents are JSON strings, see :meth:`RecordedResource.document`. Helpers: ``of_type``,
    ``one``, ``named``, ``children_of``, ``descendants_of``, ``provider_of``,
    ``policy_documents``. Each record also carries the resource options the engine sees
    (``dependencies``, ``protect``, ``retain_on_delete``, ``delete_before_replace``).

Computed outputs the mocks return are realistic: ARNs in the account of the resource's provider
(its ``allowedAccountIds``) and region, queue URLs, stream ARNs, autonames (name + 7 hex
characters, deterministic so tests can repeat).
"""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pulumi
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor

from sandbox.pulumi_runner import REPO_ROOT, load_stack_config, project_name, run_program

DEFAULT_ACCOUNT = "123456789012"
DEFAULT_REGION = "eu-west-1"
PROVIDER_TYPE = "pulumi:providers:aws"
STACK_REFERENCE_TYPE = "pulumi:pulumi:StackReference"

#: Config keys both stacks must agree on; run_stack passes their overrides to the poc run too.
SHARED_KEYS = (
    "accessMode",
    "externalId",
    "replicatorRoleName",
    "ttlDays",
    "ttlAttribute",
    "prodAccountId",
    "pocAccountId",
    "aws:region",
)

#: Where each resource type keeps an IAM document among its inputs.
POLICY_FIELDS: Mapping[str, tuple[str, ...]] = {
    "aws:iam/role:Role": ("assumeRolePolicy",),
    "aws:iam/rolePolicy:RolePolicy": ("policy",),
    "aws:iam/policy:Policy": ("policy",),
    "aws:s3/bucketPolicy:BucketPolicy": ("policy",),
    "aws:dynamodb/resourcePolicy:ResourcePolicy": ("policy",),
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
    """Mocks that return realistic computed outputs. Thread-safe (Pulumi calls from threads)."""

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

    def __init__(self, mocks: RecordingMocks) -> None:
        super().__init__(mocks)
        self.records: list[RecordedResource] = []
        self._record_lock = threading.Lock()

    def RegisterResource(self, request: Any) -> Any:
        response = super().RegisterResource(request)
        if request.type != "pulumi:pulumi:Stack":
            self._record(request, request.object, custom=bool(request.custom))
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


def _run(
    stack: str,
    mocks: RecordingMocks,
    overrides: Mapping[str, object] | None,
    project_dir: Path,
) -> RenderedStack:
    monitor = RecordingMonitor(mocks)
    outputs = run_program(
        stack, mocks, config_overrides=overrides, project_dir=project_dir, monitor=monitor
    )
    return RenderedStack(resources=list(monitor.records), outputs=outputs)


def run_stack(
    stack: str,
    overrides: Mapping[str, object] | None = None,
    *,
    stack_outputs: Mapping[str, Mapping[str, Any]] | None = None,
    project_dir: Path = REPO_ROOT,
) -> RenderedStack:
    """Run ``__main__.py`` for ``stack`` under :class:`RecordingMocks` (see module docstring)."""
    if stack_outputs is None:
        stack_outputs = {}
        project = project_name(project_dir)
        config = load_stack_config(stack, config_overrides=overrides, project_dir=project_dir)
        reference = config.get(f"{project}:pocStackReference")
        if reference:
            shared = {k: v for k, v in (overrides or {}).items() if k in SHARED_KEYS}
            poc = _run("poc", RecordingMocks(), shared, project_dir)
            stack_outputs = {str(reference): poc.outputs}
    return _run(stack, RecordingMocks(stack_outputs), overrides, project_dir)


def run_components(
    build: Callable[[], Mapping[str, Any] | None],
    *,
    project: str = "component-test",
    stack: str = "test",
) -> RenderedStack:
    """Run ``build()`` as a whole program; its returned mapping becomes the outputs."""
    import pulumi.runtime.settings as settings
    from pulumi.runtime.config import set_all_config
    from pulumi.runtime.stack import run_pulumi_func
    from pulumi.runtime.sync_await import _sync_await

    mocks = RecordingMocks()
    monitor = RecordingMonitor(mocks)
    settings.set_root_resource(None)  # type: ignore[arg-type]
    settings.SETTINGS.outputs.clear()
    set_all_config({}, [])
    pulumi.runtime.set_mocks(mocks, project=project, stack=stack, preview=False, monitor=monitor)
    result: dict[str, Any] = {}

    def program() -> None:
        result.update(build() or {})

    try:
        _sync_await(run_pulumi_func(program))
        resolved = _sync_await(pulumi.Output.from_input(result).future())
    finally:
        settings.set_root_resource(None)  # type: ignore[arg-type]
    return RenderedStack(resources=list(monitor.records), outputs=dict(resolved or {}))
