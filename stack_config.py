"""Stack configuration: read, check, and turn into component arguments.

``__main__.py`` stays thin: it calls :func:`load` and the ``*_args`` builders here, creates the
components and exports their outputs. The typed ``config:`` schema in ``Pulumi.yaml`` is the one
list of project keys and defaults; this module reads it, so

* a project key set in the stack that the schema doesn't declare is an error (a typo would
  otherwise be silently ignored),
* a value of the wrong type is an error,
* semantic checks follow (12-digit account ids, known access mode, batch size 1..10000, the
  stack's account in ``aws:allowedAccountIds``, …).

Every error is a :class:`ConfigError` whose message names the stack file and the key, e.g.
``Pulumi.prod.yaml: kinesis-crossaccount-replica:batchSize: must be 1..10000, got 0``.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import yaml
from pulumi.runtime import config as runtime_config
from stream_replica.components import (
    AlarmSettings,
    FunctionSettings,
    LifecycleRule,
    MappingSettings,
    ReplicaSourceArgs,
    ReplicaTargetArgs,
    SecondaryIndex,
    StreamToS3ArchiverArgs,
)
from stream_replica.components.common import (
    ACCESS_MODES,
    ARCHITECTURES,
    STARTING_POSITIONS,
    SUPPORTED_RUNTIMES,
)
from stream_replica.components.replica_target import (
    BILLING_MODES,
    STREAM_VIEW_TYPES,
    TABLE_ENCRYPTIONS,
)

PROJECT_FILE = Path(__file__).resolve().parent / "Pulumi.yaml"
SIDES = ("poc", "prod")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
COMPRESSIONS = ("UNCOMPRESSED", "GZIP")
KEY_TYPES = ("S", "N", "B")
#: CloudWatch Logs accepts only these retention periods.
LOG_RETENTION_DAYS = (1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827)

_ACCOUNT_ID = re.compile(r"^\d{12}$")
_ARN = re.compile(r"^arn:aws[a-z-]*:[a-z0-9-]+:[a-z0-9-]*:(\d{12})?:.+$")
_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")


class ConfigError(ValueError):
    """A stack config value is missing or wrong; the message names the stack file and key."""


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


def _present_keys() -> set[str]:
    """Every config key the engine gave the program (``namespace:key``)."""
    keys = set(runtime_config.CONFIG.get())
    keys.update(runtime_config.get_config_env())
    return keys


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

    def account_id(self, key: str) -> str:
        value = self.string(key)
        if not _ACCOUNT_ID.match(value):
            raise self.error(key, f"must be a 12-digit AWS account id, got {value!r}")
        return value

    def arn(self, key: str, service: str | None = None) -> str | None:
        value = self.optional(key)
        if value is None:
            return None
        if not _ARN.match(value) or (service and value.split(":")[2] != service):
            what = f"an ARN of the {service} service" if service else "an ARN"
            raise self.error(key, f"must be {what}, got {value!r}")
        return value

    def aws_region(self) -> str:
        value = self._aws.get("region")
        if not value:
            raise self.error("aws:region", "is required: the region both accounts use")
        if not _REGION.match(value):
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
            isinstance(v, str) and _ACCOUNT_ID.match(v) for v in value
        ):
            raise self.error(
                "aws:allowedAccountIds", f"must be a list of 12-digit account ids, got {raw!r}"
            )
        return value


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
    alarms: AlarmSettings
    mapping: MappingSettings
    config: StackConfig

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
        tags[key] = value
    return tags


def load(stack: str | None = None, project_file: Path = PROJECT_FILE) -> Settings:
    """Read and check the shared part of the stack's config."""
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
    # Checked once here; the function builders read them again.
    cfg.string("runtime", choices=SUPPORTED_RUNTIMES)
    cfg.string("architecture", choices=ARCHITECTURES)
    cfg.string("logLevel", choices=LOG_LEVELS)
    retention = int(cfg.get("logRetentionDays"))
    if retention not in LOG_RETENTION_DAYS:
        raise cfg.error(
            "logRetentionDays",
            f"must be one CloudWatch accepts {LOG_RETENTION_DAYS}, got {retention}",
        )
    cfg.arn("powertoolsLayerArn", "lambda")
    mapping = MappingSettings(
        batch_size=cfg.integer("batchSize", 1, 10000),
        starting_position=cfg.string("startingPosition", choices=STARTING_POSITIONS),
        maximum_batching_window_in_seconds=cfg.integer("batchingWindowSeconds", 0, 300),
        parallelization_factor=cfg.integer("parallelizationFactor", 1, 10),
        maximum_retry_attempts=cfg.integer("maximumRetryAttempts", 0, 10000),
        maximum_record_age_in_seconds=cfg.integer("maximumRecordAgeSeconds", 60, 604800),
    )
    alarms = AlarmSettings(
        topic_arn=cfg.arn("alarmTopicArn", "sns"),
        iterator_age_ms=cfg.integer("iteratorAgeAlarmMs", 1000, 604_800_000),
    )
    role_name = cfg.string("replicatorRoleName")
    if not re.match(r"^[\w+=,.@-]{1,64}$", role_name):
        raise cfg.error("replicatorRoleName", f"is not a valid IAM role name: {role_name!r}")
    return Settings(
        stack=cfg.stack,
        project=cfg.project,
        side=side,
        region=region,
        allowed_account_ids=allowed,
        prod_account_id=prod_account_id,
        poc_account_id=poc_account_id,
        access_mode=cfg.string("accessMode", choices=ACCESS_MODES),
        external_id=cfg.optional("externalId"),
        replicator_role_name=role_name,
        tags=_tags(cfg),
        alarms=alarms,
        mapping=mapping,
        config=cfg,
    )


