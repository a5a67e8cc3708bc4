"""``ArchiveBackfill``: the backfill fanned out over the archive's objects.

A Step Functions state machine (:func:`state_machine_definition`) plans the window (the
backfill Lambda lists its objects into a manifest), then runs two **distributed maps** over
the manifest (ItemReader), each object one invocation of the backfill Lambda
(``handlers.backfill_worker.handler``, which calls the same per-object function as
``python -m stream_replica.backfill``): ``scan`` (tombstones), then ``write``. Checkpoints,
the manifest, the tombstone set and the report live under ``checkpoint_prefix`` in the
checkpoint bucket, so a re-run of the execution skips every finished object.

The write budget is split across the workers: each writes at most ``write_rate /
max_concurrency`` items per second, so the run as a whole stays within ``write_rate``.

Start it with ``aws stepfunctions start-execution --state-machine-arn <stateMachineArn>
--input '{"from": "2026-01-31T00", "to": "2026-01-31T23"}'``; see ``docs/backfill.md``.
"""

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from . import assets, policies
from .backfill_policy import backfill_policy
from .exceptions import SettingError
from .settings import DEFAULT_RUNTIME

#: The backfill Lambda's handler string (the module is in the handlers asset).
BACKFILL_HANDLER = "handlers.backfill_worker.handler"
#: A distributed map runs at most 10,000 child workflows at once
#: (https://docs.aws.amazon.com/step-functions/latest/dg/state-map-distributed.html).
MAX_MAP_CONCURRENCY = 10_000
#: Lambda's longest timeout, seconds
#: (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
MAX_FUNCTION_TIMEOUT_S = 900
#: Errors of the Lambda service the map's task retries (throttling, a cold start's hiccups).
RETRIED_LAMBDA_ERRORS = (
    "Lambda.TooManyRequestsException",
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
)


@dataclass
class ArchiveBackfillArgs:
    """Inputs of :class:`ArchiveBackfill`."""

    archive_bucket_name: pulumi.Input[str]
    """The archive bucket (the archiver's ``bucketName`` output)."""
    archive_prefix: str
    """The archive's object prefix before ``year=`` (the archiver's ``prefix``, e.g. ``data/``)."""
    table_name: pulumi.Input[str]
    """The table written: the replica, a new table of its schema, or the query table."""
    table_arn: pulumi.Input[str]
    """Its ARN (the backfill Lambda may write only it)."""
    account_id: pulumi.Input[str]
    """The account the component deploys into (the roles' ``aws:SourceAccount`` condition)."""
    target: str = "replica"
    """``replica`` (items as the replicator wrote them) or ``query`` (keyed as the query writer)."""
    checkpoint_bucket_name: pulumi.Input[str] | None = None
    """Where checkpoints, manifest and report go; default: the archive bucket."""
    checkpoint_prefix: str = "backfill/"
    """Their prefix; outside the archive prefix (default ``backfill/``)."""
    write_rate: float = 100.0
    """The whole run's write budget, items per second (each worker gets
    ``write_rate / max_concurrency``)."""
    max_concurrency: int = 10
    """Objects written at once (the distributed maps' MaxConcurrency, 1..10,000)."""
    query_hash_attribute: str | None = None
    """Query target: the query table's hash attribute (required for ``query``)."""
    query_range_attribute: str | None = None
    """Query target: the attribute that orders a user's events (required for ``query``)."""
    query_sort_key_attribute: str = "eventKey"
    """Query target: the query table's range key."""
    ttl_attribute: str | None = None
    """The items' expiry attribute: expired lines are not resurrected."""
    ttl_days: int = 0
    """Query target: the query table's TTL days (0: no expiry)."""
    source_ttl_days: int = 0
    """Query target: the replica's TTL days (to recover arrival times)."""
    timeout: int = 900
    """The backfill Lambda's timeout, seconds (1..900)."""
    memory_size: int = 512
    """The backfill Lambda's memory, MB."""
    tags: dict[str, str] | None = None
    """Tags for every resource."""

    def validate(self) -> None:
        """Raises :class:`SettingError` naming the field that is out of range."""
        if self.target not in ("replica", "query"):
            raise SettingError("ArchiveBackfill", "target", "must be replica or query")
        if self.target == "query" and not (
            self.query_hash_attribute and self.query_range_attribute
        ):
            raise SettingError(
                "ArchiveBackfill",
                "query_hash_attribute",
                "and query_range_attribute are required for target query",
            )
        if not 1 <= self.max_concurrency <= MAX_MAP_CONCURRENCY:
            raise SettingError(
                "ArchiveBackfill", "max_concurrency", f"must be 1..{MAX_MAP_CONCURRENCY}"
            )
        if not self.write_rate > 0:
            raise SettingError("ArchiveBackfill", "write_rate", "must be above 0 items/s")
        if not 1 <= self.timeout <= MAX_FUNCTION_TIMEOUT_S:
            raise SettingError("ArchiveBackfill", "timeout", f"must be 1..{MAX_FUNCTION_TIMEOUT_S}")
        if self.archive_prefix and self.checkpoint_prefix.startswith(self.archive_prefix):
            raise SettingError(
                "ArchiveBackfill", "checkpoint_prefix", "must lie outside archive_prefix"
            )

    @property
    def worker_rate(self) -> float:
        """Items per second for one worker: the budget split across the concurrent workers."""
        return self.write_rate / self.max_concurrency


