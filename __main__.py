"""The stream replica's Pulumi program: one stack per account.

``placement: source`` (default): ``poc`` (deploy first, POC credentials) holds the replica
table, the writer role (or the table's resource policy) and the archiver; ``prod`` (prod
credentials) the replicator on the source stream, reading the poc stack's outputs.

``placement: target``: ``prod`` (deploy first) holds only the stream's read grant (and the
enhanced fan-out consumer in ``efo`` mode); ``poc`` holds the table, the archiver and the
replicator on the prod stream, reading the prod stack's outputs.

Config is read and checked, and each component's args built once, by ``stack_config``
(``stack_config.stack.load``); a change the last deployment (read back from this stack's own
``deployedSettings`` output) can't safely take is refused, or made safe, in
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
import stack_dashboard
from stack_config.args import wire
from stack_config.key_redaction import OUTPUT as KEY_ATTRIBUTES_OUTPUT
from stack_config.key_redaction import key_attributes
from stack_config.references import external_id_digest
from stack_config.stack import PocStack, ProdGrantStack, load

stack = load()
settings = stack.settings
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


if isinstance(stack, PocStack):
    deployed.update(
        deployed_settings.target_settings(settings, stack.target, stack.query_table, stack.archiver)
    )
    deployed_settings.check_target(settings, previous, deployed)
    target = ReplicaTarget(
        "replica-target",
        stack.target,
        opts=pulumi.ResourceOptions(provider=provider("replica-target")),
    )
    archiver = StreamToS3Archiver(
        "archiver",
        wire(stack.archiver, table_stream_arn=target.table_stream_arn),
        opts=pulumi.ResourceOptions(provider=provider("archiver")),
    )
    consumers: list[tuple[str, object]] = [("archiver", archiver)]
    tables = [target.table_name]
    if stack.query_table is not None:
        query = StreamToQueryTable(
            "query-table",
            wire(stack.query_table, table_stream_arn=target.table_stream_arn),
            opts=pulumi.ResourceOptions(provider=provider("query-table")),
        )
        pulumi.export("queryTableName", query.table_name)
        pulumi.export("queryWriterFunctionName", query.function_name)
        consumers.append(("query_writer", query))
        tables.append(query.table_name)
    if stack.catalog is not None:
        catalog = ArchiveCatalog(
            "archive-catalog",
            wire(stack.catalog, bucket_name=archiver.bucket_name),
            opts=pulumi.ResourceOptions(provider=provider("archive-catalog")),
        )
        pulumi.export("glueDatabaseName", catalog.database_name)
        pulumi.export("glueTableName", catalog.table_name)
    pulumi.export("accessMode", settings.access_mode)
    pulumi.export("ttlDays", target.args.ttl_days)
    pulumi.export("ttlAttribute", target.args.ttl_attribute)
    # Not the value: prod checks that it uses the same externalId (stack_config.references).
    pulumi.export("externalIdSha256", external_id_digest(settings.external_id))
    pulumi.export("placement", settings.placement)
    pulumi.export("consumerMode", settings.consumer_mode)
    pulumi.export("tableName", target.table_name)
    pulumi.export("tableArn", target.table_arn)
    pulumi.export("tableStreamArn", target.table_stream_arn)
    pulumi.export("tableRegion", settings.region)
    pulumi.export(KEY_ATTRIBUTES_OUTPUT, key_attributes(stack.target, stack.query_table))
    pulumi.export("writerRoleArn", target.writer_role_arn)
    pulumi.export("writerRoleName", target.writer_role_name)
    if stack.replicator is not None:  # target placement: the replicator next to the table
        replicator = ReplicaSource(
            "replica-source",
            starting_where_it_stands(
                wire(stack.replicator, table_name=target.table_name, table_arn=target.table_arn)
            ),
            opts=pulumi.ResourceOptions(provider=provider("replica-source")),
        )
        export_replicator(replicator)
        consumers.insert(0, ("replicator", replicator))
    else:
        pulumi.export("replicatorRoleArn", target.replicator_role_arn)
    pulumi.export("bucketName", archiver.bucket_name)
    pulumi.export("bucketArn", archiver.bucket_arn)
    pulumi.export("deliveryStreamName", archiver.delivery_stream_name)
    pulumi.export("deliveryStreamArn", archiver.delivery_stream_arn)
    pulumi.export("archiverFunctionName", archiver.function_name)
    pulumi.export("archiverDeadLetterQueueUrl", archiver.dead_letter_queue_url)
    pulumi.export("archiverFailureQueueUrl", archiver.failure_queue_url)
    stack_dashboard.add_dashboard(
        settings, provider, consumers, [archiver.delivery_stream_name], tables
    )
elif isinstance(stack, ProdGrantStack):
    grant = StreamReadGrant(
        "stream-grant",
        stack.grant,
        opts=pulumi.ResourceOptions(provider=provider("stream-grant")),
    )
    pulumi.export("accessMode", settings.access_mode)
    pulumi.export("placement", settings.placement)
    pulumi.export("consumerMode", settings.consumer_mode)
    pulumi.export("sourceStreamArn", grant.stream_arn)
    pulumi.export("streamConsumerArn", grant.consumer_arn)
    pulumi.export("replicatorRoleArn", grant.replicator_role_arn)
else:
    source = ReplicaSource(
        "replica-source",
        starting_where_it_stands(stack.replicator),
        opts=pulumi.ResourceOptions(provider=provider("replica-source")),
    )
    pulumi.export("accessMode", settings.access_mode)
    pulumi.export("placement", settings.placement)
    pulumi.export("consumerMode", settings.consumer_mode)
    pulumi.export("tableName", stack.poc.table_name)
    pulumi.export("tableArn", stack.poc.table_arn)
    pulumi.export("writerRoleArn", stack.poc.writer_role_arn)
    export_replicator(source)
    stack_dashboard.add_dashboard(settings, provider, [("replicator", source)])

pulumi.export(deployed_settings.OUTPUT, deployed)
