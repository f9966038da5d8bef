"""Text as Vietnamese names are compared: however they are typed, with or without diacritics
(`fold`), or as one name whatever its case and Unicode form (`name_key`)."""

from __future__ import annotations

import unicodedata

_D_BAR = str.maketrans({"\u0111": "d", "\u0110": "D"})  # Vietnamese d with stroke


def fold(text: str) -> str:
    """Lower case, no diacritics, d-bar as d, single spaces: how titles and names compare."""
    decomposed = unicodedata.normalize("NFD", text.translate(_D_BAR))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


def name_key(text: str) -> str:
    """One name however it is typed: Unicode NFC, case folded (every script, not only ASCII),
    single spaces, control characters out. Diacritics stay: "Ánh" and "Anh" are two names."""
    composed = unicodedata.normalize("NFC", text)
    visible = "".join(c if unicodedata.category(c)[0] != "C" else " " for c in composed)
    return unicodedata.normalize("NFC", " ".join(visible.casefold().split()))
