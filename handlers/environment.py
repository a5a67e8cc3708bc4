"""The handlers' environment: every variable's name, as constants, and the readers.

The components set these variables and the handlers read them; both (and the tests, bench and
sandbox) use the names from here, so a variable is named in one place. Standard library only:
the Pulumi components import this module, and boto3 is not one of their dependencies.
"""

from __future__ import annotations

import os

from .exceptions import ConfigError

# --- replicator (Kinesis -> DynamoDB in the target account)
#: ``assume-role`` (default) or ``resource-policy``.
ACCESS_MODE = "ACCESS_MODE"
#: Target table name.
TABLE_NAME = "TABLE_NAME"
#: Target table ARN (resource-policy mode addresses the table by ARN).
TABLE_ARN = "TABLE_ARN"
#: Region of the target table.
TARGET_REGION = "TARGET_REGION"
#: Role to assume in the target account (assume-role mode).
WRITER_ROLE_ARN = "WRITER_ROLE_ARN"
#: Session name of that AssumeRole call.
WRITER_ROLE_SESSION_NAME = "WRITER_ROLE_SESSION_NAME"
#: Optional ``sts:ExternalId``.
WRITER_EXTERNAL_ID = "WRITER_EXTERNAL_ID"
#: AssumeRole ``DurationSeconds`` (900..3600, default 3600: role chaining caps it at one hour).
WRITER_SESSION_DURATION_SECONDS = "WRITER_SESSION_DURATION_SECONDS"
#: Concurrent BatchWriteItem calls per invocation (default 4).
MAX_WRITE_CONCURRENCY = "MAX_WRITE_CONCURRENCY"
#: JSON array of attribute paths (``"device.id"``) removed before anything is sent.
DROP_FIELDS = "DROP_FIELDS"
#: JSON array of attribute paths whose values become HMAC-SHA256 hex before anything is sent.
PSEUDONYMIZE_FIELDS = "PSEUDONYMIZE_FIELDS"
#: SSM parameter (SecureString, name or ARN) holding the HMAC key, in the function's account.
PSEUDONYMIZATION_KEY_PARAMETER = "PSEUDONYMIZATION_KEY_PARAMETER"

# --- hot window (replicator and query writer)
#: Name of the TTL expiry attribute (epoch seconds) the handler adds to each item.
TTL_ATTRIBUTE = "TTL_ATTRIBUTE"
#: Days after the record's arrival at which its item expires; unset or 0 adds no attribute.
TTL_DAYS = "TTL_DAYS"

# --- archiver (DynamoDB Streams -> Firehose)
#: Firehose delivery stream.
DELIVERY_STREAM_NAME = "DELIVERY_STREAM_NAME"
#: ``true`` to write tombstone lines for REMOVE events (default ``false``).
ARCHIVE_REMOVES = "ARCHIVE_REMOVES"
#: Concurrent PutRecordBatch calls per invocation (default 4).
MAX_PUT_CONCURRENCY = "MAX_PUT_CONCURRENCY"

# --- query writer (replica table stream -> query table)
#: The query table.
QUERY_TABLE_NAME = "QUERY_TABLE_NAME"
#: Attribute of the source image that is the query table's hash key (e.g. ``userEmail``).
QUERY_HASH_ATTRIBUTE = "QUERY_HASH_ATTRIBUTE"
#: Its DynamoDB type, ``S`` (default) or ``N``.
QUERY_HASH_TYPE = "QUERY_HASH_TYPE"
#: Attribute of the source image that orders a user's events (e.g. ``timestamp``).
QUERY_RANGE_ATTRIBUTE = "QUERY_RANGE_ATTRIBUTE"
#: The query table's range key attribute: ``<range value>#<source key>`` (default ``eventKey``).
QUERY_SORT_KEY_ATTRIBUTE = "QUERY_SORT_KEY_ATTRIBUTE"
#: The source table's own TTL days (its items' expiry = arrival + this): lets the query writer
#: recover the arrival time from the source item's expiry attribute.
SOURCE_TTL_DAYS = "SOURCE_TTL_DAYS"

# --- both
#: Path, inside the function's asset, of the user's transform module (``transform/<file>.py``).
TRANSFORM_MODULE = "TRANSFORM_MODULE"
#: SQS queue that keeps poison records.
DEAD_LETTER_QUEUE_URL = "DEAD_LETTER_QUEUE_URL"
#: Milliseconds of the Lambda timeout kept back from retries (default 10000; at most a quarter
#: of the invocation's time, see ``retry.TimeBudget``).
RETRY_SAFETY_MARGIN_MS = "RETRY_SAFETY_MARGIN_MS"
#: Powertools' own variables.
POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
POWERTOOLS_LOG_LEVEL = "POWERTOOLS_LOG_LEVEL"

#: The metrics namespace when ``POWERTOOLS_METRICS_NAMESPACE`` is unset; also the components'
#: default (``FunctionSettings.metrics_namespace``), so both name the same namespace.
DEFAULT_METRICS_NAMESPACE = "StreamReplica"


def env_str(name: str, default: str | None = None) -> str:
    """The variable's value; ``default`` when unset or blank, else :class:`ConfigError`."""
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if default is None:
        raise ConfigError(f"environment variable {name} is required but not set")
    return default


def env_opt(name: str) -> str | None:
    """The variable's value, or ``None`` when unset or blank."""
    return os.environ.get(name, "").strip() or None


def env_int(name: str, default: int, minimum: int = 1) -> int:
    """The variable as an integer of at least ``minimum``; :class:`ConfigError` otherwise."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"environment variable {name}={raw!r} is not an integer") from None
    if value < minimum:
        raise ConfigError(f"environment variable {name}={value} must be at least {minimum}")
    return value


def env_bool(name: str, default: bool = False) -> bool:
    """The variable as a boolean (true/false, 1/0, yes/no); :class:`ConfigError` otherwise."""
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("true", "1", "yes"):
        return True
    if raw in ("false", "0", "no"):
        return False
    raise ConfigError(f"environment variable {name}={raw!r} is not true/false")


def own_region() -> str | None:
    """The function's own region (Lambda sets ``AWS_REGION``)."""
    return env_opt("AWS_REGION") or env_opt("AWS_DEFAULT_REGION")
