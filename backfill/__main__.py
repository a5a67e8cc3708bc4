"""``python -m stream_replica.backfill``: rebuild a table from the archive (``docs/backfill.md``).

Uses the standard AWS credential chain (``--profile``, ``AWS_PROFILE``, environment, SSO ...)
of the account that holds the archive bucket and the table (POC). Exit status
(:data:`EXIT_STATUSES`): 0 when every object of the window was written (or counted, on a dry
run) and no line was poison, 1 when work is left (objects with requests unwritten: run again, it
resumes) or lines could not be restored (listed with object key and line number), 2 on a usage
error, 3 when AWS could not be used (one line on stderr says which and what to do).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from ..cli import aws_errors
from ..cli.options import AWS_RETRIES, add_aws_arguments, epilog, run_command, session_from
from ..handlers.backfill_lines import QUERY, REPLICA, TARGETS, LineRules
from ..handlers.backfill_objects import (
    Checkpoints,
    MemoryCheckpoints,
    ObjectJob,
    S3Checkpoints,
    WriteRate,
    list_window,
    parse_hour,
)
from ..handlers.backfill_worker import QueryKeyRules
from ..handlers.exceptions import ConfigError
from ..handlers.redaction import parse_paths
from ..handlers.transforms import load_transform
from .checkpoint_file import CheckpointMismatch, FileCheckpoints
from .driver import BackfillReport, run_backfill

PROG = "python -m stream_replica.backfill"
EXIT_DONE = 0
EXIT_WORK_LEFT = 1
EXIT_USAGE = 2
EXIT_STATUSES = {
    EXIT_DONE: "every object of the window was written (or counted, on a dry run), no poison",
    EXIT_WORK_LEFT: "work is left (run again: it resumes) or lines could not be restored "
    "(the report lists them with object key and line number)",
    EXIT_USAGE: "usage error: a flag out of range, a window that ends before it starts, a "
    "checkpoint file of another run",
    aws_errors.EXIT_AWS_ERROR: "AWS could not be used: credentials, profile, endpoint or "
    "network, a denied call, a bucket or table that does not exist (one line on stderr)",
}
#: Default write budget, items per second: a few percent of an on-demand table's initial
#: throughput (4,000 write request units/s,
#: https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/on-demand-capacity-mode.html).
DEFAULT_RATE = 100.0
_WHO = (
    "run as the POC account (the archive bucket's and the table's): --profile, AWS_PROFILE, or "
    "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
)
_IAM = (
    "the identity you run as needs the backfill's permissions on the archive bucket, the "
    "target table and the checkpoints (docs/backfill.md, 'Its IAM': "
    "components/backfill_policy.py backfill_policy)"
)
_MISSING = {
    "NoSuchBucket": "the bucket does not exist for this account ({detail}): check --bucket "
    "(pulumi stack output archiveBucketName) and the account you run as",
    "ResourceNotFoundException": "the table does not exist in this region ({detail}): check "
    "--table, --region and the account you run as",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Read the archived lines of a time window and write them to a table: the "
        "replica table (or a new one of its schema) as the replicator wrote them, or the "
        "query table as the query writer keys them. Idempotent and resumable.",
        epilog=epilog(EXIT_STATUSES),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--bucket", required=True, help="the archive bucket")
    parser.add_argument(
        "--prefix",
        default="",
        help="the archive's object prefix before year=/month=/day=/hour= (e.g. data/)",
    )
    parser.add_argument(
        "--from", dest="start", required=True, help="first hour, UTC: 2026-01-31T05 (inclusive)"
    )
    parser.add_argument(
        "--to", dest="end", required=True, help="last hour, UTC: 2026-01-31T23 (inclusive)"
    )
    parser.add_argument("--target", choices=TARGETS, required=True, help="what the table is")
    parser.add_argument("--table", required=True, help="the table to write")
    parser.add_argument(
        "--rate",
        type=float,
        default=DEFAULT_RATE,
        help=f"write budget, items per second ({DEFAULT_RATE:g}): keep it under the table's "
        "spare write capacity so the live pipeline is never throttled",
    )
    parser.add_argument(
        "--checkpoint",
        help="checkpoint file, or s3://bucket/prefix/ (shared with the backfill state "
        "machine); default backfill-<table>.checkpoint.json",
    )
    parser.add_argument(
        "--ttl-attribute",
        help="the items' expiry attribute (epoch seconds): expired lines are skipped",
    )
    parser.add_argument("--query-hash-attribute", help="query target: the hash key's attribute")
    parser.add_argument("--query-hash-type", choices=("S", "N"), default="S")
    parser.add_argument("--query-range-attribute", help="query target: the ordering attribute")
    parser.add_argument("--query-sort-key-attribute", default="eventKey")
    parser.add_argument("--ttl-days", type=int, default=0, help="query target: TTL days (0)")
    parser.add_argument(
        "--source-ttl-days", type=int, default=0, help="query target: the replica's TTL days (0)"
    )
    parser.add_argument("--drop-fields", help="JSON array of attribute paths dropped again")
    parser.add_argument(
        "--transform", help="a transform file: transform(record, meta) -> dict or None"
    )
    add_aws_arguments(
        parser,
        dry_run_help="read and count; write nothing, record no checkpoint",
        json_output=True,
    )
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The flags, checked; a usage error exits with status 2 (argparse's) and names the flag."""
    parser = _parser()
    args = parser.parse_args(argv)
    try:
        args.start_hour = parse_hour(args.start)
        args.end_hour = parse_hour(args.end)
    except ValueError as exc:
        parser.error(f"--from/--to: {exc}")
    if args.end_hour < args.start_hour:
        parser.error(f"--to {args.end} is before --from {args.start}")
    if not args.rate > 0:
        parser.error(f"--rate must be above 0 items per second, got {args.rate:g}")
    if args.target == QUERY and not (args.query_hash_attribute and args.query_range_attribute):
        parser.error("--target query needs --query-hash-attribute and --query-range-attribute")
    if args.ttl_days < 0 or args.source_ttl_days < 0:
        parser.error("--ttl-days and --source-ttl-days must be 0 or more")
    if args.ttl_days and not args.ttl_attribute:
        parser.error("--ttl-days needs --ttl-attribute")
    try:
        args.drop = parse_paths(args.drop_fields, "--drop-fields")
        args.transform_function = (
            load_transform(args.transform, root=Path.cwd()) if args.transform else None
        )
    except ConfigError as exc:
        parser.error(str(exc))
    return args


