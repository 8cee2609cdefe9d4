"""compare_assessments: change, rank, at-risk and self-vs-council differences."""

from __future__ import annotations

import json
from datetime import date

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hqsync.config.ruleset_loader import load_rule_sets
from hqsync.config.vocabulary import NoScoreReason
from hqsync.scoring import compare_assessments, score_assessments
from hqsync.scoring.compare import criterion_medians
from hqsync.scoring.compare_rows import no_score_reason
from tests.scoring.factories import (
    assessment,
    assessments_frame,
    findings_frame,
    hospitals_frame,
    reaching,
)

COLUMNS = [
    "assessment_key",
    "hospital_key",
    "standard",
    "kind",
    "assessed_on",
    "status",
    "score",
    "band",
    "passed",
]


def scores(*rows) -> pd.DataFrame:
    return pd.DataFrame([dict(zip(COLUMNS, r, strict=True)) for r in rows], columns=COLUMNS)


def no_criteria() -> pd.DataFrame:
    return pd.DataFrame(columns=["assessment_key", "code", "level", "value", "status", "details"])


def by_key(frame: pd.DataFrame) -> dict[str, dict]:
    return {r["assessment_key"]: r for r in frame.to_dict("records")}


D = date
QD = "QD6858"


def test_first_assessment_has_no_previous_and_change_follows():
    result = compare_assessments(
        scores(
            ("a1", "h1", QD, "council", D(2023, 5, 1), "approved", 3.2, "Khá", None),
            ("a2", "h1", QD, "council", D(2024, 5, 1), "approved", 3.5, "Khá", None),
            ("a3", "h1", QD, "council", D(2025, 5, 1), "submitted", 3.25, "Khá", None),
        ),
        no_criteria(),
    )
    rows = by_key(result.assessments)
    assert rows["a1"]["previous_assessment_key"] is None
    assert rows["a1"]["change"] is None and rows["a1"]["at_risk"] is None
    assert (rows["a2"]["previous_assessment_key"], rows["a2"]["change"]) == ("a1", 0.3)
    assert (rows["a3"]["previous_score"], rows["a3"]["change"]) == (3.5, -0.25)
    assert rows["a3"]["at_risk"] is False  # fell, but stayed in its band
    # only the latest of the series is ranked
    assert [rows[k]["rank"] for k in ("a1", "a2", "a3")] == [None, None, 1]


def test_drafts_never_count_for_change_or_rank():
    result = compare_assessments(
        scores(
            ("a1", "h1", QD, "self", D(2024, 1, 1), "approved", 3.0, "Khá", None),
            ("d1", "h1", QD, "self", D(2024, 6, 1), "draft", 4.5, "Tốt", None),
            ("a2", "h1", QD, "self", D(2025, 1, 1), "approved", 3.1, "Khá", None),
            ("b1", "h2", QD, "self", D(2025, 1, 1), "submitted", 3.6, "Khá", None),
        ),
        no_criteria(),
    )
    rows = by_key(result.assessments)
    assert rows["a2"]["previous_assessment_key"] == "a1"  # not the draft in between
    assert rows["d1"]["previous_assessment_key"] is None and rows["d1"]["rank"] is None
    assert rows["d1"]["change"] is None
    assert (rows["b1"]["rank"], rows["a2"]["rank"]) == (1, 2)
    assert rows["a2"]["ranked"] == 2


def test_ties_share_the_best_rank_per_standard_and_kind():
    result = compare_assessments(
        scores(
            ("a", "h1", QD, "council", D(2025, 1, 1), "approved", 3.5, "Khá", None),
            ("b", "h2", QD, "council", D(2025, 1, 2), "approved", 3.5, "Khá", None),
            ("c", "h3", QD, "council", D(2025, 1, 3), "approved", 4.1, "Tốt", None),
            ("d", "h4", QD, "council", D(2025, 1, 4), "approved", 2.0, "Trung bình", None),
            ("e", "h5", QD, "council", D(2025, 1, 5), "approved", None, None, None),
            ("s", "h1", QD, "self", D(2025, 1, 1), "approved", 2.0, "Trung bình", None),
            ("t", "h1", "TT35", "council", D(2025, 1, 1), "approved", 90.0, None, False),
        ),
        no_criteria(),
    )
    ranks = {k: r["rank"] for k, r in by_key(result.assessments).items()}
    assert ranks == {"a": 2, "b": 2, "c": 1, "d": 4, "e": None, "s": 1, "t": 1}


