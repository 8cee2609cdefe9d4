"""Every nasty sheet of the catalogue, on every backend, gives exactly its expected outcome."""

from __future__ import annotations

import json
from functools import cache

import pytest

from hqsync.config.errors import SourceError
from hqsync.config.ruleset_loader import load_rule_sets
from hqsync.config.vocabulary import TAB_KINDS
from hqsync.scoring.ruleset import RuleSet
from hqsync.sync.ingest.normalise import normalise_source
from hqsync.sync.ingest.rows import NormalisedSource
from tests.ingest.backends import BACKENDS, Backend
from tests.ingest.catalogue import CASES, Case


@cache
def rule_sets() -> dict[str, RuleSet]:
    return load_rule_sets()


def run_case(case: Case, backend: Backend, tmp_path, known=None) -> NormalisedSource:
    wanted = list(case.tabs.as_dict().values())
    snapshot = backend.build(case.tab_rows(), wanted, tmp_path)
    return normalise_source(snapshot, case.tabs, rule_sets(), known=known)


def test_the_catalogue_is_big_enough():
    assert len(CASES) >= 25
    assert len({case.name for case in CASES}) == len(CASES)


@pytest.mark.parametrize(
    "backend",
    [
        pytest.param(b, id=b.name, marks=[pytest.mark.skip(b.skip)] if b.skip else [])
        for b in BACKENDS
    ],
)
@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_catalogue_case(case: Case, backend: Backend, tmp_path):
    if case.source_error:
        with pytest.raises(SourceError) as caught:
            run_case(case, backend, tmp_path)
        for text in case.source_error:
            assert text in str(caught.value)
        return

    result = run_case(case, backend, tmp_path)

    stored = {kind: {row.key for row in result.rows(kind)} for kind in TAB_KINDS}
    assert stored == {kind: case.stored.get(kind, set()) for kind in TAB_KINDS}

    got = {(r.tab_kind, r.row_number, r.code, r.column) for r in result.rejections}
    want = {(e.tab_kind, e.row, e.code, e.column) for e in case.rejected}
    assert got == want
    assert len(result.rejections) == len(case.rejected), "one rejection per rejected row"

    rows = {(kind, row.key): row for kind in TAB_KINDS for row in result.rows(kind)}
    for (kind, key), expected in case.fields.items():
        actual = rows[kind, key].fields
        assert {name: actual[name] for name in expected} == dict(expected), (kind, key)
    for (kind, key), expected in case.extra.items():
        actual_extra = rows[kind, key].extra
        assert {name: actual_extra.get(name) for name in expected} == dict(expected), (kind, key)

    rejections = {(r.tab_kind, r.row_number): r for r in result.rejections}
    for kind, row_number, text in case.reason_mentions:
        assert text in rejections[kind, row_number].reason_en, rejections[kind, row_number]

    for rejection in result.rejections:
        assert rejection.reason_en and rejection.reason_vi
        assert rejection.reason_en != rejection.reason_vi
        if rejection.column:
            assert repr(rejection.column) in rejection.reason_en
            assert repr(rejection.column) in rejection.reason_vi
        json.dumps(dict(rejection.raw))  # raw values are JSON-ready
    for row in rows.values():
        json.dumps(dict(row.raw))
        json.dumps(dict(row.extra))
        assert set(row.extra) <= set(row.raw)


@pytest.mark.parametrize("case", [c for c in CASES if not c.source_error], ids=lambda c: c.name)
def test_a_second_read_with_known_hashes_skips_every_stored_row(case: Case, tmp_path):
    first = run_case(case, BACKENDS[0], tmp_path)
    known = {kind: {r.key: r.row_hash for r in first.rows(kind)} for kind in TAB_KINDS}
    again = run_case(case, BACKENDS[0], tmp_path, known=known)
    assert {kind: {r.key: r.row_hash for r in again.rows(kind)} for kind in TAB_KINDS} == known
    assert not any(r.parsed for kind in TAB_KINDS for r in again.rows(kind))
    assert again.rejections == first.rejections
