"""How every handler ends a batch, written once: poison to the dead-letter queue, the failures
in event order, the whole-batch fallback, the metrics, the log line and the response.

A handler makes one :class:`BatchClose` per invocation with its records' sequence numbers in
event order, hands it the poison records (:meth:`BatchClose.dead_letter`) and the records it
could not write (:meth:`BatchClose.report`) as it finds them, and returns
:meth:`BatchClose.respond`: the partial-batch response of an event source mapping with
``ReportBatchItemFailures``, ``{"batchItemFailures": [{"itemIdentifier": <sequence number>}]}``.
The rules it keeps:

* poison records are dead-lettered, not reported (reporting would hold up the shard); those
  whose send fails, or all of them when no queue is configured, are reported instead;
* failures are listed once each, in event order, so Lambda resumes from the first of them;
* a poison record without a sequence number (``record_id == ""``) that could not be kept has
  nothing to be reported by: the batch is then reported from its first record.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .dead_letters import DeadLetter, dispose_of_poison
from .retry import TimeBudget
from .telemetry import emit_metrics


def in_order(ids: Iterable[str], order: Sequence[str]) -> list[str]:
    """``ids`` as a list in the order they appear in ``order`` (the event's record order), each
    once; ids that are not in ``order`` are left out."""
    wanted = set(ids)
    seen: set[str] = set()
    out = []
    for candidate in order:
        if candidate in wanted and candidate not in seen:
            seen.add(candidate)
            out.append(candidate)
    return out


def response(failures: Iterable[str]) -> dict[str, Any]:
    """The partial-batch response that reports ``failures`` (sequence numbers)."""
    return {"batchItemFailures": [{"itemIdentifier": seq} for seq in failures]}


@dataclass
class BatchClose:
    """One invocation's batch, from its records to its response.

    ``service`` names the handler in logs and metrics (the default of
    ``POWERTOOLS_SERVICE_NAME``), ``log`` is its logger, ``records_in`` the number of event
    records, ``order`` their sequence numbers in event order (records without one left out),
    ``started`` the :func:`time.perf_counter` reading the invocation started at.
    """

    service: str
    log: Any
    records_in: int
    order: list[str]
    started: float = field(default_factory=time.perf_counter)
    poison: list[DeadLetter] = field(default_factory=list)
    failed: set[str] = field(default_factory=set)

    def dead_letter(self, record_id: str, body: dict[str, Any]) -> None:
        """A poison record: ``body`` (with its ``reason``) goes to the dead-letter queue;
        ``record_id`` (its sequence number, or ``""``) is reported if it cannot."""
        self.poison.append(DeadLetter(record_id, body))

    def report(self, record_ids: Iterable[str]) -> None:
        """Records not written (a fault, not their content): reported for retry."""
        self.failed.update(record_ids)

    def log_errors(self, errors: Iterable[str], message: str) -> None:
        """One ``ERROR`` line per distinct write error (``message`` says what was given up)."""
        for error in sorted(set(errors)):
            self.log.error(message, extra={"error": error})

    def respond(
        self,
        *,
        dead_letter_queue_url: str | None,
        budget: TimeBudget,
        payload_field: str,
        written: int,
        retried: int,
        message: str,
        **counts: int,
    ) -> dict[str, Any]:
        """Dead-letter the poison (``payload_field`` names the dead letter's raw payload, see
        :func:`.dead_letters.dead_letter_body`), then emit the metrics ``records_in``,
        ``written``, ``retried``, ``poison`` (dead-lettered), ``failed`` (reported) and
        ``counts``, log ``message`` with them and the duration, and return the response."""
        dead_lettered, undelivered = dispose_of_poison(
            dead_letter_queue_url, self.poison, budget, payload_field, self.log
        )
        self.failed.update(undelivered)
        failures = in_order(self.failed, self.order)
        if "" in undelivered:
            # A poison record without a sequence number could not be kept: retry the whole batch.
            failures = self.order[:1] or [""]
        metrics = {
            "records_in": self.records_in,
            "written": written,
            "retried": retried,
            "poison": dead_lettered,
            "failed": len(failures),
            **counts,
        }
        emit_metrics(self.service, metrics)
        duration_ms = round((time.perf_counter() - self.started) * 1000, 1)
        self.log.info(message, extra={**metrics, "duration_ms": duration_ms})
        return response(failures)

    def report_all(self) -> dict[str, Any]:
        """The response to a fault found before anything was sent (a configuration the whole
        batch depends on): every record with a sequence number is reported, nothing is
        dead-lettered, and only ``records_in`` and ``failed`` are emitted."""
        emit_metrics(self.service, {"records_in": self.records_in, "failed": len(self.order)})
        return response(dict.fromkeys(self.order))
