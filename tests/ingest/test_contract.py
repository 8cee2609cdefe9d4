"""The sheet contract: every documented header and word is accepted; the vocabulary is covered."""

from __future__ import annotations

from hqsync.config.vocabulary import (
    KEY_FIELDS,
    TAB_KINDS,
    AssessmentKind,
    Ownership,
    Result,
    Status,
    fold,
)
from hqsync.sync.ingest.contract import (
    FIELDS,
    KIND_WORDS,
    OWNERSHIP_WORDS,
    REQUIRED_VALUES,
    RESULT_WORDS,
    STATUS_WORDS,
    YES_NO_WORDS,
    accepted_words,
)
from hqsync.sync.ingest.headers import match_headers


def test_every_documented_header_and_word_is_accepted():
    for kind, specs in FIELDS.items():
        for spec in specs:
            for header in (spec.name, spec.header_vi, spec.header_en, *spec.aliases):
                others = [s.header_vi for s in specs if s.required and s is not spec]
                match = match_headers(kind, [*others, header], kind)
                assert match.fields[spec.name] == len(others), (kind, header)
    assert set(accepted_words()["result"]) == {"met", "not_met", "na", "partial"}


def test_every_tab_kind_and_every_coded_value_has_its_words():
    assert set(FIELDS) == set(TAB_KINDS) == set(REQUIRED_VALUES)
    assert set(RESULT_WORDS) == set(Result)
    assert set(KIND_WORDS) == set(AssessmentKind)
    assert set(STATUS_WORDS) == set(Status)
    assert set(OWNERSHIP_WORDS) == set(Ownership)
    assert set(YES_NO_WORDS) == {True, False}


def test_keys_and_required_values_are_required_columns():
    for kind in TAB_KINDS:
        required = {spec.name for spec in FIELDS[kind] if spec.required}
        assert KEY_FIELDS[kind] in required
        assert set(REQUIRED_VALUES[kind]) <= required


def test_no_word_means_two_things_in_one_column():
    for words in (RESULT_WORDS, YES_NO_WORDS, KIND_WORDS, STATUS_WORDS, OWNERSHIP_WORDS):
        meanings: dict[str, set[object]] = {}
        for meaning, spellings in words.items():
            for word in spellings:
                meanings.setdefault(fold(word), set()).add(meaning)
        assert all(len(m) == 1 for m in meanings.values()), words
    assert set(accepted_words()) == {"result", "yes_no", "kind", "status", "ownership"}
