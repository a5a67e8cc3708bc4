"""``--cutover``: take over the original hand-made deployment while its traffic flows
(docs/takeover.md), in the emulated accounts.

1. The source stream, then the original deployment (:mod:`sandbox.seed_deployment`), and a third
   of the clickstream through it. Its replicator swallows every exception, so a record holding
   a decimal number (or packed in a KPL aggregate) never reaches the table: a share of the
   clickstream is made free of decimals here (:func:`decimal_free_share`), the rest is skipped.
2. The stacks, with the config of docs/takeover.md: the poc stack adopts the table (import,
   its settings stated as they are: the import refuses any difference), new names for what the
   old deployment still uses, the replicator's stages off; the prod stack's replicator starts
   ``AT_TIMESTAMP`` before the first record (``startingPositionTimestamp``), so its re-read
   fills the gaps the original left, on the same keys.
3. Both replicators run side by side for another third; then the original mappings are
   disabled, last; the rest of the clickstream flows through the stacks alone.

The counts come from the table: ``cutover_seed_items`` (items the original wrote before the
take-over), ``cutover_seed_skipped`` (records it skipped), ``cutover_lost`` (produced events
missing from the table at the end) and ``cutover_duplicates`` (events stored twice).
"""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from . import seed_deployment as seed
from .drive import Chunk, Pipeline, Production, new_production, put_chunk
from .emulator import Emulator
from .lambda_runtime import FunctionRuntime
from .plan import DemoOptions, StackPlan
from .poller import StreamPoller
from .report import DemoResult, Progress

#: Share of the clickstream made free of decimal numbers, which the original can write.
DECIMAL_FREE_SHARE = 0.7


