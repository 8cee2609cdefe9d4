"""Cleaning what people type: Unicode form, invisible and control characters, odd spaces, a
leading apostrophe.

Sheets carry text pasted from Word, Zalo and PDFs: zero-width characters, no-break spaces,
decomposed accents and the apostrophe Sheets uses to force text. Every text cell is cleaned
before it is read. Matching (case and accents ignored) uses `hqsync.config.vocabulary.fold`.
"""

from __future__ import annotations

import unicodedata

from hqsync.config.utils import without_controls

_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_SPACES = {ord(c): " " for c in "\u00a0\u202f\u2007\u2009\u200a\u3000"}
_TRANSLATE: dict[int, str | None] = {**_INVISIBLE, **_SPACES}


def clean_text(value: str) -> str:
    """NFC text without invisible characters, odd spaces, runs of spaces or a leading apostrophe."""
    text = " ".join(
        unicodedata.normalize("NFC", without_controls(value)).translate(_TRANSLATE).split()
    )
    if text.startswith("'"):
        text = text[1:].lstrip()
    return text


def clean_free_text(value: str) -> str:
    """Like `clean_text` but keeping line breaks and inner spacing (notes, names)."""
    text = unicodedata.normalize("NFC", without_controls(value)).translate(_TRANSLATE).strip()
    if text.startswith("'"):
        text = text[1:].lstrip()
    return text
