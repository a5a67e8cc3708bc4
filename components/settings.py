"""The settings objects a consumer component takes, their defaults as named objects, and the
merge that fills an args dataclass from them.

* :class:`FunctionSettings`, :class:`MappingSettings`, :class:`AlarmSettings` — every field
  optional; :data:`FUNCTION_DEFAULTS`, :data:`MAPPING_DEFAULTS`, :data:`ALARM_DEFAULTS` hold
  the defaults (each component overrides a few: ``REPLICATOR_FUNCTION_DEFAULTS``, …);
* :func:`merge_settings` lays a partial settings object (or the dict the component provider
  passes) over the defaults field by field; :func:`fill_defaults` does that for every field of
  an args dataclass from its ``*_DEFAULTS`` dict;
* :func:`validate_function`, :func:`validate_mapping`, :func:`validate_alarms` — what AWS
  accepts in each, as :class:`SettingError` naming the field;
* :func:`powertools_layer_arn` — AWS's public Powertools layer a function gets by default;
  :func:`physical_name` — a physical name derived from a component's logical name.
"""

import copy
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass, replace
from datetime import datetime
from typing import Any, TypeVar, get_args

from stream_replica.handlers import environment as env

from .exceptions import SettingError
from .validation import (
    IAM_ROLE_NAME,
    LAMBDA_FUNCTION_NAME,
    LAYER_VERSION_ARN,
    LOG_RETENTION_DAYS,
    check_choice,
    check_name,
    check_range,
)

S = TypeVar("S")

#: How the replicator reaches the target table: by AssumeRole of the writer role, or with its
#: own credentials through the table's resource policy.
ACCESS_MODES: tuple[str, ...] = ("assume-role", "resource-policy")

#: AWS's public Powertools for AWS Lambda (Python) v3 layers live in this account, one layer
#: per Python version and architecture: ``AWSLambdaPowertoolsPythonV3-<python313>-<arm64>``.
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
#: The layer version the Powertools documentation named when this was written; override the
#: whole ARN (``powertools_layer_arn``) to pin another.
POWERTOOLS_LAYER_VERSION = 27
#: Runtimes for which AWS's public Powertools v3 layer is known to exist at
#: :data:`POWERTOOLS_LAYER_VERSION` (https://docs.aws.amazon.com/powertools/python/latest/);
#: another supported runtime needs an explicit ``powertools_layer_arn``.
POWERTOOLS_LAYER_RUNTIMES: tuple[str, ...] = ("python3.12", "python3.13")

DEFAULT_RUNTIME = "python3.13"
SUPPORTED_RUNTIMES: tuple[str, ...] = ("python3.12", "python3.13", "python3.14")
ARCHITECTURES: tuple[str, ...] = ("arm64", "x86_64")
STARTING_POSITIONS: tuple[str, ...] = ("TRIM_HORIZON", "LATEST")
#: A Kinesis source may also start at a time (DynamoDB Streams can't).
KINESIS_STARTING_POSITIONS: tuple[str, ...] = (*STARTING_POSITIONS, "AT_TIMESTAMP")
LOG_LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR")

#: SQS's longest retention, so poison records wait two weeks for someone to look.
MAX_QUEUE_RETENTION_SECONDS = 1_209_600


def powertools_layer_arn(
    region: str,
    runtime: str = DEFAULT_RUNTIME,
    architecture: str = "arm64",
    version: int = POWERTOOLS_LAYER_VERSION,
    partition: str = "aws",
) -> str:
    """AWS's public Powertools v3 layer for this region, Python runtime and architecture."""
    python = runtime.replace(".", "")  # python3.13 -> python313
    return (
        f"arn:{partition}:lambda:{region}:{POWERTOOLS_LAYER_ACCOUNT}:layer:"
        f"AWSLambdaPowertoolsPythonV3-{python}-{architecture}:{version}"
    )