def _invoke(function_arn: str, payload: dict[str, Any]) -> dict[str, Any]:
    return {
        "Type": "Task",
        "Resource": "arn:aws:states:::lambda:invoke",
        "Parameters": {"FunctionName": function_arn, "Payload": payload},
        "Retry": [
            {
                "ErrorEquals": list(RETRIED_LAMBDA_ERRORS),
                "IntervalSeconds": 2,
                "MaxAttempts": 6,
                "BackoffRate": 2,
            }
        ],
    }


def _map(phase: str, function_arn: str, bucket: str, prefix: str, concurrency: int) -> dict:
    task = _invoke(function_arn, {"action": phase, "object.$": "$.object"})
    task["Retry"].append(
        {"ErrorEquals": ["States.TaskFailed"], "IntervalSeconds": 30, "MaxAttempts": 3}
    )
    task["End"] = True
    return {
        "Type": "Map",
        "ItemReader": {
            "Resource": "arn:aws:states:::s3:getObject",
            "ReaderConfig": {"InputType": "JSON"},
            "Parameters": {"Bucket.$": "$.plan.bucket", "Key.$": "$.plan.key"},
        },
        "ItemSelector": {"object.$": "$$.Map.Item.Value"},
        "ItemProcessor": {
            "ProcessorConfig": {"Mode": "DISTRIBUTED", "ExecutionType": "STANDARD"},
            "StartAt": "Object",
            "States": {"Object": task},
        },
        "MaxConcurrency": concurrency,
        "ResultWriter": {
            "Resource": "arn:aws:states:::s3:putObject",
            "Parameters": {"Bucket": bucket, "Prefix": f"{prefix}results/{phase}"},
        },
        "ResultPath": None,
    }


def state_machine_definition(
    function_arn: str, checkpoint_bucket: str, checkpoint_prefix: str, max_concurrency: int
) -> dict[str, Any]:
    """The Amazon States Language definition (see the module docstring); input
    ``{"from": "<hour>", "to": "<hour>"}``, output the run's report counts."""
    plan = _invoke(function_arn, {"action": "plan", "from.$": "$.from", "to.$": "$.to"})
    plan.update({"ResultSelector": {"bucket.$": "$.Payload.bucket", "key.$": "$.Payload.key"}})
    plan.update({"ResultPath": "$.plan", "Next": "Scan"})
    scan = _map("scan", function_arn, checkpoint_bucket, checkpoint_prefix, max_concurrency)
    scan["Next"] = "Tombstones"
    tombstones = _invoke(function_arn, {"action": "tombstones"})
    tombstones.update({"ResultPath": None, "Next": "Write"})
    write = _map("write", function_arn, checkpoint_bucket, checkpoint_prefix, max_concurrency)
    write["Next"] = "Report"
    report = _invoke(function_arn, {"action": "report"})
    report.update({"OutputPath": "$.Payload", "End": True})
    return {
        "Comment": "Backfill a table from the archive (docs/backfill.md)",
        "StartAt": "Plan",
        "States": {
            "Plan": plan,
            "Scan": scan,
            "Tombstones": tombstones,
            "Write": write,
            "Report": report,
        },
    }


