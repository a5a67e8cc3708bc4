"""The pack on a Pulumi Python program without the Pulumi CLI, a backend or AWS credentials.

The program runs under mocks (``stream_replica.testing.render``: every resource it registers
is recorded with its type, name, URN and inputs, as the engine would hand them to the pack),
then every policy of the pack validates what was recorded, at the levels the pack resolves
(a ``disabled`` rule is skipped). What the CLI's ``--policy-pack`` would report, offline::

    python -m stream_replica_policy.offline path/to/__main__.py \\
        [--config aws:region=eu-west-1 ...] [--level log-group-retention=disabled ...] \\
        [--scope components] [--project NAME] [--stack NAME]

(from a checkout of this repository: ``python -m policy_pack.stream_replica_policy.offline``).
It prints one line per violation, ``<level> <rule>: <message>``, and exits 1 when a mandatory
rule is broken, 0 otherwise. Rendering needs ``stream_replica.testing``
(``pip install 'crossaccount-stream-replica[testing] @ git+…'``); the program's own imports
must be installed too. Outputs of mocked resources are the mocks' stand-ins, so a rule that
reads a value only AWS computes sees the stand-in.
"""

from __future__ import annotations

import argparse
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .pack import SCOPES, Scope, build_policies

__all__ = ["Violation", "check_program", "check_resources", "main"]


@dataclass(frozen=True)
class Violation:
    """One report of one policy."""

    rule: str
    #: ``advisory`` or ``mandatory``.
    level: str
    message: str

    def __str__(self) -> str:
        return f"{self.level} {self.rule}: {self.message}"


def _options() -> Any:
    from pulumi_policy import PolicyCustomTimeouts, PolicyResourceOptions

    return PolicyResourceOptions(False, [], None, [], PolicyCustomTimeouts(0, 0, 0), [])


def check_resources(
    resources: Iterable[Any],
    levels: Mapping[str, Any] | None = None,
    scope: Scope = "stack",
) -> list[Violation]:
    """Every violation the pack reports on recorded ``resources`` (``RecordedResource``s of
    ``stream_replica.testing``: ``type``, ``name``, ``urn``, ``inputs``, ``state``,
    ``custom``), rule by rule in the pack's order. ``levels`` and ``scope`` as in
    :func:`~.pack.build_policies`."""
    from pulumi_policy import (
        EnforcementLevel,
        PolicyResource,
        ResourceValidationArgs,
        ResourceValidationPolicy,
        StackValidationArgs,
    )
    from pulumi_policy.proxy import unknown_checking_proxy

    records = [r for r in resources if r.custom]
    found: list[Violation] = []
    for policy in build_policies(levels, scope):
        level = str(policy.enforcement_level.value)
        if policy.enforcement_level == EnforcementLevel.DISABLED:
            continue

        def report(
            message: str, urn: str | None = None, rule: str = policy.name, level: str = level
        ) -> None:
            found.append(Violation(rule, level, message))

        if isinstance(policy, ResourceValidationPolicy):
            for r in records:
                # The engine wraps props in read-only proxies (Mapping/Sequence, not dict/list).
                props = unknown_checking_proxy(r.inputs)
                args = ResourceValidationArgs(r.type, props, r.urn, r.name, _options(), None)
                policy.validate(args, report)
        else:
            stack = StackValidationArgs(
                [
                    PolicyResource(
                        r.type,
                        {**r.inputs, **r.state},
                        r.urn,
                        r.name,
                        _options(),
                        None,
                        None,
                        [],
                        {},
                    )
                    for r in records
                ]
            )
            policy.validate(stack, report)
    return found


def check_program(
    main: str | Path,
    *,
    config: Mapping[str, Any] | None = None,
    levels: Mapping[str, Any] | None = None,
    scope: Scope = "stack",
    project: str | None = None,
    stack: str = "dev",
) -> list[Violation]:
    """Render the program ``main`` (a ``__main__.py``) under mocks with ``config`` (keys
    ``namespace:key``) and run the pack over it: :func:`check_resources`. ``project``: the
    config namespace of the program's own keys; default the ``name`` of the ``Pulumi.yaml``
    beside ``main`` (as the Pulumi CLI reads it), else ``offline-check``."""
    try:
        from stream_replica.testing import main_program, render
    except ImportError as error:  # pragma: no cover - an installation problem, said as such
        raise SystemExit(
            "the offline check renders the program with stream_replica.testing: pip install "
            "'crossaccount-stream-replica[testing]' next to stream-replica-policy"
        ) from error
    if project is None:
        project = project_name(Path(main).parent)
    rendered = render(main_program(main), config=config, project=project, stack=stack)
    return check_resources(rendered.resources, levels, scope)


def project_name(folder: Path) -> str:
    """The ``name:`` of ``folder``'s ``Pulumi.yaml`` (or ``Pulumi.yml``), else
    ``offline-check`` (a program without a project file)."""
    for file in (folder / "Pulumi.yaml", folder / "Pulumi.yml"):
        if file.is_file():
            found = re.search(r"^name:\s*['\"]?([^'\"\s#]+)", file.read_text("utf-8"), re.M)
            if found:
                return found.group(1)
    return "offline-check"


def _pairs(items: list[str], flag: str) -> dict[str, Any]:
    pairs: dict[str, Any] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"{flag} {item!r}: expected KEY=VALUE")
        try:
            pairs[key] = json.loads(value)
        except json.JSONDecodeError:
            pairs[key] = value
    return pairs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m stream_replica_policy.offline",
        description="Run the stream-replica-guardrails pack on a Pulumi Python program under "
        "mocks: no Pulumi CLI, backend or AWS credentials.",
    )
    parser.add_argument("program", help="the program's __main__.py")
    parser.add_argument(
        "--config", action="append", default=[], metavar="NS:KEY=VALUE", help="stack config"
    )
    parser.add_argument(
        "--level",
        action="append",
        default=[],
        metavar="RULE=LEVEL",
        help="a rule's level (advisory, mandatory, disabled; RULE 'all' for every rule)",
    )
    parser.add_argument("--scope", choices=SCOPES, default="stack")
    parser.add_argument(
        "--project",
        default=None,
        help="the program's config namespace (default: the name in its Pulumi.yaml)",
    )
    parser.add_argument("--stack", default="dev")
    args = parser.parse_args(argv)
    violations = check_program(
        args.program,
        config=_pairs(args.config, "--config"),
        levels=_pairs(args.level, "--level"),
        scope=args.scope,
        project=args.project,
        stack=args.stack,
    )
    for violation in violations:
        print(violation)
    mandatory = sum(v.level == "mandatory" for v in violations)
    print(f"{len(violations)} violation(s), {mandatory} mandatory")
    return 1 if mandatory else 0


if __name__ == "__main__":
    raise SystemExit(main())