@dataclass
class FunctionSettings:
    """How a consumer function runs. Every field is optional: a field left ``None`` takes the
    component's own default (``REPLICATOR_FUNCTION_DEFAULTS``, ``ARCHIVER_FUNCTION_DEFAULTS``)."""

    name: str | None = None
    """Function name (1..64 of ``A-Za-z0-9-_``); ``None`` lets Pulumi autoname it. A fixed
    name is replaced delete-before-create (function names are unique per account and region)."""
    role_name: str | None = None
    """Execution role name (1..64 of ``A-Za-z0-9+=,.@_-``). The replicator's is always fixed
    (the target half trusts it by ARN): default ``<component name>-replicator``. Other
    functions' roles are autonamed."""
    role_path: str | None = None
    """IAM path of the execution role. Default: ``/``."""
    runtime: str | None = None
    """Lambda Python runtime: ``python3.12``, ``python3.13`` or ``python3.14``.
    Default: ``python3.13``."""
    architecture: str | None = None
    """``arm64`` (cheaper per GB-second) or ``x86_64``. Default: ``arm64``."""
    memory_size: int | None = None
    """Memory in MB, 128..10240 (Lambda quotas); CPU share grows with it. Default: 512 for the
    replicator (CPU-bound), 256 for the archiver."""
    timeout: int | None = None
    """Seconds per invocation, 1..900 (Lambda quotas). Default: 120 for the replicator, 300
    for the archiver."""
    reserved_concurrency: int | None = None
    """Reserved concurrent executions; ``None`` leaves the function unreserved."""
    log_retention_days: int | None = None
    """Retention of the function's log group, one of the values CloudWatch Logs accepts
    (``LOG_RETENTION_DAYS``). Default: 30."""
    dead_letter_retention_seconds: int | None = None
    """How long the function's dead-letter and on-failure queues keep a message, 60..1209600
    seconds (SQS ``MessageRetentionPeriod``). The dead-letter queue holds poison records' raw
    payloads that long. Default: 1209600 (14 days, SQS's maximum)."""
    log_level: str | None = None
    """``POWERTOOLS_LOG_LEVEL`` and the function's application log level: ``DEBUG``, ``INFO``,
    ``WARNING`` or ``ERROR``. Default: ``INFO``."""
    powertools_layer_arn: str | None = None
    """Layer that provides Powertools; ``None`` = AWS's public layer for the region, runtime
    and architecture (:func:`powertools_layer_arn`)."""
    extra_layers: list[str] | None = None
    """Further layer ARNs, after Powertools. Default: none."""
    metrics_namespace: str | None = None
    """CloudWatch namespace of the handler's embedded metrics (``POWERTOOLS_METRICS_NAMESPACE``).
    Default: ``StreamReplica``."""
    service_name: str | None = None
    """Service name of the logs and the metrics' ``service`` dimension
    (``POWERTOOLS_SERVICE_NAME``), so two pipelines don't share one metric series.
    Default: the component's logical name."""


@dataclass
class MappingSettings:
    """How Lambda feeds a stream to the function, and what happens when a batch keeps failing.
    Every field is optional: a field left ``None`` takes ``MAPPING_DEFAULTS``' value."""

    batch_size: int | None = None
    """Records per invocation, 1..10000 (Lambda ``CreateEventSourceMapping``). Default: 300."""
    starting_position: str | None = None
    """Where a new mapping starts: ``TRIM_HORIZON`` (everything retained) or ``LATEST``; on a
    Kinesis source also ``AT_TIMESTAMP`` (with ``starting_position_timestamp``).
    Default: ``TRIM_HORIZON``."""
    starting_position_timestamp: str | None = None
    """With ``AT_TIMESTAMP`` only: the RFC 3339 time (e.g. ``2026-01-31T12:00:00Z``) a new
    mapping starts reading at (the oldest record still retained if older). Changing it
    replaces the mapping. Default: none."""
    maximum_batching_window_in_seconds: int | None = None
    """Seconds Lambda may wait to fill a batch, 0..300. Default: 0."""
    parallelization_factor: int | None = None
    """Concurrent batches per shard, 1..10. Default: 1."""
    maximum_retry_attempts: int | None = None
    """Retries of a failing batch before it goes to the on-failure destination, 0..10000
    (finite, never -1). Default: 10; more warns."""
    maximum_record_age_in_seconds: int | None = None
    """Records older than this go to the on-failure destination instead, 60..604800.
    Default: 21600 (6 hours)."""
    bisect_batch_on_function_error: bool | None = None
    """Split a failing batch in two to isolate the bad record. Default: true; false warns."""
    enabled: bool | None = None
    """Whether the mapping polls. Default: true."""


@dataclass
class AlarmSettings:
    """Thresholds and actions of a consumer's alarms. Every field is optional: a field left
    ``None`` takes ``ALARM_DEFAULTS``' value."""

    enabled: bool | None = None
    """Create the alarms. Default: true."""
    topic_arn: str | None = None
    """SNS topic notified on alarm and on recovery; ``None`` = alarms without actions."""
    iterator_age_ms: int | None = None
    """Alarm when the oldest record a batch carries is older than this, 1000..604800000 ms.
    Default: 300000 (5 minutes)."""
    period_seconds: int | None = None
    """Metric period, a multiple of 60 s. Default: 60."""
    evaluation_periods: int | None = None
    """Consecutive breaching periods before the iterator-age alarm fires, at least 1.
    Default: 5."""


