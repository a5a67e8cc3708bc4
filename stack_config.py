"""Stack configuration: read, check, and turn into component arguments.

``__main__.py`` stays thin: it calls :func:`load` and the ``*_args`` builders here, creates the
components and exports their outputs. The typed ``config:`` schema in ``Pulumi.yaml`` is the one
list of project keys and defaults; this module reads it, so

* a project key set in the stack that the schema doesn't declare is an error (a typo would
  otherwise be silently ignored),
* a value of the wrong type is an error,
* the stack-level checks follow (12-digit account ids, the stack's account in
  ``aws:allowedAccountIds``, the two stacks' agreement, …).

A setting's default and its checks live in the component args (``stream_replica.components``);
this module only maps each config key to an args field (the ``*_KEYS`` tables below), passes
``None`` for a key the stack file leaves out (so the component's default applies; a test checks
that ``Pulumi.yaml``'s documented defaults equal the components'), and turns the args'
:class:`SettingError` into a :class:`ConfigError` that names the stack file and the key, e.g.
``Pulumi.prod.yaml: kinesis-crossaccount-replica:batchSize: must be 1..10000, got 0``.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pulumi
import yaml
from pulumi.runtime import config as runtime_config
from stream_replica.components import (
    ARCHIVER_DEFAULTS,
    HOUSEKEEPING_RULE,
    ArchiveCatalogArgs,
    ArchiveColumn,
    LifecycleRule,
    ReplicaSourceArgs,
    ReplicaTargetArgs,
    SecondaryIndex,
    StreamReadGrantArgs,
    StreamToQueryTableArgs,
    StreamToS3ArchiverArgs,
)
from stream_replica.components.exceptions import SettingError
from stream_replica.components.exceptions import StackConfigError as ConfigError
from stream_replica.components.settings import ACCESS_MODES
from stream_replica.components.validation import ALWAYS_SET_TAGS, check_tags

PROJECT_FILE = Path(__file__).resolve().parent / "Pulumi.yaml"
SIDES = ("poc", "prod")

_ACCOUNT_ID = re.compile(r"[0-9]{12}")
_ARN = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:([0-9]{12})?:.+")
_REGION = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-\d")

__all__ = ["ConfigError"]


def load_schema(project_file: Path = PROJECT_FILE) -> tuple[str, dict[str, dict[str, Any]]]:
    """``(project name, {key: {type, default?, description}})`` from ``Pulumi.yaml``."""
    with project_file.open(encoding="utf-8") as handle:
        project = yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    schema = {
        key: spec
        for key, spec in (project.get("config") or {}).items()
        if ":" not in key and isinstance(spec, dict)
    }
    return project["name"], schema


def key_side(spec: Mapping[str, Any]) -> str | None:
    """The one stack that reads a key (``poc`` or ``prod``), from its description in
    ``Pulumi.yaml`` (``"poc only. …"``, ``"prod only, without …"``); ``None``: both read it."""
    description = str(spec.get("description", ""))
    for side in SIDES:
        if description.startswith(f"{side} only"):
            return side
    return None


def markdown_table(project_file: Path = PROJECT_FILE) -> str:
    """The README's configuration reference, generated from ``Pulumi.yaml``'s schema (the one
    list of keys): key, type, default, which stack reads it, description."""
    _, schema = load_schema(project_file)
    lines = ["| Key | Type | Default | Stack | Description |", "|---|---|---|---|---|"]
    for key, spec in schema.items():
        kind = spec.get("type", "string")
        if kind == "array":
            kind = f"array<{spec.get('items', {}).get('type', 'string')}>"
        if "default" not in spec:
            default = "*(required)*"
        elif isinstance(spec["default"], bool):
            default = f"`{str(spec['default']).lower()}`"
        elif spec["default"] in ("", []):
            default = f"`{json.dumps(spec['default'])}`"
        else:
            default = f"`{spec['default']}`"
        description = str(spec.get("description", ""))
        stack = key_side(spec) or "both"
        if stack != "both":
            description = description[len(f"{stack} only") :].lstrip(".,; ")
            description = description[:1].upper() + description[1:]
        lines.append(f"| `{key}` | {kind} | {default} | {stack} | {description} |")
    return "\n".join(lines)


def _present_keys() -> set[str]:
    """Every config key the engine gave the program (``namespace:key``)."""
    keys = set(runtime_config.CONFIG.get())
    keys.update(runtime_config.get_config_env())
    return keys


def _quote_hint(value: str) -> str:
    """For an account id YAML turned into a shorter number: say to quote it."""
    if value.isdigit() and len(value) < 12:
        return (
            " (quote account ids in the stack file, e.g. '012345678901': unquoted, YAML reads a "
            "number with a leading 0 as octal or drops the zeros)"
        )
    return ""


class StackConfig:
    """Typed access to one stack's config, with errors that name the stack file and key."""

    def __init__(self, stack: str | None = None, project_file: Path = PROJECT_FILE) -> None:
        self.stack = stack or pulumi.get_stack()
        self.project, self.schema = load_schema(project_file)
        self.file = f"Pulumi.{self.stack}.yaml"
        self._config = pulumi.Config(self.project)
        self._aws = pulumi.Config("aws")

    def error(self, key: str, problem: str) -> ConfigError:
        """A ConfigError for ``key`` (bare keys are in the project namespace)."""
        full = key if ":" in key else f"{self.project}:{key}"
        return ConfigError(f"{self.file}: {full}: {problem}")

    def check_keys(self) -> None:
        """Reject project keys the schema doesn't declare (typos) and values of the wrong type."""
        prefix = f"{self.project}:"
        for full in sorted(_present_keys()):
            if not full.startswith(prefix):
                continue
            key = full[len(prefix) :]
            if key not in self.schema:
                raise self.error(
                    full, "not a config key of this project (see Pulumi.yaml's config schema)"
                )
            self.get(key)  # type check, also for keys only the other side reads

    def check_side(self, side: str, read_here: Collection[str] = ()) -> None:
        """Refuse a key set in this stack that only the other stack reads: it would be set but
        ignored (a value meant for the other stack, or a file copied from it). The CLI hands the
        program ``Pulumi.yaml``'s defaults as if they were set, so a value equal to the key's
        default counts as not set. ``read_here``: the other side's keys this stack reads too
        (the replicator's keys in the poc stack in target placement)."""
        prefix = f"{self.project}:"
        other = "prod" if side == "poc" else "poc"
        for full in sorted(_present_keys()):
            key = full[len(prefix) :] if full.startswith(prefix) else ""
            spec = self.schema.get(key)
            if spec is None or key_side(spec) != other or key in read_here:
                continue
            if "default" not in spec or self.get(key) != spec["default"]:
                raise self.error(
                    key,
                    f"is set but ignored: only the {other} stack reads it (this stack is "
                    f"side {side}); move it to Pulumi.<{other} stack>.yaml or remove it",
                )

    def check_moved(self, keys: Collection[str], why: str) -> None:
        """Refuse any of ``keys`` set here (not at its default): ``why`` they belong in the
        other stack. Silently ignoring them would drop a setting such as the redaction, which
        must not be lost on the way."""
        for key in keys:
            spec = self.schema[key]
            if self._config.get(key) is not None and self.get(key) != spec.get("default"):
                raise self.error(
                    key,
                    f"is set but ignored: {why} and its stages (transform, dropped and "
                    "pseudonymised fields, the key parameter); move it to the poc stack's file "
                    "(the parameter then lives in the POC account)",
                )

    def _raw(self, key: str) -> tuple[str | None, dict[str, Any]]:
        spec = self.schema.get(key)
        if spec is None:  # a programming error, not a user's
            raise KeyError(f"{key} is not declared in Pulumi.yaml's config schema")
        return self._config.get(key), spec

    def get(self, key: str) -> Any:
        """The key's value (or its schema default) converted to its schema type."""
        raw, spec = self._raw(key)
        kind = spec.get("type", "string")
        if raw is None:
            if "default" not in spec:
                raise self.error(
                    key,
                    f"is required (pulumi config set {key} <value> -s {self.stack})",
                )
            return spec["default"]
        if kind == "string":
            return raw
        if kind == "integer":
            try:
                return int(raw)
            except ValueError:
                raise self.error(key, f"must be an integer, got {raw!r}") from None
        if kind == "boolean":
            if raw.lower() in ("true", "false"):
                return raw.lower() == "true"
            raise self.error(key, f"must be true or false, got {raw!r}")
        if kind == "array":
            try:
                value = json.loads(raw)
            except json.JSONDecodeError:
                raise self.error(key, f"must be a list, got {raw!r}") from None
            if not isinstance(value, list):
                raise self.error(key, f"must be a list, got {raw!r}")
            return value
        raise KeyError(f"{key}: unsupported schema type {kind!r}")

    def string(self, key: str, *, choices: tuple[str, ...] | None = None) -> str:
        value = self.get(key)
        if choices is not None and value not in choices:
            raise self.error(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return str(value)

    def optional(self, key: str) -> str | None:
        """A string key whose empty value means "not set"."""
        value = self.string(key)
        return value or None

    def integer(self, key: str, low: int, high: int) -> int:
        value = int(self.get(key))
        if not low <= value <= high:
            raise self.error(key, f"must be {low}..{high}, got {value}")
        return value

    def boolean(self, key: str) -> bool:
        return bool(self.get(key))

    def value(self, key: str) -> Any:
        """The key's value converted to its schema type, or ``None`` when the stack file
        leaves it out or sets it empty: the component's own default then applies."""
        raw, _ = self._raw(key)
        if raw is None or raw == "":
            return None
        return self.get(key)

    def account_id(self, key: str) -> str:
        value = self.string(key)
        if not _ACCOUNT_ID.fullmatch(value):
            raise self.error(
                key, f"must be a 12-digit AWS account id, got {value!r}{_quote_hint(value)}"
            )
        return value

    def arn(self, key: str, service: str | None = None) -> str | None:
        value = self.optional(key)
        if value is None:
            return None
        if not _ARN.fullmatch(value) or (service and value.split(":")[2] != service):
            what = f"an ARN of the {service} service" if service else "an ARN"
            raise self.error(key, f"must be {what}, got {value!r}")
        return value

    def aws_region(self) -> str:
        value = self._aws.get("region")
        if not value:
            raise self.error("aws:region", "is required: the region both accounts use")
        if not _REGION.fullmatch(value):
            raise self.error("aws:region", f"is not an AWS region: {value!r}")
        return value

    def allowed_account_ids(self) -> list[str]:
        raw = self._aws.get("allowedAccountIds")
        if not raw:
            raise self.error(
                "aws:allowedAccountIds",
                "is required: the stack's own account, so it can't be applied to another one",
            )
        try:
            value = json.loads(raw)
        except json.JSONDecodeError:
            raise self.error("aws:allowedAccountIds", f"must be a list, got {raw!r}") from None
        if not isinstance(value, list) or not all(
            isinstance(v, str) and _ACCOUNT_ID.fullmatch(v) for v in value
        ):
            raise self.error(
                "aws:allowedAccountIds", f"must be a list of 12-digit account ids, got {raw!r}"
            )
        return value


# --- config key -> component args field ----------------------------------------------------
# One line per key. A field path with a dot goes into a settings object (``function.timeout``).
# A key whose value the stack file leaves out is passed as ``None``: the component's default.

#: Keys both functions share (the ``function`` settings of either consumer).
FUNCTION_KEYS = {
    "runtime": "function.runtime",
    "architecture": "function.architecture",
    "logRetentionDays": "function.log_retention_days",
    "deadLetterRetentionSeconds": "function.dead_letter_retention_seconds",
    "logLevel": "function.log_level",
    "powertoolsLayerArn": "function.powertools_layer_arn",
}
#: Keys of both event source mappings and both consumers' alarms.
MAPPING_KEYS = {
    "batchSize": "mapping.batch_size",
    "startingPosition": "mapping.starting_position",
    "batchingWindowSeconds": "mapping.maximum_batching_window_in_seconds",
    "parallelizationFactor": "mapping.parallelization_factor",
    "maximumRetryAttempts": "mapping.maximum_retry_attempts",
    "maximumRecordAgeSeconds": "mapping.maximum_record_age_in_seconds",
    "alarmTopicArn": "alarms.topic_arn",
    "iteratorAgeAlarmMs": "alarms.iterator_age_ms",
}
#: poc: the replica table and the writer's access (``ReplicaTargetArgs``).
TARGET_KEYS = {
    "accessMode": "access_mode",
    "externalId": "external_id",
    "replicatorRoleName": "replicator_role_name",
    "tableName": "table_name",
    "billingMode": "billing_mode",
    "readCapacity": "read_capacity",
    "writeCapacity": "write_capacity",
    "streamViewType": "stream_view_type",
    "tableEncryption": "table_encryption",
    "deletionProtection": "deletion_protection",
    "protectData": "protect",
    "writerRoleName": "writer_role_name",
    "ttlDays": "ttl_days",
    "ttlAttribute": "ttl_attribute",
    "placement": "placement",
}
#: poc: the archiver (``StreamToS3ArchiverArgs``).
ARCHIVER_KEYS = {
    **FUNCTION_KEYS,
    **MAPPING_KEYS,
    "archiverFunctionName": "function.name",
    "archiverMemorySize": "function.memory_size",
    "archiverTimeout": "function.timeout",
    "streamViewType": "table_stream_view_type",
    "deliveryStreamName": "delivery_stream_name",
    "bufferingSizeMb": "buffering_size_mb",
    "bufferingIntervalSeconds": "buffering_interval_seconds",
    "compression": "compression",
    "s3Prefix": "prefix",
    "s3ErrorPrefix": "error_prefix",
    "bucketName": "bucket_name",
    "existingBucketName": "existing_bucket_name",
    "protectData": "protect",
    "archiveRemoves": "archive_removes",
    "archiveTransformModule": "archive_transform_module",
    "logRetentionDays": "delivery_log_retention_days",
}
#: poc: the query table (``StreamToQueryTableArgs``), when ``queryTableEnabled``.
QUERY_TABLE_KEYS = {
    **FUNCTION_KEYS,
    **MAPPING_KEYS,
    "queryWriterFunctionName": "function.name",
    "queryTableName": "table_name",
    "queryTableHashAttribute": "hash_attribute",
    "queryTableHashType": "hash_attribute_type",
    "queryTableRangeAttribute": "range_attribute",
    "queryTableSortKeyAttribute": "sort_key_attribute",
    "queryTableTtlDays": "ttl_days",
    "ttlDays": "source_ttl_days",
    "ttlAttribute": "ttl_attribute",
    "deletionProtection": "deletion_protection",
    "protectData": "protect",
}
#: poc: the archive's Glue catalog (``ArchiveCatalogArgs``), when ``archiveCatalogEnabled``.
CATALOG_KEYS = {
    "compression": "compression",
    "glueDatabaseName": "database_name",
    "glueTableName": "table_name",
    "glueFirstYear": "first_year",
}
#: prod: the replicator (``ReplicaSourceArgs``).
SOURCE_KEYS = {
    **FUNCTION_KEYS,
    **MAPPING_KEYS,
    "accessMode": "access_mode",
    "externalId": "external_id",
    "replicatorRoleName": "function.role_name",
    "replicatorFunctionName": "function.name",
    "replicatorMemorySize": "function.memory_size",
    "replicatorTimeout": "function.timeout",
    "sourceStreamName": "source_stream_name",
    "sourceStreamArn": "source_stream_arn",
    "createSourceStream": "create_source_stream",
    "sourceStreamShardCount": "source_stream_shard_count",
    "sourceStreamKmsKeyArn": "source_stream_kms_key_arn",
    "maxWriteConcurrency": "max_write_concurrency",
    "ttlDays": "ttl_days",
    "ttlAttribute": "ttl_attribute",
    "transformModule": "transform_module",
    "dropFields": "drop_fields",
    "pseudonymizeFields": "pseudonymize_fields",
    "pseudonymizationKeyParameter": "pseudonymization_key_parameter",
    "pseudonymizationKeyKmsKeyArn": "pseudonymization_key_kms_key_arn",
    "placement": "placement",
    "consumerMode": "consumer_mode",
}
#: The replicator's stages: in target placement they run in poc, so prod refuses them.
STAGE_KEYS = (
    "transformModule",
    "dropFields",
    "pseudonymizeFields",
    "pseudonymizationKeyParameter",
    "pseudonymizationKeyKmsKeyArn",
)
#: poc in target placement: the replicator next to the table (``ReplicaSourceArgs``); the stream
#: (and consumer) come from the prod stack (``source_ref``).
REPLICATOR_KEYS = {
    key: field
    for key, field in SOURCE_KEYS.items()
    if key
    not in ("sourceStreamName", "sourceStreamArn", "createSourceStream", "sourceStreamShardCount")
}
#: prod in target placement: the stream's read grant (``StreamReadGrantArgs``).
GRANT_KEYS = {
    "consumerMode": "consumer_mode",
    "sourceStreamName": "source_stream_name",
    "sourceStreamArn": "source_stream_arn",
    "replicatorRoleName": "replicator_role_name",
    "redriveRoleArn": "redrive_role_arn",
}
#: Keys whose value must be an ARN of this service (checked here: the components take any
#: string, and a wrong ARN would only fail in AWS).
ARN_KEYS = {
    "alarmTopicArn": "sns",
    "powertoolsLayerArn": "lambda",
    "sourceStreamArn": "kinesis",
    "sourceStreamKmsKeyArn": "kms",
    "pseudonymizationKeyKmsKeyArn": "kms",
    "streamConsumerArn": "kinesis",
    "redriveRoleArn": "iam",
}

A = TypeVar("A")


def build_args(
    cfg: StackConfig,
    factory: Callable[..., A],
    keys: Mapping[str, str],
    fixed: Mapping[str, Any],
    validate: Callable[[A], None],
) -> A:
    """``factory(**fixed, **<the keys' values by field>)``, validated; a :class:`SettingError`
    becomes a :class:`ConfigError` naming the config key the field came from."""
    fields: dict[str, Any] = {}
    for key, path in keys.items():
        value = cfg.arn(key, ARN_KEYS[key]) if key in ARN_KEYS else cfg.value(key)
        if value is None:
            continue
        head, _, rest = path.partition(".")
        if rest:
            fields.setdefault(head, {})[rest] = value
        else:
            fields[head] = value
    try:
        args = factory(**fixed, **fields)
        validate(args)
    except SettingError as exc:
        # Say it in the stack file's terms: the other fields a problem names become keys.
        problem = exc.problem
        for key, path in keys.items():
            problem = re.sub(rf"(?<![\w.]){re.escape(path)}(?![\w.])", key, problem)
        for key, path in keys.items():
            if path == exc.field:
                raise cfg.error(key, problem) from None
        raise ConfigError(f"{cfg.file}: {exc}") from None
    return args


@dataclass(frozen=True)
class Settings:
    """Everything both sides share, checked."""

    stack: str
    project: str
    side: str
    region: str
    allowed_account_ids: list[str]
    prod_account_id: str
    poc_account_id: str
    access_mode: str
    external_id: str | None
    replicator_role_name: str
    tags: dict[str, str]
    config: StackConfig
    #: ``source`` or ``target`` (where the replicator runs); the args check the value.
    placement: str = "source"
    #: ``shared`` or ``efo``; the args check the value.
    consumer_mode: str = "shared"

    @property
    def account_id(self) -> str:
        """The account this stack deploys into."""
        return self.poc_account_id if self.side == "poc" else self.prod_account_id

    def provider_tags(self, component: str) -> dict[str, str]:
        """Default tags of the provider used for ``component``."""
        return {
            **self.tags,
            "project": self.project,
            "stack": self.stack,
            "component": component,
        }


def _tags(cfg: StackConfig) -> dict[str, str]:
    tags: dict[str, str] = {}
    for item in cfg.get("tags"):
        if not isinstance(item, str) or "=" not in item or item.startswith("="):
            raise cfg.error("tags", f"entries are Key=Value strings, got {item!r}")
        key, value = item.split("=", 1)
        if key in tags:
            raise cfg.error("tags", f"tag {key!r} is given twice ({tags[key]!r} and {value!r})")
        tags[key] = value
    try:
        check_tags("provider default tags", "tags", tags, ALWAYS_SET_TAGS)
    except SettingError as exc:
        raise cfg.error("tags", exc.problem) from None
    return tags


def external_id_digest(external_id: str | None) -> str:
    """What the poc stack exports so prod can check that both use the same ``externalId``
    without the value itself in the poc stack's outputs: SHA-256 of it ("" when unset)."""
    return hashlib.sha256((external_id or "").encode("utf-8")).hexdigest()


def load(stack: str | None = None, project_file: Path = PROJECT_FILE) -> Settings:
    """Read and check the stack's config: the shared part, then every component's args of this
    stack's side (so a bad value fails the preview before any resource is registered)."""
    cfg = StackConfig(stack, project_file)
    cfg.check_keys()
    side = cfg.string("side") or cfg.stack
    if side not in SIDES:
        raise cfg.error(
            "side",
            f"must be poc or prod (the stack is named {cfg.stack!r}, so set side explicitly)",
        )
    region = cfg.aws_region()
    prod_account_id = cfg.account_id("prodAccountId")
    poc_account_id = cfg.account_id("pocAccountId")
    if prod_account_id == poc_account_id:
        raise cfg.error("pocAccountId", "must differ from prodAccountId (cross-account replica)")
    allowed = cfg.allowed_account_ids()
    own = poc_account_id if side == "poc" else prod_account_id
    if own not in allowed:
        raise cfg.error(
            "aws:allowedAccountIds",
            f"must contain the {side} account {own} this stack deploys into, got {allowed}",
        )
    target_placement = cfg.string("placement") == "target"
    cfg.check_side(side, REPLICATOR_KEYS if side == "poc" and target_placement else ())
    if side == "prod" and target_placement:
        cfg.check_moved(STAGE_KEYS, "in target placement the poc stack runs the replicator")
    if side == "prod" and not target_placement and cfg.optional("redriveRoleArn"):
        raise cfg.error(
            "redriveRoleArn",
            "is read in target placement only: in source placement the redrive runs in prod, "
            "next to the stream, and needs no grant on it",
        )
    settings = Settings(
        stack=cfg.stack,
        project=cfg.project,
        side=side,
        region=region,
        allowed_account_ids=allowed,
        prod_account_id=prod_account_id,
        poc_account_id=poc_account_id,
        access_mode=cfg.string("accessMode", choices=ACCESS_MODES),
        external_id=cfg.optional("externalId"),
        replicator_role_name=cfg.string("replicatorRoleName"),
        tags=_tags(cfg),
        config=cfg,
        placement=cfg.string("placement"),
        consumer_mode=cfg.string("consumerMode"),
    )
    # Every args of this side, checked now (the values come back when __main__ builds them).
    target = settings.placement == "target"
    if side == "poc":
        target_args(settings)
        archiver_args(settings, "")
        query_table_args(settings, "")
        catalog_args(settings, "")
        if target:
            stream = f"arn:aws:kinesis:{region}:{prod_account_id}:stream/s"
            consumer = f"{stream}/consumer/c:1" if settings.consumer_mode == "efo" else None
            _replicator_args(settings, SourceRef(stream, consumer), "", "")
    elif target:
        grant_args(settings)
    else:
        source_args(settings, TargetRef("", "", "", region))
    return settings


# --- poc ------------------------------------------------------------------------------------


def _secondary_indexes(cfg: StackConfig) -> list[SecondaryIndex]:
    gsi_name = cfg.optional("gsiName")
    if not gsi_name:
        return []
    hash_key = cfg.optional("gsiHashKey")
    if not hash_key:
        raise cfg.error("gsiHashKey", "is required when gsiName is set")
    return [
        SecondaryIndex(
            name=gsi_name,
            hash_key=hash_key,
            hash_key_type=cfg.value("gsiHashKeyType"),
            range_key=cfg.optional("gsiRangeKey"),
            range_key_type=cfg.value("gsiRangeKeyType"),
        )
    ]


#: The GSI's keys, for errors about ``secondary_indexes[0]``.
GSI_KEYS = {
    "secondary_indexes[0].name": "gsiName",
    "secondary_indexes[0].hash_key": "gsiHashKey",
    "secondary_indexes[0].hash_key_type": "gsiHashKeyType",
    "secondary_indexes[0].range_key": "gsiRangeKey",
    "secondary_indexes[0].range_key_type": "gsiRangeKeyType",
}


def target_args(settings: Settings) -> ReplicaTargetArgs:
    """The POC half's table and writer access."""
    cfg = settings.config
    return build_args(
        cfg,
        ReplicaTargetArgs,
        TARGET_KEYS,
        {
            "source_account_id": settings.prod_account_id,
            "secondary_indexes": _secondary_indexes(cfg),
        },
        lambda args: _validate_with_keys(cfg, args, GSI_KEYS),
    )


def _validate_with_keys(
    cfg: StackConfig, args: ReplicaTargetArgs, extra: Mapping[str, str]
) -> None:
    try:
        args.validate()
    except SettingError as exc:
        if exc.field in extra:
            raise cfg.error(extra[exc.field], exc.problem) from None
        raise


def _lifecycle_rules(cfg: StackConfig) -> list[LifecycleRule]:
    rules = [HOUSEKEEPING_RULE]
    transition = cfg.integer("archiveTransitionDays", 0, 36500)
    expiration = cfg.integer("archiveExpirationDays", 0, 36500)
    if transition and expiration and expiration <= transition:
        raise cfg.error(
            "archiveExpirationDays", "must be later than archiveTransitionDays (or 0 for never)"
        )
    if transition or expiration:
        rules.append(
            LifecycleRule(
                id="archive-age",
                prefix=cfg.value("s3Prefix") or ARCHIVER_DEFAULTS["prefix"],
                transition_days=transition or None,
                expiration_days=expiration or None,
            )
        )
    return rules


def archiver_args(
    settings: Settings, table_stream_arn: pulumi.Input[str]
) -> StreamToS3ArchiverArgs:
    """The POC side's archiver of the table's stream."""
    cfg = settings.config
    return build_args(
        cfg,
        StreamToS3ArchiverArgs,
        ARCHIVER_KEYS,
        {
            "table_stream_arn": table_stream_arn,
            "account_id": settings.poc_account_id,
            "region": settings.region,
            "lifecycle_rules": _lifecycle_rules(cfg),
        },
        StreamToS3ArchiverArgs.validate,
    )


def query_table_args(
    settings: Settings, table_stream_arn: pulumi.Input[str]
) -> StreamToQueryTableArgs | None:
    """The POC side's query table of the replica's stream; ``None`` unless queryTableEnabled."""
    cfg = settings.config
    if not cfg.boolean("queryTableEnabled"):
        return None
    for key in ("queryTableHashAttribute", "queryTableRangeAttribute"):
        if not cfg.optional(key):
            raise cfg.error(key, "is required when queryTableEnabled is true")
    query_table_name = cfg.optional("queryTableName")
    if query_table_name and query_table_name == cfg.optional("tableName"):
        raise cfg.error(
            "queryTableName",
            f"must differ from tableName ({query_table_name!r}): both tables are in this account",
        )
    return build_args(
        cfg,
        StreamToQueryTableArgs,
        QUERY_TABLE_KEYS,
        {
            "table_stream_arn": table_stream_arn,
            "account_id": settings.poc_account_id,
            "region": settings.region,
        },
        StreamToQueryTableArgs.validate,
    )


def _glue_columns(cfg: StackConfig) -> list[ArchiveColumn] | None:
    columns = []
    for entry in cfg.get("glueColumns"):
        name, colon, hive_type = str(entry).partition(":")
        if not colon or not name.strip():
            raise cfg.error("glueColumns", f"{entry!r} is not 'name:hive type'")
        columns.append(ArchiveColumn(name=name.strip(), type=hive_type.strip()))
    return columns or None


def catalog_args(settings: Settings, bucket_name: pulumi.Input[str]) -> ArchiveCatalogArgs | None:
    """The POC side's Glue catalog of the archive; ``None`` unless archiveCatalogEnabled. Its
    prefix and compression are the archiver's (the same keys)."""
    cfg = settings.config
    if not cfg.boolean("archiveCatalogEnabled"):
        return None
    columns = _glue_columns(cfg)

    def validate(args: ArchiveCatalogArgs) -> None:
        try:
            args.validate()
        except SettingError as exc:
            if exc.field == "columns":
                raise cfg.error("glueColumns", exc.problem) from None
            raise

    return build_args(
        cfg,
        ArchiveCatalogArgs,
        CATALOG_KEYS,
        {
            "bucket_name": bucket_name,
            "prefix": cfg.value("s3Prefix") or ARCHIVER_DEFAULTS["prefix"],
            "columns": columns,
        },
        validate,
    )


# --- prod -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetRef:
    """What prod needs to know about the POC side."""

    table_name: pulumi.Input[str]
    table_arn: pulumi.Input[str]
    writer_role_arn: pulumi.Input[str] | None
    table_region: pulumi.Input[str]


#: Outputs of the poc stack prod checks its own config against (agreement checks).
AGREEMENT_OUTPUTS = (
    "accessMode",
    "replicatorRoleArn",
    "externalIdSha256",
    "ttlDays",
    "ttlAttribute",
)
#: prod keys the poc stack's outputs replace when ``pocStackReference`` is set.
REFERENCE_REPLACES = {
    "tableName": "tableName",
    "tableArn": "tableArn",
    "writerRoleArn": "writerRoleArn",
    "tableRegion": "tableRegion",
}
#: How each backend names a stack (the reference's form), for errors that can't resolve it.
REFERENCE_FORMS = (
    "organization/<project>/<stack> on a self-managed backend (pulumi login s3://…, file://…), "
    "<your-org>/<project>/<stack> on Pulumi Cloud"
)


def _missing_output(
    settings: Settings, reference: str, output_name: str, other: str = "poc"
) -> ConfigError:
    return settings.config.error(
        f"{other}StackReference",
        f"the stack {reference!r} has no output {output_name!r}: deploy the {other} stack first "
        f"(pulumi up -s {other}) with this version of the program, and check the name's form: "
        f"{REFERENCE_FORMS}",
    )


def _must_match(
    settings: Settings,
    reference: str,
    key: str,
    output_name: str,
    expected: Any,
    other: str = "poc",
    missing_ok: bool = False,
) -> Any:
    """Check the other stack's output against this stack's config, at deployment time; a
    missing agreement output is an error too (an older stack: deploy it again), unless
    ``missing_ok`` (``placement``: a stack from before placements is in source placement, and a
    stack not deployed yet has no outputs)."""

    def check(value: Any) -> Any:
        if value is None:
            if missing_ok:
                return value
            raise _missing_output(settings, reference, output_name, other)
        if value != expected and output_name == "externalIdSha256":
            raise settings.config.error(
                key,
                "differs from the poc stack's externalId (its externalIdSha256 output does not "
                "match this value's SHA-256); set the same externalId in both stack files",
            )
        if value != expected:
            raise settings.config.error(
                key,
                f"is {expected!r} here but the {other} stack's {output_name} output is "
                f"{value!r}; both stacks must agree",
            )
        return value

    return check


def _agreement(
    settings: Settings,
    ref: pulumi.StackReference,
    reference: str,
    other: str,
    checks: list[tuple[str, str, Any]],
) -> pulumi.Output[bool]:
    """Check the other stack's ``placement`` and then ``checks`` — (config key, output,
    expected) — in this order, in one output of its own: the first mismatch is the error (a
    stack in the other placement also disagrees on, or lacks, what the rest compare, which would
    only hide the cause). Returns whether every check passes, for :func:`_referenced`."""
    every = [("placement", "placement", settings.placement), *checks]
    values = pulumi.Output.all(*(ref.get_output(o) for _, o, _ in every))

    def check_all(found: list[Any]) -> bool:
        for (key, output, expected), value in zip(every, found, strict=True):
            _must_match(
                settings, reference, key, output, expected, other, missing_ok=key == "placement"
            )(value)
        return True

    def all_agree(found: list[Any]) -> bool:
        return all(
            value == expected or (value is None and key == "placement")
            for (key, _, expected), value in zip(every, found, strict=True)
        )

    values.apply(check_all)
    return values.apply(all_agree)


def _referenced(
    settings: Settings,
    ref: pulumi.StackReference,
    reference: str,
    output_name: str,
    agrees: pulumi.Output[bool],
    other: str = "poc",
) -> pulumi.Output[Any]:
    """An output of the other stack that must exist and, if it is an ARN, be in that stack's
    account. While the stacks disagree (which :func:`_agreement` reports) the resources get a
    stand-in, so that the disagreement is the deployment's one error."""
    account = settings.poc_account_id if other == "poc" else settings.prod_account_id
    account_key = f"{other}AccountId"
    label = "POC" if other == "poc" else "prod"

    def check(pair: list[Any]) -> Any:
        agreed, value = pair
        if not agreed:  # the agreement check fails the deployment; don't add a second error
            return value or f"<no {output_name} in the {other} stack>"
        if value is None or value == "":
            raise _missing_output(settings, reference, output_name, other)
        if isinstance(value, str) and value.startswith("arn:"):
            owner = value.split(":")[4] if value.count(":") >= 5 else ""
            if owner != account:
                raise settings.config.error(
                    f"{other}StackReference",
                    f"the stack {reference!r} exports {output_name} {value!r}, which is not in "
                    f"the {label} account {account} ({account_key})",
                )
        return value

    return pulumi.Output.all(agrees, ref.get_output(output_name)).apply(check)


def target_ref(settings: Settings) -> TargetRef:
    """The POC side's outputs: from the poc stack (StackReference) or from explicit config."""
    cfg = settings.config
    reference = cfg.optional("pocStackReference")
    if reference:
        if reference.count("/") != 2:
            raise cfg.error(
                "pocStackReference",
                f"must be <organization>/<project>/<stack>, got {reference!r}",
            )
        ignored = [key for key in REFERENCE_REPLACES if cfg.optional(key)]
        if ignored:
            key = ignored[0]
            raise cfg.error(
                key,
                f"is set but ignored: pocStackReference is set, so the poc stack's "
                f"{REFERENCE_REPLACES[key]} output is used; remove {key} from {cfg.file} (or "
                "empty pocStackReference to use the explicit keys)",
            )
        poc = pulumi.StackReference(reference)
        expected_role = (
            f"arn:aws:iam::{settings.prod_account_id}:role/{settings.replicator_role_name}"
        )
        agrees = _agreement(
            settings,
            poc,
            reference,
            "poc",
            [
                ("accessMode", "accessMode", settings.access_mode),
                ("replicatorRoleName", "replicatorRoleArn", expected_role),
                ("externalId", "externalIdSha256", external_id_digest(settings.external_id)),
                ("ttlDays", "ttlDays", cfg.value("ttlDays") or 0),
                ("ttlAttribute", "ttlAttribute", cfg.get("ttlAttribute")),
            ],
        )

        def read(output: str) -> pulumi.Output[Any]:
            return _referenced(settings, poc, reference, output, agrees)

        return TargetRef(
            table_name=read("tableName"),
            table_arn=read("tableArn"),
            writer_role_arn=(
                read("writerRoleArn") if settings.access_mode == "assume-role" else None
            ),
            table_region=read("tableRegion"),
        )
    table_name = cfg.optional("tableName")
    if not table_name:
        raise cfg.error("tableName", "is required on prod when pocStackReference is not set")
    table_arn = cfg.arn("tableArn", "dynamodb")
    if not table_arn:
        raise cfg.error("tableArn", "is required on prod when pocStackReference is not set")
    if not table_arn.endswith(f":table/{table_name}"):
        raise cfg.error("tableArn", f"does not name the table {table_name!r}: {table_arn}")
    if table_arn.split(":")[4] != settings.poc_account_id:
        raise cfg.error("tableArn", f"is not in the POC account {settings.poc_account_id}")
    writer = cfg.arn("writerRoleArn", "iam")
    if settings.access_mode == "assume-role" and not writer:
        raise cfg.error(
            "writerRoleArn",
            "is required on prod in assume-role mode when pocStackReference is not set",
        )
    if writer and writer.split(":")[4] != settings.poc_account_id:
        raise cfg.error(
            "writerRoleArn",
            f"is not in the POC account {settings.poc_account_id}: the replicator would assume "
            "a role outside it",
        )
    table_region = cfg.optional("tableRegion") or settings.region
    return TargetRef(
        table_name=table_name,
        table_arn=table_arn,
        writer_role_arn=writer if settings.access_mode == "assume-role" else None,
        table_region=table_region,
    )


def source_args(settings: Settings, target: TargetRef) -> ReplicaSourceArgs:
    """The prod half: the replicator on the source stream."""
    cfg = settings.config
    return build_args(
        cfg,
        ReplicaSourceArgs,
        SOURCE_KEYS,
        {
            "account_id": settings.prod_account_id,
            "region": settings.region,
            "table_name": target.table_name,
            "table_arn": target.table_arn,
            "writer_role_arn": target.writer_role_arn,
            "target_region": target.table_region,
        },
        lambda args: _validate_source(cfg, args),
    )


#: Fields of ReplicaSourceArgs that come from the poc side, by the key a user sets for them.
TARGET_FIELD_KEYS = {
    "table_name": "tableName",
    "table_arn": "tableArn",
    "writer_role_arn": "writerRoleArn",
    "target_region": "tableRegion",
}


def _validate_source(cfg: StackConfig, args: ReplicaSourceArgs) -> None:
    try:
        args.validate()
    except SettingError as exc:
        if exc.field in TARGET_FIELD_KEYS:
            problem = exc.problem
            for path, key in TARGET_FIELD_KEYS.items():
                problem = re.sub(rf"(?<![\w.]){re.escape(path)}(?![\w.])", key, problem)
            raise cfg.error(TARGET_FIELD_KEYS[exc.field], problem) from None
        raise


# --- target placement -----------------------------------------------------------------------


@dataclass(frozen=True)
class SourceRef:
    """What poc needs to know about the prod side in target placement."""

    stream_arn: pulumi.Input[str]
    consumer_arn: pulumi.Input[str] | None


def _reference(settings: Settings, key: str) -> pulumi.StackReference | None:
    """The other stack, if ``key`` names it (checked to be organization/project/stack)."""
    cfg = settings.config
    reference = cfg.optional(key)
    if not reference:
        return None
    if reference.count("/") != 2:
        raise cfg.error(key, f"must be <organization>/<project>/<stack>, got {reference!r}")
    return pulumi.StackReference(reference)


def check_other_stack(settings: Settings) -> None:
    """The stack deployed first in its placement (poc in source placement, prod in target
    placement) reads the other stack's ``placement`` output too, when the other stack is
    configured (``prodStackReference`` / ``pocStackReference``) and already deployed: a pair of
    stacks that each think they deploy first would otherwise never meet."""
    other = "prod" if settings.side == "poc" else "poc"
    key = f"{other}StackReference"
    ref = _reference(settings, key)
    if ref is not None:
        reference = str(settings.config.optional(key))
        ref.get_output("placement").apply(
            _must_match(
                settings,
                reference,
                "placement",
                "placement",
                settings.placement,
                other,
                missing_ok=True,
            )
        )


def source_ref(settings: Settings) -> SourceRef:
    """Target placement, poc: the prod stream (and consumer) from the prod stack's outputs
    (``prodStackReference``) or from explicit config."""
    cfg = settings.config
    prod = _reference(settings, "prodStackReference")
    efo = settings.consumer_mode == "efo"
    if prod is not None:
        reference = str(cfg.optional("prodStackReference"))
        expected_role = (
            f"arn:aws:iam::{settings.poc_account_id}:role/{settings.replicator_role_name}"
        )
        agrees = _agreement(
            settings,
            prod,
            reference,
            "prod",
            [
                ("consumerMode", "consumerMode", settings.consumer_mode),
                ("replicatorRoleName", "replicatorRoleArn", expected_role),
            ],
        )
        return SourceRef(
            stream_arn=_referenced(settings, prod, reference, "sourceStreamArn", agrees, "prod"),
            consumer_arn=(
                _referenced(settings, prod, reference, "streamConsumerArn", agrees, "prod")
                if efo
                else None
            ),
        )
    stream_arn = cfg.arn("sourceStreamArn", "kinesis")
    if not stream_arn:
        stream_name = cfg.optional("sourceStreamName")
        if not stream_name:
            raise cfg.error(
                "sourceStreamArn",
                "is required on poc in target placement without prodStackReference",
            )
        stream_arn = (
            f"arn:aws:kinesis:{settings.region}:{settings.prod_account_id}:stream/{stream_name}"
        )
    if stream_arn.split(":")[4] != settings.prod_account_id:
        raise cfg.error("sourceStreamArn", f"is not in the prod account {settings.prod_account_id}")
    consumer_arn = cfg.arn("streamConsumerArn", "kinesis")
    if efo and not consumer_arn:
        raise cfg.error(
            "streamConsumerArn",
            "is required on poc in target placement with consumerMode efo when "
            "prodStackReference is not set (the prod stack's streamConsumerArn output)",
        )
    if consumer_arn and not consumer_arn.startswith(f"{stream_arn}/consumer/"):
        raise cfg.error("streamConsumerArn", f"is not a consumer of {stream_arn}: {consumer_arn}")
    return SourceRef(stream_arn=stream_arn, consumer_arn=consumer_arn if efo else None)


def _replicator_args(
    settings: Settings,
    source: SourceRef,
    table_name: pulumi.Input[str],
    table_arn: pulumi.Input[str],
) -> ReplicaSourceArgs:
    cfg = settings.config
    return build_args(
        cfg,
        ReplicaSourceArgs,
        REPLICATOR_KEYS,
        {
            "account_id": settings.poc_account_id,
            "stream_account_id": settings.prod_account_id,
            "region": settings.region,
            "table_name": table_name,
            "table_arn": table_arn,
            "target_region": settings.region,
            "source_stream_arn": source.stream_arn,
            "stream_consumer_arn": source.consumer_arn,
        },
        ReplicaSourceArgs.validate,
    )


def replicator_args(
    settings: Settings, table_name: pulumi.Input[str], table_arn: pulumi.Input[str]
) -> ReplicaSourceArgs:
    """Target placement, poc: the replicator next to the table, on the prod stream (or its
    consumer) from the prod stack's outputs or explicit config."""
    return _replicator_args(settings, source_ref(settings), table_name, table_arn)


def grant_args(settings: Settings) -> StreamReadGrantArgs:
    """Target placement, prod: the stream's read grant for the replicator role in poc."""
    cfg = settings.config
    if cfg.boolean("createSourceStream"):
        raise cfg.error(
            "createSourceStream",
            "target placement shares an existing stream: create it first (or deploy once in "
            "source placement)",
        )
    return build_args(
        cfg,
        StreamReadGrantArgs,
        GRANT_KEYS,
        {
            "stream_account_id": settings.prod_account_id,
            "reader_account_id": settings.poc_account_id,
            "region": settings.region,
        },
        StreamReadGrantArgs.validate,
    )
