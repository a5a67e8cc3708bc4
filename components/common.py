"""Pieces both stream consumers share: function settings, mapping settings, and the resources of
"a Lambda function fed by an event source mapping, with its dead-letter queues".

The replicator (prod) and the archiver (POC) are built the same way:

1. :func:`create_consumer_base` — execution role (trusting Lambda), log group with retention, the
   poison-record dead-letter queue and the mapping's on-failure queue (both SSE, 1 MiB messages);
2. the caller renders the role's inline policy from those resources' ARNs (``policies.py``);
3. :func:`create_consumer_function` — the role policy, the function (code from ``assets.py``,
   Powertools from a layer) and its event source mapping, both ``depends_on`` the role policy
   (IAM is eventually consistent and Lambda checks the role when it creates the mapping), plus
   the alarms.
"""

import copy
import hashlib
import inspect
import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, Literal, NamedTuple, TypeVar, cast, get_args

import pulumi
import pulumi_aws as aws
from pulumi.output import UNKNOWN
from stream_replica.handlers import environment as env

from . import alarms, assets, policies
from .exceptions import SettingError

S = TypeVar("S")
T = TypeVar("T")

AccessMode = Literal["assume-role", "resource-policy"]
ACCESS_MODES: tuple[str, ...] = ("assume-role", "resource-policy")

#: AWS's public Powertools for AWS Lambda (Python) v3 layers live in this account, one layer
#: per Python version and architecture: ``AWSLambdaPowertoolsPythonV3-<python313>-<arm64>``.
POWERTOOLS_LAYER_ACCOUNT = "017000801446"
#: The layer version the Powertools documentation named when this was written; override the
#: whole ARN (``powertools_layer_arn``) to pin another.
POWERTOOLS_LAYER_VERSION = 27

DEFAULT_RUNTIME = "python3.13"
SUPPORTED_RUNTIMES: tuple[str, ...] = ("python3.12", "python3.13", "python3.14")
ARCHITECTURES: tuple[str, ...] = ("arm64", "x86_64")
STARTING_POSITIONS: tuple[str, ...] = ("TRIM_HORIZON", "LATEST")

#: SQS's largest message (1 MiB): a poison record plus its metadata must fit.
MAX_QUEUE_MESSAGE_BYTES = 1_048_576
#: SQS's longest retention, so poison records wait two weeks for someone to look.
MAX_QUEUE_RETENTION_SECONDS = 1_209_600

#: ASCII digits only (``\d`` would take other scripts' digits too); always ``fullmatch``ed, so a
#: trailing newline from a YAML block scalar is refused.
_ACCOUNT_ID = re.compile(r"[0-9]{12}")
#: An AWS region name (``eu-west-1``, ``us-gov-west-1``, ``us-iso-east-1``).
_REGION = re.compile(r"[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-[0-9]")
#: Runtimes for which AWS's public Powertools v3 layer is known to exist at
#: :data:`POWERTOOLS_LAYER_VERSION` (https://docs.aws.amazon.com/powertools/python/latest/);
#: another supported runtime needs an explicit ``powertools_layer_arn``.
POWERTOOLS_LAYER_RUNTIMES: tuple[str, ...] = ("python3.12", "python3.13")
#: Tags AWS reserves (``aws:``) and the ones the program always sets on every resource.
RESERVED_TAG_PREFIX = "aws:"
ALWAYS_SET_TAGS: tuple[str, ...] = ("project", "stack", "component")
#: Tag key and value length limits
#: (https://docs.aws.amazon.com/tag-editor/latest/userguide/tagging.html).
MAX_TAG_KEY_LENGTH = 128
MAX_TAG_VALUE_LENGTH = 256

#: Lambda's application log levels spell WARNING as WARN (Powertools takes either).
_LAMBDA_LOG_LEVELS = {"WARNING": "WARN"}


def check_account_id(owner: str, field_name: str, value: Any) -> None:
    """:class:`SettingError` unless ``value`` is exactly a 12-digit AWS account id (a trailing
    newline from a YAML block scalar is refused too). An Output (an ``Input`` another resource
    or language passes) is not known yet: :func:`checked_account_id` checks it once it is."""
    if is_output(value):
        return
    if not isinstance(value, str) or not _ACCOUNT_ID.fullmatch(value):
        raise SettingError(owner, field_name, f"must be a 12-digit AWS account id, got {value!r}")


def is_output(value: Any) -> bool:
    """Whether ``value`` is an Output (or another awaitable ``Input``), not a plain value."""
    return isinstance(value, pulumi.Output) or inspect.isawaitable(value)


