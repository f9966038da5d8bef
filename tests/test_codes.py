"""Pure logic of invite codes and the one-line configuration errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.config import ConfigError, load_settings
from handlers.common import looks_like_code
from storage.invites import CODE_ALPHABET, CODE_LENGTH, is_code_shaped, new_code, normalize_code

codes = st.text(alphabet=CODE_ALPHABET, min_size=CODE_LENGTH, max_size=CODE_LENGTH)


def test_new_codes_have_the_shape_and_differ() -> None:
    issued = {new_code() for _ in range(500)}
    assert len(issued) == 500
    assert all(is_code_shaped(c) for c in issued)


@given(codes, st.lists(st.sampled_from([" ", "-", "  "]), max_size=3), st.booleans())
def test_a_code_survives_case_spaces_and_dashes(code: str, noise: list[str], lower: bool) -> None:
    typed = code.lower() if lower else code
    for i, sep in enumerate(noise):
        cut = (i + 1) * 3
        typed = typed[:cut] + sep + typed[cut:]
    assert normalize_code(typed) == code
    assert is_code_shaped(normalize_code(typed))
    assert looks_like_code(typed)


@given(st.text(max_size=40))
def test_anything_else_is_never_taken_for_a_code_unless_it_has_the_shape(text: str) -> None:
    if is_code_shaped(normalize_code(text)):
        return
    assert not is_code_shaped(normalize_code(text))
    if text.startswith("/"):
        assert not looks_like_code(text)


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("BOT_TIMEZONE", "Mars/Olympus", "BOT_TIMEZONE không phải múi giờ hợp lệ"),
        ("MAX_FILE_MB", "hai mươi", "MAX_FILE_MB phải là một số nguyên"),
        ("MAX_FILE_MB", "0", "MAX_FILE_MB quá nhỏ"),
        ("DATABASE_URL", "mysql://x", "DATABASE_URL phải là sqlite+aiosqlite"),
        ("BOT_TOKEN", "not-a-token", "BOT_TOKEN không đúng dạng"),
        ("WEBHOOK_SECRET", "có dấu", "WEBHOOK_SECRET chỉ gồm"),
    ],
)
def test_a_bad_setting_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert expected in message
    assert "\n" not in message


def test_missing_token_is_named_when_required(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BOT_TOKEN", raising=False)
    settings = load_settings(_env_file=None)
    with pytest.raises(ConfigError, match="BOT_TOKEN chưa được đặt"):
        settings.require_token()
