"""Publishing a dashboard too big for one request: staged in hidden tabs, shown atomically."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from hqsync.config.errors import GoogleError
from hqsync.config.settings import GoogleSettings
from hqsync.sync.dashboard import (
    LEVEL_COLOURS,
    Column,
    Dashboard,
    LineChart,
    Table,
    level_colours,
)
from hqsync.sync.google import open_google_writer
from hqsync.sync.google.render import (
    GOOGLE_MAX_BODY_BYTES,
    STAGING_PREFIX,
    compact_json,
    is_staging,
    plan_publish,
    render_dashboard,
    rgb,
)
from tests.fake_google import FakeGoogle
from tests.google.conftest import READER
from tests.google.test_writer import state

TINY = 4_000
"""A body limit that stages even the small dashboards of these tests in many requests."""
CRITERIA = 12


def criteria(hospitals: int, shift: int = 0) -> Table:
    """A hospitals × criteria matrix of levels, coloured by value, with one empty cell per row."""
    rows = tuple(
        (f"Bệnh viện {h}", date(2025, 1, 1 + h % 28),
         *((None if c == h % CRITERIA else (h + c + shift) % 5 + 1) for c in range(CRITERIA)))
        for h in range(hospitals)
    )  # fmt: skip
    return Table(
        key="criteria",
        title="Tiêu chí",
        columns=(Column("Bệnh viện", width=30), Column("Ngày", "date"),
                 *(Column(f"A{c}.1", "integer", width=6) for c in range(CRITERIA))),
        rows=rows,
        value_colours=level_colours(tuple(range(2, 2 + CRITERIA))),
        freeze_columns=1,
    )  # fmt: skip


def summary(hospitals: int) -> Table:
    return Table(
        key="summary",
        title="Tổng hợp",
        columns=(Column("Bệnh viện"), Column("Điểm", "number"), Column("Ghi chú")),
        rows=tuple((f"Bệnh viện {h}", 2 + h / 10, "=SUM(A1)" if h == 0 else None)
                   for h in range(hospitals)),
        fills={(h, 1): "#63BE7B" for h in range(0, hospitals, 3)},
        freeze_columns=1,
    )  # fmt: skip


def trend() -> Table:
    return Table(
        key="trend",
        title="Xu hướng",
        columns=(Column("Kỳ", "date"), Column("BV 1", "number"), Column("BV 2", "number")),
        rows=tuple((date(2020 + y, 1, 1), 2.0 + y / 4, 3.0 - y / 10) for y in range(4)),
        chart=LineChart("Điểm theo kỳ", x_column=0, series_columns=(1, 2), anchor_column=4),
    )


def big(hospitals: int = 40, shift: int = 0) -> Dashboard:
    return Dashboard((summary(hospitals), criteria(hospitals, shift), trend()))


def new_target(fake: FakeGoogle) -> str:
    return fake.create_spreadsheet(
        "Dashboard",
        {"Ghi chú của lãnh đạo": [["Do not touch", 42]]},
        shared_with={READER: "writer"},
    )


def seen_state(fake: FakeGoogle, sid: str) -> str:
    """What a leader sees: the visible tabs and everything in them."""
    sheets = []
    for s in fake.visible(sid):
        charts = [{k: v for k, v in c.items() if k != "chartId"} for c in s.charts]
        sheets.append(
            [s.title, s.index, s.rows, s.columns, s.frozen_rows, s.frozen_columns,
             sorted(s.cells.items()), s.basic_filter, charts, s.conditional_formats]
        )  # fmt: skip
    return json.dumps(sheets, default=str, sort_keys=True)


def staging_tabs(fake: FakeGoogle, sid: str) -> list[str]:
    return [t for t in fake.tabs(sid) if is_staging(t)]


def test_a_small_dashboard_is_one_body_and_a_big_one_is_staged() -> None:
    assert len(plan_publish(big(), [])) == 1
    bodies = plan_publish(big(), [], TINY)
    assert len(bodies) > 5
    assert all(len(b) <= TINY for b in bodies[:-1])
    final = json.loads(bodies[-1])["requests"]
    assert not any("updateCells" in r and "rows" in r["updateCells"] for r in final)
    assert sum("copyPaste" in r for r in final) == 3


@pytest.mark.parametrize("republish", [False, True], ids=["fresh", "over-a-bigger-one"])
def test_a_staged_publish_ends_exactly_like_a_single_request(
    fake: FakeGoogle, settings: GoogleSettings, republish: bool
) -> None:
    single, staged = new_target(fake), new_target(fake)
    if republish:
        for sid in (single, staged):
            open_google_writer(settings, sid).publish(big(hospitals=55, shift=1))
    fake.reset_log()

    open_google_writer(settings, single).publish(big())
    open_google_writer(settings, staged, max_body_bytes=TINY).publish(big())

    assert fake.count("spreadsheets.batchUpdate", single) == 1
    assert fake.count("spreadsheets.batchUpdate", staged) > 5
    assert state(fake, staged) == state(fake, single)
    assert staging_tabs(fake, staged) == []


def test_leaders_never_see_a_partial_dashboard_between_staged_requests(
    fake: FakeGoogle, settings: GoogleSettings
) -> None:
    sid = new_target(fake)
    writer = open_google_writer(settings, sid, max_body_bytes=TINY)
    writer.publish(big(hospitals=30, shift=2))
    before = seen_state(fake, sid)
    seen: list[str] = []
    staging_seen: list[list[bool]] = []
    fake.write_observers.append(lambda s: seen.append(seen_state(fake, s)))
    fake.write_observers.append(
        lambda s: staging_seen.append(
            [x.hidden for x in fake.spreadsheets[s].sheets if is_staging(x.title)]
        )
    )

    writer.publish(big())

    after = seen_state(fake, sid)
    assert after != before
    assert len(seen) > 5
    assert seen[:-1] == [before] * (len(seen) - 1) and seen[-1] == after
    assert all(all(hidden) for hidden in staging_seen)
    assert staging_seen[0] and staging_seen[-1] == []


@pytest.mark.parametrize(
    "fault",
    [pytest.param((400, 1), id="refused"), pytest.param((503, 6), id="unavailable-6x")],
)
@pytest.mark.parametrize("failing_write", [1, 3, "last"])
def test_a_failure_mid_staging_leaves_the_visible_dashboard_untouched(
    fake: FakeGoogle,
    settings: GoogleSettings,
    fault: tuple[int, int],
    failing_write: int | str,
) -> None:
    sid = new_target(fake)
    writer = open_google_writer(settings, sid, max_body_bytes=TINY, sleep=lambda _s: None)
    writer.publish(big(hospitals=30, shift=2))
    before = seen_state(fake, sid)
    writes = len(plan_publish(big(), fake_sheets(fake, sid), TINY))
    index = writes if failing_write == "last" else int(failing_write)
    status, times = fault
    fail_on(fake, index, status, times)

    with pytest.raises(GoogleError, match=sid):
        writer.publish(big())

    assert seen_state(fake, sid) == before
    assert all(s.hidden for s in fake.spreadsheets[sid].sheets if is_staging(s.title))
    if index > 1:
        assert staging_tabs(fake, sid), "the staging tabs written so far are left behind"


def fake_sheets(fake: FakeGoogle, sid: str) -> list[dict[str, object]]:
    """The spreadsheet's sheets as the writer reads them."""
    out: list[dict[str, object]] = []
    for s in sorted(fake.spreadsheets[sid].sheets, key=lambda s: s.index):
        entry: dict[str, object] = {"properties": s.properties()}
        if s.charts:
            entry["charts"] = s.charts
        if s.basic_filter:
            entry["basicFilter"] = s.basic_filter
        if s.conditional_formats:
            entry["conditionalFormats"] = s.conditional_formats
        out.append(entry)
    return out


