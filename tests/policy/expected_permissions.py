"""What may each role do: the one table the policy tests hold the rendered stacks to.

Every row is one grant the stacks must render *exactly* — no more, no less: which document
(the owner and its kind), effect, principal (for trust and resource policies), actions,
resources and condition. Resource names in ``<angle brackets>`` stand for the ARNs of the
stack's own resources (resolved per stack by the tests; the legend in docs/policy.md). The
actions are written out here on purpose rather than imported from ``components/policies.py``:
a change there must show up as a diff against this table.

The README's copy of the table is generated from it (``make docs``, ``docs/generate.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

ASSUME_ROLE = "assume-role"
RESOURCE_POLICY = "resource-policy"
BOTH_MODES = frozenset({ASSUME_ROLE, RESOURCE_POLICY})
SOURCE = "source"
TARGET = "target"
BOTH_PLACEMENTS = frozenset({SOURCE, TARGET})
SHARED = "shared"
EFO = "efo"
BOTH_CONSUMER_MODES = frozenset({SHARED, EFO})


@dataclass(frozen=True)
class Grant:
    """One statement's worth of permission, as the table states it."""

    owner: str
    """Who the document belongs to (a role, or the resource a resource policy protects)."""
    kind: str
    """``trust``, ``identity`` or ``resource``."""
    actions: tuple[str, ...]
    resources: tuple[str, ...] = ()
    """Empty for trust policies (the role itself is the resource)."""
    effect: str = "Allow"
    principal: Mapping[str, Any] | str | None = None
    condition: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    modes: frozenset[str] = BOTH_MODES
    """Access modes in which the stacks render this grant."""
    stack: str = ""
    """``poc`` or ``prod``: the stack that renders it."""
    placements: frozenset[str] = BOTH_PLACEMENTS
    """Placements (where the replicator runs) in which the stacks render this grant."""
    consumer_modes: frozenset[str] = BOTH_CONSUMER_MODES
    """Consumer modes (``shared`` or ``efo`` reads) in which the stacks render this grant."""


KINESIS_READ = (
    "kinesis:DescribeStream",
    "kinesis:DescribeStreamSummary",
    "kinesis:GetRecords",
    "kinesis:GetShardIterator",
    "kinesis:ListShards",
)
TABLE_STREAM_READ = (
    "dynamodb:DescribeStream",
    "dynamodb:GetRecords",
    "dynamodb:GetShardIterator",
)
CONSUMER_READ = ("kinesis:DescribeStreamConsumer", "kinesis:SubscribeToShard")
LOGS = ("logs:CreateLogStream", "logs:PutLogEvents")
LAMBDA = {"Service": "lambda.amazonaws.com"}
PROD_ACCOUNT_PRINCIPAL = {"AWS": "arn:aws:iam::<prod account>:root"}
POC_ACCOUNT_PRINCIPAL = {"AWS": "arn:aws:iam::<poc account>:root"}
ONLY_THE_REPLICATOR = {"ArnEquals": {"aws:PrincipalArn": "<replicator role>"}}
ONLY_SOURCE = frozenset({SOURCE})
ONLY_TARGET = frozenset({TARGET})
ONLY_EFO = frozenset({EFO})


def _replicator_role(stack: str, placement: frozenset[str], account: str) -> tuple[Grant, ...]:
    """The replicator's execution role, in whichever stack runs it (the table's writes differ
    by placement and are listed with the rows that use them)."""
    return (
        Grant(
            "replicator role",
            "trust",
            ("sts:AssumeRole",),
            principal=LAMBDA,
            condition={"StringEquals": {"aws:SourceAccount": f"<{account} account>"}},
            stack=stack,
            placements=placement,
        ),
        Grant(
            "replicator role",
            "identity",
            KINESIS_READ,
            ("<source stream>",),
            stack=stack,
            placements=placement,
        ),
        Grant(
            "replicator role",
            "identity",
            CONSUMER_READ,
            ("<stream consumer>",),
            stack=stack,
            placements=placement,
            consumer_modes=ONLY_EFO,
        ),
    )


def _replicator_queues_and_logs(stack: str, placement: frozenset[str]) -> tuple[Grant, ...]:
    return (
        Grant(
            "replicator role",
            "identity",
            ("sqs:SendMessage",),
            ("<replicator dead-letter queue>", "<replicator on-failure queue>"),
            stack=stack,
            placements=placement,
        ),
        Grant(
            "replicator role",
            "identity",
            LOGS,
            ("<replicator log group>:*",),
            stack=stack,
            placements=placement,
        ),
    )


