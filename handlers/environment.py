"""The handlers' environment: every variable's name, as constants; which handler reads it, its
default and meaning (:data:`VARIABLES`); and the readers.

The components set these variables and the handlers read them; both (and the tests, bench and
sandbox) use the names from here, so a variable is named and described in one place
(docs/handlers.md's table is generated from :data:`VARIABLES`). Standard library only: the
Pulumi components import this module, and boto3 is not one of their dependencies.
"""

from __future__ import annotations

import os

from .exceptions import ConfigError

#: The handler modules that read the variables below (``handlers/<name>.py``).
REPLICATOR = "replicator"
ARCHIVER = "archiver"
QUERY_WRITER = "query_writer"
ALL_HANDLERS = (REPLICATOR, ARCHIVER, QUERY_WRITER)

# --- replicator (Kinesis -> DynamoDB in the target account)
ACCESS_MODE = "ACCESS_MODE"
TABLE_NAME = "TABLE_NAME"
TABLE_ARN = "TABLE_ARN"
TARGET_REGION = "TARGET_REGION"
WRITER_ROLE_ARN = "WRITER_ROLE_ARN"
WRITER_ROLE_SESSION_NAME = "WRITER_ROLE_SESSION_NAME"
WRITER_EXTERNAL_ID = "WRITER_EXTERNAL_ID"
WRITER_SESSION_DURATION_SECONDS = "WRITER_SESSION_DURATION_SECONDS"
MAX_WRITE_CONCURRENCY = "MAX_WRITE_CONCURRENCY"
DROP_FIELDS = "DROP_FIELDS"
PSEUDONYMIZE_FIELDS = "PSEUDONYMIZE_FIELDS"
PSEUDONYMIZATION_KEY_PARAMETER = "PSEUDONYMIZATION_KEY_PARAMETER"

# --- hot window (replicator and query writer)
TTL_ATTRIBUTE = "TTL_ATTRIBUTE"
TTL_DAYS = "TTL_DAYS"

# --- archiver (DynamoDB Streams -> Firehose)
DELIVERY_STREAM_NAME = "DELIVERY_STREAM_NAME"
ARCHIVE_REMOVES = "ARCHIVE_REMOVES"
MAX_PUT_CONCURRENCY = "MAX_PUT_CONCURRENCY"

# --- query writer (replica table stream -> query table)
QUERY_TABLE_NAME = "QUERY_TABLE_NAME"
QUERY_HASH_ATTRIBUTE = "QUERY_HASH_ATTRIBUTE"
QUERY_HASH_TYPE = "QUERY_HASH_TYPE"
QUERY_RANGE_ATTRIBUTE = "QUERY_RANGE_ATTRIBUTE"
QUERY_SORT_KEY_ATTRIBUTE = "QUERY_SORT_KEY_ATTRIBUTE"
SOURCE_TTL_DAYS = "SOURCE_TTL_DAYS"

# --- several handlers
TRANSFORM_MODULE = "TRANSFORM_MODULE"
DEAD_LETTER_QUEUE_URL = "DEAD_LETTER_QUEUE_URL"
RETRY_SAFETY_MARGIN_MS = "RETRY_SAFETY_MARGIN_MS"
#: Powertools' own variables.
POWERTOOLS_SERVICE_NAME = "POWERTOOLS_SERVICE_NAME"
POWERTOOLS_METRICS_NAMESPACE = "POWERTOOLS_METRICS_NAMESPACE"
POWERTOOLS_LOG_LEVEL = "POWERTOOLS_LOG_LEVEL"

#: The metrics namespace when ``POWERTOOLS_METRICS_NAMESPACE`` is unset; also the components'
#: default (``FunctionSettings.metrics_namespace``), so both name the same namespace.
DEFAULT_METRICS_NAMESPACE = "StreamReplica"


#: One variable a handler reads: ``(name, handlers, default, meaning)``. ``handlers``: the handler
#: modules that read it (:data:`REPLICATOR`, :data:`ARCHIVER`, :data:`QUERY_WRITER`); ``default``:
#: what the handler does when it is unset (a value, ``none`` or ``required``); ``meaning``: what it
#: holds. Both are Markdown. Plain tuples: this module is in every function's asset and is
#: compiled at each cold start.
Variable = tuple[str, tuple[str, ...], str, str]

