"""Target faults wait; only a record's own faults are poison.

Every error a change of table, role, policy, key or parameter would fix is reported as batch
item failures (the mapping retries, the iterator-age alarm fires) and nothing is dead-lettered;
one test per error family DynamoDB and Firehose document, for both handlers. The first test is
the bug as found: a real (moto) table whose range key is a number."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError
from handler_support import (
    TABLE_NAME,
    FakeContext,
    blob,
    dead_letters,
    error_response,
    failures,
)
from stream_replica.handlers import clients, faults
from stream_replica.testing.tables import create_replica_table


def sequence_numbers(event: dict[str, Any]) -> list[str]:
    return [r["kinesis"]["sequenceNumber"] for r in event["Records"]]


def client_error(code: str, message: str) -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "BatchWriteItem")


def test_a_table_whose_range_key_is_a_number_is_a_fault_not_poison(world):
    """moto answers as DynamoDB does: "Type mismatch for key sequenceNumber expected: N
    actual: S". Before the fix every record went to the dead-letter queue."""
    dynamodb = world.target.dynamodb
    dynamodb.delete_table(TableName=TABLE_NAME)
    create_replica_table(dynamodb, TABLE_NAME, range_key_type="N")
    world.source.put(blob({"n": i}) for i in range(30))
    event = world.source.event()

    assert failures(world.replicate(event)) == sequence_numbers(event)
    assert dead_letters(world.prod.client("sqs"), world.replicator_dlq) == []


DYNAMODB_FAULTS = [
    (
        "ValidationException",
        "One or more parameter values were invalid: Type mismatch for key "
        "sequenceNumber expected: N actual: S",
    ),
    ("ValidationException", "The provided key element does not match the schema"),
    (
        "ValidationException",
        "One or more parameter values were invalid: Missing the key "
        "seqNumbershardIdHash in the item",
    ),
    (
        "ValidationException",
        "One or more parameter values were invalid: Type mismatch for Index "
        "Key sequenceNumber Expected: N Actual: S IndexName: bySequence",
    ),
    ("ValidationException", "Cannot do operations on a non-existent table"),
    ("ResourceNotFoundException", "Requested resource not found"),
    (
        "AccessDeniedException",
        "User: arn:aws:sts::999999999999:assumed-role/writer/s is not "
        "authorized to perform: dynamodb:BatchWriteItem on resource: table because no "
        "identity-based policy allows the dynamodb:BatchWriteItem action",
    ),
    (
        "AccessDeniedException",
        "User: arn:aws:sts::111111111111:assumed-role/replicator/s is not "
        "authorized to perform: dynamodb:BatchWriteItem because no resource-based policy allows "
        "the dynamodb:BatchWriteItem action",
    ),
    ("AccessDeniedException", "... with an explicit deny in a service control policy"),
    (
        "ValidationException",
        "KMS key access denied error: The ciphertext refers to a customer "
        "master key that does not exist, does not exist in this region, or you are not allowed to "
        "access. (Service: AWSKMS; Status Code: 400; Error Code: AccessDeniedException)",
    ),
    ("KMSAccessDeniedException", "The KMS key is not accessible"),
    ("UnrecognizedClientException", "The security token included in the request is invalid."),
    ("ValidationException", "A message no family covers yet"),
]


def test_each_dynamodb_target_fault_is_reported_not_dead_lettered(world):
    """One world for every family (a moto world costs about a second to build)."""
    for code, message in DYNAMODB_FAULTS:
        assert not faults.dynamodb_blames_item(client_error(code, message)), message
        clients.clear_event_hooks()
        clients.add_event_hook(
            "before-call.dynamodb.BatchWriteItem",
            lambda code=code, message=message, **_: error_response(code, message=message),
        )
        world.source.put(blob({"n": i}) for i in range(30))
        event = world.source.event()

        assert failures(world.replicate(event)) == sequence_numbers(event), message
        assert dead_letters(world.prod.client("sqs"), world.replicator_dlq) == [], message
    assert world.target.items() == []


