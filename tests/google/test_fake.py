"""The fake Google API itself: real gspread code against it, A1 ranges, errors, faults, log."""

from __future__ import annotations

import json
from datetime import date

import gspread
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hqsync.config.settings import GoogleSettings
from hqsync.sync.google import WRITE_SCOPES, GoogleClient
from tests.fake_google import FakeGoogle
from tests.fake_google.a1 import format_range, sheet_prefix, split_range
from tests.google.conftest import READER

SHEETS = "https://www.googleapis.com/auth/spreadsheets"


def call(fake: FakeGoogle, method: str, path: str, token: str | None, body: object = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = fake.handle(
        method, fake.sheets_base + path, headers, json.dumps(body) if body is not None else None
    )
    return answer.status, (json.loads(answer.body) if answer.body else None)


def test_gspread_works_against_the_fake(fake: FakeGoogle, settings: GoogleSettings) -> None:
    sid = fake.create_spreadsheet("s", {"Bệnh viện": [["a", "b"], [1, True]]})
    client = GoogleClient.from_settings(settings, WRITE_SCOPES)
    gc = gspread.Client(auth=None, session=client.session)  # type: ignore[arg-type]
    book = gc.open_by_key(sid)
    sheet = book.worksheet("Bệnh viện")
    assert sheet.get_all_values() == [["a", "b"], ["1", "TRUE"]]
    sheet.update(
        [["x", "=1+2"]], "A3", value_input_option=gspread.utils.ValueInputOption.user_entered
    )
    assert sheet.acell("B3").value == "3"
    assert (
        sheet.acell("B3", value_render_option=gspread.utils.ValueRenderOption.formula).value
        == "=1+2"
    )
    new = book.add_worksheet("Tiêu chí 'A'", rows=5, cols=3)
    new.freeze(rows=1)
    assert [w.title for w in book.worksheets()] == ["Bệnh viện", "Tiêu chí 'A'"]
    assert fake.sheet(sid, "Tiêu chí 'A'").frozen_rows == 1


def test_values_under_each_render_option(fake: FakeGoogle) -> None:
    sid = fake.create_spreadsheet(
        "s", {"T": [["d", "n", "b", "f"], [date(2024, 3, 1), 0.5, False]]}
    )
    fake.set_values(sid, "T", [["=2*3"]], start="D2", user_entered=True)
    cases = {
        ("UNFORMATTED_VALUE", "SERIAL_NUMBER"): [45352, 0.5, False, 6],
        ("UNFORMATTED_VALUE", "FORMATTED_STRING"): ["2024-03-01", 0.5, False, 6],
        ("FORMATTED_VALUE", "SERIAL_NUMBER"): ["2024-03-01", "0.5", "FALSE", "6"],
        ("FORMULA", "SERIAL_NUMBER"): [45352, 0.5, False, "=2*3"],
    }
    for (value, dates), want in cases.items():
        assert fake.sheet_values(sid, "T", value, dates)[1] == want, (value, dates)


@given(title=st.text(min_size=1, max_size=12).filter(lambda t: t.strip() == t and "!" not in t))
def test_ranges_round_trip_through_quoting(title: str) -> None:
    text = format_range(title, 1, 5, 0, 3)
    assert text.endswith("!A2:C5")
    assert split_range(text, [title, "Other"])[0] == title
    assert split_range(sheet_prefix(title), [title])[1].row1 is None


@pytest.mark.parametrize(
    ("title", "shown"),
    [("Sheet1", "Sheet1"), ("Tổng hợp", "'Tổng hợp'"), ("It's", "'It''s'"), ("A1", "'A1'")],
)
def test_tab_names_are_quoted_like_google_does(title: str, shown: str) -> None:
    assert sheet_prefix(title) == shown


def test_error_bodies(fake: FakeGoogle) -> None:
    sid = fake.create_spreadsheet("s", shared_with={"other@example.org": "writer"})
    reader = fake.issue_token(READER, ["https://www.googleapis.com/auth/spreadsheets.readonly"])
    status, body = call(fake, "GET", f"/v4/spreadsheets/{sid}", None)
    assert status == 401 and body["error"]["status"] == "UNAUTHENTICATED"
    status, body = call(fake, "GET", "/v4/spreadsheets/nope", reader)
    assert (status, body["error"]["status"]) == (404, "NOT_FOUND")
    status, body = call(fake, "GET", f"/v4/spreadsheets/{sid}", reader)
    assert (status, body["error"]["message"]) == (403, "The caller does not have permission")
    fake.share(sid, READER, "reader")
    status, body = call(
        fake, "POST", f"/v4/spreadsheets/{sid}:batchUpdate", reader, {"requests": []}
    )
    assert (
        status == 403 and body["error"]["details"][0]["reason"] == "ACCESS_TOKEN_SCOPE_INSUFFICIENT"
    )
    status, body = call(fake, "GET", f"/v4/spreadsheets/{sid}/values/Nope!A1", reader)
    assert (status, body["error"]["message"]) == (400, "Unable to parse range: Nope!A1")
    drive = fake.handle(
        "GET", f"{fake.drive_base}/drive/v3/files/zzz", {"Authorization": f"Bearer {reader}"}, None
    )
    assert (
        drive.status == 404 and json.loads(drive.body)["error"]["errors"][0]["reason"] == "notFound"
    )


def test_writes_need_a_writer_and_bump_modified_time(fake: FakeGoogle) -> None:
    sid = fake.create_spreadsheet("s", shared_with={READER: "reader"})
    token = fake.issue_token(READER, [SHEETS])
    body = {"requests": [{"addSheet": {"properties": {"title": "X"}}}]}
    assert call(fake, "POST", f"/v4/spreadsheets/{sid}:batchUpdate", token, body)[0] == 403
    fake.share(sid, READER, "writer")
    before = fake.modified_time(sid)
    status, reply = call(fake, "POST", f"/v4/spreadsheets/{sid}:batchUpdate", token, body)
    assert status == 200 and reply["replies"][0]["addSheet"]["properties"]["title"] == "X"
    assert fake.modified_time(sid) > before


@pytest.mark.parametrize(
    "bad",
    [
        {"addSheet": {"properties": {"title": "Sheet1"}}},
        {"deleteSheet": {"sheetId": 12345}},
        {"updateCells": {"range": {"sheetId": 0, "endRowIndex": 5000}, "fields": "*"}},
        {
            "updateSheetProperties": {
                "properties": {"sheetId": 0, "gridProperties": {"frozenRowCount": 1000}},
                "fields": "gridProperties.frozenRowCount",
            }
        },
        {"deleteEmbeddedObject": {"objectId": 7}},
        {"noSuchRequest": {}},
    ],
)
def test_a_bad_request_refuses_the_whole_batch(fake: FakeGoogle, bad: dict) -> None:
    sid = fake.create_spreadsheet("s", {"Sheet1": [["keep"]]})
    token = fake.issue_token(READER, [SHEETS])
    body = {"requests": [{"addSheet": {"properties": {"title": "New"}}}, bad]}
    status, reply = call(fake, "POST", f"/v4/spreadsheets/{sid}:batchUpdate", token, body)
    assert status == 400 and reply["error"]["status"] == "INVALID_ARGUMENT"
    assert fake.tabs(sid) == ["Sheet1"] and fake.sheet_values(sid, "Sheet1") == [["keep"]]


def test_injected_faults_match_count_method_and_path(fake: FakeGoogle) -> None:
    sid = fake.create_spreadsheet("s")
    token = fake.issue_token(READER, [SHEETS])
    fake.fail_next(503, 2, path_contains="/values/", method="GET")
    assert call(fake, "GET", f"/v4/spreadsheets/{sid}", token)[0] == 200
    assert call(fake, "GET", f"/v4/spreadsheets/{sid}/values/Sheet1", token)[0] == 503
    assert call(fake, "GET", f"/v4/spreadsheets/{sid}/values/Sheet1", token)[0] == 503
    assert call(fake, "GET", f"/v4/spreadsheets/{sid}/values/Sheet1", token)[0] == 200
    assert fake.count("values.get") == 3 and fake.count("spreadsheets.get", sid) == 1