@pytest.mark.parametrize(
    ("before", "after", "at_risk"),
    [
        ((4.1, "Tốt", None), (3.9, "Khá", None), True),  # fell a band
        ((3.9, "Khá", None), (3.5, "Khá", None), False),  # fell inside the band
        ((3.9, "Khá", None), (4.2, "Tốt", None), False),  # rose a band
        ((100.0, None, True), (97.67, None, False), True),  # TT 35 newly failed
        ((97.67, None, False), (95.35, None, False), False),  # failed both times
        ((97.67, None, False), (100.0, None, True), False),
        ((None, None, None), (3.0, "Khá", None), False),  # no score before
    ],
)
def test_at_risk(before, after, at_risk):
    result = compare_assessments(
        scores(
            ("a1", "h1", QD, "council", D(2024, 1, 1), "approved", *before),
            ("a2", "h1", QD, "council", D(2025, 1, 1), "approved", *after),
        ),
        no_criteria(),
    )
    assert by_key(result.assessments)["a2"]["at_risk"] is at_risk


def _change(before: float, after: float) -> float | None:
    result = compare_assessments(
        scores(
            ("a1", "h1", QD, "council", D(2024, 1, 1), "approved", before, "Khá", None),
            ("a2", "h1", QD, "council", D(2025, 1, 1), "approved", after, "Khá", None),
        ),
        no_criteria(),
    )
    return by_key(result.assessments)["a2"]["change"]


@pytest.mark.parametrize(
    ("before", "after", "change"),
    [
        (3.2, 3.5, "0.3"),
        (3.0, 3.0 - 1e-9, "-0.0"),  # rounded to zero, the sign kept (as numpy writes it)
        (3.0, 3.0 + 1e-9, "0.0"),
        (0.0, 2.5e-6, "2e-06"),  # half to even, as numpy rounds
        (0.0, 3.5e-6, "4e-06"),
    ],
)
def test_change_is_rounded_to_6_decimals_as_numpy_rounds(before, after, change):
    assert repr(_change(before, after)) == change


@given(
    st.floats(0, 1000, allow_nan=False),
    st.one_of(st.floats(-1e-5, 1e-5), st.floats(-1000, 1000), st.just(0.0)),
)
def test_change_is_numpy_s_rounded_difference(before, delta):
    after = before + delta
    expected = float(np.round(np.float64(after) - np.float64(before), 6))
    assert repr(_change(before, after)) == repr(expected)


def test_self_vs_council_pairs_by_calendar_year():
    result = compare_assessments(
        scores(
            ("s24", "h1", QD, "self", D(2024, 3, 1), "approved", 3.6, "Khá", None),
            ("s24b", "h1", QD, "self", D(2024, 8, 1), "approved", 3.8, "Khá", None),
            ("c24", "h1", QD, "council", D(2024, 11, 1), "approved", 3.3, "Khá", None),
            ("s25", "h1", QD, "self", D(2025, 3, 1), "approved", 3.9, "Khá", None),
            ("c23", "h2", QD, "council", D(2023, 11, 1), "approved", 3.0, "Khá", None),
            ("s25d", "h1", QD, "self", D(2025, 9, 1), "draft", 4.9, "Tốt", None),
            ("x", "h1", QD, "self", None, "approved", 4.0, "Tốt", None),
        ),
        no_criteria(),
    )
    rows = by_key(result.assessments)
    # the latest non-draft self of 2024 pairs with the 2024 council
    assert rows["c24"]["paired_assessment_key"] == "s24b"
    assert rows["c24"]["self_council_diff"] == -0.5
    assert (rows["c24"]["self_score"], rows["c24"]["council_score"]) == (3.8, 3.3)
    assert rows["s24b"]["paired_assessment_key"] == "c24"
    assert rows["s24b"]["self_council_diff"] == -0.5
    assert rows["s24"]["paired_assessment_key"] == "c24"
    # self without council, council without self, draft, undated: no pair
    for key in ("s25", "c23", "s25d", "x"):
        assert rows[key]["paired_assessment_key"] is None
        assert rows[key]["self_council_diff"] is None
    assert rows["c24"]["period"] == 2024 and rows["x"]["period"] is None


