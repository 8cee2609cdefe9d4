"""The Progress tab on the xlsx backend: the overview's counts and hospitals (overdue first), each
hospital's own states only, no tab without cycles, and a new day rewriting only the dashboards
whose deadlines are near or past."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from openpyxl import load_workbook

from hqsync.config.settings import DashboardSettings, DatabaseSettings, Settings, SourceSettings
from hqsync.jobs.pipeline import Pipeline
from hqsync.jobs.status import render_status, status_report
from hqsync.models.store import open_store
from hqsync.sync.xlsx import write_source_workbook
from tests.dashboard.hospital_support import IDS, others_found, table_rows, workbook_texts
from tests.dashboard.progress_support import (
    CYCLES,
    EXPECTED_STATUS,
    PUBLISHED,
    VI,
    check_overview_rows,
    varied_tabs,
)


def _settings(tmp_path: Path, db_url: str, cycles=CYCLES) -> Settings:
    targets = {h: str(tmp_path / "hospitals" / f"{h}.xlsx") for h in IDS}
    return Settings(
        database=DatabaseSettings(db_url),
        sources=(SourceSettings("demo", "xlsx", str(tmp_path / "source.xlsx")),),
        dashboard=DashboardSettings("xlsx", str(tmp_path / "overview.xlsx"), "vi", targets),
        cycles=cycles,
    )


@pytest.fixture
def deployment(tmp_path: Path, db_url: str):
    write_source_workbook(tmp_path / "source.xlsx", varied_tabs())
    (tmp_path / "hospitals").mkdir()
    engine = open_store(db_url)
    clock = {"now": PUBLISHED}
    pipeline = Pipeline(_settings(tmp_path, db_url), engine, clock=lambda: clock["now"])
    yield pipeline, clock, tmp_path
    engine.dispose()


def test_the_overview_lists_the_counts_then_the_hospitals_overdue_first(deployment):
    pipeline, _, directory = deployment
    assert not pipeline.run_cycle(publish_always=True).failed
    overview = directory / "overview.xlsx"
    rows = table_rows(overview, VI["progress"])
    check_overview_rows(rows)
    qd = rows[0]
    assert (qd[VI["covered"]], str(qd[VI["self_due"]])[:10]) == (2025, "2025-11-30")
    tt = rows[1]
    assert (tt[VI["covered"]], str(tt[VI["self_due"]])[:10]) == (2025, "2025-12-15")
    late = next(r for r in rows[2:] if r[VI["hospital_id"]] == "BV03")
    assert str(late[VI["self_on"]])[:10] == "2025-12-02"
    book = load_workbook(overview, read_only=True)
    assert book.sheetnames[:2] == [VI["summary"], VI["progress"]]
    book.close()


def test_each_hospital_sees_only_its_own_progress(deployment):
    pipeline, _, directory = deployment
    assert not pipeline.run_cycle(publish_always=True).failed
    for hospital in IDS:
        path = directory / "hospitals" / f"{hospital}.xlsx"
        rows = table_rows(path, VI["progress"])
        shown = {
            r[VI["standard"]]: (r[VI["self_state"]], r[VI["self_status"]],
                                r.get(VI["council_state"]), r.get(VI["council_status"]))
            for r in rows
        }  # fmt: skip
        expected = {s: v for (s, h), v in EXPECTED_STATUS.items() if h == hospital}
        assert shown == expected, hospital
        assert others_found(list(workbook_texts(path)), hospital) == []


def test_a_new_day_rewrites_only_the_dashboards_whose_deadlines_are_near_or_past(deployment):
    pipeline, clock, directory = deployment
    pipeline.run_cycle(publish_always=True)
    paths = {h: directory / "hospitals" / f"{h}.xlsx" for h in IDS}
    paths["overview"] = directory / "overview.xlsx"
    before = {h: os.stat(p).st_mtime_ns for h, p in paths.items()}
    clock["now"] = PUBLISHED + timedelta(days=1)
    pipeline.publish()
    changed = {h for h, p in paths.items() if os.stat(p).st_mtime_ns != before[h]}
    # BV01 and BV02: TT 35 due in 9 days now; BV02 overdue by 6 days. BV03 (late) and BV04
    # (all done) read the same.
    assert changed == {"overview", "BV01", "BV02"}
    rows = table_rows(paths["BV02"], VI["progress"])
    assert {r[VI["self_status"]] for r in rows} == {"Quá hạn 6 ngày", "Còn 9 ngày"}


def test_without_cycles_there_is_no_progress_tab(tmp_path: Path, db_url: str):
    write_source_workbook(tmp_path / "source.xlsx", varied_tabs())
    (tmp_path / "hospitals").mkdir()
    engine = open_store(db_url)
    try:
        pipeline = Pipeline(_settings(tmp_path, db_url, cycles=()), engine, clock=lambda: PUBLISHED)
        assert not pipeline.run_cycle(publish_always=True).failed
    finally:
        engine.dispose()
    for path in (tmp_path / "overview.xlsx", tmp_path / "hospitals" / "BV01.xlsx"):
        texts = list(workbook_texts(path))
        assert VI["summary"] in texts and VI["progress"] not in texts


def test_status_prints_the_counts_per_standard(deployment):
    pipeline, _, _ = deployment
    pipeline.sync()
    report = status_report(pipeline.settings, pipeline.engine, now=PUBLISHED)
    qd, tt = report["cycles"]
    assert (qd["standard"], qd["year"], qd["hospitals"]) == ("QD6858", 2025, 4)
    assert qd["self"] == {
        "due": "2025-11-30",
        "submitted": 3,
        "draft_only": 1,
        "missing": 0,
        "late": 1,
        "overdue": 1,
        "due_soon": 0,
    }
    assert (tt["standard"], tt["hospitals"], tt["council"]) == ("TT35", 2, None)
    text = render_status(report, now=PUBLISHED)
    assert (
        "Cycle QD6858 2025 (covers 2025): 4 hospital(s); self 3/4 submitted, 1 draft only, "
        "1 overdue, 1 late (due 2025-11-30); council 3/4 submitted, 1 draft only (due 2025-12-31)"
    ) in text
    assert "Cycle TT35 2025 (covers 2025): 2 hospital(s); self 0/2 submitted, 2 due soon" in text
