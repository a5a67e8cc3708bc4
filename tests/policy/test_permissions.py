"""Every rendered IAM document against the expected permission table, exactly.

Both stacks, both access modes, assume-role with an ExternalId, and each placement and consumer
mode. A failure lists each grant
the stack renders beyond the table (``+``) and each grant of the table it lacks (``-``).
"""

from __future__ import annotations

import pytest

from .checks import Atom, atoms_of_document, atoms_of_grants, permission_diff
from .expected_permissions import expected_for, resolve
from .stacks import VARIANTS, StackView, Variant, all_views, render, variant_id


def rendered_atoms(view: StackView) -> set[Atom]:
    atoms: set[Atom] = set()
    for doc in view.documents():
        atoms |= atoms_of_document(view.owner_label(doc), doc)
    return atoms


def expected_atoms(view: StackView) -> set[Atom]:
    grants = resolve(
        expected_for(view.stack, view.mode, view.external_id, view.placement, view.consumer_mode),
        view.placeholders(),
    )
    return atoms_of_grants(grants)


@pytest.mark.parametrize("variant", VARIANTS, ids=variant_id)
def test_rendered_documents_match_the_table_exactly(variant: Variant) -> None:
    view = render(*variant)
    diff = permission_diff(rendered_atoms(view), expected_atoms(view))
    assert not diff, f"{variant_id(variant)}: permissions differ from the table:\n" + "\n".join(
        diff
    )


def test_every_role_and_resource_policy_is_in_the_table() -> None:
    # A document whose owner the table doesn't know would fail in owner_label; this checks the
    # table covers each owner the stacks render, per stack.
    for view in all_views():
        owners = {view.owner_label(d) for d in view.documents()}
        expected = {
            g.owner
            for g in expected_for(
                view.stack, view.mode, view.external_id, view.placement, view.consumer_mode
            )
        }
        assert owners == expected, (view.stack, view.mode, owners ^ expected)


def test_diff_is_readable() -> None:
    view = render("poc", "assume-role")
    expected = expected_atoms(view)
    extra = Atom("writer role", "identity", "Allow", "dynamodb:DeleteTable", "arn:x", "", "")
    missing = sorted(expected)[0]
    lines = permission_diff((expected | {extra}) - {missing}, expected)
    assert lines == [
        f"+ rendered, not in the table: {extra}",
        f"- in the table, not rendered: {missing}",
    ]
    assert str(extra) == "writer role (identity): Allow dynamodb:DeleteTable on arn:x"