#: Defaults every consumer function shares; each component overrides a few
#: (``REPLICATOR_FUNCTION_DEFAULTS``, ``ARCHIVER_FUNCTION_DEFAULTS``).
FUNCTION_DEFAULTS = FunctionSettings(
    role_path="/",
    runtime=DEFAULT_RUNTIME,
    architecture="arm64",
    memory_size=256,
    timeout=120,
    log_retention_days=30,
    dead_letter_retention_seconds=MAX_QUEUE_RETENTION_SECONDS,
    log_level="INFO",
    extra_layers=[],
    metrics_namespace=env.DEFAULT_METRICS_NAMESPACE,
)
#: Defaults of both event source mappings.
MAPPING_DEFAULTS = MappingSettings(
    batch_size=300,
    starting_position="TRIM_HORIZON",
    maximum_batching_window_in_seconds=0,
    parallelization_factor=1,
    maximum_retry_attempts=10,
    maximum_record_age_in_seconds=21_600,
    bisect_batch_on_function_error=True,
    enabled=True,
)
#: Defaults of every consumer's alarms.
ALARM_DEFAULTS = AlarmSettings(
    enabled=True, iterator_age_ms=300_000, period_seconds=60, evaluation_periods=5
)


def merge_settings(defaults: S, override: Any) -> S:
    """``defaults`` with every field that ``override`` sets (not ``None``) taken from it.

    ``override`` is ``None``, an instance of the same settings class, or a dict of its field
    names (what Pulumi's multi-language provider passes). Nested settings merge field by field,
    so a partial override never drops the component's other defaults. Raises
    :class:`SettingError` for a dict key the class doesn't have, :class:`TypeError` for
    another type.
    """
    owner = type(defaults).__name__
    if override is None:
        return replace(defaults)  # type: ignore[type-var]
    if isinstance(override, Mapping):
        known = {f.name for f in fields(defaults)}  # type: ignore[arg-type]
        unknown = sorted(set(override) - known)
        if unknown:
            raise SettingError(owner, unknown[0], f"is not a field of {owner}")
        values: Mapping[str, Any] = override
    elif isinstance(override, type(defaults)):
        values = {f.name: getattr(override, f.name) for f in fields(override)}  # type: ignore[arg-type]
    else:
        raise TypeError(f"expected {owner} or a dict, got {type(override).__name__}")
    changes: dict[str, Any] = {}
    for name, value in values.items():
        if value is None:
            continue
        current = getattr(defaults, name)
        if is_dataclass(current) and not isinstance(current, type):
            value = merge_settings(current, value)
        changes[name] = value
    return whole_numbers(replace(defaults, **changes))  # type: ignore[type-var]


def whole_numbers(settings: S) -> S:
    """``settings`` (a dataclass), in place: an ``int`` field holding a whole ``float`` gets the
    ``int``. Numbers cross Pulumi's gRPC protocol as doubles, and the multi-language provider
    passes nested ones on unconverted (``memory_size=1024.0``); ``1024.5`` stays and fails
    the field's check."""
    for f in fields(settings):  # type: ignore[arg-type]
        value = getattr(settings, f.name)
        if isinstance(value, float) and value.is_integer() and _allows_int(f.type):
            setattr(settings, f.name, int(value))
    return settings


def _allows_int(annotation: Any) -> bool:
    return annotation is int or int in get_args(annotation)


def fill_defaults(args: Any, defaults: Mapping[str, Any]) -> None:
    """In place: every field of the args dataclass ``args`` named in ``defaults`` that is
    ``None`` takes its default; settings objects (dataclass defaults) merge field by field
    over the default (:func:`merge_settings`). Lists are copied, never shared. Whole numbers
    the multi-language provider passes as floats become ints (:func:`whole_numbers`)."""
    whole_numbers(args)
    for name, default in defaults.items():
        current = getattr(args, name)
        if is_dataclass(default) and not isinstance(default, type):
            setattr(args, name, merge_settings(default, current))
        elif current is None:
            setattr(args, name, copy.deepcopy(default))


def physical_name(name: str, suffix: str, max_length: int, allowed: str = "A-Za-z0-9-") -> str:
    """A physical name derived from a component's logical ``name``: ``<name>-<suffix>``, with
    characters outside ``allowed`` (a regex character class body) replaced by ``-``, and cut to
    ``max_length`` with a 7-character hash of the full name when it is longer, so two long
    logical names never collide by truncation."""
    full = f"{name}-{suffix}" if suffix else name
    clean = re.sub(f"[^{allowed}]", "-", full)
    if len(clean) <= max_length:
        return clean
    digest = hashlib.sha256(full.encode("utf-8")).hexdigest()[:7]
    return f"{clean[: max_length - 8].rstrip('-')}-{digest}"


