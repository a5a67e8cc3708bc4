"""The ``stream-replica-guardrails`` CrossGuard pack as a library.

A pack folder's ``__main__.py`` is two lines::

    from stream_replica_policy import serve
    serve(levels={"log-group-retention": "advisory"}, scope="stack")

The rules are in :mod:`.rules`; levels, scope and the pulumi-policy wiring in :mod:`.pack`.
"""

from .pack import (
    COMPONENT_TYPE_PREFIX,
    PACK_NAME,
    SCOPES,
    build_policies,
    created_by_components,
    resolve_levels,
    serve,
)
from .rules import LEVELS, RULE_NAMES, RULES, STACK_RULES, STAR_RESOURCE_EXCEPTIONS

__all__ = [
    "COMPONENT_TYPE_PREFIX",
    "LEVELS",
    "PACK_NAME",
    "RULES",
    "RULE_NAMES",
    "SCOPES",
    "STACK_RULES",
    "STAR_RESOURCE_EXCEPTIONS",
    "build_policies",
    "created_by_components",
    "resolve_levels",
    "serve",
]
