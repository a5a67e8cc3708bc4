"""``CrossAccountStreamReplica``: both halves in one program, one provider per account."""

from dataclasses import dataclass, replace
from typing import Any

import pulumi

from .exceptions import SettingError
from .replica_source import ReplicaSource, ReplicaSourceArgs
from .replica_target import ReplicaTarget, ReplicaTargetArgs
from .stream_grant import StreamReadGrant, StreamReadGrantArgs
from .validation import check_account_id, must


@dataclass
class CrossAccountStreamReplicaArgs:
    """Inputs of :class:`CrossAccountStreamReplica`.

    The source half is the authority for what both halves must agree on: the target half's
    ``source_account_id``, ``replicator_role_name``/``_path``, ``access_mode``,
    ``external_id``, ``partition``, ``ttl_days``/``ttl_attribute`` and ``placement`` are taken
    from ``source``; the source half's ``table_name``, ``table_arn`` and ``writer_role_arn`` from
    the target half's outputs.

    With ``source.placement == "target"`` the replicator (``source``, its ``account_id`` still
    the stream's) is created in ``target_account_id`` with ``target_provider``, and the stream's
    account gets only a :class:`StreamReadGrant` (``source_provider``).
    """

    source: ReplicaSourceArgs
    """The prod half (its table/writer fields are filled in)."""
    target: ReplicaTargetArgs | None = None
    """The POC half (its trust fields are filled in). Default: the target half's defaults."""
    source_provider: Any | None = None
    """The ``aws.Provider`` (a ``pulumi:providers:aws`` resource) for the source account; unset,
    the source half uses the component's own AWS provider (``opts.providers``/``provider``,
    or the default provider)."""
    target_provider: Any | None = None
    """The ``aws.Provider`` (a ``pulumi:providers:aws`` resource) for the target account; unset,
    the target half uses the component's own AWS provider (``opts.providers``/``provider``,
    or the default provider)."""
    target_region: str | None = None
    """Region of the target provider, for the replicator's ``TARGET_REGION``; ``None`` = the
    source's region."""
    tags: dict[str, str] | None = None
    """Tags for every taggable resource of both halves (a half's own ``tags`` win on the same
    key). Default: none."""
    target_account_id: str | None = None
    """The target (table's) account, 12 digits: where the replicator runs in ``target``
    placement. Required there; unused in ``source`` placement."""