@pytest.mark.parametrize(
    "message",
    [
        "Item size has exceeded the maximum allowed size",
        "One or more parameter values were invalid: Type mismatch for Index Key day Expected: N "
        "Actual: S IndexName: byDay",
        "One or more parameter values are not valid. A value specified for a secondary index key "
        "is not supported. The AttributeValue for a key attribute cannot contain an empty string "
        "value. IndexName: byUser, IndexKey: userId",
        "One or more parameter values were invalid: Size of hashkey has exceeded the maximum size "
        "limit of 2048 bytes",
        "Nesting Levels have exceeded supported limits",
        "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
    ],
)
def test_messages_about_the_item_itself_are_poison(message):
    assert faults.dynamodb_blames_item(client_error("ValidationException", message))


# --------------------------------------------------------------------------- archiver


def stream_event(world, count: int = 3) -> dict[str, Any]:
    world.source.put(blob({"n": i}) for i in range(count))
    assert failures(world.replicate(world.source.event())) == []
    return world.target.stream_event()


def stream_sequence_numbers(event: dict[str, Any]) -> list[str]:
    return [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]


FIREHOSE_CALL_FAULTS = [
    (
        "ResourceNotFoundException",
        "Firehose prod-s3-firehose under account 999999999999 not found.",
    ),
    ("AccessDeniedException", "User is not authorized to perform: firehose:PutRecordBatch"),
    ("InvalidKMSResourceException", "Firehose is unable to use the KMS key"),
    ("InvalidArgumentException", "Delivery stream is being deleted"),
    ("ServiceUnavailableException", "Slow down."),
]
FIREHOSE_KMS_ENTRY_CODES = [
    "KMS.AccessDeniedException",
    "KMS.DisabledException",
    "KMS.InvalidStateException",
    "KMS.NotFoundException",
    "KMS.OptInRequired",
]


def test_each_firehose_fault_is_reported_not_dead_lettered(world):
    """Call errors, and entries failed on the delivery stream's KMS key (reported without being
    resent: no waiting for a key policy to change); never dead-lettered."""
    event = stream_event(world)
    for code, message in FIREHOSE_CALL_FAULTS:
        clients.clear_event_hooks()
        clients.add_event_hook(
            "before-call.firehose.PutRecordBatch",
            lambda code=code, message=message, **_: error_response(code, message=message),
        )
        # Little time left: one call, then the retries stop at once.
        response = world.archive(event, FakeContext(remaining_ms=400))
        assert failures(response) == stream_sequence_numbers(event), code
        assert dead_letters(world.poc.client("sqs"), world.archiver_dlq) == [], code
    assert world.target.archived_lines() == []

    # (the after-call hook marks entries failed after moto delivered them, so lines do exist)
    for code in FIREHOSE_KMS_ENTRY_CODES:
        assert faults.firehose_entry_is_target_fault(code)

        def fail_entries(parsed: dict[str, Any], code: str = code, **_: Any) -> None:
            entries = parsed.get("RequestResponses", [])
            parsed["FailedPutCount"] = len(entries)
            for entry in entries:
                entry.clear()
                entry.update(ErrorCode=code, ErrorMessage="the delivery stream's key")

        clients.clear_event_hooks()
        clients.add_event_hook("after-call.firehose.PutRecordBatch", fail_entries)
        world.calls.reset()
        clients.add_event_hook("before-call", world.calls)
        assert failures(world.archive(event)) == stream_sequence_numbers(event), code
        assert world.calls["firehose.PutRecordBatch"] == 1, code
        assert dead_letters(world.poc.client("sqs"), world.archiver_dlq) == [], code


def test_throttled_firehose_entries_are_resent():
    assert not faults.firehose_entry_is_target_fault("ServiceUnavailableException")
    assert not faults.firehose_entry_is_target_fault("InternalFailure")
    assert not faults.firehose_entry_is_target_fault("KMS.ThrottlingException")
