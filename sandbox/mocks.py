"""Pulumi mocks that deploy into the emulator: every registered resource is created in moto.

``EmulatorMocks.new_resource`` receives each resource the program registers (inputs already
resolved, camelCase as pulumi-aws names them), creates it with boto3 in the account of the
resource's provider (an explicit ``aws.Provider``'s ``allowedAccountIds``, else the stack's
account) and returns the real id and the computed outputs the program reads (``arn``,
``streamArn``, ``url`` ...). A resource type it has no creator for is an error naming the type.

Given the ``prior`` deployment of the same stack, the run is an *update*, as Pulumi would do it:
a resource registered with the inputs it had keeps its id and outputs (nothing is called); an
event source mapping with other inputs is *replaced* (the new one created now, the old one left
for the caller to delete once the update is over — Pulumi's create-before-delete); a role
policy, queue policy or alarm with other inputs is put again (an in-place update); any other
changed resource is an error naming it (the sandbox doesn't emulate that update). What the
update no longer registers is listed by :func:`removed`.

A resource registered with ``import_`` (Pulumi import) is read from the emulator, not created,
and compared with its inputs the way ``pulumi up`` does: any difference fails the deployment
(:data:`_IMPORTERS`; a type without an importer is an error).
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import secrets
import threading
import zipfile
from dataclasses import dataclass, field
from typing import Any

import pulumi

from .assets import archive_to_zip
from .emulator import Emulator


class UnsupportedResourceError(RuntimeError):
    """The program registered a resource type (or invoke) the sandbox cannot emulate."""


@dataclass
class DeployedFunction:
    """What the poller needs to run a deployed function the way Lambda would."""

    name: str
    arn: str
    account_id: str
    region: str
    role_arn: str
    handler: str
    runtime: str
    timeout: int
    memory_size: int
    environment: dict[str, str]
    zip_bytes: bytes


@dataclass
class Registered:
    """One resource as the last run left it: its id, inputs (canonical JSON), outputs, and the
    account and region it is in."""

    id: str
    inputs: str
    outputs: dict[str, Any]
    account: str
    region: str


@dataclass
class Deployment:
    """What one ``run_program`` created, for the poller and the summary."""

    stack: str
    account_id: str
    region: str
    outputs: dict[str, Any] = field(default_factory=dict)
    functions: dict[str, DeployedFunction] = field(default_factory=dict)
    #: (account id, region, mapping UUID) of each event source mapping.
    mappings: list[tuple[str, str, str]] = field(default_factory=list)
    #: resource type -> how many were created.
    counts: dict[str, int] = field(default_factory=dict)
    #: (type, logical name) -> the resource, for a later update of the stack.
    state: dict[tuple[str, str], Registered] = field(default_factory=dict)
    #: mappings an update replaced: (account id, region, UUID), for the caller to delete.
    replaced_mappings: list[tuple[str, str, str]] = field(default_factory=list)


#: Types registered afresh on every run (no cloud state of their own).
_STATELESS = ("pulumi:providers:aws", "pulumi:pulumi:StackReference")
_MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
#: Types an update puts again with the new inputs (their creators are idempotent puts).
_UPDATED_IN_PLACE = (
    "aws:iam/rolePolicy:RolePolicy",
    "aws:sqs/queuePolicy:QueuePolicy",
    "aws:cloudwatch/metricAlarm:MetricAlarm",
    "aws:cloudwatch/dashboard:Dashboard",
)


def _canonical(value: Any) -> str:
    """Inputs as canonical JSON, assets by their content's identity, for comparing runs."""

    def plain(item: Any) -> Any:
        if isinstance(item, pulumi.AssetArchive):
            return {"assets": {k: plain(v) for k, v in item.assets.items()}}
        for kind in ("path", "text", "uri"):
            if isinstance(item, (pulumi.Asset, pulumi.Archive)) and hasattr(item, kind):
                return {kind: getattr(item, kind)}
        if isinstance(item, dict):
            return {k: plain(v) for k, v in item.items()}
        if isinstance(item, (list, tuple)):
            return [plain(v) for v in item]
        return item

    return json.dumps(plain(_integral(value)), sort_keys=True, default=str)


def removed(prior: Deployment, update: Deployment) -> list[tuple[str, str, Registered]]:
    """What ``prior`` held that ``update`` (an update of the same stack) no longer registers:
    ``(type, logical name, resource)``."""
    return [
        (typ, name, resource)
        for (typ, name), resource in prior.state.items()
        if (typ, name) not in update.state and typ not in _STATELESS
    ]


def _autoname(name: str, limit: int = 63) -> str:
    """Pulumi's auto-naming: the logical name plus a random suffix."""
    return f"{name[: limit - 8]}-{secrets.token_hex(4)[:7]}"


def _json_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def _tag_list(tags: dict[str, str], key: str = "Key", value: str = "Value") -> list[dict[str, str]]:
    return [{key: k, value: v} for k, v in sorted(tags.items())]


