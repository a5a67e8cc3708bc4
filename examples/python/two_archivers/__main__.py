"""Archivers only: two existing tables' streams, each archived to its own bucket, one account.

Each archiver's names (function, roles, queues, delivery stream, bucket) derive from its own
logical name, so the two never clash; each keeps its data under ``data/`` and Firehose's
failures under ``errors/``.
"""

import pulumi
import pulumi_aws as aws
from stream_replica.components import StreamToS3Archiver, StreamToS3ArchiverArgs

config = pulumi.Config()
account = config.require("accountId")
region = config.require("region")
provider = aws.Provider("archives", region=region, allowed_account_ids=[account])

archives = {
    table: StreamToS3Archiver(
        f"{table}-archive",
        StreamToS3ArchiverArgs(
            table_stream_arn=config.require(f"{table}TableStreamArn"),
            account_id=account,
            region=region,
            tags={"table": table, "team": "data-platform"},
        ),
        opts=pulumi.ResourceOptions(provider=provider),
    )
    for table in ("orders", "customers")
}

for table, archive in archives.items():
    pulumi.export(f"{table}_bucket", archive.bucket_name)
    pulumi.export(f"{table}_delivery_stream", archive.delivery_stream_name)