def fail_on(fake: FakeGoogle, write: int, status: int, times: int) -> None:
    """Make the `write`-th batchUpdate from now (1-based) fail `times` times with `status`."""
    done = fake.count("spreadsheets.batchUpdate")
    armed = False

    def arm(_sid: str) -> None:
        nonlocal armed
        if not armed and fake.count("spreadsheets.batchUpdate") == done + write - 1:
            armed = True
            fake.fail_next(status, times, path_contains=":batchUpdate")

    if write == 1:
        armed = True
        fake.fail_next(status, times, path_contains=":batchUpdate")
    fake.write_observers.append(arm)


@pytest.mark.parametrize("next_publish_tiny", [False, True], ids=["one-request", "staged"])
def test_leftover_staging_tabs_are_removed_by_the_next_publish(
    fake: FakeGoogle, settings: GoogleSettings, next_publish_tiny: bool
) -> None:
    sid, clean = new_target(fake), new_target(fake)
    open_google_writer(settings, sid).publish(big(hospitals=30, shift=2))
    open_google_writer(settings, clean).publish(big(hospitals=30, shift=2))
    fail_on(fake, 3, 400, 1)
    with pytest.raises(GoogleError):
        open_google_writer(settings, sid, max_body_bytes=TINY).publish(big())
    assert len(staging_tabs(fake, sid)) == 3
    fake.write_observers.clear()
    fake.reset_log()

    limit = TINY if next_publish_tiny else 10**7
    open_google_writer(settings, sid, max_body_bytes=limit).publish(big())
    open_google_writer(settings, clean).publish(big())

    assert staging_tabs(fake, sid) == []
    assert (fake.count("spreadsheets.batchUpdate", sid) == 1) is not next_publish_tiny
    assert state(fake, sid) == state(fake, clean)


