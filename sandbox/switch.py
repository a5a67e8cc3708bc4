"""``--switch-consumer-mode``: switch the replicator's mapping shared -> efo and back while the
clickstream flows, the way a real ``pulumi up`` of the new ``consumerMode`` would.

Each switch updates both stacks (in their placement's order) with the other ``consumerMode``:
the program reads its last ``deployedSettings`` back, sees the mapping's new source and starts
the replacement ``AT_TIMESTAMP`` ``switchRewindSeconds`` before the update
(``deployed_settings.py``); the update emulation (:mod:`sandbox.mocks`) keeps every unchanged
resource, creates the new mapping (and consumer) and leaves the old mapping running. One chunk
of the clickstream then flows through both mappings (Pulumi deletes the old mapping only after
the new one exists), and the old mapping is deleted, as the update ends.

The overlap — records both mappings wrote, to the same key — is measured on the table's stream:
every write puts one record there in moto (DynamoDB itself writes none for a put that changes
nothing), so the stream's growth beyond the table's is the number of writes repeated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from .deploy import deploy_stack
from .drive import Pipeline
from .emulator import Emulator
from .mocks import Deployment, removed
from .plan import DemoOptions, StackPlan, config_value
from .poller import StreamPoller, epoch_seconds
from .report import DemoResult, Progress

#: ``switchRewindSeconds`` in the sandbox's updates: the run lasts seconds, not hours.
SANDBOX_REWIND_SECONDS = 2


@dataclass
class Switch:
    """One switch's figures."""

    to_mode: str
    #: records the new mapping and the old one both wrote (same key: no second item)
    overlap_records: int = 0
    starting_position: str = ""
    starting_position_timestamp: str = ""


