"""The end-to-end run behind ``make demo``: deploy both stacks into the emulator, stream a
clickstream through the pipeline, check that nothing was lost or duplicated, replay, report.
"""

from __future__ import annotations

import gzip
import json
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, TextIO

from stream_replica.components.assets import QUERY_WRITER_HANDLER
from stream_replica.testing.clickstream import aggregate_some, generate, poison_records, put_records

import stack_config

from . import analyst, crossaccount, service_metrics
from .emulator import Emulator
from .faults import Faults
from .lambda_runtime import FunctionRuntime
from .mocks import Deployment, EmulatorMocks
from .pii import RawValues
from .poller import StreamPoller
from .pulumi_runner import REPO_ROOT, load_stack_config, project_name, run_program
from .redrive import (
    RangeSnapshot,
    RuntimeInvoker,
    count_redriven,
    dead_letter_bodies,
    range_snapshot,
    redrive_pass,
)
from .run_cost import RunUsage, print_run_cost, usage_of_run

#: The three attributes the replicator adds to every item (the data contract).
KEY_ATTRIBUTES = ("sequenceNumber", "shardId", "seqNumbershardIdHash")
#: Attributes the replicator adds to a user record of a KPL aggregate (besides the three above).
SUB_SEQUENCE_ATTRIBUTE = "subSequenceNumber"
#: The example transform the sandbox runs in the replicator by default (docs/sandbox.md).
EXAMPLE_TRANSFORM = "examples/transform_day.py"
#: How many produced events are kept whole to compare with their archived line.
FIDELITY_SAMPLE = 500


@dataclass
class DemoOptions:
    records: int = 3000
    poison: bool = True
    shards: int = 2
    access_mode: str | None = None
    #: ``source`` or ``target``: where the replicator runs (config ``placement``, both stacks)
    placement: str | None = None
    #: ``shared`` or ``efo``: how its mapping reads the stream (config ``consumerMode``)
    consumer_mode: str | None = None
    #: config values set after the stack files (``--config key=value``); a key ``poc.<key>`` or
    #: ``prod.<key>`` applies to that stack only
    config_overrides: dict[str, object] = field(default_factory=dict)
    throttle_writes: float = 0.0
    fail_firehose: float = 0.0
    crash_invocations: float = 0.0
    seed: int = 7
    #: records per PutRecords call; both mappings are polled after each
    chunk: int = 500
    replay: bool = True
    serve: bool = False
    port: int = 5000
    #: with ``serve``: keep the server up after the run until Ctrl-C
    hold: bool = True
    project_dir: Path = REPO_ROOT
    progress: bool = True
    #: read DynamoDB stream records through the API rather than moto's shard (slow; see poller)
    api_stream_reads: bool = False
    #: share of produced records packed into KPL aggregates (0: none, as a plain producer)
    kpl_fraction: float = 0.2
    #: the replicator's transform file (relative to ``project_dir``) unless the run's config
    #: sets ``transformModule``; ``None``: no transform
    transform: str | None = EXAMPLE_TRANSFORM
    #: after the drain, redrive both on-failure queues (``stream_replica.redrive``)
    redrive: bool = True


@dataclass
class DemoResult:
    produced: int = 0
    poison: int = 0
    replicated_items: int = 0
    duplicate_items: int = 0
    archived_lines: int = 0
    #: records the emulated Firehose received (lines are packed, so well below archived_lines)
    firehose_records: int = 0
    dead_lettered: int = 0
    #: None when the replay was skipped (``--no-replay``): not run is not "added nothing"
    replay_new_items: int | None = None
    query_table_items: int = 0
    analyst_query_ok: bool = False
    raw_pii_in_target: int = 0
    #: None when the redrive pass was skipped (``--no-redrive``)
    redriven: int | None = None
    ok: bool = False
    # Details for the table (not in the final JSON line).
    archived_distinct: int = 0
    fidelity_checked: int = 0
    aggregated_items: int = 0
    fidelity_mismatches: int = 0
    on_failure_records: int = 0
    #: on-failure messages the redrive pass found / records they named / expired from the stream
    redrive_messages: int = 0
    redrive_range_records: int = 0
    redrive_expired: int = 0
    redrive_invocations: int = 0
    dead_letter_reasons: dict[str, int] = field(default_factory=dict)
    throttled_items: int = 0
    failed_firehose_records: int = 0
    crossaccount_denied: int = 0
    crossaccount_allowed: int = 0
    dead_letter_messages: int = 0
    query_table_deployed: bool = False
    query_users_checked: int = 0
    analyst: analyst.AnalystResult | None = None
    replay_stream_records_dropped: int = 0
    #: (seqNumbershardIdHash, sequenceNumber) of every archived line
    archived_keys: set[tuple[str, str]] = field(default_factory=set, repr=False)
    #: Where the Kinesis mapping really is (``source``: the stream's account) and what it reads
    #: (``efo``: a consumer ARN), read back from the emulator; and the prod account's functions.
    placement: str = ""
    consumer_mode: str = ""
    prod_functions: int = 0
    pipeline_seconds: float = 0.0
    records_per_second: float = 0.0
    deploy_seconds: float = 0.0
    resources: dict[str, int] = field(default_factory=dict)
    mappings: dict[str, dict[str, int]] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    endpoint_url: str | None = None
    #: what the run sent to the emulated services, priced in the summary (sandbox/run_cost.py)
    run_usage: RunUsage | None = None

    def final_json(self) -> str:
        keys = (
            "produced",
            "poison",
            "replicated_items",
            "duplicate_items",
            "archived_lines",
            "firehose_records",
            "dead_lettered",
            "replay_new_items",
            "query_table_items",
            "analyst_query_ok",
            "raw_pii_in_target",
            "redriven",
            "ok",
        )
        return json.dumps({k: getattr(self, k) for k in keys})


