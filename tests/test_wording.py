"""One way of writing across every template: one ellipsis, one quote, a name never after its
own first word ("phong trào "Phong trào thi đua …"")."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from messages import render, render_text

TEMPLATES = Path(__file__).parent.parent / "messages" / "templates"
TEXTS = [p for p in TEMPLATES.rglob("*") if p.suffix in {".html", ".txt", ".yaml"}]


@pytest.mark.parametrize("path", TEXTS, ids=lambda p: str(p.relative_to(TEMPLATES)))
def test_one_ellipsis_and_one_quote(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    assert "..." not in text  # "…", one character
    assert "«" not in text and "»" not in text  # names are quoted "…", as everywhere else
    # Jinja's truncate ends with "..." unless told otherwise.
    for call in re.findall(r"truncate\([^)]*\)", text):
        assert 'end="…"' in call, call


@pytest.mark.parametrize(
    ("title", "said"),
    [
        ("Phong trào thi đua năm 2026", '"Phong trào thi đua năm 2026"'),
        ("PHONG TRÀO thi đua", '"PHONG TRÀO thi đua"'),
        ("Thi đua chào mừng Đại hội", 'phong trào "Thi đua chào mừng Đại hội"'),
        ("Phong trao thi đua", 'phong trào "Phong trao thi đua"'),  # diacritics count
        ("Phong tràoX", 'phong trào "Phong tràoX"'),  # a whole word, not a prefix
    ],
)
def test_a_name_never_repeats_the_word_before_it(title: str, said: str) -> None:
    assert render("launch/done", title=title).startswith(f"🚀 Đã phát động {said}.")


def test_a_quoted_name_is_escaped() -> None:
    assert 'phong trào "A &amp; B &lt;1&gt;"' in render("launch/done", title="A & B <1>")


def test_a_shortened_title_ends_with_the_ellipsis() -> None:
    alert = render_text("alerts/step_toggled", done=True, title="Báo cáo " * 30)
    assert alert.endswith("….") and "..." not in alert and len(alert) < 160