class ConsumerModeSwitcher:
    """Updates the stacks to another ``consumerMode`` mid-run (module docstring).

    :param deployments: the ``(poc, prod)`` deployments, replaced by each update's.
    """

    def __init__(
        self,
        emulator: Emulator,
        plan: StackPlan,
        options: DemoOptions,
        deployments: tuple[Deployment, Deployment],
    ) -> None:
        self.emulator = emulator
        self.plan = plan
        self.options = options
        self.poc, self.prod = deployments
        self.mode = str(config_value(plan.prod_config, plan.project, "consumerMode", "shared"))
        self.switches: list[Switch] = []
        self._old: StreamPoller | None = None
        self._finish: Callable[[], None] | None = None
        self._stream_before = 0
        self._items_before = 0

    # -- the table's stream and items, for the overlap ------------------------------------------
    def _table_counts(self, pipeline: Pipeline) -> tuple[int, int]:
        from moto.dynamodb.models import dynamodb_backends

        table = dynamodb_backends[pipeline.table_account][self.plan.poc_region].get_table(
            pipeline.table_name
        )
        shard = table.stream_shard
        written = (shard.starting_sequence_number + len(shard.items)) if shard else 0
        return written, len(table.all_items())

    # -- the update ------------------------------------------------------------------------------
    def _update(self, mode: str) -> None:
        plan = self.plan
        overrides = {"consumerMode": mode, "switchRewindSeconds": SANDBOX_REWIND_SECONDS}
        poc_reference = str(
            config_value(plan.prod_config, plan.project, "pocStackReference") or "poc"
        )
        prod_reference = str(
            config_value(plan.poc_config, plan.project, "prodStackReference") or "prod"
        )

        def references() -> dict[str, dict]:
            return {
                poc_reference: self.poc.outputs,
                "poc": self.poc.outputs,
                prod_reference: self.prod.outputs,
                "prod": self.prod.outputs,
            }

        def update(stack: str) -> Deployment:
            poc = stack == "poc"
            prior = self.poc if poc else self.prod
            return deploy_stack(
                self.emulator,
                stack,
                plan.poc_account if poc else plan.prod_account,
                plan.poc_region if poc else plan.prod_region,
                plan.poc_config if poc else plan.prod_config,
                {**(plan.poc_overrides if poc else plan.prod_overrides), **overrides},
                self.options.project_dir,
                references(),
                prior=prior,
            )

        for stack in ("prod", "poc") if plan.target_placement else ("poc", "prod"):
            prior = self.poc if stack == "poc" else self.prod
            after = update(stack)
            for typ, name, resource in removed(prior, after):
                self._delete(typ, name, resource.id, resource.account, resource.region)
            if stack == "poc":
                self.poc = after
            else:
                self.prod = after

    def _delete(self, typ: str, name: str, resource_id: str, account: str, region: str) -> None:
        """What the update no longer registers (the old mapping is deleted by :meth:`finish`)."""
        if typ == "aws:kinesis/streamConsumer:StreamConsumer":
            self._finish_later(
                lambda: self.emulator.client("kinesis", account, region).deregister_stream_consumer(
                    ConsumerARN=resource_id
                )
            )
        elif typ == "aws:cloudwatch/metricAlarm:MetricAlarm":
            self._finish_later(
                lambda: self.emulator.client("cloudwatch", account, region).delete_alarms(
                    AlarmNames=[resource_id]
                )
            )
        elif typ != "aws:lambda/eventSourceMapping:EventSourceMapping":
            raise RuntimeError(f"the sandbox's switch does not delete {typ} {name!r}")

    def _finish_later(self, step: Callable[[], object]) -> None:
        previous = self._finish

        def finish() -> None:
            if previous is not None:
                previous()
            step()

        self._finish = finish

    # -- driving ---------------------------------------------------------------------------------
    def begin(self, pipeline: Pipeline) -> None:
        """Update both stacks to the other mode; the new mapping's poller joins ``pipeline``
        beside the old one until :meth:`finish`."""
        self.mode = self._next()
        self._stream_before, self._items_before = self._table_counts(pipeline)
        self._update(self.mode)
        runner = self.poc if self.plan.target_placement else self.prod
        replaced = runner.replaced_mappings
        if len(replaced) != 1:
            raise RuntimeError(f"the switch replaced {len(replaced)} mappings, expected 1")
        account, region, old_uuid = replaced[0]
        new = [m for m in runner.mappings if m[2] != old_uuid and self._is_kinesis(m)]
        if len(new) != 1:
            raise RuntimeError(f"expected one new Kinesis mapping, found {len(new)}")
        old = pipeline.replicator_poller
        poller = StreamPoller(
            self.emulator,
            new[0][0],
            new[0][1],
            new[0][2],
            old.runtime,
            crash_rate=self.options.crash_invocations,
            api_stream_reads=self.options.api_stream_reads,
        )
        switch = Switch(
            self.mode,
            starting_position=poller.settings.starting_position,
            starting_position_timestamp=datetime.fromtimestamp(
                epoch_seconds(poller.settings.starting_position_timestamp), UTC
            ).strftime("%Y-%m-%dT%H:%M:%SZ"),
        )
        self.switches.append(switch)
        pipeline.pollers.insert(pipeline.pollers.index(old) + 1, poller)
        pipeline.replicator_poller = poller
        self._old = old
        pipeline.overlapping = old

        def delete_old_mapping() -> None:
            self.emulator.client("lambda", account, region).delete_event_source_mapping(
                UUID=old_uuid
            )

        self._finish_later(delete_old_mapping)

    def _is_kinesis(self, mapping: tuple[str, str, str]) -> bool:
        account, region, uuid = mapping
        lam = self.emulator.client("lambda", account, region)
        source = lam.get_event_source_mapping(UUID=uuid)["EventSourceArn"]
        return str(source).split(":")[2] == "kinesis"

    def finish(self, pipeline: Pipeline) -> None:
        """The update ends: the old mapping (and a consumer no longer used) is deleted, after a
        last pass of it; the overlap is counted once the new mapping has caught up."""
        old = self._old
        if old is None:
            return
        old.poll()
        if self._finish is not None:
            self._finish()
        self._finish = None
        pipeline.pollers.remove(old)
        pipeline.overlapping = None
        self._old = None
        pipeline.drain()
        stream, items = self._table_counts(pipeline)
        self.switches[-1].overlap_records = (stream - self._stream_before) - (
            items - self._items_before
        )

    @property
    def overlap_records(self) -> int:
        return sum(s.overlap_records for s in self.switches)

    def after_chunk(
        self, pipeline: Pipeline, records: int, progress: Progress
    ) -> Callable[[int], None]:
        """The hook :func:`~sandbox.drive.produce_and_drain` calls after each chunk: the first
        switch once a third of ``records`` is produced, the way back at two thirds, each update
        ended one chunk later."""
        marks = [max(1, records // 3), max(1, 2 * records // 3)]

        def hook(produced: int) -> None:
            if self._old is not None:
                self.finish(pipeline)
                progress.show(f"consumerMode {self.mode}: old mapping deleted", force=True)
            if marks and produced >= marks[0]:
                marks.pop(0)
                progress.show(f"updating the stacks to consumerMode {self._next()} ...", force=True)
                self.begin(pipeline)

        return hook

    def _next(self) -> str:
        return "efo" if self.mode == "shared" else "shared"

    def report(self, result: DemoResult, pipeline: Pipeline) -> None:
        """End an update still under way (the clickstream ended during it); the switches into
        ``result`` (the overlap, each switch's start)."""
        self.finish(pipeline)
        result.switch_overlap_records = self.overlap_records
        result.switches = [
            f"{s.to_mode} at {s.starting_position} {s.starting_position_timestamp}"
            f" (overlap {s.overlap_records})"
            for s in self.switches
        ]
        if len(self.switches) != 2:
            result.failures.append(f"expected 2 consumer-mode switches, ran {len(self.switches)}")
