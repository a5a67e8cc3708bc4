"""Day-two changes: each stack reads back what it deployed last (its ``deployedSettings`` output,
through a StackReference to itself) and refuses, or makes safe, a change that would fail in AWS
or lose records. One test per change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from stream_replica.components import StackConfigError
from stream_replica.testing import RenderedStack

from tests.stack_runs import run_stack

POC_REFERENCE = "organization/kinesis-crossaccount-replica/poc"
TABLE = "aws:dynamodb/table:Table"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
BUCKET = "aws:s3/bucket:Bucket"


def deployed(stack: str, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    """The ``deployedSettings`` a first deployment of ``stack`` with ``overrides`` exports."""
    return dict(run_stack(stack, overrides).outputs["deployedSettings"])


def redeploy(stack: str, before: dict[str, Any], overrides: dict[str, Any]) -> RenderedStack:
    """``stack`` with ``overrides``, its last deployment having exported ``before`` (prod reads
    the poc stack deployed with the overrides both share, as :func:`run_stack` does)."""
    return run_stack(stack, overrides, previous={"deployedSettings": before})


def refusal(stack: str, before: dict[str, Any], overrides: dict[str, Any]) -> str:
    with pytest.raises(StackConfigError) as raised:
        redeploy(stack, before, overrides)
    return str(raised.value)


# --- the read-back ------------------------------------------------------------------------------


def test_each_stack_reads_its_own_last_deployment() -> None:
    poc = run_stack("poc")
    reference = poc.one("pulumi:pulumi:StackReference", "deployed-settings")
    assert reference.inputs["name"] == POC_REFERENCE
    assert poc.outputs["deployedSettings"]["ttlAttribute"] == "expiresAt"
    # The first deployment (no outputs yet) compares nothing: any value goes.
    assert run_stack("poc", {"ttlAttribute": "ttl", "ttlDays": 7}).outputs["ttlDays"] == 7


# --- TTL ------------------------------------------------------------------------------------


def test_a_ttl_attribute_change_while_ttl_is_on_is_refused_with_the_procedure() -> None:
    before = deployed("poc", {"ttlDays": 30})
    text = refusal("poc", before, {"ttlDays": 30, "ttlAttribute": "ttl"})
    assert text.startswith("Pulumi.poc.yaml: kinesis-crossaccount-replica:ttlAttribute: "), text
    assert "from 'expiresAt' to 'ttl' while TTL is on" in text
    assert "set ttlDays 0 in Pulumi.poc.yaml, `pulumi up`, wait an hour" in text
    # Through the procedure: off first, then the new attribute, both accepted.
    off = redeploy("poc", before, {"ttlDays": 0, "ttlAttribute": "expiresAt"})
    after_off = off.outputs["deployedSettings"]
    on_again = redeploy("poc", after_off, {"ttlDays": 30, "ttlAttribute": "ttl"})
    assert on_again.one(TABLE, "replica-target-table").inputs["ttl"] == {
        "attributeName": "ttl",
        "enabled": True,
    }


def test_the_query_tables_ttl_attribute_change_is_refused_too() -> None:
    before = deployed("poc", {"queryTableTtlDays": 7})
    assert before["ttlDays"] == 0  # only the query table expires items
    text = refusal("poc", before, {"queryTableTtlDays": 7, "ttlAttribute": "ttl"})
    assert "query table's TTL attribute" in text
    assert "set queryTableTtlDays 0 in Pulumi.poc.yaml" in text


def test_ttl_days_back_to_zero_turns_ttl_off_on_both_tables() -> None:
    before = deployed("poc", {"ttlDays": 30, "queryTableTtlDays": 7})
    poc = redeploy("poc", before, {"ttlDays": 0, "queryTableTtlDays": 0})
    for table in ("replica-target-table", "query-table-table"):
        # Explicitly disabled, no attribute (the provider's rule): an omitted block would be
        # read as "no change" and leave TTL on.
        assert poc.one(TABLE, table).inputs["ttl"] == {"enabled": False}


# --- the table's stream ----------------------------------------------------------------------


def test_a_stream_view_type_change_is_refused_unless_acknowledged() -> None:
    before = deployed("poc")
    assert before["streamViewType"] == "NEW_AND_OLD_IMAGES"
    text = refusal("poc", before, {"streamViewType": "NEW_IMAGE"})
    assert text.startswith("Pulumi.poc.yaml: kinesis-crossaccount-replica:streamViewType: ")
    assert "re-created with a new ARN" in text and "Drain first" in text
    poc = redeploy(
        "poc", before, {"streamViewType": "NEW_IMAGE", "acknowledgedChanges": ["streamViewType"]}
    )
    assert poc.one(TABLE, "replica-target-table").inputs["streamViewType"] == "NEW_IMAGE"


def test_acknowledged_changes_lists_only_changes_that_need_it() -> None:
    with pytest.raises(StackConfigError, match=r":acknowledgedChanges: lists 'ttlDays'"):
        run_stack("poc", {"acknowledgedChanges": ["ttlDays"]})


def test_a_table_name_change_is_refused_unless_acknowledged() -> None:
    before = deployed("poc")
    text = refusal("poc", before, {"tableName": "another-table"})
    assert ":tableName: changes from 'prod-raven-lambda-webanalytics-crossaccount'" in text
    assert "replaced by a new, empty one" in text


# --- the replicator's mapping ----------------------------------------------------------------


def _start(stack: RenderedStack) -> tuple[str, str | None]:
    inputs = stack.one(MAPPING, "replica-source-mapping").inputs
    return inputs["startingPosition"], inputs.get("startingPositionTimestamp")


def test_a_new_replicator_mapping_starts_at_the_configured_position() -> None:
    before = deployed("prod")
    assert before["replicatorStart"] == {"position": "TRIM_HORIZON", "timestamp": None}
    # The same source next time: the same start, so nothing to replace.
    assert _start(redeploy("prod", before, {})) == ("TRIM_HORIZON", None)


def test_a_consumer_mode_switch_starts_the_new_mapping_where_the_old_one_stands() -> None:
    before = deployed("prod", {"consumerMode": "shared"})
    started = datetime.now(UTC)
    prod = redeploy("prod", before, {"consumerMode": "efo"})
    position, timestamp = _start(prod)
    assert position == "AT_TIMESTAMP"
    assert timestamp is not None
    at = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    # switchRewindSeconds (3600) before the update: an hour of overlap, not the whole retention.
    assert started - timedelta(seconds=3605) <= at <= started - timedelta(seconds=3595)
    mapping = prod.one(MAPPING, "replica-source-mapping")
    # Create-before-delete (Pulumi's default): the old mapping runs until the new one exists.
    assert mapping.delete_before_replace is False
    assert mapping.inputs["eventSourceArn"].split("/")[-2] == "consumer"
    # The start is recorded; the next update keeps it (no second replacement).
    after = prod.outputs["deployedSettings"]
    assert after["replicatorStart"] == {"position": "AT_TIMESTAMP", "timestamp": timestamp}
    assert _start(redeploy("prod", after, {"consumerMode": "efo"})) == (position, timestamp)


def test_the_rewind_is_configurable() -> None:
    before = deployed("prod", {"consumerMode": "shared"})
    started = datetime.now(UTC)
    _, timestamp = _start(redeploy("prod", before, {"switchRewindSeconds": 600}))
    at = datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
    assert started - timedelta(seconds=605) <= at <= started - timedelta(seconds=595)


def test_a_source_stream_change_starts_at_a_timestamp() -> None:
    before = deployed("prod")
    assert _start(redeploy("prod", before, {"sourceStreamName": "other-stream"}))[0] == (
        "AT_TIMESTAMP"
    )


def test_a_starting_position_change_keeps_the_running_mapping() -> None:
    before = deployed("prod")
    # Applying LATEST would replace the mapping and skip the backlog: it keeps its position.
    assert _start(redeploy("prod", before, {"startingPosition": "LATEST"})) == (
        "TRIM_HORIZON",
        None,
    )


def test_a_placement_switch_starts_the_moved_replicator_at_a_timestamp() -> None:
    poc_before = run_stack("poc").outputs["deployedSettings"]
    assert "replicatorSource" not in poc_before  # source placement: no replicator in poc
    poc = run_stack(
        "poc",
        {
            "placement": "target",
            "prodStackReference": "",
            "sourceStreamArn": "arn:aws:kinesis:eu-west-1:111111111111:stream/web-analytics",
            "consumerMode": "shared",
        },
        previous={"deployedSettings": poc_before},
    )
    assert _start(poc)[0] == "AT_TIMESTAMP"


def test_the_config_key_still_takes_only_the_positions_a_user_chooses() -> None:
    with pytest.raises(StackConfigError, match=r":startingPosition: must be one of"):
        run_stack("prod", {"startingPosition": "AT_TIMESTAMP"})


# --- teardown ---------------------------------------------------------------------------------


def test_without_protect_data_destroy_deletes_the_bucket_with_its_objects() -> None:
    unprotected = run_stack("poc", {"protectData": False, "deletionProtection": False})
    bucket = unprotected.one(BUCKET)
    # Versioned: without force_destroy a destroy would stop at BucketNotEmpty.
    assert bucket.inputs["forceDestroy"] is True
    assert not bucket.protect and not bucket.retain_on_delete
    protected = run_stack("poc").one(BUCKET)
    assert protected.inputs["forceDestroy"] is False
    assert protected.protect and protected.retain_on_delete


# --- taking over an existing deployment -------------------------------------------------------


def test_the_table_and_bucket_can_be_adopted_by_import() -> None:
    table_name = "prod-raven-lambda-webanalytics-crossaccount"
    poc = run_stack(
        "poc",
        {"tableImportId": table_name, "bucketName": "seed-bucket", "bucketImportId": "seed-bucket"},
    )
    assert poc.one(TABLE, "replica-target-table").import_id == table_name
    assert poc.one(BUCKET).import_id == "seed-bucket"
    assert poc.one(TABLE, "query-table-table").import_id == ""  # created
    with pytest.raises(StackConfigError, match=r":tableImportId: adopts the table 'x'"):
        run_stack("poc", {"tableImportId": "x"})
    with pytest.raises(StackConfigError, match=r":bucketImportId: adopts the bucket"):
        run_stack("poc", {"bucketImportId": "seed-bucket"})


def test_renaming_a_delivery_stream_is_refused_unless_acknowledged() -> None:
    before = deployed("poc")
    assert before["deliveryStreamName"] == "prod-s3-firehose"
    text = refusal("poc", before, {"deliveryStreamName": "another-firehose"})
    assert ":deliveryStreamName: changes from 'prod-s3-firehose'" in text
    acknowledged = {"deliveryStreamName": "f2", "acknowledgedChanges": ["deliveryStreamName"]}
    assert redeploy("poc", before, acknowledged).outputs["deliveryStreamName"] == "f2"


def test_renaming_a_created_source_stream_is_refused() -> None:
    created = {"createSourceStream": True}
    before = deployed("prod", created)
    assert before["replicatorSource"]["sourceStream"] == "created:web-analytics"
    text = refusal("prod", before, {**created, "sourceStreamName": "clicks"})
    assert ":sourceStreamName: changes from 'web-analytics' to 'clicks'" in text
    # A stream the stack doesn't own may change: only the mapping moves (AT_TIMESTAMP).
    assert _start(redeploy("prod", deployed("prod"), {"sourceStreamName": "clicks"}))[0] == (
        "AT_TIMESTAMP"
    )


def test_a_replicator_taking_over_starts_at_the_configured_time() -> None:
    at = "2026-01-31T12:00:00Z"
    prod = run_stack("prod", {"startingPositionTimestamp": at})
    assert _start(prod) == ("AT_TIMESTAMP", at)
    # Kept on the next update (no replacement), like any recorded start.
    again = redeploy("prod", prod.outputs["deployedSettings"], {"startingPositionTimestamp": at})
    assert _start(again) == ("AT_TIMESTAMP", at)
    with pytest.raises(StackConfigError, match=r":startingPositionTimestamp: must be"):
        run_stack("prod", {"startingPositionTimestamp": "yesterday"})


def test_an_adopted_table_keeps_its_settings_for_the_import() -> None:
    """The keys a hand-made table differs by can be set as it is (docs/takeover.md)."""
    name = "prod-raven-lambda-webanalytics-crossaccount"
    poc = run_stack(
        "poc",
        {
            "tableImportId": name,
            "pointInTimeRecovery": False,
            "deletionProtection": False,
            "tableEncryption": "AWS_OWNED",
            "streamViewType": "NEW_IMAGE",
            "gsiName": "",
        },
    )
    table = poc.one(TABLE, "replica-target-table")
    assert table.import_id == name
    assert table.inputs["pointInTimeRecovery"] == {"enabled": False}
    assert table.inputs["deletionProtectionEnabled"] is False
    assert table.inputs["serverSideEncryption"] == {"enabled": False}
    assert "globalSecondaryIndexes" not in table.inputs