def _integral(value: Any) -> Any:
    """Pulumi sends every number as a float; AWS APIs want integers where the value is one."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _integral(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_integral(v) for v in value]
    return value


def _pascal(name: str) -> str:
    return name[:1].upper() + name[1:]


def _to_api_shape(value: Any, renames: dict[str, str] | None = None) -> Any:
    """camelCase pulumi-aws nested inputs -> PascalCase AWS API shapes (recursive)."""
    renames = renames or {}
    if isinstance(value, dict):
        return {
            renames.get(k, _pascal(k)): _to_api_shape(v, renames)
            for k, v in value.items()
            if v is not None
        }
    if isinstance(value, list):
        return [_to_api_shape(v, renames) for v in value]
    return value


class EmulatorMocks(pulumi.runtime.Mocks):
    """Create each registered resource in the emulator; see the module docstring.

    :param emulator: the running emulator.
    :param deployment: filled in as resources are created.
    :param stack_references: stack name -> outputs returned for a ``StackReference`` to it.
    :param default_tags: tags from the stack's ``aws:defaultTags`` config, for resources on the
        default provider.
    :param prior: the stack's last deployment: this run is an update of it (module docstring).
    """

    def __init__(
        self,
        emulator: Emulator,
        deployment: Deployment,
        *,
        stack_references: dict[str, dict[str, Any]] | None = None,
        default_tags: dict[str, str] | None = None,
        prior: Deployment | None = None,
    ) -> None:
        self.prior = prior
        self.emulator = emulator
        self.deployment = deployment
        self.stack_references = stack_references or {}
        self.default_tags = dict(default_tags or {})
        self._lock = threading.RLock()
        # provider id -> (account id, region, default tags)
        self._providers: dict[str, tuple[str, str, dict[str, str]]] = {}

    # -- Pulumi entry points ------------------------------------------------------------------
    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict]:
        with self._lock:
            if not args.custom and not args.typ.startswith("pulumi:"):
                # A component resource: no cloud state of its own.
                return None, {}
            creator = _CREATORS.get(args.typ)
            if creator is None:
                raise UnsupportedResourceError(
                    f"the sandbox cannot create resource type {args.typ!r} "
                    f"(resource {args.name!r}); add a creator to sandbox/mocks.py"
                )
            account, region, tags = self._placement(args.provider or "")
            ctx = _Context(self, args.name, _integral(dict(args.inputs)), account, region, tags)
            key, inputs = (args.typ, args.name), _canonical(dict(args.inputs))
            before = self.prior.state.get(key) if self.prior else None
            if before is not None and args.typ not in _STATELESS:
                if before.inputs == inputs:
                    return self._keep(args.typ, key, before)
                if args.typ == _MAPPING:
                    replaced = (before.account, before.region, before.id)
                    self.deployment.replaced_mappings.append(replaced)
                elif args.typ in _UPDATED_IN_PLACE:
                    ctx.inputs.setdefault("name", before.outputs.get("name"))
                else:
                    changed = sorted(
                        k
                        for k in {*json.loads(inputs), *json.loads(before.inputs)}
                        if json.loads(inputs).get(k) != json.loads(before.inputs).get(k)
                    )
                    raise UnsupportedResourceError(
                        f"the sandbox cannot update {args.typ} {args.name!r} in place "
                        f"(changed: {', '.join(changed)})"
                    )
            if args.custom and args.resource_id and args.typ not in _STATELESS:
                importer = _IMPORTERS.get(args.typ)
                if importer is None:
                    raise UnsupportedResourceError(
                        f"the sandbox cannot import resource type {args.typ!r} ({args.name!r})"
                    )
                creator = lambda ctx: importer(ctx, str(args.resource_id))  # noqa: E731
            try:
                resource_id, outputs = creator(ctx)
            except UnsupportedResourceError:
                raise
            except Exception as exc:
                raise RuntimeError(
                    f"sandbox: creating {args.typ} {args.name!r} in account {account} failed: {exc}"
                ) from exc
            counts = self.deployment.counts
            counts[args.typ] = counts.get(args.typ, 0) + 1
            state = {**ctx.inputs, **outputs}
            self.deployment.state[key] = Registered(
                str(resource_id), inputs, state, account, region
            )
            return resource_id, state

    def _keep(self, typ: str, key: tuple[str, str], before: Registered) -> tuple[str | None, dict]:
        """An unchanged resource of the prior deployment: its id and outputs, and what the
        poller needs of it (a function, a mapping) carried over."""
        assert self.prior is not None
        self.deployment.state[key] = before
        if typ == "aws:lambda/function:Function":
            arn = str(before.outputs["arn"])
            self.deployment.functions[arn] = self.prior.functions[arn]
        elif typ == _MAPPING:
            self.deployment.mappings.append((before.account, before.region, before.id))
        return before.id, before.outputs

    def call(self, args: pulumi.runtime.MockCallArgs) -> tuple[dict, list | None]:
        account, region, _ = self._placement(args.provider or "")
        token = args.token
        if token == "aws:index/getCallerIdentity:getCallerIdentity":
            arn = f"arn:aws:sts::{account}:assumed-role/sandbox-deployer/sandbox-deploy"
            return {"accountId": account, "arn": arn, "userId": "sandbox", "id": account}, None
        if token == "aws:index/getRegion:getRegion":
            return {
                "name": region,
                "region": region,
                "id": region,
                "endpoint": f"ec2.{region}.amazonaws.com",
                "description": region,
            }, None
        if token == "aws:index/getPartition:getPartition":
            return {
                "partition": "aws",
                "dnsSuffix": "amazonaws.com",
                "reverseDnsPrefix": "com.amazonaws",
                "id": "aws",
            }, None
        raise UnsupportedResourceError(f"the sandbox cannot answer the invoke {token!r}")

    # -- helpers ------------------------------------------------------------------------------
    def _placement(self, provider_ref: str) -> tuple[str, str, dict[str, str]]:
        if provider_ref:
            provider_id = provider_ref.rsplit("::", 1)[-1]
            if provider_id in self._providers:
                return self._providers[provider_id]
        return self.deployment.account_id, self.deployment.region, self.default_tags

    def register_provider(self, name: str, inputs: dict[str, Any]) -> str:
        allowed = inputs.get("allowedAccountIds")
        if isinstance(allowed, str):
            allowed = json.loads(allowed)
        account = allowed[0] if allowed else self.deployment.account_id
        region = inputs.get("region") or self.deployment.region
        tags_input = inputs.get("defaultTags")
        if isinstance(tags_input, str):
            tags_input = json.loads(tags_input)
        tags = dict((tags_input or {}).get("tags") or {})
        provider_id = f"{name}-{secrets.token_hex(4)}"
        self._providers[provider_id] = (str(account), str(region), tags)
        return provider_id


@dataclass
class _Context:
    mocks: EmulatorMocks
    name: str
    inputs: dict[str, Any]
    account: str
    region: str
    default_tags: dict[str, str]

    def client(self, service: str) -> Any:
        return self.mocks.emulator.client(service, self.account, self.region)

    def tags(self) -> dict[str, str]:
        return {**self.default_tags, **(self.inputs.get("tags") or {})}

    def physical_name(self, key: str = "name", limit: int = 63) -> str:
        explicit = self.inputs.get(key)
        if explicit:
            return str(explicit)
        prefix = self.inputs.get(f"{key}Prefix")
        name = f"{prefix}{secrets.token_hex(6)}" if prefix else _autoname(self.name, limit)
        self.inputs[key] = name
        return name

    def arn(self, service: str, resource: str, *, region: bool = True) -> str:
        return f"arn:aws:{service}:{self.region if region else ''}:{self.account}:{resource}"


# -- creators: one per resource type ----------------------------------------------------------


def _provider(ctx: _Context) -> tuple[str, dict]:
    return ctx.mocks.register_provider(ctx.name, ctx.inputs), {}


def _stack_reference(ctx: _Context) -> tuple[str, dict]:
    name = str(ctx.inputs.get("name") or ctx.name)
    refs = ctx.mocks.stack_references
    # Accept org/project/stack, project/stack or the bare stack name.
    outputs = refs.get(name) or refs.get(name.rsplit("/", 1)[-1])
    if outputs is None:
        raise RuntimeError(
            f"StackReference {name!r}: no stack deployed under that name "
            f"(deployed: {sorted(refs) or 'none'}); deploy it first"
        )
    return name, {"name": name, "outputs": outputs, "secretOutputNames": []}


def _table(ctx: _Context) -> tuple[str, dict]:
    i = ctx.inputs
    name = ctx.physical_name(limit=255)
    key_schema = [{"AttributeName": i["hashKey"], "KeyType": "HASH"}]
    if i.get("rangeKey"):
        key_schema.append({"AttributeName": i["rangeKey"], "KeyType": "RANGE"})
    billing = i.get("billingMode") or "PROVISIONED"
    throughput = {
        "ReadCapacityUnits": int(i.get("readCapacity") or 1),
        "WriteCapacityUnits": int(i.get("writeCapacity") or 1),
    }
    request: dict[str, Any] = {
        "TableName": name,
        "AttributeDefinitions": [
            {"AttributeName": a["name"], "AttributeType": a["type"]} for a in i["attributes"]
        ],
        "KeySchema": key_schema,
        "BillingMode": billing,
        "DeletionProtectionEnabled": bool(i.get("deletionProtectionEnabled")),
    }
    if billing == "PROVISIONED":
        request["ProvisionedThroughput"] = throughput
    if i.get("streamEnabled"):
        request["StreamSpecification"] = {
            "StreamEnabled": True,
            "StreamViewType": i.get("streamViewType") or "NEW_IMAGE",
        }
    sse = i.get("serverSideEncryption") or {}
    if sse.get("enabled"):
        request["SSESpecification"] = {"Enabled": True, "SSEType": "KMS"}
        if sse.get("kmsKeyArn"):
            request["SSESpecification"]["KMSMasterKeyId"] = sse["kmsKeyArn"]
    gsis = []
    for gsi in i.get("globalSecondaryIndexes") or []:
        if gsi.get("keySchemas"):
            keys = [
                {"AttributeName": k["attributeName"], "KeyType": k["keyType"]}
                for k in gsi["keySchemas"]
            ]
        else:
            keys = [{"AttributeName": gsi["hashKey"], "KeyType": "HASH"}]
            if gsi.get("rangeKey"):
                keys.append({"AttributeName": gsi["rangeKey"], "KeyType": "RANGE"})
        projection: dict[str, Any] = {"ProjectionType": gsi["projectionType"]}
        if gsi.get("nonKeyAttributes"):
            projection["NonKeyAttributes"] = gsi["nonKeyAttributes"]
        entry: dict[str, Any] = {
            "IndexName": gsi["name"],
            "KeySchema": keys,
            "Projection": projection,
        }
        if billing == "PROVISIONED":
            entry["ProvisionedThroughput"] = {
                "ReadCapacityUnits": int(gsi.get("readCapacity") or 1),
                "WriteCapacityUnits": int(gsi.get("writeCapacity") or 1),
            }
        gsis.append(entry)
    if gsis:
        request["GlobalSecondaryIndexes"] = gsis
    tags = ctx.tags()
    if tags:
        request["Tags"] = _tag_list(tags)
    ddb = ctx.client("dynamodb")
    table = ddb.create_table(**request)["TableDescription"]
    if (i.get("pointInTimeRecovery") or {}).get("enabled"):
        ddb.update_continuous_backups(
            TableName=name, PointInTimeRecoverySpecification={"PointInTimeRecoveryEnabled": True}
        )
    ttl = i.get("ttl") or {}
    if ttl.get("enabled") and ttl.get("attributeName"):
        ddb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl["attributeName"]},
        )
    outputs = {"name": name, "arn": table["TableArn"], "tagsAll": tags}
    if table.get("LatestStreamArn"):
        outputs["streamArn"] = table["LatestStreamArn"]
        outputs["streamLabel"] = table["LatestStreamLabel"]
    return name, outputs


def _table_resource_policy(ctx: _Context) -> tuple[str, dict]:
    arn = ctx.inputs["resourceArn"]
    result = ctx.client("dynamodb").put_resource_policy(
        ResourceArn=arn, Policy=_json_value(ctx.inputs["policy"])
    )
    return arn, {"revisionId": result.get("RevisionId", "1")}


def _role(ctx: _Context) -> tuple[str, dict]:
    i = ctx.inputs
    name = ctx.physical_name(limit=64)
    request: dict[str, Any] = {
        "RoleName": name,
        "AssumeRolePolicyDocument": _json_value(i["assumeRolePolicy"]),
        "Path": i.get("path") or "/",
    }
    for key, api in (
        ("description", "Description"),
        ("maxSessionDuration", "MaxSessionDuration"),
        ("permissionsBoundary", "PermissionsBoundary"),
    ):
        if i.get(key):
            request[api] = i[key]
    tags = ctx.tags()
    if tags:
        request["Tags"] = _tag_list(tags)
    iam = ctx.client("iam")
    role = iam.create_role(**request)["Role"]
    for policy in i.get("inlinePolicies") or []:
        if policy.get("name") and policy.get("policy"):
            iam.put_role_policy(
                RoleName=name, PolicyName=policy["name"], PolicyDocument=policy["policy"]
            )
    for policy_arn in i.get("managedPolicyArns") or []:
        iam.attach_role_policy(RoleName=name, PolicyArn=policy_arn)
    return name, {
        "name": name,
        "arn": role["Arn"],
        "uniqueId": role["RoleId"],
        "createDate": role["CreateDate"].isoformat(),
        "tagsAll": tags,
    }


def _role_policy(ctx: _Context) -> tuple[str, dict]:
    role = ctx.inputs["role"]
    name = ctx.physical_name(limit=128)
    ctx.client("iam").put_role_policy(
        RoleName=role, PolicyName=name, PolicyDocument=_json_value(ctx.inputs["policy"])
    )
    return f"{role}:{name}", {"name": name}


def _role_policy_attachment(ctx: _Context) -> tuple[str, dict]:
    role, policy_arn = ctx.inputs["role"], ctx.inputs["policyArn"]
    ctx.client("iam").attach_role_policy(RoleName=role, PolicyArn=policy_arn)
    return f"{role}-{hashlib.sha256(policy_arn.encode()).hexdigest()[:8]}", {}


def _policy(ctx: _Context) -> tuple[str, dict]:
    name = ctx.physical_name(limit=128)
    policy = ctx.client("iam").create_policy(
        PolicyName=name,
        Path=ctx.inputs.get("path") or "/",
        PolicyDocument=_json_value(ctx.inputs["policy"]),
        Description=ctx.inputs.get("description") or "",
    )["Policy"]
    return policy["Arn"], {"name": name, "arn": policy["Arn"], "policyId": policy["PolicyId"]}


def _ensure_layer_versions(ctx: _Context, layer_arns: list[str]) -> None:
    """Stand in for public layers (e.g. Powertools) by publishing placeholders up to the version.

    moto looks a layer up by name in the function's own account. The placeholder holds no code:
    the sandbox runs handlers with the same library installed locally as a dev dependency.
    """
    lam = ctx.client("lambda")
    for arn in layer_arns:
        match = re.fullmatch(r"arn:aws:lambda:[^:]+:\d{12}:layer:([^:]+):(\d+)", arn)
        if not match:
            raise RuntimeError(f"layer {arn!r} is not a layer version ARN")
        layer, version = match.group(1), int(match.group(2))
        versions = lam.list_layer_versions(LayerName=layer).get("LayerVersions", [])
        existing = max((v["Version"] for v in versions), default=0)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as placeholder:
            placeholder.writestr("python/SANDBOX-PLACEHOLDER.txt", f"stands in for {arn}\n")
        for _ in range(existing, version):
            lam.publish_layer_version(LayerName=layer, Content={"ZipFile": buffer.getvalue()})


def _function(ctx: _Context) -> tuple[str, dict]:
    i = ctx.inputs
    name = ctx.physical_name(limit=64)
    if i.get("code") is None:
        raise UnsupportedResourceError(
            f"function {name}: only `code` archives are supported (not s3Bucket/imageUri)"
        )
    zip_bytes = archive_to_zip(i["code"])
    env = dict((i.get("environment") or {}).get("variables") or {})
    request: dict[str, Any] = {
        "FunctionName": name,
        "Role": i["role"],
        "Runtime": i.get("runtime") or "python3.13",
        "Handler": i["handler"],
        "Code": {"ZipFile": zip_bytes},
        "Timeout": int(i.get("timeout") or 3),
        "MemorySize": int(i.get("memorySize") or 128),
        "Architectures": list(i.get("architectures") or ["x86_64"]),
        "Environment": {"Variables": env},
        "Publish": bool(i.get("publish")),
    }
    if i.get("description"):
        request["Description"] = i["description"]
    if i.get("layers"):
        _ensure_layer_versions(ctx, list(i["layers"]))
        request["Layers"] = list(i["layers"])
    if i.get("tracingConfig"):
        request["TracingConfig"] = {"Mode": i["tracingConfig"].get("mode", "PassThrough")}
    if i.get("deadLetterConfig"):
        request["DeadLetterConfig"] = {"TargetArn": i["deadLetterConfig"]["targetArn"]}
    if i.get("loggingConfig"):
        request["LoggingConfig"] = _to_api_shape(i["loggingConfig"])
    if i.get("kmsKeyArn"):
        request["KMSKeyArn"] = i["kmsKeyArn"]
    if (i.get("ephemeralStorage") or {}).get("size"):
        request["EphemeralStorage"] = {"Size": int(i["ephemeralStorage"]["size"])}
    tags = ctx.tags()
    if tags:
        request["Tags"] = tags
    lam = ctx.client("lambda")
    config = lam.create_function(**request)
    if i.get("reservedConcurrentExecutions") not in (None, -1):
        lam.put_function_concurrency(
            FunctionName=name,
            ReservedConcurrentExecutions=int(i["reservedConcurrentExecutions"]),
        )
    arn = config["FunctionArn"]
    ctx.mocks.deployment.functions[arn] = DeployedFunction(
        name=name,
        arn=arn,
        account_id=ctx.account,
        region=ctx.region,
        role_arn=i["role"],
        handler=i["handler"],
        runtime=request["Runtime"],
        timeout=request["Timeout"],
        memory_size=request["MemorySize"],
        environment=env,
        zip_bytes=zip_bytes,
    )
    invoke_arn = (
        f"arn:aws:apigateway:{ctx.region}:lambda:path/2015-03-31/functions/{arn}/invocations"
    )
    return name, {
        "name": name,
        "arn": arn,
        "invokeArn": invoke_arn,
        "qualifiedArn": f"{arn}:$LATEST",
        "qualifiedInvokeArn": invoke_arn,
        "version": config.get("Version", "$LATEST"),
        "lastModified": config.get("LastModified"),
        "codeSha256": config.get("CodeSha256"),
        "sourceCodeHash": config.get("CodeSha256"),
        "sourceCodeSize": config.get("CodeSize"),
        "tagsAll": tags,
    }


def _event_source_mapping(ctx: _Context) -> tuple[str, dict]:
    i = ctx.inputs
    request: dict[str, Any] = {
        "EventSourceArn": i["eventSourceArn"],
        "FunctionName": i["functionName"],
        "Enabled": i.get("enabled", True) is not False,
    }
    simple = {
        "batchSize": "BatchSize",
        "startingPosition": "StartingPosition",
        "startingPositionTimestamp": "StartingPositionTimestamp",
        "bisectBatchOnFunctionError": "BisectBatchOnFunctionError",
        "maximumRetryAttempts": "MaximumRetryAttempts",
        "maximumRecordAgeInSeconds": "MaximumRecordAgeInSeconds",
        "maximumBatchingWindowInSeconds": "MaximumBatchingWindowInSeconds",
        "parallelizationFactor": "ParallelizationFactor",
        "tumblingWindowInSeconds": "TumblingWindowInSeconds",
        "functionResponseTypes": "FunctionResponseTypes",
    }
    for key, api in simple.items():
        if i.get(key) is not None:
            request[api] = i[key]
    if i.get("destinationConfig"):
        request["DestinationConfig"] = _to_api_shape(
            i["destinationConfig"], {"destinationArn": "Destination"}
        )
    if i.get("filterCriteria"):
        request["FilterCriteria"] = _to_api_shape(i["filterCriteria"])
    lam = ctx.client("lambda")
    source = str(i["eventSourceArn"])
    if source.split(":")[2] == "kinesis" and (
        "/consumer/" in source or source.split(":")[4] != ctx.account
    ):
        mapping = _foreign_kinesis_mapping(ctx, request)
    else:
        mapping = lam.create_event_source_mapping(**request)
    _detach_moto_delivery(ctx.account, ctx.region, mapping["EventSourceArn"])
    uuid = mapping["UUID"]
    ctx.mocks.deployment.mappings.append((ctx.account, ctx.region, uuid))
    return uuid, {
        "uuid": uuid,
        "functionArn": mapping["FunctionArn"],
        "arn": mapping.get("EventSourceMappingArn", ""),
        "state": mapping.get("State", "Enabled"),
        "lastModified": str(mapping.get("LastModified", "")),
    }


def _foreign_kinesis_mapping(ctx: _Context, request: dict[str, Any]) -> dict[str, Any]:
    """A Kinesis mapping moto refuses: on an enhanced fan-out consumer, or on a stream in another
    account (moto accepts only a stream ARN of the function's own account).

    Lambda checks the execution role when it creates the mapping; here that check is
    :func:`sandbox.crossaccount.check_kinesis_mapping` (identity policy, and across accounts the
    stream's and consumer's resource policies). Then the mapping is registered in moto's Lambda
    backend directly, so ``GetEventSourceMapping`` returns it like any other."""
    from moto.awslambda.models import EventSourceMapping, lambda_backends

    from . import crossaccount

    source = str(request["EventSourceArn"])
    stream_arn = source.split("/consumer/", 1)[0]
    owner, region = stream_arn.split(":")[4], stream_arn.split(":")[3]
    kinesis = ctx.mocks.emulator.client("kinesis", owner, region)
    kinesis.describe_stream_summary(StreamARN=stream_arn)  # ResourceNotFound if there is none
    if source != stream_arn:
        kinesis.describe_stream_consumer(ConsumerARN=source)
    lam = ctx.client("lambda")
    function = lam.get_function(FunctionName=request["FunctionName"])["Configuration"]
    crossaccount.check_kinesis_mapping(function["Role"], ctx.account, source)
    backend = lambda_backends[ctx.account][ctx.region]
    spec = {
        **request,
        "FunctionArn": function["FunctionArn"],
        "RegionName": ctx.region,
        "AccountId": ctx.account,
    }
    esm = EventSourceMapping(spec)  # type: ignore[abstract]  # moto instantiates it the same way
    backend._event_source_mappings[esm.uuid] = esm
    return dict(lam.get_event_source_mapping(UUID=esm.uuid))


def _detach_moto_delivery(account: str, region: str, source_arn: str) -> None:
    """Stop moto delivering records to the function itself (it would need Docker, and on success
    it empties the DynamoDB stream shard). The sandbox's poller does Lambda's polling instead."""
    from moto.dynamodb.models import dynamodb_backends
    from moto.kinesis.models import kinesis_backends

    for stream in kinesis_backends[account][region].streams.values():
        if stream.arn == source_arn:
            stream.lambda_event_source_mappings.clear()
    for table in dynamodb_backends[account][region].tables.values():
        if table.latest_stream_label and source_arn.startswith(table.table_arn + "/stream/"):
            table.lambda_event_source_mappings.clear()


def _log_group(ctx: _Context) -> tuple[str, dict]:
    name = ctx.physical_name(limit=512)
    logs = ctx.client("logs")
    request: dict[str, Any] = {"logGroupName": name}
    if ctx.inputs.get("kmsKeyId"):
        request["kmsKeyId"] = ctx.inputs["kmsKeyId"]
    tags = ctx.tags()
    if tags:
        request["tags"] = tags
    logs.create_log_group(**request)
    if ctx.inputs.get("retentionInDays"):
        logs.put_retention_policy(
            logGroupName=name, retentionInDays=int(ctx.inputs["retentionInDays"])
        )
    return name, {"name": name, "arn": ctx.arn("logs", f"log-group:{name}"), "tagsAll": tags}


def _log_stream(ctx: _Context) -> tuple[str, dict]:
    name = ctx.physical_name(limit=512)
    group = ctx.inputs["logGroupName"]
    ctx.client("logs").create_log_stream(logGroupName=group, logStreamName=name)
    return name, {"name": name, "arn": ctx.arn("logs", f"log-group:{group}:log-stream:{name}")}


def _metric_alarm(ctx: _Context) -> tuple[str, dict]:
    i = ctx.inputs
    name = ctx.physical_name(key="name", limit=255)
    request: dict[str, Any] = {
        "AlarmName": name,
        "ComparisonOperator": i["comparisonOperator"],
        "EvaluationPeriods": int(i["evaluationPeriods"]),
        "ActionsEnabled": i.get("actionsEnabled", True) is not False,
    }
    simple = {
        "alarmDescription": "AlarmDescription",
        "metricName": "MetricName",
        "namespace": "Namespace",
        "period": "Period",
        "statistic": "Statistic",
        "extendedStatistic": "ExtendedStatistic",
        "threshold": "Threshold",
        "treatMissingData": "TreatMissingData",
        "datapointsToAlarm": "DatapointsToAlarm",
        "unit": "Unit",
        "alarmActions": "AlarmActions",
        "okActions": "OKActions",
        "insufficientDataActions": "InsufficientDataActions",
        "thresholdMetricId": "ThresholdMetricId",
    }
    for key, api in simple.items():
        if i.get(key) is not None:
            request[api] = i[key]
    if i.get("dimensions"):
        request["Dimensions"] = [{"Name": k, "Value": v} for k, v in i["dimensions"].items()]
    if i.get("metricQueries"):
        queries = []
        for query in i["metricQueries"]:
            entry: dict[str, Any] = {"Id": query["id"]}
            for key in ("expression", "label", "returnData", "period", "accountId"):
                if query.get(key) is not None:
                    entry[_pascal(key)] = query[key]
            metric = query.get("metric")
            if metric:
                entry["MetricStat"] = {
                    "Metric": {
                        "Namespace": metric.get("namespace"),
                        "MetricName": metric["metricName"],
                        "Dimensions": [
                            {"Name": k, "Value": v}
                            for k, v in (metric.get("dimensions") or {}).items()
                        ],
                    },
                    "Period": int(metric["period"]),
                    "Stat": metric["stat"],
                }
                if metric.get("unit"):
                    entry["MetricStat"]["Unit"] = metric["unit"]
            queries.append(entry)
        request["Metrics"] = queries
    tags = ctx.tags()
    if tags:
        request["Tags"] = _tag_list(tags)
    ctx.client("cloudwatch").put_metric_alarm(**request)
    return name, {"name": name, "arn": ctx.arn("cloudwatch", f"alarm:{name}"), "tagsAll": tags}


def _dashboard(ctx: _Context) -> tuple[str, dict]:
    name = ctx.physical_name(key="dashboardName", limit=255)
    ctx.client("cloudwatch").put_dashboard(
        DashboardName=name, DashboardBody=ctx.inputs["dashboardBody"]
    )
    return name, {
        "dashboardName": name,
        "dashboardArn": ctx.arn("cloudwatch", f"dashboard/{name}", region=False),
    }


def _queue(ctx: _Context) -> tuple[str, dict]:
    i = ctx.inputs
    fifo = bool(i.get("fifoQueue"))
    name = ctx.physical_name(limit=80 - (5 if fifo else 0))
    if fifo and not name.endswith(".fifo"):
        name += ".fifo"
        i["name"] = name
    attributes: dict[str, str] = {}
    simple = {
        "delaySeconds": "DelaySeconds",
        "maxMessageSize": "MaximumMessageSize",
        "messageRetentionSeconds": "MessageRetentionPeriod",
        "receiveWaitTimeSeconds": "ReceiveMessageWaitTimeSeconds",
        "visibilityTimeoutSeconds": "VisibilityTimeout",
        "kmsMasterKeyId": "KmsMasterKeyId",
        "kmsDataKeyReusePeriodSeconds": "KmsDataKeyReusePeriodSeconds",
        "sqsManagedSseEnabled": "SqsManagedSseEnabled",
        "policy": "Policy",
        "redrivePolicy": "RedrivePolicy",
        "redriveAllowPolicy": "RedriveAllowPolicy",
    }
    if fifo:
        attributes["FifoQueue"] = "true"
        if i.get("contentBasedDeduplication"):
            attributes["ContentBasedDeduplication"] = "true"
    for key, api in simple.items():
        value = i.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, bool):
            attributes[api] = "true" if value else "false"
        else:
            attributes[api] = _json_value(value) if isinstance(value, dict) else str(value)
    tags = ctx.tags()
    sqs = ctx.client("sqs")
    request: dict[str, Any] = {"QueueName": name, "Attributes": attributes}
    if tags:
        request["tags"] = tags
    url = sqs.create_queue(**request)["QueueUrl"]
    arn = ctx.arn("sqs", name)
    return url, {"name": name, "arn": arn, "url": url, "tagsAll": tags}


def _queue_policy(ctx: _Context) -> tuple[str, dict]:
    url = ctx.inputs["queueUrl"]
    ctx.client("sqs").set_queue_attributes(
        QueueUrl=url, Attributes={"Policy": _json_value(ctx.inputs["policy"])}
    )
    return url, {}


def _kinesis_stream(ctx: _Context) -> tuple[str, dict]:
    i = ctx.inputs
    name = ctx.physical_name(limit=128)
    kinesis = ctx.client("kinesis")
    mode = (i.get("streamModeDetails") or {}).get("streamMode") or "PROVISIONED"
    request: dict[str, Any] = {"StreamName": name, "StreamModeDetails": {"StreamMode": mode}}
    if mode == "PROVISIONED":
        request["ShardCount"] = int(i.get("shardCount") or 1)
    kinesis.create_stream(**request)
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    if i.get("encryptionType") == "KMS":
        kinesis.start_stream_encryption(
            StreamName=name, EncryptionType="KMS", KeyId=i.get("kmsKeyId") or "alias/aws/kinesis"
        )
    if int(i.get("retentionPeriod") or 24) > 24:
        kinesis.increase_stream_retention_period(
            StreamName=name, RetentionPeriodHours=int(i["retentionPeriod"])
        )
    tags = ctx.tags()
    if tags:
        kinesis.add_tags_to_stream(StreamName=name, Tags=tags)
    return arn, {"name": name, "arn": arn, "tagsAll": tags}


def _stream_consumer(ctx: _Context) -> tuple[str, dict]:
    name = ctx.physical_name(limit=128)
    stream_arn = str(ctx.inputs["streamArn"])
    consumer = ctx.client("kinesis").register_stream_consumer(
        StreamARN=stream_arn, ConsumerName=name
    )["Consumer"]
    arn = consumer["ConsumerARN"]
    created = consumer["ConsumerCreationTimestamp"]
    return arn, {"name": name, "arn": arn, "creationTimestamp": str(created)}


def _kinesis_resource_policy(ctx: _Context) -> tuple[str, dict]:
    arn = str(ctx.inputs["resourceArn"])
    ctx.client("kinesis").put_resource_policy(
        ResourceARN=arn, Policy=_json_value(ctx.inputs["policy"])
    )
    return arn, {}


def _firehose(ctx: _Context) -> tuple[str, dict]:
    i = ctx.inputs
    name = ctx.physical_name(limit=64)
    destination = i.get("destination")
    if destination != "extended_s3":
        raise UnsupportedResourceError(
            f"delivery stream {name}: destination {destination!r} (only extended_s3)"
        )
    config = i["extendedS3Configuration"]
    renames = {
        "roleArn": "RoleARN",
        "bucketArn": "BucketARN",
        "kmsKeyArn": "KMSKeyARN",
        "cloudwatchLoggingOptions": "CloudWatchLoggingOptions",
    }
    s3_config = _to_api_shape(config, renames)
    buffering = {}
    if "BufferingSize" in s3_config:
        buffering["SizeInMBs"] = int(s3_config.pop("BufferingSize"))
    if "BufferingInterval" in s3_config:
        buffering["IntervalInSeconds"] = int(s3_config.pop("BufferingInterval"))
    if buffering:
        s3_config["BufferingHints"] = buffering
    if "KMSKeyARN" in s3_config:
        key = s3_config.pop("KMSKeyARN")
        s3_config["EncryptionConfiguration"] = {"KMSEncryptionConfig": {"AWSKMSKeyARN": key}}
    request: dict[str, Any] = {
        "DeliveryStreamName": name,
        "DeliveryStreamType": "KinesisStreamAsSource"
        if i.get("kinesisSourceConfiguration")
        else "DirectPut",
        "ExtendedS3DestinationConfiguration": s3_config,
    }
    sse = i.get("serverSideEncryption") or {}
    if sse.get("enabled"):
        request["DeliveryStreamEncryptionConfigurationInput"] = {
            "KeyType": sse.get("keyType") or "AWS_OWNED_CMK",
            **({"KeyARN": sse["keyArn"]} if sse.get("keyArn") else {}),
        }
    tags = ctx.tags()
    if tags:
        request["Tags"] = _tag_list(tags)
    firehose = ctx.client("firehose")
    arn = firehose.create_delivery_stream(**request)["DeliveryStreamARN"]
    return arn, {"name": name, "arn": arn, "versionId": "1", "tagsAll": tags}


def _bucket(ctx: _Context) -> tuple[str, dict]:
    name = ctx.physical_name(key="bucket", limit=63).lower()
    ctx.inputs["bucket"] = name
    s3 = ctx.client("s3")
    request: dict[str, Any] = {"Bucket": name}
    if ctx.region != "us-east-1":
        request["CreateBucketConfiguration"] = {"LocationConstraint": ctx.region}
    if ctx.inputs.get("objectLockEnabled"):
        request["ObjectLockEnabledForBucket"] = True
    s3.create_bucket(**request)
    tags = ctx.tags()
    if tags:
        s3.put_bucket_tagging(Bucket=name, Tagging={"TagSet": _tag_list(tags)})
    return name, {
        "bucket": name,
        "arn": f"arn:aws:s3:::{name}",
        "bucketDomainName": f"{name}.s3.amazonaws.com",
        "bucketRegionalDomainName": f"{name}.s3.{ctx.region}.amazonaws.com",
        "region": ctx.region,
        "hostedZoneId": "Z1BKCTXD74EZPE",
        "tagsAll": tags,
    }


def _bucket_public_access_block(ctx: _Context) -> tuple[str, dict]:
    i = ctx.inputs
    ctx.client("s3").put_public_access_block(
        Bucket=i["bucket"],
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": bool(i.get("blockPublicAcls")),
            "IgnorePublicAcls": bool(i.get("ignorePublicAcls")),
            "BlockPublicPolicy": bool(i.get("blockPublicPolicy")),
            "RestrictPublicBuckets": bool(i.get("restrictPublicBuckets")),
        },
    )
    return i["bucket"], {}


def _bucket_encryption(ctx: _Context) -> tuple[str, dict]:
    rules = _to_api_shape(
        ctx.inputs["rules"], {"kmsMasterKeyId": "KMSMasterKeyID", "sseAlgorithm": "SSEAlgorithm"}
    )
    bucket = ctx.inputs["bucket"]
    ctx.client("s3").put_bucket_encryption(
        Bucket=bucket, ServerSideEncryptionConfiguration={"Rules": rules}
    )
    return bucket, {}


def _bucket_policy(ctx: _Context) -> tuple[str, dict]:
    bucket = ctx.inputs["bucket"]
    ctx.client("s3").put_bucket_policy(Bucket=bucket, Policy=_json_value(ctx.inputs["policy"]))
    return bucket, {}


def _bucket_lifecycle(ctx: _Context) -> tuple[str, dict]:
    bucket = ctx.inputs["bucket"]
    rules = _to_api_shape(ctx.inputs["rules"], {"id": "ID", "noncurrentDays": "NoncurrentDays"})
    for rule in rules:
        # pulumi-aws keeps a list for single-item blocks in some versions: take the one item.
        for key in ("Filter", "Expiration", "AbortIncompleteMultipartUpload"):
            if isinstance(rule.get(key), list):
                rule[key] = rule[key][0] if rule[key] else {}
        if not rule.get("Filter"):
            rule["Filter"] = {"Prefix": rule.pop("Prefix", "")}
    ctx.client("s3").put_bucket_lifecycle_configuration(
        Bucket=bucket, LifecycleConfiguration={"Rules": rules}
    )
    return bucket, {}


def _bucket_ownership(ctx: _Context) -> tuple[str, dict]:
    bucket = ctx.inputs["bucket"]
    rule = ctx.inputs["rule"]
    if isinstance(rule, list):
        rule = rule[0]
    ctx.client("s3").put_bucket_ownership_controls(
        Bucket=bucket, OwnershipControls={"Rules": [{"ObjectOwnership": rule["objectOwnership"]}]}
    )
    return bucket, {}


def _bucket_versioning(ctx: _Context) -> tuple[str, dict]:
    bucket = ctx.inputs["bucket"]
    config = ctx.inputs["versioningConfiguration"]
    ctx.client("s3").put_bucket_versioning(
        Bucket=bucket, VersioningConfiguration={"Status": config["status"]}
    )
    return bucket, {}


def _glue_database(ctx: _Context) -> tuple[str, dict]:
    name = ctx.physical_name(limit=255).lower()
    ctx.inputs["name"] = name
    database: dict[str, Any] = {"Name": name}
    if ctx.inputs.get("description"):
        database["Description"] = ctx.inputs["description"]
    ctx.client("glue").create_database(DatabaseInput=database)
    catalog = ctx.inputs.get("catalogId") or ctx.account
    return f"{catalog}:{name}", {
        "name": name,
        "catalogId": catalog,
        "arn": ctx.arn("glue", f"database/{name}"),
    }


def _glue_table(ctx: _Context) -> tuple[str, dict]:
    i = ctx.inputs
    name = ctx.physical_name(limit=255).lower()
    i["name"] = name
    descriptor = _to_api_shape(i.get("storageDescriptor") or {}, {"serDeInfo": "SerdeInfo"})
    table: dict[str, Any] = {
        "Name": name,
        "TableType": i.get("tableType") or "EXTERNAL_TABLE",
        "Parameters": dict(i.get("parameters") or {}),
        "StorageDescriptor": descriptor,
        "PartitionKeys": _to_api_shape(i.get("partitionKeys") or []),
    }
    if i.get("description"):
        table["Description"] = i["description"]
    ctx.client("glue").create_table(DatabaseName=i["databaseName"], TableInput=table)
    catalog = i.get("catalogId") or ctx.account
    return f"{catalog}:{i['databaseName']}:{name}", {
        "name": name,
        "catalogId": catalog,
        "arn": ctx.arn("glue", f"table/{i['databaseName']}/{name}"),
    }


def _sns_topic(ctx: _Context) -> tuple[str, dict]:
    name = ctx.physical_name(limit=256)
    attributes = {}
    if ctx.inputs.get("kmsMasterKeyId"):
        attributes["KmsMasterKeyId"] = ctx.inputs["kmsMasterKeyId"]
    arn = ctx.client("sns").create_topic(Name=name, Attributes=attributes)["TopicArn"]
    return arn, {"name": name, "arn": arn}


def _import_table(ctx: _Context, table_name: str) -> tuple[str, dict]:
    """Adopt an existing table: read it, and refuse (as ``pulumi up`` does) any setting the
    inputs describe otherwise. Nothing is written."""
    i = ctx.inputs
    ddb = ctx.client("dynamodb")
    table = ddb.describe_table(TableName=table_name)["Table"]
    keys = {k["KeyType"]: k["AttributeName"] for k in table["KeySchema"]}
    stream = table.get("StreamSpecification") or {}
    backups = ddb.describe_continuous_backups(TableName=table_name)["ContinuousBackupsDescription"]
    pitr = (backups.get("PointInTimeRecoveryDescription") or {}).get("PointInTimeRecoveryStatus")
    ttl = ddb.describe_time_to_live(TableName=table_name)["TimeToLiveDescription"]
    found = {
        "name": table_name,
        "hashKey": keys.get("HASH"),
        "rangeKey": keys.get("RANGE"),
        "billingMode": (table.get("BillingModeSummary") or {}).get("BillingMode") or "PROVISIONED",
        "streamEnabled": bool(stream.get("StreamEnabled")),
        "streamViewType": stream.get("StreamViewType"),
        "deletionProtectionEnabled": bool(table.get("DeletionProtectionEnabled")),
        "pointInTimeRecovery": pitr == "ENABLED",
        "serverSideEncryption": (table.get("SSEDescription") or {}).get("Status") == "ENABLED",
        "ttl": ttl.get("TimeToLiveStatus") in ("ENABLED", "ENABLING"),
        "globalSecondaryIndexes": sorted(
            g["IndexName"] for g in table.get("GlobalSecondaryIndexes") or []
        ),
    }
    wanted = {
        "name": i.get("name"),
        "hashKey": i.get("hashKey"),
        "rangeKey": i.get("rangeKey"),
        "billingMode": i.get("billingMode") or "PROVISIONED",
        "streamEnabled": bool(i.get("streamEnabled")),
        "streamViewType": i.get("streamViewType"),
        "deletionProtectionEnabled": bool(i.get("deletionProtectionEnabled")),
        "pointInTimeRecovery": bool((i.get("pointInTimeRecovery") or {}).get("enabled")),
        "serverSideEncryption": bool((i.get("serverSideEncryption") or {}).get("enabled")),
        "ttl": bool((i.get("ttl") or {}).get("enabled")),
        "globalSecondaryIndexes": sorted(g["name"] for g in i.get("globalSecondaryIndexes") or []),
    }
    differences = [f"{k}: {found[k]!r} != {wanted[k]!r}" for k in found if found[k] != wanted[k]]
    if differences:
        raise RuntimeError(
            f"import of table {table_name!r}: the program describes it otherwise ("
            + "; ".join(differences)
            + "): a real `pulumi up` refuses the import"
        )
    outputs = {"name": table_name, "arn": table["TableArn"], "tagsAll": ctx.tags()}
    if table.get("LatestStreamArn"):
        outputs["streamArn"] = table["LatestStreamArn"]
        outputs["streamLabel"] = table["LatestStreamLabel"]
    return table_name, outputs


#: Pulumi import (``import_``) of an existing resource, by type: ``(ctx, import id)``.
_IMPORTERS = {"aws:dynamodb/table:Table": _import_table}

_CREATORS = {
    "pulumi:providers:aws": _provider,
    "pulumi:pulumi:StackReference": _stack_reference,
    "aws:dynamodb/table:Table": _table,
    "aws:dynamodb/resourcePolicy:ResourcePolicy": _table_resource_policy,
    "aws:iam/role:Role": _role,
    "aws:iam/rolePolicy:RolePolicy": _role_policy,
    "aws:iam/rolePolicyAttachment:RolePolicyAttachment": _role_policy_attachment,
    "aws:iam/policy:Policy": _policy,
    "aws:lambda/function:Function": _function,
    "aws:lambda/eventSourceMapping:EventSourceMapping": _event_source_mapping,
    "aws:cloudwatch/logGroup:LogGroup": _log_group,
    "aws:cloudwatch/logStream:LogStream": _log_stream,
    "aws:cloudwatch/metricAlarm:MetricAlarm": _metric_alarm,
    "aws:cloudwatch/dashboard:Dashboard": _dashboard,
    "aws:sqs/queue:Queue": _queue,
    "aws:sqs/queuePolicy:QueuePolicy": _queue_policy,
    "aws:kinesis/stream:Stream": _kinesis_stream,
    "aws:kinesis/streamConsumer:StreamConsumer": _stream_consumer,
    "aws:kinesis/resourcePolicy:ResourcePolicy": _kinesis_resource_policy,
    "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream": _firehose,
    "aws:s3/bucket:Bucket": _bucket,
    "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": _bucket_public_access_block,
    "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": (
        _bucket_encryption
    ),
    "aws:s3/bucketPolicy:BucketPolicy": _bucket_policy,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": _bucket_lifecycle,
    "aws:s3/bucketOwnershipControls:BucketOwnershipControls": _bucket_ownership,
    "aws:s3/bucketVersioning:BucketVersioning": _bucket_versioning,
    "aws:sns/topic:Topic": _sns_topic,
    "aws:glue/catalogDatabase:CatalogDatabase": _glue_database,
    "aws:glue/catalogTable:CatalogTable": _glue_table,
}