def rules_of(args: argparse.Namespace) -> LineRules:
    """The :class:`LineRules` of the flags."""
    if args.target == REPLICA:
        return LineRules(
            REPLICA,
            ttl_attribute=args.ttl_attribute,
            drop=args.drop,
            transform=args.transform_function,
        )
    query = QueryKeyRules(
        hash_attribute=args.query_hash_attribute,
        range_attribute=args.query_range_attribute,
        hash_type=args.query_hash_type,
        sort_key_attribute=args.query_sort_key_attribute,
        ttl_attribute=args.ttl_attribute,
        ttl_days=args.ttl_days,
        source_ttl_days=args.source_ttl_days,
    )
    return LineRules(QUERY, query=query, drop=args.drop, transform=args.transform_function)


def checkpoints_of(args: argparse.Namespace, s3: Any) -> Checkpoints:
    """The checkpoint store of the flags (memory on a dry run)."""
    if args.dry_run:
        return MemoryCheckpoints()
    where = args.checkpoint or f"backfill-{args.table}.checkpoint.json"
    if where.startswith("s3://"):
        bucket, _, prefix = where[len("s3://") :].partition("/")
        return S3Checkpoints(s3, bucket, prefix)
    run = {"bucket": args.bucket, "prefix": args.prefix, "target": args.target, "table": args.table}
    return FileCheckpoints(where, run)


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns its exit status (see the module docstring)."""
    args = parse_args(argv)
    return run_command(
        PROG,
        lambda: _run(args),
        lambda exc: aws_errors.explain(
            exc, region=args.region, who=_WHO, iam=_IAM, missing=_MISSING
        ),
    )


def _run(args: argparse.Namespace) -> int:
    from botocore.config import Config

    session = session_from(args)
    config = Config(retries=dict(AWS_RETRIES))
    s3 = session.client("s3", config=config, endpoint_url=args.endpoint_url)
    dynamodb = session.client("dynamodb", config=config, endpoint_url=args.endpoint_url)
    try:
        checkpoints = checkpoints_of(args, s3)
    except CheckpointMismatch as exc:
        _parser().error(str(exc))
    job = ObjectJob(
        bucket=args.bucket,
        s3=s3,
        dynamodb=dynamodb,
        table=args.table,
        rules=rules_of(args),
        checkpoints=checkpoints,
        rate=WriteRate(args.rate),
        dry_run=args.dry_run,
    )
    objects = list_window(s3, args.bucket, args.prefix, args.start_hour, args.end_hour)
    quiet = args.quiet or args.json
    report = run_backfill(job, objects, progress=None if quiet else sys.stderr)
    return finish(report, args.json)


def finish(report: BackfillReport, as_json: bool) -> int:
    """Print the report (lines, then one JSON line; or the JSON only) and return the status."""
    if not as_json:
        for line in report.lines_out():
            print(line)
    print(json.dumps(report.as_dict()))
    return EXIT_DONE if report.complete and not report.poison else EXIT_WORK_LEFT


if __name__ == "__main__":
    sys.exit(main())
