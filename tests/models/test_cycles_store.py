"""Cycle states read from a synced store, on SQLite and PostgreSQL (models/cycles.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from hqsync.config.errors import ConfigError
from hqsync.config.ruleset_loader import load_rule_sets
from hqsync.config.settings import DatabaseSettings, Settings, SourceSettings
from hqsync.config.vocabulary import AssessmentKind, Covers, DueState, Submission
from hqsync.jobs.pipeline import Pipeline
from hqsync.models import tables
from hqsync.models.cycles import load_cycle_report, load_cycle_states
from hqsync.models.store import open_store
from hqsync.scoring.cycles import Cycle, MonthDay
from hqsync.sync.xlsx import write_source_workbook

RULE_SETS = load_rule_sets()
SYNCED = datetime(2026, 2, 1, 2, 0, tzinfo=UTC)
QD = Cycle("QĐ 6858", MonthDay(11, 30), MonthDay(12, 31))
TT = Cycle("TT35", MonthDay(3, 31), covers=Covers.PREVIOUS_YEAR, applies_when="Là bệnh viện")

HOSPITALS = [
    ["Mã bệnh viện", "Tên bệnh viện", "has_obstetrics", "active", "Là bệnh viện"],
    ["BV01", "Bệnh viện Một", "có", True, "có"],
    ["BV02", "Trung tâm Y tế Hai", "không", True, "không"],
    ["BV03", "Bệnh viện Ba", "có", "không", "có"],  # closed
    ["BV04", "Bệnh viện Bốn", None, None, "x"],
]
ASSESSMENTS = [
    ["assessment_id", "Mã bệnh viện", "Bộ tiêu chí", "kind", "Ngày đánh giá", "status",
     "updated_at"],
    ["a1", "BV01", "QD6858", "self", date(2026, 1, 15), "submitted", None],
    ["a2", "BV01", "TT 35/2024", "tự đánh giá", date(2026, 1, 20), "nháp", None],
    ["a3", "BV01", "TT35", "self", date(2026, 1, 25), "đã duyệt", None],
    ["a4", "BV02", "QD6858", "self", date(2025, 11, 2), "submitted", None],  # last cycle
    ["a5", "BV02", "QD6858", "self", date(2026, 1, 3), "draft", None],
    # no assessed_on: dated by updated_at's local date (2026-01-01 03:00 in Hồ Chí Minh City)
    ["a6", "BV04", "QD6858", "council", None, "submitted", datetime(2026, 1, 1, 3, 0)],
    ["a7", "BV04", "QD6858", "self", None, "submitted", None],  # dated when first seen
    ["a8", "BV03", "QD6858", "self", date(2026, 1, 5), "submitted", None],
]  # fmt: skip


@pytest.fixture
def store(tmp_path: Path, db_url: str):
    tabs = {"Hospitals": HOSPITALS, "Assessments": ASSESSMENTS, "Findings": [["finding_id",
            "Mã đánh giá", "Mã tiểu mục", "Kết quả"]]}  # fmt: skip
    write_source_workbook(tmp_path / "source.xlsx", tabs)
    settings = Settings(
        database=DatabaseSettings(db_url),
        sources=(SourceSettings("demo", "xlsx", str(tmp_path / "source.xlsx")),),
    )
    engine = open_store(db_url)
    outcome = Pipeline(settings, engine, clock=lambda: SYNCED).sync()
    assert not outcome.failed_sources, outcome.errors
    yield engine
    engine.dispose()


def test_states_from_the_store(store):
    today = date(2026, 2, 1)
    states = load_cycle_states(store, [QD, TT], RULE_SETS, today)
    got = {
        (s.standard, s.hospital_id): (
            s.self_state, s.self_on, s.council_state, s.council_on, s.covered_year,
        )
        for s in states
    }  # fmt: skip
    sent, draft, missing = Submission.SUBMITTED, Submission.DRAFT_ONLY, Submission.MISSING
    assert got == {
        ("QD6858", "BV01"): (sent, date(2026, 1, 15), missing, None, 2026),
        ("QD6858", "BV02"): (draft, None, missing, None, 2026),
        ("QD6858", "BV04"): (sent, date(2026, 2, 1), sent, date(2026, 1, 1), 2026),
        ("TT35", "BV01"): (sent, date(2026, 1, 25), None, None, 2025),
        ("TT35", "BV04"): (missing, None, None, None, 2025),
    }
    assert {s.name for s in states} == {"Bệnh viện Một", "Trung tâm Y tế Hai", "Bệnh viện Bốn"}


def test_counts_from_the_store_and_an_unknown_standard(store):
    report = load_cycle_report(store, [QD, TT], RULE_SETS, date(2026, 4, 1), due_soon_days=14)
    qd, tt = report.counts
    assert (qd.hospitals, qd.self_counts.submitted, qd.self_counts.draft_only) == (3, 2, 1)
    assert (tt.hospitals, tt.self_counts.submitted, tt.self_counts.overdue) == (2, 1, 1)
    (bv04,) = [s for s in report.of_hospital("BV04") if s.standard == "TT35"]
    assert bv04.due_state(AssessmentKind.SELF, report.today, 14) == DueState.OVERDUE
    with pytest.raises(ConfigError, match=r"cycles\[1\]\.standard = 'QD 9999'"):
        load_cycle_states(store, [Cycle("QD 9999", MonthDay(1, 1))], RULE_SETS, date(2026, 1, 1))


def test_deleted_assessments_do_not_count_and_no_cycles_reads_nothing(store):
    with store.begin() as conn:
        a = tables.assessments
        conn.execute(sa.update(a).where(a.c.assessment_id == "a1").values(deleted=True))
    states = load_cycle_states(store, [QD], RULE_SETS, date(2026, 2, 1))
    (bv01,) = [s for s in states if s.hospital_id == "BV01"]
    assert bv01.self_state == Submission.MISSING
    assert load_cycle_states(store, [], RULE_SETS, date(2026, 2, 1)) == []


def test_an_applies_when_column_no_tab_has_is_warned_about(store, caplog):
    cycle = Cycle("TT35", MonthDay(3, 31), applies_when="Có phòng mổ")
    assert load_cycle_states(store, [cycle], RULE_SETS, date(2026, 2, 1)) == []
    assert "cycles[1].applies_when = 'Có phòng mổ': no Hospitals tab has that column" in caplog.text
    typed = Cycle("TT35", MonthDay(3, 31), applies_when="has_obstetrics")
    states = load_cycle_states(store, [typed], RULE_SETS, date(2026, 2, 1))
    assert [s.hospital_id for s in states] == ["BV01"]
