"""The sandbox's raw-PII count finds a raw value wherever the target account holds one: in a
table item, a queue message, nested or inside a longer string; and only raw values of the
pseudonymised fields count."""

from __future__ import annotations

import json

from sandbox.checks import raw_pii_in_table_and_queues
from sandbox.emulator import Emulator
from sandbox.pii import RawValues

ACCOUNT = "999999999999"
REGION = "eu-west-1"


def raw_values() -> RawValues:
    raw = RawValues(["userEmail", "device.id"])
    raw.collect({"userEmail": "ana@example.com", "device": {"id": "d-42"}, "other": "x@y.org"})
    raw.collect({"userEmail": None, "items": []})
    return raw


def test_raw_values_are_found_nested_and_inside_text():
    raw = raw_values()
    assert raw.values == {"ana@example.com", "d-42"}
    assert raw.holds_raw({"a": {"b": ["ana@example.com"]}})
    assert raw.holds_raw({"note": "mailto:ana@example.com?subject=hi"})
    assert raw.holds_raw({"device": "d-42"})
    assert not raw.holds_raw({"userEmail": "0f" * 32, "other": "x@y.org"})
    assert not RawValues([]).holds_raw({"userEmail": "ana@example.com"})


def test_a_long_poison_payload_is_scanned_in_linear_time():
    """The 420 KB poison record sits in the replicator's dead-letter queue in the target
    account in target placement; the e-mail search used to rescan its run of word characters
    from every start position (minutes). A raw value after such a run is still found."""
    import time

    raw = raw_values()
    started = time.monotonic()
    assert not raw.holds_raw({"blob": "x" * 420_000})
    assert raw.holds_raw({"blob": "x" * 420_000 + " ana@example.com"})
    assert raw.holds_raw("x" * 420_000 + "@" + "y" * 1_000 + " ana@example.com")
    assert time.monotonic() - started < 2.0


def test_the_target_scan_counts_items_and_messages_with_raw_values():
    with Emulator(REGION) as emulator:
        ddb = emulator.client("dynamodb", ACCOUNT, REGION)
        ddb.create_table(
            TableName="replica",
            KeySchema=[{"AttributeName": "k", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "k", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        ddb.put_item(TableName="replica", Item={"k": {"S": "1"}, "userEmail": {"S": "0f" * 32}})
        ddb.put_item(
            TableName="replica",
            Item={"k": {"S": "2"}, "ctx": {"M": {"mail": {"S": "ana@example.com"}}}},
        )
        sqs = emulator.client("sqs", ACCOUNT, REGION)
        url = sqs.create_queue(QueueName="archiver-dead-letters")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"payload": {"id": "d-42"}}))
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"payload": {"id": "d-43"}}))

        assert raw_pii_in_table_and_queues(emulator, ACCOUNT, REGION, "replica", raw_values()) == 2
