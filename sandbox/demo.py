"""The end-to-end run behind ``make demo``: deploy both stacks into the emulator, stream a
clickstream through the pipeline, check that nothing was lost or duplicated, replay, report.

Each phase has its module: :mod:`~sandbox.plan` (the options and where each stack goes),
:mod:`~sandbox.deploy`, :mod:`~sandbox.drive` (the pollers, producing, draining, the redrive and
the replay), :mod:`~sandbox.switch` (``--switch-consumer-mode``), :mod:`~sandbox.cutover`
(``--cutover``), :mod:`~sandbox.checks`,
:mod:`~sandbox.report` (the progress line, the summary and the final JSON line) and
:mod:`~sandbox.serve` (``--serve``: the server left up).
"""

from __future__ import annotations

import sys
import tempfile
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

from . import crossaccount, cutover, service_metrics
from .checks import check_pipeline, decide, read_back_placement
from .deploy import deploy_and_count, precreate
from .drive import Pipeline, produce_and_drain, replay
from .emulator import Emulator
from .fault_injection import Faults
from .plan import DemoOptions, StackPlan
from .report import DemoResult, Progress, print_summary
from .run_cost import usage_of_run
from .serve import serve_forever, terminate_as_interrupt
from .switch import ConsumerModeSwitcher


def _all(hooks: list[Callable[[int], None]]) -> Callable[[int], None]:
    def each(produced: int) -> None:
        for hook in hooks:
            hook(produced)

    return each


def run(options: DemoOptions, out: TextIO = sys.stdout) -> DemoResult:
    """Run the whole demo; print the summary to ``out``; return the figures."""
    result = DemoResult()
    progress = Progress(options.progress, sys.stderr)
    if options.cutover:
        options = cutover.prepared(options, cutover.started_now())
    plan = StackPlan.load(options)
    faults = Faults(
        throttle_writes=options.throttle_writes,
        fail_firehose=options.fail_firehose,
        seed=options.seed,
    )
    with (
        terminate_as_interrupt(),
        faults,
        crossaccount.routing(),
        Emulator(plan.prod_region, serve=options.serve, port=options.port) as emulator,
        tempfile.TemporaryDirectory(prefix="sandbox-lambda-") as workdir,
    ):
        result.endpoint_url = emulator.endpoint_url
        service_metrics.RECORDER.reset()
        if emulator.endpoint_url:
            print(f"moto server listening on {emulator.endpoint_url}", file=out)

        take_over: cutover.Cutover | None = None
        production, start = None, 0
        if options.cutover:
            precreate(emulator, plan, options)
            take_over = cutover.Cutover.build(emulator, plan, options, Path(workdir))
            production, start = take_over.run_original(progress)

        poc, prod = deploy_and_count(
            result, emulator, plan, options, progress, precreated=options.cutover
        )

        pipeline = Pipeline.wire(emulator, (poc, prod), options, Path(workdir))
        if take_over is not None:
            take_over.join(pipeline)
        read_back_placement(result, emulator, plan, pipeline)
        switcher = (
            ConsumerModeSwitcher(emulator, plan, options, (poc, prod))
            if options.switch_consumer_mode
            else None
        )
        hooks = [
            *([switcher.after_chunk(pipeline, options.records, progress)] if switcher else []),
            *([take_over.after_chunk(pipeline, progress)] if take_over else []),
        ]
        production = produce_and_drain(
            result,
            emulator,
            plan,
            options,
            pipeline,
            progress,
            _all(hooks) if hooks else None,
            start=start,
            production=production,
            reshape=take_over.reshape if take_over else None,
        )
        if switcher is not None:
            switcher.report(result, pipeline)

        check_pipeline(result, emulator, plan, poc, pipeline, production, Path(workdir), progress)
        if take_over is not None:
            take_over.report(result)
        result.throttled_items = faults.throttled_items
        result.failed_firehose_records = faults.failed_firehose_records
        # what the emulated services received: Firehose records, and the run's bill
        result.firehose_records = service_metrics.RECORDER.counted.firehose_records
        result.run_usage = usage_of_run(
            plan.prod_region,
            result.produced,
            pipeline.pollers,
            (pipeline.table_account, plan.poc_region, pipeline.table_name),
            service_metrics.RECORDER.counted,
            result.dead_letter_messages + result.redrive_messages + result.on_failure_records,
        )
        for poller in pipeline.pollers:
            result.mappings[poller.runtime.function.name] = asdict(poller.stats)

        if options.replay:
            with progress.phase("replaying the stream from TRIM_HORIZON"):
                replay(result, plan, pipeline)
        result.crossaccount_denied = crossaccount.decisions["denied"]
        result.crossaccount_allowed = crossaccount.decisions["allowed"]
        decide(result, options)

        print_summary(result, out)
        if options.serve and options.hold:
            serve_forever(
                emulator,
                result,
                out,
                pipeline.table_name,
                {"poc": plan.poc_account, "prod": plan.prod_account},
                pipeline.source_arn,
                pipeline.replicator.log_group,
            )
    pipeline.close()
    return result
