"""parliament (community auditors on) over every document the stacks render: zero findings
beyond the suppression list, and every suppression still in use."""

from __future__ import annotations

from .lint import SUPPRESSIONS, lint, suppression_table
from .stacks import all_views


def test_no_unsuppressed_findings_and_no_stale_suppressions() -> None:
    results = [r for view in all_views() for doc in view.documents() for r in lint(doc)]
    # Show the accepted findings with their reasons in the test output (pytest -s / -rA).
    print("parliament suppressions in force:\n" + suppression_table())
    open_findings = [r.describe() for r in results if r.suppressed_by is None]
    assert not open_findings, "parliament findings:\n" + "\n".join(open_findings)
    used = {r.suppressed_by for r in results if r.suppressed_by is not None}
    stale = [s.issue for s in SUPPRESSIONS if s not in used]
    assert not stale, f"suppressions that no longer match any finding: {stale}"


def test_lint_reports_what_it_should() -> None:
    # The wrapper is not a no-op: a wildcard resource on an action that supports resource-level
    # permissions is reported, and a suppression for trust documents doesn't cover identity ones.
    from .documents import IamDocument

    wide = IamDocument(
        "identity",
        "writer role",
        "test",
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Effect": "Allow", "Action": "dynamodb:BatchWriteItem", "Resource": "*"}
            ],
        },
    )
    assert [(r.issue, r.suppressed_by) for r in lint(wide)] == [("RESOURCE_STAR", None)]
    no_resource = IamDocument(
        "identity",
        "writer role",
        "test",
        {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject"}]},
    )
    assert [r.suppressed_by for r in lint(no_resource)] == [None]
