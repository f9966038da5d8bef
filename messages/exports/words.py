"""The words the exports write, read once from `templates/exports/words.yaml`."""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any

import yaml


@cache
def _all_words() -> dict[str, Any]:
    text = (
        resources.files("messages")
        .joinpath("templates/exports/words.yaml")
        .read_text(encoding="utf-8")
    )
    loaded: dict[str, Any] = yaml.safe_load(text)
    return loaded


def export_words(section: str | None = None) -> dict[str, Any]:
    """One export's words (`summary`, `registration_template`, …), or the shared ones when None."""
    words = _all_words()
    return words if section is None else dict(words[section])
