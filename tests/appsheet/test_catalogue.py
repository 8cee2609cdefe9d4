"""The AppSheet catalogue: checked as data now, run on the xlsx backend and the Google fake once
the ingest layer takes a source's `columns` and `locale` (issue 11, wired in after issue 10)."""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Mapping
from datetime import UTC
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from hqsync.config.errors import SourceError
from hqsync.config.settings import SourceSettings, settings_from_mapping
from hqsync.config.vocabulary import TAB_KINDS, fold
from hqsync.sync.ingest.contract import FIELDS
from hqsync.sync.ingest.locale import parse_text_date, parse_text_datetime, resolve_locale
from hqsync.sync.ingest.mapping import check_mapped_fields
from tests.appsheet.catalogue import BACKENDS, CASES, CONVENTIONS, AppSheetCase
from tests.appsheet.sheets import PACKED_UUID, UNIQUEID, UUID

KNOWN_FIELDS = {tab: [spec.name for spec in FIELDS[tab]] for tab in TAB_KINDS}
ALIASES = {
    tab: {
        fold(alias): spec.name
        for spec in FIELDS[tab]
        for alias in (spec.name, spec.header_vi, spec.header_en, *spec.aliases)
    }
    for tab in TAB_KINDS
}
ZONE = ZoneInfo("Asia/Ho_Chi_Minh")
CASE_IDS = [case.name for case in CASES]


def source_settings(case: AppSheetCase, backend: str) -> SourceSettings:
    spreadsheet = "source.xlsx" if backend == "xlsx" else "1AbC"
    data = {"sources": [case.source_config(backend, spreadsheet)]}
    (source,) = settings_from_mapping(data, {}, base_dir=Path("/tmp")).sources
    return source


def header_of(case: AppSheetCase, tab: str, field: str) -> str | None:
    """The header a field is read from: the mapped one, else the first matching by alias."""
    mapped = case.columns.get(tab, {}).get(field)
    if mapped is not None:
        return mapped
    taken = {fold(h) for h in case.columns.get(tab, {}).values()}
    for header in _rows(case, tab)[0]:
        text = str(header or "")
        if fold(text) not in taken and ALIASES[tab].get(fold(text)) == field:
            return text
    return None


def _rows(case: AppSheetCase, tab: str) -> list[list[Any]]:
    return {
        "hospitals": case.hospitals,
        "assessments": case.assessments,
        "findings": case.findings,
    }[tab]


def records(case: AppSheetCase, tab: str) -> dict[str, dict[str, Any]]:
    """Key → header → cell of one tab (blank rows left out)."""
    rows = _rows(case, tab)
    key_header = header_of(case, tab, KNOWN_FIELDS[tab][0])
    head = [str(h or "") for h in rows[0]]
    found: dict[str, dict[str, Any]] = {}
    for row in rows[1:]:
        record = dict(zip(head, row, strict=True))
        if key_header is not None and record.get(key_header) not in (None, ""):
            found.setdefault(str(record[key_header]), record)
    return found


# --------------------------------------------------------------------------------------------
# The catalogue as data


def test_the_catalogue_covers_every_convention_of_the_issue():
    proved = {convention for case in CASES for convention in case.proves}
    assert proved == set(CONVENTIONS)
    assert len(CASES) >= 25
    assert len(set(CASE_IDS)) == len(CASES)


def test_row_ids_look_like_appsheets():
    for key in (*UNIQUEID.hospitals, *UNIQUEID.assessments, *UNIQUEID.findings):
        assert re.fullmatch(r"[0-9a-z]{8}", key), key
    uuid = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
    for key in (*UUID.hospitals, *UUID.assessments, *UUID.findings):
        assert re.fullmatch(uuid, key), key
    for key in (*PACKED_UUID.hospitals, *PACKED_UUID.assessments, *PACKED_UUID.findings):
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", key), key


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_every_case_config_is_valid(case: AppSheetCase):
    for backend in case.backends:
        source = source_settings(case, backend)
        assert source.tabs == case.tabs
        assert source.locale == case.locale
        assert source.columns == {tab: dict(f) for tab, f in case.columns.items()}
        check_mapped_fields(source.name, source.columns, KNOWN_FIELDS)
    written = tomllib.loads(case.toml())
    (source,) = settings_from_mapping(written, {}, base_dir=Path("/tmp")).sources
    assert source.columns == {tab: dict(f) for tab, f in case.columns.items()}
    assert source.locale == case.locale
    assert set(case.backends) <= set(BACKENDS)


