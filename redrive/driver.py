"""One redrive pass over an on-failure queue (see the package docstring).

For each message: parse the range it names, re-read the range, invoke the function with it (in
events of at most the range's batch size and 6 MB), and — as the event source mapping does with
``ReportBatchItemFailures`` — resend from the first reported failure until the function reports
none or ``max_attempts`` invocations of that event have failed. The message is deleted only when
every record of its range was handled (written or dead-lettered by the function) and none has
expired; otherwise it is made visible again for a later run, and the report says why.

Running it twice is harmless: the replicator's items are keyed by shard and sequence number, so
a record written again replaces the same item; the archiver's lines are at-least-once anyway
(readers de-duplicate on the item key).
"""

from __future__ import annotations

import json
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TextIO

from .invoking import MAX_REQUEST_BYTES, FunctionFailed, Invoker
from .messages import FailedRange, parse_invocation_record
from .queue_messages import SQS_RECEIVE_MAX, release_messages
from .streams import ClientFactory, RangeRead, read_range


@dataclass
class RedriveOptions:
    """How a pass runs.

    ``dry_run``: read the messages and the ranges, count, invoke nothing, delete nothing.
    ``max_messages``: stop after this many messages (None: until the queue is empty).
    ``max_attempts``: invocations of one event before its message is left for a later run (3).
    ``visibility_timeout``: seconds a message stays hidden while it is redriven (900).
    ``function_arn``: invoke this function instead of the one the message names.
    ``forget_expired``: delete a message whose found records were all handled even if some of
    its records have expired (they are reported either way).
    """

    dry_run: bool = False
    max_messages: int | None = None
    max_attempts: int = 3
    visibility_timeout: int = 900
    function_arn: str | None = None
    forget_expired: bool = False


@dataclass
class MessageOutcome:
    """What happened to one message."""

    message_id: str
    failed_range: FailedRange | None
    found: int = 0
    expired: int = 0
    redriven: int = 0
    invocations: int = 0
    deleted: bool = False
    error: str | None = None


@dataclass
class RedriveReport:
    """The pass in figures; ``outcomes`` has one entry per message."""

    queue_url: str
    dry_run: bool
    outcomes: list[MessageOutcome] = field(default_factory=list)

    @property
    def messages(self) -> int:
        return len(self.outcomes)

    @property
    def records_in_ranges(self) -> int:
        return sum(o.failed_range.batch_size for o in self.outcomes if o.failed_range)

    @property
    def found(self) -> int:
        return sum(o.found for o in self.outcomes)

    @property
    def expired(self) -> int:
        return sum(o.expired for o in self.outcomes)

    @property
    def redriven(self) -> int:
        return sum(o.redriven for o in self.outcomes)

    @property
    def deleted(self) -> int:
        return sum(o.deleted for o in self.outcomes)

    @property
    def left(self) -> int:
        return self.messages - self.deleted

    def as_dict(self) -> dict[str, Any]:
        return {
            "queue_url": self.queue_url,
            "dry_run": self.dry_run,
            "messages": self.messages,
            "records_in_ranges": self.records_in_ranges,
            "records_found": self.found,
            "records_expired": self.expired,
            "records_redriven": self.redriven,
            "messages_deleted": self.deleted,
            "messages_left": self.left,
        }

    def lines(self) -> list[str]:
        """A human report: the totals, then every message that is left and why."""
        verb = "would redrive" if self.dry_run else "redriven"
        out = [
            f"{self.messages} on-failure message(s) naming {self.records_in_ranges} record(s): "
            f"{self.found} still in the stream, {self.expired} expired; {verb} "
            f"{self.found if self.dry_run else self.redriven}; "
            f"{self.deleted} message(s) deleted, {self.left} left in the queue",
        ]
        for o in self.outcomes:
            where = o.failed_range.describe() if o.failed_range else "(unreadable message)"
            if o.expired:
                out.append(
                    f"EXPIRED: {o.expired} of {where} are no longer in the stream "
                    "(past its retention): they cannot be redriven"
                )
            if o.error:
                out.append(f"LEFT: message {o.message_id} ({where}): {o.error}")
        return out