def lift(fn: Callable[..., T], *values: Any) -> pulumi.Input[T]:
    """``fn(*values)`` right away when every value is plain (the Python API with strings), or an
    Output that calls ``fn`` once they are known when any is an Output (an ``Input[str]`` from
    another resource, or from a program in another language through the component provider).
    So plain inputs keep giving plain values (deterministic names, IAM documents at preview)."""
    if any(is_output(v) for v in values):
        return pulumi.Output.all(*values).apply(lambda known: fn(*known))
    return fn(*values)


def checked_account_id(owner: str, field_name: str, value: Any) -> pulumi.Input[str]:
    """``value`` after :func:`check_account_id`: now when plain, when known when an Output."""

    def check(known: Any) -> str:
        check_account_id(owner, field_name, known)
        return str(known)

    return lift(check, value)


def check_region(owner: str, field_name: str, value: Any) -> None:
    """:class:`SettingError` unless ``value`` (when known: a ``str``) is an AWS region name."""
    if isinstance(value, str) and not _REGION.fullmatch(value):
        raise SettingError(owner, field_name, f"is not an AWS region, got {value!r}")


def arn_account(value: Any) -> str | None:
    """The account id field of an ARN given as a ``str`` (None for an Output or no account)."""
    if not isinstance(value, str) or value.count(":") < 5:
        return None
    return value.split(":")[4] or None


def arn_region(value: Any) -> str | None:
    """The region field of an ARN given as a ``str`` (None for an Output or no region)."""
    if not isinstance(value, str) or value.count(":") < 5:
        return None
    return value.split(":")[3] or None


#: ``sts:ExternalId``: 2..1224 of these, no spaces (STS API reference, ``AssumeRole``
#: ExternalId). The trust policy's condition would accept any string; STS refuses the call.
EXTERNAL_ID = re.compile(r"[A-Za-z0-9_+=,.@:/-]{2,1224}")


def check_external_id(owner: str, field_name: str, value: Any, access_mode: str | None) -> None:
    """:class:`SettingError` for an ExternalId STS refuses, or one given in ``resource-policy``
    mode (there is no AssumeRole there, so it would be set but ignored)."""
    if value is None:
        return
    if not isinstance(value, str) or not EXTERNAL_ID.fullmatch(value):
        raise SettingError(
            owner,
            field_name,
            "must be 2..1224 characters of A-Z a-z 0-9 and _+=,.@:/- with no spaces (STS "
            f"AssumeRole ExternalId), got {value!r}",
        )
    if access_mode == "resource-policy":
        raise SettingError(
            owner,
            field_name,
            "is only used in assume-role mode (the sts:ExternalId of the AssumeRole call); "
            "remove it, or use access_mode assume-role",
        )


def check_tags(owner: str, field_name: str, tags: Any, reserved: tuple[str, ...] = ()) -> None:
    """:class:`SettingError` for tags AWS refuses: a key with the reserved ``aws:`` prefix, keys
    over 128 or values over 256 characters, an empty key; and any key in ``reserved`` (the
    program passes the ``project``/``stack``/``component`` tags it always sets; a component
    user's own ``project`` tag is theirs)."""
    if not tags:
        return
    if not isinstance(tags, Mapping):
        raise SettingError(
            owner, field_name, f"must be a mapping of tag keys to values, got {tags!r}"
        )
    for key, value in tags.items():
        if not isinstance(key, str) or not key:
            raise SettingError(owner, field_name, f"has an empty tag key ({key!r})")
        if key.lower().startswith(RESERVED_TAG_PREFIX):
            raise SettingError(
                owner, field_name, f"tag {key!r}: the aws: prefix is reserved for AWS's own tags"
            )
        if key in reserved:
            raise SettingError(
                owner,
                field_name,
                f"tag {key!r} is always set by the program ({', '.join(reserved)}); "
                "use another key",
            )
        if len(key) > MAX_TAG_KEY_LENGTH:
            raise SettingError(
                owner, field_name, f"tag key {key[:20]!r}… is over {MAX_TAG_KEY_LENGTH} characters"
            )
        if not isinstance(value, str) or len(value) > MAX_TAG_VALUE_LENGTH:
            raise SettingError(
                owner,
                field_name,
                f"tag {key!r}: the value must be a string of at most {MAX_TAG_VALUE_LENGTH} "
                "characters",
            )


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
    """Where a new mapping starts: ``TRIM_HORIZON`` (everything retained) or ``LATEST``.
    Default: ``TRIM_HORIZON``."""
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


