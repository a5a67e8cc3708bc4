"""Redaction that would break a key, refused at preview: the replicator's ``dropFields`` and
``pseudonymizeFields`` against the attributes the replica table's secondary index and the query
table use as keys.

A pseudonymised value is text (HMAC-SHA256, hex): an index key of type N or B on that attribute
makes DynamoDB refuse every item ("Type mismatch for Index Key"), and a query table hashed by a
number skips every record. A dropped attribute leaves the index (sparse) and the query table
(skipped records) empty. Neither is a bad record: it is the configuration.

The settings may sit in one stack file (target placement: the poc stack runs the replicator)
or two (source placement: the redaction in prod, the keys in poc). The poc stack exports its
keys (:func:`key_attributes`, output ``keyAttributes``), and the prod stack compares its
redaction with them at deployment; in target placement the poc stack compares at preview.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
from stream_replica.components import (
    ReplicaSourceArgs,
    ReplicaTargetArgs,
    StreamToQueryTableArgs,
)

from stack_config.reader import StackConfig

#: The poc stack's output listing its key attributes.
OUTPUT = "keyAttributes"


def key_attributes(
    target: ReplicaTargetArgs, query: StreamToQueryTableArgs | None
) -> list[dict[str, str]]:
    """The payload attributes the poc side uses as keys: ``{"attribute", "type", "key"}`` for
    each secondary index's hash and range key and the query table's hash and range attribute
    (``type`` ``S`` for the range attribute: the writer makes text of any value; ``key`` says
    which)."""
    keys: list[dict[str, str]] = []
    for index in target.secondary_indexes or []:
        keys.append(
            {
                "attribute": index.hash_key,
                "type": str(index.hash_key_type),
                "key": f"the hash key of index {index.name}",
            }
        )
        if index.range_key:
            keys.append(
                {
                    "attribute": index.range_key,
                    "type": str(index.range_key_type),
                    "key": f"the range key of index {index.name}",
                }
            )
    if query is not None:
        keys.append(
            {
                "attribute": str(query.hash_attribute),
                "type": str(query.hash_attribute_type),
                "key": "the query table's hash attribute",
            }
        )
        keys.append(
            {
                "attribute": str(query.range_attribute),
                "type": "S",
                "key": "the query table's range attribute",
            }
        )
    return keys


def _top(path: str) -> str:
    return path.split(".", 1)[0]


def redaction_problem(
    drop_fields: Sequence[str] | None,
    pseudonymize_fields: Sequence[str] | None,
    keys: Sequence[Mapping[str, Any]],
) -> tuple[str, str] | None:
    """``(config key, problem)`` for the first redaction that breaks one of ``keys``
    (:func:`key_attributes`), or ``None``. A path of a nested field (``a.b``) only breaks a key
    when it is the whole attribute (keys are top-level scalars)."""
    dropped = {path for path in drop_fields or [] if _top(path) == path}
    hashed = {path for path in pseudonymize_fields or [] if _top(path) == path}
    for key in keys:
        attribute, kind, which = str(key["attribute"]), str(key["type"]), str(key["key"])
        if attribute in dropped:
            return (
                "dropFields",
                f"drops {attribute!r}, {which}: no item would carry it, so the index or "
                "query table would stay empty; keep the attribute or remove that key",
            )
        if attribute in hashed and kind != "S":
            return (
                "pseudonymizeFields",
                f"pseudonymises {attribute!r}, {which} of type {kind}: a pseudonym is text (S), "
                "so DynamoDB would refuse every item (Type mismatch for Index Key) or the query "
                f"writer skip every record; declare {which} as S or leave {attribute!r} as it is",
            )
    return None


def checked_at_deployment(
    cfg: StackConfig,
    replicator: ReplicaSourceArgs,
    keys: pulumi.Output[Any],
    value: pulumi.Input[str],
    other: str,
) -> pulumi.Output[str]:
    """``value`` once the ``other`` stack's ``keys`` output (:data:`OUTPUT`) is known and
    :func:`check_redaction` passes: an input of the replicator's resources, so a redaction that
    breaks a key fails the deployment. A stack deployed by an older program has no such output:
    a warning says to deploy it again, and the check is skipped."""
    redacts = bool(replicator.drop_fields or replicator.pseudonymize_fields)

    def check(pair: list[Any]) -> str:
        found, known = pair
        if redacts and found is None:
            pulumi.log.warn(
                f"{cfg.file}: the {other} stack has no {OUTPUT!r} output, so the redaction "
                "(dropFields, pseudonymizeFields) cannot be checked against its index and query "
                f"table keys; deploy the {other} stack again with this version of the program"
            )
        elif redacts:
            check_redaction(cfg, replicator, found)
        return str(known)

    return pulumi.Output.all(keys, value).apply(check)


def check_redaction(
    cfg: StackConfig, replicator: ReplicaSourceArgs, keys: Sequence[Mapping[str, Any]]
) -> None:
    """Raise the :class:`StackConfigError` of :func:`redaction_problem`, naming the key."""
    problem = redaction_problem(replicator.drop_fields, replicator.pseudonymize_fields, keys)
    if problem is not None:
        raise cfg.error(*problem)
