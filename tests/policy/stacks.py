"""The rendered stacks, seen by the policy tests: documents by owner, and the placeholder values.

``render(stack, mode, external_id, placement, consumer_mode)`` runs ``__main__.py`` under the
recording mocks of ``stream_replica.testing`` and caches the result (rendering is
deterministic, and the mocks are process-global, so each variant is rendered once per test
session).

``StackView.placeholders()`` resolves the ``<names>`` of ``expected_permissions.py`` from the
*other* inputs of the stack — the event source mappings' source ARNs, the functions'
environment, resource names — never from the policy documents under test, so a policy that
names the wrong resource cannot agree with the table by construction.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .documents import ROLE, IamDocument, collect_documents

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

MODES = ("assume-role", "resource-policy")
STACKS = ("poc", "prod")
PLACEMENTS = ("source", "target")
CONSUMER_MODES = ("shared", "efo")
EXTERNAL_ID = "replica-external-id-7f3a"

FUNCTION = "aws:lambda/function:Function"
MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping"
LOG_GROUP = "aws:cloudwatch/logGroup:LogGroup"
LOG_STREAM = "aws:cloudwatch/logStream:LogStream"
DELIVERY_STREAM = "aws:kinesis/firehoseDeliveryStream:FirehoseDeliveryStream"
PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
TABLE = "aws:dynamodb/table:Table"
STREAM_CONSUMER = "aws:kinesis/streamConsumer:StreamConsumer"


def _harness() -> Any:
    from tests import stack_runs

    return stack_runs


def _static_folder(prefix: str) -> str:
    """The folder part of a Firehose prefix before any ``!{...}`` expression.

    ``prod-kinesis-data/year=!{timestamp:yyyy}/`` -> ``prod-kinesis-data/``.
    """
    static = prefix.split("!{", 1)[0]
    return static[: static.rfind("/") + 1]


def stack_file_value(stack: str, key: str) -> Any:
    """A value of ``Pulumi.<stack>.yaml`` by its key without namespace."""
    import yaml

    data = yaml.safe_load((REPO_ROOT / f"Pulumi.{stack}.yaml").read_text(encoding="utf-8"))
    for full, value in data["config"].items():
        if full.split(":", 1)[-1] == key:
            return value
    raise KeyError(f"Pulumi.{stack}.yaml has no {key}")


@dataclass(frozen=True)
class StackView:
    stack: str
    mode: str
    external_id: str | None
    resources: tuple[Any, ...]
    outputs: Mapping[str, Any]
    placement: str = "source"
    consumer_mode: str = "shared"

    # --- finding resources -----------------------------------------------------------------

    def of_type(self, type_token: str) -> list[Any]:
        return [r for r in self.resources if r.type == type_token]

    def one(self, type_token: str, name_contains: str = "") -> Any:
        found = [r for r in self.of_type(type_token) if name_contains in r.name]
        if len(found) != 1:
            names = [r.name for r in self.of_type(type_token)]
            raise LookupError(
                f"{self.stack}/{self.mode}: expected one {type_token} named like "
                f"{name_contains!r}, found {names}"
            )
        return found[0]

    def config(self, key: str) -> Any:
        return stack_file_value(self.stack, key)

    @property
    def region(self) -> str:
        return str(self.config("region"))

    @property
    def account(self) -> str:
        return str(self.config("prodAccountId" if self.stack == "prod" else "pocAccountId"))

    # --- documents --------------------------------------------------------------------------

    def role_label(self, logical_name: str) -> str:
        """The table's name for a role, from its logical name."""
        if logical_name.endswith("-writer-role"):
            return "writer role"
        if logical_name.endswith("-firehose-role"):
            return "delivery role"
        if logical_name.startswith("query-table-"):
            return "query writer role"
        if logical_name.endswith("-role"):
            # The replicator runs in prod (source placement) or in poc (target placement).
            return "archiver role" if logical_name.startswith("archiver") else "replicator role"
        raise LookupError(f"{self.stack}: no table name for role {logical_name!r}")

    def owner_label(self, doc: IamDocument) -> str:
        if doc.kind in ("trust", "identity"):
            return self.role_label(doc.owner)
        if "bucketPolicy" in doc.source:
            return "bucket"
        if "dynamodb/resourcePolicy" in doc.source:
            return "table"
        if "sqs/queuePolicy" in doc.source:
            # Which consumer's queue (both run in poc in target placement): the dead-letter
            # queue is in its function's environment, the on-failure queue in its mapping.
            queue_name = doc.owner.rsplit("/", 1)[-1]
            for fn in self.of_type(FUNCTION):
                who = _consumer_of(fn.name)
                if doc.owner == fn.inputs["environment"]["variables"]["DEAD_LETTER_QUEUE_URL"]:
                    return f"{who} dead-letter queue"
            for mapping in self.of_type(MAPPING):
                who = _consumer_of(mapping.name)
                arn = str(mapping.inputs["destinationConfig"]["onFailure"]["destinationArn"])
                if arn.rsplit(":", 1)[-1] == queue_name:
                    return f"{who} on-failure queue"
        if "kinesis/resourcePolicy" in doc.source:
            return "stream consumer" if "/consumer/" in doc.owner else "stream"
        raise LookupError(f"{self.stack}: no table name for {doc.where()}")

    def documents(self) -> list[IamDocument]:
        return collect_documents(self.resources)

    def documents_of(self, label: str, kind: str | None = None) -> list[IamDocument]:
        return [
            d
            for d in self.documents()
            if self.owner_label(d) == label and (kind is None or d.kind == kind)
        ]

    def role_arn(self, label: str) -> str:
        """The ARN of the role the table calls ``label`` (as the mocks computed it)."""
        for role in self.of_type(ROLE):
            if self.role_label(role.name) == label:
                return str(role.state["arn"])
        raise LookupError(f"{self.stack}/{self.mode}: no {label}")

    def role_arns(self) -> dict[str, str]:
        return {self.role_label(r.name): str(r.state["arn"]) for r in self.of_type(ROLE)}

    # --- placeholders -------------------------------------------------------------------------

    def _queue_arn_from_url(self, url: str) -> str:
        # https://sqs.<region>.amazonaws.com/<account>/<name>
        parts = url.rstrip("/").split("/")
        return f"arn:aws:sqs:{self.region}:{parts[-2]}:{parts[-1]}"

    def _log_group_arn(self, name: str) -> str:
        return f"arn:aws:logs:{self.region}:{self.account}:log-group:{name}"

    def _consumer(self, who: str, logical: str) -> dict[str, str]:
        fn = self.one(FUNCTION, logical)
        mapping = self.one(MAPPING, logical)
        env = fn.inputs["environment"]["variables"]
        log_group = fn.inputs["loggingConfig"]["logGroup"]
        return {
            f"<{who} dead-letter queue>": self._queue_arn_from_url(env["DEAD_LETTER_QUEUE_URL"]),
            f"<{who} on-failure queue>": mapping.inputs["destinationConfig"]["onFailure"][
                "destinationArn"
            ],
            f"<{who} log group>": self._log_group_arn(log_group),
        }

    def _replicator(self, names: dict[str, str]) -> None:
        """The replicator's placeholders, from its function and mapping (either stack)."""
        fn = self.one(FUNCTION, "replica-source")
        env = fn.inputs["environment"]["variables"]
        source = str(self.one(MAPPING, "replica-source").inputs["eventSourceArn"])
        names["<replicator role>"] = self.role_arn("replicator role")
        names["<source stream>"] = source.split("/consumer/", 1)[0]
        if "/consumer/" in source:
            names["<stream consumer>"] = source
        names["<table>"] = env["TABLE_ARN"]
        if self.placement == "source" and self.mode == "assume-role":
            names["<writer role>"] = env["WRITER_ROLE_ARN"]
        if "PSEUDONYMIZATION_KEY_PARAMETER" in env:
            parameter = env["PSEUDONYMIZATION_KEY_PARAMETER"].lstrip("/")
            names["<pseudonymization key parameter>"] = (
                f"arn:aws:ssm:{self.region}:{self.account}:parameter/{parameter}"
            )
        names.update(self._consumer("replicator", "replica-source"))

    def _grant(self, names: dict[str, str]) -> None:
        """Target placement, prod: the stream, its consumer and the role granted, from the
        stack's config and the consumer resource (not from the documents under test)."""
        names["<source stream>"] = (
            f"arn:aws:kinesis:{self.region}:{self.account}:stream/{self.config('sourceStreamName')}"
        )
        names["<replicator role>"] = (
            f"arn:aws:iam::{self.config('pocAccountId')}:role/{self.config('replicatorRoleName')}"
        )
        for consumer in self.of_type(STREAM_CONSUMER):
            names["<stream consumer>"] = str(consumer.state["arn"])

    def placeholders(self) -> dict[str, str]:
        names = {
            "<prod account>": str(self.config("prodAccountId")),
            "<poc account>": str(self.config("pocAccountId")),
        }
        if self.external_id:
            names["<external id>"] = self.external_id
        if self.stack == "prod":
            if self.placement == "target":
                self._grant(names)
            else:
                self._replicator(names)
            return names
        if self.placement == "target":
            self._replicator(names)
        table = self.one(TABLE, "replica-target")
        names["<table>"] = (
            f"arn:aws:dynamodb:{self.region}:{self.account}:table/{table.inputs['name']}"
        )
        if self.placement == "source":
            names["<replicator role>"] = str(self.outputs["replicatorRoleArn"])
            if self.mode == "assume-role":
                names["<writer role>"] = self.role_arn("writer role")
        names["<table stream>"] = self.one(MAPPING, "archiver").inputs["eventSourceArn"]
        names["<delivery role>"] = self.role_arn("delivery role")
        names["<archiver role>"] = self.role_arn("archiver role")
        delivery = self.one(DELIVERY_STREAM)
        names["<delivery stream>"] = (
            f"arn:aws:firehose:{self.region}:{self.account}:deliverystream/{delivery.inputs['name']}"
        )
        s3 = delivery.inputs["extendedS3Configuration"]
        names["<data prefix>"] = _static_folder(str(s3["prefix"]))
        names["<error prefix>"] = _static_folder(str(s3["errorOutputPrefix"]))
        bucket = self.one(PUBLIC_ACCESS_BLOCK).inputs["bucket"]
        names["<bucket>"] = f"arn:aws:s3:::{bucket}"
        log_stream = self.one(LOG_STREAM)
        names["<delivery log stream>"] = (
            self._log_group_arn(log_stream.inputs["logGroupName"])
            + f":log-stream:{log_stream.inputs['name']}"
        )
        names.update(self._consumer("archiver", "archiver"))
        if self.of_type(TABLE) != [table]:
            query_table = self.one(TABLE, "query-table")
            names["<query table>"] = (
                f"arn:aws:dynamodb:{self.region}:{self.account}:table/{query_table.state['name']}"
            )
            names["<query writer role>"] = self.role_arn("query writer role")
            names.update(self._consumer("query writer", "query-table"))
        return names


