"""The on-failure invocation record of a stream event source mapping, parsed.

Lambda's record for a discarded Kinesis batch carries ``KinesisBatchInfo``, for a DynamoDB
Streams batch ``DDBStreamBatchInfo``; both hold ``shardId``, ``startSequenceNumber``,
``endSequenceNumber``, ``batchSize`` and ``streamArn``, and ``requestContext.functionArn`` names
the function (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html,
https://docs.aws.amazon.com/lambda/latest/dg/services-dynamodb-errors.html). A queue
subscribed to an SNS on-failure topic receives the record wrapped in an SNS notification
(``Type: Notification``, the record in ``Message``) unless raw message delivery is on: both
forms are read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

KINESIS = "kinesis"
DYNAMODB = "dynamodb"
_INFO_KEYS = {"KinesisBatchInfo": KINESIS, "DDBStreamBatchInfo": DYNAMODB}


@dataclass(frozen=True)
class FailedRange:
    """One discarded batch: ``batch_size`` records of ``shard_id`` from ``start`` to ``end``
    (sequence numbers, inclusive) of ``stream_arn``, handled by ``function_arn``."""

    kind: str  # KINESIS or DYNAMODB
    stream_arn: str
    shard_id: str
    start: str
    end: str
    batch_size: int
    function_arn: str
    condition: str

    @property
    def region(self) -> str:
        return self.stream_arn.split(":")[3]

    def position(self, sequence_number: str) -> int:
        """-1 before the range, 0 inside it, 1 after it (sequence numbers compare as integers,
        whatever their length)."""
        number = int(sequence_number)
        if number < int(self.start):
            return -1
        return 0 if number <= int(self.end) else 1

    def describe(self) -> str:
        return f"{self.stream_arn} {self.shard_id} {self.start}..{self.end}"


def _require(mapping: dict[str, Any], key: str, where: str) -> Any:
    value = mapping.get(key)
    if value in (None, ""):
        raise ValueError(f"on-failure message: {where} has no {key!r}")
    return value


def parse_invocation_record(body: str) -> FailedRange:
    """The range a message names. Raises ``ValueError`` (naming the missing field) for a body
    that is not a stream mapping's invocation record."""
    try:
        record = json.loads(body)
    except json.JSONDecodeError as exc:
        raise ValueError(f"on-failure message is not JSON: {exc}") from None
    if isinstance(record, dict) and record.get("Type") == "Notification" and "Message" in record:
        return parse_invocation_record(str(record["Message"]))
    if not isinstance(record, dict):
        raise ValueError("on-failure message is not a JSON object")
    found = [(key, kind) for key, kind in _INFO_KEYS.items() if isinstance(record.get(key), dict)]
    if len(found) != 1:
        raise ValueError(
            "on-failure message has neither KinesisBatchInfo nor DDBStreamBatchInfo "
            "(not a stream event source mapping's invocation record)"
        )
    info_key, kind = found[0]
    info = record[info_key]
    context = record.get("requestContext") or {}
    start = str(_require(info, "startSequenceNumber", info_key))
    end = str(_require(info, "endSequenceNumber", info_key))
    for name, value in (("startSequenceNumber", start), ("endSequenceNumber", end)):
        if not value.isdecimal():
            raise ValueError(f"on-failure message: {info_key}.{name} {value!r} is not a number")
    return FailedRange(
        kind=kind,
        stream_arn=str(_require(info, "streamArn", info_key)),
        shard_id=str(_require(info, "shardId", info_key)),
        start=start,
        end=end,
        batch_size=int(_require(info, "batchSize", info_key)),
        function_arn=str(_require(context, "functionArn", "requestContext")),
        condition=str(context.get("condition") or ""),
    )
