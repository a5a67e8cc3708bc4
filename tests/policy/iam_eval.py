"""A small IAM policy evaluator for the subset of the policy language this project renders.

No maintained evaluator installs and works offline here: principalmapper's local simulator (last
release 2022) does not import on Python 3.10+ (``collections.Mapping``, nccgroup/PMapper#131),
moto's ``access_control`` ignores conditions, and the rest call AWS. So this module implements
the documented evaluation logic for what our documents use, and ``test_iam_eval.py`` checks it
against decisions the AWS documentation states.

Supported:
- ``Effect`` Allow/Deny; an explicit Deny in any applicable policy wins; no Allow = implicit deny.
- ``Action``/``NotAction`` and ``Resource``/``NotResource`` with ``*`` and ``?`` wildcards
  (actions compare case-insensitively, resources case-sensitively).
- ``Principal``/``NotPrincipal``: ``"*"``, ``{"AWS": ...}`` as account id, account root ARN,
  role ARN (which also covers that role's ``sts::assumed-role`` sessions) and
  ``{"Service": ...}``.
- Condition operators ``StringEquals``, ``StringNotEquals``, ``StringEqualsIgnoreCase``,
  ``StringLike``, ``StringNotLike``, ``ArnEquals``, ``ArnLike``, ``ArnNotEquals``, ``ArnNotLike``,
  ``Bool``, ``Null``, each with the ``...IfExists`` suffix; keys are case-insensitive. A key missing
  from the request fails a positive operator and satisfies a negated one (AWS's documented rule).
- Cross-account: a principal's request to a resource in another account needs an Allow in the
  principal's identity policies AND in the resource's policy (or the role's trust policy). In the
  same account either suffices when the resource policy names the principal itself; a resource
  policy that names only the account delegates to the account's identity policies. Assuming a
  role always needs its trust policy to allow the caller.

Not modelled (not used here): SCPs, permission boundaries, session policies, KMS grants,
policy variables, ``ForAnyValue``/``ForAllValues``, numeric/date operators.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

Policy = Mapping[str, Any]
ContextValue = str | bool | Sequence[str]

_ARN_RE = re.compile(
    r"^arn:(?P<partition>[^:]*):(?P<service>[^:]*):(?P<region>[^:]*):(?P<account>\d*):"
)
_ASSUMED_ROLE_RE = re.compile(
    r"^arn:(?P<partition>[^:]+):sts::(?P<account>\d{12}):assumed-role/(?P<role>[^/]+)/[^/]+$"
)


class UnsupportedPolicyElement(ValueError):
    """A document uses policy grammar this evaluator does not implement (never guess)."""


@dataclass(frozen=True)
class Request:
    """One API call as IAM sees it.

    ``principal`` is a role/user ARN (or an ``sts::assumed-role`` session ARN) or a service
    principal such as ``firehose.amazonaws.com``. ``context`` holds request condition keys; the
    evaluator adds ``aws:PrincipalArn``, ``aws:PrincipalAccount`` and ``aws:SecureTransport``
    (default true) unless given.
    """

    principal: str
    action: str
    resource: str
    context: Mapping[str, ContextValue] = field(default_factory=dict)

    @property
    def is_service(self) -> bool:
        return not self.principal.startswith("arn:")

    @property
    def principal_account(self) -> str | None:
        return None if self.is_service else account_of(self.principal)

    @property
    def principal_arn(self) -> str:
        """The ARN IAM puts in ``aws:PrincipalArn``: for a role session, the role's ARN."""
        match = _ASSUMED_ROLE_RE.match(self.principal)
        if match:
            return f"arn:{match['partition']}:iam::{match['account']}:role/{match['role']}"
        return self.principal

    def full_context(self) -> dict[str, ContextValue]:
        ctx: dict[str, ContextValue] = {"aws:securetransport": True}
        if not self.is_service:
            ctx["aws:principalarn"] = self.principal_arn
            account = self.principal_account
            if account:
                ctx["aws:principalaccount"] = account
        for key, value in self.context.items():
            ctx[key.lower()] = value
        return ctx


@dataclass(frozen=True)
class Decision:
    """The outcome and the statements that produced it (for readable test failures)."""

    allowed: bool
    reason: str

    def __bool__(self) -> bool:
        return self.allowed


def account_of(arn: str) -> str | None:
    match = _ARN_RE.match(arn)
    return match["account"] if match and match["account"] else None


def _as_list(value: Any) -> list[Any]:
    if value is None:
        return []
    return list(value) if isinstance(value, list | tuple) else [value]


