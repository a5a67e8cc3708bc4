"""Which config key becomes which field of a component's args.

One line per key. A field path with a dot goes into a settings object (``function.timeout``).
A key the stack file leaves out is passed as ``None``: the component's own default applies (a
test checks that ``Pulumi.yaml``'s documented defaults equal the components').
"""

from __future__ import annotations

#: Keys both functions share (the ``function`` settings of either consumer).
FUNCTION_KEYS = {
    "runtime": "function.runtime",
    "architecture": "function.architecture",
    "logRetentionDays": "function.log_retention_days",
    "deadLetterRetentionSeconds": "function.dead_letter_retention_seconds",
    "logLevel": "function.log_level",
    "powertoolsLayerArn": "function.powertools_layer_arn",
}
#: Keys of both event source mappings and both consumers' alarms.
MAPPING_KEYS = {
    "batchSize": "mapping.batch_size",
    "startingPosition": "mapping.starting_position",
    "batchingWindowSeconds": "mapping.maximum_batching_window_in_seconds",
    "parallelizationFactor": "mapping.parallelization_factor",
    "maximumRetryAttempts": "mapping.maximum_retry_attempts",
    "maximumRecordAgeSeconds": "mapping.maximum_record_age_in_seconds",
    "alarmTopicArn": "alarms.topic_arn",
    "iteratorAgeAlarmMs": "alarms.iterator_age_ms",
}
#: poc: the replica table and the writer's access (``ReplicaTargetArgs``).
TARGET_KEYS = {
    "accessMode": "access_mode",
    "externalId": "external_id",
    "replicatorRoleName": "replicator_role_name",
    "tableName": "table_name",
    "billingMode": "billing_mode",
    "readCapacity": "read_capacity",
    "writeCapacity": "write_capacity",
    "streamViewType": "stream_view_type",
    "tableEncryption": "table_encryption",
    "deletionProtection": "deletion_protection",
    "protectData": "protect",
    "writerRoleName": "writer_role_name",
    "ttlDays": "ttl_days",
    "ttlAttribute": "ttl_attribute",
    "placement": "placement",
    "tableImportId": "table_import_id",
    "pointInTimeRecovery": "point_in_time_recovery",
}
#: poc: the archiver (``StreamToS3ArchiverArgs``).
ARCHIVER_KEYS = {
    **FUNCTION_KEYS,
    **MAPPING_KEYS,
    "archiverFunctionName": "function.name",
    "archiverMemorySize": "function.memory_size",
    "archiverTimeout": "function.timeout",
    "streamViewType": "table_stream_view_type",
    "deliveryStreamName": "delivery_stream_name",
    "bufferingSizeMb": "buffering_size_mb",
    "bufferingIntervalSeconds": "buffering_interval_seconds",
    "compression": "compression",
    "s3Prefix": "prefix",
    "s3ErrorPrefix": "error_prefix",
    "bucketName": "bucket_name",
    "existingBucketName": "existing_bucket_name",
    "bucketImportId": "bucket_import_id",
    "protectData": "protect",
    "archiveRemoves": "archive_removes",
    "archiveTransformModule": "archive_transform_module",
    "logRetentionDays": "delivery_log_retention_days",
}
#: poc: the query table (``StreamToQueryTableArgs``), when ``queryTableEnabled``.
QUERY_TABLE_KEYS = {
    **FUNCTION_KEYS,
    **MAPPING_KEYS,
    "queryWriterFunctionName": "function.name",
    "queryTableName": "table_name",
    "queryTableHashAttribute": "hash_attribute",
    "queryTableHashType": "hash_attribute_type",
    "queryTableRangeAttribute": "range_attribute",
    "queryTableSortKeyAttribute": "sort_key_attribute",
    "queryTableTtlDays": "ttl_days",
    "ttlDays": "source_ttl_days",
    "ttlAttribute": "ttl_attribute",
    "deletionProtection": "deletion_protection",
    "protectData": "protect",
}
#: poc: the archive's Glue catalog (``ArchiveCatalogArgs``), when ``archiveCatalogEnabled``.
CATALOG_KEYS = {
    "compression": "compression",
    "glueDatabaseName": "database_name",
    "glueTableName": "table_name",
    "glueFirstYear": "first_year",
}
#: prod: the replicator (``ReplicaSourceArgs``).
SOURCE_KEYS = {
    **FUNCTION_KEYS,
    **MAPPING_KEYS,
    "accessMode": "access_mode",
    "externalId": "external_id",
    "replicatorRoleName": "function.role_name",
    "replicatorFunctionName": "function.name",
    "replicatorMemorySize": "function.memory_size",
    "replicatorTimeout": "function.timeout",
    "sourceStreamName": "source_stream_name",
    "sourceStreamArn": "source_stream_arn",
    "createSourceStream": "create_source_stream",
    "sourceStreamShardCount": "source_stream_shard_count",
    "sourceStreamKmsKeyArn": "source_stream_kms_key_arn",
    "maxWriteConcurrency": "max_write_concurrency",
    "ttlDays": "ttl_days",
    "ttlAttribute": "ttl_attribute",
    "transformModule": "transform_module",
    "dropFields": "drop_fields",
    "pseudonymizeFields": "pseudonymize_fields",
    "pseudonymizationKeyParameter": "pseudonymization_key_parameter",
    "pseudonymizationKeyKmsKeyArn": "pseudonymization_key_kms_key_arn",
    "placement": "placement",
    "consumerMode": "consumer_mode",
}
#: The replicator's stages: in target placement they run in poc, so prod refuses them.
STAGE_KEYS = (
    "transformModule",
    "dropFields",
    "pseudonymizeFields",
    "pseudonymizationKeyParameter",
    "pseudonymizationKeyKmsKeyArn",
)
#: poc in target placement: the replicator next to the table (``ReplicaSourceArgs``); the stream
#: (and consumer) come from the prod stack (``source_ref``).
REPLICATOR_KEYS = {
    key: field
    for key, field in SOURCE_KEYS.items()
    if key
    not in ("sourceStreamName", "sourceStreamArn", "createSourceStream", "sourceStreamShardCount")
}
#: prod in target placement: the stream's read grant (``StreamReadGrantArgs``).
GRANT_KEYS = {
    "consumerMode": "consumer_mode",
    "sourceStreamName": "source_stream_name",
    "sourceStreamArn": "source_stream_arn",
    "replicatorRoleName": "replicator_role_name",
    "redriveRoleArn": "redrive_role_arn",
}
#: Keys whose value must be an ARN of this service (checked here: the components take any
#: string, and a wrong ARN would only fail in AWS).
ARN_KEYS = {
    "alarmTopicArn": "sns",
    "powertoolsLayerArn": "lambda",
    "sourceStreamArn": "kinesis",
    "sourceStreamKmsKeyArn": "kms",
    "pseudonymizationKeyKmsKeyArn": "kms",
    "streamConsumerArn": "kinesis",
    "redriveRoleArn": "iam",
}
#: The GSI's keys, for errors about ``secondary_indexes[0]`` (``ReplicaTargetArgs``).
GSI_KEYS = {
    "secondary_indexes[0].name": "gsiName",
    "secondary_indexes[0].hash_key": "gsiHashKey",
    "secondary_indexes[0].hash_key_type": "gsiHashKeyType",
    "secondary_indexes[0].range_key": "gsiRangeKey",
    "secondary_indexes[0].range_key_type": "gsiRangeKeyType",
}
#: Fields of ReplicaSourceArgs that come from the poc side, by the key a user sets for them.
TARGET_FIELD_KEYS = {
    "table_name": "tableName",
    "table_arn": "tableArn",
    "writer_role_arn": "writerRoleArn",
    "target_region": "tableRegion",
}
