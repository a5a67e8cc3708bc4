"""A deployed function runs from its own asset, with its environment, its execution role's
credentials and a context counting down its timeout, as Lambda would run it."""

from __future__ import annotations

import io
import json
import sys
import zipfile
from pathlib import Path

import pytest

from sandbox.emulator import Emulator
from sandbox.lambda_runtime import FunctionError, FunctionRuntime
from sandbox.mocks import DeployedFunction

ACCOUNT = "111111111111"
PROBE = """
import os

import boto3

from .shared import GREETING_VAR


def handler(event, context):
    print("probe invoked")
    if event.get("fail"):
        raise ValueError("asked to fail")
    return {
        "file": __file__,
        "module": __name__,
        "greeting": os.environ.get(GREETING_VAR),
        "caller": boto3.client("sts").get_caller_identity()["Arn"],
        "remaining": context.get_remaining_time_in_millis(),
    }
"""


@pytest.fixture
def runtime(tmp_path: Path):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("handlers/__init__.py", "")
        archive.writestr("handlers/shared.py", "GREETING_VAR = 'GREETING'\n")
        archive.writestr("handlers/probe.py", PROBE)
    code = buffer.getvalue()
    with Emulator("eu-west-1") as emulator:
        iam = emulator.client("iam", ACCOUNT)
        trust = {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Service": "lambda.amazonaws.com"},
                    "Action": "sts:AssumeRole",
                }
            ],
        }
        role = iam.create_role(RoleName="probe-role", AssumeRolePolicyDocument=json.dumps(trust))
        role_arn = role["Role"]["Arn"]
        config = emulator.client("lambda", ACCOUNT).create_function(
            FunctionName="probe",
            Role=role_arn,
            Runtime="python3.13",
            Handler="handlers.probe.handler",
            Code={"ZipFile": code},
            Timeout=30,
            Environment={"Variables": {"GREETING": "hello"}},
        )
        function = DeployedFunction(
            name="probe",
            arn=config["FunctionArn"],
            account_id=ACCOUNT,
            region="eu-west-1",
            role_arn=role_arn,
            handler="handlers.probe.handler",
            runtime="python3.13",
            timeout=30,
            memory_size=128,
            environment={"GREETING": "hello"},
            zip_bytes=code,
        )
        runtime = FunctionRuntime(function, emulator, tmp_path)
        yield runtime, emulator
        runtime.close()


def test_the_handler_runs_from_the_asset_as_its_role(runtime) -> None:
    runtime, _ = runtime
    result = runtime.invoke({})
    assert Path(result["file"]).is_relative_to(runtime.code_dir)
    # Its own package namespace: neither `handlers` nor `stream_replica.handlers`.
    assert result["module"].endswith(".probe")
    assert not result["module"].startswith(("handlers.", "stream_replica."))
    assert result["greeting"] == "hello"
    assert result["caller"].startswith(f"arn:aws:sts::{ACCOUNT}:assumed-role/probe-role/")
    assert 25_000 < result["remaining"] <= 30_000


def test_errors_and_output_are_reported_as_lambda_does(runtime) -> None:
    runtime, emulator = runtime
    with pytest.raises(FunctionError, match="ValueError: asked to fail"):
        runtime.invoke({"fail": True})
    events = emulator.client("logs", ACCOUNT).filter_log_events(logGroupName="/aws/lambda/probe")[
        "events"
    ]
    messages = [e["message"] for e in events]
    assert "probe invoked" in messages
    assert any(m.startswith("REPORT RequestId:") for m in messages)
    assert any("ValueError: asked to fail" in m for m in messages)


def test_a_tampered_asset_is_refused(tmp_path: Path, runtime) -> None:
    runtime, emulator = runtime
    tampered = DeployedFunction(
        **{**runtime.function.__dict__, "zip_bytes": b"PK\x05\x06" + bytes(18)}
    )
    with pytest.raises(RuntimeError, match="does not match what was deployed"):
        FunctionRuntime(tampered, emulator, tmp_path / "other")


def test_closing_forgets_the_modules(runtime) -> None:
    runtime, _ = runtime
    module = runtime.invoke({})["module"]
    assert module in sys.modules
    runtime.close()
    assert module not in sys.modules
