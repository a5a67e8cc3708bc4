"""The batch close every handler ends with, and the table-stream malformed-record guard, without
AWS: the response rules (event order, each failure once, the whole-batch fallback) and what the
guard isolates."""

from __future__ import annotations

import json
from typing import Any

import pytest
from stream_replica.handlers import table_stream
from stream_replica.handlers.batch_close import BatchClose, in_order
from stream_replica.handlers.retry import TimeBudget


class Log:
    """A logger that keeps what it was given."""

    def __init__(self) -> None:
        self.lines: list[tuple[str, str, dict[str, Any]]] = []

    def _add(self, level: str, message: str, extra: dict[str, Any] | None = None) -> None:
        self.lines.append((level, message, extra or {}))

    def info(self, message: str, extra: dict[str, Any] | None = None) -> None:
        self._add("info", message, extra)

    def warning(self, message: str, extra: dict[str, Any] | None = None) -> None:
        self._add("warning", message, extra)

    def error(self, message: str, extra: dict[str, Any] | None = None) -> None:
        self._add("error", message, extra)


def _count(value: Any) -> float:
    """An EMF metric value (a number, or a list of one)."""
    return float(value[0] if isinstance(value, list) else value)


def _respond(batch: BatchClose) -> list[str]:
    response = batch.respond(
        dead_letter_queue_url=None,  # no queue: every poison record is reported
        budget=TimeBudget(None, 0),
        payload_field="payload",
        written=1,
        retried=0,
        message="batch done",
    )
    return [f["itemIdentifier"] for f in response["batchItemFailures"]]


def test_failures_are_listed_once_each_in_event_order() -> None:
    assert in_order(["c", "a", "a", "x"], ["a", "b", "c", "a"]) == ["a", "c"]
    batch = BatchClose("test", Log(), 4, ["1", "2", "3", "4"])
    batch.report(["3", "1"])
    batch.dead_letter("2", {"reason": "bad"})
    assert _respond(batch) == ["1", "2", "3"]


def test_an_undeliverable_poison_record_without_sequence_number_reports_the_whole_batch(
    capsys: pytest.CaptureFixture[str],
) -> None:
    log = Log()
    batch = BatchClose("test", log, 3, ["7", "8"])
    batch.dead_letter("", {"reason": "no sequence number"})
    batch.report(["8"])

    assert _respond(batch) == ["7"]  # Lambda retries from the first record

    metrics = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    counted = {name: _count(metrics[name]) for name in ("records_in", "poison", "failed")}
    assert counted == {"records_in": 3, "poison": 0, "failed": 1}
    ((_, message, extra),) = [line for line in log.lines if line[0] == "info"]
    assert message == "batch done" and extra["failed"] == 1 and "duration_ms" in extra


def test_report_all_reports_each_sequence_number_once() -> None:
    batch = BatchClose("test", Log(), 3, ["5", "6", "5"])
    batch.dead_letter("", {"reason": "kept out of a fault's response"})
    assert batch.report_all() == {
        "batchItemFailures": [{"itemIdentifier": "5"}, {"itemIdentifier": "6"}]
    }


def test_the_table_stream_guard_isolates_records_without_a_sequence_number() -> None:
    good = {"eventID": "g", "dynamodb": {"SequenceNumber": "42", "NewImage": {"a": {"S": "x"}}}}
    no_stream = {"eventID": "s"}
    number = {"eventID": "n", "dynamodb": {"SequenceNumber": 42, "OldImage": {"a": {"N": "1"}}}}
    empty = {"eventID": "e", "dynamodb": {"SequenceNumber": ""}}

    kept, malformed = table_stream.well_formed(
        [no_stream, good, "text", number, empty], "query-writer", old_image=True
    )

    assert kept == [("42", good)]
    assert [letter.record_id for letter in malformed] == [""] * 4
    bodies = [letter.body for letter in malformed]
    assert {body["reason"] for body in bodies} == {table_stream.MISSING_SEQUENCE_NUMBER}
    assert {body["source"] for body in bodies} == {"query-writer"}
    assert bodies[0]["event"] == no_stream and bodies[0]["eventID"] == "s"
    assert bodies[1] == {
        "reason": table_stream.MISSING_SEQUENCE_NUMBER,
        "source": "query-writer",
        "payload": None,
        "event": "text",
    }
    assert bodies[2]["payload"] == {"a": {"N": "1"}}  # the OldImage, as asked
    assert "event" not in bodies[2]


def test_the_archivers_dead_letter_keeps_only_the_new_image() -> None:
    record = {"eventName": "REMOVE", "dynamodb": {"SequenceNumber": "1", "OldImage": {}}}
    assert table_stream.dead_letter_body(record, "r", "archiver")["payload"] is None
