"""The AWS clients of an execution environment: made at first use, cached, observable.

Nothing runs at import time. Clients are created at first use from the environment as it is at
that moment (the sandbox sets the function's environment and role credentials just before it
invokes) and reused across invocations of one execution environment. :func:`reset_clients`
forgets them (tests, the sandbox and the benchmarks call it when the environment or the moto
account changes); :func:`add_event_hook` lets them observe or slow down every call of every client
the handlers create (botocore event hooks such as ``before-call`` / ``before-send``).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from typing import Any

import botocore.session
from botocore.config import Config

from .environment import own_region

_lock = threading.RLock()
_clients: dict[tuple[Any, ...], Any] = {}
_hooks: list[tuple[str, Callable[..., Any]]] = []
_loader: Any = None


def client_config(max_pool_connections: int = 10, read_timeout: int = 10) -> Config:
    """Client settings: botocore retries off (the handlers retry within the time budget, and
    every attempt is one observable call), short timeouts (3 s to connect, ``read_timeout``
    seconds to read), a pool of at least 10 connections for concurrent calls, and no
    client-side parameter validation: the handlers build every request from TypeSerializer
    output, and walking 300 items again costs about a third of the replicator's CPU."""
    return Config(
        retries={"mode": "standard", "total_max_attempts": 1},
        parameter_validation=False,
        connect_timeout=3,
        read_timeout=read_timeout,
        max_pool_connections=max(10, max_pool_connections),
    )


def apply_hooks(client: Any) -> Any:
    """Register every hook added by :func:`add_event_hook` on ``client``; returns ``client``."""
    for event_name, hook in _hooks:
        client.meta.events.register(event_name, hook)
    return client


def new_botocore_session() -> botocore.session.Session:
    """A fresh botocore session; it reads credentials from the environment when first used.

    All sessions share one data loader, so each service model and the endpoint data are read
    from disk once per process (a cold start builds up to three sessions: execution role, STS
    source and assumed writer role)."""
    global _loader
    session = botocore.session.Session()
    with _lock:
        if _loader is None:
            _loader = session.get_component("data_loader")
        else:
            session.register_component("data_loader", _loader)
    return session


def _source_identity() -> tuple[str | None, str | None]:
    """Which credentials the environment holds now: part of every cache key, so a process that
    runs handlers under different roles (the sandbox) never reuses another role's client."""
    return os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_PROFILE")


def cached_client(key: tuple[Any, ...], factory: Callable[[], Any]) -> Any:
    """The client cached under ``key`` (which should hold every setting it was built from) and
    the environment's credentials, created by ``factory`` on first use. A factory that raises
    caches nothing."""
    key = (*key, _source_identity())
    with _lock:
        found = _clients.get(key)
        if found is None:
            found = apply_hooks(factory())
            _clients[key] = found
        return found


def own_client(service: str, *, region: str | None = None, pool: int = 10) -> Any:
    """A client in the function's own account (execution role credentials from the env), in
    ``region`` (default ``AWS_REGION``) with a pool of ``pool`` connections."""
    region = region or own_region()

    def factory() -> Any:
        return new_botocore_session().create_client(
            service, region_name=region, config=client_config(pool)
        )

    return cached_client(("own", service, region, pool), factory)


def add_event_hook(event_name: str, hook: Callable[..., Any]) -> None:
    """Register a botocore event hook on every client the handlers hold now or create later
    (e.g. ``before-call`` to count calls, ``before-send`` to add latency or fake a response)."""
    with _lock:
        _hooks.append((event_name, hook))
        for client in _clients.values():
            client.meta.events.register(event_name, hook)


def clear_event_hooks() -> None:
    """Remove every hook added by :func:`add_event_hook`."""
    with _lock:
        for client in _clients.values():
            for event_name, hook in _hooks:
                client.meta.events.unregister(event_name, hook)
        _hooks.clear()


def reset_clients(cold: bool = False) -> None:
    """Forget every cached client and credential (the next call re-reads the environment and,
    in assume-role mode, assumes the writer role again). Hooks stay registered.

    ``cold=True`` also forgets the loaded service models, as a new execution environment would.
    """
    global _loader
    with _lock:
        _clients.clear()
        if cold:
            _loader = None
