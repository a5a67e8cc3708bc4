"""Deploying both stacks into the emulator: what exists before the stacks in production (the
source stream, the pseudonymisation key) is created first, then ``poc`` and ``prod`` run the
real program under :class:`~sandbox.mocks.EmulatorMocks`, in the order their placement needs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from stream_replica.components.exceptions import StackConfigError

from .emulator import Emulator
from .mocks import Deployment, EmulatorMocks
from .plan import DemoOptions, StackPlan, config_value, pseudonymization_key
from .pulumi_runner import run_program
from .report import DemoResult, Progress


def _default_tags(config: dict[str, Any]) -> dict[str, str]:
    """The stack's ``aws:defaultTags`` (the tags its provider adds to every resource)."""
    tags = (config.get("aws:defaultTags") or {}).get("tags") or {}
    return {str(k): str(v) for k, v in tags.items()}


def _precreate_source_stream(
    emulator: Emulator, prod_config: dict[str, Any], project: str, account: str, shards: int
) -> str | None:
    """Create the stream that already exists in production (unless the prod stack creates it)."""
    if config_value(prod_config, project, "createSourceStream", False) in (True, "true"):
        return None
    name = config_value(prod_config, project, "sourceStreamName")
    arn = config_value(prod_config, project, "sourceStreamArn")
    if not name and arn:
        name = str(arn).rsplit("/", 1)[-1]
    if not name:
        raise ValueError("Pulumi.prod.yaml: set sourceStreamName or sourceStreamArn")
    kinesis = emulator.client("kinesis", account)
    kinesis.create_stream(StreamName=name, ShardCount=shards)
    return str(name)


def _precreate_key_parameter(emulator: Emulator, plan: StackPlan, options: DemoOptions) -> None:
    """Create the SecureString that holds the pseudonymisation key (in production it exists
    before the stack; the replicator reads it with its own role, in the account it runs in:
    prod, or poc in target placement)."""
    name = config_value(plan.replicator_config, plan.project, "pseudonymizationKeyParameter")
    if not name:
        return
    name = str(name).split(":parameter", 1)[-1] if str(name).startswith("arn:") else str(name)
    if plan.target_placement:
        ssm = emulator.client("ssm", plan.poc_account, plan.poc_region)
    else:
        ssm = emulator.client("ssm", plan.prod_account, plan.prod_region)
    ssm.put_parameter(
        Name=name, Value=pseudonymization_key(options), Type="SecureString", Overwrite=True
    )


def deploy_stack(
    emulator: Emulator,
    stack: str,
    account: str,
    region: str,
    config: dict[str, Any],
    overrides: dict[str, object],
    project_dir: Path,
    stack_references: dict[str, dict[str, Any]],
    prior: Deployment | None = None,
) -> Deployment:
    """Run the program for ``stack`` under mocks that create its resources in ``emulator`` (an
    update of ``prior``, the stack's last deployment, when given)."""
    deployment = Deployment(stack=stack, account_id=account, region=region)
    mocks = EmulatorMocks(
        emulator,
        deployment,
        stack_references=stack_references,
        default_tags=_default_tags(config),
        prior=prior,
    )
    try:
        deployment.outputs = run_program(
            stack, mocks, config_overrides=overrides, project_dir=project_dir
        )
    except StackConfigError as error:
        raise blame_command_line(error, stack, overrides) from None
    return deployment


def blame_command_line(
    error: StackConfigError, stack: str, overrides: dict[str, object]
) -> StackConfigError:
    """``error`` naming the command line rather than ``Pulumi.<stack>.yaml`` when the key it
    names was set by the run (``--config KEY=VALUE``, ``--access-mode`` …), not the file."""
    if not error.key or not error.file:
        return error
    bare = error.key.split(":", 1)[1] if ":" in error.key else error.key
    for key in (error.key, bare):
        if key in overrides and overrides[key] is not None:
            text = str(error)
            problem = text.split(f"{error.key}: ", 1)[-1]
            return StackConfigError(
                f"--config {key}={overrides[key]} (set on the command line for the {stack} "
                f"stack, not in {error.file}): {error.key}: {problem}",
                key=error.key,
            )
    return error


def precreate(emulator: Emulator, plan: StackPlan, options: DemoOptions) -> None:
    """Create what exists in production before the stacks: the source stream (unless the prod
    stack creates it) and the pseudonymisation key parameter."""
    _precreate_source_stream(
        emulator, plan.prod_config, plan.project, plan.prod_account, options.shards
    )
    _precreate_key_parameter(emulator, plan, options)


def deploy_stacks(
    emulator: Emulator,
    plan: StackPlan,
    options: DemoOptions,
    progress: Progress | None = None,
    *,
    precreated: bool = False,
) -> tuple[Deployment, Deployment]:
    """Pre-create what exists in production (unless ``precreated``), then deploy ``poc`` and
    ``prod`` into ``emulator`` (prod's StackReference sees poc's real outputs)."""
    show = progress.show if progress else (lambda text, force=False: None)
    if not precreated:
        precreate(emulator, plan, options)
    poc_reference = str(config_value(plan.prod_config, plan.project, "pocStackReference") or "poc")
    prod_reference = str(
        config_value(plan.poc_config, plan.project, "prodStackReference") or "prod"
    )
    # ``pulumi stack init`` leaves a stack without outputs: what the stack deployed first sees.
    not_yet: dict[str, dict[str, Any]] = {
        name: {} for name in (poc_reference, "poc", prod_reference, "prod")
    }

    def deploy(stack: str, references: dict[str, dict[str, Any]]) -> Deployment:
        show(f"deploying stack {stack} ...", force=True)
        config = plan.poc_config if stack == "poc" else plan.prod_config
        return deploy_stack(
            emulator,
            stack,
            plan.poc_account if stack == "poc" else plan.prod_account,
            plan.poc_region if stack == "poc" else plan.prod_region,
            config,
            plan.poc_overrides if stack == "poc" else plan.prod_overrides,
            options.project_dir,
            references,
        )

    if config_value(plan.prod_config, plan.project, "placement", "source") == "target":
        # The grant must exist before the mapping: prod first, then poc reads prod's outputs.
        prod = deploy("prod", not_yet)
        poc = deploy("poc", {**not_yet, prod_reference: prod.outputs, "prod": prod.outputs})
    else:
        poc = deploy("poc", not_yet)
        prod = deploy("prod", {**not_yet, poc_reference: poc.outputs, "poc": poc.outputs})
    return poc, prod


def deploy_and_count(
    result: DemoResult,
    emulator: Emulator,
    plan: StackPlan,
    options: DemoOptions,
    progress: Progress,
    *,
    precreated: bool = False,
) -> tuple[Deployment, Deployment]:
    """:func:`deploy_stacks`, with its time and the resources of both stacks (by type) kept in
    ``result``."""
    started = time.monotonic()
    poc, prod = deploy_stacks(emulator, plan, options, progress, precreated=precreated)
    result.deploy_seconds = time.monotonic() - started
    for deployment in (poc, prod):
        for typ, count in deployment.counts.items():
            result.resources[typ] = result.resources.get(typ, 0) + count
    return poc, prod
