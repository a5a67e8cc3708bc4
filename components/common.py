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

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import pulumi
import pulumi_aws as aws
from stream_replica.handlers import environment as env

from . import alarms, assets, policies

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

_ACCOUNT_ID = re.compile(r"^\d{12}$")

#: Lambda's application log levels spell WARNING as WARN (Powertools takes either).
_LAMBDA_LOG_LEVELS = {"WARNING": "WARN"}


def require_account_id(value: str, what: str) -> str:
    """``value`` if it is a 12-digit AWS account id, else ValueError naming ``what``."""
    if not isinstance(value, str) or not _ACCOUNT_ID.match(value):
        raise ValueError(f"{what} must be a 12-digit AWS account id, got {value!r}")
    return value


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
    """How a consumer function runs."""

    name: str | None = None
    """Function name; ``None`` lets Pulumi autoname it. A fixed name is replaced
    delete-before-create (AWS function names are unique per account and region)."""
    role_name: str | None = None
    """Execution role name; ``None`` autonames it. The replicator's is fixed (the POC side
    trusts it by ARN)."""
    role_path: str = "/"
    """IAM path of the execution role."""
    runtime: str = DEFAULT_RUNTIME
    """Lambda Python runtime (3.12 or later)."""
    architecture: str = "arm64"
    """``arm64`` (cheaper per GB-second) or ``x86_64``."""
    memory_size: int = 256
    """Memory in MB; Lambda's CPU share grows with it."""
    timeout: int = 120
    """Seconds per invocation."""
    reserved_concurrency: int | None = None
    """Reserved concurrent executions; ``None`` leaves the function unreserved."""
    log_retention_days: int = 30
    """Retention of the function's log group."""
    log_level: str = "INFO"
    """``POWERTOOLS_LOG_LEVEL`` and the function's application log level."""
    powertools_layer_arn: str | None = None
    """Layer that provides Powertools; ``None`` = AWS's public layer for the region, runtime
    and architecture (:func:`powertools_layer_arn`)."""
    extra_layers: Sequence[str] = ()
    """Further layer ARNs, after Powertools."""
    metrics_namespace: str = "StreamReplica"
    """``POWERTOOLS_METRICS_NAMESPACE`` for the handler's embedded metrics."""


@dataclass
class MappingSettings:
    """How Lambda feeds a stream to the function, and what happens when a batch keeps failing."""

    batch_size: int = 300
    """Records per invocation (1..10000)."""
    starting_position: str = "TRIM_HORIZON"
    """Where a new mapping starts: ``TRIM_HORIZON`` (everything retained) or ``LATEST``."""
    maximum_batching_window_in_seconds: int = 0
    """Seconds Lambda may wait to fill a batch (0..300)."""
    parallelization_factor: int = 1
    """Concurrent batches per shard (1..10)."""
    maximum_retry_attempts: int = 10
    """Retries of a failing batch before it goes to the on-failure destination (finite)."""
    maximum_record_age_in_seconds: int = 21_600
    """Records older than this go to the on-failure destination instead (60..604800)."""
    bisect_batch_on_function_error: bool = True
    """Split a failing batch in two to isolate the bad record."""
    enabled: bool = True
    """Whether the mapping polls."""


@dataclass
class AlarmSettings:
    """Thresholds and actions of a consumer's alarms."""

    enabled: bool = True
    """Create the alarms."""
    topic_arn: str | None = None
    """SNS topic notified on alarm and on recovery; ``None`` = alarms without actions."""
    iterator_age_ms: int = 300_000
    """Alarm when the oldest record a batch carries is older than this (ms)."""
    period_seconds: int = 60
    """Metric period."""
    evaluation_periods: int = 5
    """Consecutive breaching periods before the iterator-age alarm fires."""


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


def validate_function(settings: FunctionSettings, what: str) -> None:
    """ValueError naming ``what`` and the field for settings AWS would reject."""
    if settings.runtime not in SUPPORTED_RUNTIMES:
        raise ValueError(f"{what}.runtime must be one of {SUPPORTED_RUNTIMES}")
    if settings.architecture not in ARCHITECTURES:
        raise ValueError(f"{what}.architecture must be one of {ARCHITECTURES}")
    if not 128 <= settings.memory_size <= 10240:
        raise ValueError(f"{what}.memory_size must be 128..10240 MB")
    if not 1 <= settings.timeout <= 900:
        raise ValueError(f"{what}.timeout must be 1..900 seconds")


