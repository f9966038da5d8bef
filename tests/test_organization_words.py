"""Every sentence names the body it speaks for from data (PRODUCT §6.1): "Văn phòng Sở" for a
Sở, "Văn phòng HĐND và UBND xã" for a xã, never a Sở's words in a xã's or a Bộ's chat."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest

from messages import render, render_text
from messages.organizations import org_words, speaking_for

TEMPLATES = Path(__file__).parent.parent / "messages" / "templates"
BODIES = {
    "Sở Tư pháp tỉnh Lạng Sơn": ("Văn phòng Sở", "Sở"),
    "UBND xã Tân Thanh": ("Văn phòng HĐND và UBND xã", "xã"),
    "Bộ Y tế": ("Văn phòng Bộ", "Bộ"),
}


def test_no_template_names_a_kind_of_body_itself() -> None:
    """The words of a body come from `org`, never from the template's text."""
    offenders = []
    for path in TEMPLATES.rglob("*"):
        if path.suffix not in {".html", ".txt"}:
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if re.search(r"\bSở\b|Văn phòng|Giám đốc|\bMẫu [0-9]", line):
                offenders.append(f"{path.relative_to(TEMPLATES)}:{number}: {line.strip()}")
    assert offenders == []


@pytest.mark.parametrize("name", sorted(BODIES))
def test_screens_read_right_for_each_body(name: str) -> None:
    office, short = BODIES[name]
    others = {o for o, _ in BODIES.values()} - {office}
    with speaking_for(org_words(name)):
        screens = [
            render("common/not_bound", example="K7M2QX9PTA"),
            render("common/error", update_id=7),
            render("onboarding/guest", organization=name, example="K7M2QX9PTA"),
            render("onboarding/used_code"),
            render("push/announcement", text="Họp giao ban"),
            render("launch/done", title="Phong trào thi đua năm 2026"),
            render("dossier/no_awards"),
            render_text("alerts/not_bound"),
            render(
                "calendar/list", office=True, unit="", today=date(2026, 1, 5), events=[], more=0
            ),
        ]
    text = "\n".join(screens)
    assert office in text and f"toàn {short}" in text
    assert not any(other in text for other in others)
    if short != "Sở":
        assert not re.search(r"\bSở\b", text)


def test_a_body_may_give_its_own_words() -> None:
    words = org_words("Công ty Điện lực", office="Phòng Tổng hợp", head="Giám đốc", short="Công ty")
    with speaking_for(words):
        assert "Phòng Tổng hợp" in render("common/not_bound", example="X")