EXPECTED: tuple[Grant, ...] = (
    # --- source placement, prod stack: the replicator's execution role -----------------------
    *_replicator_role("prod", ONLY_SOURCE, "prod"),
    Grant(
        "replicator role",
        "identity",
        ("sts:AssumeRole",),
        ("<writer role>",),
        modes=frozenset({ASSUME_ROLE}),
        stack="prod",
        placements=ONLY_SOURCE,
    ),
    Grant(
        "replicator role",
        "identity",
        ("dynamodb:BatchWriteItem", "dynamodb:DescribeTable"),
        ("<table>",),
        modes=frozenset({RESOURCE_POLICY}),
        stack="prod",
        placements=ONLY_SOURCE,
    ),
    *_replicator_queues_and_logs("prod", ONLY_SOURCE),
    Grant(
        "replicator role",
        "identity",
        ("ssm:GetParameter",),
        ("<pseudonymization key parameter>",),
        stack="prod",
        placements=ONLY_SOURCE,
    ),
    # --- poc stack: the writer role (assume-role mode) ---------------------------------------
    Grant(
        "writer role",
        "trust",
        ("sts:AssumeRole",),
        principal=PROD_ACCOUNT_PRINCIPAL,
        condition=ONLY_THE_REPLICATOR,
        modes=frozenset({ASSUME_ROLE}),
        stack="poc",
        placements=ONLY_SOURCE,
    ),
    Grant(
        "writer role",
        "identity",
        ("dynamodb:BatchWriteItem", "dynamodb:DescribeTable"),
        ("<table>",),
        modes=frozenset({ASSUME_ROLE}),
        stack="poc",
        placements=ONLY_SOURCE,
    ),
    # --- poc stack: the table's resource policy (resource-policy mode) -------------------------
    Grant(
        "table",
        "resource",
        ("dynamodb:BatchWriteItem", "dynamodb:DescribeTable"),
        ("<table>",),
        principal=PROD_ACCOUNT_PRINCIPAL,
        condition=ONLY_THE_REPLICATOR,
        modes=frozenset({RESOURCE_POLICY}),
        stack="poc",
        placements=ONLY_SOURCE,
    ),
    # --- target placement, prod stack: only the grants on the stream (and its consumer) -------
    Grant(
        "stream",
        "resource",
        KINESIS_READ,
        ("<source stream>",),
        principal=POC_ACCOUNT_PRINCIPAL,
        condition=ONLY_THE_REPLICATOR,
        stack="prod",
        placements=ONLY_TARGET,
    ),
    Grant(
        "stream consumer",
        "resource",
        CONSUMER_READ,
        ("<stream consumer>",),
        principal=POC_ACCOUNT_PRINCIPAL,
        condition=ONLY_THE_REPLICATOR,
        stack="prod",
        placements=ONLY_TARGET,
        consumer_modes=ONLY_EFO,
    ),
    # --- target placement, poc stack: the replicator's execution role, writing its own table ---
    *_replicator_role("poc", ONLY_TARGET, "poc"),
    Grant(
        "replicator role",
        "identity",
        ("dynamodb:BatchWriteItem", "dynamodb:DescribeTable"),
        ("<table>",),
        stack="poc",
        placements=ONLY_TARGET,
    ),
    *_replicator_queues_and_logs("poc", ONLY_TARGET),
    # --- poc stack: the archiver's execution role -----------------------------------------------
    Grant(
        "archiver role",
        "trust",
        ("sts:AssumeRole",),
        principal=LAMBDA,
        condition={"StringEquals": {"aws:SourceAccount": "<poc account>"}},
        stack="poc",
    ),
    Grant("archiver role", "identity", TABLE_STREAM_READ, ("<table stream>",), stack="poc"),
    # ListStreams has no resource-level permissions; Lambda checks it for the mapping.
    Grant("archiver role", "identity", ("dynamodb:ListStreams",), ("*",), stack="poc"),
    Grant(
        "archiver role",
        "identity",
        ("firehose:PutRecordBatch",),
        ("<delivery stream>",),
        stack="poc",
    ),
    Grant(
        "archiver role",
        "identity",
        ("sqs:SendMessage",),
        ("<archiver dead-letter queue>", "<archiver on-failure queue>"),
        stack="poc",
    ),
    Grant("archiver role", "identity", LOGS, ("<archiver log group>:*",), stack="poc"),
    # --- poc stack: the query writer's execution role (StreamToQueryTable) ---------------------
    Grant(
        "query writer role",
        "trust",
        ("sts:AssumeRole",),
        principal=LAMBDA,
        condition={"StringEquals": {"aws:SourceAccount": "<poc account>"}},
        stack="poc",
    ),
    Grant("query writer role", "identity", TABLE_STREAM_READ, ("<table stream>",), stack="poc"),
    Grant("query writer role", "identity", ("dynamodb:ListStreams",), ("*",), stack="poc"),
    Grant(
        "query writer role",
        "identity",
        ("dynamodb:BatchWriteItem",),
        ("<query table>",),
        stack="poc",
    ),
    Grant(
        "query writer role",
        "identity",
        ("sqs:SendMessage",),
        ("<query writer dead-letter queue>", "<query writer on-failure queue>"),
        stack="poc",
    ),
    Grant("query writer role", "identity", LOGS, ("<query writer log group>:*",), stack="poc"),
    # --- poc stack: Firehose's delivery role ------------------------------------------------------
    Grant(
        "delivery role",
        "trust",
        ("sts:AssumeRole",),
        principal={"Service": "firehose.amazonaws.com"},
        condition={"StringEquals": {"sts:ExternalId": "<poc account>"}},
        stack="poc",
    ),
    Grant(
        "delivery role",
        "identity",
        ("s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"),
        ("<bucket>",),
        stack="poc",
    ),
    Grant(
        "delivery role",
        "identity",
        ("s3:AbortMultipartUpload", "s3:GetObject", "s3:PutObject"),
        ("<bucket>/<data prefix>*", "<bucket>/<error prefix>*"),
        stack="poc",
    ),
    Grant(
        "delivery role", "identity", ("logs:PutLogEvents",), ("<delivery log stream>",), stack="poc"
    ),
    # --- poc stack: the archive bucket's policy -----------------------------------------------
    Grant(
        "bucket",
        "resource",
        ("s3:*",),
        ("<bucket>", "<bucket>/*"),
        effect="Deny",
        principal="*",
        condition={"Bool": {"aws:SecureTransport": "false"}},
        stack="poc",
    ),
    # --- both stacks: the queues' TLS-only policies (dead letters hold raw payloads); the
    # replicator's queues are where it runs: prod in source placement, poc in target placement
    *(
        Grant(
            f"{who} {kind} queue",
            "resource",
            ("sqs:*",),
            (f"<{who} {kind} queue>",),
            effect="Deny",
            principal="*",
            condition={"Bool": {"aws:SecureTransport": "false"}},
            stack=stack,
            placements=placements,
        )
        for who, stack, placements in (
            ("replicator", "prod", ONLY_SOURCE),
            ("replicator", "poc", ONLY_TARGET),
            ("archiver", "poc", BOTH_PLACEMENTS),
            ("query writer", "poc", BOTH_PLACEMENTS),
        )
        for kind in ("dead-letter", "on-failure")
    ),
)


