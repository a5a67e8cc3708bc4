"""``python -m stream_replica.redrive``: redrive an on-failure queue (see ``docs/redrive.md``).

Uses the standard AWS credential chain (``AWS_PROFILE``, environment, SSO ...) of the account
that holds the queue, the stream and the function: prod for the replicator's queue, POC for the
archiver's. The region is the queue URL's. Exit status (:data:`EXIT_STATUSES`): 0 when every
message was redriven and deleted (or on a dry run), 1 when messages are left, 2 on a usage error
(a flag out of range, a queue URL that is not an SQS queue URL), 3 when AWS could not be used
(no or refused credentials, an unknown profile, an endpoint it cannot reach, a denied call, a
queue that does not exist): one line on stderr says which and what to do.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, NoReturn

from ..cli.options import AWS_RETRIES, add_aws_arguments, custom_endpoint, epilog, run_command
from .aws_errors import EXIT_AWS_ERROR, explain
from .driver import RedriveOptions, redrive_queue
from .invoking import LambdaInvoker
from .queue_url import QueueUrl, parse_queue_url

PROG = "python -m stream_replica.redrive"
EXIT_DONE = 0
EXIT_MESSAGES_LEFT = 1
EXIT_USAGE = 2
EXIT_STATUSES = {
    EXIT_DONE: "every message was redriven and deleted (or a dry run)",
    EXIT_MESSAGES_LEFT: "messages are left in the queue (the report says why)",
    EXIT_USAGE: "usage error: a flag out of range, a queue URL that is not an SQS queue URL",
    EXIT_AWS_ERROR: "AWS could not be used: credentials, profile, endpoint or network, a denied "
    "call, a queue that does not exist (one line on stderr says which)",
}

#: Lambda's maximum timeout is 900 s; a synchronous Invoke may take that long
#: (https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html).
INVOKE_READ_TIMEOUT_S = 905
MAX_FUNCTION_TIMEOUT_S = 900
#: A message's visibility timeout is 0..43,200 s (12 hours)
#: (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ReceiveMessage.html,
#: https://docs.aws.amazon.com/AWSSimpleQueueService/latest/APIReference/API_ChangeMessageVisibility.html).
MAX_VISIBILITY_TIMEOUT_S = 43_200


def _epilog() -> str:
    return epilog(EXIT_STATUSES)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Re-read the shard/sequence ranges named by a stream event source "
        "mapping's on-failure queue and run them through the same function again; a message "
        "is deleted when all its records are written or dead-lettered.",
        epilog=_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--queue-url",
        required=True,
        help="the on-failure queue's URL, https://sqs.<region>.amazonaws.com/<account>/<name> "
        "(its region is the one used)",
    )
    parser.add_argument("--dry-run", action="store_true", help="count; invoke and delete nothing")
    parser.add_argument("--max-messages", type=int, help="stop after this many messages")
    parser.add_argument(
        "--max-attempts", type=int, default=3, help="invocations of one event before giving up (3)"
    )
    parser.add_argument(
        "--visibility-timeout",
        type=int,
        default=900,
        help="seconds a message stays hidden while it is redriven, 0..43200 (900); at least "
        "the function's timeout x --max-attempts",
    )
    parser.add_argument(
        "--function-timeout",
        type=int,
        help="the function's timeout in seconds, 1..900, if you know it: warns when "
        "--visibility-timeout is below it x --max-attempts",
    )
    parser.add_argument("--function", help="function name or ARN instead of the message's")
    parser.add_argument(
        "--forget-expired",
        action="store_true",
        help="delete a message whose remaining records were redriven even if some expired",
    )
    add_aws_arguments(
        parser,
        region_help="AWS region (default: the queue URL's; must match it if both are given)",
        endpoint_help="a custom endpoint for every AWS call (an emulator); a profile's "
        "endpoint_url works too. A queue URL on another host than SQS's is accepted only with one",
    )
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The flags, checked; a usage error exits with status 2 (argparse's) and names the flag."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.max_attempts < 1:
        parser.error("--max-attempts must be at least 1")
    if args.max_messages is not None and args.max_messages < 1:
        parser.error("--max-messages must be at least 1")
    if not 0 <= args.visibility_timeout <= MAX_VISIBILITY_TIMEOUT_S:
        parser.error(
            f"--visibility-timeout must be 0..{MAX_VISIBILITY_TIMEOUT_S} seconds (SQS's limit, "
            f"12 hours), got {args.visibility_timeout}"
        )
    if args.function_timeout is not None and not (
        1 <= args.function_timeout <= MAX_FUNCTION_TIMEOUT_S
    ):
        parser.error(
            f"--function-timeout must be 1..{MAX_FUNCTION_TIMEOUT_S} seconds (Lambda's limit), "
            f"got {args.function_timeout}"
        )
    try:
        # The host is checked in main(), once it is known whether the endpoint is custom.
        queue = parse_queue_url(args.queue_url, custom_endpoint=True)
    except ValueError as exc:
        parser.error(str(exc))
    if queue.aws_host and args.region and args.region != queue.region:
        parser.error(
            f"--region {args.region} differs from the queue URL's region {queue.region}: a "
            "queue is reached only in its own region; leave --region out"
        )
    return args


def visibility_warning(
    visibility_timeout: int, function_timeout: int | None, max_attempts: int
) -> str | None:
    """A warning when a message may become visible again while it is still being redriven:
    ``visibility_timeout`` (s) below ``function_timeout`` (s) x ``max_attempts``. None when the
    function's timeout is not known or the margin holds."""
    if function_timeout is None or visibility_timeout >= function_timeout * max_attempts:
        return None
    return (
        f"--visibility-timeout {visibility_timeout} s is below the function's timeout "
        f"{function_timeout} s x --max-attempts {max_attempts} = "
        f"{function_timeout * max_attempts} s: a message may become visible again while it is "
        "still being redriven, and another consumer or run may redrive it at the same time"
    )


