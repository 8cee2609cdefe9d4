"""`init-source`: headers and dropdowns for a new AppSheet source, on both backends."""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook, load_workbook

from hqsync.config.errors import SourceError
from hqsync.config.settings import GoogleSettings, Settings, SourceSettings, TabNames
from hqsync.config.vocabulary import fold
from hqsync.sync.ingest.contract import FIELDS, accepted_words
from hqsync.sync.ingest.headers import match_headers
from hqsync.sync.init_source import init_source, tab_layouts
from hqsync.sync.xlsx import XlsxSourceReader
from tests.fake_google import FakeGoogle
from tests.google.conftest import READER

TABS = TabNames("Bệnh viện", "Đánh giá", "Kết quả")


def _settings(google: GoogleSettings | None = None) -> Settings:
    return Settings(google=google or GoogleSettings())


@pytest.mark.parametrize("language", ["vi", "en"])
def test_every_dropdown_word_is_one_hqsync_accepts(language: str) -> None:
    words = accepted_words()
    accepted = {fold(w) for group in words.values() for ws in group.values() for w in ws}
    layouts = tab_layouts(SourceSettings("s", "xlsx", "x.xlsx", TABS), language, ["QD6858"])
    for layout in layouts:
        for rule in layout.validations.values():
            if rule.field == "standard" or rule.is_date:
                continue
            assert rule.choices and all(fold(c) in accepted for c in rule.choices), rule


@pytest.mark.parametrize("language", ["vi", "en"])
def test_xlsx_source_gets_headers_hqsync_reads_and_dropdowns(tmp_path: Path, language: str) -> None:
    path = tmp_path / "new" / "source.xlsx"
    source = SourceSettings("s", "xlsx", str(path), TABS)

    message = init_source(_settings(), source, language=language)

    assert "Bệnh viện" in message and "result" in message
    snapshot = XlsxSourceReader(path).read(list(TABS.as_dict().values()))
    for kind, title in TABS.as_dict().items():
        match = match_headers(kind, snapshot.tabs[title].rows[0], title)
        assert set(match.fields) == {f.name for f in FIELDS[kind]}
    book = load_workbook(path)
    findings = book["Kết quả"]
    formulas = {dv.formula1 for dv in findings.data_validations.dataValidation}
    expected = '"Đạt,Không đạt,Không áp dụng"' if language == "vi" else '"met,not met,n/a"'
    assert expected in formulas
    standards = [
        dv
        for dv in book["Đánh giá"].data_validations.dataValidation
        if "QD6858" in (dv.formula1 or "")
    ]
    assert standards and "TT35" in standards[0].formula1
    assert book.sheetnames == ["Bệnh viện", "Đánh giá", "Kết quả"]
    assert findings.freeze_panes == "A2"


def test_xlsx_keeps_other_tabs_and_refuses_tabs_with_data(tmp_path: Path) -> None:
    path = tmp_path / "source.xlsx"
    book = Workbook()
    first = book.worksheets[0]
    first.title = "Ghi chú"
    first["A1"] = "keep me"
    book.create_sheet("Kết quả")["B3"] = "F1"
    book.save(path)
    source = SourceSettings("s", "xlsx", str(path), TABS)
    before = path.read_bytes()

    with pytest.raises(
        SourceError, match=r"'Kết quả' .* already holds data \(row 3 is not empty\)"
    ):
        init_source(_settings(), source)
    assert path.read_bytes() == before

    book = load_workbook(path)
    del book["Kết quả"]
    book.create_sheet("Kết quả")
    book.save(path)
    init_source(_settings(), source)
    book = load_workbook(path)
    assert book["Ghi chú"]["A1"].value == "keep me"
    assert book["Kết quả"]["A1"].value == "finding_id"


