"""Each component's args, built from the stack's config and checked.

A builder reads its keys (:mod:`stack_config.keys`), passes ``None`` for a key the stack file
leaves out (so the component's default applies), constructs the args and validates them,
turning the args' :class:`SettingError` into a :class:`StackConfigError` that names the stack file
and the key, e.g. ``Pulumi.prod.yaml: kinesis-crossaccount-replica:batchSize: must be
1..10000, got 0``.

Each builder runs once per program run, before any resource exists: an input that is another
component's output in the same stack (the table's stream for the archiver, the bucket for the
catalog, the table for the replicator in target placement) is :data:`UNWIRED` in what it
returns, and ``__main__`` passes the output in with :func:`wire`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

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
from stream_replica.components.exceptions import SettingError, StackConfigError

from stack_config.keys import (
    ARCHIVER_KEYS,
    ARN_KEYS,
    CATALOG_KEYS,
    GRANT_KEYS,
    GSI_KEYS,
    QUERY_TABLE_KEYS,
    REPLICATOR_KEYS,
    SOURCE_KEYS,
    TARGET_FIELD_KEYS,
    TARGET_KEYS,
)
from stack_config.reader import StackConfig
from stack_config.references import SourceRef, TargetRef
from stack_config.settings import Settings

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

A = TypeVar("A", bound="DataclassInstance")

#: What a builder leaves in an input that another component of the stack provides.
UNWIRED = ""


def wire(args: A, **inputs: Any) -> A:
    """``args`` with ``inputs`` (another component's outputs, e.g.
    ``table_stream_arn=target.table_stream_arn``, or the other stack's) in place of the
    stand-ins it was built and checked with (:data:`UNWIRED`, or
    :mod:`stack_config.references`' stand-ins for the other stack's outputs); every other
    field as built. Nothing is read or checked again."""
    return replace(args, **inputs)


def build_args(
    cfg: StackConfig,
    factory: Callable[..., A],
    keys: Mapping[str, str],
    fixed: Mapping[str, Any],
    validate: Callable[[A], None],
) -> A:
    """``factory(**fixed, **<the keys' values by field>)``, validated; a :class:`SettingError`
    becomes a :class:`StackConfigError` naming the config key the field came from."""
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
        raise StackConfigError(f"{cfg.file}: {exc}") from None
    return args


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


def archiver_args(settings: Settings) -> StreamToS3ArchiverArgs:
    """The POC side's archiver of the table's stream (``table_stream_arn`` :data:`UNWIRED`)."""
    cfg = settings.config
    return build_args(
        cfg,
        StreamToS3ArchiverArgs,
        ARCHIVER_KEYS,
        {
            "table_stream_arn": UNWIRED,
            "account_id": settings.poc_account_id,
            "region": settings.region,
            "lifecycle_rules": _lifecycle_rules(cfg),
        },
        StreamToS3ArchiverArgs.validate,
    )


def query_table_args(settings: Settings) -> StreamToQueryTableArgs | None:
    """The POC side's query table of the replica's stream (``table_stream_arn``
    :data:`UNWIRED`); ``None`` unless queryTableEnabled."""
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
            "table_stream_arn": UNWIRED,
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


def catalog_args(settings: Settings) -> ArchiveCatalogArgs | None:
    """The POC side's Glue catalog of the archive (``bucket_name`` :data:`UNWIRED`); ``None``
    unless archiveCatalogEnabled. Its prefix and compression are the archiver's (the same
    keys)."""
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
            "bucket_name": UNWIRED,
            "prefix": cfg.value("s3Prefix") or ARCHIVER_DEFAULTS["prefix"],
            "columns": columns,
        },
        validate,
    )


def replicator_args(settings: Settings, source: SourceRef) -> ReplicaSourceArgs:
    """Target placement, poc: the replicator next to the table (``table_name`` and
    ``table_arn`` :data:`UNWIRED`), on the prod stream (or its consumer) ``source``."""
    cfg = settings.config
    return build_args(
        cfg,
        ReplicaSourceArgs,
        REPLICATOR_KEYS,
        {
            "account_id": settings.poc_account_id,
            "stream_account_id": settings.prod_account_id,
            "region": settings.region,
            "table_name": UNWIRED,
            "table_arn": UNWIRED,
            "target_region": settings.region,
            **source.args_fields(),
        },
        ReplicaSourceArgs.validate,
    )


# --- prod -----------------------------------------------------------------------------------


def source_args(settings: Settings, target: TargetRef) -> ReplicaSourceArgs:
    """The prod half: the replicator on the source stream, writing the POC side ``target``."""
    cfg = settings.config
    return build_args(
        cfg,
        ReplicaSourceArgs,
        SOURCE_KEYS,
        {
            "account_id": settings.prod_account_id,
            "region": settings.region,
            **target.args_fields(),
        },
        lambda args: _validate_source(cfg, args),
    )


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
