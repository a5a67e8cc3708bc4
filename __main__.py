"""The stream replica's Pulumi program: one stack per account.

``placement: source`` (default): ``poc`` (deploy first, POC credentials) holds the replica
table, the writer role (or the table's resource policy) and the archiver; ``prod`` (prod
credentials) the replicator on the source stream, reading the poc stack's outputs.

``placement: target``: ``prod`` (deploy first) holds only the stream's read grant (and the
enhanced fan-out consumer in ``efo`` mode); ``poc`` holds the table, the archiver and the
replicator on the prod stream, reading the prod stack's outputs.

Config is read and checked in ``stack_config.py``; a change the last deployment (read back from
this stack's own ``deployedSettings`` output) can't safely take is refused, or made safe, in
``deployed_settings.py``.
"""

import pulumi
import pulumi_aws as aws
from stream_replica.components import (
    ArchiveCatalog,
    ReplicaSource,
    ReplicaSourceArgs,
    ReplicaTarget,
    StreamReadGrant,
    StreamToQueryTable,
    StreamToS3Archiver,
)

import deployed_settings
import stack_config

settings = stack_config.load()
deployed_settings.check_keys(settings)
previous = deployed_settings.read_previous()
deployed: dict[str, object] = {
    "placement": settings.placement,
    "consumerMode": settings.consumer_mode,
}


def starting_where_it_stands(args: ReplicaSourceArgs) -> ReplicaSourceArgs:
    """``args`` with the mapping start :func:`deployed_settings.mapping_start` picks, recorded
    in ``deployedSettings``."""
    deployed_settings.check_source(settings, previous)
    start = deployed_settings.mapping_start(settings, previous)
    deployed["replicatorSource"] = deployed_settings.replicator_source(settings)
    deployed["replicatorStart"] = start.as_output()
    return deployed_settings.with_start(args, start)


def provider(component: str) -> aws.Provider:
    """An explicit provider for one component: region, account guard, default tags."""
    return aws.Provider(
        f"{settings.side}-{component}",
        region=settings.region,
        allowed_account_ids=settings.allowed_account_ids,
        default_tags=aws.ProviderDefaultTagsArgs(tags=settings.provider_tags(component)),
    )


def export_replicator(replicator: ReplicaSource) -> None:
    """The replicator's outputs, from whichever stack runs it (prod, or poc in target
    placement)."""
    pulumi.export("sourceStreamArn", replicator.source_stream_arn)
    pulumi.export("streamConsumerArn", replicator.stream_consumer_arn)
    pulumi.export("replicatorFunctionName", replicator.function_name)
    pulumi.export("replicatorFunctionArn", replicator.function_arn)
    pulumi.export("replicatorRoleArn", replicator.role_arn)
    pulumi.export("eventSourceMappingId", replicator.event_source_mapping_id)
    pulumi.export("replicatorDeadLetterQueueUrl", replicator.dead_letter_queue_url)
    pulumi.export("replicatorFailureQueueUrl", replicator.failure_queue_url)


if settings.side == "poc":
    target_args = stack_config.target_args(settings)
    deployed.update(
        deployed_settings.target_settings(
            settings,
            target_args,
            stack_config.query_table_args(settings, ""),
            stack_config.archiver_args(settings, ""),
        )
    )
    deployed_settings.check_target(settings, previous, deployed)
    target = ReplicaTarget(
        "replica-target",
        target_args,
        opts=pulumi.ResourceOptions(provider=provider("replica-target")),
    )
    archiver = StreamToS3Archiver(
        "archiver",
        stack_config.archiver_args(settings, target.table_stream_arn),
        opts=pulumi.ResourceOptions(provider=provider("archiver")),
    )
    query_args = stack_config.query_table_args(settings, target.table_stream_arn)
    if query_args is not None:
        query = StreamToQueryTable(
            "query-table",
            query_args,
            opts=pulumi.ResourceOptions(provider=provider("query-table")),
        )
        pulumi.export("queryTableName", query.table_name)
        pulumi.export("queryWriterFunctionName", query.function_name)
    catalog_args = stack_config.catalog_args(settings, archiver.bucket_name)
    if catalog_args is not None:
        catalog = ArchiveCatalog(
            "archive-catalog",
            catalog_args,
            opts=pulumi.ResourceOptions(provider=provider("archive-catalog")),
        )
        pulumi.export("glueDatabaseName", catalog.database_name)
        pulumi.export("glueTableName", catalog.table_name)
    pulumi.export("accessMode", settings.access_mode)
    pulumi.export("ttlDays", target.args.ttl_days)
    pulumi.export("ttlAttribute", target.args.ttl_attribute)
    # Not the value: prod checks that it uses the same externalId (stack_config.target_ref).
    pulumi.export("externalIdSha256", stack_config.external_id_digest(settings.external_id))
    pulumi.export("placement", settings.placement)
    pulumi.export("consumerMode", settings.consumer_mode)
    pulumi.export("tableName", target.table_name)
    pulumi.export("tableArn", target.table_arn)
    pulumi.export("tableStreamArn", target.table_stream_arn)
    pulumi.export("tableRegion", settings.region)
    pulumi.export("writerRoleArn", target.writer_role_arn)
    pulumi.export("writerRoleName", target.writer_role_name)
    if settings.placement == "target":
        replicator = ReplicaSource(
            "replica-source",
            starting_where_it_stands(
                stack_config.replicator_args(settings, target.table_name, target.table_arn)
            ),
            opts=pulumi.ResourceOptions(provider=provider("replica-source")),
        )
        export_replicator(replicator)
    else:
        stack_config.check_other_stack(settings)
        pulumi.export("replicatorRoleArn", target.replicator_role_arn)
    pulumi.export("bucketName", archiver.bucket_name)
    pulumi.export("bucketArn", archiver.bucket_arn)
    pulumi.export("deliveryStreamName", archiver.delivery_stream_name)
    pulumi.export("deliveryStreamArn", archiver.delivery_stream_arn)
    pulumi.export("archiverFunctionName", archiver.function_name)
    pulumi.export("archiverDeadLetterQueueUrl", archiver.dead_letter_queue_url)
    pulumi.export("archiverFailureQueueUrl", archiver.failure_queue_url)
elif settings.placement == "target":
    stack_config.check_other_stack(settings)
    grant = StreamReadGrant(
        "stream-grant",
        stack_config.grant_args(settings),
        opts=pulumi.ResourceOptions(provider=provider("stream-grant")),
    )
    pulumi.export("accessMode", settings.access_mode)
    pulumi.export("placement", settings.placement)
    pulumi.export("consumerMode", settings.consumer_mode)
    pulumi.export("sourceStreamArn", grant.stream_arn)
    pulumi.export("streamConsumerArn", grant.consumer_arn)
    pulumi.export("replicatorRoleArn", grant.replicator_role_arn)
else:
    poc = stack_config.target_ref(settings)
    source = ReplicaSource(
        "replica-source",
        starting_where_it_stands(stack_config.source_args(settings, poc)),
        opts=pulumi.ResourceOptions(provider=provider("replica-source")),
    )
    pulumi.export("accessMode", settings.access_mode)
    pulumi.export("placement", settings.placement)
    pulumi.export("consumerMode", settings.consumer_mode)
    pulumi.export("tableName", poc.table_name)
    pulumi.export("tableArn", poc.table_arn)
    pulumi.export("writerRoleArn", poc.writer_role_arn)
    export_replicator(source)

pulumi.export(deployed_settings.OUTPUT, deployed)