def _glob(pattern: str, value: str, *, case_sensitive: bool) -> bool:
    """IAM wildcard match: ``*`` any run of characters (``/`` and ``:`` included), ``?`` one."""
    if not case_sensitive:
        pattern, value = pattern.lower(), value.lower()
    regex = "".join(".*" if ch == "*" else "." if ch == "?" else re.escape(ch) for ch in pattern)
    return re.fullmatch(regex, value, flags=re.DOTALL) is not None


def action_matches(pattern: str, action: str) -> bool:
    return _glob(pattern, action, case_sensitive=False)


def resource_matches(pattern: str, resource: str) -> bool:
    return _glob(pattern, resource, case_sensitive=True)


def _principal_matches(principal_element: Any, request: Request) -> bool:
    if principal_element == "*":
        return True
    if not isinstance(principal_element, Mapping):
        raise UnsupportedPolicyElement(f"Principal must be '*' or a map, got {principal_element!r}")
    for kind, values in principal_element.items():
        for value in _as_list(values):
            if kind == "Service":
                if request.is_service and value == request.principal:
                    return True
            elif kind == "AWS":
                if request.is_service:
                    continue
                if value == "*":
                    return True
                if re.fullmatch(r"\d{12}", value) or re.fullmatch(
                    r"arn:[^:]+:iam::\d{12}:root", value
                ):
                    if account_of(value) == request.principal_account or value == (
                        request.principal_account
                    ):
                        return True
                elif value in (request.principal, request.principal_arn):
                    return True
            else:
                raise UnsupportedPolicyElement(f"Principal type {kind!r} is not modelled")
    return False


def _principal_names_account_only(principal_element: Any, request: Request) -> bool:
    """True when the statement matched the caller only through its account (delegation).

    ``"*"`` and ``{"AWS": "*"}`` name everyone, the caller included, so they are not
    delegation: in the caller's own account such a statement allows on its own.
    """
    if principal_element == "*":
        return False
    if not isinstance(principal_element, Mapping):
        return True
    for value in _as_list(principal_element.get("AWS")):
        if value in ("*", request.principal, request.principal_arn):
            return False
    return True


_STRING_OPS = {
    "StringEquals": (lambda p, v: p == v, False),
    "StringNotEquals": (lambda p, v: p == v, True),
    "StringEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), False),
    "StringNotEqualsIgnoreCase": (lambda p, v: p.lower() == v.lower(), True),
    "StringLike": (lambda p, v: _glob(p, v, case_sensitive=True), False),
    "StringNotLike": (lambda p, v: _glob(p, v, case_sensitive=True), True),
    # ArnEquals and ArnLike behave the same in IAM: both accept wildcards.
    "ArnEquals": (lambda p, v: _glob(p, v, case_sensitive=True), False),
    "ArnLike": (lambda p, v: _glob(p, v, case_sensitive=True), False),
    "ArnNotEquals": (lambda p, v: _glob(p, v, case_sensitive=True), True),
    "ArnNotLike": (lambda p, v: _glob(p, v, case_sensitive=True), True),
}


def _to_str(value: ContextValue) -> list[str]:
    if isinstance(value, bool):
        return ["true" if value else "false"]
    if isinstance(value, str):
        return [value]
    return [str(v) for v in value]


def _condition_holds(operator: str, key: str, policy_values: Any, ctx: Mapping[str, Any]) -> bool:
    if_exists = operator.endswith("IfExists")
    base = operator.removesuffix("IfExists")
    present = key.lower() in ctx
    values = [str(v).lower() if isinstance(v, bool) else str(v) for v in _as_list(policy_values)]
    if base not in _STRING_OPS and base not in ("Bool", "Null"):
        raise UnsupportedPolicyElement(f"condition operator {operator!r} is not modelled")
    if base == "Null":
        wanted_missing = values[0].lower() == "true"
        return wanted_missing != present
    if not present:
        if if_exists:
            return True
        negated = base in _STRING_OPS and _STRING_OPS[base][1]
        return negated
    request_values = _to_str(ctx[key.lower()])
    if base == "Bool":
        return any(rv.lower() == pv.lower() for rv in request_values for pv in values)
    compare, negated = _STRING_OPS[base]
    hit = any(compare(pv, rv) for rv in request_values for pv in values)
    return not hit if negated else hit


def _conditions_hold(condition: Mapping[str, Any] | None, ctx: Mapping[str, Any]) -> bool:
    for operator, keys in (condition or {}).items():
        for key, values in keys.items():
            if not _condition_holds(operator, key, values, ctx):
                return False
    return True