def takeover_config(started: datetime) -> dict[str, object]:
    """The config overrides of docs/takeover.md: ``poc.``/``prod.`` keys."""
    return {
        # adopt the table as it is
        "poc.tableImportId": seed.SEED_TABLE,
        "poc.streamViewType": seed.SEED_STREAM_VIEW_TYPE,
        "poc.pointInTimeRecovery": False,
        "poc.deletionProtection": False,
        "poc.tableEncryption": "AWS_OWNED",
        "poc.gsiName": "",
        # names the original deployment still uses
        "poc.writerRoleName": f"{seed.SEED_WRITER_ROLE}-v2",
        "poc.archiverFunctionName": f"{seed.SEED_ARCHIVER}V2",
        "poc.deliveryStreamName": f"{seed.SEED_DELIVERY_STREAM}-v2",
        "prod.replicatorFunctionName": f"{seed.SEED_REPLICATOR}V2",
        # where the original started, before the first record: the re-read fills its gaps
        "prod.startingPositionTimestamp": (started - timedelta(seconds=5)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
        # the stages off while the original runs: rewritten items stay as they were
        "prod.pseudonymizeFields": [],
        "prod.pseudonymizationKeyParameter": "",
    }


def prepared(options: DemoOptions, started: datetime) -> DemoOptions:
    """``options`` for a cut-over run: the take-over config (under the run's own ``--config``
    values), no transform."""
    overrides = {**takeover_config(started), **options.config_overrides}
    return replace(options, config_overrides=overrides, transform=None)


def _decimal_free(value: Any) -> Any:
    if isinstance(value, float):
        return round(value)
    if isinstance(value, dict):
        return {k: _decimal_free(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decimal_free(v) for v in value]
    return value


def decimal_free_share(seed_value: int) -> Callable[[Chunk], Chunk]:
    """A reshaping of the clickstream's chunks: :data:`DECIMAL_FREE_SHARE` of the events get
    their decimal numbers rounded to integers."""
    rng = random.Random(seed_value)

    def reshape(chunk: Chunk) -> Chunk:
        out: Chunk = []
        for key, data, event in chunk:
            if rng.random() < DECIMAL_FREE_SHARE:
                event = _decimal_free(event)
                data = json.dumps(event).encode()
            out.append((key, data, event))
        return out

    return reshape


@dataclass
class Cutover:
    """The original deployment and its pollers, and the take-over's counts."""

    emulator: Emulator
    plan: StackPlan
    options: DemoOptions
    deployment: seed.SeedDeployment
    pollers: list[StreamPoller]
    reshape: Callable[[Chunk], Chunk]
    seed_items: int = 0
    seed_produced: int = 0

    @classmethod
    def build(
        cls, emulator: Emulator, plan: StackPlan, options: DemoOptions, workdir: Path
    ) -> Cutover:
        """The original deployment on the (pre-created) source stream, and a poller for each
        of its mappings."""
        stream = str(plan.prod_config.get(f"{plan.project}:sourceStreamName") or "web-analytics")
        stream_arn = f"arn:aws:kinesis:{plan.prod_region}:{plan.prod_account}:stream/{stream}"
        deployment = seed.build_seed(
            emulator,
            prod_account=plan.prod_account,
            poc_account=plan.poc_account,
            region=plan.prod_region,
            stream_arn=stream_arn,
        )
        pollers = [
            StreamPoller(
                emulator,
                *mapping,
                FunctionRuntime(function, emulator, workdir),
                api_stream_reads=options.api_stream_reads,
            )
            for function, mapping in (
                (deployment.replicator, deployment.replicator_mapping),
                (deployment.archiver, deployment.archiver_mapping),
            )
        ]
        return cls(
            emulator, plan, options, deployment, pollers, decimal_free_share(options.seed + 5)
        )

    def _items(self) -> int:
        from moto.dynamodb.models import dynamodb_backends

        backend = dynamodb_backends[self.plan.poc_account][self.plan.poc_region]
        return len(backend.get_table(seed.SEED_TABLE).all_items())

    def run_original(self, progress: Progress) -> tuple[Production, int]:
        """A third of the clickstream through the original deployment alone; returns the
        production so far and how many events it holds."""
        from stream_replica.testing.clickstream import generate

        plan, options = self.plan, self.options
        production = new_production(plan, options)
        kinesis = self.emulator.client("kinesis", plan.prod_account, plan.prod_region)
        stream_arn = self.pollers[0].settings.source_arn
        count = options.records // 3
        kpl_rng = random.Random(options.seed + 101)
        for chunk in generate(random.Random(options.seed + 100), 0, count, options.chunk):
            put_chunk(kinesis, stream_arn, self.reshape(chunk), production, options, kpl_rng)
            for poller in self.pollers:
                poller.poll()
        while sum(poller.poll() for poller in self.pollers):
            pass
        self.seed_produced = count
        self.seed_items = self._items()
        progress.show(
            f"original deployment: {count} records produced, {self.seed_items} items written",
            force=True,
        )
        return production, count

    def join(self, pipeline: Pipeline) -> None:
        """The original mappings go on beside the stacks' (both replicators write)."""
        pipeline.extra.extend(self.pollers)

    def after_chunk(self, pipeline: Pipeline, progress: Progress) -> Callable[[int], None]:
        """Disable the original mappings, last, once two thirds are produced (the stacks'
        replicator has caught up: each chunk is pumped through every mapping)."""
        mark = 2 * self.options.records // 3

        def hook(produced: int) -> None:
            if produced >= mark and pipeline.extra:
                if pipeline.replicator_poller.stats.records_delivered == 0:
                    raise RuntimeError("the stacks' replicator has not delivered any record")
                for poller in list(pipeline.extra):
                    self.emulator.client(
                        "lambda", poller.account_id, poller.region
                    ).update_event_source_mapping(UUID=poller.settings.uuid, Enabled=False)
                    pipeline.extra.remove(poller)
                progress.show("original mappings disabled", force=True)

        return hook

    def report(self, result: DemoResult) -> None:
        """The take-over's counts into ``result``."""
        result.cutover_seed_items = self.seed_items
        result.cutover_seed_skipped = self.seed_produced - self.seed_items
        result.cutover_duplicates = result.duplicate_items
        result.cutover_lost = max(
            0, result.produced - (result.replicated_items - result.duplicate_items)
        )


def started_now() -> datetime:
    """The cut-over run's start (the prod replicator starts before it)."""
    return datetime.now(UTC)
