"""Cleaning and folding text: what people paste from Word, Zalo and PDFs."""

from __future__ import annotations

import unicodedata

from hypothesis import given, settings
from hypothesis import strategies as st

from hqsync.config.vocabulary import fold
from hqsync.sync.ingest.text import clean_free_text, clean_text

vietnamese_words = st.sampled_from(
    ["Mã bệnh viện", "Kết quả", "Không áp dụng", "Đạt", "Tự đánh giá", "Hội đồng", "Ghi chú"]
)


@settings(deadline=None)
@given(word=vietnamese_words, upper=st.booleans(), spaces=st.integers(0, 3), nfd=st.booleans())
def test_fold_ignores_case_spacing_and_unicode_form(word, upper, spaces, nfd):
    variant = word.upper() if upper else word.lower()
    variant = " " * spaces + variant.replace(" ", " " * (spaces + 1)) + "\u00a0"
    if nfd:
        variant = unicodedata.normalize("NFD", variant)
    assert fold(variant) == fold(word)


@settings(deadline=None)
@given(st.text())
def test_clean_text_gives_trimmed_visible_nfc(text):
    cleaned = clean_text(text)
    assert cleaned == cleaned.strip()
    assert unicodedata.is_normalized("NFC", cleaned)
    assert not any(c in cleaned for c in "\u200b\u200c\u200d\u2060\ufeff\u00a0")


def test_clean_text_drops_a_leading_apostrophe_and_runs_of_spaces():
    assert clean_text("'  Bệnh  viện\u3000A ") == "Bệnh viện A"
    assert clean_text("Hoa\u0300") == "Hoà"  # NFC


def test_clean_free_text_keeps_line_breaks_and_inner_spacing():
    assert clean_free_text(" 'dòng 1\n  dòng\u00a02 \u200b") == "dòng 1\n  dòng 2"
