"""One stack, loaded: its checked settings and every component's args of its side, each built
once; :func:`load` is what ``__main__`` calls."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path

from stream_replica.components import (
    ArchiveCatalogArgs,
    ReplicaSourceArgs,
    ReplicaTargetArgs,
    StreamReadGrantArgs,
    StreamToQueryTableArgs,
    StreamToS3ArchiverArgs,
)

from stack_config.args import (
    archiver_args,
    catalog_args,
    grant_args,
    query_table_args,
    replicator_args,
    source_args,
    target_args,
    wire,
)
from stack_config.key_redaction import OUTPUT as KEY_ATTRIBUTES_OUTPUT
from stack_config.key_redaction import check_redaction, checked_at_deployment, key_attributes
from stack_config.references import (
    TargetRef,
    check_other_stack,
    other_stack,
    read_source,
    read_target,
    source_ref,
    target_ref,
)
from stack_config.schema import PROJECT_FILE
from stack_config.settings import Settings, read_settings


@dataclass(frozen=True)
class PocStack:
    """The poc stack: the replica table, its archiver, the optional query table and catalog,
    and in target placement the replicator. The inputs that are another component's outputs
    are left for ``__main__`` to :func:`~stack_config.args.wire`."""

    settings: Settings
    target: ReplicaTargetArgs
    archiver: StreamToS3ArchiverArgs
    #: ``None`` unless ``queryTableEnabled``.
    query_table: StreamToQueryTableArgs | None
    #: ``None`` unless ``archiveCatalogEnabled``.
    catalog: ArchiveCatalogArgs | None
    #: Target placement: the replicator, its stream already read; ``None`` in source placement.
    replicator: ReplicaSourceArgs | None


@dataclass(frozen=True)
class ProdStack:
    """The prod stack in source placement: the replicator, writing the POC side ``poc``."""

    settings: Settings
    replicator: ReplicaSourceArgs
    poc: TargetRef


@dataclass(frozen=True)
class ProdGrantStack:
    """The prod stack in target placement: only the stream's read grant."""

    settings: Settings
    grant: StreamReadGrantArgs


def load(
    stack: str | None = None, project_file: Path = PROJECT_FILE
) -> PocStack | ProdStack | ProdGrantStack:
    """Read and check the stack's config: the shared part, then every component's args of this
    stack's side, each built once (so a bad value fails the preview before any resource is
    registered); then the other stack's outputs, where this stack reads them (a
    StackReference, whose agreement with this stack's config is checked at deployment)."""
    settings = read_settings(stack, project_file)
    target_placement = settings.placement == "target"
    if settings.side == "poc":
        target = target_args(settings)
        archiver = archiver_args(settings)
        query_table = query_table_args(settings)
        catalog = catalog_args(settings)
        replicator = None
        if target_placement:
            prod = other_stack(settings, "prod")
            replicator = replicator_args(settings, source_ref(settings, prod))
            check_redaction(settings.config, replicator, key_attributes(target, query_table))
            if prod is not None:
                replicator = wire(replicator, **read_source(settings, prod).args_fields())
        else:
            check_other_stack(settings)
        return PocStack(settings, target, archiver, query_table, catalog, replicator)
    if target_placement:
        grant = grant_args(settings)
        check_other_stack(settings)
        return ProdGrantStack(settings, grant)
    poc = other_stack(settings, "poc")
    ref = target_ref(settings, poc)
    source = source_args(settings, ref)
    if poc is not None:
        ref = read_target(settings, poc)
        table_arn = checked_at_deployment(
            settings.config,
            source,
            poc.output(KEY_ATTRIBUTES_OUTPUT),
            ref.table_arn,
            "poc",
        )
        ref = dataclasses.replace(ref, table_arn=table_arn)
        source = wire(source, **ref.args_fields())
    return ProdStack(settings, source, ref)
