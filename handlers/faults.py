"""Which errors from the target are the record's own fault (poison) and which are the target's
(a fault: reported for retry as a batch item failure, never dead-lettered). No AWS calls.

The rule (docs/handlers.md, "Poison or fault"): an error is **poison** only if it comes from the
record's own content, so that other records of the same batch can still be written and this one
never could. Anything a change of table, role, policy, key or parameter would fix is a
**fault**: the records are reported, the event source mapping retries them, and the iterator-age
alarm fires while the cause is fixed. A wrongly configured table must never drain the stream
into the dead-letter queue.

DynamoDB answers most faults of both kinds with ``ValidationException``; the message tells them
apart. The families below are the messages DynamoDB documents or returns for these cases
(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Programming.Errors.html,
https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchWriteItem.html#API_BatchWriteItem_Errors).
A ``ValidationException`` in neither family is treated as a fault (reported and logged with its
message): blocking a shard until someone reads the log loses nothing, dead-lettering a whole
stream because of an unforeseen table problem would. Every other error code is never the item's:
throttling and 5xx are retried, the rest (``AccessDeniedException``,
``ResourceNotFoundException``, ``UnrecognizedClientException``, KMS errors, ...) reported.
"""

from __future__ import annotations

import re
from collections.abc import Container
from typing import Any

from botocore.exceptions import ClientError

#: ValidationException messages that blame the table, its key schema, a policy or a KMS key.
_TABLE_MESSAGES = re.compile(
    r"key element does not match the schema"
    r"|Missing the key"
    r"|Type mismatch for key"  # the table's own key (lower-case "key" in DynamoDB's message)
    r"|non-existent table"
    r"|Requested resource not found"
    r"|not authorized"
    r"|explicit deny"
    r"|resource-based policy"
    r"|KMS"
    r"|kms:",
    re.IGNORECASE,
)
#: "Type mismatch for Index Key <attribute> Expected: … Actual: … IndexName: …": whose fault
#: depends on the attribute (see :func:`dynamodb_blames_item`).
_INDEX_KEY_MISMATCH = re.compile(r"Type mismatch for Index Key (\S+)")
#: ValidationException messages about the item's own content.
_ITEM_MESSAGES = re.compile(
    r"Item size (?:to update )?has exceeded"
    r"|Size of (?:hashkey|rangekey) has exceeded"
    r"|A value specified for a secondary index key is not supported"
    r"|secondary index key"
    r"|empty string"
    r"|Supplied AttributeValue is empty"
    r"|Supplied AttributeValue has more than one datatypes"
    r"|Nesting Levels have exceeded"
    r"|Number overflow"
    r"|numeric value"
    r"|Invalid UTF-?8"
    r"|contains duplicates"  # a String/Number Set with duplicate members
    r"|empty set",
    re.IGNORECASE,
)


def _message(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Message", ""))


class _Every:
    """A container that holds every attribute name (:data:`EVERY_ATTRIBUTE`)."""

    def __contains__(self, name: object) -> bool:
        return True


#: ``ours`` when a transform writes the items: every attribute is then the deployment's own.
EVERY_ATTRIBUTE: Container[str] = _Every()


def index_key_of(exc: ClientError) -> str | None:
    """The attribute of a ``Type mismatch for Index Key <attribute>`` error, else ``None``."""
    if str(exc.response.get("Error", {}).get("Code", "")) != "ValidationException":
        return None
    return index_key_in(_message(exc))


def index_key_in(text: str) -> str | None:
    """The attribute a ``Type mismatch for Index Key <attribute>`` message (or a rejection
    reason quoting one) names, else ``None``."""
    found = _INDEX_KEY_MISMATCH.search(text)
    return found.group(1) if found else None


def dynamodb_blames_item(exc: ClientError, ours: Container[str] | None = None) -> bool:
    """True only if DynamoDB's ``exc`` is about the item's own content (poison); False for a
    fault of the table, role, policy or key, and for any error not known to be the item's.

    * ``Type mismatch for key …`` (the table's hash or range key is not S, e.g. a GSI
      definition that redeclared ``sequenceNumber`` as N): always a fault.
    * ``Type mismatch for Index Key <a> …``: a fault if ``<a>`` is one of the replicator's key
      attributes (``seqNumbershardIdHash``, ``sequenceNumber``, ``shardId``) or in ``ours``,
      the other attributes the writer's own stages produce (the replicator's
      ``subSequenceNumber``, TTL attribute and pseudonymised attributes, or
      :data:`EVERY_ATTRIBUTE` with a transform): the index and the deployment disagree, and
      every record would fail alike. Poison if it is a producer's own attribute (this record's
      value has another type than the index's; records with the right type are written).
    """
    code = str(exc.response.get("Error", {}).get("Code", ""))
    if code != "ValidationException":
        return False
    message = _message(exc)
    index_mismatch = _INDEX_KEY_MISMATCH.search(message)
    if index_mismatch:
        # Imported here: the archiver uses this module but never the record functions.
        from .records import KEY_ATTRIBUTES

        attribute = index_mismatch.group(1)
        return attribute not in KEY_ATTRIBUTES and (ours is None or attribute not in ours)
    if _TABLE_MESSAGES.search(message):
        return False
    return bool(_ITEM_MESSAGES.search(message))


def describe(exc: BaseException) -> str:
    """``Code: message`` of a botocore error, for logs."""
    if isinstance(exc, ClientError):
        error: dict[str, Any] = exc.response.get("Error", {})
        return f"{error.get('Code', 'Unknown')}: {error.get('Message', '')}"
    return f"{type(exc).__name__}: {exc}"


#: Firehose per-record ``ErrorCode`` values (PutRecordBatch's ``RequestResponses``) that a
#: change of key policy or grant fixes: resending them within the invocation is pointless, so
#: they are reported at once. Every ``KMS.*`` code is one (AWS documents ``KMS.AccessDenied
#: Exception``, ``KMS.DisabledException``, ``KMS.InvalidStateException``,
#: ``KMS.NotFoundException``, ``KMS.OptInRequired``, ``KMS.ThrottlingException`` is the
#: exception: it is throttling); https://docs.aws.amazon.com/firehose/latest/APIReference/
#: API_PutRecordBatch.html
def firehose_entry_is_target_fault(error_code: str) -> bool:
    """True for a per-record Firehose error a configuration change fixes (``KMS.*`` except
    throttling); False for the ones worth resending (``ServiceUnavailableException``,
    ``InternalFailure``, ``KMS.ThrottlingException``)."""
    return error_code.startswith("KMS.") and error_code != "KMS.ThrottlingException"
