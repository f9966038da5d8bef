"""Text as Vietnamese names are compared: however they are typed, with or without diacritics."""

from __future__ import annotations

import unicodedata

_D_BAR = str.maketrans({"\u0111": "d", "\u0110": "D"})  # Vietnamese d with stroke


def fold(text: str) -> str:
    """Lower case, no diacritics, d-bar as d, single spaces: how titles and names compare."""
    decomposed = unicodedata.normalize("NFD", text.translate(_D_BAR))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())
