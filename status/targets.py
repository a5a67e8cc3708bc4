"""What the status command looks at, from a stack's outputs (``pulumi stack output --json``) or
from names given on the command line."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: Stack outputs naming stream consumer functions, by the function's role.
FUNCTION_OUTPUTS = {
    "replicator": "replicatorFunctionName",
    "archiver": "archiverFunctionName",
    "query writer": "queryWriterFunctionName",
}
#: Stack outputs naming queues: (output, kind), kind ``on-failure`` or ``dead-letter``.
QUEUE_OUTPUTS = (
    ("replicatorFailureQueueUrl", "on-failure"),
    ("replicatorDeadLetterQueueUrl", "dead-letter"),
    ("archiverFailureQueueUrl", "on-failure"),
    ("archiverDeadLetterQueueUrl", "dead-letter"),
)


@dataclass
class Targets:
    """One account's (one stack's) things to look at; ``profile`` acts in that account."""

    label: str
    profile: str | None = None
    region: str | None = None
    functions: dict[str, str] = field(default_factory=dict)
    #: queue URL -> ``on-failure`` or ``dead-letter``
    queues: dict[str, str] = field(default_factory=dict)
    bucket: str | None = None
    tables: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not (self.functions or self.queues or self.bucket or self.tables)


def from_outputs(label: str, outputs: dict[str, Any], profile: str | None) -> Targets:
    """A stack's targets from its outputs. Tables are read where they live: the stack that
    exports ``tableStreamArn`` owns the replica table (and the query table)."""
    targets = Targets(label=label, profile=profile, region=outputs.get("tableRegion"))
    for role, key in FUNCTION_OUTPUTS.items():
        if outputs.get(key):
            targets.functions[role] = str(outputs[key])
    for key, kind in QUEUE_OUTPUTS:
        if outputs.get(key):
            targets.queues[str(outputs[key])] = kind
    if outputs.get("bucketName"):
        targets.bucket = str(outputs["bucketName"])
    if outputs.get("tableStreamArn"):
        targets.tables = [
            str(outputs[k]) for k in ("tableName", "queryTableName") if outputs.get(k)
        ]
    return targets


def load_outputs(path: Path) -> dict[str, Any]:
    """A ``pulumi stack output --json`` file. Raises ValueError naming the file when it is not
    one (missing, not JSON, not an object)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read stack outputs {path}: {exc.strerror}") from None
    try:
        outputs = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(
            f"{path} is not JSON ({exc.msg}): write it with "
            "pulumi stack output --json -s <stack> > FILE"
        ) from None
    if not isinstance(outputs, dict):
        raise ValueError(f"{path} is not a JSON object of stack outputs")
    return outputs