def validate_mapping(settings: MappingSettings, what: str) -> None:
    """ValueError naming ``what`` and the field for mapping settings AWS would reject."""
    if not 1 <= settings.batch_size <= 10000:
        raise ValueError(f"{what}.batch_size must be 1..10000")
    if settings.starting_position not in STARTING_POSITIONS:
        raise ValueError(f"{what}.starting_position must be one of {STARTING_POSITIONS}")
    if not 0 <= settings.maximum_batching_window_in_seconds <= 300:
        raise ValueError(f"{what}.maximum_batching_window_in_seconds must be 0..300")
    if not 1 <= settings.parallelization_factor <= 10:
        raise ValueError(f"{what}.parallelization_factor must be 1..10")
    if not 0 <= settings.maximum_retry_attempts <= 10000:
        raise ValueError(f"{what}.maximum_retry_attempts must be finite: 0..10000")
    if not 60 <= settings.maximum_record_age_in_seconds <= 604800:
        raise ValueError(f"{what}.maximum_record_age_in_seconds must be 60..604800")


def create_consumer_base(
    parent: pulumi.Resource, name: str, function: FunctionSettings, account_id: str
) -> ConsumerBase:
    """Role, log group and the two queues of one consumer (children of ``parent``).

    ``account_id`` is the function's own account (the role's ``aws:SourceAccount`` condition).
    """
    role_opts = pulumi.ResourceOptions(
        parent=parent, delete_before_replace=function.role_name is not None
    )
    role = aws.iam.Role(
        f"{name}-role",
        name=function.role_name,
        path=function.role_path,
        assume_role_policy=json.dumps(policies.lambda_trust_policy(account_id)),
        opts=role_opts,
    )
    log_group = aws.cloudwatch.LogGroup(
        f"{name}-logs",
        name=f"/aws/lambda/{function.name}" if function.name else None,
        retention_in_days=function.log_retention_days,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    dead_letter_queue = aws.sqs.Queue(
        f"{name}-dead-letters",
        max_message_size=MAX_QUEUE_MESSAGE_BYTES,
        message_retention_seconds=MAX_QUEUE_RETENTION_SECONDS,
        sqs_managed_sse_enabled=True,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    failure_queue = aws.sqs.Queue(
        f"{name}-mapping-failures",
        max_message_size=MAX_QUEUE_MESSAGE_BYTES,
        message_retention_seconds=MAX_QUEUE_RETENTION_SECONDS,
        sqs_managed_sse_enabled=True,
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
    region: str,
    handler: str,
    service_name: str,
    environment: Mapping[str, pulumi.Input[str]],
    event_source_arn: pulumi.Input[str],
) -> ConsumerFunction:
    """Role policy, function, event source mapping and alarms of one consumer."""
    role_policy = aws.iam.RolePolicy(
        f"{name}-policy",
        role=base.role.id,
        policy=policy,
        opts=pulumi.ResourceOptions(parent=parent),
    )
    layers = [
        function.powertools_layer_arn
        or powertools_layer_arn(region, function.runtime, function.architecture),
        *function.extra_layers,
    ]
    variables: dict[str, pulumi.Input[str]] = {
        env.POWERTOOLS_SERVICE_NAME: service_name,
        env.POWERTOOLS_METRICS_NAMESPACE: function.metrics_namespace,
        env.POWERTOOLS_LOG_LEVEL: function.log_level,
        env.DEAD_LETTER_QUEUE_URL: base.dead_letter_queue.url,
        **environment,
    }
    fn = aws.lambda_.Function(
        f"{name}-function",
        name=function.name,
        role=base.role.arn,
        runtime=function.runtime,
        architectures=[function.architecture],
        handler=handler,
        code=assets.handler_archive(),
        memory_size=function.memory_size,
        timeout=function.timeout,
        reserved_concurrent_executions=function.reserved_concurrency,
        layers=layers,
        environment=aws.lambda_.FunctionEnvironmentArgs(variables=variables),
        logging_config=aws.lambda_.FunctionLoggingConfigArgs(
            log_format="JSON",
            log_group=base.log_group.name,
            application_log_level=_LAMBDA_LOG_LEVELS.get(function.log_level, function.log_level),
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
        )
    return ConsumerFunction(role_policy, fn, esm, created_alarms)