def test_google_source_is_set_up_in_one_batch_update(
    fake: FakeGoogle, settings: GoogleSettings
) -> None:
    sid = fake.create_spreadsheet("new app", {"Sheet1": []}, shared_with={READER: "writer"})
    source = SourceSettings("s", "google", sid, TABS)

    message = init_source(_settings(settings), source, language="vi")

    assert sid in message
    assert [r.kind for r in fake.requests()] == ["spreadsheets.get", "spreadsheets.batchUpdate"]
    assert fake.tabs(sid) == ["Sheet1", "Bệnh viện", "Đánh giá", "Kết quả"]
    header = fake.sheet_values(sid, "Kết quả")[0]
    assert header == [f.header_vi for f in FIELDS["findings"]]
    match_headers("findings", header, "Kết quả")
    result_column = header.index("Kết quả")
    rule = fake.sheet(sid, "Kết quả").cells[(1, result_column)]["dataValidation"]
    assert [v["userEnteredValue"] for v in rule["condition"]["values"]] == [
        "Đạt", "Không đạt", "Không áp dụng",
    ]  # fmt: skip
    assert rule["strict"] is True and rule["showCustomUi"] is True
    assert fake.sheet(sid, "Kết quả").frozen_rows == 1
    date_column = [f.name for f in FIELDS["assessments"]].index("assessed_on")
    date_rule = fake.sheet(sid, "Đánh giá").cells[(5, date_column)]["dataValidation"]
    assert date_rule["condition"]["type"] == "DATE_IS_VALID"


def test_google_reuses_empty_tabs_and_refuses_tabs_with_data(
    fake: FakeGoogle, settings: GoogleSettings
) -> None:
    sid = fake.create_spreadsheet(
        "app",
        {"Bệnh viện": [], "Kết quả": [["finding_id"], ["F1"]]},
        shared_with={READER: "writer"},
    )
    source = SourceSettings("s", "google", sid, TABS)
    with pytest.raises(SourceError, match=r"'Kết quả' .* already holds data \(row 1 is"):
        init_source(_settings(settings), source)
    assert fake.count("spreadsheets.batchUpdate") == 0
    assert fake.count("values.batchGet") == 1  # the first rows only

    fake.set_values(sid, "Kết quả", [[None], [None]])
    init_source(_settings(settings), source)
    assert fake.tabs(sid) == ["Bệnh viện", "Kết quả", "Đánh giá"]
    assert fake.sheet_values(sid, "Bệnh viện")[0][0] == "hospital_id"


def test_running_it_again_finishes_the_job_instead_of_refusing(
    fake: FakeGoogle, settings: GoogleSettings, tmp_path: Path
) -> None:
    sid = fake.create_spreadsheet("app", {"Sheet1": []}, shared_with={READER: "writer"})
    google = SourceSettings("s", "google", sid, TABS)
    init_source(_settings(settings), google)
    first = {t: fake.sheet_values(sid, t) for t in fake.tabs(sid)}
    init_source(_settings(settings), google)
    assert {t: fake.sheet_values(sid, t) for t in fake.tabs(sid)} == first

    path = tmp_path / "source.xlsx"
    local = SourceSettings("s", "xlsx", str(path), TABS)
    init_source(_settings(), local)
    init_source(_settings(), local)
    findings = load_workbook(path)["Kết quả"]
    assert len(findings.data_validations.dataValidation) == 1


def test_google_finds_data_below_blank_first_rows(
    fake: FakeGoogle, settings: GoogleSettings
) -> None:
    header = [f.name for f in FIELDS["findings"]]
    sid = fake.create_spreadsheet(
        "app",
        {"Kết quả": [header, [None], [None], [None], ["F9"]]},
        shared_with={READER: "writer"},
    )
    source = SourceSettings("s", "google", sid, TABS)
    with pytest.raises(SourceError, match=r"'Kết quả' .* already holds data \(row 5 is"):
        init_source(_settings(settings), source)
    assert fake.count("spreadsheets.batchUpdate") == 0
