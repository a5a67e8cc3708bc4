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
…), and a partial settings object merges over them field by field.

The modules besides the components: ``settings`` (the settings objects, their named defaults
and the merge), ``validation`` (argument checks against AWS's rules, :class:`SettingError`),
``consumer`` (what the three stream consumers share: role, log group, queues, function, mapping,
alarms), ``policies`` (the IAM documents, as pure functions) and ``iam_actions`` (the actions
they grant), ``outputs`` (plain-or-Output helpers), ``alarms``, ``assets`` (the handler code
asset), ``archive_bucket`` (the archiver's bucket) and ``exceptions``.
"""

from . import assets, policies
from .archive_bucket import HOUSEKEEPING_RULE, LifecycleRule
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
    StreamToS3Archiver,
    StreamToS3ArchiverArgs,
)
from .dashboard import (
    PIPELINE_DASHBOARD_DEFAULTS,
    DashboardFunction,
    PipelineDashboard,
    PipelineDashboardArgs,
)
from .exceptions import SettingError, StackConfigError
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
    HASH_KEY,
    RANGE_KEY,
    REPLICA_TARGET_DEFAULTS,
    ReplicaTarget,
    ReplicaTargetArgs,
    SecondaryIndex,
)
from .settings import (
    ALARM_DEFAULTS,
    FUNCTION_DEFAULTS,
    MAPPING_DEFAULTS,
    AlarmSettings,
    FunctionSettings,
    MappingSettings,
    merge_settings,
    powertools_layer_arn,
)
from .stream_grant import STREAM_READ_GRANT_DEFAULTS, StreamReadGrant, StreamReadGrantArgs
from .stream_replica import CrossAccountStreamReplica, CrossAccountStreamReplicaArgs

__all__ = [
    "ALARM_DEFAULTS",
    "ARCHIVER_DEFAULTS",
    "ARCHIVER_FUNCTION_DEFAULTS",
    "ARCHIVE_CATALOG_DEFAULTS",
    "CLICKSTREAM_COLUMNS",
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
    "StackConfigError",
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
