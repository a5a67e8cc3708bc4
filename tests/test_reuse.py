"""Reuse in one try: partial settings keep the component's defaults, two instances never share a
physical name, tags reach every taggable child, weakened safety defaults warn, and what the
components and the stack schema call a default is one value."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import fields
from typing import Any

import pulumi_aws as aws
import pytest
from stream_replica.components import (
    ALARM_DEFAULTS,
    ARCHIVE_CATALOG_DEFAULTS,
    ARCHIVER_DEFAULTS,
    ARCHIVER_FUNCTION_DEFAULTS,
    MAPPING_DEFAULTS,
    QUERY_TABLE_DEFAULTS,
    REPLICA_SOURCE_DEFAULTS,
    REPLICA_TARGET_DEFAULTS,
    REPLICATOR_FUNCTION_DEFAULTS,
    AlarmSettings,
    ArchiveCatalog,
    ArchiveCatalogArgs,
    CrossAccountStreamReplica,
    CrossAccountStreamReplicaArgs,
    FunctionSettings,
    MappingSettings,
    ReplicaSource,
    ReplicaSourceArgs,
    ReplicaTargetArgs,
    SettingError,
    StackConfigError,
    StreamToQueryTable,
    StreamToQueryTableArgs,
    StreamToS3Archiver,
    StreamToS3ArchiverArgs,
    merge_settings,
)
from stream_replica.components.settings import physical_name
from stream_replica.testing import RenderedStack
from stream_replica.testing.mocks import run_components

from stack_config.keys import (
    ARCHIVER_KEYS,
    CATALOG_KEYS,
    QUERY_TABLE_KEYS,
    SOURCE_KEYS,
    TARGET_KEYS,
)
from stack_config.schema import load_schema

PROD = "111111111111"
POC = "999999999999"
REGION = "eu-west-1"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{POC}:table/t"
STREAM_ARN = f"{TABLE_ARN}/stream/2026-01-01T00:00:00.000"


def source_args(**kwargs: Any) -> ReplicaSourceArgs:
    values: dict[str, Any] = {
        "account_id": PROD,
        "region": REGION,
        "table_name": "t",
        "table_arn": TABLE_ARN,
        "writer_role_arn": f"arn:aws:iam::{POC}:role/w",
        "source_stream_name": "clicks",
    }
    return ReplicaSourceArgs(**{**values, **kwargs})


def archiver_args(**kwargs: Any) -> StreamToS3ArchiverArgs:
    return StreamToS3ArchiverArgs(
        table_stream_arn=STREAM_ARN, account_id=POC, region=REGION, **kwargs
    )


# --- a partial override keeps every other default --------------------------------------------

SETTINGS_DEFAULTS: list[tuple[type, Any, str]] = [
    (FunctionSettings, REPLICATOR_FUNCTION_DEFAULTS, "function"),
    (MappingSettings, MAPPING_DEFAULTS, "mapping"),
    (AlarmSettings, ALARM_DEFAULTS, "alarms"),
]


def _example_value(default: Any, name: str) -> Any:
    """A value for one field that differs from its default (and passes the checks)."""
    special = {
        "runtime": "python3.12",
        "architecture": "x86_64",
        "log_level": "DEBUG",
        "log_retention_days": 90,
        "starting_position": "LATEST",
        "period_seconds": 120,
        "topic_arn": f"arn:aws:sns:{REGION}:{PROD}:alarms",
        "powertools_layer_arn": f"arn:aws:lambda:{REGION}:{PROD}:layer:pt:1",
        "extra_layers": [f"arn:aws:lambda:{REGION}:{PROD}:layer:x:1"],
        "name": "fn",
        "role_name": "role",
        "role_path": "/p/",
        "metrics_namespace": "Mine",
        "service_name": "svc",
    }
    if name in special:
        return special[name]
    if isinstance(default, bool):
        return not default
    if isinstance(default, int):
        return default + 1 if default < 10 else default - 1
    return 5 if default is None else default


@pytest.mark.parametrize(("cls", "defaults", "field_name"), SETTINGS_DEFAULTS)
def test_each_settings_object_with_one_field_set_keeps_the_other_defaults(
    cls: type, defaults: Any, field_name: str
) -> None:
    for field in fields(cls):
        value = _example_value(getattr(defaults, field.name), field.name)
        args = source_args(**{field_name: cls(**{field.name: value})})
        resolved = getattr(args, field_name)
        for other in fields(cls):
            expected = value if other.name == field.name else getattr(defaults, other.name)
            assert getattr(resolved, other.name) == expected, (field.name, other.name)


def test_archiver_function_with_one_field_keeps_its_own_300_s_timeout() -> None:
    args = archiver_args(function=FunctionSettings(name="archive-fn"))
    assert args.function is not None
    assert (args.function.timeout, args.function.name) == (300, "archive-fn")
    assert args.function.memory_size == ARCHIVER_FUNCTION_DEFAULTS.memory_size
    # A dict (what the multi-language provider passes) merges the same way.
    args = archiver_args(function={"memory_size": 1024})
    assert args.function is not None
    assert (args.function.timeout, args.function.memory_size) == (300, 1024)


def test_merge_refuses_a_field_the_settings_do_not_have() -> None:
    with pytest.raises(SettingError, match="memory is not a field of FunctionSettings"):
        merge_settings(REPLICATOR_FUNCTION_DEFAULTS, {"memory": 512})


def test_defaults_are_never_shared_between_instances() -> None:
    first, second = archiver_args(), archiver_args()
    assert first.lifecycle_rules is not second.lifecycle_rules
    assert first.tags is not second.tags
    assert first.function is not second.function


def test_readme_example_renders_the_replicator_at_512_mb_and_the_archiver_at_300_s() -> None:
    from tests.test_docs_program import readme_example

    stack = run_components(readme_example())
    functions = {fn.name: fn for fn in stack.of_type("aws:lambda/function:Function")}
    replicator = functions["clicks-source-function"]
    archiver = functions["clicks-archive-function"]
    assert (replicator.inputs["memorySize"], replicator.inputs["timeout"]) == (512, 120)
    assert (archiver.inputs["memorySize"], archiver.inputs["timeout"]) == (256, 300)


# --- two instances, no clash -------------------------------------------------------------------

#: What makes a resource's physical name, per type (inputs or, when autonamed, state).
NAME_FIELDS = {
    "aws:s3/bucket:Bucket": "bucket",
    "aws:kinesis/stream:Stream": "name",
}
#: Names scoped to a parent that is itself unique (a log stream's name is per log group).
SCOPED_NAMES = {"aws:cloudwatch/logStream:LogStream"}


def two_of_each() -> RenderedStack:
    def build() -> None:
        prod = aws.Provider("prod", region=REGION, allowed_account_ids=[PROD])
        poc = aws.Provider("poc", region=REGION, allowed_account_ids=[POC])
        for name in ("orders", "clicks"):
            CrossAccountStreamReplica(
                name,
                CrossAccountStreamReplicaArgs(
                    source=ReplicaSourceArgs(
                        account_id=PROD, region=REGION, source_stream_name=name
                    ),
                    target=ReplicaTargetArgs(source_account_id=PROD),
                    source_provider=prod,
                    target_provider=poc,
                ),
            )
        for name in ("orders-archive", "clicks-archive"):
            StreamToS3Archiver(name, archiver_args(), opts=_opts(poc))

    return run_components(build)


def _opts(provider: aws.Provider) -> Any:
    import pulumi

    return pulumi.ResourceOptions(provider=provider)


def test_two_replicas_and_two_archivers_in_one_account_share_no_physical_name() -> None:
    stack = two_of_each()
    names: Counter[tuple[str, str]] = Counter()
    for resource in stack.resources:
        if resource.type in SCOPED_NAMES:
            continue
        if resource.custom and resource.type.startswith("aws:"):
            field = NAME_FIELDS.get(resource.type, "name")
            name = resource.state.get(field) or resource.inputs.get(field)
            if name:
                names[(resource.type, str(name))] += 1
    clashes = {key: count for key, count in names.items() if count > 1}
    assert not clashes
    roles = {r.inputs.get("name") for r in stack.of_type("aws:iam/role:Role")}
    assert {"orders-replicator", "clicks-replicator"} <= roles
    buckets = {b.inputs["bucket"] for b in stack.of_type("aws:s3/bucket:Bucket")}
    assert buckets == {f"orders-archive-{POC}-{REGION}", f"clicks-archive-{POC}-{REGION}"}


def test_physical_names_keep_to_aws_rules_and_never_collide_by_truncation() -> None:
    long_a, long_b = "x" * 70 + "a", "x" * 70 + "b"
    role_a = physical_name(long_a, "replicator", 64, r"\w+=,.@-")
    role_b = physical_name(long_b, "replicator", 64, r"\w+=,.@-")
    assert len(role_a) <= 64 and len(role_b) <= 64 and role_a != role_b
    args = archiver_args()
    bucket = args.default_bucket_name("My_Archive.Component")
    assert bucket == f"my-archive-component-{POC}-{REGION}"
    assert len(args.default_bucket_name("b" * 80)) <= 63


def test_component_defaults_carry_none_of_the_original_deployments_names() -> None:
    seed_names = ("web-analytics", "prod-raven", "prod-s3-firehose", "prod-kinesis-data")
    for defaults in (
        REPLICA_SOURCE_DEFAULTS,
        REPLICA_TARGET_DEFAULTS,
        ARCHIVER_DEFAULTS,
    ):
        text = repr(defaults)
        assert not any(name in text for name in seed_names), text


# --- tags and warnings -------------------------------------------------------------------------

#: Resource types that take no tags in pulumi-aws 7.
UNTAGGABLE = {
    "aws:iam/rolePolicy:RolePolicy",
    "aws:cloudwatch/logStream:LogStream",
    "aws:dynamodb/resourcePolicy:ResourcePolicy",
    "aws:sqs/queuePolicy:QueuePolicy",
    "aws:glue/catalogTable:CatalogTable",  # Glue tables take no tags
}


def test_tags_reach_every_taggable_child() -> None:
    def build() -> None:
        prod = aws.Provider("prod", region=REGION, allowed_account_ids=[PROD])
        poc = aws.Provider("poc", region=REGION, allowed_account_ids=[POC])
        CrossAccountStreamReplica(
            "r",
            CrossAccountStreamReplicaArgs(
                source=source_args(create_source_stream=True),
                target=ReplicaTargetArgs(source_account_id=PROD),
                source_provider=prod,
                target_provider=poc,
                tags={"team": "analytics"},
            ),
        )
        StreamToS3Archiver("a", archiver_args(tags={"team": "analytics"}), opts=_opts(poc))
        StreamToQueryTable(
            "q",
            StreamToQueryTableArgs(
                table_stream_arn=STREAM_ARN,
                account_id=POC,
                region=REGION,
                hash_attribute="userEmail",
                range_attribute="timestamp",
                ttl_days=7,
                tags={"team": "analytics"},
            ),
            opts=_opts(poc),
        )
        ArchiveCatalog(
            "c",
            ArchiveCatalogArgs(bucket_name="b", prefix="data/", tags={"team": "analytics"}),
            opts=_opts(poc),
        )

    stack = run_components(build)
    checked = 0
    for resource in stack.resources:
        if not resource.custom or resource.type.startswith("pulumi:"):
            continue
        if resource.type in UNTAGGABLE or (
            resource.type.startswith("aws:s3/bucket") and (resource.type != "aws:s3/bucket:Bucket")
        ):
            continue
        assert resource.inputs.get("tags") == {"team": "analytics"}, resource.name
        checked += 1
    assert checked >= 20


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (
            lambda: ReplicaSource(
                "s", source_args(mapping=MappingSettings(bisect_batch_on_function_error=False))
            ),
            "bisect_batch_on_function_error is off",
        ),
        (
            lambda: ReplicaSource(
                "s", source_args(mapping=MappingSettings(maximum_retry_attempts=50))
            ),
            "maximum_retry_attempts 50 is above the default 10",
        ),
        (
            lambda: StreamToS3Archiver("a", archiver_args(protect=False)),
            "protect is off: a destroy or replacement deletes the archive bucket",
        ),
        (
            lambda: CrossAccountStreamReplica(
                "r",
                CrossAccountStreamReplicaArgs(
                    source=source_args(),
                    target=ReplicaTargetArgs(source_account_id=PROD, protect=False),
                ),
            ),
            "protect is off: a destroy or replacement deletes the table",
        ),
        (
            lambda: CrossAccountStreamReplica(
                "r",
                CrossAccountStreamReplicaArgs(
                    source=source_args(),
                    target=ReplicaTargetArgs(source_account_id=PROD, point_in_time_recovery=False),
                ),
            ),
            "point_in_time_recovery is off",
        ),
        (
            lambda: StreamToS3Archiver("a", archiver_args(existing_bucket_name="theirs")),
            "existing bucket theirs is not managed here: check that it blocks public access",
        ),
    ],
)
def test_weakening_a_safety_default_warns(
    build: Any, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        run_components(lambda: build() and None)
    assert any(message in record.getMessage() for record in caplog.records), caplog.text


def test_defaults_do_not_warn(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        run_components(lambda: StreamToS3Archiver("a", archiver_args()) and None)
    assert not [r for r in caplog.records if "StreamToS3Archiver" in r.getMessage()]


# --- the archiver refuses a stream that carries no new image ----------------------------------


@pytest.mark.parametrize("view_type", ["KEYS_ONLY", "OLD_IMAGE"])
def test_archiver_refuses_a_table_stream_without_new_images(view_type: str) -> None:
    with pytest.raises(SettingError, match=f"table_stream_view_type is {view_type}"):
        archiver_args(table_stream_view_type=view_type).validate()


def test_a_poc_stack_with_a_keys_only_stream_is_refused_naming_the_key() -> None:
    from tests.test_config import run

    with pytest.raises(StackConfigError, match="streamViewType: must be one of"):
        run("poc", {"streamViewType": "KEYS_ONLY"})


# --- one default per setting -------------------------------------------------------------------


def _component_default(path: str, defaults: dict[str, Any]) -> Any:
    head, _, rest = path.partition(".")
    value = defaults.get(head)
    return getattr(value, rest) if rest else value


def test_schema_defaults_equal_the_component_defaults() -> None:
    """``Pulumi.yaml`` documents a default for each mapped key: it must be the component's."""
    _, schema = load_schema()
    tables = [
        (SOURCE_KEYS, REPLICA_SOURCE_DEFAULTS),
        (TARGET_KEYS, REPLICA_TARGET_DEFAULTS),
        (ARCHIVER_KEYS, ARCHIVER_DEFAULTS),
        (QUERY_TABLE_KEYS, QUERY_TABLE_DEFAULTS),
        (CATALOG_KEYS, ARCHIVE_CATALOG_DEFAULTS),
    ]
    checked = 0
    for keys, defaults in tables:
        for key, path in keys.items():
            documented = schema[key].get("default")
            component = _component_default(path, defaults)
            if documented in ("", None) and component in (None, "", {}, []):
                continue
            if key == "replicatorRoleName":  # a program-level name both stacks share
                continue
            if path == "table_stream_view_type":  # the table's setting, passed on (checked)
                continue
            assert documented == component, (key, path, documented, component)
            checked += 1
    assert checked >= 25