class _Progress:
    def __init__(self, enabled: bool, stream: TextIO) -> None:
        self.enabled = enabled
        self.stream = stream
        self.tty = enabled and stream.isatty()
        self._last = 0.0

    def show(self, text: str, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = time.monotonic()
        if self.tty:
            self.stream.write(f"\r\033[K{text}")
            self.stream.flush()
        elif force or now - self._last >= 2.0:
            self.stream.write(text + "\n")
            self._last = now

    def done(self) -> None:
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()


def _account(config: dict[str, Any], stack: str, key: str) -> str:
    allowed = config.get("aws:allowedAccountIds") or []
    project_key = next((k for k in config if k.endswith(f":{key}")), None)
    named = str(config[project_key]) if project_key else None
    account = str(allowed[0]) if allowed else named
    if not account:
        raise ValueError(f"Pulumi.{stack}.yaml: set aws:allowedAccountIds (or {key})")
    if named and allowed and named not in [str(a) for a in allowed]:
        raise ValueError(
            f"Pulumi.{stack}.yaml: {key} {named} is not in aws:allowedAccountIds {allowed}"
        )
    return account


def _get(config: dict[str, Any], project: str, key: str, default: Any = None) -> Any:
    return config.get(f"{project}:{key}", default)


def _default_tags(config: dict[str, Any]) -> dict[str, str]:
    tags = (config.get("aws:defaultTags") or {}).get("tags") or {}
    return {str(k): str(v) for k, v in tags.items()}


def _precreate_source_stream(
    emulator: Emulator, prod_config: dict[str, Any], project: str, account: str, shards: int
) -> str | None:
    """Create the stream that already exists in production (unless the prod stack creates it)."""
    if _get(prod_config, project, "createSourceStream", False) in (True, "true"):
        return None
    name = _get(prod_config, project, "sourceStreamName")
    arn = _get(prod_config, project, "sourceStreamArn")
    if not name and arn:
        name = str(arn).rsplit("/", 1)[-1]
    if not name:
        raise ValueError("Pulumi.prod.yaml: set sourceStreamName or sourceStreamArn")
    kinesis = emulator.client("kinesis", account)
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    return str(name)


def pseudonymization_key(options: DemoOptions) -> str:
    """The sandbox's HMAC key (at least 32 bytes), derived from the run's seed."""
    return f"sandbox-pseudonymization-key-seed-{options.seed:08d}"


def _precreate_key_parameter(emulator: Emulator, plan: StackPlan, options: DemoOptions) -> None:
    """Create the SecureString that holds the pseudonymisation key (in production it exists
    before the stack; the replicator reads it with its own role, in the account it runs in:
    prod, or poc in target placement)."""
    name = _get(plan.replicator_config, plan.project, "pseudonymizationKeyParameter")
    if not name:
        return
    name = str(name).split(":parameter", 1)[-1] if str(name).startswith("arn:") else str(name)
    if plan.target_placement:
        ssm = emulator.client("ssm", plan.poc_account, plan.poc_region)
    else:
        ssm = emulator.client("ssm", plan.prod_account, plan.prod_region)
    ssm.put_parameter(
        Name=name, Value=pseudonymization_key(options), Type="SecureString", Overwrite=True
    )


def _deploy(
    emulator: Emulator,
    stack: str,
    account: str,
    region: str,
    config: dict[str, Any],
    overrides: dict[str, object],
    project_dir: Path,
    stack_references: dict[str, dict[str, Any]],
) -> Deployment:
    deployment = Deployment(stack=stack, account_id=account, region=region)
    mocks = EmulatorMocks(
        emulator,
        deployment,
        stack_references=stack_references,
        default_tags=_default_tags(config),
    )
    deployment.outputs = run_program(
        stack, mocks, config_overrides=overrides, project_dir=project_dir
    )
    return deployment


def _table_items(account: str, region: str, table: str) -> Iterator[dict[str, str]]:
    """eventId, shardId and sequenceNumber of every item, read from moto's table: a Scan through
    the API costs moto ~3 ms per nested item in JSON serialisation (minutes at 100,000)."""
    from moto.dynamodb.models import dynamodb_backends

    for item in dynamodb_backends[account][region].get_table(table).all_items():
        yield {
            name: str(item.attrs[name].value)
            for name in ("eventId", "shardId", "sequenceNumber", SUB_SEQUENCE_ATTRIBUTE)
            if name in item.attrs
        }


def _unchanged_writes_dropper(
    account: str, region: str, table: str, counter: list[int]
) -> Callable[[], None]:
    """For the replay: drop the stream records its writes add to moto's table stream.

    The replay writes items that are already there, unchanged; DynamoDB Streams writes no record
    for a write that changes nothing, moto writes one per item (a second copy of the table).
    Whether the replay changed the table is checked on the items themselves."""
    from moto.dynamodb.models import dynamodb_backends

    shard = dynamodb_backends[account][region].get_table(table).stream_shard
    mark = len(shard.items) if shard is not None else 0

    def drop() -> None:
        if shard is not None:
            counter[0] += max(0, len(shard.items) - mark)
            del shard.items[mark:]

    return drop


def _count_functions(emulator: Emulator, account: str, region: str) -> int:
    """Lambda functions the account holds (target placement: none in prod)."""
    pages = emulator.client("lambda", account, region).get_paginator("list_functions").paginate()
    return sum(len(page["Functions"]) for page in pages)


def _count_items(account: str, region: str, table: str) -> int:
    from moto.dynamodb.models import dynamodb_backends

    return len(dynamodb_backends[account][region].get_table(table).all_items())


def _queue_depth(sqs: Any, url: str) -> int:
    attrs = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages"])[
        "Attributes"
    ]
    return int(attrs["ApproximateNumberOfMessages"])


def _read_all_messages(sqs: Any, url: str) -> list[dict[str, Any]]:
    """Every message of the queue, left in it afterwards (visible again) for a user to inspect."""
    seen: dict[str, dict[str, Any]] = {}
    handles: list[str] = []
    while True:
        messages = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, VisibilityTimeout=300, WaitTimeSeconds=0
        ).get("Messages", [])
        if not messages:
            break
        for message in messages:
            seen[message["MessageId"]] = message
            handles.append(message["ReceiptHandle"])
    for start in range(0, len(handles), 10):
        sqs.change_message_visibility_batch(
            QueueUrl=url,
            Entries=[
                {"Id": str(i), "ReceiptHandle": handle, "VisibilityTimeout": 0}
                for i, handle in enumerate(handles[start : start + 10])
            ],
        )
    return list(seen.values())


