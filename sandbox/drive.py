"""Driving the deployed pipeline: a poller plays Lambda for every event source mapping, the
clickstream is produced into the source stream chunk by chunk with the mappings pumped after
each, the pipeline is drained, the on-failure queues are redriven, and (after the checks) the
replicator replays its stream from ``TRIM_HORIZON``.
"""

from __future__ import annotations

import json
import random
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from stream_replica.components.assets import QUERY_WRITER_HANDLER
from stream_replica.testing.clickstream import aggregate_some, generate, poison_records, put_records

from . import analyst
from .emulator import Emulator
from .expected import expectation
from .lambda_runtime import FunctionRuntime
from .mocks import Deployment
from .pii import RawValues
from .plan import DemoOptions, StackPlan, config_value
from .poller import StreamPoller
from .redrive_pass import RangeSnapshot, RuntimeInvoker, range_snapshot, redrive_pass
from .report import DemoResult, Progress

#: How many produced events are kept whole to compare with their archived line.
FIDELITY_SAMPLE = 500


@dataclass
class Pipeline:
    """The deployed mappings, each driven by a :class:`StreamPoller` running its function: the
    replicator's (Kinesis), the archiver's and, when deployed, the query writer's (the table's
    stream)."""

    pollers: list[StreamPoller]
    runtimes: list[FunctionRuntime]
    replicator_poller: StreamPoller
    archiver_poller: StreamPoller
    query_poller: StreamPoller | None
    #: a replaced replicator mapping still running beside its replacement (during an update)
    overlapping: StreamPoller | None = None
    #: mappings outside the stacks still running (``--cutover``: the original deployment's)
    extra: list[StreamPoller] = field(default_factory=list)

    @classmethod
    def wire(
        cls,
        emulator: Emulator,
        deployments: Iterable[Deployment],
        options: DemoOptions,
        workdir: Path,
    ) -> Pipeline:
        """A poller for every mapping the ``deployments`` created, its function's code unpacked
        under ``workdir``. Raises ``RuntimeError`` unless there is one Kinesis mapping, one
        archiver mapping on the table's stream and at most one query writer's."""
        rng = random.Random(options.seed)
        pollers: list[StreamPoller] = []
        runtimes: list[FunctionRuntime] = []
        for deployment in deployments:
            for account, mapping_region, uuid in deployment.mappings:
                lam = emulator.client("lambda", account, mapping_region)
                function_arn = lam.get_event_source_mapping(UUID=uuid)["FunctionArn"]
                function = deployment.functions[function_arn]
                runtime = FunctionRuntime(function, emulator, workdir)
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
                        api_stream_reads=options.api_stream_reads,
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
        return cls(
            pollers=pollers,
            runtimes=runtimes,
            replicator_poller=kinesis_pollers[0],
            archiver_poller=table_pollers[0],
            query_poller=query_pollers[0] if query_pollers else None,
        )

    @property
    def replicator(self) -> FunctionRuntime:
        return self.replicator_poller.runtime

    @property
    def archiver(self) -> FunctionRuntime:
        return self.archiver_poller.runtime

    @property
    def source_arn(self) -> str:
        """The source stream's ARN (also under enhanced fan-out)."""
        return self.replicator_poller.settings.stream_arn

    @property
    def _table_arn(self) -> str:
        return self.archiver_poller.settings.source_arn.split("/stream/")[0]

    @property
    def table_name(self) -> str:
        """The replica table's name."""
        return self._table_arn.rsplit("/", 1)[-1]

    @property
    def table_account(self) -> str:
        """The account that holds the replica table."""
        return self._table_arn.split(":")[4]

    def pump(self) -> int:
        """One pass of every mapping; how many records they handled."""
        handled = self.overlapping.poll() if self.overlapping else 0
        handled += sum(poller.poll() for poller in self.extra)
        handled += self.replicator_poller.poll() + self.archiver_poller.poll()
        return handled + (self.query_poller.poll() if self.query_poller else 0)

    def drain(self) -> None:
        """Pump until a pass finds nothing new on any stream."""
        while self.pump():
            pass

    def close(self) -> None:
        for runtime in self.runtimes:
            runtime.close()


@dataclass
class Production:
    """What was produced, kept for the checks: ``expected`` maps a produced payload to the line
    the archive must hold (:func:`~sandbox.expected.expectation`); ``sample``: up to
    :data:`FIDELITY_SAMPLE` payloads by eventId; ``briefs``: every produced event as archived
    (after the configured stages), in brief, for the analyst's queries; ``raw``: the raw values
    of the pseudonymised fields; ``redriven_ranges``: the ranges the replicator's and the
    archiver's on-failure queues named before the redrive (None: no redrive)."""

    expected: Callable[[dict[str, Any]], Any]
    raw: RawValues
    sample: dict[str, dict[str, Any]] = field(default_factory=dict)
    briefs: list[dict[str, Any]] = field(default_factory=list)
    redriven_ranges: tuple[RangeSnapshot, RangeSnapshot] | None = None


Chunk = list[tuple[str, bytes, dict[str, Any]]]


def new_production(plan: StackPlan, options: DemoOptions) -> Production:
    """An empty :class:`Production` for the run's stages."""
    return Production(
        expected=expectation(plan, options),
        raw=RawValues(
            config_value(plan.replicator_config, plan.project, "pseudonymizeFields") or []
        ),
    )