def must(value: T | None, owner: str, field_name: str) -> T:
    """``value``, or :class:`SettingError` when a required argument is ``None``."""
    if value is None:
        raise SettingError(owner, field_name, "is required")
    return value


def check_range(
    owner: str, field_name: str, value: int | None, low: int, high: int, source: str = ""
) -> None:
    """:class:`SettingError` unless ``low <= value <= high`` (``source``: the AWS doc)."""
    if value is None or isinstance(value, bool) or not isinstance(value, int):
        raise SettingError(owner, field_name, f"must be an integer {low}..{high}, got {value!r}")
    if not low <= value <= high:
        where = f" ({source})" if source else ""
        raise SettingError(owner, field_name, f"must be {low}..{high}{where}, got {value}")


def check_choice(owner: str, field_name: str, value: Any, choices: Sequence[Any]) -> None:
    """:class:`SettingError` unless ``value`` is one of ``choices``."""
    if value not in choices:
        allowed = ", ".join(str(c) for c in choices)
        raise SettingError(owner, field_name, f"must be one of {allowed}, got {value!r}")


def check_name(owner: str, field_name: str, value: str | None, pattern: re.Pattern[str]) -> None:
    """:class:`SettingError` unless ``value`` (when set) fully matches ``pattern``."""
    if value is not None and not (isinstance(value, str) and pattern.fullmatch(value)):
        raise SettingError(
            owner, field_name, f"must match {pattern.pattern} (AWS naming rules), got {value!r}"
        )


#: Firehose delivery stream names: 1..64 of these (Firehose ``CreateDeliveryStream``
#: DeliveryStreamName).
DELIVERY_STREAM_NAME = re.compile(r"[A-Za-z0-9_.-]{1,64}")
#: Lambda layer version ARNs (Lambda API reference, ``Layers`` of ``CreateFunction``).
LAYER_VERSION_ARN = re.compile(
    r"arn:aws[a-z-]*:lambda:[a-z]{2}(-gov)?-[a-z]+-\d:\d{12}:layer:[A-Za-z0-9_-]{1,140}:\d+"
)
#: General purpose bucket names: 3..63 lower-case letters, digits, dots and hyphens, starting
#: and ending with a letter or digit, no two adjacent dots (S3 User Guide, "General purpose
#: bucket naming rules").
_BUCKET_NAME = re.compile(r"(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]")
_IP_ADDRESS = re.compile(r"\d{1,3}(\.\d{1,3}){3}")
_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_BUCKET_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


def check_bucket_name(owner: str, field_name: str, value: Any) -> None:
    """:class:`SettingError` for an S3 general purpose bucket name S3 refuses (when given)."""
    if value is None or is_output(value):
        return
    rules = "S3 general purpose bucket naming rules"
    if not isinstance(value, str) or not _BUCKET_NAME.fullmatch(value):
        raise SettingError(
            owner,
            field_name,
            "must be 3..63 characters of lower-case letters, digits, dots and hyphens, "
            f"starting and ending with a letter or digit, no '..' ({rules}), got {value!r}",
        )
    if _IP_ADDRESS.fullmatch(value):
        raise SettingError(
            owner, field_name, f"must not be formatted as an IP address ({rules}), got {value!r}"
        )
    if value.startswith(_BUCKET_PREFIXES) or value.endswith(_BUCKET_SUFFIXES):
        raise SettingError(
            owner,
            field_name,
            f"uses a prefix or suffix S3 reserves ({', '.join(_BUCKET_PREFIXES)}; "
            f"{', '.join(_BUCKET_SUFFIXES)}; {rules}), got {value!r}",
        )


#: Kinesis stream names: 1..128 of these (Kinesis API reference, ``CreateStream`` StreamName).
KINESIS_STREAM_NAME = re.compile(r"[A-Za-z0-9_.-]{1,128}")
#: A Kinesis stream ARN (Kinesis API reference, StreamARN).
_STREAM_ARN = re.compile(
    r"arn:aws[a-z-]*:kinesis:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"stream/(?P<name>[A-Za-z0-9_.-]{1,128})"
)


