"""The four functions under test — our replicator and archiver, and the seed-design baseline of
each — behind one small interface, plus the Lambda environment they run with."""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import Any

from stream_replica.testing.events import (
    POC_ACCOUNT,
    PROD_ACCOUNT,
    REGION,
    TABLE_ARN,
    TABLE_NAME,
    WRITER_ROLE_ARN,
)

from . import baseline, ours_adapter, peer

REPLICATOR_FUNCTION = "ProdKinesisToPocDynamo"
ARCHIVER_FUNCTION = "PocLambdaFirehose"
DELIVERY_STREAM = "prod-s3-firehose"

# The environment the components give the functions (handlers/__init__.py), with the seed's
# names, plus dummy credentials: every request is answered by the in-process fake or by moto.
LAMBDA_ENV = {
    "AWS_DEFAULT_REGION": REGION,
    "AWS_REGION": REGION,
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "ACCESS_MODE": "assume-role",
    "TABLE_NAME": TABLE_NAME,
    "TABLE_ARN": TABLE_ARN,
    "TARGET_REGION": REGION,
    "WRITER_ROLE_ARN": WRITER_ROLE_ARN,
    "WRITER_ROLE_SESSION_NAME": REPLICATOR_FUNCTION,
    "DELIVERY_STREAM_NAME": DELIVERY_STREAM,
    "POWERTOOLS_SERVICE_NAME": "stream-replica",
    "POWERTOOLS_METRICS_NAMESPACE": "StreamReplica",
}
REPLICATOR_DLQ = f"https://sqs.{REGION}.amazonaws.com/{PROD_ACCOUNT}/replicator-dead-letters"
ARCHIVER_DLQ = f"https://sqs.{REGION}.amazonaws.com/{POC_ACCOUNT}/archiver-dead-letters"

Event = dict[str, Any]


@dataclass
class Subject:
    """One function under test.

    ``transform`` is the function's per-batch transform with no I/O (decode + build items for
    the replicator, image -> JSON lines for the archiver), used for the CPU-per-record figure.
    ``reset`` forgets cached clients/credentials, i.e. the next call behaves like the first one
    in a new execution environment."""

    side: str  # "replicator" | "archiver"
    impl: str  # "ours" | "baseline"
    handler: Callable[[Event, Any], Any]
    reset: Callable[[], None]
    transform: Callable[[Event], Any]
    env: dict[str, str]
    concurrency: int = 1  # AWS calls in flight at once (the handlers' default; baseline: 1)

    @property
    def function_name(self) -> str:
        return REPLICATOR_FUNCTION if self.side == "replicator" else ARCHIVER_FUNCTION

    @property
    def timeout_s(self) -> float:
        return 120.0 if self.side == "replicator" else 300.0

    @property
    def label(self) -> str:
        return f"{self.side} ({self.impl})"


def apply_env(extra: dict[str, str] | None = None) -> None:
    os.environ.update(LAMBDA_ENV)
    if extra:
        os.environ.update(extra)


def _baseline_subjects() -> list[Subject]:
    return [
        Subject(
            side="replicator",
            impl="baseline",
            handler=baseline.replicator_handler,
            reset=baseline.reset_clients,
            transform=lambda ev: [baseline.replicator_typed_item(r) for r in ev["Records"]],
            env={"DEAD_LETTER_QUEUE_URL": REPLICATOR_DLQ},
        ),
        Subject(
            side="archiver",
            impl="baseline",
            handler=baseline.archiver_handler,
            reset=baseline.reset_clients,
            transform=lambda ev: [baseline.archiver_line(r) for r in ev["Records"]],
            env={"DEAD_LETTER_QUEUE_URL": ARCHIVER_DLQ},
        ),
    ]


def _peer_subjects() -> list[Subject]:
    return [
        Subject(
            side="replicator",
            impl="peer",
            handler=peer.replicator_handler,
            reset=peer.reset_clients,
            transform=peer.replicator_typed_items,
            env={"DEAD_LETTER_QUEUE_URL": REPLICATOR_DLQ},
        ),
        Subject(
            side="archiver",
            impl="peer",
            handler=peer.archiver_handler,
            reset=peer.reset_clients,
            transform=peer.archiver_lines,
            env={"DEAD_LETTER_QUEUE_URL": ARCHIVER_DLQ},
        ),
    ]


def _import_ours(name: str) -> ModuleType:
    return importlib.import_module(f"stream_replica.handlers.{name}")


def _our_subjects() -> list[Subject]:
    apply_env()
    rep = _import_ours("replicator")
    arc = _import_ours("archiver")

    return [
        Subject(
            side="replicator",
            impl="ours",
            handler=rep.handler,
            reset=ours_adapter.reset(rep),
            transform=ours_adapter.replicator_transform(rep),
            env={"DEAD_LETTER_QUEUE_URL": REPLICATOR_DLQ},
            concurrency=rep.DEFAULT_WRITE_CONCURRENCY,  # MAX_WRITE_CONCURRENCY unset
        ),
        Subject(
            side="archiver",
            impl="ours",
            handler=arc.handler,
            reset=ours_adapter.reset(arc),
            transform=ours_adapter.archiver_transform(arc),
            env={"DEAD_LETTER_QUEUE_URL": ARCHIVER_DLQ},
            concurrency=4,  # MAX_PUT_CONCURRENCY's default
        ),
    ]


def load_subjects() -> tuple[list[Subject], list[str]]:
    """Our two handlers, the two baselines and the two Powertools peers; our handlers are
    skipped, with a note, while they cannot be imported."""
    notes: list[str] = []
    subjects = _baseline_subjects() + _peer_subjects()
    try:
        subjects = _our_subjects() + subjects
    except (ImportError, AttributeError) as exc:
        notes.append(f"our handlers are not measured: {exc}")
    return subjects, notes
