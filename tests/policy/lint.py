"""parliament over our IAM documents, with every accepted finding suppressed here, with its reason.

parliament lints each document as an identity policy and knows each action's resource types, so it
catches misspelt actions, ARNs of the wrong shape for an action, ``*`` resources where the action
supports resource-level permissions, and (community auditors on) sensitive grants. A finding we
accept is listed in ``SUPPRESSIONS`` — nowhere else — and docs/policy.md shows the same list.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import parliament

from .documents import DocKind, IamDocument


@dataclass(frozen=True)
class Suppression:
    """A parliament finding we accept: its issue id, in which kind of document, and why.

    ``detail`` must occur in the finding's detail (rendered as text) for the suppression to apply,
    so a suppression never hides a different finding of the same issue type.
    """

    issue: str
    kinds: frozenset[DocKind]
    detail: str
    reason: str


SUPPRESSIONS: tuple[Suppression, ...] = (
    Suppression(
        issue="MALFORMED",
        kinds=frozenset({"trust"}),
        detail="Statement contains neither Resource nor NotResource",
        reason=(
            "A role trust policy has no Resource element: the role itself is the resource and IAM "
            "rejects a trust policy that names one. parliament lints every document as an "
            "identity policy."
        ),
    ),
    Suppression(
        issue="RESOURCE_MISMATCH",
        kinds=frozenset({"identity"}),
        detail='"required_format": "arn:*:dynamodb:*:*:table/*/stream/*"',
        reason=(
            "False positive: parliament splits ARNs on ':', and a real DynamoDB stream ARN ends in "
            "a timestamp label with colons (…/stream/2026-01-01T00:00:00.000), so the archiver's "
            "DescribeStream/GetRecords/GetShardIterator on its table's stream fail the format "
            "check (a colon-free label passes)."
        ),
    ),
    Suppression(
        issue="CREDENTIALS_EXPOSURE",
        kinds=frozenset({"identity"}),
        detail="",
        reason=(
            "In assume-role mode the replicator must call sts:AssumeRole on the writer role; the "
            "statement names that one role ARN (pinned by the permission table), and the "
            "credentials it returns may only write the replica table."
        ),
    ),
)


@dataclass(frozen=True)
class LintResult:
    document: IamDocument
    issue: str
    detail: str
    suppressed_by: Suppression | None

    def describe(self) -> str:
        return f"{self.document.where()}: {self.issue} {self.detail}"


def _suppression_for(doc: IamDocument, issue: str, detail: str) -> Suppression | None:
    for suppression in SUPPRESSIONS:
        if (
            suppression.issue == issue
            and doc.kind in suppression.kinds
            and suppression.detail in detail
        ):
            return suppression
    return None


def lint(doc: IamDocument) -> list[LintResult]:
    """Every parliament finding for ``doc`` (community auditors included), marked if suppressed."""
    analysed = parliament.analyze_policy_string(
        json.dumps(doc.policy), include_community_auditors=True
    )
    results = []
    for finding in analysed.findings:
        # A finding may carry one entry per action (RESOURCE_MISMATCH, RESOURCE_STAR): judge each
        # entry on its own, so a suppression for one action never hides another.
        entries = finding.detail if isinstance(finding.detail, list) else [finding.detail]
        for entry in entries:
            detail = entry if isinstance(entry, str) else json.dumps(entry)
            results.append(
                LintResult(doc, finding.issue, detail, _suppression_for(doc, finding.issue, detail))
            )
    return results


def suppression_table() -> str:
    """The suppression list as a Markdown table (docs/policy.md embeds it)."""
    lines = ["| parliament finding | in | reason |", "|---|---|---|"]
    for s in SUPPRESSIONS:
        where = ", ".join(sorted(s.kinds)) + " policies"
        what = f"`{s.issue}`" + (f" ({s.detail})" if s.detail else "")
        lines.append(f"| {what} | {where} | {s.reason} |")
    return "\n".join(lines)
