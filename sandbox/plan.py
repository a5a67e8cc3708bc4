"""The run's plan: the options of ``python -m sandbox`` and where each stack goes.

:class:`DemoOptions` holds the command line; :class:`StackPlan` reads the two stack files (with
the run's ``--config`` overrides placed on the stack that reads each key) and says which account
and region each stack deploys into and which stack runs the replicator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stream_replica.components.exceptions import StackConfigError

from stack_config.keys import STAGE_KEYS
from stack_config.reader import quote_hint as _quote_hint
from stack_config.schema import key_side, load_schema

from .pulumi_runner import REPO_ROOT, load_stack_config, project_name

#: The example transform the sandbox runs in the replicator by default (docs/sandbox.md).
EXAMPLE_TRANSFORM = "examples/transform_day.py"


@dataclass
class DemoOptions:
    """How the run goes: ``python -m sandbox``'s flags (``sandbox/__main__.py``) and a few
    settings only tests change."""

    records: int = 3000
    poison: bool = True
    shards: int = 2
    access_mode: str | None = None
    #: ``source`` or ``target``: where the replicator runs (config ``placement``, both stacks)
    placement: str | None = None
    #: ``shared`` or ``efo``: how its mapping reads the stream (config ``consumerMode``)
    consumer_mode: str | None = None
    #: config values set after the stack files (``--config key=value``); a key ``poc.<key>`` or
    #: ``prod.<key>`` applies to that stack only
    config_overrides: dict[str, object] = field(default_factory=dict)
    throttle_writes: float = 0.0
    fail_firehose: float = 0.0
    crash_invocations: float = 0.0
    seed: int = 7
    #: records per PutRecords call; both mappings are polled after each
    chunk: int = 500
    replay: bool = True
    serve: bool = False
    port: int = 5000
    #: with ``serve``: keep the server up after the run until Ctrl-C
    hold: bool = True
    project_dir: Path = REPO_ROOT
    progress: bool = True
    #: read DynamoDB stream records through the API rather than moto's shard (slow; see poller)
    api_stream_reads: bool = False
    #: share of produced records packed into KPL aggregates (0: none, as a plain producer)
    kpl_fraction: float = 0.2
    #: the replicator's transform file (relative to ``project_dir``) unless the run's config
    #: sets ``transformModule``; ``None``: no transform
    transform: str | None = EXAMPLE_TRANSFORM
    #: after the drain, redrive both on-failure queues (``stream_replica.redrive``)
    redrive: bool = True
    #: update the stacks to the other consumerMode after a third of the records, and back after
    #: two thirds (``sandbox.switch``)
    switch_consumer_mode: bool = False
    #: build the original hand-made deployment first and take it over (``sandbox.cutover``)
    cutover: bool = False


def config_value(config: dict[str, Any], project: str, key: str, default: Any = None) -> Any:
    """The value of ``<project>:<key>`` in a stack's loaded ``config``, else ``default``."""
    return config.get(f"{project}:{key}", default)


def _account(config: dict[str, Any], stack: str, key: str) -> str:
    allowed = config.get("aws:allowedAccountIds") or []
    project_key = next((k for k in config if k.endswith(f":{key}")), None)
    named = str(config[project_key]) if project_key else None
    account = str(allowed[0]) if allowed else named
    if not account:
        raise StackConfigError(f"Pulumi.{stack}.yaml: set aws:allowedAccountIds (or {key})")
    unquoted = [str(v) for v in [config.get(project_key or ""), *allowed] if isinstance(v, int)]
    if unquoted:
        where = project_key if unquoted[0] == named else "aws:allowedAccountIds"
        raise StackConfigError(
            f"Pulumi.{stack}.yaml: {where}: {unquoted[0]} is not a 12-digit account id"
            + _quote_hint(unquoted[0])
        )
    if named and allowed and named not in [str(a) for a in allowed]:
        raise StackConfigError(
            f"Pulumi.{stack}.yaml: {key} {named} is not in aws:allowedAccountIds {allowed}"
        )
    return account


#: Keys both stack files must agree on that the sandbox compares before deploying (the
#: program compares them too, but only from the stack deployed second, whose order the
#: placement decides: a placement mismatch would otherwise surface as a missing output).
AGREED_KEYS = ("placement", "accessMode", "consumerMode")


def _origin(stack: str, key: str, overrides: dict[str, object], value: Any) -> str:
    """Where the sandbox's ``key`` of ``stack`` comes from: the command line or the file."""
    if key in overrides:
        return f"the command line (--config / --{_flag(key)}) sets {value!r} for the {stack} stack"
    return f"Pulumi.{stack}.yaml says {value!r}"


def _flag(key: str) -> str:
    return "".join(f"-{c.lower()}" if c.isupper() else c for c in key)


