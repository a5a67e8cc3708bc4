"""The hot window (``ttlDays``): TTL on the replica table, the replicator's expiry attribute, the
query table's source TTL, and both stacks agreeing. Off by default: no TTL, no attribute."""

from __future__ import annotations

import pytest
from stream_replica.components import ReplicaSourceArgs, ReplicaTargetArgs, SettingError

from tests.stack_runs import run_stack

POC_REFERENCE = "organization/kinesis-crossaccount-replica/poc"
FUNCTION = "aws:lambda/function:Function"
TABLE = "aws:dynamodb/table:Table"


def test_ttl_off_by_default() -> None:
    poc = run_stack("poc")
    # Explicitly off: a missing block would leave a TTL once turned on in place.
    assert poc.one(TABLE, "replica-target-table").inputs["ttl"] == {"enabled": False}
    assert poc.one(TABLE, "query-table-table").inputs["ttl"] == {"enabled": False}
    query = poc.one(FUNCTION, "query-table-function").inputs["environment"]["variables"]
    assert "SOURCE_TTL_DAYS" not in query and "TTL_DAYS" not in query
    prod = run_stack("prod", stack_outputs={POC_REFERENCE: poc.outputs})
    replicator = prod.one(FUNCTION).inputs["environment"]["variables"]
    assert "TTL_DAYS" not in replicator and "TTL_ATTRIBUTE" not in replicator


def test_ttl_days_turns_on_ttl_and_the_replicators_expiry() -> None:
    poc = run_stack("poc", {"ttlDays": 30, "queryTableTtlDays": 7})
    assert poc.one(TABLE, "replica-target-table").inputs["ttl"] == {
        "attributeName": "expiresAt",
        "enabled": True,
    }
    assert poc.one(TABLE, "query-table-table").inputs["ttl"] == {
        "attributeName": "expiresAt",
        "enabled": True,
    }
    query = poc.one(FUNCTION, "query-table-function").inputs["environment"]["variables"]
    assert (query["TTL_DAYS"], query["SOURCE_TTL_DAYS"], query["TTL_ATTRIBUTE"]) == (
        "7",
        "30",
        "expiresAt",
    )
    assert poc.outputs["ttlDays"] == 30
    prod = run_stack("prod", {"ttlDays": 30}, stack_outputs={POC_REFERENCE: poc.outputs})
    replicator = prod.one(FUNCTION).inputs["environment"]["variables"]
    assert (replicator["TTL_DAYS"], replicator["TTL_ATTRIBUTE"]) == ("30", "expiresAt")


def test_prod_refuses_a_poc_stack_with_another_hot_window() -> None:
    poc = run_stack("poc", {"ttlDays": 30})
    with pytest.raises(ValueError, match=r"ttlDays: .*poc stack's ttlDays output is 30"):
        run_stack("prod", {"ttlDays": 7}, stack_outputs={POC_REFERENCE: poc.outputs})


def test_ttl_args_are_checked() -> None:
    with pytest.raises(SettingError, match=r"ReplicaTargetArgs.ttl_days"):
        ReplicaTargetArgs(
            source_account_id="111111111111", replicator_role_name="r", ttl_days=-1
        ).validate()
    with pytest.raises(SettingError, match=r"ReplicaTargetArgs.ttl_attribute"):
        ReplicaTargetArgs(
            source_account_id="111111111111",
            replicator_role_name="r",
            ttl_attribute="sequenceNumber",
        ).validate()
    with pytest.raises(SettingError, match=r"ReplicaSourceArgs.ttl_days"):
        ReplicaSourceArgs(
            account_id="111111111111",
            region="eu-west-1",
            table_name="t",
            table_arn="arn:aws:dynamodb:eu-west-1:999999999999:table/t",
            writer_role_arn="arn:aws:iam::999999999999:role/w",
            source_stream_name="s",
            ttl_days=4000,
        ).validate()
