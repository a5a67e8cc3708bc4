"""Each component built through the component provider, as a TypeScript or YAML program would.

The provider runs as its own process (``python -u provider <engine>``), exactly as Pulumi
starts it after ``pulumi package add``; the test is the engine: it sends ``Construct`` with
camelCase inputs (numbers as doubles, Outputs as output values, providers as references) and
serves the resource monitor the provider registers the children on. Each component must
register the same children, with the same inputs (IAM documents included), as the same
component built through the Python API under the same mocks.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pulumi
import pulumi_aws as aws
import pytest
from stream_replica.components import (
    ArchiveCatalog,
    ArchiveCatalogArgs,
    ArchiveColumn,
    CrossAccountStreamReplica,
    CrossAccountStreamReplicaArgs,
    FunctionSettings,
    LifecycleRule,
    MappingSettings,
    ReplicaSource,
    ReplicaSourceArgs,
    ReplicaTarget,
    ReplicaTargetArgs,
    SecondaryIndex,
    StreamToQueryTable,
    StreamToQueryTableArgs,
    StreamToS3Archiver,
    StreamToS3ArchiverArgs,
)
from stream_replica.testing.mocks import RecordedResource, run_components

from provider import stream_replica_provider as provider_package

from .construct_protocol import (
    Constructed,
    Engine,
    output_value,
    provider_process,
    resource_reference,
)

PROD = "111111111111"
ANALYTICS = "222222222222"
REGION = "eu-west-1"
TARGET_REGION = "eu-central-1"
TOKEN = "stream-replica:index:"
TABLE_ARN = f"arn:aws:dynamodb:{TARGET_REGION}:{ANALYTICS}:table/replica"
STREAM_ARN = f"{TABLE_ARN}/stream/2026-01-01T00:00:00.000"
WRITER_ARN = f"arn:aws:iam::{ANALYTICS}:role/writer"
#: The committed schema (test_provider_schema checks it is what the provider infers).
SCHEMA = json.loads(provider_package.SCHEMA_PATH.read_text(encoding="utf-8"))
TABLE_URN = "urn:pulumi:test::component-test::aws:dynamodb/table:Table::replica"


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    engine = Engine()
    yield engine
    engine.stop()


@pytest.fixture(scope="module")
def provider(engine: Engine) -> Iterator[Any]:
    with provider_process(provider_package.HERE, engine) as stub:
        yield stub


@pytest.fixture(scope="module")
def accounts(engine: Engine) -> dict[str, str]:
    """The two accounts' providers, registered by the calling program before its components."""
    return {
        "prod": engine.register_provider("prod", REGION, PROD),
        "analytics": engine.register_provider("analytics", TARGET_REGION, ANALYTICS),
    }


def python_api(
    build: Callable[[], pulumi.ComponentResource],
) -> tuple[list[RecordedResource], dict[str, Any]]:
    """The same component through the Python API (providers made in the program): what it
    registered, and its outputs under their schema (camelCase) names."""

    def program() -> dict[str, Any]:
        component = build()
        outputs = SCHEMA["resources"][f"{TOKEN}{type(component).__name__}"]["properties"]
        snake = {name: re.sub(r"[A-Z]", lambda m: "_" + m[0].lower(), name) for name in outputs}
        return {name: getattr(component, attr) for name, attr in snake.items()}

    stack = run_components(program)
    return stack.resources, {k: v for k, v in stack.outputs.items() if v is not None}


def prod_provider() -> aws.Provider:
    return aws.Provider("prod", region=REGION, allowed_account_ids=[PROD])


def analytics_provider() -> aws.Provider:
    return aws.Provider("analytics", region=TARGET_REGION, allowed_account_ids=[ANALYTICS])


def _view(resources: list[RecordedResource]) -> dict[tuple[str, str], dict[str, Any]]:
    """What must agree: each resource's type and name, parent, provider, custom, inputs."""
    return {
        (r.type, r.name): {
            "parent": r.parent_name,
            "provider": r.provider_name,
            "custom": r.custom,
            "inputs": r.inputs,
            "protect": r.protect,
            "retain_on_delete": r.retain_on_delete,
            "delete_before_replace": r.delete_before_replace,
        }
        for r in resources
        if r.type != "pulumi:providers:aws"
    }


