"""Fixtures for the handler tests: a moto world with the prod and POC accounts.

The replicator runs with the execution role's credentials (prod, 111111111111) in the process
environment, as Lambda gives them, and assumes the writer role in the POC account
(999999999999); moto switches account by the assumed role's ARN. The archiver runs with a POC
role's credentials.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from handler_support import (
    ARCHIVER_ROLE_ARN,
    DELIVERY_STREAM,
    EXECUTION_ROLE_ARN,
    REGION,
    TABLE_NAME,
    WRITER_ROLE_ARN,
    CallCounter,
    Credentials,
    FakeContext,
    KinesisSource,
    Target,
    assume,
)
from stream_replica.handlers import archiver, clients, replicator

from tests.moto_accounts import moto_accounts


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """moto, with dummy base credentials and the endpoint mode moto's DynamoDB Streams needs."""
    with moto_accounts(monkeypatch, REGION):
        yield


@dataclass
class World:
    """Both accounts in moto and a way to invoke each handler as its Lambda function would be."""

    monkeypatch: pytest.MonkeyPatch
    prod: Credentials
    poc: Credentials
    source: KinesisSource
    target: Target
    replicator_dlq: str
    archiver_dlq: str
    calls: CallCounter

    def replicator_env(self, **overrides: str) -> dict[str, str]:
        env = {
            **self.prod.env,
            "ACCESS_MODE": "assume-role",
            "TABLE_NAME": TABLE_NAME,
            "TABLE_ARN": self.target.table_arn,
            "TARGET_REGION": REGION,
            "WRITER_ROLE_ARN": WRITER_ROLE_ARN,
            "WRITER_ROLE_SESSION_NAME": "ProdKinesisToPocDynamo",
            "DEAD_LETTER_QUEUE_URL": self.replicator_dlq,
            "MAX_WRITE_CONCURRENCY": "4",
            "POWERTOOLS_SERVICE_NAME": "replicator",
        }
        env.update(overrides)
        return env

    def archiver_env(self, **overrides: str) -> dict[str, str]:
        env = {
            **self.poc.env,
            "DELIVERY_STREAM_NAME": DELIVERY_STREAM,
            "DEAD_LETTER_QUEUE_URL": self.archiver_dlq,
            "POWERTOOLS_SERVICE_NAME": "archiver",
        }
        env.update(overrides)
        return env

    def _apply(self, env: dict[str, str]) -> None:
        for name in (
            "ACCESS_MODE",
            "WRITER_EXTERNAL_ID",
            "ARCHIVE_REMOVES",
            "MAX_WRITE_CONCURRENCY",
            "MAX_PUT_CONCURRENCY",
            "RETRY_SAFETY_MARGIN_MS",
        ):
            self.monkeypatch.delenv(name, raising=False)
        for name, value in env.items():
            self.monkeypatch.setenv(name, value)

    def replicate(self, event: dict[str, Any], context: Any = None, **env: str) -> dict[str, Any]:
        self._apply(self.replicator_env(**env))
        return replicator.handler(event, context or FakeContext())

    def archive(self, event: dict[str, Any], context: Any = None, **env: str) -> dict[str, Any]:
        self._apply(self.archiver_env(**env))
        return archiver.handler(event, context or FakeContext(remaining_ms=300_000))


@pytest.fixture
def world(aws: None, monkeypatch: pytest.MonkeyPatch) -> World:
    prod = assume(EXECUTION_ROLE_ARN)
    poc = assume(ARCHIVER_ROLE_ARN)
    calls = CallCounter()
    clients.add_event_hook("before-call", calls)
    return World(
        monkeypatch=monkeypatch,
        prod=prod,
        poc=poc,
        source=KinesisSource(prod),
        target=Target(poc),
        replicator_dlq=prod.client("sqs").create_queue(QueueName="replicator-dead-letters")[
            "QueueUrl"
        ],
        archiver_dlq=poc.client("sqs").create_queue(QueueName="archiver-dead-letters")["QueueUrl"],
        calls=calls,
    )