def put_chunk(
    kinesis: Any,
    source_arn: str,
    chunk: Chunk,
    production: Production,
    options: DemoOptions,
    kpl_rng: random.Random,
) -> None:
    """Put one chunk of the clickstream on the source stream (a share packed in KPL
    aggregates) and note each event in ``production``."""
    entries = [(key, data) for key, data, _ in chunk]
    put_records(kinesis, source_arn, aggregate_some(entries, options.kpl_fraction, kpl_rng))
    for _, data, event in chunk:
        # the analyst reads what the stages made of the event (pseudonymised user, ...)
        staged = production.expected(event)
        production.briefs.append({k: staged.get(k) for k in analyst.BRIEF_FIELDS})
        production.raw.collect(event)
        if len(production.sample) < FIDELITY_SAMPLE:
            production.sample[event["eventId"]] = json.loads(data, parse_float=Decimal)


def produce_and_drain(
    result: DemoResult,
    emulator: Emulator,
    plan: StackPlan,
    options: DemoOptions,
    pipeline: Pipeline,
    progress: Progress,
    after_chunk: Callable[[int], None] | None = None,
    *,
    start: int = 0,
    production: Production | None = None,
    reshape: Callable[[Chunk], Chunk] | None = None,
) -> Production:
    """Put the clickstream (and the poison records, after the first chunk) into the source
    stream, pumping the mappings after each chunk (then ``after_chunk(records produced so
    far)``); drain; redrive the on-failure queues unless ``options.redrive`` is off. The figures
    go to ``result``. ``start``: events already produced (into ``production``, by
    :func:`put_chunk`), the clickstream goes on from there; ``reshape``: applied to each chunk
    before it is put."""
    kinesis = emulator.client("kinesis", plan.prod_account, plan.prod_region)
    gen_rng = random.Random(options.seed + start)
    kpl_rng = random.Random(options.seed + 1 + start)
    production = production or new_production(plan, options)
    source_arn = pipeline.source_arn
    poison = poison_records() if options.poison else []
    pipeline_started = time.monotonic()
    produced = start
    for chunk in generate(gen_rng, start, options.records - start, options.chunk):
        if reshape is not None:
            chunk = reshape(chunk)
        put_chunk(kinesis, source_arn, chunk, production, options, kpl_rng)
        produced += len(chunk)
        if poison and produced >= min(options.records, options.chunk):
            put_records(kinesis, source_arn, [(f"poison-{k}", d) for k, d in poison])
            result.poison = len(poison)
            poison = []
        pipeline.pump()
        if after_chunk is not None:
            after_chunk(produced)
        elapsed = time.monotonic() - pipeline_started
        progress.show(
            f"produced {produced}/{options.records}  "
            f"replicator invocations {pipeline.replicator_poller.stats.invocations}  "
            f"archiver invocations {pipeline.archiver_poller.stats.invocations}  "
            f"{produced / elapsed if elapsed else 0:,.0f} records/s"
        )
    if poison:  # --records 0
        put_records(kinesis, source_arn, [(f"poison-{k}", d) for k, d in poison])
        result.poison = len(poison)
    pipeline.drain()
    drained = time.monotonic() - pipeline_started
    progress.line(f"produced {produced}/{options.records}: pipeline drained in {drained:.1f} s")
    if options.redrive:
        with progress.phase("redriving the on-failure queues"):
            production.redriven_ranges = redrive(result, emulator, pipeline)
    result.produced = produced
    result.pipeline_seconds = time.monotonic() - pipeline_started
    result.records_per_second = (
        produced / result.pipeline_seconds if result.pipeline_seconds else 0.0
    )
    return production


def redrive(
    result: DemoResult, emulator: Emulator, pipeline: Pipeline
) -> tuple[RangeSnapshot, RangeSnapshot]:
    """The redrive pass: the replicator's on-failure queue, the table stream's mappings drained
    of what that wrote, then the archiver's queue and the query writer's (when deployed).
    Returns the ranges the replicator's and the archiver's queues named."""
    invoker = RuntimeInvoker(pipeline.runtimes)
    kinesis = range_snapshot(emulator, pipeline.replicator_poller)
    reports = [redrive_pass(emulator, pipeline.replicator_poller, invoker)]
    pipeline.drain()
    table_stream = range_snapshot(emulator, pipeline.archiver_poller)
    reports.append(redrive_pass(emulator, pipeline.archiver_poller, invoker))
    if pipeline.query_poller is not None:
        reports.append(redrive_pass(emulator, pipeline.query_poller, invoker))
    for report in reports:
        result.redrive_messages += report.messages
        result.redrive_range_records += report.records_in_ranges
        result.redrive_expired += report.expired
        result.failures += [line for line in report.lines() if line.startswith("LEFT")]
    result.redrive_invocations = invoker.invocations
    return kinesis, table_stream


def _count_items(account: str, region: str, table: str) -> int:
    from moto.dynamodb.models import dynamodb_backends

    return len(dynamodb_backends[account][region].get_table(table).all_items())


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


def replay(result: DemoResult, plan: StackPlan, pipeline: Pipeline) -> None:
    """Run the replicator over its whole stream again (``TRIM_HORIZON``); ``result`` gets the
    items that added (none, if the writes are idempotent)."""
    account, region, table = pipeline.table_account, plan.poc_region, pipeline.table_name
    before = _count_items(account, region, table)
    pipeline.replicator_poller.reset("TRIM_HORIZON")
    dropped = [0]
    drop = _unchanged_writes_dropper(account, region, table, dropped)
    pipeline.replicator_poller.poll(after_batch=drop)
    drop()
    result.replay_stream_records_dropped = dropped[0]
    result.replay_new_items = _count_items(account, region, table) - before