def _consumer_of(logical_name: str) -> str:
    """Which consumer a function or mapping belongs to, from its logical name."""
    if logical_name.startswith("archiver"):
        return "archiver"
    if logical_name.startswith("query-table"):
        return "query writer"
    return "replicator"


@functools.cache
def render(
    stack: str,
    mode: str = "assume-role",
    external_id: str | None = None,
    placement: str = "source",
    consumer_mode: str = "shared",
) -> StackView:
    overrides: dict[str, Any] = {
        "accessMode": mode,
        "placement": placement,
        "consumerMode": consumer_mode,
    }
    if external_id:
        overrides["externalId"] = external_id
    if placement == "target" and stack == "prod":
        # prod holds only the grant: the example stack's redaction keys are refused there
        from stack_config.keys import STAGE_KEYS

        overrides.update(dict.fromkeys(STAGE_KEYS))
    harness = _harness()
    # The stack deployed second reads the first one's outputs (cached render, same settings);
    # the first one sees the second not deployed yet (no outputs).
    second = "poc" if placement == "target" else "prod"
    first = "prod" if second == "poc" else "poc"
    key = "prodStackReference" if stack == "poc" else "pocStackReference"
    reference = str(stack_file_value(stack, key))
    if stack == second:
        outputs = dict(render(first, mode, external_id, placement, consumer_mode).outputs)
    else:
        outputs = {}
    rendered = harness.run_stack(stack, overrides, stack_outputs={reference: outputs})
    return StackView(
        stack,
        mode,
        external_id,
        tuple(rendered.resources),
        dict(rendered.outputs),
        placement,
        consumer_mode,
    )