def check_stream(owner: str, name: Any, arn: Any, region: Any, account: Any) -> None:
    """:class:`SettingError` for a ``source_stream_name`` Kinesis refuses, or a
    ``source_stream_arn`` that is not a Kinesis stream ARN, names another stream than
    ``source_stream_name``, or is in another ``region`` (an event source mapping reads a stream
    of its own region) or ``account`` than the stream's. Outputs are not known yet: skipped."""
    check_name(owner, "source_stream_name", name or None, KINESIS_STREAM_NAME)
    if not isinstance(arn, str):
        return
    match = _STREAM_ARN.fullmatch(arn)
    if not match:
        raise SettingError(
            owner,
            "source_stream_arn",
            f"must be a Kinesis stream ARN (arn:aws:kinesis:<region>:<account>:stream/<name>), "
            f"got {arn!r}",
        )
    arn_region, arn_account, arn_name = match.group("region", "account", "name")
    if name and arn_name != name:
        raise SettingError(
            owner,
            "source_stream_arn",
            f"names stream {arn_name!r}, but source_stream_name is {name!r}: give one of them, "
            "or the same stream in both",
        )
    if isinstance(region, str) and arn_region != region:
        raise SettingError(
            owner,
            "source_stream_arn",
            f"is in region {arn_region}, not the stack's region {region}: an event source "
            "mapping reads a stream in its own region",
        )
    if isinstance(account, str) and arn_account != account:
        raise SettingError(
            owner,
            "source_stream_arn",
            f"is in account {arn_account}, not the stream's account {account}",
        )


#: IAM role names: 1..64 of these (IAM quotas, "IAM name requirements").
IAM_ROLE_NAME = re.compile(r"[\w+=,.@-]{1,64}")
#: Lambda function names: 1..64 of these (Lambda ``CreateFunction`` FunctionName).
LAMBDA_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")
#: CloudWatch Logs accepts only these retention periods (``PutRetentionPolicy``).
LOG_RETENTION_DAYS: tuple[int, ...] = (
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557,
    2922, 3288, 3653,
)  # fmt: skip
LOG_LEVELS: tuple[str, ...] = ("DEBUG", "INFO", "WARNING", "ERROR")


#: Attributes the replicator adds after redaction (naming them in a field list does nothing).
_KEY_ATTRIBUTES = ("seqNumbershardIdHash", "sequenceNumber", "shardId", "subSequenceNumber")


def check_field_paths(owner: str, field_name: str, paths: Sequence[str] | None) -> None:
    """:class:`SettingError` unless ``paths`` is a list of attribute paths: names joined by
    ``.`` (``device.id``), none empty, none a key attribute the replicator adds itself."""
    if paths is None:
        return
    if isinstance(paths, str) or not all(isinstance(p, str) for p in paths):
        raise SettingError(owner, field_name, f"must be a list of strings, got {paths!r}")
    for path in paths:
        if not path or not all(path.split(".")):
            raise SettingError(owner, field_name, f"{path!r} is not attribute names joined by '.'")
        if path in _KEY_ATTRIBUTES:
            raise SettingError(
                owner,
                field_name,
                f"names {path!r}, a key attribute the replicator adds after redaction",
            )


def check_transform_module(owner: str, field_name: str, path: str | None) -> None:
    """:class:`SettingError` unless ``path`` is an existing ``.py`` file (it is bundled into
    the function's asset at preview)."""
    if path is None:
        return
    if not path.endswith(".py"):
        raise SettingError(owner, field_name, f"must be a Python file (*.py), got {path!r}")
    if not Path(path).is_file():
        raise SettingError(owner, field_name, f"{path!r} is not a file (relative to {Path.cwd()})")


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


