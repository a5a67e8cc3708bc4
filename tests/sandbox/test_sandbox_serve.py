"""``make serve``: every command it prints works as printed (run here through botocore with the
profile files it wrote), and the temporary folder holding the credentials goes on every way
out (Ctrl-C, SIGTERM)."""

from __future__ import annotations

import io
import os
import re
import shlex
import signal
import socket
from pathlib import Path
from typing import Any

import boto3
import botocore.session
import pytest

from sandbox.demo import run
from sandbox.plan import DemoOptions
from sandbox.report import Progress


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _operation(service: str, command: str) -> str:
    """The API operation an AWS CLI command names (``list-queues`` -> ``ListQueues``)."""
    model = botocore.session.get_session().get_service_model(service)
    for name in model.operation_names:
        if botocore.xform_name(name).replace("_", "-") == command:
            return str(name)
    raise AssertionError(f"{service} has no operation {command}")


def _call(argv: list[str]) -> dict[str, Any]:
    """An ``aws --profile P --endpoint-url U <service> <command> --name value ...`` through
    botocore: the profile files from the environment, every option an API parameter."""
    assert argv[:2] == ["aws", "--profile"] and argv[3] == "--endpoint-url", argv
    profile, endpoint, service, command, rest = argv[2], argv[4], argv[5], argv[6], argv[7:]
    service = "s3" if service == "s3api" else service
    operation = _operation(service, command)
    model = botocore.session.get_session().get_service_model(service)
    members = model.operation_model(operation).input_shape
    params: dict[str, Any] = {}
    for option, value in zip(rest[::2], rest[1::2], strict=True):
        assert members is not None
        names = {botocore.xform_name(m).replace("_", "-"): m for m in members.members}
        assert option[2:] in names, (argv, option)
        name = names[option[2:]]
        kind = members.members[name].type_name
        params[name] = int(value) if kind == "integer" else value
    client = boto3.Session(profile_name=profile).client(service, endpoint_url=endpoint)
    response: dict[str, Any] = getattr(client, botocore.xform_name(operation))(**params)
    return response


def _serve(wait_with: Any) -> tuple[str, Path]:
    out = io.StringIO()

    def wait() -> None:
        wait_with(out.getvalue())

    options = DemoOptions(
        records=20, serve=True, port=_free_port(), replay=False, redrive=False, progress=False
    )
    import sandbox.serve

    original = sandbox.serve.serve_forever

    def serve_forever(*args: Any, **kwargs: Any) -> None:
        original(*args, **{**kwargs, "wait": wait})

    mp = pytest.MonkeyPatch()
    mp.setattr("sandbox.demo.serve_forever", serve_forever)
    try:
        run(options, out)
    finally:
        mp.undo()
    text = out.getvalue()
    match = re.search(r"export AWS_CONFIG_FILE=(\S+) AWS_SHARED_CREDENTIALS_FILE=(\S+)", text)
    assert match, text
    return text, Path(match.group(1)).parent


def test_every_printed_command_works_as_printed_and_ctrl_c_removes_the_profiles(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    called: dict[str, dict[str, Any]] = {}

    def run_the_printed_commands(text: str) -> None:
        match = re.search(r"export AWS_CONFIG_FILE=(\S+) AWS_SHARED_CREDENTIALS_FILE=(\S+)", text)
        assert match, text
        assert "credentials" in os.listdir(Path(match.group(2)).parent)
        monkeypatch.setenv("AWS_CONFIG_FILE", match.group(1))
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", match.group(2))
        for line in text.splitlines():
            if line.startswith("  aws "):
                argv = shlex.split(line)
                called[" ".join(argv[5:7])] = _call(argv)
        # ... and the Python line.
        assert "boto3.Session(profile_name='sandbox-poc').client('dynamodb')" in text
        boto3.Session(profile_name="sandbox-poc").client("dynamodb").list_tables()
        raise KeyboardInterrupt  # Ctrl-C

    text, folder = _serve(run_the_printed_commands)
    assert "stopping the emulator" in text
    assert not folder.exists(), "the profiles' folder (with a credentials file) is left behind"
    assert len(called) == 6, called
    assert called["sqs list-queues"]["QueueUrls"], "the POC account's on-failure queues"
    assert called["dynamodb scan"]["Items"]
    assert called["kinesis describe-stream-summary"]["StreamDescriptionSummary"]
    assert called["lambda list-event-source-mappings"]["EventSourceMappings"]


def test_sigterm_removes_the_profiles_too() -> None:
    def terminated(text: str) -> None:
        os.kill(os.getpid(), signal.SIGTERM)

    before = signal.getsignal(signal.SIGTERM)
    _, folder = _serve(terminated)
    assert not folder.exists()
    assert signal.getsignal(signal.SIGTERM) == before  # the handler is given back


def test_a_phase_line_at_its_start_and_its_end_in_order() -> None:
    stream = io.StringIO()
    progress = Progress(True, stream)
    with progress.phase("first"):
        pass
    with progress.phase("second"):
        pass
    lines = stream.getvalue().splitlines()
    assert [line.split(" ")[0].rstrip(":") for line in lines] == [
        "first",
        "first",
        "second",
        "second",
    ]
    assert lines[0] == "first ..." and re.fullmatch(r"first: \d+\.\d s", lines[1])