def _clean(payload: dict[str, Any]) -> dict[str, Any]:
    """The payload as the data contract stores it: top-level null and "" attributes dropped."""
    return {k: v for k, v in payload.items() if v is not None and v != ""}


#: The replicator's stage settings (transform, redaction). They belong to the stack that runs
#: the replicator: prod in source placement; in target placement the demo moves the prod stack
#: file's values to poc (the key parameter then lives in the POC account), so both placements
#: run the same stages and are checked against the same expectation.
REPLICATOR_STAGE_KEYS = stack_config.STAGE_KEYS


@dataclass
class StackPlan:
    """Where each stack goes, read from the stack files (plus the run's config overrides)."""

    project: str
    poc_overrides: dict[str, object]
    prod_overrides: dict[str, object]
    poc_config: dict[str, Any]
    prod_config: dict[str, Any]
    poc_account: str
    prod_account: str
    poc_region: str
    prod_region: str

    @property
    def target_placement(self) -> bool:
        """Whether the replicator runs in the POC account (``placement: target``)."""
        return _get(self.prod_config, self.project, "placement", "source") == "target"

    @property
    def replicator_config(self) -> dict[str, Any]:
        """The config of the stack that runs the replicator."""
        return self.poc_config if self.target_placement else self.prod_config

    @classmethod
    def load(cls, options: DemoOptions) -> StackPlan:
        shared: dict[str, object] = {}
        per_stack: dict[str, dict[str, object]] = {"poc": {}, "prod": {}}
        _, schema = stack_config.load_schema(options.project_dir / "Pulumi.yaml")
        for key, value in options.config_overrides.items():
            stack, dot, rest = key.partition(".")
            if dot and stack in per_stack:
                per_stack[stack][rest] = value
            elif key in schema and stack_config.key_side(schema[key]):
                # a key only one stack reads goes to that stack (the other would refuse it)
                per_stack[str(stack_config.key_side(schema[key]))][key] = value
            else:
                shared[key] = value
        if options.access_mode:
            shared["accessMode"] = options.access_mode
        if options.placement:
            shared["placement"] = options.placement
        if options.consumer_mode:
            shared["consumerMode"] = options.consumer_mode
        poc_overrides = {**shared, **per_stack["poc"]}
        prod_overrides = {**shared, **per_stack["prod"]}
        if options.transform and "transformModule" not in prod_overrides:
            prod_overrides["transformModule"] = str(
                (Path(options.project_dir) / options.transform).resolve()
            )
        poc_config = load_stack_config(
            "poc", config_overrides=poc_overrides, project_dir=options.project_dir
        )
        prod_config = load_stack_config(
            "prod", config_overrides=prod_overrides, project_dir=options.project_dir
        )
        project = project_name(options.project_dir)
        if _get(prod_config, project, "placement", "source") == "target":
            for key in REPLICATOR_STAGE_KEYS:
                value = _get(prod_config, project, key)
                if value is not None and key not in poc_overrides:
                    poc_overrides[key] = value
                prod_overrides[key] = None  # prod holds only the grant
            poc_config = load_stack_config(
                "poc", config_overrides=poc_overrides, project_dir=options.project_dir
            )
            prod_config = load_stack_config(
                "prod", config_overrides=prod_overrides, project_dir=options.project_dir
            )
        prod_region = str(prod_config.get("aws:region") or "eu-west-1")
        return cls(
            project=project,
            poc_overrides=poc_overrides,
            prod_overrides=prod_overrides,
            poc_config=poc_config,
            prod_config=prod_config,
            poc_account=_account(poc_config, "poc", "pocAccountId"),
            prod_account=_account(prod_config, "prod", "prodAccountId"),
            poc_region=str(poc_config.get("aws:region") or prod_region),
            prod_region=prod_region,
        )


def deploy_stacks(
    emulator: Emulator, plan: StackPlan, options: DemoOptions, progress: _Progress | None = None
) -> tuple[Deployment, Deployment]:
    """Pre-create what exists in production, then deploy ``poc`` and ``prod`` into ``emulator``
    (prod's StackReference sees poc's real outputs)."""
    show = progress.show if progress else (lambda text, force=False: None)
    _precreate_source_stream(
        emulator, plan.prod_config, plan.project, plan.prod_account, options.shards
    )
    _precreate_key_parameter(emulator, plan, options)
    poc_reference = str(_get(plan.prod_config, plan.project, "pocStackReference") or "poc")
    prod_reference = str(_get(plan.poc_config, plan.project, "prodStackReference") or "prod")
    # ``pulumi stack init`` leaves a stack without outputs: what the stack deployed first sees.
    not_yet: dict[str, dict[str, Any]] = {
        name: {} for name in (poc_reference, "poc", prod_reference, "prod")
    }

    def deploy(stack: str, references: dict[str, dict[str, Any]]) -> Deployment:
        show(f"deploying stack {stack} ...", force=True)
        config = plan.poc_config if stack == "poc" else plan.prod_config
        return _deploy(
            emulator,
            stack,
            plan.poc_account if stack == "poc" else plan.prod_account,
            plan.poc_region if stack == "poc" else plan.prod_region,
            config,
            plan.poc_overrides if stack == "poc" else plan.prod_overrides,
            options.project_dir,
            references,
        )

    if _get(plan.prod_config, plan.project, "placement", "source") == "target":
        # The grant must exist before the mapping: prod first, then poc reads prod's outputs.
        prod = deploy("prod", not_yet)
        poc = deploy("poc", {**not_yet, prod_reference: prod.outputs, "prod": prod.outputs})
    else:
        poc = deploy("poc", not_yet)
        prod = deploy("prod", {**not_yet, poc_reference: poc.outputs, "poc": poc.outputs})
    return poc, prod


