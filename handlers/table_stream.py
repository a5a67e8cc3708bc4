"""DynamoDB stream records as Lambda delivers them to the archiver and the query writer: the
malformed-record guard and the dead letter of a poison record.

A record is well-formed when it is an object whose ``dynamodb`` object has a non-empty
``SequenceNumber`` text: that is what the handler reports it by. Any other record is isolated
as poison (:data:`MISSING_SEQUENCE_NUMBER`), its whole event record kept in the dead letter when
it has no ``dynamodb`` object; the rest of the batch flows on. No AWS calls, no environment.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .dead_letters import DeadLetter

#: The reason a record without a usable ``dynamodb.SequenceNumber`` is poison.
MISSING_SEQUENCE_NUMBER = "event record has no dynamodb.SequenceNumber"


def sequence_number(record: Any) -> str | None:
    """The record's ``dynamodb.SequenceNumber``, or None for a malformed event record."""
    stream = record.get("dynamodb") if isinstance(record, dict) else None
    found = stream.get("SequenceNumber") if isinstance(stream, dict) else None
    return found if isinstance(found, str) and found else None


def dead_letter_body(
    record: Any, reason: str, source: str, *, old_image: bool = False
) -> dict[str, Any]:
    """The dead letter of a poison stream record: ``reason``, ``source`` (the handler), the
    record's stream, event id and name, sequence number, creation time, ``keys``, and as
    ``payload`` its ``NewImage`` (or, with ``old_image``, its ``OldImage`` when it has no
    ``NewImage``). A record without a ``dynamodb`` object is kept whole as ``event``."""
    if not isinstance(record, dict):
        return {"reason": reason, "source": source, "payload": None, "event": record}
    stream = record.get("dynamodb")
    if not isinstance(stream, dict):
        # Nothing to take the image from: the whole event record is kept instead.
        body = dead_letter_body({**record, "dynamodb": {}}, reason, source, old_image=old_image)
        return {**body, "event": record}
    payload = stream.get("NewImage")
    if old_image and not payload:
        payload = stream.get("OldImage")
    return {
        "reason": reason,
        "source": source,
        "eventSourceARN": record.get("eventSourceARN"),
        "eventID": record.get("eventID"),
        "eventName": record.get("eventName"),
        "sequenceNumber": stream.get("SequenceNumber"),
        "approximateCreationDateTime": stream.get("ApproximateCreationDateTime"),
        "keys": stream.get("Keys"),
        "payload": payload,
    }


def well_formed(
    records: Sequence[Any], source: str, *, old_image: bool = False
) -> tuple[list[tuple[str, dict[str, Any]]], list[DeadLetter]]:
    """The batch's well-formed records as ``(sequence number, record)`` in event order, and a
    dead letter (record id ``""``: there is no sequence number to report it by) for each of the
    others; ``source`` and ``old_image`` as in :func:`dead_letter_body`."""
    good: list[tuple[str, dict[str, Any]]] = []
    malformed: list[DeadLetter] = []
    for record in records:
        found = sequence_number(record)
        if found is None:
            body = dead_letter_body(record, MISSING_SEQUENCE_NUMBER, source, old_image=old_image)
            malformed.append(DeadLetter("", body))
        else:
            good.append((found, record))
    return good, malformed