#: Every variable a handler reads, in the order of docs/handlers.md's table (generated from this
#: by ``make docs``); a test checks it against what each handler's modules read.
VARIABLES: tuple[Variable, ...] = (
    (
        ACCESS_MODE,
        (REPLICATOR,),
        "`assume-role`",
        "`assume-role` or `resource-policy` (the execution role's own credentials, table by ARN; "
        "also what `placement: target` sets, where the table is in the function's own account)",
    ),
    (
        TABLE_NAME,
        (REPLICATOR,),
        "required in assume-role mode unless `TABLE_ARN` is set",
        "replica table name (assume-role mode writes by name)",
    ),
    (
        TABLE_ARN,
        (REPLICATOR,),
        "required in resource-policy mode",
        "replica table ARN (resource-policy mode writes by ARN; its region is used if "
        "`TARGET_REGION` is unset)",
    ),
    (
        TARGET_REGION,
        (REPLICATOR,),
        "the ARN's, else `AWS_REGION`",
        "region of the replica table",
    ),
    (
        WRITER_ROLE_ARN,
        (REPLICATOR,),
        "required in assume-role mode",
        "role assumed in the target account (assume-role mode)",
    ),
    (
        WRITER_ROLE_SESSION_NAME,
        (REPLICATOR,),
        "`stream-replica-writer`; `ReplicaSource` always sets it from "
        "`ReplicaSourceArgs.session_name` (default `stream-replica`, so that is what CloudTrail "
        "shows for a deployed replicator)",
        "`RoleSessionName` of the AssumeRole call: the session name the target account's "
        "CloudTrail shows",
    ),
    (
        WRITER_EXTERNAL_ID,
        (REPLICATOR,),
        "none",
        "`ExternalId` of the AssumeRole call",
    ),
    (
        WRITER_SESSION_DURATION_SECONDS,
        (REPLICATOR,),
        "3600",
        "`DurationSeconds` of the AssumeRole call, 900..3600 (role chaining caps it at 1 h)",
    ),
    (
        MAX_WRITE_CONCURRENCY,
        (REPLICATOR, QUERY_WRITER),
        "4",
        "BatchWriteItem calls in flight at once",
    ),
    (
        DROP_FIELDS,
        (REPLICATOR,),
        "none",
        'JSON array of attribute paths (`"device.id"`) removed before anything is sent',
    ),
    (
        PSEUDONYMIZE_FIELDS,
        (REPLICATOR,),
        "none",
        "JSON array of attribute paths whose values become HMAC-SHA256 (hex) before anything "
        "is sent",
    ),
    (
        PSEUDONYMIZATION_KEY_PARAMETER,
        (REPLICATOR,),
        "required with `PSEUDONYMIZE_FIELDS`",
        "SSM SecureString parameter (name or ARN, in the function's own account) holding the "
        "HMAC key, ≥ 32 bytes",
    ),
    (
        TTL_DAYS,
        (REPLICATOR, QUERY_WRITER),
        "0",
        "days after the record's arrival at which its item expires (DynamoDB TTL); 0 adds no "
        "expiry attribute",
    ),
    (
        TTL_ATTRIBUTE,
        (REPLICATOR, QUERY_WRITER),
        "`expiresAt` (replicator); required with `TTL_DAYS` (query writer)",
        "name of the expiry attribute (epoch seconds) added to each item when `TTL_DAYS` is set",
    ),
    (
        DELIVERY_STREAM_NAME,
        (ARCHIVER,),
        "required",
        "Firehose delivery stream",
    ),
    (
        ARCHIVE_REMOVES,
        (ARCHIVER,),
        "`false`",
        "`true`: write a tombstone line for REMOVE events",
    ),
    (
        MAX_PUT_CONCURRENCY,
        (ARCHIVER,),
        "4",
        "PutRecordBatch calls in flight at once",
    ),
    (
        QUERY_TABLE_NAME,
        (QUERY_WRITER,),
        "required",
        "the query table",
    ),
    (
        QUERY_HASH_ATTRIBUTE,
        (QUERY_WRITER,),
        "required",
        "attribute of the replica item that is the query table's hash key (e.g. `userEmail`)",
    ),
    (
        QUERY_HASH_TYPE,
        (QUERY_WRITER,),
        "`S`",
        "DynamoDB type of that attribute, `S` or `N`",
    ),
    (
        QUERY_RANGE_ATTRIBUTE,
        (QUERY_WRITER,),
        "required",
        "attribute of the replica item that orders a user's events (e.g. `timestamp`)",
    ),
    (
        QUERY_SORT_KEY_ATTRIBUTE,
        (QUERY_WRITER,),
        "`eventKey`",
        "the query table's range key attribute: `<range value>#<source key>`",
    ),
    (
        SOURCE_TTL_DAYS,
        (QUERY_WRITER,),
        "0",
        "the replica table's own TTL days: the query writer recovers an event's arrival time "
        "from the replica item's expiry (its expiry minus these days); 0: from the stream record's "
        "creation time",
    ),
    (
        TRANSFORM_MODULE,
        (REPLICATOR, ARCHIVER),
        "none",
        "path, in the function's asset, of the user's transform file (`transform/<file>.py`)",
    ),
    (
        DEAD_LETTER_QUEUE_URL,
        ALL_HANDLERS,
        "none: poison records are reported for retry instead",
        "SQS queue (own account) that keeps poison records",
    ),
    (
        RETRY_SAFETY_MARGIN_MS,
        ALL_HANDLERS,
        "10000",
        "milliseconds of the Lambda timeout kept back from retries: no new attempt starts inside "
        "it (at most a quarter of the invocation's time; the first write call is always made)",
    ),
    (
        POWERTOOLS_SERVICE_NAME,
        ALL_HANDLERS,
        "the handler's name: `replicator`, `archiver`, `query-writer`",
        "Powertools' service name (log field, metrics dimension `service`); the components set "
        "it from `FunctionSettings.service_name` (default: the component's logical name, e.g. "
        "`clicks-source`)",
    ),
    (
        POWERTOOLS_METRICS_NAMESPACE,
        ALL_HANDLERS,
        "`StreamReplica` (`DEFAULT_METRICS_NAMESPACE`, the components' default too)",
        "CloudWatch namespace of the metrics; the components set it from "
        "`FunctionSettings.metrics_namespace`",
    ),
    (
        POWERTOOLS_LOG_LEVEL,
        ALL_HANDLERS,
        "`INFO`",
        "log level, read by Powertools itself; the components set it from "
        "`FunctionSettings.log_level`",
    ),
)


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
