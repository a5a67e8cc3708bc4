"""One stack, two accounts: the orders stream replicated into the analytics account, archived.

The prod provider deploys the replicator next to the stream; the analytics provider (assuming a
deploy role there) deploys the table, the writer role and the archiver. Every physical name is
this program's own, and every taggable resource carries its tags.
"""

import pulumi
import pulumi_aws as aws
from stream_replica.components import (
    CrossAccountStreamReplica,
    CrossAccountStreamReplicaArgs,
    FunctionSettings,
    ReplicaSourceArgs,
    ReplicaTargetArgs,
    StreamToS3Archiver,
    StreamToS3ArchiverArgs,
)

config = pulumi.Config()
prod_account = config.require("prodAccountId")
analytics_account = config.require("analyticsAccountId")
region = config.require("region")
tags = {"team": "analytics", "pipeline": "orders-replica", "stack": pulumi.get_stack()}

prod = aws.Provider("prod", region=region, allowed_account_ids=[prod_account])
analytics = aws.Provider(
    "analytics",
    region=region,
    allowed_account_ids=[analytics_account],
    assume_roles=[aws.ProviderAssumeRoleArgs(role_arn=config.require("analyticsDeployRoleArn"))],
)

replica = CrossAccountStreamReplica(
    "orders",
    CrossAccountStreamReplicaArgs(
        source=ReplicaSourceArgs(
            account_id=prod_account,
            region=region,
            source_stream_name=config.require("sourceStreamName"),
            function=FunctionSettings(name="orders-replicator", role_name="orders-replicator"),
        ),
        target=ReplicaTargetArgs(source_account_id=prod_account, table_name="orders-replica"),
        source_provider=prod,
        target_provider=analytics,
        tags=tags,
    ),
)

archive = StreamToS3Archiver(
    "orders-archive",
    StreamToS3ArchiverArgs(
        table_stream_arn=replica.table_stream_arn,
        account_id=analytics_account,
        region=region,
        delivery_stream_name="orders-archive",
        function=FunctionSettings(name="orders-archiver"),
        tags=tags,
    ),
    opts=pulumi.ResourceOptions(provider=analytics),
)

pulumi.export("table_name", replica.table_name)
pulumi.export("replicator", replica.function_name)
pulumi.export("bucket_name", archive.bucket_name)