def state_machine_policy(
    *,
    function_arn: str,
    checkpoint_bucket_arn: str,
    checkpoint_prefix: str,
    state_machine_arn: str,
) -> policies.PolicyDocument:
    """The state machine's role: invoke only the backfill Lambda, read the manifest and write
    the map results under the checkpoint prefix, and run and watch its own child executions
    (a distributed map starts them: ``states:StartExecution`` on the state machine,
    ``DescribeExecution``/``StopExecution`` on its executions,
    https://docs.aws.amazon.com/step-functions/latest/dg/iam-policies-eg-dist-map.html)."""
    executions = state_machine_arn.replace(":stateMachine:", ":execution:") + "/*"
    return policies.document(
        policies.allow("InvokeBackfill", ("lambda:InvokeFunction",), [function_arn]),
        policies.allow(
            "ManifestAndResults",
            ("s3:GetObject", "s3:PutObject"),
            [f"{checkpoint_bucket_arn}/{checkpoint_prefix}*"],
        ),
        policies.allow("RunMapChildren", ("states:StartExecution",), [state_machine_arn]),
        policies.allow(
            "WatchMapChildren", ("states:DescribeExecution", "states:StopExecution"), [executions]
        ),
    )


def _trust(service: str, account: str) -> str:
    return json.dumps(
        policies.document(
            {
                "Sid": "ServiceAssumesRole",
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": account}},
            }
        )
    )