def _check_agreement(
    project: str,
    key: str,
    poc: tuple[dict[str, Any], dict[str, object]],
    prod: tuple[dict[str, Any], dict[str, object]],
) -> None:
    """Refuse a ``key`` the two stacks set differently, naming both values and their origin."""
    poc_value = config_value(poc[0], project, key)
    prod_value = config_value(prod[0], project, key)
    if poc_value != prod_value:
        raise StackConfigError(
            f"{project}:{key}: {_origin('poc', key, poc[1], poc_value)} but "
            f"{_origin('prod', key, prod[1], prod_value)}; both stacks must agree: set "
            f"{project}:{key} to the same value in Pulumi.poc.yaml and Pulumi.prod.yaml (or pass "
            f"--{_flag(key)} to set both)",
            key=f"{project}:{key}",
        )


def pseudonymization_key(options: DemoOptions) -> str:
    """The sandbox's HMAC key (at least 32 bytes), derived from the run's seed."""
    return f"sandbox-pseudonymization-key-seed-{options.seed:08d}"


#: The replicator's stage settings (transform, redaction). They belong to the stack that runs
#: the replicator: prod in source placement; in target placement the demo moves the prod stack
#: file's values to poc (the key parameter then lives in the POC account), so both placements
#: run the same stages and are checked against the same expectation.
REPLICATOR_STAGE_KEYS = STAGE_KEYS
#: The role the sandbox's redrive pass runs as, in each queue's account (``redrive_pass``). In
#: target placement the prod stack's stream policy grants it (config ``redriveRoleArn``), as
#: docs/redrive.md tells operators to do for theirs.
REDRIVE_ROLE_NAME = "stream-replica-redrive"


@dataclass
class StackPlan:
    """Where each stack goes, read from the stack files (plus the run's config overrides)."""

    project: str
    poc_overrides: dict[str, object]
    prod_overrides: dict[str, object]
    poc_config: dict[str, Any]
    prod_config: dict[str, Any]
    poc_account: str
    prod_account: str
    poc_region: str
    prod_region: str

    @property
    def target_placement(self) -> bool:
        """Whether the replicator runs in the POC account (``placement: target``)."""
        return config_value(self.prod_config, self.project, "placement", "source") == "target"

    @property
    def replicator_config(self) -> dict[str, Any]:
        """The config of the stack that runs the replicator."""
        return self.poc_config if self.target_placement else self.prod_config

    @classmethod
    def load(cls, options: DemoOptions) -> StackPlan:
        shared: dict[str, object] = {}
        per_stack: dict[str, dict[str, object]] = {"poc": {}, "prod": {}}
        _, schema = load_schema(options.project_dir / "Pulumi.yaml")
        for key, value in options.config_overrides.items():
            stack, dot, rest = key.partition(".")
            if dot and stack in per_stack:
                per_stack[stack][rest] = value
            elif key in schema and key_side(schema[key]):
                # a key only one stack reads goes to that stack (the other would refuse it)
                per_stack[str(key_side(schema[key]))][key] = value
            else:
                shared[key] = value
        if options.access_mode:
            shared["accessMode"] = options.access_mode
        if options.placement:
            shared["placement"] = options.placement
        if options.consumer_mode:
            shared["consumerMode"] = options.consumer_mode
        poc_overrides = {**shared, **per_stack["poc"]}
        prod_overrides = {**shared, **per_stack["prod"]}
        if options.transform and "transformModule" not in prod_overrides:
            prod_overrides["transformModule"] = str(
                (Path(options.project_dir) / options.transform).resolve()
            )
        poc_config = load_stack_config(
            "poc", config_overrides=poc_overrides, project_dir=options.project_dir
        )
        prod_config = load_stack_config(
            "prod", config_overrides=prod_overrides, project_dir=options.project_dir
        )
        project = project_name(options.project_dir)
        for key in AGREED_KEYS:
            _check_agreement(
                project, key, (poc_config, poc_overrides), (prod_config, prod_overrides)
            )
        if config_value(prod_config, project, "placement", "source") == "target":
            for key in REPLICATOR_STAGE_KEYS:
                value = config_value(prod_config, project, key)
                if value is not None and key not in poc_overrides:
                    poc_overrides[key] = value
                prod_overrides[key] = None  # prod holds only the grant
            if not config_value(prod_config, project, "redriveRoleArn"):
                poc_account = _account(poc_config, "poc", "pocAccountId")
                prod_overrides["redriveRoleArn"] = (
                    f"arn:aws:iam::{poc_account}:role/{REDRIVE_ROLE_NAME}"
                )
            poc_config = load_stack_config(
                "poc", config_overrides=poc_overrides, project_dir=options.project_dir
            )
            prod_config = load_stack_config(
                "prod", config_overrides=prod_overrides, project_dir=options.project_dir
            )
        prod_region = str(prod_config.get("aws:region") or "eu-west-1")
        return cls(
            project=project,
            poc_overrides=poc_overrides,
            prod_overrides=prod_overrides,
            poc_config=poc_config,
            prod_config=prod_config,
            poc_account=_account(poc_config, "poc", "pocAccountId"),
            prod_account=_account(prod_config, "prod", "prodAccountId"),
            poc_region=str(poc_config.get("aws:region") or prod_region),
            prod_region=prod_region,
        )