#: With ``externalId`` configured, the writer role's trust also requires it (the one
#: configuration-dependent condition; ``expected_for`` adds it).
EXTERNAL_ID_CONDITION = {"StringEquals": {"sts:ExternalId": "<external id>"}}


def expected_for(
    stack: str,
    mode: str,
    external_id: str | None = None,
    placement: str = SOURCE,
    consumer_mode: str = SHARED,
) -> list[Grant]:
    """The grants ``stack`` renders in access ``mode``, ``placement`` and ``consumer_mode``
    (placeholders unresolved)."""
    grants = [
        g
        for g in EXPECTED
        if g.stack == stack
        and mode in g.modes
        and placement in g.placements
        and consumer_mode in g.consumer_modes
    ]
    if not external_id:
        return grants
    return [
        replace(g, condition={**g.condition, **EXTERNAL_ID_CONDITION})
        if (g.owner, g.kind) == ("writer role", "trust")
        else g
        for g in grants
    ]


def _fill(value: Any, names: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        for placeholder, concrete in names.items():
            value = value.replace(placeholder, concrete)
        if "<" in value and ">" in value:
            raise KeyError(f"unresolved placeholder in {value!r}")
        return value
    if isinstance(value, Mapping):
        return {k: _fill(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_fill(v, names) for v in value]
    return value


def resolve(grants: Iterable[Grant], names: Mapping[str, str]) -> list[Grant]:
    """The grants with every ``<placeholder>`` replaced by the stack's concrete value."""
    return [
        replace(
            g,
            resources=tuple(_fill(r, names) for r in g.resources),
            principal=_fill(g.principal, names),
            condition=_fill(g.condition, names),
        )
        for g in grants
    ]
