"""Whose fault a "Type mismatch for Index Key" is: the table's keys and every attribute the
replicator's own stages produce (keys, pseudonyms, TTL expiry, a transform's output) are the
deployment's (a fault: reported, never dead-lettered); a producer's own attribute is that
record's (poison), and a batch whose every record is refused the same way is also counted
(``rejected_alike``), so an alarm fires rather than the stream quietly draining into the
dead-letter queue."""

from __future__ import annotations

import json
from typing import Any

from botocore.exceptions import ClientError
from handler_support import blob, dead_letters, error_response, failures
from stream_replica.handlers import clients, faults
from test_replicator_stages import KEY_PARAMETER, put_key


def _mismatch(attribute: str, expected: str = "N", actual: str = "S") -> str:
    return (
        "One or more parameter values were invalid: Type mismatch for Index Key "
        f"{attribute} Expected: {expected} Actual: {actual} IndexName: by-{attribute}"
    )


def _reject_when(marker: bytes, message: str) -> None:
    def hook(params: dict[str, Any], **_: Any) -> Any:
        if marker in params["body"]:
            return error_response("ValidationException", message=message)
        return None

    clients.add_event_hook("before-call.dynamodb.BatchWriteItem", hook)


def _sequence_numbers(event: dict[str, Any]) -> list[str]:
    return [r["kinesis"]["sequenceNumber"] for r in event["Records"]]


def _metrics(capsys) -> dict[str, Any]:
    (document,) = [
        json.loads(line)
        for line in capsys.readouterr().out.splitlines()
        if line.startswith("{") and "_aws" in line
    ]
    return document


def test_a_pseudonymised_attribute_an_index_refuses_is_a_fault(world):
    put_key(world)
    _reject_when(b"userEmail", _mismatch("userEmail"))
    world.source.put(blob({"userEmail": f"u{i}@example.com", "n": i}) for i in range(5))
    event = world.source.event()

    response = world.replicate(
        event,
        PSEUDONYMIZE_FIELDS=json.dumps(["userEmail"]),
        PSEUDONYMIZATION_KEY_PARAMETER=KEY_PARAMETER,
    )

    assert failures(response) == _sequence_numbers(event)
    assert dead_letters(world.prod.client("sqs"), world.replicator_dlq) == []


def test_the_ttl_attribute_an_index_refuses_is_a_fault(world):
    _reject_when(b"expiresAt", _mismatch("expiresAt", expected="S", actual="N"))
    world.source.put(blob({"n": i}) for i in range(3))
    event = world.source.event()

    response = world.replicate(event, TTL_DAYS="7", TTL_ATTRIBUTE="expiresAt")

    assert failures(response) == _sequence_numbers(event)
    assert dead_letters(world.prod.client("sqs"), world.replicator_dlq) == []


def test_a_whole_batch_refused_alike_is_poison_and_counted(world, capsys):
    _reject_when(b"userId", _mismatch("userId"))
    world.source.put(blob({"userId": f"user-{i}"}) for i in range(4))
    event = world.source.event()

    response = world.replicate(event)

    assert failures(response) == []
    letters = dead_letters(world.prod.client("sqs"), world.replicator_dlq)
    assert len(letters) == 4
    metrics = _metrics(capsys)
    assert metrics["rejected_alike"] == [1.0]
    names = {m["Name"] for m in metrics["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert "rejected_alike" in names


def test_one_record_refused_among_many_is_not_counted_alike(world, capsys):
    _reject_when(b"userId", _mismatch("userId"))
    world.source.put(blob({"userId": "u"} if i == 2 else {"n": i}) for i in range(6))
    event = world.source.event()

    assert failures(world.replicate(event)) == []

    assert len(dead_letters(world.prod.client("sqs"), world.replicator_dlq)) == 1
    assert "rejected_alike" not in _metrics(capsys)


def _validation(message: str) -> ClientError:
    return ClientError(
        {"Error": {"Code": "ValidationException", "Message": message}}, "BatchWriteItem"
    )


def test_whose_index_key_it_is_decides():
    producer = _validation(_mismatch("userId"))
    assert faults.dynamodb_blames_item(producer)
    assert not faults.dynamodb_blames_item(producer, ours=frozenset({"userId"}))
    assert not faults.dynamodb_blames_item(producer, ours=faults.EVERY_ATTRIBUTE)
    key = _validation(_mismatch("sequenceNumber"))
    assert not faults.dynamodb_blames_item(key, ours=frozenset({"userId"}))
    table = _validation("One or more parameter values were invalid: Type mismatch for key x")
    assert not faults.dynamodb_blames_item(table)
    assert faults.index_key_of(producer) == "userId"


def test_the_replicators_sub_sequence_key_is_the_pipelines():
    from stream_replica.handlers import pipeline, replicator_writes

    assert replicator_writes.SUB_SEQUENCE_KEY == pipeline.SUB_SEQUENCE_KEY
