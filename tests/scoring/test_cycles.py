"""Cycle states for a table of cases, with the day injected (scoring/cycles.py is pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pytest

from hqsync.config.errors import ConfigError
from hqsync.config.ruleset_loader import load_rule_sets
from hqsync.config.vocabulary import AssessmentKind, Covers, DueState, Status, Submission
from hqsync.scoring.cycles import (
    Cycle,
    CycleAssessment,
    CycleHospital,
    HospitalCycle,
    MonthDay,
    check_cycles,
    cycle_report,
    cycle_states,
    is_yes,
    standard_resolver,
)

RULE_SETS = load_rule_sets()
RESOLVE = standard_resolver(RULE_SETS)
SELF, COUNCIL = AssessmentKind.SELF, AssessmentKind.COUNCIL
QD = Cycle("QD6858", MonthDay(11, 30), MonthDay(12, 31))
TT = Cycle("TT35", MonthDay(3, 31), covers=Covers.PREVIOUS_YEAR)
BV01 = CycleHospital("BV01", "Bệnh viện Một")


def sent(on: date, standard: str = "QD6858", kind: AssessmentKind = SELF) -> CycleAssessment:
    return CycleAssessment("BV01", standard, kind, Status.SUBMITTED, on)


def draft(on: date, standard: str = "QD6858", kind: AssessmentKind = SELF) -> CycleAssessment:
    return CycleAssessment("BV01", standard, kind, Status.DRAFT, on)


@dataclass(frozen=True)
class Case:
    name: str
    today: date
    assessments: tuple[CycleAssessment, ...]
    state: Submission
    on: date | None
    due_state: DueState
    days_left: int
    cycle: Cycle = QD
    kind: AssessmentKind = SELF
    due_soon_days: int = 14


CASES = (
    Case("submitted", date(2026, 12, 5), (sent(date(2026, 9, 3)),), Submission.SUBMITTED,
         date(2026, 9, 3), DueState.DONE, -5),
    Case("submitted on the due date", date(2026, 11, 30), (sent(date(2026, 11, 30)),),
         Submission.SUBMITTED, date(2026, 11, 30), DueState.DONE, 0),
    Case("approved counts, the first date wins", date(2026, 10, 1),
         (sent(date(2026, 9, 20)), CycleAssessment("BV01", "QĐ 6858", SELF, Status.APPROVED,
                                                   date(2026, 6, 2))),
         Submission.SUBMITTED, date(2026, 6, 2), DueState.DONE, 60),
    Case("late", date(2026, 12, 20), (sent(date(2026, 12, 10)),), Submission.SUBMITTED,
         date(2026, 12, 10), DueState.LATE, -20),
    Case("draft only, pending", date(2026, 6, 1), (draft(date(2026, 5, 1)),),
         Submission.DRAFT_ONLY, None, DueState.PENDING, 182),
    Case("draft only, overdue", date(2026, 12, 1), (draft(date(2026, 5, 1)),),
         Submission.DRAFT_ONLY, None, DueState.OVERDUE, -1),
    Case("a draft before a submission does not date it", date(2026, 12, 1),
         (draft(date(2026, 5, 1)), sent(date(2026, 11, 2))), Submission.SUBMITTED,
         date(2026, 11, 2), DueState.DONE, -1),
    Case("missing, pending", date(2026, 11, 15), (), Submission.MISSING, None,
         DueState.PENDING, 15),
    Case("missing, due soon at the edge", date(2026, 11, 16), (), Submission.MISSING, None,
         DueState.DUE_SOON, 14),
    Case("missing, due today", date(2026, 11, 30), (), Submission.MISSING, None,
         DueState.DUE_SOON, 0),
    Case("missing, overdue", date(2026, 12, 3), (), Submission.MISSING, None,
         DueState.OVERDUE, -3),
    Case("due_soon_days 0: only the day itself", date(2026, 11, 29), (), Submission.MISSING,
         None, DueState.PENDING, 1, due_soon_days=0),
    Case("last year's assessment is another cycle", date(2026, 12, 3),
         (sent(date(2025, 11, 2)),), Submission.MISSING, None, DueState.OVERDUE, -3),
    Case("another standard does not count", date(2026, 12, 3),
         (sent(date(2026, 11, 2), "TT35"),), Submission.MISSING, None, DueState.OVERDUE, -3),
    Case("an undated assessment does not count", date(2026, 12, 3),
         (CycleAssessment("BV01", "QD6858", SELF, Status.SUBMITTED, None),),
         Submission.MISSING, None, DueState.OVERDUE, -3),
    Case("council submitted", date(2026, 12, 5), (sent(date(2026, 12, 1), kind=COUNCIL),),
         Submission.SUBMITTED, date(2026, 12, 1), DueState.DONE, 26, kind=COUNCIL),
    Case("a self-assessment is not the council's", date(2026, 12, 5),
         (sent(date(2026, 12, 1)),), Submission.MISSING, None, DueState.DUE_SOON, 26,
         kind=COUNCIL, due_soon_days=30),
    Case("covers the previous year: made in Q1", date(2026, 2, 10),
         (sent(date(2026, 1, 20), "TT 35/2024"),), Submission.SUBMITTED, date(2026, 1, 20),
         DueState.DONE, 49, cycle=TT),
    Case("covers the previous year: last year's Q1 is not this cycle", date(2026, 3, 20),
         (sent(date(2025, 3, 1), "TT35"),), Submission.MISSING, None, DueState.DUE_SOON, 11,
         cycle=TT),
    Case("29 February in a common year falls on the 28th", date(2025, 2, 28), (),
         Submission.MISSING, None, DueState.DUE_SOON, 0, cycle=Cycle("TT35", MonthDay(2, 29))),
    Case("29 February in a leap year", date(2024, 2, 28), (), Submission.MISSING, None,
         DueState.DUE_SOON, 1, cycle=Cycle("TT35", MonthDay(2, 29))),
)  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_hospitals_state_in_the_current_cycle(case: Case):
    (state,) = cycle_states([case.cycle], [BV01], case.assessments, case.today, RESOLVE)
    assert (state.hospital_id, state.name, state.year) == ("BV01", "Bệnh viện Một", case.today.year)
    assert state.state(case.kind) == case.state
    assert state.submitted_on(case.kind) == case.on
    assert state.due_state(case.kind, case.today, case.due_soon_days) == case.due_state
    assert state.days_left(case.kind, case.today) == case.days_left


def test_covered_year_and_deadlines():
    today = date(2026, 2, 10)
    qd, tt = cycle_states([QD, TT], [BV01], [], today, RESOLVE)
    assert (qd.standard, qd.year, qd.covered_year) == ("QD6858", 2026, 2026)
    assert (qd.self_due, qd.council_due, qd.kinds) == (
        date(2026, 11, 30),
        date(2026, 12, 31),
        (SELF, COUNCIL),
    )
    assert (tt.standard, tt.year, tt.covered_year) == ("TT35", 2026, 2025)
    assert (tt.council_state, tt.council_due, tt.kinds) == (None, None, (SELF,))
    assert tt.days_left(COUNCIL, today) is None
    with pytest.raises(ValueError, match="no council deadline"):
        tt.due_state(COUNCIL, today, 14)


def test_a_cycle_applies_only_where_it_should():
    hospitals = [
        CycleHospital("BV01", "Một", True, columns={"Là bệnh viện": "có"}),
        CycleHospital("BV02", "Hai", None, columns={"la benh vien": True}),
        CycleHospital("BV03", "Ba", None, columns={"LÀ BỆNH VIỆN": "không"}),
        CycleHospital("BV04", "Bốn", None),  # the column is not there: not yes
        CycleHospital("BV05", "Năm", False, columns={"Là bệnh viện": "x"}),  # inactive
        CycleHospital("BV06", "Sáu", None, deleted=True, columns={"Là bệnh viện": 1}),
        CycleHospital("BV07", "Bảy", None, columns={"Là bệnh viện": "Yes"}),  # excluded
        CycleHospital("BV08", "Tám", None, columns={"Là bệnh viện": 1}),
    ]
    cycle = Cycle("TT35", MonthDay(3, 31), applies_when="la_benh_vien", exclude=("BV07",))
    everyone = Cycle("QD6858", MonthDay(11, 30))
    states = cycle_states([cycle, everyone], hospitals, [], date(2026, 5, 1), RESOLVE)
    assert [s.hospital_id for s in states if s.standard == "TT35"] == ["BV01", "BV02", "BV08"]
    assert [s.hospital_id for s in states if s.standard == "QD6858"] == [
        "BV01", "BV02", "BV03", "BV04", "BV07", "BV08",
    ]  # fmt: skip


def test_a_hospital_listed_by_two_sources_is_one_hospital():
    rows = [
        CycleHospital("BV01", "", None, columns={"applies": "no"}),
        CycleHospital("BV01", "Một", None, columns={"applies": "yes"}),
        CycleHospital("BV02", "Hai", None),
        CycleHospital("BV02", "Hai", False),  # one source says it closed
        CycleHospital("BV03", "Ba", False, deleted=True),  # a deleted row says nothing
        CycleHospital("BV03", "Ba", None),
    ]
    cycle = Cycle("QD6858", MonthDay(11, 30), applies_when="applies")
    states = cycle_states([cycle, TT], rows, [], date(2026, 5, 1), RESOLVE)
    assert [(s.standard, s.hospital_id, s.name) for s in states] == [
        ("QD6858", "BV01", "Một"),
        ("TT35", "BV01", "Một"),
        ("TT35", "BV03", "Ba"),
    ]


def test_a_cycle_naming_an_unknown_standard_is_a_config_error():
    cycles = [QD, Cycle("TT 99", MonthDay(3, 31))]
    with pytest.raises(ConfigError, match=r"cycles\[2\]\.standard = 'TT 99'.*known: .*QD6858"):
        check_cycles(cycles, RESOLVE, RULE_SETS)
    with pytest.raises(ConfigError, match=r"cycles\[2\]\.standard"):
        cycle_states(cycles, [BV01], [], date(2026, 1, 1), RESOLVE)
    twice = [QD, Cycle("QĐ 6858", MonthDay(10, 31))]
    with pytest.raises(ConfigError, match=r"cycles\[2\].*cycles\[1\].*QD6858"):
        check_cycles(twice, RESOLVE)


def test_counts_per_cycle():
    hospitals = [CycleHospital(f"BV0{n}", f"H{n}") for n in range(1, 7)]
    on = date(2026, 6, 1)
    assessments = [
        CycleAssessment("BV01", "QD6858", SELF, Status.SUBMITTED, on),
        CycleAssessment("BV02", "QD6858", SELF, Status.SUBMITTED, date(2026, 12, 2)),  # late
        CycleAssessment("BV03", "QD6858", SELF, Status.DRAFT, on),
        CycleAssessment("BV01", "QD6858", COUNCIL, Status.SUBMITTED, on),
    ]
    today = date(2026, 12, 20)
    report = cycle_report([QD, TT], hospitals, assessments, today, 14, RESOLVE)
    qd, tt = report.counts
    assert (qd.standard, qd.hospitals, qd.year, qd.covered_year) == ("QD6858", 6, 2026, 2026)
    own, council = qd.self_counts, qd.council_counts
    assert council is not None
    assert (own.submitted, own.draft_only, own.missing, own.late, own.overdue, own.due_soon) == (
        2, 1, 3, 1, 4, 0,
    )  # fmt: skip
    assert (council.submitted, council.missing, council.overdue, council.due_soon) == (1, 5, 0, 5)
    assert (tt.hospitals, tt.covered_year, tt.council_counts) == (6, 2025, None)
    assert tt.as_json()["self"] == {
        "due": "2026-03-31",
        "submitted": 0,
        "draft_only": 0,
        "missing": 6,
        "late": 0,
        "overdue": 6,
        "due_soon": 0,
    }
    assert qd.as_json()["council"]["due_soon"] == 5
    assert [s.standard for s in report.of_hospital("BV01")] == ["QD6858", "TT35"]
    assert report.of_hospital("BV99") == ()


def test_urgency_orders_overdue_then_due_soon_then_the_rest():
    def state(self_state: Submission, council_state: Submission) -> HospitalCycle:
        return HospitalCycle(
            "BV01", "QD6858", 2026, 2026, self_state, None, date(2026, 11, 30),
            council_state, None, date(2026, 12, 31),
        )  # fmt: skip

    today = date(2026, 12, 20)
    missing, sent_ = Submission.MISSING, Submission.SUBMITTED
    assert state(missing, missing).urgency(today, 14) == 0
    assert state(sent_, missing).urgency(today, 14) == 1
    assert state(sent_, missing).urgency(today, 5) == 2


@pytest.mark.parametrize(
    ("value", "yes"),
    [(True, True), (False, False), (1, True), (0, False), ("có", True), ("Có", True),
     ("co", True), ("x", True), ("YES", True), ("1", True), ("không", False), ("", False),
     (None, False), ("2026-01-01", False)],
)  # fmt: skip
def test_yes_reads_the_vocabularys_words(value: object, yes: bool):
    assert is_yes(value) is yes
