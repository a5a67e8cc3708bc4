"""``python -m stream_replica.redrive`` as a user runs it: the queue URL and the flags checked
before anything is called, and every way AWS can't be used (no credentials, an endpoint it
can't reach, a denied call, a queue that doesn't exist) one line on stderr with exit status 3,
distinct from 1 (messages left) and 2 (usage)."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count
from stream_replica.redrive import __main__ as cli
from stream_replica.redrive.aws_errors import EXIT_AWS_ERROR
from stream_replica.redrive.queue_url import parse_queue_url

REGION = "eu-west-1"
ACCOUNT = "123456789012"
QUEUE = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/failures"


@pytest.fixture
def no_aws(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No credentials, profile, region or endpoint from the machine; returns the config file
    path (not created) the test may write."""
    for name in (
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_SECURITY_TOKEN",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ENDPOINT_URL_SQS",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_ROLE_ARN",
    ):
        monkeypatch.delenv(name, raising=False)
    config = tmp_path / "config"
    monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    monkeypatch.setenv("AWS_EC2_METADATA_DISABLED", "true")
    # One attempt per call: an unreachable endpoint fails at once instead of after backoff.
    monkeypatch.setattr(cli, "AWS_RETRIES", {"mode": "standard", "max_attempts": 1})
    return config


