"""Every generated file of the repository, written in one step: ``make docs``.

    venv/bin/python -m docs.generate          # rewrite the stale files
    venv/bin/python -m docs.generate --check  # name the stale files and exit 1; write nothing

Each is generated from one source; edit the source, then run ``make docs`` (a test fails while a
committed file differs from what this module generates):

* docs/configuration.md, region ``config``: ``Pulumi.yaml``'s ``config:`` schema
  (``stack_config.schema``);
* docs/permissions.md, ``permissions``: ``tests/policy/expected_permissions.py`` (what each role
  may do);
* docs/policy-pack.md, ``rules``: ``policy_pack/stream_replica_policy/rules.py``;
* docs/components.md, ``fields``: every component's args and settings fields
  (``components/field_tables.py``);
* docs/policy.md, ``legend``: the permission table's ``<placeholders>`` on the example stacks;
* docs/policy.md, ``suppressions``: ``tests/policy/lint.py`` (the parliament findings accepted);
* docs/handlers.md, ``env-vars``: ``handlers/environment.py`` (``VARIABLES``);
* provider/schema.json, the whole file: the components' type annotations (``provider/``).

A region of a Markdown page is the text between ``<!-- BEGIN generated:<region> … -->`` and
``<!-- END generated:<region> -->``; the generator rewrites only that (and the BEGIN marker,
which names the source), never the prose around it.
"""

from __future__ import annotations

import functools
import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
CONFIGURATION_DOC = REPO_ROOT / "docs" / "configuration.md"
PERMISSIONS_DOC = REPO_ROOT / "docs" / "permissions.md"
POLICY_PACK_DOC = REPO_ROOT / "docs" / "policy-pack.md"
COMPONENTS_DOC = REPO_ROOT / "docs" / "components.md"
POLICY_DOC = REPO_ROOT / "docs" / "policy.md"
HANDLERS_DOC = REPO_ROOT / "docs" / "handlers.md"
SCHEMA = REPO_ROOT / "provider" / "schema.json"
#: The command that regenerates every file, as the stale-file message names it.
COMMAND = "make docs"


@dataclass(frozen=True)
class Region:
    """One generated region of a Markdown page."""

    page: Path
    name: str
    """The marker's name (``<!-- BEGIN generated:<name> … -->``)."""
    source: str
    """What to edit instead, as the BEGIN marker names it."""
    render: Callable[[], str]
    """The region's Markdown, without a final newline."""

    def begin(self) -> str:
        return f"<!-- BEGIN generated:{self.name} from {self.source} ({COMMAND}) -->"

    def end(self) -> str:
        return f"<!-- END generated:{self.name} -->"


def _on_path() -> None:
    """The repository root on ``sys.path`` (``stack_config`` and ``tests.policy`` are imported
    from the checkout, as the Pulumi CLI and the tests import them)."""
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))


# --- the tables -----------------------------------------------------------------------------------


def config_table() -> str:
    """The configuration reference (docs/configuration.md): ``Pulumi.yaml``'s config schema."""
    _on_path()
    from stack_config.schema import markdown_table

    return markdown_table()


def _principal_text(principal: Mapping[str, Any] | str | None) -> str:
    if principal is None:
        return ""
    if isinstance(principal, str):
        return f"`{principal}`"
    return ", ".join(f"{kind}: `{value}`" for kind, value in principal.items())


def _condition_text(condition: Mapping[str, Mapping[str, Any]]) -> str:
    parts = [
        f"`{op}` `{key}` = `{value}`"
        for op, keys in condition.items()
        for key, value in keys.items()
    ]
    return "; ".join(parts) or "—"


def _modes_text(modes: frozenset[str], every: frozenset[str]) -> str:
    return "all" if modes == every else ", ".join(sorted(modes))


