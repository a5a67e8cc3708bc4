"""The generated files (docs/generate.py) are current, and the generator rewrites only its
regions."""

from __future__ import annotations

from pathlib import Path

import pytest

from docs import generate


def test_every_generated_file_is_current() -> None:
    stale = [str(path.relative_to(generate.REPO_ROOT)) for path in generate.stale_files()]
    assert not stale, f"stale generated files: {', '.join(stale)}; run `make docs` and commit them"


def test_each_file_the_generator_names_is_in_the_repository() -> None:
    files = generate.generated_files()
    assert set(files) == {
        generate.CONFIGURATION_DOC,
        generate.PERMISSIONS_DOC,
        generate.POLICY_PACK_DOC,
        generate.COMPONENTS_DOC,
        generate.POLICY_DOC,
        generate.HANDLERS_DOC,
        generate.SCHEMA,
    }
    assert all(path.is_file() for path in files)


def _region(name: str, body: str) -> generate.Region:
    return generate.Region(Path("page.md"), name, "a source", lambda: body)


def test_a_region_is_rewritten_and_the_prose_around_it_kept() -> None:
    text = (
        "Before.\n\n<!-- BEGIN generated:table -->\n| hand | edited |\n"
        "<!-- END generated:table -->\n\nAfter, with <!-- a comment -->.\n"
    )
    wanted = generate.render_regions(text, [_region("table", "| a |\n|---|")])
    assert wanted == (
        "Before.\n\n<!-- BEGIN generated:table from a source (make docs) -->\n| a |\n|---|\n"
        "<!-- END generated:table -->\n\nAfter, with <!-- a comment -->.\n"
    )
    assert generate.render_regions(wanted, [_region("table", "| a |\n|---|")]) == wanted


def test_a_hand_edit_inside_a_region_makes_the_file_stale(tmp_path: Path) -> None:
    page = tmp_path / "page.md"
    region = generate.Region(page, "table", "a source", lambda: "| a |")
    current = generate.render_regions(
        "<!-- BEGIN generated:table -->\n<!-- END generated:table -->\n", [region]
    )
    page.write_text(current.replace("| a |", "| b |"), encoding="utf-8")
    assert generate.stale_files({page: current}) == [page]
    page.write_text(current, encoding="utf-8")
    assert generate.stale_files({page: current}) == []


@pytest.mark.parametrize(
    "text",
    [
        "no markers at all\n",
        "<!-- BEGIN generated:table -->\nno end marker\n",
        "<!-- BEGIN generated:table -->\n<!-- END generated:table -->\n" * 2,
    ],
    ids=["none", "no end", "twice"],
)
def test_a_region_without_exactly_one_pair_of_markers_is_an_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"page.md: the generated region 'table'"):
        generate.render_regions(text, [_region("table", "x")], "page.md")
