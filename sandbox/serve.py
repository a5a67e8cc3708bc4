"""``--serve``: the emulator's server left up after the run, with an AWS CLI profile per
account."""

from __future__ import annotations

import tempfile
import time
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


def serve_forever(
    emulator: Emulator,
    result: DemoResult,
    out: TextIO,
    table_name: str,
    accounts: dict[str, str],
    source_arn: str,
    log_group: str,
) -> None:
    """Print how to reach the emulator's server with the AWS CLI or boto3 (profiles written by
    :func:`write_cli_profiles`), then keep it up until Ctrl-C."""
    folder = Path(tempfile.mkdtemp(prefix="sandbox-aws-"))
    config, credentials = write_cli_profiles(emulator, accounts, folder)
    print(
        f"\nmoto server: {result.endpoint_url} (up until Ctrl-C). Profiles sandbox-poc and "
        "sandbox-prod act in the two accounts:\n"
        f"  export AWS_CONFIG_FILE={config} AWS_SHARED_CREDENTIALS_FILE={credentials}\n"
        f"  aws --profile sandbox-poc dynamodb scan --table-name {table_name} --max-items 2\n"
        "  aws --profile sandbox-poc s3 ls\n"
        "  aws --profile sandbox-poc sqs list-queues\n"
        "  aws --profile sandbox-prod kinesis describe-stream-summary "
        f"--stream-name {source_arn.rsplit('/', 1)[-1]}\n"
        "  aws --profile sandbox-prod lambda list-event-source-mappings\n"
        "  aws --profile sandbox-prod logs filter-log-events "
        f"--log-group-name {log_group} --limit 5\n"
        "or in Python: boto3.Session(profile_name='sandbox-poc').client('dynamodb')",
        file=out,
    )
    out.flush()
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        print("\nstopping the emulator", file=out)