def _documents(resources: list[RecordedResource]) -> dict[tuple[str, str, str], Any]:
    from stream_replica.testing.mocks import RenderedStack

    return {
        (r.type, r.name, field): document
        for r, field, document in RenderedStack(resources).policy_documents()
    }


def assert_same(
    constructed: Constructed,
    expected: tuple[list[RecordedResource], dict[str, Any]],
    name: str,
) -> None:
    """Same children (type, name, parent, provider, options, inputs), same IAM documents, same
    outputs as the Python API."""
    resources, outputs = expected
    assert constructed.state == outputs
    assert constructed.registered_outputs[constructed.urn]
    ours, theirs = _view(constructed.resources), _view(resources)
    assert sorted(ours) == sorted(theirs)
    for key in theirs:
        assert ours[key] == theirs[key], key
    documents = _documents(constructed.resources)
    assert documents == _documents(resources)
    assert len(documents) >= 2
    assert constructed.urn.endswith(f"::{name}")
    assert constructed.resources[0].name == name and not constructed.resources[0].custom


def test_archiver_through_the_provider_matches_the_python_api(
    engine: Engine, provider: Any, accounts: dict[str, str]
) -> None:
    constructed = engine.construct(
        provider,
        f"{TOKEN}StreamToS3Archiver",
        "archiver",
        {
            # Outputs of other resources, as a TypeScript program passes them.
            "tableStreamArn": output_value(STREAM_ARN, TABLE_URN),
            "accountId": output_value(ANALYTICS, TABLE_URN),
            "region": TARGET_REGION,
            "prefix": "clicks/",
            "bufferingSizeMb": 64,
            "function": {"memorySize": 1024, "logRetentionDays": 14},
            "mapping": {"batchSize": 100, "parallelizationFactor": 2},
            "lifecycleRules": [{"id": "archive", "transitionDays": 30, "expirationDays": 365}],
            "tags": {"team": "analytics"},
        },
        providers={"aws": accounts["analytics"]},
    )
    expected = python_api(
        lambda: StreamToS3Archiver(
            "archiver",
            StreamToS3ArchiverArgs(
                table_stream_arn=STREAM_ARN,
                account_id=ANALYTICS,
                region=TARGET_REGION,
                prefix="clicks/",
                buffering_size_mb=64,
                function=FunctionSettings(memory_size=1024, log_retention_days=14),
                mapping=MappingSettings(batch_size=100, parallelization_factor=2),
                lifecycle_rules=[
                    LifecycleRule(id="archive", transition_days=30, expiration_days=365)
                ],
                tags={"team": "analytics"},
            ),
            opts=pulumi.ResourceOptions(provider=analytics_provider()),
        )
    )
    assert_same(constructed, expected, "archiver")
    function = next(r for r in constructed.resources if r.name == "archiver-function")
    assert function.inputs["memorySize"] == 1024 and function.provider_name == "analytics"
    bucket = next(r for r in constructed.resources if r.name == "archiver-bucket")
    assert bucket.inputs["bucket"] == f"archiver-{ANALYTICS}-{TARGET_REGION}"
    assert constructed.state["bucketName"] == bucket.inputs["bucket"]
    assert constructed.state["functionArn"].startswith(
        f"arn:aws:lambda:{TARGET_REGION}:{ANALYTICS}:function:archiver-function-"
    )


