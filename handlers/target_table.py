"""The replica table's key schema, checked before the replicator writes into it.

The replicator keys every item by (``seqNumbershardIdHash`` HASH, ``sequenceNumber`` RANGE),
both strings (:data:`.records.HASH_KEY`, :data:`.records.RANGE_KEY`). A table keyed otherwise
either refuses the writes (a missing key attribute: a ValidationException) or, worse, accepts
them and lets distinct records overwrite each other (a table keyed by the hash key alone keeps
one item per shard). So before its first write through a client, the replicator reads the
table's key schema (``DescribeTable``, once per client, i.e. per execution environment) and
writes nothing into a table keyed otherwise: :func:`key_schema_problem` names the difference,
and the batch is reported for retry (a fault of the target, never of the records).

When the key schema can't be read (``DescribeTable`` denied, e.g. a table policy deployed before
the replicator asked for it, or throttled), the writes go ahead unchecked, with a warning: the
check guards against a wrong table, it must not stop replication into the right one.
"""

from __future__ import annotations

import threading
import weakref
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from .records import HASH_KEY, RANGE_KEY

#: The replica's key: attribute -> (key type, attribute type).
REPLICA_KEY = {HASH_KEY: ("HASH", "S"), RANGE_KEY: ("RANGE", "S")}

_lock = threading.Lock()
#: Tables whose key schema each client has verified (the clients are cached per environment).
_verified: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()


def describe_key(table: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """A ``DescribeTable`` ``Table``'s key as attribute -> (key type, attribute type)."""
    types = {
        d.get("AttributeName"): d.get("AttributeType")
        for d in table.get("AttributeDefinitions") or []
    }
    return {
        str(k.get("AttributeName")): (str(k.get("KeyType")), str(types.get(k.get("AttributeName"))))
        for k in table.get("KeySchema") or []
    }


def _spell(key: dict[str, tuple[str, str]]) -> str:
    order = sorted(key.items(), key=lambda item: item[1][0] != "HASH")
    return ", ".join(f"{kind} {name} ({kind_of})" for name, (kind, kind_of) in order) or "none"


def key_schema_problem(client: Any, table: str, log: Any) -> str | None:
    """None if ``table`` (a name or ARN) is keyed as the replica (or its key can't be read:
    logged as a warning), else what is wrong, in one sentence. Reads the key once per
    ``client`` and table while it matches."""
    with _lock:
        if table in _verified.get(client, set()):
            return None
    try:
        described = client.describe_table(TableName=table)["Table"]
    except (ClientError, BotoCoreError) as exc:
        log.warning(
            "cannot read the target table's key schema; writing without checking it",
            extra={"table": table, "error": str(exc)},
        )
        return None
    found = describe_key(described)
    if found != REPLICA_KEY:
        return (
            f"the target table {table} is keyed {_spell(found)}, but the replicator writes items "
            f"keyed {_spell(REPLICA_KEY)}: distinct records would overwrite each other or be "
            f"refused, so nothing is written into it (recreate the table with the replica's key "
            f"schema, or point the replicator at the right table)"
        )
    with _lock:
        _verified.setdefault(client, set()).add(table)
    return None