class ArchiveBackfill(pulumi.ComponentResource):
    """The backfill Lambda, its role, the state machine and its role (see the module)."""

    function_name: pulumi.Output[str]
    """The backfill Lambda's name."""
    state_machine_arn: pulumi.Output[str]
    """Start an execution of it with ``{"from": …, "to": …}``."""

    def __init__(
        self,
        name: str,
        args: ArchiveBackfillArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("stream-replica:index:ArchiveBackfill", name, None, opts)
        if isinstance(args, dict):  # the multi-language provider passes a dict
            args = ArchiveBackfillArgs(**args)
        args.validate()
        child = pulumi.ResourceOptions(parent=self)
        account = pulumi.Output.from_input(args.account_id)
        checkpoint_bucket = args.checkpoint_bucket_name or args.archive_bucket_name
        tags = args.tags or {}

        self.role = aws.iam.Role(
            f"{name}-role",
            assume_role_policy=account.apply(lambda a: _trust("lambda.amazonaws.com", a)),
            tags=tags,
            opts=child,
        )
        self.log_group = aws.cloudwatch.LogGroup(
            f"{name}-logs", retention_in_days=30, tags=tags, opts=child
        )
        self.role_policy = aws.iam.RolePolicy(
            f"{name}-policy",
            role=self.role.id,
            policy=pulumi.Output.all(
                args.archive_bucket_name,
                args.table_arn,
                checkpoint_bucket,
                self.log_group.arn,
            ).apply(
                lambda v: json.dumps(
                    {
                        **(
                            doc := backfill_policy(
                                archive_bucket_arn=f"arn:aws:s3:::{v[0]}",
                                archive_prefix=args.archive_prefix,
                                table_arn=v[1],
                                checkpoint_bucket_arn=f"arn:aws:s3:::{v[2]}",
                                checkpoint_prefix=args.checkpoint_prefix,
                            )
                        ),
                        "Statement": [
                            *doc["Statement"],
                            policies.allow(
                                "Logs",
                                ("logs:CreateLogStream", "logs:PutLogEvents"),
                                [f"{v[3]}:*"],
                            ),
                        ],
                    }
                )
            ),
            opts=child,
        )
        environment: dict[str, pulumi.Input[str]] = {
            "BACKFILL_ARCHIVE_BUCKET": args.archive_bucket_name,
            "BACKFILL_ARCHIVE_PREFIX": args.archive_prefix,
            "BACKFILL_TARGET": args.target,
            "BACKFILL_TABLE": args.table_name,
            "BACKFILL_CHECKPOINT_BUCKET": checkpoint_bucket,
            "BACKFILL_CHECKPOINT_PREFIX": args.checkpoint_prefix,
            "BACKFILL_WRITE_RATE": f"{args.worker_rate:g}",
            "POWERTOOLS_SERVICE_NAME": "backfill",
        }
        optional = {
            "QUERY_HASH_ATTRIBUTE": args.query_hash_attribute,
            "QUERY_RANGE_ATTRIBUTE": args.query_range_attribute,
            "QUERY_SORT_KEY_ATTRIBUTE": args.query_sort_key_attribute,
            "TTL_ATTRIBUTE": args.ttl_attribute,
            "TTL_DAYS": str(args.ttl_days) if args.ttl_days else None,
            "SOURCE_TTL_DAYS": str(args.source_ttl_days) if args.source_ttl_days else None,
        }
        environment.update({k: v for k, v in optional.items() if v and args.target == "query"})
        if args.target == "replica" and args.ttl_attribute:
            environment["TTL_ATTRIBUTE"] = args.ttl_attribute
        self.function = aws.lambda_.Function(
            f"{name}-function",
            role=self.role.arn,
            runtime=DEFAULT_RUNTIME,
            handler=BACKFILL_HANDLER,
            code=assets.handler_archive(handler=BACKFILL_HANDLER),
            timeout=args.timeout,
            memory_size=args.memory_size,
            logging_config=aws.lambda_.FunctionLoggingConfigArgs(
                log_format="Text", log_group=self.log_group.name
            ),
            environment=aws.lambda_.FunctionEnvironmentArgs(variables=environment),
            tags=tags,
            opts=pulumi.ResourceOptions(parent=self, depends_on=[self.role_policy]),
        )
        self.state_machine_role = aws.iam.Role(
            f"{name}-sfn-role",
            assume_role_policy=account.apply(lambda a: _trust("states.amazonaws.com", a)),
            tags=tags,
            opts=child,
        )
        self.state_machine = aws.sfn.StateMachine(
            f"{name}-state-machine",
            role_arn=self.state_machine_role.arn,
            type="STANDARD",
            definition=pulumi.Output.all(self.function.arn, checkpoint_bucket).apply(
                lambda v: json.dumps(
                    state_machine_definition(
                        v[0], v[1], args.checkpoint_prefix, args.max_concurrency
                    )
                )
            ),
            tags=tags,
            opts=child,
        )
        self.state_machine_policy = aws.iam.RolePolicy(
            f"{name}-sfn-policy",
            role=self.state_machine_role.id,
            policy=pulumi.Output.all(
                self.function.arn, checkpoint_bucket, self.state_machine.arn
            ).apply(
                lambda v: json.dumps(
                    state_machine_policy(
                        function_arn=v[0],
                        checkpoint_bucket_arn=f"arn:aws:s3:::{v[1]}",
                        checkpoint_prefix=args.checkpoint_prefix,
                        state_machine_arn=v[2],
                    )
                )
            ),
            opts=child,
        )
        self.function_name = self.function.name
        self.state_machine_arn = self.state_machine.arn
        self.register_outputs(
            {"functionName": self.function_name, "stateMachineArn": self.state_machine_arn}
        )