def test_target_through_the_provider_matches_the_python_api(
    engine: Engine, provider: Any, accounts: dict[str, str]
) -> None:
    constructed = engine.construct(
        provider,
        f"{TOKEN}ReplicaTarget",
        "target",
        {
            "sourceAccountId": PROD,
            "replicatorRoleName": "orders-replicator",
            "externalId": "x-123",
            "billingMode": "PROVISIONED",
            "readCapacity": 5,
            "writeCapacity": 5,
            "secondaryIndexes": [{"name": "by-user", "hashKey": "userId", "rangeKey": "ts"}],
        },
        providers={"aws": accounts["analytics"]},
    )
    expected = python_api(
        lambda: ReplicaTarget(
            "target",
            ReplicaTargetArgs(
                source_account_id=PROD,
                replicator_role_name="orders-replicator",
                external_id="x-123",
                billing_mode="PROVISIONED",
                read_capacity=5,
                write_capacity=5,
                secondary_indexes=[
                    SecondaryIndex(name="by-user", hash_key="userId", range_key="ts")
                ],
            ),
            opts=pulumi.ResourceOptions(provider=analytics_provider()),
        )
    )
    assert_same(constructed, expected, "target")
    writer = next(r for r in constructed.resources if r.name == "target-writer-role")
    (trust,) = writer.document("assumeRolePolicy")["Statement"]
    assert trust["Condition"]["ArnEquals"] == {
        "aws:PrincipalArn": f"arn:aws:iam::{PROD}:role/orders-replicator"
    }
    assert constructed.state["replicatorRoleArn"] == f"arn:aws:iam::{PROD}:role/orders-replicator"
    assert constructed.state["writerRoleArn"].startswith(f"arn:aws:iam::{ANALYTICS}:role/")
    table = next(r for r in constructed.resources if r.name == "target-table")
    assert table.protect and table.retain_on_delete


def test_source_through_the_provider_matches_the_python_api(
    engine: Engine, provider: Any, accounts: dict[str, str]
) -> None:
    constructed = engine.construct(
        provider,
        f"{TOKEN}ReplicaSource",
        "source",
        {
            "accountId": PROD,
            # The region as an Output too: the stream ARN, the Powertools layer and the
            # policy's KMS condition wait for it, and come out the same.
            "region": output_value(REGION, TABLE_URN),
            "tableName": output_value("replica", TABLE_URN),
            "tableArn": output_value(TABLE_ARN, TABLE_URN),
            "writerRoleArn": WRITER_ARN,
            "targetRegion": TARGET_REGION,
            "externalId": "x-123",
            "sourceStreamName": "clicks",
            "function": {"memorySize": 1024, "roleName": "orders-replicator"},
            "mapping": {"batchSize": 100, "maximumRetryAttempts": 20},
        },
        providers={"aws": accounts["prod"]},
    )
    expected = python_api(
        lambda: ReplicaSource(
            "source",
            ReplicaSourceArgs(
                account_id=PROD,
                region=REGION,
                table_name="replica",
                table_arn=TABLE_ARN,
                writer_role_arn=WRITER_ARN,
                target_region=TARGET_REGION,
                external_id="x-123",
                source_stream_name="clicks",
                function=FunctionSettings(memory_size=1024, role_name="orders-replicator"),
                mapping=MappingSettings(batch_size=100, maximum_retry_attempts=20),
            ),
            opts=pulumi.ResourceOptions(provider=prod_provider()),
        )
    )
    assert_same(constructed, expected, "source")
    assert constructed.state["sourceStreamArn"] == f"arn:aws:kinesis:{REGION}:{PROD}:stream/clicks"
    assert constructed.state["roleArn"] == f"arn:aws:iam::{PROD}:role/orders-replicator"
    # A weakened safety default warns through the engine, as `pulumi up` would show it.
    assert any(
        level == "warning" and "maximum_retry_attempts 20" in message
        for level, message in constructed.logs
    ), constructed.logs


