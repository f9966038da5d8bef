"""Inline keyboards; their labels are Vietnamese, their data comes from messages.callbacks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from messages.callbacks import pack

LABELS = {
    "confirm": "✅ Xác nhận",
    "edit": "✏️ Sửa",
    "cancel": "✖️ Hủy",
    "no_collective": "Không đăng ký",
    "no_people": "Không có cá nhân",
    "template": "📥 Tải mẫu Excel",
    "summary": "Xem tóm tắt ➡️",
    "redo": "📝 Đăng ký lại",
    "keep": "Giữ nguyên",
    "keep_people": "Giữ danh sách hiện có",
    "done": "✅ Xong NV {no}",
    "undone": "↩️ Chưa xong NV {no}",
}


def button(label: str, prefix: str, action: str, *args: int | str) -> InlineKeyboardButton:
    """One button: a label key of LABELS (formatted with kwargs-free args) or literal text."""
    return InlineKeyboardButton(LABELS.get(label, label), callback_data=pack(prefix, action, *args))


def rows(buttons: Iterable[InlineKeyboardButton], per_row: int = 1) -> InlineKeyboardMarkup:
    """Buttons laid out `per_row` to a row."""
    items = list(buttons)
    return InlineKeyboardMarkup([items[i : i + per_row] for i in range(0, len(items), per_row)])


def grid(layout: Sequence[Sequence[InlineKeyboardButton]]) -> InlineKeyboardMarkup:
    """Buttons in the given rows."""
    return InlineKeyboardMarkup([list(r) for r in layout])


def task_button(done: bool, no: int, task_id: int) -> InlineKeyboardButton:
    """The button that marks a task done, or takes the mark back."""
    label = LABELS["undone" if done else "done"].format(no=no)
    return InlineKeyboardButton(label, callback_data=pack("nv", "u" if done else "d", task_id))