def run(options: DemoOptions, out: TextIO = sys.stdout) -> DemoResult:
    """Run the whole demo; print the summary to ``out``; return the figures."""
    result = DemoResult()
    progress = _Progress(options.progress, sys.stderr)
    plan = StackPlan.load(options)
    poc_account, prod_account = plan.poc_account, plan.prod_account
    region, poc_region = plan.prod_region, plan.poc_region
    faults = Faults(
        throttle_writes=options.throttle_writes,
        fail_firehose=options.fail_firehose,
        seed=options.seed,
    )
    runtimes: list[FunctionRuntime] = []
    with (
        faults,
        crossaccount.routing(),
        Emulator(region, serve=options.serve, port=options.port) as emulator,
        tempfile.TemporaryDirectory(prefix="sandbox-lambda-") as workdir,
    ):
        result.endpoint_url = emulator.endpoint_url
        service_metrics.RECORDER.reset()
        if emulator.endpoint_url:
            print(f"moto server listening on {emulator.endpoint_url}", file=out)
        started = time.monotonic()
        poc, prod = deploy_stacks(emulator, plan, options, progress)
        result.deploy_seconds = time.monotonic() - started
        for deployment in (poc, prod):
            for typ, count in deployment.counts.items():
                result.resources[typ] = result.resources.get(typ, 0) + count

        # -- wire the pollers ------------------------------------------------------------------
        rng = random.Random(options.seed)
        pollers: list[StreamPoller] = []
        for deployment in (poc, prod):
            for account, mapping_region, uuid in deployment.mappings:
                lam = emulator.client("lambda", account, mapping_region)
                function_arn = lam.get_event_source_mapping(UUID=uuid)["FunctionArn"]
                function = deployment.functions[function_arn]
                runtime = FunctionRuntime(function, emulator, Path(workdir))
                runtimes.append(runtime)
                pollers.append(
                    StreamPoller(
                        emulator,
                        account,
                        mapping_region,
                        uuid,
                        runtime,
                        crash_rate=options.crash_invocations,
                        rng=rng,
                    )
                )
        kinesis_pollers = [p for p in pollers if p.settings.kind == "kinesis"]
        query_pollers = [p for p in pollers if p.runtime.function.handler == QUERY_WRITER_HANDLER]
        table_pollers = [
            p for p in pollers if p.settings.kind == "dynamodb" and p not in query_pollers
        ]
        if len(kinesis_pollers) != 1 or len(table_pollers) != 1 or len(query_pollers) > 1:
            raise RuntimeError(
                f"expected one Kinesis and one DynamoDB-stream mapping, found "
                f"{len(kinesis_pollers)} and {len(table_pollers)}"
            )
        replicator_poller, archiver_poller = kinesis_pollers[0], table_pollers[0]
        query_poller = query_pollers[0] if query_pollers else None
        source_arn = replicator_poller.settings.stream_arn  # the stream (also under EFO)
        table_arn = archiver_poller.settings.source_arn.split("/stream/")[0]
        table_name = table_arn.rsplit("/", 1)[-1]
        table_account = table_arn.split(":")[4]
        replicator = replicator_poller.runtime
        archiver = archiver_poller.runtime
        stream_account = replicator_poller.settings.stream_arn.split(":")[4]
        mapping_account = replicator.function.account_id
        result.placement = "source" if mapping_account == stream_account else "target"
        result.consumer_mode = "efo" if replicator_poller.settings.consumer_arn else "shared"
        result.prod_functions = _count_functions(emulator, prod_account, region)

        # -- produce and pump ------------------------------------------------------------------
        kinesis = emulator.client("kinesis", prod_account, region)
        gen_rng = random.Random(options.seed)
        kpl_rng = random.Random(options.seed + 1)
        raw = RawValues(_get(plan.replicator_config, plan.project, "pseudonymizeFields") or [])
        sample: dict[str, dict[str, Any]] = {}
        #: what the analyst's queries are checked against: every produced event as archived
        #: (after the configured stages), in brief
        briefs: list[dict[str, Any]] = []
        expected = _expectation(plan, options)
        poison = poison_records() if options.poison else []
        pipeline_started = time.monotonic()
        produced = 0

        def pump() -> int:
            """One pass of every mapping; how many records they handled."""
            handled = replicator_poller.poll() + archiver_poller.poll()
            return handled + (query_poller.poll() if query_poller else 0)

        for chunk in generate(gen_rng, 0, options.records, options.chunk):
            entries = [(key, data) for key, data, _ in chunk]
            put_records(kinesis, source_arn, aggregate_some(entries, options.kpl_fraction, kpl_rng))
            for _, data, event in chunk:
                # the analyst reads what the stages made of the event (pseudonymised user, ...)
                staged = expected(event)
                briefs.append({k: staged.get(k) for k in analyst.BRIEF_FIELDS})
                raw.collect(event)
                if len(sample) < FIDELITY_SAMPLE:
                    sample[event["eventId"]] = json.loads(data, parse_float=Decimal)
            produced += len(chunk)
            if poison and produced >= min(options.records, options.chunk):
                put_records(kinesis, source_arn, [(f"poison-{k}", d) for k, d in poison])
                result.poison = len(poison)
                poison = []
            pump()
            elapsed = time.monotonic() - pipeline_started
            progress.show(
                f"produced {produced}/{options.records}  "
                f"replicator invocations {replicator_poller.stats.invocations}  "
                f"archiver invocations {archiver_poller.stats.invocations}  "
                f"{produced / elapsed if elapsed else 0:,.0f} records/s"
            )
        if poison:  # --records 0
            put_records(kinesis, source_arn, [(f"poison-{k}", d) for k, d in poison])
            result.poison = len(poison)
        while pump():  # drain: until a pass finds nothing new on either stream
            pass
        snapshots: tuple[RangeSnapshot, RangeSnapshot] | None = None
        if options.redrive:
            progress.show("redriving the on-failure queues ...", force=True)
            snapshots = _redrive(
                result, emulator, replicator_poller, archiver_poller, runtimes, pump, query_poller
            )
        result.produced = produced
        result.pipeline_seconds = time.monotonic() - pipeline_started
        result.records_per_second = (
            produced / result.pipeline_seconds if result.pipeline_seconds else 0.0
        )
        progress.show(
            f"produced {produced}/{options.records}: pipeline drained in "
            f"{result.pipeline_seconds:.1f} s",
            force=True,
        )
        progress.done()

        # -- check -----------------------------------------------------------------------------
        poc_ddb = emulator.client("dynamodb", table_account, poc_region)
        _check_table(result, poc_ddb, table_account, poc_region, table_name)
        # With a hot window the replicator adds the expiry attribute to every item (and line).
        ttl_on = int(_get(plan.replicator_config, plan.project, "ttlDays", 0) or 0) > 0
        ttl_attribute = str(_get(plan.replicator_config, plan.project, "ttlAttribute", "expiresAt"))
        added = (ttl_attribute,) if ttl_on else ()
        _check_archive(result, emulator, poc, sample, expected, raw, added)
        _check_queues(result, emulator, replicator, archiver, pollers)
        if query_poller is not None:
            _check_query_table(result, emulator, poc, table_name, query_poller.runtime)
        _check_analyst(result, emulator, poc, briefs, Path(workdir))
        result.raw_pii_in_target += _raw_pii_in_table_and_queues(
            emulator, table_account, poc_region, table_name, raw
        )
        if snapshots is not None:
            result.redriven = count_redriven(
                snapshots[0],
                (
                    (item.get("shardId", ""), item.get("sequenceNumber", ""))
                    for item in _table_items(table_account, poc_region, table_name)
                ),
                dead_letter_bodies(emulator, replicator),
                snapshots[1],
                result.archived_keys,
                dead_letter_bodies(emulator, archiver),
            )
        result.throttled_items = faults.throttled_items
        result.failed_firehose_records = faults.failed_firehose_records
        # -- what the emulated services received: Firehose records, the run's bill -----------
        result.firehose_records = service_metrics.RECORDER.counted.firehose_records
        result.run_usage = usage_of_run(
            region,
            produced,
            pollers,
            (table_account, poc_region, table_name),
            service_metrics.RECORDER.counted,
            result.dead_letter_messages + result.redrive_messages + result.on_failure_records,
        )
        for poller in pollers:
            result.mappings[poller.runtime.function.name] = asdict(poller.stats)

        # -- replay ----------------------------------------------------------------------------
        if options.replay:
            before = _count_items(table_account, poc_region, table_name)
            replicator_poller.reset("TRIM_HORIZON")
            dropped = [0]
            drop = _unchanged_writes_dropper(table_account, poc_region, table_name, dropped)
            replicator_poller.poll(after_batch=drop)
            drop()
            result.replay_stream_records_dropped = dropped[0]
            result.replay_new_items = _count_items(table_account, poc_region, table_name) - before
        result.crossaccount_denied = crossaccount.decisions["denied"]
        result.crossaccount_allowed = crossaccount.decisions["allowed"]
        _decide(result, options)
        _print_summary(result, out, options)
        if options.serve and options.hold:
            _serve_forever(
                emulator,
                result,
                out,
                table_name,
                {"poc": poc_account, "prod": prod_account},
                source_arn,
                replicator.log_group,
            )
    for runtime in runtimes:
        runtime.close()
    return result


