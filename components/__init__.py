"""Pulumi components of the cross-account stream replica.

Installed, this package is ``stream_replica.components``::

    from stream_replica.components import (
        CrossAccountStreamReplica, CrossAccountStreamReplicaArgs,   # both halves, two providers
        ReplicaTarget, ReplicaTargetArgs,                           # POC half: table + access
        ReplicaSource, ReplicaSourceArgs,                           # prod half: replicator
        StreamToS3Archiver, StreamToS3ArchiverArgs,                 # table stream -> S3
    )

``policies`` holds the IAM documents as pure functions; ``assets`` the handler code asset.
"""

from . import assets, policies
from .archiver import LifecycleRule, StreamToS3Archiver, StreamToS3ArchiverArgs
from .common import (
    AlarmSettings,
    FunctionSettings,
    MappingSettings,
    powertools_layer_arn,
)
from .replica_source import ReplicaSource, ReplicaSourceArgs
from .replica_target import (
    DEFAULT_REPLICATOR_ROLE_NAME,
    HASH_KEY,
    RANGE_KEY,
    ReplicaTarget,
    ReplicaTargetArgs,
    SecondaryIndex,
)
from .stream_replica import CrossAccountStreamReplica, CrossAccountStreamReplicaArgs

__all__ = [
    "DEFAULT_REPLICATOR_ROLE_NAME",
    "HASH_KEY",
    "RANGE_KEY",
    "AlarmSettings",
    "CrossAccountStreamReplica",
    "CrossAccountStreamReplicaArgs",
    "FunctionSettings",
    "LifecycleRule",
    "MappingSettings",
    "ReplicaSource",
    "ReplicaSourceArgs",
    "ReplicaTarget",
    "ReplicaTargetArgs",
    "SecondaryIndex",
    "StreamToS3Archiver",
    "StreamToS3ArchiverArgs",
    "assets",
    "policies",
    "powertools_layer_arn",
]
