"""The stream consumers' shared skeleton (``components/consumer.py``), under Pulumi mocks.

``ReplicaSource``, ``StreamToS3Archiver`` and ``StreamToQueryTable`` each register exactly the
outputs their class declares (the ones the component provider's schema is inferred from), the
consumer's own ones taken from its own children; a declared output that nothing gives fails the
construction instead of registering nothing.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pytest
from stream_replica.components import (
    ReplicaSource,
    ReplicaSourceArgs,
    StreamToQueryTable,
    StreamToQueryTableArgs,
    StreamToS3Archiver,
    StreamToS3ArchiverArgs,
)
from stream_replica.components.consumer import StreamConsumer, declared_outputs
from stream_replica.testing.mocks import run_components

ACCOUNT = "222222222222"
REGION = "eu-west-1"
TABLE_ARN = f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/replica"
TABLE_STREAM_ARN = f"{TABLE_ARN}/stream/2026-01-01T00:00:00.000"
QUERY_TABLE: dict[str, Any] = {
    "table_stream_arn": TABLE_STREAM_ARN,
    "account_id": ACCOUNT,
    "region": REGION,
    "hash_attribute": "userEmail",
    "range_attribute": "timestamp",
}


def consumers() -> None:
    ReplicaSource(
        "replica",
        ReplicaSourceArgs(
            account_id="111111111111",
            region=REGION,
            table_name="replica",
            table_arn=TABLE_ARN,
            writer_role_arn=f"arn:aws:iam::{ACCOUNT}:role/writer",
            source_stream_name="clicks",
            consumer_mode="efo",  # stream_consumer_arn is None in shared mode
        ),
    )
    StreamToS3Archiver(
        "archive",
        StreamToS3ArchiverArgs(
            table_stream_arn=TABLE_STREAM_ARN, account_id=ACCOUNT, region=REGION
        ),
    )
    StreamToQueryTable("query", StreamToQueryTableArgs(**QUERY_TABLE))


@pytest.mark.parametrize(
    ("component", "name"),
    [(ReplicaSource, "replica"), (StreamToS3Archiver, "archive"), (StreamToQueryTable, "query")],
)
def test_each_consumer_registers_the_outputs_it_declares_from_its_own_children(
    component: type[StreamConsumer[Any]], name: str
) -> None:
    stack = run_components(consumers)
    registered = stack.one(f"stream-replica:index:{component.__name__}", name).outputs
    assert sorted(registered) == sorted(declared_outputs(component))
    function = stack.one("aws:lambda/function:Function", f"{name}-function")
    role = stack.one("aws:iam/role:Role", f"{name}-role")
    mapping = stack.one("aws:lambda/eventSourceMapping:EventSourceMapping", f"{name}-mapping")
    dead_letters = stack.one("aws:sqs/queue:Queue", f"{name}-dead-letters")
    failures = stack.one("aws:sqs/queue:Queue", f"{name}-mapping-failures")
    assert registered["function_name"] == function.state["name"]
    assert registered["function_arn"] == function.state["arn"]
    assert registered["role_arn"] == role.state["arn"]
    assert registered["event_source_mapping_id"] == mapping.state["uuid"]
    assert registered["dead_letter_queue_url"] == dead_letters.state["url"]
    assert registered["failure_queue_url"] == failures.state["url"]


class QueryTableWithAnExtraOutput(StreamToQueryTable):
    """A query table whose class declares an output its ``__init__`` never gives."""

    extra_arn: pulumi.Output[str]
    """Declared, never given."""


def test_a_declared_output_nothing_gives_fails_the_construction() -> None:
    def program() -> None:
        QueryTableWithAnExtraOutput("query", StreamToQueryTableArgs(**QUERY_TABLE))

    with pytest.raises(TypeError, match=r"QueryTableWithAnExtraOutput\.extra_arn is declared"):
        run_components(program)


def test_declared_outputs_are_the_annotations_of_the_class_and_its_bases_in_order() -> None:
    assert declared_outputs(QueryTableWithAnExtraOutput) == [
        *declared_outputs(StreamToQueryTable),
        "extra_arn",
    ]
    assert declared_outputs(StreamToQueryTable)[:2] == ["table_name", "table_arn"]
