"""The stream consumers' shared builder: "a Lambda function fed by an event source mapping, with
its dead-letter queues", and the component skeleton around it.

Three components consume a stream with a function of their own — :class:`~.ReplicaSource`
(Kinesis stream → replica table), :class:`~.StreamToS3Archiver` (table stream → Firehose → S3)
and :class:`~.StreamToQueryTable` (table stream → a table by user). Each is a
:class:`StreamConsumer`, and its ``__init__`` reads top to bottom:

1. ``super().__init__(<type token>, name, opts)``;
2. ``args = self._accept(args, <its args class>)``: a dict from the component provider becomes
   the args class, validated, kept as ``self.args``;
3. ``settings = self._settings(name)``: function, mapping and alarm settings with the
   component's defaults filled in, and its tags;
4. the component's own resources (stream, bucket and Firehose, query table);
5. ``self._create_consumer(...)``: the execution role (trusting Lambda), log group, the
   poison-record dead-letter queue and the mapping's on-failure queue
   (:func:`create_consumer_base`); the role's inline policy rendered from their ARNs and the
   component's; the function (code from ``assets.py``, Powertools from a layer) and its event
   source mapping, both ``depends_on`` the role policy (IAM is eventually consistent and Lambda
   checks the role when it creates the mapping); the alarms (:func:`create_consumer_function`);
6. ``self._register_outputs(...)``, last: the outputs the class declares.
"""

import inspect
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, NamedTuple, Protocol, TypeVar

import pulumi
import pulumi_aws as aws
from stream_replica.handlers import environment as env

from . import alarms, assets, policies, transport_policies
from .outputs import lift, policy_json
from .settings import (
    MAPPING_DEFAULTS,
    AlarmSettings,
    FunctionSettings,
    MappingSettings,
    merge_settings,
    physical_name,
    powertools_layer_arn,
)
from .validation import must

#: SQS's largest message (1 MiB): a poison record plus its metadata must fit.
MAX_QUEUE_MESSAGE_BYTES = 1_048_576
#: Lambda's application log levels spell WARNING as WARN (Powertools takes either).
_LAMBDA_LOG_LEVELS = {"WARNING": "WARN"}


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
            policy=policy_json(transport_policies.tls_only_queue_policy, queue_arn=queue.arn),
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
        starting_position_timestamp=mapping.starting_position_timestamp,
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


class ConsumerSettings(NamedTuple):
    """A stream consumer's settings, defaults filled (:meth:`StreamConsumer._settings`)."""

    function: FunctionSettings
    mapping: MappingSettings
    alarms: AlarmSettings
    tags: dict[str, str]


class ConsumerArgs(Protocol):
    """What :class:`StreamConsumer` reads from a consumer's args dataclass."""

    region: pulumi.Input[str]
    function: FunctionSettings | None
    mapping: MappingSettings | None
    alarms: AlarmSettings | None
    tags: dict[str, str] | None

    def validate(self) -> None:
        """:class:`SettingError` naming the field for settings that can't work."""


A = TypeVar("A", bound=ConsumerArgs)