@pytest.mark.parametrize("fault", ["drop_after", "timeout"])
def test_a_lost_answer_mid_staging_is_published_again_without_leftovers(
    fake: FakeGoogle, settings: GoogleSettings, fault: str
) -> None:
    sid, clean = new_target(fake), new_target(fake)
    open_google_writer(settings, clean).publish(big())
    writer = open_google_writer(settings, sid, max_body_bytes=TINY)
    fake.fail_next(fault, 1, path_contains=":batchUpdate")

    writer.publish(big())

    assert staging_tabs(fake, sid) == []
    assert state(fake, sid) == state(fake, clean)


def test_the_fake_refuses_a_body_over_googles_limit_like_google(
    fake: FakeGoogle, settings: GoogleSettings
) -> None:
    sid = new_target(fake)
    text = "x" * 1000
    wide = Table("wide", "Rộng", tuple(Column(f"c{i}") for i in range(10)),
                 tuple(tuple(f"{r}{text}" for _ in range(10)) for r in range(1_100)))  # fmt: skip
    body = compact_json({"requests": render_dashboard(Dashboard((wide,)), [])})
    assert len(body) > GOOGLE_MAX_BODY_BYTES

    with pytest.raises(GoogleError, match="Request payload size exceeds the limit"):
        open_google_writer(settings, sid, max_body_bytes=len(body)).publish(Dashboard((wide,)))
    assert fake.tabs(sid) == ["Ghi chú của lãnh đạo"]

    open_google_writer(settings, sid).publish(Dashboard((wide,)))  # the default stages it
    assert fake.count("spreadsheets.batchUpdate", sid) == 1 + 3
    assert fake.sheet_values(sid, "Rộng")[1100] == [f"1099{text}"] * 10


def test_conditional_colours_show_each_level_and_do_not_pile_up(
    fake: FakeGoogle, settings: GoogleSettings
) -> None:
    sid = new_target(fake)
    writer = open_google_writer(settings, sid)
    writer.publish(big(hospitals=8))
    writer.publish(big(hospitals=6, shift=3))
    table = criteria(6, shift=3)
    sheet = fake.sheet(sid, "Tiêu chí")
    assert len(sheet.conditional_formats) == len(LEVEL_COLOURS)
    for r, row in enumerate(table.rows, start=1):
        for c, level in enumerate(row[2:], start=2):
            shown = fake.shown_background(sid, "Tiêu chí", r, c)
            assert shown == (rgb(LEVEL_COLOURS[level]) if isinstance(level, int) else None)
    assert fake.shown_background(sid, "Tiêu chí", 1, 0) is None  # names are not coloured
    assert all("backgroundColor" not in f for (r, _), f in fake.formats(sid, "Tiêu chí").items()
               if r > 0)  # fmt: skip

    writer.publish(Dashboard((Table("criteria", "Tiêu chí", (Column("Bệnh viện"),), ()),)))
    assert fake.sheet(sid, "Tiêu chí").conditional_formats == []


def test_staging_titles_cannot_be_used_by_the_dashboard() -> None:
    table = Table("x", STAGING_PREFIX + "x", (Column("a"),), ())
    with pytest.raises(ValueError, match="must not start with"):
        plan_publish(Dashboard((table,)), [])


@hsettings(max_examples=25, deadline=None)
@given(
    hospitals=st.integers(0, 25),
    limit=st.integers(600, 20_000),
    leftovers=st.integers(0, 2),
)
def test_staged_bodies_stay_under_the_limit_and_carry_every_row(
    hospitals: int, limit: int, leftovers: int
) -> None:
    existing = [
        {"properties": {"sheetId": 900 + i, "title": f"{STAGING_PREFIX}old {i}", "hidden": True}}
        for i in range(leftovers)
    ]
    dashboard = Dashboard((criteria(hospitals), trend()))
    bodies = plan_publish(dashboard, existing, limit)
    requests = [json.loads(b)["requests"] for b in bodies]
    row_data = json.loads(compact_json(render_dashboard(dashboard, [])))
    if len(bodies) == 1:
        assert requests[0][:leftovers] == [{"deleteSheet": {"sheetId": 900 + i}}
                                           for i in range(leftovers)]  # fmt: skip
        return
    for body, reqs in zip(bodies[:-1], requests[:-1], strict=True):
        assert len(body) <= limit or len(reqs) == 1
    staged: dict[int, dict[int, object]] = {}
    for reqs in requests[:-1]:
        for r in reqs:
            if "updateCells" in r:
                start = r["updateCells"]["start"]
                for i, row in enumerate(r["updateCells"]["rows"]):
                    staged.setdefault(start["sheetId"], {})[start["rowIndex"] + i] = row
    written = [r["updateCells"]["rows"] for r in row_data if "rows" in r.get("updateCells", {})]
    assert sorted(len(v) for v in staged.values()) == sorted(len(w) for w in written)
    for rows in staged.values():
        assert sorted(rows) == list(range(len(rows)))
        assert [rows[i] for i in sorted(rows)] in written
    deleted = {r["deleteSheet"]["sheetId"] for reqs in requests for r in reqs if "deleteSheet" in r}
    assert deleted == set(staged) | {900 + i for i in range(leftovers)}
