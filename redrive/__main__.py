"""``python -m stream_replica.redrive``: redrive an on-failure queue (see ``docs/redrive.md``).

Uses the standard AWS credential chain (``AWS_PROFILE``, environment, SSO ...) of the account
that holds the queue, the stream and the function: prod for the replicator's queue, POC for the
archiver's. Exit status 0 when every message was redriven and deleted (or on a dry run), 1 when
messages are left, 2 on a usage error.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .driver import RedriveOptions, redrive_queue
from .invoking import LambdaInvoker

#: Lambda's maximum timeout is 900 s; a synchronous Invoke may take that long.
INVOKE_READ_TIMEOUT_S = 905


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m stream_replica.redrive",
        description="Re-read the shard/sequence ranges named by a stream event source "
        "mapping's on-failure queue and run them through the same function again; a message "
        "is deleted when all its records are written or dead-lettered.",
    )
    parser.add_argument("--queue-url", required=True, help="the on-failure queue's URL")
    parser.add_argument("--dry-run", action="store_true", help="count; invoke and delete nothing")
    parser.add_argument("--max-messages", type=int, help="stop after this many messages")
    parser.add_argument(
        "--max-attempts", type=int, default=3, help="invocations of one event before giving up (3)"
    )
    parser.add_argument(
        "--visibility-timeout",
        type=int,
        default=900,
        help="seconds a message stays hidden while it is redriven (900)",
    )
    parser.add_argument("--function", help="function name or ARN instead of the message's")
    parser.add_argument(
        "--forget-expired",
        action="store_true",
        help="delete a message whose remaining records were redriven even if some expired",
    )
    parser.add_argument("--region", help="AWS region (default: the queue URL's)")
    parser.add_argument("--profile", help="AWS profile")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    if args.max_attempts < 1:
        parser.error("--max-attempts must be at least 1")
    if args.max_messages is not None and args.max_messages < 1:
        parser.error("--max-messages must be at least 1")
    return args


def _region_of(queue_url: str) -> str | None:
    # https://sqs.<region>.amazonaws.com/<account>/<name>
    host = queue_url.split("/")[2] if "//" in queue_url else ""
    parts = host.split(".")
    return parts[1] if len(parts) > 2 and parts[0] == "sqs" else None


def main(argv: list[str] | None = None) -> int:
    import boto3
    from botocore.config import Config

    args = parse_args(argv)
    session = boto3.Session(profile_name=args.profile, region_name=args.region)
    region = args.region or _region_of(args.queue_url) or session.region_name
    retries = Config(retries={"mode": "adaptive", "max_attempts": 10})

    def clients(service: str, stream_region: str) -> Any:
        return session.client(service, region_name=stream_region, config=retries)

    invoker = None
    if not args.dry_run:
        invoke_config = Config(
            read_timeout=INVOKE_READ_TIMEOUT_S, retries={"mode": "standard", "max_attempts": 3}
        )
        invoker = LambdaInvoker(session.client("lambda", region_name=region, config=invoke_config))
    report = redrive_queue(
        session.client("sqs", region_name=region, config=retries),
        args.queue_url,
        clients,
        invoker,
        RedriveOptions(
            dry_run=args.dry_run,
            max_messages=args.max_messages,
            max_attempts=args.max_attempts,
            visibility_timeout=args.visibility_timeout,
            function_arn=args.function,
            forget_expired=args.forget_expired,
        ),
        progress=None if args.quiet else sys.stderr,
    )
    for line in report.lines():
        print(line)
    print(json.dumps(report.as_dict()))
    return 0 if args.dry_run or report.left == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