def test_query_table_through_the_provider_matches_the_python_api(
    engine: Engine, provider: Any, accounts: dict[str, str]
) -> None:
    constructed = engine.construct(
        provider,
        f"{TOKEN}StreamToQueryTable",
        "query",
        {
            "tableStreamArn": output_value(STREAM_ARN, TABLE_URN),
            "accountId": output_value(ANALYTICS, TABLE_URN),
            "region": TARGET_REGION,
            "hashAttribute": "userEmail",
            "rangeAttribute": "timestamp",
            "ttlDays": 7,
            "mapping": {"batchSize": 50},
            "tags": {"team": "analytics"},
        },
        providers={"aws": accounts["analytics"]},
    )
    expected = python_api(
        lambda: StreamToQueryTable(
            "query",
            StreamToQueryTableArgs(
                table_stream_arn=STREAM_ARN,
                account_id=ANALYTICS,
                region=TARGET_REGION,
                hash_attribute="userEmail",
                range_attribute="timestamp",
                ttl_days=7,
                mapping=MappingSettings(batch_size=50),
                tags={"team": "analytics"},
            ),
            opts=pulumi.ResourceOptions(provider=analytics_provider()),
        )
    )
    assert_same(constructed, expected, "query")
    table = next(r for r in constructed.resources if r.name == "query-table")
    assert table.inputs["hashKey"] == "userEmail" and table.provider_name == "analytics"
    assert table.inputs["ttl"] == {"attributeName": "expiresAt", "enabled": True}


def test_archive_catalog_through_the_provider_matches_the_python_api(
    engine: Engine, provider: Any, accounts: dict[str, str]
) -> None:
    bucket_urn = "urn:pulumi:test::component-test::aws:s3/bucket:Bucket::archive"
    constructed = engine.construct(
        provider,
        f"{TOKEN}ArchiveCatalog",
        "catalog",
        {
            "bucketName": output_value("clicks-archive", bucket_urn),
            "prefix": "clicks/",
            "compression": "GZIP",
            "columns": [{"name": "userEmail", "type": "string"}, {"name": "n", "type": "bigint"}],
        },
        providers={"aws": accounts["analytics"]},
    )
    resources, outputs = python_api(
        lambda: ArchiveCatalog(
            "catalog",
            ArchiveCatalogArgs(
                bucket_name="clicks-archive",
                prefix="clicks/",
                compression="GZIP",
                columns=[ArchiveColumn("userEmail", "string"), ArchiveColumn("n", "bigint")],
            ),
            opts=pulumi.ResourceOptions(provider=analytics_provider()),
        )
    )
    assert constructed.state == outputs
    assert _view(constructed.resources) == _view(resources)
    table = next(r for r in constructed.resources if r.name == "catalog-table")
    columns = table.inputs["storageDescriptor"]["columns"]
    assert [c["name"] for c in columns] == ["useremail", "n"]
    assert table.inputs["parameters"]["compressionType"] == "gzip"
    assert constructed.state["location"] == "s3://clicks-archive/clicks/"


def test_whole_replica_takes_one_provider_per_account(
    engine: Engine, provider: Any, accounts: dict[str, str]
) -> None:
    constructed = engine.construct(
        provider,
        f"{TOKEN}CrossAccountStreamReplica",
        "orders",
        {
            # An Output inside a nested object (the account as another resource reports it).
            "source": {
                "accountId": output_value(PROD, TABLE_URN),
                "region": REGION,
                "sourceStreamName": "orders",
            },
            "target": {"tableName": "orders-replica", "protect": False},
            "sourceProvider": resource_reference(accounts["prod"]),
            "targetProvider": resource_reference(accounts["analytics"]),
            "targetRegion": TARGET_REGION,
            "tags": {"pipeline": "orders"},
        },
    )
    expected = python_api(
        lambda: CrossAccountStreamReplica(
            "orders",
            CrossAccountStreamReplicaArgs(
                source=ReplicaSourceArgs(
                    account_id=PROD, region=REGION, source_stream_name="orders"
                ),
                target=ReplicaTargetArgs(table_name="orders-replica", protect=False),
                source_provider=prod_provider(),
                target_provider=analytics_provider(),
                target_region=TARGET_REGION,
                tags={"pipeline": "orders"},
            ),
        )
    )
    assert_same(constructed, expected, "orders")
    by_name = {r.name: r for r in constructed.resources}
    halves = {r.name: r.provider_name for r in constructed.resources if r.custom}
    assert {halves[n] for n in halves if n.startswith("orders-target-")} == {"analytics"}
    assert {halves[n] for n in halves if n.startswith("orders-source-")} == {"prod"}
    assert by_name["orders-target"].parent_name == "orders"
    assert constructed.state["tableArn"] == (
        f"arn:aws:dynamodb:{TARGET_REGION}:{ANALYTICS}:table/orders-replica"
    )
    assert constructed.state["replicatorRoleArn"] == f"arn:aws:iam::{PROD}:role/orders-replicator"
    assert any("protect is off" in message for _, message in constructed.logs)