def _redrive(
    result: DemoResult,
    emulator: Emulator,
    replicator_poller: StreamPoller,
    archiver_poller: StreamPoller,
    runtimes: list[FunctionRuntime],
    pump: Callable[[], int],
    query_poller: StreamPoller | None = None,
) -> tuple[RangeSnapshot, RangeSnapshot]:
    """The redrive pass: the replicator's on-failure queue, the table stream's mappings drained
    of what that wrote, then the archiver's queue and the query writer's (when deployed).
    Returns the ranges the replicator's and the archiver's queues named."""
    invoker = RuntimeInvoker(runtimes)
    kinesis = range_snapshot(emulator, replicator_poller)
    reports = [redrive_pass(emulator, replicator_poller, invoker)]
    while pump():
        pass
    table_stream = range_snapshot(emulator, archiver_poller)
    reports.append(redrive_pass(emulator, archiver_poller, invoker))
    if query_poller is not None:
        reports.append(redrive_pass(emulator, query_poller, invoker))
    for report in reports:
        result.redrive_messages += report.messages
        result.redrive_range_records += report.records_in_ranges
        result.redrive_expired += report.expired
        result.failures += [line for line in report.lines() if line.startswith("LEFT")]
    result.redrive_invocations = invoker.invocations
    return kinesis, table_stream


def _check_table(result: DemoResult, ddb: Any, account: str, region: str, table_name: str) -> None:
    event_ids: set[str] = set()
    keys: set[tuple[str, str]] = set()
    items = 0
    for item in _table_items(account, region, table_name):
        items += 1
        event_id = item.get("eventId")
        if event_id is not None:
            if event_id in event_ids:
                result.duplicate_items += 1
            event_ids.add(event_id)
        keys.add((item.get("shardId", ""), item.get("sequenceNumber", "")))
        if SUB_SEQUENCE_ATTRIBUTE in item:
            result.aggregated_items += 1
    result.replicated_items = items
    if items <= 5000:  # the API's count, where it costs little (moto copies every item)
        counted = sum(
            int(page["Count"])
            for page in ddb.get_paginator("scan").paginate(TableName=table_name, Select="COUNT")
        )
        if counted != items:
            result.failures.append(f"Scan counts {counted} items, the table holds {items}")
    if len(keys) != items:
        result.failures.append(f"{items - len(keys)} items share a (shardId, sequenceNumber)")


def _object_bytes(account: str, bucket: str, key: str) -> bytes:
    """An object's content, read from the emulator's store. Through the API, moto answers 403:
    it evaluates the bucket's TLS-only Deny without knowing ``aws:SecureTransport``."""
    from moto.s3.models import s3_backends

    obj = s3_backends[account]["aws"].get_object(bucket, key)
    if obj is None:
        raise RuntimeError(f"s3://{bucket}/{key} disappeared")
    body = bytes(obj.value)
    # Firehose with CompressionFormat GZIP writes gzip objects named *.gz.
    return gzip.decompress(body) if key.endswith(".gz") else body


