"""``--serve``: the emulator's server left up after the run, with an AWS CLI profile per
account."""

from __future__ import annotations

import shlex
import signal
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from .emulator import Emulator
from .report import DemoResult


def write_cli_profiles(
    emulator: Emulator, accounts: dict[str, str], folder: Path
) -> tuple[Path, Path]:
    """AWS CLI/boto3 ``config`` and ``credentials`` files with one profile per account
    (``sandbox-poc``, ``sandbox-prod``), each holding credentials of a role assumed in that
    account and the emulator's endpoint."""
    config_lines, credential_lines = [], []
    for stack, account in accounts.items():
        creds = emulator.credentials_for_role(
            f"arn:aws:iam::{account}:role/sandbox-cli", f"sandbox-cli-{stack}"
        )
        config_lines += [
            f"[profile sandbox-{stack}]",
            f"region = {emulator.region}",
            f"endpoint_url = {emulator.endpoint_url}",
            "",
        ]
        credential_lines += [
            f"[sandbox-{stack}]",
            f"aws_access_key_id = {creds['AccessKeyId']}",
            f"aws_secret_access_key = {creds['SecretAccessKey']}",
            f"aws_session_token = {creds['SessionToken']}",
            "",
        ]
    folder.mkdir(parents=True, exist_ok=True)
    config, credentials = folder / "config", folder / "credentials"
    config.write_text("\n".join(config_lines))
    credentials.write_text("\n".join(credential_lines))
    return config, credentials


def cli_commands(
    endpoint_url: str, table_name: str, stream_name: str, log_group: str
) -> list[list[str]]:
    """The AWS CLI commands ``--serve`` prints, one argv each. Each names the emulator's
    endpoint itself (``--endpoint-url``): a CLI whose botocore predates ``endpoint_url`` in
    the config file (AWS CLI v1 before botocore 1.31) would otherwise ask AWS's own endpoint.
    ``s3api`` rather than ``s3``: the same call, and one botocore (and the test) knows."""

    def aws(profile: str, *args: str) -> list[str]:
        return ["aws", "--profile", f"sandbox-{profile}", "--endpoint-url", endpoint_url, *args]

    return [
        aws("poc", "dynamodb", "scan", "--table-name", table_name, "--limit", "2"),
        aws("poc", "s3api", "list-buckets"),
        aws("poc", "sqs", "list-queues"),
        aws("prod", "kinesis", "describe-stream-summary", "--stream-name", stream_name),
        aws("prod", "lambda", "list-event-source-mappings"),
        aws("prod", "logs", "filter-log-events", "--log-group-name", log_group, "--limit", "5"),
    ]


def wait_for_interrupt() -> None:
    """Block until Ctrl-C (``KeyboardInterrupt``)."""
    while True:
        time.sleep(3600)


@contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM (``kill``) and SIGHUP (a closed terminal) raise
    ``KeyboardInterrupt`` as Ctrl-C does, so every ``finally`` runs and the temporary folders
    go; the previous handlers come back afterwards. Only in the main thread (where Python
    runs signal handlers); elsewhere a no-op."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt(signal.Signals(signum).name)

    wanted = [signal.SIGTERM] + ([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])
    previous = {signum: signal.signal(signum, interrupt) for signum in wanted}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def serve_forever(
    emulator: Emulator,
    result: DemoResult,
    out: TextIO,
    table_name: str,
    accounts: dict[str, str],
    source_arn: str,
    log_group: str,
    wait: Callable[[], None] | None = None,
) -> None:
    """Print how to reach the emulator's server with the AWS CLI or boto3 (profiles written by
    :func:`write_cli_profiles` into a temporary folder), then keep it up until Ctrl-C (or
    SIGTERM/SIGHUP; ``wait``: what blocks, default :func:`wait_for_interrupt`). The folder,
    which holds a credentials file, is removed on every way out."""
    endpoint = str(result.endpoint_url)
    commands = cli_commands(endpoint, table_name, source_arn.rsplit("/", 1)[-1], log_group)
    with (
        terminate_as_interrupt(),
        tempfile.TemporaryDirectory(prefix="sandbox-aws-") as folder,
    ):
        config, credentials = write_cli_profiles(emulator, accounts, Path(folder))
        lines = "".join(f"  {shlex.join(argv)}\n" for argv in commands)
        print(
            f"\nmoto server: {endpoint} (up until Ctrl-C). Profiles sandbox-poc and "
            "sandbox-prod act in the two accounts:\n"
            f"  export AWS_CONFIG_FILE={config} AWS_SHARED_CREDENTIALS_FILE={credentials}\n"
            f"{lines}"
            "or in Python: boto3.Session(profile_name='sandbox-poc').client('dynamodb')\n"
            "(the profiles' folder is removed when the server stops)",
            file=out,
        )
        out.flush()
        try:
            (wait or wait_for_interrupt)()
        except KeyboardInterrupt:
            print("\nstopping the emulator", file=out)