def validate_function(settings: FunctionSettings, owner: str, prefix: str = "function") -> None:
    """:class:`SettingError` naming ``<owner>.<prefix>.<field>`` for values AWS would reject."""
    check_choice(owner, f"{prefix}.runtime", settings.runtime, SUPPORTED_RUNTIMES)
    if settings.powertools_layer_arn is None and settings.runtime not in POWERTOOLS_LAYER_RUNTIMES:
        raise SettingError(
            owner,
            f"{prefix}.runtime",
            f"{settings.runtime}: AWS's Powertools layer is known to exist only for "
            f"{', '.join(POWERTOOLS_LAYER_RUNTIMES)}; set {prefix}.powertools_layer_arn to a "
            f"Powertools v3 layer for {settings.runtime}",
        )
    layer = settings.powertools_layer_arn
    if isinstance(layer, str) and not LAYER_VERSION_ARN.fullmatch(layer):
        raise SettingError(
            owner,
            f"{prefix}.powertools_layer_arn",
            "must be a Lambda layer version ARN "
            f"(arn:aws:lambda:<region>:<account>:layer:<name>:<version>), got {layer!r}",
        )
    check_choice(owner, f"{prefix}.architecture", settings.architecture, ARCHITECTURES)
    check_range(owner, f"{prefix}.memory_size", settings.memory_size, 128, 10240, "Lambda quotas")
    check_range(owner, f"{prefix}.timeout", settings.timeout, 1, 900, "Lambda quotas")
    check_choice(
        owner, f"{prefix}.log_retention_days", settings.log_retention_days, LOG_RETENTION_DAYS
    )
    check_choice(owner, f"{prefix}.log_level", settings.log_level, LOG_LEVELS)
    check_range(
        owner,
        f"{prefix}.dead_letter_retention_seconds",
        settings.dead_letter_retention_seconds,
        60,
        MAX_QUEUE_RETENTION_SECONDS,
        "SQS MessageRetentionPeriod",
    )
    check_name(owner, f"{prefix}.name", settings.name, LAMBDA_FUNCTION_NAME)
    check_name(owner, f"{prefix}.role_name", settings.role_name, IAM_ROLE_NAME)
    if settings.reserved_concurrency is not None:
        check_range(
            owner, f"{prefix}.reserved_concurrency", settings.reserved_concurrency, 0, 100_000
        )


def validate_mapping(
    settings: MappingSettings, owner: str, prefix: str = "mapping", *, kinesis: bool = False
) -> None:
    """:class:`SettingError` naming ``<owner>.<prefix>.<field>`` for values Lambda's
    ``CreateEventSourceMapping`` would reject; ``kinesis``: the source is a Kinesis stream
    (which may start ``AT_TIMESTAMP``), not a DynamoDB stream."""
    check_range(owner, f"{prefix}.batch_size", settings.batch_size, 1, 10000)
    positions = KINESIS_STARTING_POSITIONS if kinesis else STARTING_POSITIONS
    check_choice(owner, f"{prefix}.starting_position", settings.starting_position, positions)
    timestamp = settings.starting_position_timestamp
    if settings.starting_position == "AT_TIMESTAMP":
        try:
            parsed = datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
        except ValueError:
            parsed = None
        if parsed is None or parsed.tzinfo is None:
            raise SettingError(
                owner,
                f"{prefix}.starting_position_timestamp",
                f"must be an RFC 3339 time with a zone (AT_TIMESTAMP), got {timestamp!r}",
            )
    elif timestamp is not None:
        raise SettingError(
            owner,
            f"{prefix}.starting_position_timestamp",
            f"is only used with starting_position AT_TIMESTAMP, got {settings.starting_position!r}",
        )
    check_range(
        owner,
        f"{prefix}.maximum_batching_window_in_seconds",
        settings.maximum_batching_window_in_seconds,
        0,
        300,
    )
    check_range(owner, f"{prefix}.parallelization_factor", settings.parallelization_factor, 1, 10)
    check_range(
        owner, f"{prefix}.maximum_retry_attempts", settings.maximum_retry_attempts, 0, 10000
    )
    check_range(
        owner,
        f"{prefix}.maximum_record_age_in_seconds",
        settings.maximum_record_age_in_seconds,
        60,
        604800,
    )


def validate_alarms(settings: AlarmSettings, owner: str, prefix: str = "alarms") -> None:
    """:class:`SettingError` naming ``<owner>.<prefix>.<field>`` for values CloudWatch would
    reject."""
    check_range(owner, f"{prefix}.iterator_age_ms", settings.iterator_age_ms, 1000, 604_800_000)
    period = settings.period_seconds
    if period is None or period < 60 or period % 60:
        raise SettingError(
            owner, f"{prefix}.period_seconds", f"must be a multiple of 60, got {period!r}"
        )
    check_range(owner, f"{prefix}.evaluation_periods", settings.evaluation_periods, 1, 100)