class StreamConsumer(pulumi.ComponentResource, Generic[A]):
    """The skeleton of a component whose own function consumes a stream (module docstring).

    A subclass declares its typed outputs as class annotations, each with a docstring (the
    component provider infers the schema from them, and from the annotations of every class in
    the MRO: so this class declares none), and calls the steps below in order. Children are
    named ``<name>-…`` and parented to the component; the consumer's own are kept as
    ``self.role``, ``self.role_policy``, ``self.log_group``, ``self.dead_letter_queue``,
    ``self.failure_queue``, ``self.function``, ``self.mapping`` and ``self.alarms``.
    """

    def __init__(
        self, type_token: str, name: str, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(type_token, name, None, opts)

    def _accept(self, args: A | dict[str, Any], args_type: type[A]) -> A:
        """``args`` as an ``args_type`` (the component provider passes a dict of its fields),
        validated (:class:`SettingError` naming the field), kept as ``self.args``."""
        if isinstance(args, dict):
            args = args_type(**args)
        args.validate()
        self.args: A = args
        return args

    def _settings(self, name: str, **derived: Any) -> ConsumerSettings:
        """The function, mapping and alarm settings of ``self.args``, and its tags: the
        function's defaults derived from the component (its Powertools service name from
        ``name``, plus ``derived`` fields) yield to what the caller set; a weakened mapping
        safety default warns (:func:`warn_weakened`). Raises :class:`SettingError` for a
        missing one."""
        kind = type(self).__name__
        owner = f"{kind}Args"
        args = self.args
        component_defaults = FunctionSettings(
            service_name=physical_name(name, "", 128, r"\w.-"), **derived
        )
        function = merge_settings(
            merge_settings(must(args.function, owner, "function"), component_defaults),
            args.function,
        )
        mapping = must(args.mapping, owner, "mapping")
        warn_weakened(self, f"{kind} {name}", mapping)
        return ConsumerSettings(
            function, mapping, must(args.alarms, owner, "alarms"), dict(args.tags or {})
        )

    def _create_consumer(
        self,
        name: str,
        settings: ConsumerSettings,
        *,
        account_id: pulumi.Input[str],
        policy: Callable[..., policies.PolicyDocument],
        policy_inputs: Mapping[str, pulumi.Input[str]],
        handler: str,
        environment: Mapping[str, pulumi.Input[str]],
        event_source_arn: pulumi.Input[str],
        transform_module: str | None = None,
    ) -> None:
        """The consumer's execution role, log group, queues, role policy, function, mapping and
        alarms (:func:`create_consumer_base`, :func:`create_consumer_function`), kept as
        attributes (class docstring).

        The role's inline policy is ``policy(log_group_arn=…, queue_arns=[dead letters,
        on-failure], **policy_inputs)`` (a pure function of :mod:`.policies`), rendered once
        every input is known (:func:`policy_json`). ``account_id`` is the function's account,
        ``handler`` its entry point in the code asset, ``environment`` its own variables (the
        Powertools ones and ``DEAD_LETTER_QUEUE_URL`` are added), ``event_source_arn`` the
        stream its mapping reads, ``transform_module`` a user's transform file to bundle.
        """
        base = create_consumer_base(self, name, settings.function, account_id, settings.tags)

        def render(
            log_group_arn: str, dead_letter_queue_arn: str, failure_queue_arn: str, **inputs: Any
        ) -> policies.PolicyDocument:
            queue_arns = [dead_letter_queue_arn, failure_queue_arn]
            return policy(log_group_arn=log_group_arn, queue_arns=queue_arns, **inputs)

        consumer = create_consumer_function(
            self,
            name,
            base=base,
            policy=policy_json(
                render,
                log_group_arn=base.log_group.arn,
                dead_letter_queue_arn=base.dead_letter_queue.arn,
                failure_queue_arn=base.failure_queue.arn,
                **policy_inputs,
            ),
            function=settings.function,
            mapping=settings.mapping,
            alarm_settings=settings.alarms,
            region=self.args.region,
            handler=handler,
            environment=environment,
            event_source_arn=event_source_arn,
            tags=settings.tags,
            transform_module=transform_module,
        )
        self.role = base.role
        self.role_policy = consumer.role_policy
        self.log_group = base.log_group
        self.dead_letter_queue = base.dead_letter_queue
        self.failure_queue = base.failure_queue
        self.function = consumer.function
        self.mapping = consumer.mapping
        self.alarms = consumer.alarms

    def _register_outputs(self, **outputs: Any) -> None:
        """Set and register every output the class declares, in declaration order; last in
        ``__init__``.

        Each declared output is taken from ``outputs`` or, for the consumer's own
        (``function_name``, ``function_arn``, ``role_arn``, ``role_name``, ``log_group_name``,
        ``dead_letter_queue_url``/``_arn``, ``failure_queue_url``/``_arn``,
        ``event_source_mapping_id``), from its children. :class:`TypeError` for a declared output
        given by neither, or a given one the class does not declare.
        """
        own: dict[str, pulumi.Output[str]] = {
            "function_name": self.function.name,
            "function_arn": self.function.arn,
            "role_arn": self.role.arn,
            "role_name": self.role.name,
            "log_group_name": self.log_group.name,
            "dead_letter_queue_url": self.dead_letter_queue.url,
            "dead_letter_queue_arn": self.dead_letter_queue.arn,
            "failure_queue_url": self.failure_queue.url,
            "failure_queue_arn": self.failure_queue.arn,
            "event_source_mapping_id": self.mapping.uuid,
        }
        declared = declared_outputs(type(self))
        kind = type(self).__name__
        undeclared = sorted(set(outputs) - set(declared))
        if undeclared:
            raise TypeError(f"{kind} does not declare the outputs {undeclared}")
        for key in declared:
            if key not in outputs and key not in own:
                raise TypeError(f"{kind}.{key} is declared but not given")
            setattr(self, key, outputs[key] if key in outputs else own[key])
        self.register_outputs({key: getattr(self, key) for key in declared})


def declared_outputs(component: type[pulumi.ComponentResource]) -> list[str]:
    """The outputs ``component`` declares: the public annotations of the classes in its MRO
    below :class:`pulumi.ComponentResource`, base classes first (as the component provider
    reads them)."""
    names: dict[str, None] = {}
    for cls in reversed(component.__mro__):
        if issubclass(cls, pulumi.ComponentResource) and cls is not pulumi.ComponentResource:
            names.update(dict.fromkeys(k for k in inspect.get_annotations(cls) if k[0] != "_"))
    return list(names)