def _function(
    settings: Settings, *, name_key: str, memory_key: str, timeout_key: str, role_name: str | None
) -> FunctionSettings:
    cfg = settings.config
    return FunctionSettings(
        name=cfg.optional(name_key),
        role_name=role_name,
        runtime=cfg.string("runtime"),
        architecture=cfg.string("architecture"),
        memory_size=cfg.integer(memory_key, 128, 10240),
        timeout=cfg.integer(timeout_key, 1, 900),
        log_retention_days=int(cfg.get("logRetentionDays")),
        log_level=cfg.string("logLevel"),
        powertools_layer_arn=cfg.optional("powertoolsLayerArn"),
    )


# --- poc ------------------------------------------------------------------------------------


def target_args(settings: Settings) -> ReplicaTargetArgs:
    """The POC half's table and writer access."""
    cfg = settings.config
    indexes = []
    gsi_name = cfg.optional("gsiName")
    if gsi_name:
        hash_key = cfg.optional("gsiHashKey")
        if not hash_key:
            raise cfg.error("gsiHashKey", "is required when gsiName is set")
        indexes.append(
            SecondaryIndex(
                name=gsi_name,
                hash_key=hash_key,
                hash_key_type=cfg.string("gsiHashKeyType", choices=KEY_TYPES),
                range_key=cfg.optional("gsiRangeKey"),
                range_key_type=cfg.string("gsiRangeKeyType", choices=KEY_TYPES),
            )
        )
    encryption = cfg.optional("tableEncryption")
    if encryption is not None and encryption not in TABLE_ENCRYPTIONS:
        raise cfg.error(
            "tableEncryption", f"must be one of {', '.join(TABLE_ENCRYPTIONS)}, got {encryption!r}"
        )
    if encryption == "AWS_MANAGED" and settings.access_mode == "resource-policy":
        raise cfg.error(
            "tableEncryption",
            "AWS_MANAGED can't be used with accessMode resource-policy: DynamoDB refuses "
            "cross-account access through a resource policy to a table encrypted with the "
            "AWS-managed key (use AWS_OWNED or leave it empty)",
        )
    return ReplicaTargetArgs(
        source_account_id=settings.prod_account_id,
        access_mode=settings.access_mode,
        replicator_role_name=settings.replicator_role_name,
        external_id=settings.external_id,
        table_name=cfg.optional("tableName"),
        billing_mode=cfg.string("billingMode", choices=BILLING_MODES),
        read_capacity=cfg.integer("readCapacity", 1, 40000),
        write_capacity=cfg.integer("writeCapacity", 1, 40000),
        stream_view_type=cfg.string("streamViewType", choices=STREAM_VIEW_TYPES),
        table_encryption=encryption,
        deletion_protection=cfg.boolean("deletionProtection"),
        protect=cfg.boolean("protectData"),
        secondary_indexes=indexes,
        writer_role_name=cfg.optional("writerRoleName"),
    )