def test_criteria_level_change_and_self_vs_council(tmp_path):
    rule_sets = load_rule_sets()
    rows = reaching("s1", "A1.1", 4) + reaching("s1", "A1.2", 3)
    rows += reaching("c1", "A1.1", 2) + reaching("c1", "A1.2", 3)
    rows += reaching("c0", "A1.1", 1)
    assessments = assessments_frame(
        [
            assessment("s1", kind="self", assessed_on=D(2025, 4, 1)),
            assessment("c1", kind="council", assessed_on=D(2025, 10, 1)),
            assessment("c0", kind="council", assessed_on=D(2024, 10, 1)),
        ]
    )
    frames = score_assessments(assessments, findings_frame(rows), hospitals_frame(), rule_sets)
    table = frames.scores.merge(
        assessments[["assessment_key", "hospital_key", "kind", "assessed_on", "status"]],
        on="assessment_key",
    )
    # 2 of 83 criteria: incomplete, so compared only when incomplete ones are ranked too
    result = compare_assessments(table, frames.criteria, rank_incomplete=True)
    crit = {(r["assessment_key"], r["code"]): r for r in result.criteria.to_dict("records")}
    assert crit[("c1", "A1.1")]["self_council_level_diff"] == -2
    assert (crit[("c1", "A1.1")]["self_level"], crit[("c1", "A1.1")]["council_level"]) == (4, 2)
    assert crit[("c1", "A1.2")]["self_council_level_diff"] == 0
    assert crit[("s1", "A1.1")]["self_council_level_diff"] == -2
    assert crit[("c1", "A1.1")]["previous_level"] == 1
    assert crit[("c1", "A1.1")]["level_change"] == 1
    assert crit[("c1", "A1.2")]["previous_level"] is None  # not assessed last time
    assert crit[("c0", "A1.1")]["self_council_level_diff"] is None
    overall = by_key(result.assessments)
    assert overall["c1"]["self_council_diff"] == -1.0  # 2.5 − 3.5
    assert len(result.criteria) == 3 * 83
    json.dumps(result.assessments.drop(columns=["assessed_on"]).to_dict("records"))
    json.dumps(result.criteria.to_dict("records"))


def test_comparisons_do_not_depend_on_row_order():
    frame = scores(
        ("a", "h1", QD, "council", D(2024, 1, 1), "approved", 3.5, "Khá", None),
        ("b", "h2", QD, "council", D(2024, 1, 2), "approved", 3.5, "Khá", None),
        ("c", "h1", QD, "council", D(2025, 1, 3), "approved", 4.1, "Tốt", None),
        ("d", "h1", QD, "self", D(2025, 1, 4), "approved", 2.0, "Trung bình", None),
    )
    first = compare_assessments(frame, no_criteria()).assessments
    second = compare_assessments(frame.iloc[::-1], no_criteria()).assessments
    pd.testing.assert_frame_equal(first, second)
    assert first["assessment_key"].tolist() == ["a", "b", "c", "d"]


def test_empty_inputs_give_empty_frames_with_their_columns():
    frames = score_assessments(
        assessments_frame([]), findings_frame([]), hospitals_frame(), load_rule_sets()
    )
    assert frames.scores.empty and frames.criteria.empty
    table = frames.scores.assign(hospital_key=[], kind=[], assessed_on=[], status=[])
    result = compare_assessments(table, frames.criteria)
    assert result.assessments.empty and result.criteria.empty
    assert "self_council_diff" in result.assessments.columns
    assert "self_council_level_diff" in result.criteria.columns


def scored_table(assessments: pd.DataFrame, rows, profiles=None):
    """Real scores of `assessments` from findings `rows`, with the columns compare needs."""
    frames = score_assessments(
        assessments, findings_frame(rows), hospitals_frame(profiles), load_rule_sets()
    )
    table = frames.scores.merge(
        assessments[["assessment_key", "hospital_key", "kind", "assessed_on", "status"]],
        on="assessment_key",
    )
    return table, frames.criteria


def every_criterion(key: str, level: int) -> list[tuple[str, str, str]]:
    """Findings bringing every QĐ 6858 criterion of assessment `key` to `level`."""
    codes = [u.code for u in load_rule_sets()[QD].units]
    return [row for code in codes for row in reaching(key, code, level)]


