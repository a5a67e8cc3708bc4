"""``python -m stream_replica.status`` against the sandbox's server (as ``make serve`` runs it):
the iterator age the poller's invocations put into the emulated CloudWatch, a backlog of batches
that kept crashing in the on-failure queue, and an exit status that says whether to act."""

from __future__ import annotations

import io
import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from stream_replica.status.__main__ import EXIT_ACTION_NEEDED, EXIT_AWS_ERROR, EXIT_OK, main

from sandbox import service_metrics
from sandbox.emulator import Emulator
from sandbox.lambda_runtime import FunctionError
from sandbox.poller import StreamPoller
from sandbox.serve import write_cli_profiles
from tests.sandbox.test_sandbox_poller import ScriptedRuntime, _Function, placeholder_function

ACCOUNT = "111111111111"
REGION = "eu-west-1"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole",
        }
    ],
}


class Pipeline:
    """A stream, a mapping with an on-failure queue, a dead-letter queue, a scripted function,
    and the stack outputs file naming them."""

    def __init__(self, emulator: Emulator, folder: Path) -> None:
        self.emulator = emulator
        # moto's server keeps its state for the process: names of this test's own.
        token = secrets.token_hex(4)
        self.function = f"replicator-{token}"
        failure_queue = f"{token}-mapping-failures"
        self.failure_queue_arn = f"arn:aws:sqs:{REGION}:{ACCOUNT}:{failure_queue}"
        iam = emulator.client("iam", ACCOUNT)
        self.role = iam.create_role(
            RoleName=f"fn-role-{token}", AssumeRolePolicyDocument=json.dumps(TRUST)
        )["Role"]["Arn"]
        lam = emulator.client("lambda", ACCOUNT)
        self.function_arn = placeholder_function(lam, self.function, self.role)
        self.kinesis = emulator.client("kinesis", ACCOUNT)
        self.kinesis.create_stream(StreamName=f"src-{token}", ShardCount=1)
        self.stream_arn = self.kinesis.describe_stream_summary(StreamName=f"src-{token}")[
            "StreamDescriptionSummary"
        ]["StreamARN"]
        sqs = emulator.client("sqs", ACCOUNT)
        self.failure_url = sqs.create_queue(QueueName=failure_queue)["QueueUrl"]
        self.dead_letter_url = sqs.create_queue(QueueName=f"{token}-dead-letters")["QueueUrl"]
        self.lam = lam
        self.outputs = folder / "prod.json"
        self.outputs.write_text(
            json.dumps(
                {
                    "replicatorFunctionName": self.function,
                    "replicatorFailureQueueUrl": self.failure_url,
                    "replicatorDeadLetterQueueUrl": self.dead_letter_url,
                }
            )
        )

    def poller(self, script: Any) -> StreamPoller:
        mapping = self.lam.create_event_source_mapping(
            EventSourceArn=self.stream_arn,
            FunctionName=self.function_arn,
            StartingPosition="TRIM_HORIZON",
            MaximumRetryAttempts=1,
            DestinationConfig={"OnFailure": {"Destination": self.failure_queue_arn}},
        )
        runtime = ScriptedRuntime(
            _Function(self.function, self.function_arn),
            self.role,
            self.emulator.credentials_for_role(self.role, "fn"),
            script,
        )
        return StreamPoller(self.emulator, ACCOUNT, REGION, mapping["UUID"], runtime)  # type: ignore[arg-type]

    def put(self, count: int) -> None:
        for n in range(count):
            self.kinesis.put_record(StreamARN=self.stream_arn, Data=b"x%d" % n, PartitionKey="k")


@pytest.fixture
def pipeline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Pipeline]:
    with Emulator(REGION, serve=True, port=0) as emulator, service_metrics.recording():
        config, credentials = write_cli_profiles(emulator, {"prod": ACCOUNT}, tmp_path / "aws")
        monkeypatch.setenv("AWS_CONFIG_FILE", str(config))
        monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(credentials))
        yield Pipeline(emulator, tmp_path)


def _status(pipeline: Pipeline, *extra: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(
        ["--stack", f"prod={pipeline.outputs}", "--profile", "prod=sandbox-prod", *extra], out
    )
    return code, out.getvalue()


def test_a_healthy_run_shows_its_iterator_age_and_needs_nothing(pipeline: Pipeline) -> None:
    pipeline.put(5)
    # The poller reads the records 30 s after they arrived (as a busy mapping would).
    service_metrics.RECORDER.clock = lambda: time.time() + 30
    pipeline.poller(lambda batch: None).poll()

    code, screen = _status(pipeline)

    assert code == EXIT_OK, screen
    line = next(x for x in screen.splitlines() if pipeline.function in x and "iterator" in x)
    assert "iterator age max" in line and "no data" not in line
    assert " 30 s" in line or " 31 s" in line
    assert "invocations       1" in line and "errors     0" in line
    assert "nothing needs action" in screen

    code, text = _status(pipeline, "--json")
    report = json.loads(text)
    (function,) = report["accounts"][0]["functions"]
    assert function["max_iterator_age_ms"] >= 30_000
    # Over a lower threshold, the same age needs action.
    code, screen = _status(pipeline, "--max-iterator-age-ms", "10000")
    assert code == EXIT_ACTION_NEEDED
    assert f"{pipeline.function} is 30 s behind its stream" in screen or "31 s behind" in screen


def test_a_run_with_crashes_shows_the_backlog_and_the_command_that_drains_it(
    pipeline: Pipeline,
) -> None:
    pipeline.put(3)

    def crash(batch: list[str]) -> Any:
        raise FunctionError("Boom", "crash")

    pipeline.poller(crash).poll()

    code, screen = _status(pipeline)

    assert code == EXIT_ACTION_NEEDED, screen
    assert "errors     2" in screen  # the first try and one retry
    queue_line = next(x for x in screen.splitlines() if "-mapping-failures" in x)
    assert "waiting      1" in queue_line
    assert (
        f"python -m stream_replica.redrive --queue-url {pipeline.failure_url} "
        "--profile sandbox-prod" in screen
    )


def test_a_missing_stack_or_credentials_is_one_line(pipeline: Pipeline, capsys, tmp_path) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--stack", f"poc={tmp_path / 'missing.json'}"])
    assert exit_.value.code == 2
    assert "cannot read stack outputs" in capsys.readouterr().err

    pipeline.outputs.write_text(
        json.dumps({"replicatorFunctionName": pipeline.function, "bucketName": "no-such-bucket"})
    )
    assert main(["--stack", f"prod={pipeline.outputs}", "--profile", "prod=sandbox-prod"]) == (
        EXIT_AWS_ERROR
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert err[0].startswith("python -m stream_replica.status: error: prod: ListObjectsV2")
    assert "is the stack deployed" in err[0]