def validate_mapping(settings: MappingSettings, owner: str, prefix: str = "mapping") -> None:
    """:class:`SettingError` naming ``<owner>.<prefix>.<field>`` for values Lambda's
    ``CreateEventSourceMapping`` would reject."""
    check_range(owner, f"{prefix}.batch_size", settings.batch_size, 1, 10000)
    check_choice(
        owner, f"{prefix}.starting_position", settings.starting_position, STARTING_POSITIONS
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


def warn_weakened(resource: pulumi.Resource, what: str, mapping: MappingSettings) -> None:
    """``pulumi.log.warn`` for each safety default of a mapping the caller weakened."""
    if mapping.bisect_batch_on_function_error is False:
        pulumi.log.warn(
            f"{what}: bisect_batch_on_function_error is off: one bad record holds back its "
            "whole batch until the retries run out",
            resource,
        )
    default_retries = MAPPING_DEFAULTS.maximum_retry_attempts or 0
    if (mapping.maximum_retry_attempts or 0) > default_retries:
        pulumi.log.warn(
            f"{what}: maximum_retry_attempts {mapping.maximum_retry_attempts} is above the "
            f"default {default_retries}: a failing batch blocks its shard for longer",
            resource,
        )


class ConsumerSettings(NamedTuple):
    """A stream consumer component's settings, defaults filled (:func:`consumer_settings`)."""

    function: FunctionSettings
    mapping: MappingSettings
    alarms: AlarmSettings
    tags: dict[str, str]


def consumer_settings(
    resource: pulumi.Resource, kind: str, name: str, args: Any, **derived: Any
) -> ConsumerSettings:
    """The settings of a component that consumes a stream with its own function (``kind`` and
    ``name`` name it in messages; ``args`` has ``function``, ``mapping``, ``alarms``, ``tags``):
    the function's defaults derived from the component (its Powertools service name from
    ``name``, plus ``derived`` fields) yield to what the caller set; a weakened mapping safety
    default warns (:func:`warn_weakened`). Raises :class:`SettingError` for a missing one."""
    owner = f"{kind}Args"
    component_defaults = FunctionSettings(
        service_name=physical_name(name, "", 128, r"\w.-"), **derived
    )
    function = merge_settings(
        merge_settings(must(args.function, owner, "function"), component_defaults),
        args.function,
    )
    mapping = must(args.mapping, owner, "mapping")
    warn_weakened(resource, f"{kind} {name}", mapping)
    return ConsumerSettings(
        function, mapping, must(args.alarms, owner, "alarms"), dict(args.tags or {})
    )


def policy_json(
    build: Callable[..., Mapping[str, Any]], /, **arns: pulumi.Input[str]
) -> pulumi.Output[str]:
    """``json.dumps(build(**arns))`` once every ARN in ``arns`` is known.

    While any of them is unknown (a preview) or ``None`` (a resource that reported no ARN, as
    under Pulumi's basic test mocks, which echo inputs back and compute nothing), the document
    is unknown too, as it is in a preview: never a document naming ``None``.
    """

    def render(values: dict[str, Any]) -> pulumi.Input[str]:
        if any(value is None for value in values.values()):
            return pulumi.Output.from_input(cast(str, UNKNOWN))
        return json.dumps(build(**values))

    return pulumi.Output.all(**arns).apply(render)


@dataclass
class ConsumerBase:
    """Resources created before the role policy can be rendered."""

    role: aws.iam.Role
    log_group: aws.cloudwatch.LogGroup
    dead_letter_queue: aws.sqs.Queue
    failure_queue: aws.sqs.Queue


@dataclass
class ConsumerFunction:
    """Resources created once the role policy is known."""

    role_policy: aws.iam.RolePolicy
    function: aws.lambda_.Function
    mapping: aws.lambda_.EventSourceMapping
    alarms: list[aws.cloudwatch.MetricAlarm] = field(default_factory=list)


def create_consumer_base(
    parent: pulumi.Resource,
    name: str,
    function: FunctionSettings,
    account_id: pulumi.Input[str],
    tags: Mapping[str, str] | None = None,
) -> ConsumerBase:
    """Role, log group and the two queues of one consumer (children of ``parent``).

    ``account_id`` is the function's own account (the role's ``aws:SourceAccount`` condition);
    ``tags`` go on every taggable resource (merged with the provider's default tags by AWS).
    """
    role_opts = pulumi.ResourceOptions(
        parent=parent, delete_before_replace=function.role_name is not None
    )
    role = aws.iam.Role(
        f"{name}-role",
        name=function.role_name,
        path=function.role_path,
        assume_role_policy=lift(
            lambda account: json.dumps(policies.lambda_trust_policy(account)), account_id
        ),
        tags=tags,
        opts=role_opts,
    )
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-logs",
        name=f"/aws/lambda/{function.name}" if function.name else None,
        retention_in_days=function.log_retention_days,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    dead_letter_queue = aws.sqs.Queue(
        f"{name}-dead-letters",
        max_message_size=MAX_QUEUE_MESSAGE_BYTES,
        message_retention_seconds=function.dead_letter_retention_seconds,
        sqs_managed_sse_enabled=True,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    failure_queue = aws.sqs.Queue(
        f"{name}-mapping-failures",
        max_message_size=MAX_QUEUE_MESSAGE_BYTES,
        message_retention_seconds=function.dead_letter_retention_seconds,
        sqs_managed_sse_enabled=True,
        tags=tags,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    for queue, suffix in ((dead_letter_queue, "dead-letters"), (failure_queue, "mapping-failures")):
        aws.sqs.QueuePolicy(
            f"{name}-{suffix}-tls-only",
            queue_url=queue.url,
            policy=policy_json(policies.tls_only_queue_policy, queue_arn=queue.arn),
            opts=pulumi.ResourceOptions(parent=parent),
        )
    return ConsumerBase(role, log_group, dead_letter_queue, failure_queue)


def create_consumer_function(
    parent: pulumi.Resource,
    name: str,
    *,
    base: ConsumerBase,
    policy: pulumi.Input[str],
    function: FunctionSettings,
    mapping: MappingSettings,
    alarm_settings: AlarmSettings,
    region: pulumi.Input[str],
    handler: str,
    environment: Mapping[str, pulumi.Input[str]],
    event_source_arn: pulumi.Input[str],
    tags: Mapping[str, str] | None = None,
    transform_module: str | None = None,
) -> ConsumerFunction:
    """Role policy, function, event source mapping and alarms of one consumer.

    ``function``, ``mapping`` and ``alarm_settings`` are resolved (defaults filled in);
    ``tags`` go on every taggable resource; ``transform_module`` (a user's transform file) is
    bundled into the code asset and named in ``TRANSFORM_MODULE``."""
    role_policy = aws.iam.RolePolicy(
        f"{name}-policy",
        role=base.role.id,
        policy=policy,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    runtime = str(function.runtime)
    architecture = str(function.architecture)
    log_level = str(function.log_level)
    layers: list[pulumi.Input[str]] = [
        function.powertools_layer_arn
        or lift(lambda known: powertools_layer_arn(known, runtime, architecture), region),
        *(function.extra_layers or []),
    ]
    variables: dict[str, pulumi.Input[str]] = {
        env.POWERTOOLS_SERVICE_NAME: str(function.service_name),
        env.POWERTOOLS_METRICS_NAMESPACE: str(function.metrics_namespace),
        env.POWERTOOLS_LOG_LEVEL: log_level,
        env.DEAD_LETTER_QUEUE_URL: base.dead_letter_queue.url,
        **environment,
    }
    if transform_module:
        variables[env.TRANSFORM_MODULE] = assets.transform_archive_path(transform_module)
    fn = aws.lambda_.Function(
        f"{name}-function",
        name=function.name,
        role=base.role.arn,
        runtime=runtime,
        architectures=[architecture],
        handler=handler,
        code=assets.handler_archive(transform_module=transform_module, handler=handler),
        memory_size=function.memory_size,
        timeout=function.timeout,
        reserved_concurrent_executions=function.reserved_concurrency,
        layers=layers,
        environment=aws.lambda_.FunctionEnvironmentArgs(variables=variables),
        tags=tags,
        logging_config=aws.lambda_.FunctionLoggingConfigArgs(
            log_format="JSON",
            log_group=base.log_group.name,
            application_log_level=_LAMBDA_LOG_LEVELS.get(log_level, log_level),
            system_log_level="WARN",
        ),
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=[role_policy, base.log_group],
            delete_before_replace=function.name is not None,
        ),
    )
    esm = aws.lambda_.EventSourceMapping(
        f"{name}-mapping",
        function_name=fn.arn,
        event_source_arn=event_source_arn,
        enabled=mapping.enabled,
        batch_size=mapping.batch_size,
        starting_position=mapping.starting_position,
        maximum_batching_window_in_seconds=mapping.maximum_batching_window_in_seconds,
        parallelization_factor=mapping.parallelization_factor,
        maximum_retry_attempts=mapping.maximum_retry_attempts,
        maximum_record_age_in_seconds=mapping.maximum_record_age_in_seconds,
        bisect_batch_on_function_error=mapping.bisect_batch_on_function_error,
        function_response_types=["ReportBatchItemFailures"],
        tags=tags,
        destination_config=aws.lambda_.EventSourceMappingDestinationConfigArgs(
            on_failure=aws.lambda_.EventSourceMappingDestinationConfigOnFailureArgs(
                destination_arn=base.failure_queue.arn,
            ),
        ),
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[role_policy]),
    )
    created_alarms: list[aws.cloudwatch.MetricAlarm] = []
    if alarm_settings.enabled:
        created_alarms = alarms.consumer_alarms(
            parent,
            name,
            function_name=fn.name,
            dead_letter_queue_name=base.dead_letter_queue.name,
            failure_queue_name=base.failure_queue.name,
            settings=alarm_settings,
            tags=tags,
        )
    return ConsumerFunction(role_policy, fn, esm, created_alarms)
