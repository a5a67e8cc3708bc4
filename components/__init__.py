"""Pulumi components of the cross-account stream replica.

Installed, this package is ``stream_replica.components``::

    from stream_replica.components import (
        CrossAccountStreamReplica, CrossAccountStreamReplicaArgs,   # both halves, two providers
        ReplicaTarget, ReplicaTargetArgs,                           # POC half: table + access
        ReplicaSource, ReplicaSourceArgs,                           # prod half: replicator
        StreamReadGrant, StreamReadGrantArgs,                       # prod, target placement
        StreamToS3Archiver, StreamToS3ArchiverArgs,                 # table stream -> S3
        StreamToQueryTable, StreamToQueryTableArgs,                 # table stream -> by user
        ArchiveCatalog, ArchiveCatalogArgs,                         # Glue table over the archive
    )

Every args field with a default is optional: left ``None`` it takes the component's named
defaults (``REPLICA_SOURCE_DEFAULTS``, ``REPLICATOR_FUNCTION_DEFAULTS``, ``MAPPING_DEFAULTS``,
…), and a partial settings object merges over them field by field. ``policies`` holds the IAM
documents as pure functions; ``assets`` the handler code asset.
"""

from . import assets, policies
from .archive_catalog import (
    ARCHIVE_CATALOG_DEFAULTS,
    CLICKSTREAM_COLUMNS,
    ArchiveCatalog,
    ArchiveCatalogArgs,
    ArchiveColumn,
)
from .archiver import (
    ARCHIVER_DEFAULTS,
    ARCHIVER_FUNCTION_DEFAULTS,
    HOUSEKEEPING_RULE,
    LifecycleRule,
    StreamToS3Archiver,
    StreamToS3ArchiverArgs,
)
from .common import (
    ALARM_DEFAULTS,
    FUNCTION_DEFAULTS,
    MAPPING_DEFAULTS,
    AlarmSettings,
    FunctionSettings,
    MappingSettings,
    merge_settings,
    powertools_layer_arn,
)
from .dashboard import (
    PIPELINE_DASHBOARD_DEFAULTS,
    DashboardFunction,
    PipelineDashboard,
    PipelineDashboardArgs,
)
from .exceptions import ConfigError, SettingError
from .query_table import (
    QUERY_TABLE_DEFAULTS,
    QUERY_WRITER_FUNCTION_DEFAULTS,
    StreamToQueryTable,
    StreamToQueryTableArgs,
)
from .replica_source import (
    REPLICA_SOURCE_DEFAULTS,
    REPLICATOR_FUNCTION_DEFAULTS,
    ReplicaSource,
    ReplicaSourceArgs,
)
from .replica_target import (
    DEFAULT_REPLICATOR_ROLE_NAME,
    HASH_KEY,
    RANGE_KEY,
    REPLICA_TARGET_DEFAULTS,
    ReplicaTarget,
    ReplicaTargetArgs,
    SecondaryIndex,
)
from .stream_grant import STREAM_READ_GRANT_DEFAULTS, StreamReadGrant, StreamReadGrantArgs
from .stream_replica import CrossAccountStreamReplica, CrossAccountStreamReplicaArgs

__all__ = [
    "ALARM_DEFAULTS",
    "ARCHIVER_DEFAULTS",
    "ARCHIVER_FUNCTION_DEFAULTS",
    "ARCHIVE_CATALOG_DEFAULTS",
    "CLICKSTREAM_COLUMNS",
    "DEFAULT_REPLICATOR_ROLE_NAME",
    "FUNCTION_DEFAULTS",
    "HASH_KEY",
    "HOUSEKEEPING_RULE",
    "MAPPING_DEFAULTS",
    "PIPELINE_DASHBOARD_DEFAULTS",
    "QUERY_TABLE_DEFAULTS",
    "QUERY_WRITER_FUNCTION_DEFAULTS",
    "RANGE_KEY",
    "REPLICATOR_FUNCTION_DEFAULTS",
    "REPLICA_SOURCE_DEFAULTS",
    "REPLICA_TARGET_DEFAULTS",
    "STREAM_READ_GRANT_DEFAULTS",
    "AlarmSettings",
    "ArchiveCatalog",
    "ArchiveCatalogArgs",
    "ArchiveColumn",
    "ConfigError",
    "CrossAccountStreamReplica",
    "CrossAccountStreamReplicaArgs",
    "DashboardFunction",
    "FunctionSettings",
    "LifecycleRule",
    "MappingSettings",
    "PipelineDashboard",
    "PipelineDashboardArgs",
    "ReplicaSource",
    "ReplicaSourceArgs",
    "ReplicaTarget",
    "ReplicaTargetArgs",
    "SecondaryIndex",
    "SettingError",
    "StreamReadGrant",
    "StreamReadGrantArgs",
    "StreamToQueryTable",
    "StreamToQueryTableArgs",
    "StreamToS3Archiver",
    "StreamToS3ArchiverArgs",
    "assets",
    "merge_settings",
    "policies",
    "powertools_layer_arn",
]
