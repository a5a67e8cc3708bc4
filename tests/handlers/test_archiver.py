"""The archiver fed from moto's real DynamoDB stream; Firehose delivers into the moto bucket."""

from __future__ import annotations

import base64
import gzip
import json
import threading
from collections import Counter
from decimal import Decimal
from typing import Any

from handler_support import (
    TABLE_NAME,
    blob,
    canonical,
    dead_letters,
    error_response,
    expected_line,
    failures,
    parse_line,
)
from stream_replica.handlers import clients

RICH_PAYLOAD = {
    "userId": "u-42",
    "email": "zoë@example.com",
    "timestampNs": 1764244800123456789,
    "bigInteger": 12345678901234567890123456789012345678,
    "price": 19.99,
    "tiny": 1.5e-120,
    "huge": -2.5e120,
    "ratio": 0.1,
    "negativeZero": -0.0,
    "flag": True,
    "off": False,
    "nothing": None,
    "blank": "",
    "text": '日本語 ✓ "quoted" \\ back\nslash\t\u0001',
    "context": {
        "screen": {"w": 1280, "h": 800, "dpr": 2.0},
        "empty": "",
        "none": None,
        "list": [1, "two", 3.25, None, True, [], {}, {"deep": [{"deeper": "yes"}]}],
    },
    "emptyList": [],
    "emptyMap": {},
}


def sequence_numbers(event: dict[str, Any]) -> list[str]:
    return [r["kinesis"]["sequenceNumber"] for r in event["Records"]]


def test_round_trip_payload_to_archived_line(world):
    """payload -> Kinesis -> item -> stream image -> Firehose -> S3 line == payload + 3 keys."""
    payloads = [blob(RICH_PAYLOAD), blob({"only": 1}), blob({**RICH_PAYLOAD, "userId": "u-43"})]
    world.source.put(payloads)
    kinesis_event = world.source.event()
    assert failures(world.replicate(kinesis_event)) == []

    stream_event = world.target.stream_event()
    assert [r["eventName"] for r in stream_event["Records"]] == ["INSERT"] * 3
    assert failures(world.archive(stream_event)) == []

    lines = world.target.archived_lines()
    assert len(lines) == 3
    got = sorted((parse_line(line) for line in lines), key=lambda o: int(o["sequenceNumber"]))
    shard = "shardId-000000000000"
    for payload, seq, line in zip(payloads, sequence_numbers(kinesis_event), got, strict=True):
        assert canonical(line) == canonical(expected_line(payload, seq, shard))
    # Exactness at the text level: integers stay integers, digits are not rounded.
    text = next(line for line in lines if '"u-42"' in line)
    assert '"bigInteger":12345678901234567890123456789012345678' in text
    assert '"timestampNs":1764244800123456789' in text
    assert '"price":19.99' in text
    assert '"dpr":2}' in text


def test_sets_binary_and_every_type_are_written_with_full_fidelity(world):
    """Items written by other writers may hold sets and binary: sets become sorted lists,
    binary becomes base64 (Lambda's event carries binary as base64 text)."""
    world.target.dynamodb.put_item(
        TableName=TABLE_NAME,
        Item={
            "seqNumbershardIdHash": {"S": "12_shardId-000000000001"},
            "sequenceNumber": {"S": "49590000000000000000000000000000000000000000000123"},
            "shardId": {"S": "shardId-000000000001"},
            "tags": {"SS": ["pear", "apple", "fig"]},
            "scores": {"NS": ["10", "-1.5", "2"]},
            "blobs": {"BS": [b"\x02", b"\x00\xff"]},
            "raw": {"B": b"\x00\x01binary\xff"},
            "n": {"N": "-0.000000000000000000000000000000000001"},
            "map": {"M": {"null": {"NULL": True}, "yes": {"BOOL": True}, "l": {"L": []}}},
        },
    )

    assert failures(world.archive(world.target.stream_event())) == []

    (line,) = world.target.archived_lines()
    obj = json.loads(line, parse_float=Decimal, parse_int=Decimal)
    assert obj["tags"] == ["apple", "fig", "pear"]
    assert obj["scores"] == [Decimal("-1.5"), Decimal("2"), Decimal("10")]
    assert obj["blobs"] == ["AP8=", "Ag=="]  # sorted by bytes: b"\x00\xff" < b"\x02"
    assert obj["raw"] == "AAFiaW5hcnn/"
    assert '"n":-0.000000000000000000000000000000000001' in line
    assert obj["map"] == {"null": None, "yes": True, "l": []}