class _ProgressBar:
    """``[#####.....] 5/10 messages, 1,500 records`` on a terminal line, or a line every 2 s."""

    def __init__(self, total: int, stream: TextIO | None) -> None:
        self.total = max(total, 1)
        self.stream = stream
        self.tty = bool(stream is not None and stream.isatty())
        self._last = 0.0

    def show(self, done: int, records: int, *, force: bool = False) -> None:
        if self.stream is None:
            return
        width = 30
        filled = min(width, width * done // self.total)
        text = (
            f"redrive [{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} messages, "
            f"{records:,} records"
        )
        now = time.monotonic()
        if self.tty:
            self.stream.write(f"\r\033[K{text}")
            if force:
                self.stream.write("\n")
            self.stream.flush()
        elif force or now - self._last >= 2.0:
            self.stream.write(text + "\n")
            self._last = now


def _events(records: list[dict[str, Any]], batch_size: int) -> list[list[dict[str, Any]]]:
    """``records`` cut into events of at most ``batch_size`` records and the request limit."""
    events: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    size = 0
    for record in records:
        record_bytes = len(json.dumps(record)) + 2
        if current and (len(current) >= batch_size or size + record_bytes > MAX_REQUEST_BYTES):
            events.append(current)
            current, size = [], 0
        current.append(record)
        size += record_bytes
    if current:
        events.append(current)
    return events


def _sequence(record: dict[str, Any]) -> str:
    if "kinesis" in record:
        return str(record["kinesis"]["sequenceNumber"])
    return str(record["dynamodb"]["SequenceNumber"])


def _first_failure(records: list[dict[str, Any]], response: Any) -> int | None:
    """Where the mapping would checkpoint: None if the response reports no failure, else the
    index of the first record to resend (0 when a reported identifier is not in the event)."""
    if not isinstance(response, dict):
        return None
    failures = response.get("batchItemFailures")
    if not failures:
        return None
    positions = {_sequence(r): i for i, r in enumerate(records)}
    indexes = []
    for failure in failures:
        identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
        if identifier not in positions:
            return 0
        indexes.append(positions[identifier])
    return min(indexes)


def _backoff(attempt: int, sleep: Callable[[float], None]) -> None:
    sleep(random.random() * min(5.0, 0.2 * 2**attempt))


def _redrive_range(
    read: RangeRead,
    invoker: Invoker,
    function_arn: str,
    options: RedriveOptions,
    outcome: MessageOutcome,
    sleep: Callable[[float], None],
) -> bool:
    """Invoke the function on the range's records; True if every record was handled."""
    for event_records in _events(read.records, max(1, read.failed_range.batch_size)):
        pending = event_records
        attempts = 0
        while pending:
            attempts += 1
            outcome.invocations += 1
            try:
                response = invoker.invoke(function_arn, {"Records": pending})
            except FunctionFailed as exc:
                if attempts >= options.max_attempts:
                    outcome.error = f"the function failed {attempts} time(s): {exc}"
                    return False
                _backoff(attempts, sleep)
                continue
            failed_at = _first_failure(pending, response)
            if failed_at is None:
                outcome.redriven += len(pending)
                break
            outcome.redriven += failed_at
            pending = pending[failed_at:]
            if attempts >= options.max_attempts:
                outcome.error = (
                    f"after {attempts} invocation(s) the function still reports "
                    f"{len(pending)} record(s) from sequence number {_sequence(pending[0])}"
                )
                return False
            _backoff(attempts, sleep)
    return True


def redrive_queue(
    sqs: Any,
    queue_url: str,
    clients: ClientFactory,
    invoker: Invoker | None,
    options: RedriveOptions | None = None,
    *,
    progress: TextIO | None = sys.stderr,
    sleep: Callable[[float], None] = time.sleep,
) -> RedriveReport:
    """Redrive every message of ``queue_url`` (see the module docstring).

    ``sqs``: an SQS client of the queue's account. ``clients``: makes the Kinesis /
    DynamoDB Streams clients that re-read the ranges. ``invoker``: runs the function (None only
    with ``dry_run``). Raises what AWS raises for the queue or a stream (e.g. AccessDenied);
    a message it cannot parse is reported and left in the queue.
    """
    options = options or RedriveOptions()
    if invoker is None and not options.dry_run:
        raise ValueError("redrive_queue: an invoker is required unless dry_run")
    report = RedriveReport(queue_url=queue_url, dry_run=options.dry_run)
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"]
    )["Attributes"]
    total = int(attributes.get("ApproximateNumberOfMessages", 0))
    if options.max_messages is not None:
        total = min(total, options.max_messages)
    bar = _ProgressBar(total, progress)
    seen: set[str] = set()
    to_release: list[str] = []
    try:
        while options.max_messages is None or report.messages < options.max_messages:
            wanted = SQS_RECEIVE_MAX
            if options.max_messages is not None:
                wanted = min(wanted, options.max_messages - report.messages)
            messages = sqs.receive_message(
                QueueUrl=queue_url,
                MaxNumberOfMessages=wanted,
                VisibilityTimeout=options.visibility_timeout,
                WaitTimeSeconds=0,
            ).get("Messages", [])
            fresh = [m for m in messages if m["MessageId"] not in seen]
            if not fresh:
                to_release += [m["ReceiptHandle"] for m in messages]
                break
            for message in fresh:
                seen.add(message["MessageId"])
                outcome = _redrive_message(message, clients, invoker, options, sleep)
                report.outcomes.append(outcome)
                if outcome.deleted:
                    sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
                else:
                    to_release.append(message["ReceiptHandle"])
                bar.total = max(bar.total, report.messages)
                bar.show(report.messages, report.found)
    finally:
        # What is left becomes visible again now, for the next run, not after the timeout.
        release_messages(sqs, queue_url, to_release)
    bar.show(report.messages, report.found, force=True)
    return report


def _redrive_message(
    message: dict[str, Any],
    clients: ClientFactory,
    invoker: Invoker | None,
    options: RedriveOptions,
    sleep: Callable[[float], None],
) -> MessageOutcome:
    try:
        rng = parse_invocation_record(message["Body"])
    except ValueError as exc:
        return MessageOutcome(message["MessageId"], None, error=str(exc))
    outcome = MessageOutcome(message["MessageId"], rng)
    read = read_range(clients, rng)
    outcome.found, outcome.expired = read.found, read.expired
    if options.dry_run:
        outcome.error = "dry run"
        return outcome
    assert invoker is not None
    function_arn = options.function_arn or rng.function_arn
    if not _redrive_range(read, invoker, function_arn, options, outcome, sleep):
        return outcome
    if read.expired and not options.forget_expired:
        outcome.error = (
            f"{read.expired} record(s) expired (the others were redriven); "
            "--forget-expired deletes such a message"
        )
        return outcome
    outcome.deleted = True
    return outcome