def _usage_error(message: str) -> NoReturn:
    _parser().error(message)


def main(argv: list[str] | None = None) -> int:
    """Run the command; returns its exit status (see the module docstring)."""
    args = parse_args(argv)
    queue = parse_queue_url(args.queue_url, custom_endpoint=True)
    if not args.dry_run:
        warning = visibility_warning(
            args.visibility_timeout, args.function_timeout, args.max_attempts
        )
        if warning:
            print(f"{PROG}: warning: {warning}", file=sys.stderr)
    region = queue.region or args.region
    return run_command(
        PROG,
        lambda: _run(args, queue),
        lambda exc: explain(exc, queue_url=args.queue_url, region=region),
    )


def _run(args: argparse.Namespace, queue: QueueUrl) -> int:
    import boto3
    from botocore.config import Config

    session = boto3.Session(profile_name=args.profile, region_name=args.region)
    region = queue.region or args.region or session.region_name
    retries = Config(retries=dict(AWS_RETRIES))
    # A region is needed to make a client; a configured endpoint (a profile's endpoint_url,
    # AWS_ENDPOINT_URL) doesn't depend on it, so the endpoint is checked first.
    sqs = session.client(
        "sqs", region_name=region or "us-east-1", config=retries, endpoint_url=args.endpoint_url
    )
    if not queue.aws_host and not custom_endpoint(sqs.meta.endpoint_url):
        try:
            parse_queue_url(args.queue_url, custom_endpoint=False)
        except ValueError as exc:
            _usage_error(str(exc))
    if region is None:
        _usage_error(
            f"--queue-url {args.queue_url!r} names no region (a custom endpoint's URL): "
            "give --region"
        )

    def clients(service: str, stream_region: str) -> Any:
        return session.client(
            service, region_name=stream_region, config=retries, endpoint_url=args.endpoint_url
        )

    invoker = None
    if not args.dry_run:
        invoke_config = Config(
            read_timeout=INVOKE_READ_TIMEOUT_S, retries={"mode": "standard", "max_attempts": 3}
        )
        invoker = LambdaInvoker(
            session.client(
                "lambda", region_name=region, config=invoke_config, endpoint_url=args.endpoint_url
            )
        )
    report = redrive_queue(
        sqs,
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
    return EXIT_DONE if args.dry_run or report.left == 0 else EXIT_MESSAGES_LEFT


if __name__ == "__main__":
    sys.exit(main())
