"""The flags, exit-status epilog, botocore settings and error handling every command shares.

* :func:`add_aws_arguments`: ``--region``, ``--profile``, ``--endpoint-url`` (help texts may be
  a command's own), and optionally ``--dry-run``, ``--json`` and ``--quiet``;
* :func:`epilog`: the exit statuses under ``--help``;
* :data:`AWS_RETRIES`: botocore's adaptive retries for the commands' calls;
* :func:`custom_endpoint`: whether an endpoint is an emulator's or a proxy's, not AWS's own;
* :func:`session_from`: the boto3 session of the flags;
* :func:`run_command`: runs a command's body; an AWS error becomes one line on stderr and
  exit status 3 (:data:`.aws_errors.EXIT_AWS_ERROR`).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlsplit

from .aws_errors import EXIT_AWS_ERROR

#: botocore retries of the commands' AWS calls (adaptive: client-side rate limiting on
#: throttling, https://docs.aws.amazon.com/sdkref/latest/guide/feature-retry-behavior.html).
AWS_RETRIES: dict[str, Any] = {"mode": "adaptive", "max_attempts": 10}
#: Hosts of AWS's own endpoints; any other endpoint is custom (an emulator, a proxy).
_AWS_ENDPOINT_SUFFIXES = (".amazonaws.com", ".amazonaws.com.cn", ".api.aws")


def epilog(statuses: Mapping[int, str]) -> str:
    """``exit status:`` and one line per status, for an argparse epilog."""
    return "exit status:\n" + "\n".join(f"  {code}  {what}" for code, what in statuses.items())


def add_aws_arguments(
    parser: argparse.ArgumentParser,
    *,
    region_help: str = "AWS region (default: the profile's)",
    endpoint_help: str = "a custom endpoint for every AWS call (an emulator, `make serve`); a "
    "profile's endpoint_url works too",
    dry_run_help: str | None = None,
    json_output: bool = False,
    quiet: bool = True,
) -> None:
    """Add the shared flags to ``parser``: ``--region``, ``--profile``, ``--endpoint-url``;
    ``--dry-run`` when ``dry_run_help`` is given; ``--json`` (the report as one JSON object
    only) when ``json_output``; ``--quiet`` (no progress bar) when ``quiet``."""
    if dry_run_help is not None:
        parser.add_argument("--dry-run", action="store_true", help=dry_run_help)
    parser.add_argument("--region", help=region_help)
    parser.add_argument("--profile", help="AWS profile")
    parser.add_argument("--endpoint-url", help=endpoint_help)
    if json_output:
        parser.add_argument(
            "--json", action="store_true", help="print only the report, as one JSON object"
        )
    if quiet:
        parser.add_argument("--quiet", action="store_true", help="no progress bar")


def custom_endpoint(endpoint_url: str | None) -> bool:
    """True when ``endpoint_url`` is set and is not on one of AWS's own hosts."""
    host = (urlsplit(endpoint_url).hostname or "") if endpoint_url else ""
    return bool(host) and not host.lower().endswith(_AWS_ENDPOINT_SUFFIXES)


def session_from(args: argparse.Namespace) -> Any:
    """The boto3 session of ``--profile`` and ``--region`` (boto3 imported here: ``--help``
    needs no AWS SDK). Raises botocore's ``ProfileNotFound`` for an unknown profile."""
    import boto3

    return boto3.Session(profile_name=args.profile, region_name=args.region)


def run_command(
    prog: str,
    body: Callable[[], int],
    explain: Callable[[BaseException], str | None],
) -> int:
    """``body()``'s exit status; an exception ``explain`` turns into a line is printed as
    ``<prog>: error: <line>`` on stderr and gives :data:`.aws_errors.EXIT_AWS_ERROR` (3);
    any other exception (a bug) propagates with its traceback."""
    try:
        return body()
    except Exception as exc:
        line = explain(exc)
        if line is None:
            raise
        print(f"{prog}: error: {line}", file=sys.stderr)
        return EXIT_AWS_ERROR