class CrossAccountStreamReplica(pulumi.ComponentResource):
    """A Kinesis stream replicated into a DynamoDB table in another account.

    ``target`` (a :class:`ReplicaTarget`) is created with ``target_provider``, ``source`` (a
    :class:`ReplicaSource`) with ``source_provider``; every resource under each half uses that
    half's provider.
    """

    table_name: pulumi.Output[str]
    """Name of the replica table (target account)."""
    table_arn: pulumi.Output[str]
    """ARN of the replica table."""
    table_stream_arn: pulumi.Output[str]
    """ARN of the table's DynamoDB stream (what ``StreamToS3Archiver`` reads)."""
    writer_role_arn: pulumi.Output[str] | None
    """ARN of the writer role the replicator assumes; unset in ``resource-policy`` mode."""
    function_name: pulumi.Output[str]
    """Name of the replicator function (source account)."""
    replicator_role_arn: pulumi.Output[str]
    """ARN of the replicator's execution role (source account)."""

    def __init__(
        self,
        name: str,
        args: CrossAccountStreamReplicaArgs,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("stream-replica:index:CrossAccountStreamReplica", name, None, opts)
        if isinstance(args, dict):  # the multi-language provider passes a dict
            args = CrossAccountStreamReplicaArgs(**args)
        source_args = args.source
        if isinstance(source_args, dict):
            source_args = ReplicaSourceArgs(**source_args)
        if args.target is None:
            target = ReplicaTargetArgs()
        elif isinstance(args.target, dict):
            target = ReplicaTargetArgs(**args.target)
        else:
            target = args.target
        source_provider = _provider(args.source_provider, "source_provider")
        target_provider = _provider(args.target_provider, "target_provider")
        function = must(source_args.function, "CrossAccountStreamReplicaArgs", "source.function")
        # The role name both halves agree on: the caller's, or one derived from this
        # component's name (so two replicas in one account don't share a role).
        role_name = source_args.replicator_role_name(name)
        tags = dict(args.tags or {})
        source_args = replace(
            source_args,
            function=replace(function, role_name=role_name),
            tags={**tags, **(source_args.tags or {})},
        )
        placement = source_args.placement
        target_args = replace(
            target,
            placement=placement,
            source_account_id=source_args.account_id,
            replicator_role_name=role_name,
            replicator_role_path=function.role_path,
            access_mode=source_args.access_mode,
            external_id=source_args.external_id,
            partition=source_args.partition,
            ttl_days=source_args.ttl_days,
            ttl_attribute=source_args.ttl_attribute,
            tags={**tags, **(target.tags or {})},
        )
        # Child components, not outputs: annotated here so the schema inference skips them.
        self.target: ReplicaTarget = ReplicaTarget(
            f"{name}-target",
            target_args,
            opts=pulumi.ResourceOptions(parent=self, provider=target_provider),
        )
        source_args = replace(
            source_args,
            table_name=self.target.table_name,
            table_arn=self.target.table_arn,
            writer_role_arn=self.target.writer_role_arn,
            target_region=(
                args.target_region if args.target_region is not None else source_args.target_region
            ),
        )
        self.grant: StreamReadGrant | None = None
        replicator_provider = source_provider
        depends_on: list[pulumi.Resource] = [self.target]
        if placement == "target":
            owner = "CrossAccountStreamReplicaArgs"
            if args.target_account_id is None:
                raise SettingError(owner, "target_account_id", "is required in target placement")
            check_account_id(owner, "target_account_id", args.target_account_id)
            self.grant = StreamReadGrant(
                f"{name}-grant",
                StreamReadGrantArgs(
                    stream_account_id=source_args.account_id,
                    reader_account_id=args.target_account_id,
                    region=source_args.region,
                    replicator_role_name=role_name,
                    source_stream_name=source_args.source_stream_name,
                    source_stream_arn=source_args.source_stream_arn,
                    consumer_mode=source_args.consumer_mode,
                    consumer_name=source_args.consumer_name,
                    replicator_role_path=function.role_path,
                    partition=source_args.partition,
                    tags=source_args.tags,
                ),
                opts=pulumi.ResourceOptions(parent=self, provider=source_provider),
            )
            # The replicator moves to the table's account and reads the stream (or consumer)
            # through the grant, which must exist before Lambda creates the mapping.
            source_args = replace(
                source_args,
                account_id=args.target_account_id,
                stream_account_id=source_args.account_id,
                source_stream_name=None,
                source_stream_arn=self.grant.stream_arn,  # type: ignore[arg-type]
                stream_consumer_arn=self.grant.consumer_arn,
            )
            replicator_provider = target_provider
            depends_on.append(self.grant)
        self.source: ReplicaSource = ReplicaSource(
            f"{name}-source",
            source_args,
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=replicator_provider,
                # The writer's policy (or the table's resource policy, or the stream's grant)
                # must be in place before the replicator starts.
                depends_on=depends_on,
            ),
        )
        self.table_name = self.target.table_name
        self.table_arn = self.target.table_arn
        self.table_stream_arn = self.target.table_stream_arn
        self.writer_role_arn = self.target.writer_role_arn
        self.function_name = self.source.function_name
        self.replicator_role_arn = self.source.role_arn
        self.register_outputs(
            {
                "table_name": self.table_name,
                "table_arn": self.table_arn,
                "table_stream_arn": self.table_stream_arn,
                "writer_role_arn": self.writer_role_arn,
                "function_name": self.function_name,
                "replicator_role_arn": self.replicator_role_arn,
            }
        )


def _provider(value: Any, field_name: str) -> pulumi.ProviderResource | None:
    """``value`` if it is a provider resource (or unset), else :class:`SettingError`."""
    if value is None or isinstance(value, pulumi.ProviderResource):
        return value
    raise SettingError(
        "CrossAccountStreamReplicaArgs",
        field_name,
        f"must be an aws.Provider (a pulumi:providers:aws resource), got {type(value).__name__}",
    )
