"""Isolation for the benchmark harness tests: the harness sets Lambda-style environment
variables, switches boto3's default session and caches handler clients; none of that may leak
into the other test folders that share the pytest process."""

from __future__ import annotations

import os
from collections.abc import Iterator

import boto3
import pytest


@pytest.fixture(autouse=True)
def _restore_process_state() -> Iterator[None]:
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)
    boto3.DEFAULT_SESSION = None
    from stream_replica.handlers import clients

    clients.reset_clients()
