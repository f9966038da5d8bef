"""Button labels have one home (messages/templates/buttons/), a missing one fails loudly, and a
label too long for its button is shortened by one helper, at a word boundary, with "…"."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from messages import keyboards, words
from messages.commands import COMMANDS, GUEST_COMMANDS
from messages.keyboards import button, label, task_button, text_button
from messages.text import ELLIPSIS, shorten

ROOT = Path(__file__).resolve().parent.parent
BUTTONS = ROOT / "messages" / "templates" / "buttons"
SOURCES = ("bot", "handlers", "scheduler", "messages")


def _calls(name: str) -> list[tuple[str, ast.Call]]:
    """Every call of a function called `name` in the product's code, with where it is."""
    found = []
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                func = node.func
                called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
                if called == name:
                    found.append((f"{path.relative_to(ROOT)}:{node.lineno}", node))
    return found


def _literal_first(call: ast.Call) -> str | None:
    first = call.args[0] if call.args else None
    if isinstance(first, ast.Constant) and isinstance(first.value, str):
        return first.value
    return None


def test_every_label_key_in_the_code_has_its_template() -> None:
    """button("key", …) and label("key", …) anywhere in the code name a buttons/ template."""
    used = {
        (where, key)
        for name in ("button", "label")
        for where, call in _calls(name)
        if (key := _literal_first(call)) is not None
    }
    used |= {  # labels rendered with values by hand, then given to text_button
        (where, key.removeprefix("buttons/"))
        for where, call in _calls("render_text")
        if (key := _literal_first(call)) is not None and key.startswith("buttons/")
    }
    assert len({key for _, key in used}) >= 20  # the walk found the handlers' buttons
    missing = sorted(
        f"{where}: {key}" for where, key in used if not (BUTTONS / f"{key}.txt").is_file()
    )
    assert missing == []


def test_button_is_always_given_a_literal_key() -> None:
    """Words already made (a title, a rendered label) go to text_button, so every button() key
    is visible to the test above."""
    computed = [
        where
        for where, call in _calls("button")
        if _literal_first(call) is None and not where.startswith("messages/keyboards.py")
    ]
    assert computed == []


def test_the_keys_buttons_use_render_as_words() -> None:
    """Each key button() is called with renders without values, to words that are not the key."""
    keys = {key for _, call in _calls("button") if (key := _literal_first(call)) is not None}
    for key in sorted(keys):
        text = button(key, "x", "y").text
        assert text and text != key and "{" not in text


def test_labels_have_one_home() -> None:
    assert not hasattr(keyboards, "LABELS")
    assert button("confirm", "rg", "ok").text == "✅ Xác nhận"
    assert button("cancel", "rg", "cancel").callback_data == "rg:cancel"
    assert task_button(False, 3, 7).text == "✅ Xong NV 3"
    assert task_button(True, 3, 7).text == "↩️ Chưa xong NV 3"
    assert task_button(True, 3, 7).callback_data == "nv:u:7"


@pytest.mark.parametrize("key", ["no_such_label", "confirm_"])
def test_a_missing_key_raises_naming_it(key: str) -> None:
    with pytest.raises(KeyError, match=key):
        button(key, "rg", "ok")
    with pytest.raises(LookupError, match=key):
        label(key)


def test_words_given_as_a_key_raise_instead_of_showing() -> None:
    """What used to fall through as literal text is now a mistake that says where to go."""
    with pytest.raises(KeyError, match="text_button"):
        button("✅ Xác nhận", "rg", "ok")
    assert text_button("✅ Xác nhận", "rg", "ok").text == "✅ Xác nhận"


def test_a_label_missing_its_values_fails_loudly() -> None:
    with pytest.raises(Exception, match="code"):
        button("zip", "dv", "z", 1)  # buttons/zip needs the campaign's code
    assert label("zip", code="TD26") == "📦 Tải ZIP hồ sơ TD26"


def test_every_command_has_its_menu_words_and_no_words_are_stale() -> None:
    menus = words("commands")
    assert set(menus["member_menu"]) == {c.name for c in COMMANDS}
    assert set(menus["guest_menu"]) == {c.name for c in GUEST_COMMANDS}
    assert all(c.description for c in (*COMMANDS, *GUEST_COMMANDS))


# --- shorten -------------------------------------------------------------------------------

TEXTS = st.text(alphabet="ab cdđẻ,;(-–\t", max_size=120)
LIMITS = st.integers(min_value=1, max_value=80)
DANGLING = " \t\n,;:-–—("


@given(TEXTS, LIMITS)
def test_shorten_fits_and_marks_what_it_cut(text: str, limit: int) -> None:
    result = shorten(text, limit)
    assert len(result) <= limit
    assert result.endswith(ELLIPSIS) == (len(text) > limit)  # "…" iff shortened
    assert not result.endswith("...")
    if len(text) <= limit:
        assert result == text


@given(TEXTS, LIMITS)
def test_shorten_keeps_a_prefix_cut_at_a_word_boundary_when_there_is_one(
    text: str, limit: int
) -> None:
    result = shorten(text, limit)
    if len(text) <= limit:
        return
    kept = result.removesuffix(ELLIPSIS)
    assert text.startswith(kept)
    room = text[: limit - 1]
    boundary = text[limit - 1].isspace() or any(
        ch.isspace() and room[:i].strip() for i, ch in enumerate(room)
    )
    if boundary and room:
        # The next character is a space, or punctuation the cut would have left dangling.
        assert kept and (text[len(kept)].isspace() or text[len(kept)] in DANGLING)
    else:  # one word longer than the room: cut where the room ends
        assert kept == (room.rstrip(DANGLING) or room)


def test_shorten_examples() -> None:
    assert shorten("Tóm tắt thành tích của tập thể, cá nhân đề nghị", 30) == (
        "Tóm tắt thành tích của tập…"
    )
    assert shorten("abc def ghi", 9) == "abc def…"  # "def" ends where the room does: kept
    assert shorten("Báo cáo, thành tích", 10) == "Báo cáo…"  # no dangling comma
    assert shorten("Abcdefghijkl", 5) == "Abcd…"  # one long word: cut where the room ends
    assert shorten("ngắn", 4) == "ngắn"
    assert shorten("dài hơn", 1) == ELLIPSIS
    with pytest.raises(ValueError):
        shorten("x", 0)


def test_button_templates_shorten_with_the_helper() -> None:
    """Labels built in templates use the same helper (the `shorten` filter)."""
    title = "Phong trào thi đua yêu nước chào mừng kỷ niệm năm mươi năm ngày thành lập"
    assert label("campaign", title=title, closed=False) == shorten(title, 48)
    assert label("campaign", title=title, closed=True) == "🔒 " + shorten(title, 48)
    for path in BUTTONS.glob("*.txt"):
        assert "truncate(" not in path.read_text(encoding="utf-8"), path.name
