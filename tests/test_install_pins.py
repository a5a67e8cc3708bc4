"""Install instructions pin what exists: a commit (``@<commit>``), since a copy of the
repository may carry no release tags; docs/releasing.md says how a tag is cut and checked."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PAGES = sorted(
    [
        *REPO.glob("*.md"),
        *REPO.glob("docs/*.md"),
        *REPO.glob("examples/**/README.md"),
        *REPO.glob("examples/**/requirements.txt"),
        REPO / "policy_pack" / "template" / "requirements.txt",
    ]
)
#: The release process, the only page that may show a tag as a pin.
RELEASING = REPO / "docs" / "releasing.md"


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(REPO)))
def test_install_instructions_pin_a_commit(page: Path) -> None:
    if page.name == "CHANGELOG.md" or page == RELEASING:
        return
    text = page.read_text(encoding="utf-8")
    pins = re.findall(r"(?:\.git|/provider)@(\S+?)(?:#|'|\s|$|`)", text)
    assert all(pin == "<commit>" for pin in pins), (page.name, pins)


def test_the_release_process_is_documented() -> None:
    text = RELEASING.read_text(encoding="utf-8")
    assert "git ls-remote --tags" in text and "git tag -a" in text
