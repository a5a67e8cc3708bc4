"""A poison reason is logged and kept in the dead letter: it names the attribute path and what
is wrong, never a fragment of the value (the record may hold personal data; CloudWatch Logs is
often readable by more people than the dead-letter queue)."""

from __future__ import annotations

import base64
import re
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from stream_replica.handlers import records
from stream_replica.handlers.exceptions import PoisonRecordError

SHARD = "shardId-000000000000"
SEQUENCE = "49590338271490256608559692538361571095921575989136588898"


def b64(text: str) -> str:
    return base64.b64encode(text.encode("utf-8", "surrogatepass")).decode("ascii")


def reason_of_record(payload_json: str) -> str:
    """The reason both replicator paths (one pass and exact) give for a Kinesis record."""
    data = b64(payload_json)
    with pytest.raises(PoisonRecordError) as exact:
        records.record_item_reference(data, SEQUENCE, SHARD)
    with pytest.raises(PoisonRecordError) as one_pass:
        records.record_item_json(data, SEQUENCE, SHARD)
    assert one_pass.value.reason == exact.value.reason
    return exact.value.reason


def leaks(secret: str, reason: str) -> bool:
    """Whether the reason holds the secret, even with the punctuation a number's normal form
    adds (``31415926E+200`` is written ``3.1415926E+207``)."""
    return secret in reason or secret in re.sub(r"[^0-9A-Za-z]", "", reason)


def reason_of_item(item: dict[str, Any]) -> str:
    with pytest.raises(PoisonRecordError) as caught:
        records.serialise_item(item)
    return caught.value.reason


# Each: the record's JSON, a fragment of the offending value that must not appear in the reason,
# the attribute path the reason must name, and what it must say.
RECORDS = [
    ('{"card": 4111111111111111000000000000000000000001}', "4111111111", "card", "38"),
    ('{"a": {"b": [1, 31415926E+200]}}', "31415926", "a.b[1]", "outside DynamoDB's range"),
    ('{"ok": 1, "tiny": 27182818E-200}', "27182818", "tiny", "outside DynamoDB's range"),
    ('{"u": {"n": 16180339E+119}}', "16180339", "u.n", "outside DynamoDB's range"),
    ('{"name": "Jane\\ud800Doe"}', "Jane", "name", "lone surrogate"),
    ('{"m": {"Jane\\udc80": 1}}', "Jane", "m", "lone surrogate"),
]


@pytest.mark.parametrize(("payload", "secret", "path", "says"), RECORDS)
def test_record_reasons_name_the_path_and_not_the_value(payload, secret, path, says):
    reason = reason_of_record(payload)
    assert not leaks(secret, reason), reason
    assert re.search(rf"(^|\W){re.escape(path)}(\W|$)", reason), reason
    assert says in reason, reason


@pytest.mark.parametrize(
    ("item", "secret", "path", "says"),
    [
        # values a transform can return: a float, a date, a NaN or too many digits as Decimal
        ({"pi": 3.14159265}, "3.14159265", "pi", "float"),
        ({"p": {"born": date(1984, 7, 1)}}, "1984", "p.born", "date"),
        ({"l": [Decimal("NaN")]}, "Decimal(", "l[0]", "not a finite number"),
        (
            {"x": {"deep": [Decimal("1234567890123456789012345678901234567891")]}},
            "123456",
            "x.deep[0]",
            "38",
        ),
        ({"x": Decimal("98765E+130")}, "98765", "x", "outside DynamoDB's range"),
    ],
)
def test_item_reasons_name_the_path_and_not_the_value(item, secret, path, says):
    reason = reason_of_item(item)
    assert not leaks(secret, reason), reason
    assert re.search(rf"(^|\W){re.escape(path)}(\W|$)", reason), reason
    assert says in reason, reason
