"""The replica table's key schema as the components create it, for moto-based tests, the bench
and users' own handler tests (needs ``boto3``)."""

from __future__ import annotations

from typing import Any

from stream_replica.handlers.records import HASH_KEY, RANGE_KEY


def create_replica_table(
    dynamodb: Any,
    name: str,
    *,
    stream_view_type: str | None = None,
    range_key_type: str = "S",
) -> dict[str, Any]:
    """``CreateTable`` of a table keyed as the replica (hash ``seqNumbershardIdHash``, range
    ``sequenceNumber``), on-demand, with a stream of ``stream_view_type`` when given.
    ``range_key_type`` other than ``S`` makes a table the replicator's writes don't fit (for
    fault tests). Returns the ``TableDescription``."""
    request: dict[str, Any] = {
        "TableName": name,
        "KeySchema": [
            {"AttributeName": HASH_KEY, "KeyType": "HASH"},
            {"AttributeName": RANGE_KEY, "KeyType": "RANGE"},
        ],
        "AttributeDefinitions": [
            {"AttributeName": HASH_KEY, "AttributeType": "S"},
            {"AttributeName": RANGE_KEY, "AttributeType": range_key_type},
        ],
        "BillingMode": "PAY_PER_REQUEST",
    }
    if stream_view_type:
        request["StreamSpecification"] = {"StreamEnabled": True, "StreamViewType": stream_view_type}
    description: dict[str, Any] = dynamodb.create_table(**request)["TableDescription"]
    return description
