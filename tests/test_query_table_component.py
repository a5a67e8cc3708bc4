"""``StreamToQueryTable`` and ``ArchiveCatalog`` as components (run under Pulumi mocks).

The catalog test renders an archiver and its catalog together and reads both back: the Glue
table's location, projection template, SerDe and compression must match what the delivery
stream writes.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from stream_replica.components import (
    ArchiveCatalog,
    ArchiveCatalogArgs,
    ArchiveColumn,
    MappingSettings,
    SettingError,
    StreamToQueryTable,
    StreamToQueryTableArgs,
    StreamToS3Archiver,
    StreamToS3ArchiverArgs,
    assets,
)
from stream_replica.components.archive_catalog import JSON_SERDE
from stream_replica.testing import RenderedStack
from stream_replica.testing.mocks import run_components

ACCOUNT = "222222222222"
REGION = "eu-west-1"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/replica"
STREAM_ARN = f"{TABLE_ARN}/stream/2026-01-01T00:00:00.000"


def query_table(**kwargs: Any) -> RenderedStack:
    values: dict[str, Any] = {
        "table_stream_arn": STREAM_ARN,
        "account_id": ACCOUNT,
        "region": REGION,
        "hash_attribute": "userEmail",
        "range_attribute": "timestamp",
    }
    values.update(kwargs)

    def build() -> dict[str, Any]:
        component = StreamToQueryTable("q", StreamToQueryTableArgs(**values))
        return {"table_name": component.table_name, "role_arn": component.role_arn}

    return run_components(build)


def test_query_table_keys_encryption_recovery_and_protection() -> None:
    stack = query_table()
    table = stack.one("aws:dynamodb/table:Table")
    assert (table.inputs["hashKey"], table.inputs["rangeKey"]) == ("userEmail", "eventKey")
    assert sorted((a["name"], a["type"]) for a in table.inputs["attributes"]) == [
        ("eventKey", "S"),
        ("userEmail", "S"),
    ]
    assert table.inputs["billingMode"] == "PAY_PER_REQUEST"
    assert table.inputs["serverSideEncryption"] == {"enabled": True}
    assert table.inputs["pointInTimeRecovery"] == {"enabled": True}
    assert table.inputs["deletionProtectionEnabled"] is True
    # TTL off by default (the table keeps everything), and explicitly so.
    assert table.inputs["ttl"] == {"enabled": False}
    assert table.protect and table.retain_on_delete
    assert table.parent_name == "q"


def test_query_writer_function_mapping_and_environment() -> None:
    stack = query_table(ttl_days=30, source_ttl_days=90, mapping=MappingSettings(batch_size=100))
    function = stack.one("aws:lambda/function:Function")
    assert function.inputs["handler"] == assets.QUERY_WRITER_HANDLER
    variables = function.inputs["environment"]["variables"]
    table = stack.one("aws:dynamodb/table:Table")
    assert variables["QUERY_TABLE_NAME"] == table.state["name"]
    assert {k: variables[k] for k in variables if k.startswith(("QUERY_", "TTL_", "SOURCE_"))} == {
        "QUERY_TABLE_NAME": table.state["name"],
        "QUERY_HASH_ATTRIBUTE": "userEmail",
        "QUERY_HASH_TYPE": "S",
        "QUERY_RANGE_ATTRIBUTE": "timestamp",
        "QUERY_SORT_KEY_ATTRIBUTE": "eventKey",
        "TTL_DAYS": "30",
        "TTL_ATTRIBUTE": "expiresAt",
        "SOURCE_TTL_DAYS": "90",
    }
    assert table.inputs["ttl"] == {"attributeName": "expiresAt", "enabled": True}
    mapping = stack.one("aws:lambda/eventSourceMapping:EventSourceMapping")
    assert mapping.inputs["eventSourceArn"] == STREAM_ARN
    assert mapping.inputs["batchSize"] == 100
    assert mapping.inputs["functionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping.inputs["bisectBatchOnFunctionError"] is True
    assert mapping.inputs["destinationConfig"]["onFailure"]["destinationArn"]
    policy = stack.one("aws:iam/rolePolicy:RolePolicy")
    assert mapping.depends_on(policy) and function.depends_on(policy)
    assert len(stack.of_type("aws:cloudwatch/metricAlarm:MetricAlarm")) == 5


def test_query_writer_role_may_read_this_stream_and_write_this_table_only() -> None:
    stack = query_table()
    table_arn = stack.one("aws:dynamodb/table:Table").state["arn"]
    grants = {
        s["Sid"]: (s["Action"], s["Resource"])
        for s in stack.one("aws:iam/rolePolicy:RolePolicy").document()["Statement"]
    }
    assert grants["ReadTableStream"][1] == [STREAM_ARN]
    assert grants["WriteQueryTable"] == (["dynamodb:BatchWriteItem"], [table_arn])
    assert set(grants) == {
        "ReadTableStream",
        "ListTableStreams",
        "WriteQueryTable",
        "SendToDeadLetterQueues",
        "WriteOwnLogs",
    }


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"hash_attribute": ""}, "hash_attribute"),
        ({"sort_key_attribute": "timestamp"}, "sort_key_attribute"),
        ({"hash_attribute_type": "B"}, "hash_attribute_type"),
        ({"ttl_days": -1}, "ttl_days"),
        ({"ttl_days": 5000}, "ttl_days"),
        ({"billing_mode": "ON_DEMAND"}, "billing_mode"),
        ({"account_id": "12"}, "account_id"),
    ],
)
def test_query_table_args_name_the_field_that_is_wrong(kwargs: dict[str, Any], field: str) -> None:
    values: dict[str, Any] = {
        "table_stream_arn": STREAM_ARN,
        "account_id": ACCOUNT,
        "region": REGION,
        "hash_attribute": "userEmail",
        "range_attribute": "timestamp",
        **kwargs,
    }
    with pytest.raises(SettingError, match=f"StreamToQueryTableArgs.{field}"):
        StreamToQueryTableArgs(**values).validate()


# --- ArchiveCatalog ----------------------------------------------------------------------------


def archive_and_catalog(compression: str, **catalog: Any) -> RenderedStack:
    def build() -> dict[str, Any]:
        archiver = StreamToS3Archiver(
            "a",
            StreamToS3ArchiverArgs(
                table_stream_arn=STREAM_ARN,
                account_id=ACCOUNT,
                region=REGION,
                compression=compression,
                prefix="clicks/",
            ),
        )
        ArchiveCatalog(
            "clicks-archive",
            ArchiveCatalogArgs(
                bucket_name=archiver.bucket_name,
                prefix=archiver.args.prefix,
                compression=archiver.args.compression,
                **catalog,
            ),
        )
        return {}

    return run_components(build)


def _firehose_to_template(prefix: str) -> str:
    """A Firehose prefix with ``key=!{timestamp:…}`` as the Athena template ``key=${key}``."""
    return re.sub(r"(\w+)=!\{timestamp:[^}]+\}", r"\1=${\1}", prefix)


@pytest.mark.parametrize("compression", ["UNCOMPRESSED", "GZIP"])
def test_glue_table_matches_what_firehose_writes(compression: str) -> None:
    stack = archive_and_catalog(compression)
    bucket = stack.one("aws:s3/bucket:Bucket").state["bucket"]
    s3 = stack.one("aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream").inputs[
        "extendedS3Configuration"
    ]
    table = stack.one("aws:glue/catalogTable:CatalogTable").inputs
    params = table["parameters"]
    descriptor = table["storageDescriptor"]

    # Location and projection template are the delivery stream's prefix, expression for key.
    assert descriptor["location"] == f"s3://{bucket}/clicks/"
    assert params["storage.location.template"] == f"s3://{bucket}/" + _firehose_to_template(
        s3["prefix"]
    )
    keys = re.findall(r"(\w+)=!\{timestamp:([^}]+)\}", s3["prefix"])
    assert [k["name"] for k in table["partitionKeys"]] == [key for key, _ in keys]
    assert params["projection.enabled"] == "true"
    for key, pattern in keys:
        if params[f"projection.{key}.type"] == "date":
            assert params[f"projection.{key}.format"] == pattern
            assert params[f"projection.{key}.range"].endswith(",NOW")
        else:  # integer projections are zero-padded as Firehose's two-letter patterns are
            assert params[f"projection.{key}.type"] == "integer"
            assert params[f"projection.{key}.digits"] == str(len(pattern))
    # Lines as written: JSON, the compression the delivery stream applies.
    assert descriptor["serDeInfo"]["serializationLibrary"] == JSON_SERDE
    assert s3["compressionFormat"] == compression
    assert params["compressionType"] == ("gzip" if compression == "GZIP" else "none")
    assert descriptor["compressed"] is (compression == "GZIP")
    assert table["tableType"] == "EXTERNAL_TABLE"
    database = stack.one("aws:glue/catalogDatabase:CatalogDatabase")
    assert database.inputs["name"] == "clicks_archive"
    assert table["databaseName"] == database.state["name"]


def test_glue_columns_default_to_the_clickstream_and_can_be_declared() -> None:
    default = archive_and_catalog("GZIP").one("aws:glue/catalogTable:CatalogTable")
    names = [c["name"] for c in default.inputs["storageDescriptor"]["columns"]]
    assert {"useremail", "timestamp", "eventtype", "sequencenumber", "shardid"} <= set(names)
    declared = archive_and_catalog(
        "GZIP", columns=[{"name": "userEmail", "type": "string"}], table_name="clicks"
    ).one("aws:glue/catalogTable:CatalogTable")
    assert declared.inputs["storageDescriptor"]["columns"] == [
        {"name": "useremail", "type": "string"}
    ]
    assert declared.inputs["name"] == "clicks"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"compression": "ZIP"}, "compression"),
        ({"prefix": "data"}, "prefix"),
        ({"prefix": "data/!{timestamp:yyyy}/"}, "prefix"),
        ({"table_name": "Events"}, "table_name"),
        ({"columns": []}, "columns"),
        ({"columns": [ArchiveColumn("a", "string"), ArchiveColumn("A", "int")]}, "columns"),
        ({"columns": [ArchiveColumn("year", "string")]}, "columns"),
        ({"columns": [ArchiveColumn("a", "not a type")]}, "columns"),
    ],
)
def test_catalog_args_name_the_field_that_is_wrong(kwargs: dict[str, Any], field: str) -> None:
    values: dict[str, Any] = {"bucket_name": "b", "prefix": "data/", **kwargs}
    with pytest.raises(SettingError, match=f"ArchiveCatalogArgs.{field}"):
        ArchiveCatalogArgs(**values).validate()