def permissions_table() -> str:
    """The permission table (``tests/policy/expected_permissions.py``), one row per grant in its
    order."""
    _on_path()
    from tests.policy import expected_permissions as table

    lines = [
        "| Stack | Who | Policy | Effect | Actions | Resources / principal | Condition "
        "| Access mode | Placement | Consumer mode |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for g in table.EXPECTED:
        actions = "<br>".join(f"`{a}`" for a in g.actions)
        target = "<br>".join(f"`{r}`" for r in g.resources) or _principal_text(g.principal)
        if g.resources and g.principal is not None:
            target += f"<br>to {_principal_text(g.principal)}"
        condition = _condition_text(g.condition)
        if (g.owner, g.kind) == ("writer role", "trust"):
            condition += (
                f"; with `externalId` set also {_condition_text(table.EXTERNAL_ID_CONDITION)}"
            )
        lines.append(
            f"| {g.stack} | {g.owner} | {g.kind} | {g.effect} | {actions} | {target} "
            f"| {condition} | {_modes_text(g.modes, table.BOTH_MODES)} "
            f"| {_modes_text(g.placements, table.BOTH_PLACEMENTS)} "
            f"| {_modes_text(g.consumer_modes, table.BOTH_CONSUMER_MODES)} |"
        )
    return "\n".join(lines)


def _python_name(type_token: str) -> str:
    """``aws:kinesis/stream:Stream`` -> ``aws.kinesis.Stream`` (how programs spell it)."""
    package, module, name = type_token.split(":")
    return f"{package}.{module.split('/')[0]}.{name}"


def rules_table() -> str:
    """The policy pack's rules and the actions it accepts on ``Resource: "*"``."""
    _on_path()
    from policy_pack.stream_replica_policy import rules as replica_rules

    lines = ["| Rule | Default | Applies to | Checks |", "|---|---|---|---|"]
    for rule in replica_rules.RULES:
        types = ", ".join(f"`{_python_name(t)}`" for t in rule.resource_types)
        if rule.resource_types == tuple(replica_rules.IAM_DOCUMENT_PROPERTIES):
            types = (
                "every IAM document (role trust; role, user, group and managed policies; bucket, "
                "table, Kinesis, queue and topic policies)"
            )
        lines.append(f"| `{rule.name}` | {rule.default_level} | {types} | {rule.description} |")
    for stack_rule in replica_rules.STACK_RULES:
        lines.append(
            f"| `{stack_rule.name}` | {stack_rule.default_level} | the whole stack | "
            f"{stack_rule.description} |"
        )
    lines += ["", '`Resource: "*"` is accepted only for these actions:', ""]
    lines += ["| Action | Why | AWS source |", "|---|---|---|"]
    lines += [
        f"| `{action}` | {grant.reason} | [{grant.source.split('/')[-1]}]({grant.source}) |"
        for action, grant in replica_rules.STAR_RESOURCE_EXCEPTIONS.items()
    ]
    return "\n".join(lines)


@functools.cache
def _example_placeholders() -> Mapping[str, str]:
    _on_path()
    from tests.policy.stacks import example_placeholders

    return example_placeholders()


def legend_table(examples: Mapping[str, str] | None = None) -> str:
    """The ``<placeholders>`` the permission table uses, with their values in the example stacks
    (``examples``; default: the example stack files rendered under the test mocks)."""
    values = _example_placeholders() if examples is None else examples
    used = permissions_table()
    lines = ["| Placeholder | In the example stacks |", "|---|---|"]
    lines += [f"| `{name}` | `{value}` |" for name, value in sorted(values.items()) if name in used]
    return "\n".join(lines)


def suppressions_table() -> str:
    """The parliament findings the policy tests accept, with where and why."""
    _on_path()
    from tests.policy.lint import suppression_table

    return suppression_table()


def environment_table() -> str:
    """The handlers' environment variables (``handlers/environment.py``): which function reads
    each, what it holds and what the handler does when it is unset."""
    from stream_replica.handlers.environment import ALL_HANDLERS, VARIABLES

    lines = ["| variable | function | meaning | default |", "|---|---|---|---|"]
    for name, handlers, default, meaning in VARIABLES:
        readers = "all" if set(handlers) == set(ALL_HANDLERS) else ", ".join(handlers)
        lines.append(f"| `{name}` | {readers.replace('_', ' ')} | {meaning} | {default} |")
    return "\n".join(lines)


def fields_table() -> str:
    """Every component's args and settings classes: field, type, default, docstring."""
    from stream_replica.components.field_tables import markdown

    return markdown()


def schema_json() -> str:
    """``provider/schema.json``: the component provider's schema, inferred from the components."""
    _on_path()
    from provider.stream_replica_provider import render_schema

    return render_schema()


# --- the files ------------------------------------------------------------------------------------

REGIONS: tuple[Region, ...] = (
    Region(CONFIGURATION_DOC, "config", "Pulumi.yaml", config_table),
    Region(
        PERMISSIONS_DOC, "permissions", "tests/policy/expected_permissions.py", permissions_table
    ),
    Region(POLICY_PACK_DOC, "rules", "policy_pack/stream_replica_policy/rules.py", rules_table),
    Region(COMPONENTS_DOC, "fields", "components/field_tables.py", fields_table),
    Region(POLICY_DOC, "legend", "the example stacks", legend_table),
    Region(POLICY_DOC, "suppressions", "tests/policy/lint.py", suppressions_table),
    Region(HANDLERS_DOC, "env-vars", "handlers/environment.py", environment_table),
)
#: Files generated whole.
WHOLE_FILES: Mapping[Path, Callable[[], str]] = {SCHEMA: schema_json}


def render_regions(text: str, regions: Iterable[Region], page: str = "page") -> str:
    """``text`` with each region's markers and content brought up to date; text outside the
    regions is kept as it is. Raises ``ValueError`` naming ``page`` and the region when a
    region's markers are missing (or appear more than once)."""
    for region in regions:
        pattern = re.compile(
            rf"<!-- BEGIN generated:{re.escape(region.name)}(?: [^\n]*?)? -->\n"
            rf".*?<!-- END generated:{re.escape(region.name)} -->",
            re.DOTALL,
        )
        matches = list(pattern.finditer(text))
        if len(matches) != 1:
            raise ValueError(
                f"{page}: the generated region {region.name!r} needs one pair of markers "
                f"({region.begin()} ... {region.end()}), found {len(matches)}"
            )
        (match,) = matches
        body = f"{region.begin()}\n{region.render()}\n{region.end()}"
        text = text[: match.start()] + body + text[match.end() :]
    return text


def generated_files() -> dict[Path, str]:
    """Every generated file -> the content it should have now."""
    wanted: dict[Path, str] = {}
    for page in dict.fromkeys(region.page for region in REGIONS):
        current = page.read_text(encoding="utf-8")
        regions = [region for region in REGIONS if region.page == page]
        wanted[page] = render_regions(current, regions, str(page.relative_to(REPO_ROOT)))
    for path, render in WHOLE_FILES.items():
        wanted[path] = render()
    return wanted


def stale_files(wanted: Mapping[Path, str] | None = None) -> list[Path]:
    """The generated files whose committed content differs from ``wanted`` (default: what
    :func:`generated_files` makes now)."""
    wanted = generated_files() if wanted is None else wanted
    return [
        path
        for path, content in wanted.items()
        if not path.is_file() or path.read_text(encoding="utf-8") != content
    ]


def main(argv: list[str]) -> int:
    """Rewrite the stale generated files (``--check``: only name them); 1 if any was stale with
    ``--check``, else 0."""
    wanted = generated_files()
    stale = stale_files(wanted)
    for path in stale:
        name = path.relative_to(REPO_ROOT)
        if "--check" in argv:
            print(f"{name} is stale: run `{COMMAND}`")
        else:
            path.write_text(wanted[path], encoding="utf-8")
            print(f"wrote {name}")
    return 1 if stale and "--check" in argv else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