@pytest.mark.parametrize("case", [c for c in CASES if not c.source_error], ids=lambda c: c.name)
def test_every_case_is_consistent(case: AppSheetCase):
    for tab in TAB_KINDS:
        rows = _rows(case, tab)
        assert rows and all(len(row) == len(rows[0]) for row in rows), tab
        head = {fold(str(h or "")) for h in rows[0]}
        for header in case.columns.get(tab, {}).values():
            assert fold(header) in head, (tab, header)
        present = set(records(case, tab))
        assert case.stored.get(tab, set()) <= present, tab
        assert case.removed.get(tab, set()).isdisjoint(present), tab
    for (tab, key), _ in {**case.fields, **case.extra}.items():
        assert key in case.stored[tab], (tab, key)
    for expected in case.rejected:
        assert 2 <= expected.row <= len(_rows(case, expected.tab_kind)), expected
    assert (case.previous is None) == (not case.removed)


@pytest.mark.parametrize("case", [c for c in CASES if not c.source_error], ids=lambda c: c.name)
def test_expected_dates_are_what_the_case_locale_reads(case: AppSheetCase):
    """The stored dates the catalogue expects are what sync/ingest/locale.py reads from the
    cells in the locale the source resolves to (before the ingest layer is wired)."""
    for backend in case.backends:
        locale = resolve_locale(case.locale, backend, case.sheet_locale)
        for tab in ("assessments", "findings"):
            by_key = records(case, tab)
            for (kind, key), fields in case.fields.items():
                if kind != tab:
                    continue
                for name, expected in fields.items():
                    if name not in ("assessed_on", "updated_at"):
                        continue
                    header = header_of(case, tab, name)
                    cell = None if header is None else by_key[key].get(header)
                    if not isinstance(cell, str):
                        assert cell is None and expected is None, (backend, key, name)
                        continue
                    if name == "assessed_on":
                        got: Any = parse_text_date(cell, locale)
                    else:
                        moment = parse_text_datetime(cell, locale)
                        got = moment and moment.replace(tzinfo=ZONE).astimezone(UTC)
                    assert got == expected, (backend, locale.name, key, name, cell)


# --------------------------------------------------------------------------------------------
# The runner


def run_case(case: AppSheetCase, backend: str, tmp_path: Path, previous: bool = False) -> Any:
    """Store the case's sheet on `backend` and normalise it as a sync of that source does:
    its column mapping, and its locale resolved from the config and the snapshot (on Google
    the fake spreadsheet's `properties.locale` is `case.sheet_locale`)."""
    from hqsync.config.ruleset_loader import load_rule_sets
    from hqsync.sync.ingest.normalise import normalise_source
    from tests.ingest.backends import google_snapshot, xlsx_snapshot

    source = source_settings(case, backend)
    tabs = case.previous_tab_rows() if previous else case.tab_rows()
    assert tabs is not None
    wanted = list(case.tabs.as_dict().values())
    folder = tmp_path / ("before" if previous else "now")
    folder.mkdir()
    if backend == "google":
        snapshot = google_snapshot(tabs, wanted, folder, sheet_locale=case.sheet_locale)
        assert snapshot.locale == case.sheet_locale
    else:
        snapshot = xlsx_snapshot(tabs, wanted, folder)
        assert snapshot.locale is None
    locale = resolve_locale(source.locale, backend, snapshot.locale)
    return normalise_source(
        snapshot,
        source.tabs,
        load_rule_sets(),
        columns=source.columns,
        locale=locale,
        source=source.name,
    )


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
def test_appsheet_case(case: AppSheetCase, backend: str, tmp_path: Path):
    if backend not in case.backends:
        pytest.skip(f"{case.name} depends on the {case.backends} locale default")
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
    for (kind, key), expected_extra in case.extra.items():
        actual_extra: Mapping[str, Any] = rows[kind, key].extra
        assert {n: actual_extra.get(n) for n in expected_extra} == dict(expected_extra)

    rejections = {(r.tab_kind, r.row_number): r for r in result.rejections}
    for kind, row_number, text in case.reason_mentions:
        assert text in rejections[kind, row_number].reason_en, rejections[kind, row_number]
    for rejection in result.rejections:
        assert rejection.reason_en and rejection.reason_vi
        json.dumps(dict(rejection.raw))

    if case.previous is not None:
        before = run_case(case, backend, tmp_path, previous=True)
        before_keys = {kind: {row.key for row in before.rows(kind)} for kind in TAB_KINDS}
        for kind, keys in case.removed.items():
            assert keys <= before_keys[kind] and not keys & stored[kind]
