"""``python -m stream_replica.status``: the pipeline on one screen (``docs/observability.md``).

Each ``--stack LABEL=FILE`` is a stack's ``pulumi stack output --json``; ``--profile LABEL=NAME``
(or ``--profile NAME`` for all) acts in that stack's account. Or name things directly
(``--function``, ``--queue-url``, ``--bucket``, ``--table``) for one account. Flags follow
``python -m stream_replica.redrive``'s: ``--profile``, ``--region``, ``--endpoint-url``,
``--json``. Exit status (:data:`EXIT_STATUSES`): 0 nothing needs action, 1 something does (the
screen says what, with the command to run), 2 usage error (a missing or unreadable outputs
file, nothing to look at), 3 AWS could not be used (one line on stderr says which).
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Any, TextIO

from botocore import exceptions as bce

from .checks import AccountStatus, Report, actions, check_account
from .targets import Targets, from_outputs, load_outputs

PROG = "python -m stream_replica.status"
EXIT_OK = 0
EXIT_ACTION_NEEDED = 1
EXIT_USAGE = 2
EXIT_AWS_ERROR = 3
EXIT_STATUSES = {
    EXIT_OK: "nothing needs action",
    EXIT_ACTION_NEEDED: "something needs action (listed, with the command to run)",
    EXIT_USAGE: "usage error: an outputs file missing or not JSON, nothing to look at",
    EXIT_AWS_ERROR: "AWS could not be used: credentials, profile, endpoint, a denied call, a "
    "resource that does not exist (one line on stderr says which)",
}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Iterator age, invocations and errors per function, messages waiting in "
        "the on-failure and dead-letter queues, the newest archive object, table item counts "
        "and alarms in ALARM, for each stack.",
        epilog="exit status:\n"
        + "\n".join(f"  {code}  {what}" for code, what in EXIT_STATUSES.items()),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--stack",
        action="append",
        default=[],
        metavar="LABEL=FILE",
        help="a stack's outputs: pulumi stack output --json -s LABEL > FILE (repeatable)",
    )
    parser.add_argument(
        "--profile",
        action="append",
        default=[],
        metavar="[LABEL=]NAME",
        help="AWS profile for the stack LABEL, or for every stack without LABEL= (repeatable)",
    )
    parser.add_argument("--function", action="append", default=[], help="a function name")
    parser.add_argument("--queue-url", action="append", default=[], help="an on-failure queue URL")
    parser.add_argument(
        "--dead-letter-queue-url", action="append", default=[], help="a dead-letter queue URL"
    )
    parser.add_argument("--bucket", help="the archive bucket")
    parser.add_argument("--table", action="append", default=[], help="a table name")
    parser.add_argument("--archive-prefix", default="", help="only objects under this prefix")
    parser.add_argument(
        "--minutes", type=int, default=15, help="metrics over the last N minutes (15)"
    )
    parser.add_argument(
        "--max-iterator-age-ms",
        type=float,
        default=300_000,
        help="an iterator age over this needs action (300000, the alarms' default)",
    )
    parser.add_argument("--region", help="AWS region (default: the profile's)")
    parser.add_argument("--endpoint-url", help="a custom endpoint for every call (an emulator)")
    parser.add_argument("--json", action="store_true", help="the report as JSON")
    return parser


def targets_from_args(argv: list[str] | None = None) -> tuple[list[Targets], argparse.Namespace]:
    """The accounts to look at; a usage error exits 2 naming the flag or file."""
    parser = _parser()
    args = parser.parse_args(argv)
    if args.minutes < 1:
        parser.error("--minutes must be at least 1")
    profiles: dict[str | None, str] = {}
    for entry in args.profile:
        label, equals, name = entry.rpartition("=")
        profiles[label if equals else None] = name
    accounts: list[Targets] = []
    for entry in args.stack:
        label, equals, path = entry.partition("=")
        if not equals or not label or not path:
            parser.error(f"--stack {entry!r}: give LABEL=FILE, e.g. poc=poc-outputs.json")
        try:
            outputs = load_outputs(Path(path))
        except ValueError as exc:
            parser.error(str(exc))
        accounts.append(from_outputs(label, outputs, profiles.get(label, profiles.get(None))))
    explicit = Targets(label="given", profile=profiles.get(None))
    explicit.functions = {name: name for name in args.function}
    explicit.queues = {url: "on-failure" for url in args.queue_url}
    explicit.queues.update({url: "dead-letter" for url in args.dead_letter_queue_url})
    explicit.bucket = args.bucket
    explicit.tables = list(args.table)
    if not explicit.empty:
        accounts.append(explicit)
    unknown = set(profiles) - {None} - {a.label for a in accounts}
    if unknown:
        parser.error(f"--profile for no --stack: {', '.join(sorted(str(u) for u in unknown))}")
    if not accounts or all(a.empty for a in accounts):
        parser.error("nothing to look at: give --stack LABEL=FILE or names (--function, ...)")
    return accounts, args


def explain(exc: BaseException, label: str) -> str | None:
    """One line naming what is wrong and what to do, for an error from botocore; else None."""
    who = f"the {label} stack's account: --profile {label}=NAME, AWS_PROFILE or AWS_* variables"
    if isinstance(exc, bce.NoCredentialsError):
        return f"no AWS credentials found for {who}"
    if isinstance(exc, bce.ProfileNotFound):
        return f"{exc}: check --profile against your AWS config file"
    if isinstance(exc, bce.NoRegionError):
        return f"no AWS region for {label}: give --region or set the profile's region"
    if isinstance(exc, bce.EndpointConnectionError | bce.ConnectionError | bce.HTTPClientError):
        return f"cannot reach AWS ({exc}): check the network, the region and --endpoint-url"
    if isinstance(exc, bce.ClientError):
        error = exc.response.get("Error", {})
        code, message = error.get("Code", ""), " ".join(str(error.get("Message", "")).split())
        detail = f"{code}: {message[:300]}" if message else code
        if code in ("ResourceNotFoundException", "NoSuchBucket") or "NonExistentQueue" in code:
            return (
                f"{label}: {exc.operation_name} found nothing ({detail}): is the stack deployed "
                "in this account and region, and are its outputs current?"
            )
        return f"{label}: {exc.operation_name} failed ({detail}); running as {who}"
    if isinstance(exc, bce.BotoCoreError):
        return f"AWS call failed for {label}: {exc}"
    return None


def _age(seconds: float | None) -> str:
    if seconds is None:
        return "no data"
    if seconds < 120:
        return f"{seconds:,.0f} s"
    return f"{seconds / 60:,.1f} min"


def print_report(report: Report, out: TextIO) -> None:
    """One screen: a block per account, then what needs action."""
    for account in report.accounts:
        print(f"== {account.label} (last {report.minutes} min)", file=out)
        for f in account.functions:
            age = None if f.max_iterator_age_ms is None else f.max_iterator_age_ms / 1000
            print(
                f"  {f.role:<13} {f.name:<40} iterator age max {_age(age):>10}  "
                f"invocations {f.invocations:>7,.0f}  errors {f.errors:>5,.0f}",
                file=out,
            )
        for q in account.queues:
            print(
                f"  {q.kind + ' queue':<23} {q.url.rsplit('/', 1)[-1]:<40} "
                f"waiting {q.waiting:>6}  in flight {q.in_flight:>4}",
                file=out,
            )
        if account.bucket:
            print(
                f"  archive {account.bucket}: newest object {_age(account.newest_object_age_s)}"
                + (" ago" if account.newest_object_age_s is not None else ""),
                file=out,
            )
        for table, count in account.tables.items():
            print(f"  table {table}: about {count:,} items", file=out)
        alarms = ", ".join(account.alarms_in_alarm) or "none"
        print(f"  alarms in ALARM: {alarms}", file=out)
    if report.actions:
        print("\nneeds action:", file=out)
        for line in report.actions:
            print(f"  - {line}", file=out)
    else:
        print("\nnothing needs action", file=out)


def gather(accounts: list[Targets], args: argparse.Namespace) -> Report:
    import boto3

    report = Report(minutes=args.minutes)
    for targets in accounts:
        session = boto3.Session(profile_name=targets.profile)
        region = args.region or targets.region or session.region_name

        def client(service: str, session: Any = session, region: Any = region) -> Any:
            return session.client(service, region_name=region, endpoint_url=args.endpoint_url)

        try:
            status: AccountStatus = check_account(
                targets, client, args.minutes, args.archive_prefix
            )
        except Exception as exc:
            exc.add_note(targets.label)
            raise
        report.accounts.append(status)
        report.actions += actions(status, targets.profile, args.max_iterator_age_ms)
    return report


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Run the command; returns its exit status (see the module docstring)."""
    accounts, args = targets_from_args(argv)
    try:
        report = gather(accounts, args)
    except Exception as exc:
        notes = getattr(exc, "__notes__", None) or ["?"]
        line = explain(exc, notes[-1])
        if line is None:
            raise
        print(f"{PROG}: error: {line}", file=sys.stderr)
        return EXIT_AWS_ERROR
    if args.json:
        print(json.dumps(asdict(report), indent=2), file=out)
    else:
        print_report(report, out)
    return EXIT_ACTION_NEEDED if report.actions else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