def test_remove_events_are_skipped_unless_tombstones_are_asked_for(world):
    world.source.put([blob({"a": 1}), blob({"b": 2})])
    assert failures(world.replicate(world.source.event())) == []
    item = world.target.items()[0]
    key = {
        "seqNumbershardIdHash": {"S": item["seqNumbershardIdHash"]},
        "sequenceNumber": {"S": item["sequenceNumber"]},
    }
    world.target.dynamodb.delete_item(TableName=TABLE_NAME, Key=key)
    event = world.target.stream_event()
    assert [r["eventName"] for r in event["Records"]] == ["INSERT", "INSERT", "REMOVE"]

    assert failures(world.archive(event)) == []
    assert len(world.target.archived_lines()) == 2

    assert failures(world.archive(event, ARCHIVE_REMOVES="true")) == []
    lines = [json.loads(line) for line in world.target.archived_lines()]
    tombstones = [line for line in lines if line.get("_deleted")]
    assert tombstones == [
        {
            "seqNumbershardIdHash": item["seqNumbershardIdHash"],
            "sequenceNumber": item["sequenceNumber"],
            "_deleted": True,
        }
    ]


def test_one_put_record_batch_per_300_records(world):
    world.source.put(blob({"n": i, "user": f"u{i % 5}"}) for i in range(300))
    assert failures(world.replicate(world.source.event())) == []
    event = world.target.stream_event()
    assert len(event["Records"]) == 300

    world.calls.reset()
    assert failures(world.archive(event)) == []

    assert world.calls["firehose.PutRecordBatch"] == 1
    assert len(world.target.archived_lines()) == 300


