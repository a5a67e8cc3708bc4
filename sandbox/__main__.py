"""``python -m sandbox``: the in-process AWS demo (``make demo``; ``make serve`` = ``--serve``)."""

from __future__ import annotations

import argparse
import sys

import yaml
from stream_replica.components.exceptions import StackConfigError

from .demo import run
from .plan import EXAMPLE_TRANSFORM, DemoOptions


def _fraction(text: str) -> float:
    value = float(text)
    if not 0.0 <= value < 1.0:
        raise argparse.ArgumentTypeError(f"{text} is not a fraction in [0, 1)")
    return value


def parse_args(argv: list[str] | None = None) -> DemoOptions:
    parser = argparse.ArgumentParser(
        prog="python -m sandbox",
        description="Deploy the poc and prod stacks into an in-process AWS emulator (moto), "
        "stream a web-analytics clickstream through replicator, DynamoDB, archiver and "
        "Firehose to S3, and check that nothing is lost or duplicated.",
    )
    parser.add_argument("--records", type=int, default=3000, help="clickstream records (3000)")
    parser.add_argument("--no-poison", action="store_true", help="produce no poison records")
    parser.add_argument("--shards", type=int, default=2, help="shards of the source stream (2)")
    parser.add_argument(
        "--access-mode",
        choices=("assume-role", "resource-policy"),
        help="override the stacks' accessMode config",
    )
    parser.add_argument(
        "--placement",
        choices=("source", "target"),
        help="override the stacks' placement config: where the replicator runs",
    )
    parser.add_argument(
        "--consumer-mode",
        choices=("shared", "efo"),
        help="override the stacks' consumerMode config: shared reads or enhanced fan-out",
    )
    parser.add_argument(
        "--throttle-writes",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="fraction of DynamoDB BatchWriteItem items returned unprocessed",
    )
    parser.add_argument(
        "--fail-firehose",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="fraction of Firehose PutRecordBatch records that fail",
    )
    parser.add_argument(
        "--crash-invocations",
        type=_fraction,
        default=0.0,
        metavar="F",
        help="fraction of Lambda invocations that crash before the handler runs",
    )
    parser.add_argument(
        "--config",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="set a config value on the stacks that read it (e.g. batchSize=100 on both, "
        "createSourceStream=true on prod, a 'poc only' key on poc), or on one with "
        "poc.KEY=VALUE / prod.KEY=VALUE; VALUE is parsed as YAML",
    )
    parser.add_argument(
        "--kpl-fraction",
        type=float,
        default=0.2,
        help="share of records sent packed in KPL aggregates (0.2; 0 for none)",
    )
    parser.add_argument(
        "--no-transform",
        action="store_true",
        help="run the replicator without the example transform (examples/transform_day.py)",
    )
    parser.add_argument("--seed", type=int, default=7, help="random seed (7)")
    parser.add_argument("--no-replay", action="store_true", help="skip the TRIM_HORIZON replay")
    parser.add_argument(
        "--no-redrive",
        action="store_true",
        help="skip the redrive of the on-failure queues after the drain",
    )
    parser.add_argument(
        "--switch-consumer-mode",
        action="store_true",
        help="update the stacks to the other consumerMode (shared <-> efo) after a third of the "
        "records and back after two thirds, while the clickstream flows: the replaced mapping "
        "starts AT_TIMESTAMP and overlaps the old one",
    )
    parser.add_argument(
        "--cutover",
        action="store_true",
        help="first build the original hand-made deployment and run traffic through it, then "
        "deploy the stacks adopting its table while traffic continues, and disable the old "
        "mappings (docs/takeover.md)",
    )
    parser.add_argument(
        "--serve",
        action="store_true",
        help="run against moto's server on localhost and keep it up until Ctrl-C",
    )
    parser.add_argument("--port", type=int, default=5000, help="port for --serve (5000)")
    parser.add_argument("--quiet", action="store_true", help="no progress line")
    args = parser.parse_args(argv)
    if args.records < 1:
        parser.error(
            "--records must be at least 1: the run checks what reached the archive and the "
            "analyst step queries it, which needs records"
        )
    if args.shards < 1:
        parser.error("--shards must be >= 1")
    overrides: dict[str, object] = {}
    for item in args.config:
        key, sep, value = item.partition("=")
        if not sep or not key:
            parser.error(f"--config {item!r}: expected KEY=VALUE")
        overrides[key] = yaml.safe_load(value)
    return DemoOptions(
        config_overrides=overrides,
        records=args.records,
        poison=not args.no_poison,
        shards=args.shards,
        access_mode=args.access_mode,
        placement=args.placement,
        consumer_mode=args.consumer_mode,
        throttle_writes=args.throttle_writes,
        fail_firehose=args.fail_firehose,
        crash_invocations=args.crash_invocations,
        seed=args.seed,
        kpl_fraction=args.kpl_fraction,
        transform=None if args.no_transform else EXAMPLE_TRANSFORM,
        replay=not args.no_replay,
        redrive=not args.no_redrive,
        switch_consumer_mode=args.switch_consumer_mode,
        cutover=args.cutover,
        serve=args.serve,
        port=args.port,
        progress=not args.quiet,
    )


def main(argv: list[str] | None = None) -> int:
    """Run the demo; a config error is one line on stderr (exit status 2), not a traceback."""
    options = parse_args(argv)
    try:
        result = run(options)
    except StackConfigError as error:
        print(f"sandbox: {error}", file=sys.stderr)
        return 2
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