def test_whole_replica_in_one_account_takes_the_provider_from_opts(
    engine: Engine, provider: Any, accounts: dict[str, str]
) -> None:
    """No provider inputs: both halves use the component's ``opts.providers`` (Pulumi's own
    inheritance), e.g. a replica between two stacks' tables in the same account."""
    constructed = engine.construct(
        provider,
        f"{TOKEN}CrossAccountStreamReplica",
        "same",
        {"source": {"accountId": PROD, "region": REGION, "sourceStreamName": "same"}},
        providers={"aws": accounts["prod"]},
    )
    custom = [r for r in constructed.resources if r.custom]
    assert custom and {r.provider_name for r in custom} == {"prod"}
    assert constructed.state["tableArn"].startswith(f"arn:aws:dynamodb:{REGION}:{PROD}:table/")


def _construct_error(call: Callable[[], Any]) -> str:
    """The error the engine would show: the message, or the input property errors (the
    provider reports a missing input as ``INVALID_ARGUMENT`` with ``InputPropertiesError``)."""
    from pulumi.runtime.proto import errors_pb2, status_pb2

    with pytest.raises(grpc.RpcError) as failure:
        call()
    error: Any = failure.value
    text = str(error.details())
    for key, value in error.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            status = status_pb2.Status.FromString(value)
            for detail in status.details:
                properties = errors_pb2.InputPropertiesError()
                if detail.Unpack(properties):
                    text += "".join(f"\n{e.property_path}: {e.reason}" for e in properties.errors)
    return text


def test_bad_input_fails_the_construct_naming_the_field(
    engine: Engine, provider: Any, accounts: dict[str, str]
) -> None:
    missing = _construct_error(
        lambda: engine.construct(
            provider, f"{TOKEN}StreamToS3Archiver", "broken", {"accountId": ANALYTICS}
        )
    )
    assert "tableStreamArn: Missing required input 'tableStreamArn'" in missing
    fractional = _construct_error(
        lambda: engine.construct(
            provider,
            f"{TOKEN}StreamToS3Archiver",
            "broken2",
            {
                "tableStreamArn": STREAM_ARN,
                "accountId": ANALYTICS,
                "region": REGION,
                "function": {"memorySize": 1024.5},
            },
        )
    )
    assert "StreamToS3ArchiverArgs.function.memory_size must be an integer" in fractional
    account = _construct_error(
        lambda: engine.construct(
            provider,
            f"{TOKEN}ReplicaSource",
            "broken3",
            {
                "accountId": "prod",
                "region": REGION,
                "sourceStreamName": "s",
                "tableName": "t",
                "tableArn": TABLE_ARN,
                "writerRoleArn": WRITER_ARN,
            },
        )
    )
    assert "ReplicaSourceArgs.account_id must be a 12-digit AWS account id" in account


def test_a_provider_input_that_is_not_a_provider_is_refused(
    engine: Engine, provider: Any, accounts: dict[str, str]
) -> None:
    message = _construct_error(
        lambda: engine.construct(
            provider,
            f"{TOKEN}CrossAccountStreamReplica",
            "wrong-provider",
            {
                "source": {"accountId": PROD, "region": REGION, "sourceStreamName": "s"},
                "sourceProvider": "prod",
            },
        )
    )
    assert "CrossAccountStreamReplicaArgs.source_provider must be an aws.Provider" in message