@pytest.mark.parametrize(
    ("rank_incomplete", "ranks", "band", "change"),
    [
        (False, {"partial": None, "full": 1}, None, None),
        (True, {"partial": 1, "full": 2}, "Tốt", 3.0),
    ],
)
def test_two_of_83_criteria_are_incomplete_unranked_and_without_band(
    rank_incomplete, ranks, band, change
):
    rows = reaching("partial", "A1.1", 5) + reaching("partial", "A1.2", 5)
    rows += every_criterion("full", 3) + every_criterion("old", 2)
    assessments = assessments_frame(
        [
            assessment("old", hospital="h1", kind="self", assessed_on=D(2024, 4, 1)),
            assessment("partial", hospital="h1", kind="self", assessed_on=D(2025, 4, 1)),
            assessment("full", hospital="h2", kind="self", assessed_on=D(2025, 4, 2)),
        ]
    )
    table, criteria = scored_table(assessments, rows, {"h1": (True, True), "h2": (True, True)})
    result = compare_assessments(table, criteria, rank_incomplete=rank_incomplete)
    rows_by_key = by_key(result.assessments)
    partial = rows_by_key["partial"]
    assert partial["score"] == 5.0  # scored: the score itself is kept
    assert partial["complete"] is False and rows_by_key["full"]["complete"] is True
    assert {k: rows_by_key[k]["rank"] for k in ranks} == ranks
    assert partial["band"] == band
    assert partial["change"] == change  # 5.00 − 2.00 when ranked, else left out
    assert partial["no_score_reason"] is None
    # the older complete assessment is never ranked in place of the incomplete latest one
    assert rows_by_key["old"]["rank"] is None
    medians = criterion_medians(result)
    a11 = medians[(medians["code"] == "A1.1")]["median"].tolist()
    assert a11 == ([3.0] if not rank_incomplete else [4.0])  # (5 + 3) / 2 when ranked


@pytest.mark.parametrize(
    ("findings", "profile", "reason"),
    [
        ([], (True, True), NoScoreReason.NO_USABLE_FINDINGS),
        ([("x", "Z9.9-1.1", "met")], (True, True), NoScoreReason.NO_USABLE_FINDINGS),
        ("all_na", (True, True), NoScoreReason.ALL_NOT_APPLICABLE),
    ],
)
def test_an_assessment_without_a_score_says_why(findings, profile, reason):
    if findings == "all_na":
        codes = [u.code for u in load_rule_sets()[QD].units]
        findings = [("x", f"{code}-1.1", "na") for code in codes]
    assessments = assessments_frame([assessment("x")])
    table, criteria = scored_table(assessments, findings, {"h1": profile})
    row = by_key(compare_assessments(table, criteria).assessments)["x"]
    assert row["score"] is None and row["rank"] is None and row["band"] is None
    assert row["no_score_reason"] == reason
    assert no_score_reason(None, row_applicable := int(table["applicable"][0]), 0) == reason
    assert row["complete"] is (row_applicable == 0)


def test_an_incomplete_assessment_is_nobody_s_previous_one_nor_pair():
    rows = every_criterion("c24", 2) + every_criterion("c26", 4) + every_criterion("s26", 3)
    rows += reaching("c25", "A1.1", 5) + reaching("s25", "A1.1", 5)
    assessments = assessments_frame(
        [
            assessment("c24", kind="council", assessed_on=D(2024, 5, 1)),
            assessment("c25", kind="council", assessed_on=D(2025, 5, 1)),
            assessment("s25", kind="self", assessed_on=D(2025, 4, 1)),
            assessment("c26", kind="council", assessed_on=D(2026, 5, 1)),
            assessment("s26", kind="self", assessed_on=D(2026, 4, 1)),
        ]
    )
    table, criteria = scored_table(assessments, rows)
    rows_by_key = by_key(compare_assessments(table, criteria).assessments)
    assert rows_by_key["c26"]["previous_assessment_key"] == "c24"  # c25 is incomplete
    assert rows_by_key["c26"]["change"] == 2.0
    for key in ("c25", "s25"):
        assert rows_by_key[key]["previous_assessment_key"] is None
        assert rows_by_key[key]["at_risk"] is None
        assert rows_by_key[key]["paired_assessment_key"] is None
        assert rows_by_key[key]["self_council_diff"] is None
    assert rows_by_key["c26"]["self_council_diff"] == 1.0  # 4 − 3, the complete pair