def archiver_args(
    settings: Settings, table_stream_arn: pulumi.Input[str]
) -> StreamToS3ArchiverArgs:
    """The POC side's archiver of the table's stream."""
    cfg = settings.config
    bucket_name = cfg.optional("bucketName")
    existing = cfg.optional("existingBucketName")
    if bucket_name and existing:
        raise cfg.error("existingBucketName", "set bucketName or existingBucketName, not both")
    for key in ("s3Prefix", "s3ErrorPrefix"):
        prefix = cfg.string(key)
        if not prefix.endswith("/") or prefix.startswith("/"):
            raise cfg.error(key, f"must be a folder like 'data/', got {prefix!r}")
    rules = [LifecycleRule(id="housekeeping")]
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
                prefix=cfg.string("s3Prefix"),
                transition_days=transition or None,
                expiration_days=expiration or None,
                abort_incomplete_multipart_days=None,
                noncurrent_version_expiration_days=None,
            )
        )
    return StreamToS3ArchiverArgs(
        table_stream_arn=table_stream_arn,
        account_id=settings.poc_account_id,
        region=settings.region,
        delivery_stream_name=cfg.optional("deliveryStreamName"),
        buffering_size_mb=cfg.integer("bufferingSizeMb", 1, 128),
        buffering_interval_seconds=cfg.integer("bufferingIntervalSeconds", 0, 900),
        compression=cfg.string("compression", choices=COMPRESSIONS),
        prefix=cfg.string("s3Prefix"),
        error_prefix=cfg.string("s3ErrorPrefix"),
        bucket_name=bucket_name,
        existing_bucket_name=existing,
        lifecycle_rules=rules,
        protect=cfg.boolean("protectData"),
        archive_removes=cfg.boolean("archiveRemoves"),
        delivery_log_retention_days=int(cfg.get("logRetentionDays")),
        function=_function(
            settings,
            name_key="archiverFunctionName",
            memory_key="archiverMemorySize",
            timeout_key="archiverTimeout",
            role_name=None,
        ),
        mapping=settings.mapping,
        alarms=settings.alarms,
    )


# --- prod -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class TargetRef:
    """What prod needs to know about the POC side."""

    table_name: pulumi.Input[str]
    table_arn: pulumi.Input[str]
    writer_role_arn: pulumi.Input[str] | None
    table_region: pulumi.Input[str]


def _must_match(settings: Settings, key: str, output_name: str, expected: str) -> Any:
    """Check a poc stack output against this stack's config, at deployment time."""

    def check(value: Any) -> Any:
        if value is not None and value != expected:
            raise settings.config.error(
                key,
                f"is {expected!r} here but the poc stack's {output_name} output is {value!r}; "
                "both stacks must agree",
            )
        return value

    return check


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
        poc = pulumi.StackReference(reference)
        poc.get_output("accessMode").apply(
            _must_match(settings, "accessMode", "accessMode", settings.access_mode)
        )
        expected_role = (
            f"arn:aws:iam::{settings.prod_account_id}:role/{settings.replicator_role_name}"
        )
        poc.get_output("replicatorRoleArn").apply(
            _must_match(settings, "replicatorRoleName", "replicatorRoleArn", expected_role)
        )
        return TargetRef(
            table_name=poc.require_output("tableName"),
            table_arn=poc.require_output("tableArn"),
            writer_role_arn=(
                poc.require_output("writerRoleArn")
                if settings.access_mode == "assume-role"
                else None
            ),
            table_region=poc.require_output("tableRegion"),
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
    stream_arn = cfg.arn("sourceStreamArn", "kinesis")
    create = cfg.boolean("createSourceStream")
    if create and stream_arn:
        raise cfg.error("sourceStreamArn", "must be empty when createSourceStream is true")
    stream_name = cfg.optional("sourceStreamName")
    if not stream_name and not stream_arn:
        raise cfg.error("sourceStreamName", "is required (or set sourceStreamArn)")
    return ReplicaSourceArgs(
        account_id=settings.prod_account_id,
        region=settings.region,
        table_name=target.table_name,
        table_arn=target.table_arn,
        writer_role_arn=target.writer_role_arn,
        target_region=target.table_region,
        access_mode=settings.access_mode,
        external_id=settings.external_id,
        source_stream_name=None if stream_arn else stream_name,
        source_stream_arn=stream_arn,
        create_source_stream=create,
        source_stream_shard_count=cfg.integer("sourceStreamShardCount", 1, 10000),
        source_stream_kms_key_arn=cfg.arn("sourceStreamKmsKeyArn", "kms"),
        max_write_concurrency=cfg.integer("maxWriteConcurrency", 1, 64),
        function=_function(
            settings,
            name_key="replicatorFunctionName",
            memory_key="replicatorMemorySize",
            timeout_key="replicatorTimeout",
            role_name=settings.replicator_role_name,
        ),
        mapping=settings.mapping,
        alarms=settings.alarms,
    )
