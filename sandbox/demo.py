"""The end-to-end run behind ``make demo``: deploy both stacks into the emulator, stream a
clickstream through the pipeline, check that nothing was lost or duplicated, replay, report.

Each phase has its module: :mod:`~sandbox.plan` (the options and where each stack goes),
:mod:`~sandbox.deploy`, :mod:`~sandbox.drive` (the pollers, producing, draining, the redrive and
the replay), :mod:`~sandbox.checks`, :mod:`~sandbox.report` (the progress line, the summary
and the final JSON line) and :mod:`~sandbox.serve` (``--serve``: the server left up).
"""

from __future__ import annotations

import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import TextIO

from . import crossaccount
from .checks import check_pipeline, decide, read_back_placement
from .deploy import deploy_and_count
from .drive import Pipeline, produce_and_drain, replay
from .emulator import Emulator
from .fault_injection import Faults
from .plan import DemoOptions, StackPlan
from .report import DemoResult, Progress, print_summary
from .serve import serve_forever, terminate_as_interrupt


def run(options: DemoOptions, out: TextIO = sys.stdout) -> DemoResult:
    """Run the whole demo; print the summary to ``out``; return the figures."""
    result = DemoResult()
    progress = Progress(options.progress, sys.stderr)
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
        if emulator.endpoint_url:
            print(f"moto server listening on {emulator.endpoint_url}", file=out)

        poc, prod = deploy_and_count(result, emulator, plan, options, progress)

        pipeline = Pipeline.wire(emulator, (poc, prod), options, Path(workdir))
        read_back_placement(result, emulator, plan, pipeline)
        production = produce_and_drain(result, emulator, plan, options, pipeline, progress)

        check_pipeline(result, emulator, plan, poc, pipeline, production, Path(workdir), progress)
        result.throttled_items = faults.throttled_items
        result.failed_firehose_records = faults.failed_firehose_records
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