def _raw_object_bytes(account: str, bucket: str, key: str) -> bytes:
    from moto.s3.models import s3_backends

    obj = s3_backends[account]["aws"].get_object(bucket, key)
    if obj is None:
        raise RuntimeError(f"s3://{bucket}/{key} disappeared")
    return bytes(obj.value)


def _expectation(plan: StackPlan, options: DemoOptions) -> Callable[[dict[str, Any]], Any]:
    """What an archived line must equal for a produced payload: the replicator's stages
    applied as configured (the transform file, then drop/pseudonymise with the sandbox key,
    then top-level null/"" dropped). Pseudonyms are computed here with ``hmac`` directly."""
    import copy
    import hashlib
    import hmac
    import importlib.util

    config = plan.replicator_config
    transform_path = _get(config, plan.project, "transformModule")
    transform = None
    if transform_path:
        spec = importlib.util.spec_from_file_location(
            "sandbox_expected_transform", str(transform_path)
        )
        if spec is None or spec.loader is None:
            raise RuntimeError(f"cannot load {transform_path}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        transform = module.transform
    drop = [p.split(".") for p in _get(config, plan.project, "dropFields") or []]
    pseudo = [p.split(".") for p in _get(config, plan.project, "pseudonymizeFields") or []]
    key = pseudonymization_key(options).encode()

    def walk(node: Any, path: list[str], change: Callable[[dict[str, Any], str], None]) -> None:
        if isinstance(node, list):
            for element in node:
                walk(element, path, change)
        elif isinstance(node, dict) and path[0] in node:
            if len(path) == 1:
                change(node, path[0])
            else:
                walk(node[path[0]], path[1:], change)

    def pseudonymise(node: dict[str, Any], name: str) -> None:
        value = node[name]
        if isinstance(value, str):
            node[name] = hmac.new(key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def expect(original: dict[str, Any]) -> Any:
        payload = copy.deepcopy(original)
        if transform is not None:
            payload = transform(payload, None)
        for path in drop:
            walk(payload, path, lambda node, name: node.pop(name))
        for path in pseudo:
            walk(payload, path, pseudonymise)
        return _clean(payload)

    return expect


def _raw_pii_in_table_and_queues(
    emulator: Emulator, account: str, region: str, table: str, raw: RawValues
) -> int:
    """Items of the replica table, and messages of every queue of the target account, that hold
    a raw value of a pseudonymised field."""
    from moto.dynamodb.models import dynamodb_backends

    found = 0
    for item in dynamodb_backends[account][region].get_table(table).all_items():
        if raw.holds_raw(item.to_json()):
            found += 1
    sqs = emulator.client("sqs", account, region)
    for url in sqs.list_queues().get("QueueUrls", []):
        for message in _read_all_messages(sqs, url):
            if raw.holds_raw(json.loads(message["Body"])):
                found += 1
    return found


def _check_archive(
    result: DemoResult,
    emulator: Emulator,
    poc: Deployment,
    sample: dict[str, dict[str, Any]],
    expected: Callable[[dict[str, Any]], Any] = _clean,
    raw: RawValues | None = None,
    replicator_adds: tuple[str, ...] = (),
) -> None:
    s3 = emulator.client("s3", poc.account_id, poc.region)
    buckets = [b["Name"] for b in s3.list_buckets().get("Buckets", [])]
    distinct: set[tuple[str, str]] = set()
    lines = 0
    for bucket in buckets:
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            for obj in page.get("Contents", []):
                body = _object_bytes(poc.account_id, bucket, obj["Key"])
                for text in body.decode("utf-8").splitlines():
                    if not text.strip():
                        continue
                    lines += 1
                    line = json.loads(text, parse_float=Decimal)
                    if raw is not None and raw.holds_raw(line):
                        result.raw_pii_in_target += 1
                    if not all(k in line for k in KEY_ATTRIBUTES):
                        result.failures.append(
                            f"archived line without the key attributes: {text[:80]}"
                        )
                        continue
                    distinct.add((line["shardId"], line["sequenceNumber"]))
                    result.archived_keys.add(
                        (str(line["seqNumbershardIdHash"]), str(line["sequenceNumber"]))
                    )
                    original = sample.get(line.get("eventId"))
                    if original is not None:
                        result.fidelity_checked += 1
                        added = (*KEY_ATTRIBUTES, SUB_SEQUENCE_ATTRIBUTE, *replicator_adds)
                        payload = {k: v for k, v in line.items() if k not in added}
                        if payload != expected(original):
                            result.fidelity_mismatches += 1
    result.archived_lines = lines
    result.archived_distinct = len(distinct)


def _check_query_table(
    result: DemoResult, emulator: Emulator, poc: Deployment, replica: str, writer: FunctionRuntime
) -> None:
    """For each user, the query table's Query returns the user's events of the replica, in time
    order. Items are counted from moto's table; users are queried through the API (up to 200,
    the ones with the most events first)."""
    from moto.dynamodb.models import dynamodb_backends

    result.query_table_deployed = True
    env = writer.env_vars
    table, user_key = env["QUERY_TABLE_NAME"], env["QUERY_HASH_ATTRIBUTE"]
    order_key = env["QUERY_RANGE_ATTRIBUTE"]
    backend = dynamodb_backends[writer.function.account_id][writer.function.region]
    result.query_table_items = len(backend.get_table(table).all_items())
    by_user: dict[str, list[tuple[Decimal, str]]] = {}
    for item in backend.get_table(replica).all_items():
        user, at = item.attrs.get(user_key), item.attrs.get(order_key)
        if user is not None and at is not None:
            by_user.setdefault(str(user.value), []).append(
                (Decimal(str(at.value)), str(item.attrs["eventId"].value))
            )
    expected_items = sum(len(v) for v in by_user.values())
    if result.query_table_items != expected_items:
        result.failures.append(
            f"query table holds {result.query_table_items} items, the replica "
            f"{expected_items} events with {user_key} and {order_key}"
        )
    ddb = emulator.client("dynamodb", writer.function.account_id, writer.function.region)
    for user in sorted(by_user, key=lambda u: (-len(by_user[u]), u))[:200]:
        pages = ddb.get_paginator("query").paginate(
            TableName=table,
            KeyConditionExpression="#u = :u",
            ExpressionAttributeNames={"#u": user_key},
            ExpressionAttributeValues={":u": {"S": user}},
        )
        got = [(Decimal(i[order_key]["N"]), i["eventId"]["S"]) for p in pages for i in p["Items"]]
        times = [t for t, _ in got]
        if times != sorted(times) or sorted(got) != sorted(by_user[user]):
            result.failures.append(f"query table: {user}'s events differ from the replica's")
        result.query_users_checked += 1


def _check_analyst(
    result: DemoResult,
    emulator: Emulator,
    poc: Deployment,
    briefs: list[dict[str, Any]],
    workdir: Path,
) -> None:
    """The analyst's SQL (DuckDB) over the archive, read with the Glue table's layout."""
    import duckdb

    database, table = poc.outputs.get("glueDatabaseName"), poc.outputs.get("glueTableName")
    if not database or not table:
        return  # no catalog deployed (archiveCatalogEnabled false)
    glue = emulator.client("glue", poc.account_id, poc.region)
    layout = analyst.GlueLayout.from_glue(
        glue.get_table(DatabaseName=database, Name=table)["Table"]
    )
    s3 = emulator.client("s3", poc.account_id, poc.region)
    keys = [
        obj["Key"]
        for page in s3.get_paginator("list_objects_v2").paginate(
            Bucket=layout.bucket, Prefix=layout.prefix
        )
        for obj in page.get("Contents", [])
    ]
    folder = workdir / "analyst"
    try:
        objects = ((key, _raw_object_bytes(poc.account_id, layout.bucket, key)) for key in keys)
        count = analyst.copy_archive(objects, layout, folder)
        outcome = analyst.run(folder, layout, briefs)
    except (ValueError, RuntimeError, duckdb.Error) as exc:
        result.failures.append(f"analyst query: {exc}")
        return
    outcome.objects = count
    result.analyst = outcome
    result.analyst_query_ok = outcome.ok
    result.failures += [f"analyst query: {f}" for f in outcome.failures]


def _check_queues(
    result: DemoResult,
    emulator: Emulator,
    replicator: FunctionRuntime,
    archiver: FunctionRuntime,
    pollers: list[StreamPoller],
) -> None:
    distinct: set[tuple[str, str, str]] = set()
    for runtime in (replicator, archiver):
        url = runtime.env_vars.get("DEAD_LETTER_QUEUE_URL")
        if not url:
            result.failures.append(f"{runtime.function.name}: no DEAD_LETTER_QUEUE_URL")
            continue
        sqs = emulator.client("sqs", runtime.function.account_id, runtime.function.region)
        for message in _read_all_messages(sqs, url):
            result.dead_letter_messages += 1
            body = json.loads(message["Body"])
            if not body.get("reason"):
                result.failures.append(f"dead letter without a reason: {sorted(body)}")
            reason = str(body.get("reason", "<no reason>")).split(":")[0]
            if not any(k.startswith(("data", "payload")) for k in body):
                result.failures.append(f"dead letter without the raw payload: {sorted(body)}")
            if "sequenceNumber" not in body:
                result.failures.append(f"dead letter without a sequenceNumber: {sorted(body)}")
                continue
            source = str(body.get("shardId") or body.get("eventSourceARN") or "")
            key = (runtime.function.name, source, str(body["sequenceNumber"]))
            if key not in distinct:
                distinct.add(key)
                result.dead_letter_reasons[reason] = result.dead_letter_reasons.get(reason, 0) + 1
    # A record redelivered after a partial failure is dead-lettered again (at-least-once);
    # what counts is that each poison record is kept.
    result.dead_lettered = len(distinct)
    for poller in pollers:
        destination = poller.settings.on_failure_arn
        if not destination:
            result.failures.append(f"{poller.runtime.function.name}: no on-failure destination")
            continue
        account = destination.split(":")[4]
        sqs = emulator.client("sqs", account, destination.split(":")[3])
        url = sqs.get_queue_url(QueueName=destination.split(":")[5])["QueueUrl"]
        result.on_failure_records += _queue_depth(sqs, url)


def _decide(result: DemoResult, options: DemoOptions | None = None) -> None:
    wanted = options.placement if options and options.placement else result.placement
    checks = [
        (result.placement == wanted, f"the replicator runs in {wanted} placement"),
        (
            result.placement == "source" or result.prod_functions == 0,
            "in target placement the prod account holds no Lambda function",
        ),
        (
            not options
            or not options.consumer_mode
            or result.consumer_mode == options.consumer_mode,
            "the mapping reads the stream in the requested consumer mode",
        ),
        (result.replicated_items == result.produced, "every produced record is an item"),
        (result.duplicate_items == 0, "no event is stored twice"),
        (result.dead_lettered == result.poison, "every poison record is dead-lettered"),
        (result.archived_distinct == result.replicated_items, "every item is archived"),
        (result.archived_lines >= result.archived_distinct, "archive line count"),
        (result.fidelity_mismatches == 0, "archived lines equal the payloads"),
        (result.on_failure_records == 0, "no batch is left in an on-failure queue"),
        (result.redrive_expired == 0, "no record expired before the redrive"),
        (not result.replay_new_items, "a replay adds no item"),
        (result.crossaccount_denied == 0, "no cross-account call was denied"),
        (result.raw_pii_in_target == 0, "no raw value of a pseudonymised field in the target"),
    ]
    if result.query_table_deployed:
        checks.append(
            (
                result.query_table_items == result.replicated_items,
                "every replicated event is in the query table",
            )
        )
    if result.analyst is not None:
        checks.append((result.analyst_query_ok, "the analyst's SQL agrees with the produced"))
    for ok, what in checks:
        if not ok:
            result.failures.append(f"check failed: {what}")
    result.ok = not result.failures


def _or_skipped(value: int | None) -> int | str:
    return "skipped" if value is None else value


def _print_summary(result: DemoResult, out: TextIO, options: DemoOptions) -> None:
    rows = [
        ("records produced", result.produced),
        ("poison records produced", result.poison),
        ("items in the replica table", result.replicated_items),
        ("of which user records of KPL aggregates", result.aggregated_items),
        ("duplicate items", result.duplicate_items),
        ("lines archived to S3 (Firehose)", result.archived_lines),
        ("records the Firehose received (lines packed)", result.firehose_records),
        ("distinct items archived", result.archived_distinct),
        ("archived lines compared with their payload", result.fidelity_checked),
        ("dead-lettered (poison) records", result.dead_lettered),
        ("dead-letter messages (with redeliveries)", result.dead_letter_messages),
        ("on-failure messages redriven", result.redrive_messages),
        (
            "records named by them / redriven (counted in table, S3, dead letters)",
            f"{result.redrive_range_records} / {_or_skipped(result.redriven)}",
        ),
        ("records expired before the redrive", result.redrive_expired),
        ("batches left in on-failure queues", result.on_failure_records),
        ("items added by the replay from TRIM_HORIZON", _or_skipped(result.replay_new_items)),
        ("items in the query table (by user, time order)", result.query_table_items),
        ("users whose Query matches the replica, in order", result.query_users_checked),
        ("places in the target account holding raw PII", result.raw_pii_in_target),
        (
            "table-stream records of the replay's unchanged writes (dropped)",
            result.replay_stream_records_dropped,
        ),
        ("writes throttled (injected)", result.throttled_items),
        ("Firehose records failed (injected)", result.failed_firehose_records),
        (
            "cross-account calls allowed / denied (IAM checked)",
            f"{result.crossaccount_allowed} / {result.crossaccount_denied}",
        ),
        (
            "replicator placement / consumer mode (as deployed)",
            f"{result.placement} / {result.consumer_mode}",
        ),
        ("Lambda functions in the prod account", result.prod_functions),
        ("resources deployed (both stacks)", sum(result.resources.values())),
        ("deploy time (both stacks)", f"{result.deploy_seconds:.1f} s"),
        ("pipeline time", f"{result.pipeline_seconds:.1f} s"),
        ("throughput", f"{result.records_per_second:,.0f} records/s"),
    ]
    for name, stats in result.mappings.items():
        rows.append(
            (
                f"{name}: invocations / errors / retries / bisections",
                f"{stats['invocations']} / {stats['function_errors']} / {stats['retries']} / "
                f"{stats['bisections']}",
            )
        )
    width = max(len(r[0]) for r in rows)
    print(f"{'check':<{width}}  value", file=out)
    print(f"{'-' * width}  {'-' * 12}", file=out)
    for label, value in rows:
        print(f"{label:<{width}}  {value}", file=out)
    if result.dead_letter_reasons:
        reasons = ", ".join(f"{k} x{v}" for k, v in sorted(result.dead_letter_reasons.items()))
        print(f"dead-letter reasons: {reasons}", file=out)
    if result.analyst is not None:
        a = result.analyst
        print(
            f"\nthe analyst's view: DuckDB over {a.objects} archived objects "
            f"({a.rows} lines, {a.distinct_rows} distinct items), read with the Glue table's "
            "partition layout:",
            file=out,
        )
        for line in a.report:
            print(line, file=out)
        print(f"analyst queries agree with the produced events: {a.ok}\n", file=out)
    if result.run_usage is not None:
        print_run_cost(result.run_usage, out)
    for failure in result.failures:
        print(f"FAILED: {failure}", file=out)
    print(result.final_json(), file=out)
    out.flush()


def write_cli_profiles(
    emulator: Emulator, accounts: dict[str, str], folder: Path
) -> tuple[Path, Path]:
    """AWS CLI/boto3 ``config`` and ``credentials`` files with one profile per account
    (``sandbox-poc``, ``sandbox-prod``), each holding credentials of a role assumed in that
    account and the emulator's endpoint."""
    config_lines, credential_lines = [], []
    for stack, account in accounts.items():
        creds = emulator.credentials_for_role(
            f"arn:aws:iam::{account}:role/sandbox-cli", f"sandbox-cli-{stack}"
        )
        config_lines += [
            f"[profile sandbox-{stack}]",
            f"region = {emulator.region}",
            f"endpoint_url = {emulator.endpoint_url}",
            "",
        ]
        credential_lines += [
            f"[sandbox-{stack}]",
            f"aws_access_key_id = {creds['AccessKeyId']}",
            f"aws_secret_access_key = {creds['SecretAccessKey']}",
            f"aws_session_token = {creds['SessionToken']}",
            "",
        ]
    folder.mkdir(parents=True, exist_ok=True)
    config, credentials = folder / "config", folder / "credentials"
    config.write_text("\n".join(config_lines))
    credentials.write_text("\n".join(credential_lines))
    return config, credentials


def _serve_forever(
    emulator: Emulator,
    result: DemoResult,
    out: TextIO,
    table_name: str,
    accounts: dict[str, str],
    source_arn: str,
    log_group: str,
) -> None:
    folder = Path(tempfile.mkdtemp(prefix="sandbox-aws-"))
    config, credentials = write_cli_profiles(emulator, accounts, folder)
    print(
        f"\nmoto server: {result.endpoint_url} (up until Ctrl-C). Profiles sandbox-poc and "
        "sandbox-prod act in the two accounts:\n"
        f"  export AWS_CONFIG_FILE={config} AWS_SHARED_CREDENTIALS_FILE={credentials}\n"
        f"  aws --profile sandbox-poc dynamodb scan --table-name {table_name} --max-items 2\n"
        "  aws --profile sandbox-poc s3 ls\n"
        "  aws --profile sandbox-poc sqs list-queues\n"
        "  aws --profile sandbox-prod kinesis describe-stream-summary "
        f"--stream-name {source_arn.rsplit('/', 1)[-1]}\n"
        "  aws --profile sandbox-prod lambda list-event-source-mappings\n"
        "  aws --profile sandbox-prod logs filter-log-events "
        f"--log-group-name {log_group} --limit 5\n"
        "or in Python: boto3.Session(profile_name='sandbox-poc').client('dynamodb')",
        file=out,
    )
    out.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nstopping the emulator", file=out)
