"""The stream-replica CrossGuard pack's folder (a package so tests can import
``policy_pack.stream_replica_policy``)."""
