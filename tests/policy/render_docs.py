"""Regenerate the generated sections of the docs/ pages from their single sources.

    venv/bin/python -m tests.policy.render_docs          # rewrite every page
    venv/bin/python -m tests.policy.render_docs --check  # exit 1 if one is out of date

Sections: the configuration reference (``Pulumi.yaml``'s schema) in docs/configuration.md, the
permission table (``expected_permissions.py``) in docs/permissions.md, the pack's rules
(``policy_pack/stream_replica_policy/rules.py``) in docs/policy-pack.md; in docs/policy.md the
table's legend (placeholders resolved on the example stacks) and the parliament suppressions
(``lint.py``); in docs/components.md every component's argument fields
(``stream_replica.components.field_tables``).
``test_docs.py`` fails when a committed page differs.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
DOC = REPO_ROOT / "docs" / "policy.md"
README = REPO_ROOT / "README.md"
CONFIGURATION = REPO_ROOT / "docs" / "configuration.md"
PERMISSIONS = REPO_ROOT / "docs" / "permissions.md"
POLICY_PACK = REPO_ROOT / "docs" / "policy-pack.md"
COMPONENTS = REPO_ROOT / "docs" / "components.md"
#: Which generated sections each page holds (the README, the front door, holds none).
PAGES: Mapping[Path, tuple[str, ...]] = {
    CONFIGURATION: ("config",),
    PERMISSIONS: ("permissions",),
    POLICY_PACK: ("rules",),
    DOC: ("legend", "suppressions"),
    COMPONENTS: ("fields",),
}


def _python_name(type_token: str) -> str:
    """``aws:kinesis/stream:Stream`` -> ``aws.kinesis.Stream`` (how programs spell it)."""
    package, module, name = type_token.split(":")
    return f"{package}.{module.split('/')[0]}.{name}"


def rules_table() -> str:
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


def legend_table(examples: Mapping[str, str]) -> str:
    """The placeholders the permission table uses, with their values in the example stacks."""
    from .expected_permissions import markdown_table

    used = markdown_table()
    lines = ["| Placeholder | In the example stacks |", "|---|---|"]
    lines += [
        f"| `{name}` | `{value}` |" for name, value in sorted(examples.items()) if name in used
    ]
    return "\n".join(lines)


def sections(examples: Mapping[str, str]) -> dict[str, Callable[[], str]]:
    from stream_replica.components.field_tables import markdown as field_tables

    from stack_config.schema import markdown_table as config_table

    from .expected_permissions import markdown_table
    from .lint import suppression_table

    return {
        "config": config_table,
        "permissions": markdown_table,
        "legend": lambda: legend_table(examples),
        "rules": rules_table,
        "suppressions": suppression_table,
        "fields": field_tables,
    }


def render(text: str, examples: Mapping[str, str], page: Path = DOC) -> str:
    """``text`` (the content of ``page``) with its generated sections brought up to date."""
    makers = sections(examples)
    for name in PAGES[page]:
        make = makers[name]
        pattern = re.compile(
            rf"(<!-- BEGIN generated:{name} -->\n).*?(<!-- END generated:{name} -->)", re.DOTALL
        )
        if not pattern.search(text):
            raise ValueError(f"{page}: markers for the generated section {name!r} are missing")
        body = make()

        def replace(match: re.Match[str], body: str = body) -> str:
            return f"{match.group(1)}{body}\n{match.group(2)}"

        text = pattern.sub(replace, text)
    return text


def main(argv: list[str]) -> int:
    if str(REPO_ROOT) not in sys.path:
        sys.path.insert(0, str(REPO_ROOT))
    from .stacks import example_placeholders

    examples = example_placeholders()
    stale = []
    for page in PAGES:
        current = page.read_text(encoding="utf-8")
        wanted = render(current, examples, page)
        if current == wanted:
            continue
        stale.append(page)
        if "--check" not in argv:
            page.write_text(wanted, encoding="utf-8")
    if stale and "--check" in argv:
        for page in stale:
            print(f"{page} is out of date: run venv/bin/python -m tests.policy.render_docs")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
