"""The rules of :mod:`.rules` as a pulumi-policy pack: enforcement levels, scope and config.

Levels
    Each rule has a default level (``Rule.default_level``: ``mandatory`` where a violation lets
    another principal in or makes a principal an administrator, ``advisory`` otherwise). A
    program's pack sets its own with ``levels`` (``{"all": "advisory", "<rule>": "disabled"}``),
    and the pack's config file overrides both: ``pulumi preview --policy-pack <dir>
    --policy-pack-config <file.json>`` or ``pulumi policy enable --config``, in Pulumi's policy
    config format (``{"<rule>": "advisory"}`` or ``{"<rule>": {"enforcementLevel": ...}}``,
    ``"all"`` for every rule). pulumi-policy applies the configured level: a ``disabled`` rule is
    not run, an ``advisory`` one reports without failing the update.

Scope
    Every rule has a config property ``scope``: ``"stack"`` (every resource of the stack, the
    default) or ``"components"`` (only resources created inside one of our components, i.e. with
    an ancestor whose type starts with :data:`COMPONENT_TYPE_PREFIX`). ``serve(scope=...)`` sets
    the default for every rule; the config file sets it per rule
    (``{"<rule>": {"enforcementLevel": "mandatory", "scope": "components"}}``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, Literal

from .rules import (
    LEVELS,
    RULE_NAMES,
    RULES,
    STACK_RULES,
    Level,
    Rule,
    StackResource,
    StackRule,
)

PACK_NAME = "stream-replica-guardrails"

Scope = Literal["stack", "components"]
#: The values of the ``scope`` config property.
SCOPES: tuple[Scope, ...] = ("stack", "components")

#: Type-token prefix of our components (``stream-replica:index:ReplicaSource``, ...): a resource
#: is "ours" when one of its ancestors has a type with this prefix.
COMPONENT_TYPE_PREFIX = "stream-replica:"

ReportViolation = Callable[[str, str | None], None]


# --- scope --------------------------------------------------------------------------------------


def urn_types(urn: str | None) -> list[str]:
    """The types in a URN's qualified type, outermost parent first.

    ``urn:pulumi:dev::proj::stream-replica:index:ReplicaTarget$aws:dynamodb/table:Table::t``
    -> ``["stream-replica:index:ReplicaTarget", "aws:dynamodb/table:Table"]``. The engine puts
    the parent's type chain before ``$`` (https://www.pulumi.com/docs/iac/concepts/resources/names/#urns).
    """
    if not urn or not urn.startswith("urn:pulumi:"):
        return []
    parts = urn.split("::")
    return parts[2].split("$") if len(parts) >= 4 else []


def created_by_components(urn: str | None, parent_urns: Iterable[str | None] = ()) -> bool:
    """Whether a resource has one of our components among its ancestors.

    Read from the resource's own URN (its parents' types) and from the URNs of the parents the
    engine names (``opts.parent`` for a resource, the ``parent`` chain in a stack).
    """
    ancestors = urn_types(urn)[:-1]
    for parent in parent_urns:
        ancestors += urn_types(parent)
    return any(t.startswith(COMPONENT_TYPE_PREFIX) for t in ancestors)


def _scope(args: Any, default: Scope, rule: str) -> Scope:
    config = args.get_config() if hasattr(args, "get_config") else None
    value = (config or {}).get("scope", default)
    if value not in SCOPES:
        raise ValueError(f"policy config {rule}.scope: {value!r} is not one of {list(SCOPES)}")
    return value


def _stack_parents(resource: Any) -> list[str]:
    urns: list[str] = []
    parent = getattr(resource, "parent", None)
    while parent is not None and len(urns) < 100:
        urns.append(parent.urn)
        parent = getattr(parent, "parent", None)
    return urns


# --- validators ---------------------------------------------------------------------------------


def resource_validator(
    rule: Rule, scope: Scope = "stack"
) -> Callable[[Any, ReportViolation], None]:
    """``rule`` as a pulumi-policy ResourceValidation callback (args, report_violation).

    ``scope`` is the default of the ``scope`` config property (see the module docstring).
    """

    def validate(args: Any, report_violation: ReportViolation) -> None:
        if args.resource_type not in rule.resource_types:
            return
        if _scope(args, scope, rule.name) == "components":
            parent = getattr(getattr(args, "opts", None), "parent", None)
            if not created_by_components(args.urn, [parent]):
                return
        for message in rule.check(args.resource_type, args.props):
            report_violation(f"{args.resource_type} {args.name!r}: {message}", None)

    return validate


def stack_resources(args: Any, scope: Scope = "stack") -> list[StackResource]:
    """pulumi-policy ``StackValidationArgs.resources`` as :class:`StackResource` records; with
    ``scope="components"`` only the resources our components created."""
    return [
        StackResource(
            resource_type=r.resource_type,
            name=r.name,
            props=r.props,
            urn=r.urn,
            property_dependencies={
                key: [dep.urn for dep in deps]
                for key, deps in (getattr(r, "property_dependencies", None) or {}).items()
            },
        )
        for r in args.resources
        if scope == "stack" or created_by_components(r.urn, _stack_parents(r))
    ]


def stack_validator(
    rule: StackRule, scope: Scope = "stack"
) -> Callable[[Any, ReportViolation], None]:
    """A stack rule as a pulumi-policy StackValidation callback."""

    def validate(args: Any, report_violation: ReportViolation) -> None:
        resources = stack_resources(args, _scope(args, scope, rule.name))
        for message in rule.check(resources):
            report_violation(message, None)

    return validate


# --- levels and the pack -----------------------------------------------------------------------


def resolve_levels(levels: Mapping[str, Any] | None = None) -> dict[str, Level]:
    """Every rule's level: ``levels[rule]``, else ``levels["all"]``, else the rule's default.

    Values are ``"advisory"``, ``"mandatory"``, ``"disabled"`` or pulumi-policy
    ``EnforcementLevel`` members. Raises ``ValueError`` naming an unknown rule or level.
    """
    given = dict(levels or {})
    unknown = sorted(set(given) - set(RULE_NAMES) - {"all"})
    if unknown:
        raise ValueError(f"levels: unknown rule(s) {unknown}; the rules are {list(RULE_NAMES)}")
    normalised: dict[str, Level] = {}
    for key, value in given.items():
        text = str(getattr(value, "value", value))
        if text not in LEVELS:
            raise ValueError(f"levels[{key!r}]: {text!r} is not one of {list(LEVELS)}")
        normalised[key] = text
    defaults = {r.name: r.default_level for r in RULES} | {
        r.name: r.default_level for r in STACK_RULES
    }
    return {
        name: normalised.get(name, normalised.get("all", defaults[name])) for name in RULE_NAMES
    }


def config_schema(scope: Scope) -> Any:
    """The ``scope`` property every policy takes, with ``scope`` as its default."""
    from pulumi_policy import PolicyConfigSchema

    return PolicyConfigSchema(
        properties={
            "scope": {
                "type": "string",
                "enum": list(SCOPES),
                "default": scope,
                "description": "stack: every resource of the stack; components: only resources "
                "created inside the stream-replica components.",
            }
        }
    )


def build_policies(levels: Mapping[str, Any] | None = None, scope: Scope = "stack") -> list[Any]:
    """The pack's policies (resource rules, then stack rules), each at its resolved level and
    with the ``scope`` config property defaulting to ``scope``.

    ``levels``: rule name (or ``"all"``) -> ``"advisory"`` / ``"mandatory"`` / ``"disabled"``
    (default: each rule's ``default_level``). ``scope``: ``"stack"`` (default) or
    ``"components"``. Raises ``ValueError`` naming an unknown rule, level or scope.
    """
    from pulumi_policy import EnforcementLevel, ResourceValidationPolicy, StackValidationPolicy

    if scope not in SCOPES:
        raise ValueError(f"scope: {scope!r} is not one of {list(SCOPES)}")
    resolved = resolve_levels(levels)
    policies: list[Any] = [
        ResourceValidationPolicy(
            name=rule.name,
            description=rule.description,
            validate=resource_validator(rule, scope),
            enforcement_level=EnforcementLevel(resolved[rule.name]),
            config_schema=config_schema(scope),
        )
        for rule in RULES
    ]
    policies.extend(
        StackValidationPolicy(
            name=rule.name,
            description=rule.description,
            validate=stack_validator(rule, scope),
            enforcement_level=EnforcementLevel(resolved[rule.name]),
            config_schema=config_schema(scope),
        )
        for rule in STACK_RULES
    )
    return policies


def serve(levels: Mapping[str, Any] | None = None, scope: Scope = "stack") -> None:
    """Run the pack (what a pack's ``__main__.py`` calls; blocks, serving the Pulumi CLI).

    ``levels`` and ``scope`` as in :func:`build_policies` (``ValueError`` on a bad one, before
    the pack serves); the pack's config file overrides both per rule.
    """
    from pulumi_policy import PolicyPack

    PolicyPack(
        name=PACK_NAME,
        policies=build_policies(levels, scope),
        description="Guardrails for cross-account stream replication and the AWS resources "
        "around it (IAM scope, trust pinning, managed-policy attachments, Kinesis sharing, "
        "encryption, public access, log retention, stream mapping failure handling).",
    )