class FailSome:
    """Firehose 'fails' every third entry of the next ``times`` calls: those never reach moto and
    come back with an ErrorCode and a FailedPutCount, as Firehose reports partial failures."""

    def __init__(self, times: int | None) -> None:
        self.left = times
        self._lock = threading.Lock()

    def before(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        with self._lock:
            if self.left is not None:
                if self.left <= 0:
                    return
                self.left -= 1
        records = params["Records"]
        failed = set(range(0, len(records), 3))
        context["failed_positions"] = (len(records), failed)
        params["Records"] = [r for i, r in enumerate(records) if i not in failed]

    def after(self, parsed: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if "failed_positions" not in context:
            return
        total, failed = context["failed_positions"]
        real = iter(parsed["RequestResponses"])
        parsed["RequestResponses"] = [
            {"ErrorCode": "ServiceUnavailableException", "ErrorMessage": "injected"}
            if i in failed
            else next(real)
            for i in range(total)
        ]
        parsed["FailedPutCount"] = len(failed)

    def install(self) -> None:
        clients.add_event_hook("before-parameter-build.firehose.PutRecordBatch", self.before)
        clients.add_event_hook("after-call.firehose.PutRecordBatch", self.after)


#: A field that makes each archived line over half of Firehose's 5 KB billing increment, so the
#: archiver sends one line per Firehose record and a test can fail single entries.
ONE_LINE_PER_RECORD = {"pad": "x" * 3000}


def stream_from_replicated(
    world, count: int, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    world.source.put(blob({"n": i, **(extra or {})}) for i in range(count))
    assert failures(world.replicate(world.source.event())) == []
    return world.target.stream_event()


def archived_sequence_numbers(world) -> list[str]:
    return sorted(json.loads(line)["sequenceNumber"] for line in world.target.archived_lines())


def test_failed_put_entries_are_resent(world):
    event = stream_from_replicated(world, 30, ONE_LINE_PER_RECORD)
    FailSome(times=1).install()

    assert failures(world.archive(event)) == []

    assert world.calls["firehose.PutRecordBatch"] == 2
    assert archived_sequence_numbers(world) == sorted(str(n) for n in range(1, 31))


def test_entries_that_keep_failing_are_reported_then_delivered_on_redelivery(world):
    event = stream_from_replicated(world, 30, ONE_LINE_PER_RECORD)
    fail = FailSome(times=None)
    fail.install()
    calls = world.calls
    context = _Context(lambda: 300_000 if calls["firehose.PutRecordBatch"] < 3 else 0)

    response = world.archive(event, context)

    stream_seqs = [r["dynamodb"]["SequenceNumber"] for r in event["Records"]]
    # Of 30 entries, positions 0, 3, … fail on every attempt: 10, then 4, then 2 remain.
    reported = failures(response)
    assert len(reported) == 2
    assert reported == [s for s in stream_seqs if s in set(reported)]  # in stream order
    first_archived = archived_sequence_numbers(world)
    assert len(first_archived) == 28

    fail.left = 0
    lowest = int(min(reported, key=int))
    redelivery = {
        "Records": [r for r in event["Records"] if int(r["dynamodb"]["SequenceNumber"]) >= lowest]
    }
    assert failures(world.archive(redelivery)) == []
    # Every record archived; the ones after the first reported failure twice (at least once:
    # Firehose has no idempotent write, the lines carry their keys for de-duplication).
    counts = Counter(first_archived + archived_sequence_numbers(world))
    assert set(counts) == {str(n) for n in range(1, 31)}
    resent = {r["dynamodb"]["NewImage"]["sequenceNumber"]["S"] for r in redelivery["Records"]}
    assert {seq for seq, n in counts.items() if n > 1} <= resent
    assert max(counts.values()) == 2


class _Context:
    def __init__(self, remaining) -> None:
        self._remaining = remaining

    def get_remaining_time_in_millis(self) -> int:
        return self._remaining()


def test_a_short_timeout_still_archives_everything(world):
    """A 10 s timeout against the default 10 s safety margin left no time to put anything;
    the margin now scales to the invocation's time."""
    event = stream_from_replicated(world, 30)

    assert failures(world.archive(event, _Context(lambda: 10_000))) == []
    assert archived_sequence_numbers(world) == sorted(str(n) for n in range(1, 31))


def test_with_no_time_left_one_put_is_still_attempted(world):
    event = stream_from_replicated(world, 30)
    world.calls.reset()

    assert failures(world.archive(event, _Context(lambda: 0))) == []
    assert world.calls["firehose.PutRecordBatch"] == 1
    assert archived_sequence_numbers(world) == sorted(str(n) for n in range(1, 31))


def test_firehose_throttling_is_retried(world):
    event = stream_from_replicated(world, 10)
    left = {"n": 2}

    def throttle(**_: Any) -> Any:
        if left["n"]:
            left["n"] -= 1
            return error_response("ServiceUnavailableException", status=503)
        return None

    clients.add_event_hook("before-call.firehose.PutRecordBatch", throttle)

    assert failures(world.archive(event)) == []
    assert left["n"] == 0
    assert len(world.target.archived_lines()) == 10


def test_a_line_over_the_firehose_limit_is_dead_lettered(world):
    """A 390 KB string of control characters is a valid item (written here directly, as another
    writer could) but a 2.3 MB JSON line, each character being a \\u escape: poison, with the
    image in the dead letter; the records around it are archived."""
    event_before = stream_from_replicated(world, 1)
    world.target.dynamodb.put_item(
        TableName=TABLE_NAME,
        Item={
            "seqNumbershardIdHash": {"S": "_shardId-000000000009"},
            "sequenceNumber": {"S": "9"},
            "ctl": {"S": "\u0001" * (390 * 1024)},
        },
    )
    event = {"Records": event_before["Records"] + world.target.stream_event()["Records"]}

    assert failures(world.archive(event)) == []

    assert len(world.target.archived_lines()) == 1
    (letter,) = dead_letters(world.poc.client("sqs"), world.archiver_dlq)
    assert letter["sequenceNumber"] == event["Records"][1]["dynamodb"]["SequenceNumber"]
    assert "1,000 KiB" in letter["reason"]
    # As JSON the image is over SQS's 1 MiB, so the dead letter carries it gzip+base64.
    assert letter["payloadEncoding"] == "gzip+base64"
    image = json.loads(gzip.decompress(base64.b64decode(letter["payloadGzipBase64"])))
    assert image["ctl"]["S"] == "\u0001" * (390 * 1024)
    assert letter["eventSourceARN"] == world.target.stream_arn


def test_a_record_without_new_image_is_dead_lettered(world):
    event = stream_from_replicated(world, 3)
    del event["Records"][1]["dynamodb"]["NewImage"]  # what a KEYS_ONLY stream delivers

    assert failures(world.archive(event)) == []

    assert len(world.target.archived_lines()) == 2
    (letter,) = dead_letters(world.poc.client("sqs"), world.archiver_dlq)
    assert "NEW_IMAGE" in letter["reason"]
    assert letter["keys"] == event["Records"][1]["dynamodb"]["Keys"]


def test_dead_letter_failure_is_reported(world):
    event = stream_from_replicated(world, 3)
    event["Records"][2]["eventName"] = "UPSERT"
    clients.add_event_hook(
        "before-call.sqs.SendMessageBatch", lambda **_: error_response("AccessDenied", status=403)
    )

    response = world.archive(event)

    assert failures(response) == [event["Records"][2]["dynamodb"]["SequenceNumber"]]
    assert len(world.target.archived_lines()) == 2


def test_malformed_event_records_are_isolated_and_the_rest_flow(world):
    """A record without ``dynamodb`` or ``SequenceNumber`` used to raise KeyError for the whole
    invocation; now it is poison with the reason (the whole record kept), the rest archived."""
    event = stream_from_replicated(world, 4)
    no_stream = {k: v for k, v in event["Records"][0].items() if k != "dynamodb"}
    no_sequence = json.loads(json.dumps(event["Records"][1]))
    del no_sequence["dynamodb"]["SequenceNumber"]
    event["Records"][:2] = [no_stream, no_sequence]

    assert failures(world.archive(event)) == []

    assert archived_sequence_numbers(world) == ["3", "4"]
    letters = dead_letters(world.poc.client("sqs"), world.archiver_dlq)
    assert [x["reason"] for x in letters] == ["event record has no dynamodb.SequenceNumber"] * 2
    assert {x["eventID"] for x in letters} == {no_stream["eventID"], no_sequence["eventID"]}
    # What the record had is kept: the whole record when it has no dynamodb object, else its image.
    kept = {x["eventID"]: x for x in letters}
    assert kept[no_stream["eventID"]]["event"] == no_stream
    assert kept[no_sequence["eventID"]]["payload"] == no_sequence["dynamodb"]["NewImage"]


def test_a_record_that_is_not_an_object_is_isolated_and_the_rest_flow(world):
    event = stream_from_replicated(world, 3)
    event["Records"].insert(1, "not a record")

    assert failures(world.archive(event)) == []

    assert archived_sequence_numbers(world) == ["1", "2", "3"]
    (letter,) = dead_letters(world.poc.client("sqs"), world.archiver_dlq)
    assert letter["reason"] == "event record has no dynamodb.SequenceNumber"
    assert letter["event"] == "not a record"


def test_a_poison_record_without_sequence_number_that_cannot_be_kept_retries_the_batch(world):
    event = stream_from_replicated(world, 3)
    event["Records"].insert(1, {"eventID": "x"})  # nothing usable at all

    response = world.archive(event, DEAD_LETTER_QUEUE_URL="")

    assert failures(response) == [event["Records"][0]["dynamodb"]["SequenceNumber"]]