@pytest.fixture
def moto_aws(no_aws: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    with mock_aws():
        yield


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _error_line(err: str) -> str:
    lines = [line for line in err.splitlines() if line.strip()]
    assert "Traceback" not in err
    assert len(lines) == 1, err
    assert lines[0].startswith("python -m stream_replica.redrive: error: ")
    return lines[0]


# --------------------------------------------------------------------------- the queue URL


@pytest.mark.parametrize(
    ("url", "region", "name"),
    [
        (QUEUE, REGION, "failures"),
        (f"https://sqs.us-gov-west-1.amazonaws.com/{ACCOUNT}/q_1", "us-gov-west-1", "q_1"),
        (f"https://sqs-fips.us-east-2.amazonaws.com/{ACCOUNT}/q", "us-east-2", "q"),
        (f"https://sqs.cn-north-1.amazonaws.com.cn/{ACCOUNT}/q", "cn-north-1", "q"),
        (f"https://ap-southeast-2.queue.amazonaws.com/{ACCOUNT}/q", "ap-southeast-2", "q"),
        (f"https://queue.amazonaws.com/{ACCOUNT}/legacy", "us-east-1", "legacy"),
        (
            f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{'f' * 75}.fifo",
            REGION,
            "f" * 75 + ".fifo",
        ),
        (f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{'a' * 80}", REGION, "a" * 80),
    ],
)
def test_sqs_queue_urls_and_their_region(url: str, region: str, name: str) -> None:
    queue = parse_queue_url(url)
    assert (queue.region, queue.account, queue.name, queue.aws_host) == (
        region,
        ACCOUNT,
        name,
        True,
    )


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("notaurl", "has no https:// host"),
        ("sqs.eu-west-1.amazonaws.com/123456789012/q", "has no https:// host"),
        (f"https://sqs.{REGION}.amazonaws.com/1/q", "/<12-digit account id>/<queue name>"),
        (f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}", "/<12-digit account id>/<queue name>"),
        (
            f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/a/b",
            "/<12-digit account id>/<queue name>",
        ),
        (f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/my.queue", "is not a queue name"),
        (f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{'a' * 81}", "is not a queue name"),
        (f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/{'f' * 76}.fifo", "is not a queue name"),
        (
            f"https://kinesis.{REGION}.amazonaws.com/{ACCOUNT}/q",
            "is not an SQS endpoint; for an emulator",
        ),
        (f"http://127.0.0.1:5000/{ACCOUNT}/q", "give --endpoint-url (or a profile with"),
    ],
)
def test_what_is_not_an_sqs_queue_url_is_named(url: str, problem: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_queue_url(url)
    message = str(raised.value)
    assert message.startswith(f"--queue-url {url!r} is not an SQS queue URL (https://sqs.")
    assert problem in message


def test_a_custom_endpoints_url_is_accepted_only_for_a_custom_endpoint() -> None:
    url = f"http://127.0.0.1:5000/{ACCOUNT}/failures"
    queue = parse_queue_url(url, custom_endpoint=True)
    assert (queue.region, queue.account, queue.name, queue.aws_host) == (
        None,
        ACCOUNT,
        "failures",
        False,
    )
    with pytest.raises(ValueError, match="does not end in a queue name"):
        parse_queue_url("http://127.0.0.1:5000/", custom_endpoint=True)


# --------------------------------------------------------------------------- usage: exit 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--queue-url", "notaurl", "--dry-run"], "--queue-url 'notaurl' is not an SQS queue URL"),
        (
            ["--queue-url", QUEUE, "--visibility-timeout", "-5"],
            "--visibility-timeout must be 0..43200 seconds (SQS's limit, 12 hours), got -5",
        ),
        (["--queue-url", QUEUE, "--visibility-timeout", "43201"], "got 43201"),
        (["--queue-url", QUEUE, "--function-timeout", "0"], "--function-timeout must be 1..900"),
        (["--queue-url", QUEUE, "--function-timeout", "901"], "got 901"),
        (
            ["--queue-url", QUEUE, "--region", "us-east-1"],
            "--region us-east-1 differs from the queue URL's region eu-west-1",
        ),
        (["--queue-url", QUEUE, "--max-attempts", "0"], "--max-attempts must be at least 1"),
    ],
)
def test_usage_errors_exit_2_naming_the_flag(
    argv: list[str], message: str, no_aws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert message in err
    assert "Traceback" not in err


def test_the_visibility_timeout_edges_are_accepted(no_aws: Path) -> None:
    for value in ("0", "43200"):
        assert cli.parse_args(["--queue-url", QUEUE, "--visibility-timeout", value])


@pytest.mark.parametrize("region", [["--region", REGION], []])
def test_an_emulators_queue_url_without_a_custom_endpoint_is_a_usage_error(
    region: list[str], no_aws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.main(["--queue-url", f"http://127.0.0.1:5000/{ACCOUNT}/q", *region])
    assert exited.value.code == 2
    assert "127.0.0.1 is not an SQS endpoint" in capsys.readouterr().err


def test_a_custom_endpoints_url_needs_a_region(
    no_aws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:5000/{ACCOUNT}/q"
    with pytest.raises(SystemExit) as exited:
        cli.main(["--queue-url", url, "--endpoint-url", "http://127.0.0.1:5000"])
    assert exited.value.code == 2
    assert "names no region (a custom endpoint's URL): give --region" in capsys.readouterr().err


def test_help_documents_the_exit_statuses(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.parse_args(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    for code, meaning in cli.EXIT_STATUSES.items():
        assert f"  {code}  {meaning.split(':')[0]}" in out
    assert sorted(cli.EXIT_STATUSES) == [0, 1, 2, EXIT_AWS_ERROR] == [0, 1, 2, 3]


# --------------------------------------------------------------------------- AWS: exit 3


def test_no_credentials_is_one_line_and_exit_3(
    no_aws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--queue-url", QUEUE, "--dry-run", "--quiet"]) == EXIT_AWS_ERROR
    line = _error_line(capsys.readouterr().err)
    assert "no AWS credentials found: run as the queue's account" in line
    assert "--profile" in line


def test_an_unknown_profile_is_one_line_and_exit_3(
    no_aws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--queue-url", QUEUE, "--profile", "nope", "--dry-run"]) == EXIT_AWS_ERROR
    line = _error_line(capsys.readouterr().err)
    assert "nope" in line and "check --profile / AWS_PROFILE" in line


def test_an_endpoint_it_cannot_reach_is_one_line_and_exit_3(
    no_aws: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    argv = ["--queue-url", f"{endpoint}/{ACCOUNT}/q", "--endpoint-url", endpoint]
    assert cli.main([*argv, "--region", REGION, "--dry-run"]) == EXIT_AWS_ERROR
    line = _error_line(capsys.readouterr().err)
    assert f'cannot reach AWS (Could not connect to the endpoint URL: "{endpoint}/")' in line
    assert f"the region ({REGION}) and --endpoint-url" in line


def test_a_profiles_endpoint_url_makes_the_endpoint_custom(
    no_aws: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """As after ``make serve``: the profile carries endpoint_url and the region, and the queue
    URL is the emulator's; the URL is accepted and the call goes to that endpoint."""
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    no_aws.write_text(
        f"[profile emulator]\nregion = {REGION}\nendpoint_url = {endpoint}\n"
        "aws_access_key_id = testing\naws_secret_access_key = testing\n"
    )
    url = f"{endpoint}/{ACCOUNT}/failures"
    assert cli.main(["--queue-url", url, "--profile", "emulator", "--dry-run"]) == EXIT_AWS_ERROR
    assert f'Could not connect to the endpoint URL: "{endpoint}/"' in _error_line(
        capsys.readouterr().err
    )


def test_a_queue_that_does_not_exist_is_one_line_and_exit_3(
    moto_aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["--queue-url", QUEUE, "--dry-run"]) == EXIT_AWS_ERROR
    line = _error_line(capsys.readouterr().err)
    assert f"the queue {QUEUE} does not exist in {REGION} for this account" in line
    assert "pulumi stack output replicatorFailureQueueUrl" in line


def test_a_denied_call_is_one_line_and_exit_3(
    moto_aws: None, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An identity without the redrive's permissions (moto enforcing IAM): denied on the first
    call, named, and the fix pointed at."""

    @set_initial_no_auth_action_count(3)
    def run() -> int:
        iam = boto3.client("iam", region_name=REGION)
        iam.create_user(UserName="operator")
        key = iam.create_access_key(UserName="operator")["AccessKey"]
        boto3.client("sqs", region_name=REGION).create_queue(QueueName="failures")
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", key["AccessKeyId"])
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", key["SecretAccessKey"])
        return cli.main(["--queue-url", QUEUE, "--dry-run"])

    assert run() == EXIT_AWS_ERROR
    line = _error_line(capsys.readouterr().err)
    assert "GetQueueAttributes was denied (AccessDenied" in line
    assert "docs/redrive.md, 'Its IAM'" in line


# --------------------------------------------------------------------------- 0 and 1, warnings


def test_messages_left_exit_1_and_an_empty_queue_exits_0(
    moto_aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    sqs = boto3.client("sqs", region_name=REGION)
    url = sqs.create_queue(QueueName="failures")["QueueUrl"]
    assert url == QUEUE
    assert cli.main(["--queue-url", QUEUE, "--quiet"]) == 0
    sqs.send_message(QueueUrl=url, MessageBody="not an invocation record")
    assert cli.main(["--queue-url", QUEUE, "--quiet"]) == 1
    out = capsys.readouterr().out
    assert json.loads(out.strip().splitlines()[-1])["messages_left"] == 1


def test_a_visibility_timeout_below_the_functions_timeout_times_attempts_warns(
    moto_aws: None, capsys: pytest.CaptureFixture[str]
) -> None:
    boto3.client("sqs", region_name=REGION).create_queue(QueueName="failures")
    argv = ["--queue-url", QUEUE, "--quiet", "--function-timeout", "300"]
    assert cli.main([*argv, "--visibility-timeout", "600"]) == 0
    err = capsys.readouterr().err
    assert "warning: --visibility-timeout 600 s is below the function's timeout 300 s x " in err
    assert "--max-attempts 3 = 900 s" in err
    assert cli.main([*argv, "--visibility-timeout", "900"]) == 0
    assert "warning" not in capsys.readouterr().err
    assert cli.visibility_warning(600, None, 3) is None  # timeout not known: nothing to say
    assert cli.visibility_warning(899, 300, 3) is not None


@pytest.mark.parametrize(
    ("code", "status", "expected"),
    [
        ("InvalidClientTokenId", 403, "AWS refused the credentials on ReceiveMessage"),
        ("ExpiredToken", 400, "AWS refused the credentials on ReceiveMessage (ExpiredToken"),
        ("AccessDeniedException", 400, "ReceiveMessage was denied (AccessDeniedException"),
        ("KMS.AccessDeniedException", 400, "ReceiveMessage was denied"),
        ("ThrottlingException", 400, "ReceiveMessage failed (ThrottlingException: no line"),
    ],
)
def test_each_client_error_is_one_line_saying_what_to_do(
    code: str, status: int, expected: str
) -> None:
    from botocore.exceptions import ClientError
    from stream_replica.redrive.aws_errors import explain

    error = ClientError(
        {
            "Error": {"Code": code, "Message": "no\nline  breaks"},
            "ResponseMetadata": {"HTTPStatusCode": status},
        },
        "ReceiveMessage",
    )
    line = explain(error, queue_url=QUEUE, region=REGION)
    assert line is not None and "\n" not in line
    assert expected in line
    assert "no line breaks" in line
    assert explain(ValueError("a bug"), queue_url=QUEUE, region=REGION) is None
