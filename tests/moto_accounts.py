"""moto for the handler and redrive tests: dummy base credentials, the region, the account-id
endpoint mode moto's DynamoDB Streams needs, one request at a time (moto is not thread-safe),
and the handlers' cached clients and event hooks reset on the way in and out."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from moto import mock_aws
from stream_replica.handlers import clients

from sandbox.emulator import moto_one_request_at_a_time


@contextmanager
def moto_accounts(monkeypatch: pytest.MonkeyPatch, region: str) -> Iterator[None]:
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "POWERTOOLS_SERVICE_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", region)
    monkeypatch.setenv("AWS_REGION", region)
    monkeypatch.setenv("AWS_ACCOUNT_ID_ENDPOINT_MODE", "disabled")
    monkeypatch.setenv("POWERTOOLS_LOG_LEVEL", "WARNING")
    with mock_aws(), moto_one_request_at_a_time():
        clients.reset_clients()
        try:
            yield
        finally:
            clients.clear_event_hooks()
            clients.reset_clients()