Variant = tuple[str, str, str | None, str, str]

#: Both stacks in both modes, both stacks with an ExternalId in assume-role mode, and both
#: stacks in each other placement / consumer mode.
VARIANTS: tuple[Variant, ...] = (
    *((stack, mode, None, "source", "shared") for stack in STACKS for mode in MODES),
    *((stack, "assume-role", EXTERNAL_ID, "source", "shared") for stack in STACKS),
    *(
        (stack, "assume-role", None, placement, consumer)
        for stack in STACKS
        for placement in PLACEMENTS
        for consumer in CONSUMER_MODES
        if (placement, consumer) != ("source", "shared")
    ),
)


def variant_id(variant: Variant) -> str:
    stack, mode, external_id, placement, consumer = variant
    name = f"{stack}-{mode}" + ("-external-id" if external_id else "")
    if placement != "source":
        name += f"-{placement}"
    if consumer != "shared":
        name += f"-{consumer}"
    return name


def all_views() -> list[StackView]:
    return [render(*variant) for variant in VARIANTS]


def example_placeholders() -> dict[str, str]:
    """Placeholder values of the example stack files (both modes, both placements, both
    consumer modes), for the docs' legend."""
    names: dict[str, str] = {}
    for view in (render(s, m) for s in STACKS for m in MODES):
        names.update(view.placeholders())
    for view in (render(s, "assume-role", None, "target", "efo") for s in STACKS):
        for name, value in view.placeholders().items():
            names.setdefault(name, value)  # the replicator role: the default placement's
    return names