def statement_applies(stmt: Mapping[str, Any], request: Request, *, resource_policy: bool) -> bool:
    """Whether ``stmt`` matches the request (Effect not considered)."""
    known = {
        "Sid",
        "Effect",
        "Action",
        "NotAction",
        "Resource",
        "NotResource",
        "Principal",
        "NotPrincipal",
        "Condition",
    }
    unknown = set(stmt) - known
    if unknown:
        raise UnsupportedPolicyElement(f"statement {stmt.get('Sid')!r} has {sorted(unknown)}")
    if "Action" in stmt:
        if not any(action_matches(p, request.action) for p in _as_list(stmt["Action"])):
            return False
    elif "NotAction" in stmt:
        if any(action_matches(p, request.action) for p in _as_list(stmt["NotAction"])):
            return False
    else:
        raise UnsupportedPolicyElement(f"statement {stmt.get('Sid')!r} has no Action/NotAction")
    if "Resource" in stmt:
        if not any(resource_matches(p, request.resource) for p in _as_list(stmt["Resource"])):
            return False
    elif "NotResource" in stmt:
        if any(resource_matches(p, request.resource) for p in _as_list(stmt["NotResource"])):
            return False
    elif not resource_policy:
        raise UnsupportedPolicyElement(f"identity statement {stmt.get('Sid')!r} has no Resource")
    if resource_policy:
        if "Principal" in stmt:
            if not _principal_matches(stmt["Principal"], request):
                return False
        elif "NotPrincipal" in stmt:
            if _principal_matches(stmt["NotPrincipal"], request):
                return False
        else:
            raise UnsupportedPolicyElement(
                f"resource statement {stmt.get('Sid')!r} lacks Principal"
            )
    elif "Principal" in stmt or "NotPrincipal" in stmt:
        raise UnsupportedPolicyElement("identity policies cannot carry Principal")
    return _conditions_hold(stmt.get("Condition"), request.full_context())


def _statements(policy: Policy) -> list[Mapping[str, Any]]:
    return _as_list(policy.get("Statement"))


def evaluate(
    request: Request,
    *,
    identity_policies: Iterable[Policy] = (),
    resource_policy: Policy | None = None,
    resource_account: str | None = None,
) -> Decision:
    """Decide ``request`` as AWS would from the given documents.

    ``identity_policies`` are the caller's (empty for a service principal); ``resource_policy`` is
    the target's resource-based policy or, for ``sts:AssumeRole``, the role's trust policy.
    ``resource_account`` defaults to the account in ``request.resource``.
    """
    identity = list(identity_policies)
    target_account = resource_account or account_of(request.resource)
    identity_allow: list[str] = []
    resource_allow: list[str] = []
    resource_allow_names_principal = False

    for index, policy in enumerate(identity):
        for stmt in _statements(policy):
            if statement_applies(stmt, request, resource_policy=False):
                label = f"identity[{index}]:{stmt.get('Sid', '?')}"
                if stmt["Effect"] == "Deny":
                    return Decision(False, f"explicit deny by {label}")
                identity_allow.append(label)
    if resource_policy is not None:
        for stmt in _statements(resource_policy):
            if statement_applies(stmt, request, resource_policy=True):
                label = f"resource:{stmt.get('Sid', '?')}"
                if stmt["Effect"] == "Deny":
                    return Decision(False, f"explicit deny by {label}")
                resource_allow.append(label)
                if "Principal" in stmt and not _principal_names_account_only(
                    stmt["Principal"], request
                ):
                    resource_allow_names_principal = True

    if request.is_service:
        if resource_allow:
            return Decision(True, f"service principal allowed by {resource_allow}")
        return Decision(False, "implicit deny: no resource policy allows the service")
    same_account = target_account is not None and target_account == request.principal_account
    if request.action.lower().startswith("sts:assumerole") and not resource_allow:
        # A role's trust policy must allow the caller, in the same account too.
        return Decision(False, "implicit deny: the role's trust policy does not allow the caller")
    if same_account:
        if identity_allow:
            return Decision(True, f"allowed by {identity_allow}")
        if resource_allow_names_principal:
            return Decision(True, f"allowed by {resource_allow} naming the principal")
        return Decision(False, "implicit deny: no identity allow (resource policy names no one)")
    if identity_allow and resource_allow:
        return Decision(True, f"cross-account allowed by {identity_allow} and {resource_allow}")
    missing = "identity policy" if not identity_allow else "resource/trust policy"
    return Decision(False, f"implicit deny: cross-account request lacks an allow in the {missing}")
