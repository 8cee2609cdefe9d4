"""Properties every scoring method keeps, checked on generated assessments (hypothesis)."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hqsync.config.ruleset_loader import load_rule_sets
from hqsync.scoring import score_assessments
from tests.scoring.factories import assessment, assessments_frame, findings_frame, hospitals_frame

RULE_SETS = load_rule_sets()
CRITERIA = ["A1.1", "A1.2", "C3.1", "C5.2", "E1.1", "E2.1"]
RESULTS = st.sampled_from(["met", "not_met", "na", "partial"])
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
RANGES = {"QD6858": (1.0, 5.0), "TT35": (0.0, 100.0), "JCI-DEMO": (0.0, 10.0)}


@st.composite
def qd_findings(draw) -> list[tuple[str, str, str]]:
    rows = []
    for criterion in draw(st.lists(st.sampled_from(CRITERIA), unique=True, max_size=6)):
        for level in range(1, 6):
            for n, result in enumerate(draw(st.lists(RESULTS, max_size=3)), start=1):
                rows.append(("a1", f"{criterion}-{level}.{n}", result))
    return rows


@st.composite
def item_findings(draw, standard: str) -> list[tuple[str, str, str]]:
    rule_set = RULE_SETS[standard]
    codes = [i.code for i in rule_set.items or ()]
    chosen = draw(st.lists(st.sampled_from(codes), unique=True, max_size=len(codes)))
    return [("a1", code, draw(RESULTS)) for code in chosen]


def any_findings():
    return st.one_of(
        st.tuples(st.just("QD6858"), qd_findings()),
        st.tuples(st.just("TT35"), item_findings("TT35")),
        st.tuples(st.just("JCI-DEMO"), item_findings("JCI-DEMO")),
    )


PROFILES = st.tuples(st.sampled_from([True, False, None]), st.sampled_from([True, False, None]))


def run(standard, rows, profile=(True, True)):
    return score_assessments(
        assessments_frame([assessment("a1", standard=standard)]),
        findings_frame(rows),
        hospitals_frame({"h1": profile}),
        RULE_SETS,
    )


def levels_of(frames) -> dict[str, float | None]:
    return dict(zip(frames.criteria["code"], frames.criteria["value"], strict=True))


@SETTINGS
@given(case=any_findings(), profile=PROFILES, pick=st.integers(min_value=0))
def test_turning_not_met_into_met_never_lowers_a_level_or_the_score(case, profile, pick):
    standard, rows = case
    failing = [i for i, r in enumerate(rows) if r[2] == "not_met"]
    if not failing:
        return
    i = failing[pick % len(failing)]
    better = [*rows[:i], (rows[i][0], rows[i][1], "met"), *rows[i + 1 :]]
    before, after = run(standard, rows, profile), run(standard, better, profile)
    for code, value in levels_of(before).items():
        if value is not None:
            improved = levels_of(after)[code]
            assert improved is not None and improved >= value, code
    old, new = before.scores.iloc[0]["score"], after.scores.iloc[0]["score"]
    if old is not None:
        assert new is not None and new >= old
    if before.scores.iloc[0]["passed"] is True:
        assert after.scores.iloc[0]["passed"] is True


@SETTINGS
@given(case=any_findings(), profile=PROFILES, seed=st.integers(0, 2**31 - 1))
def test_shuffling_rows_changes_nothing(case, profile, seed):
    standard, rows = case
    frame = findings_frame(rows)
    baseline = run(standard, rows, profile)
    shuffled = score_assessments(
        assessments_frame([assessment("a1", standard=standard)]),
        frame.sample(frac=1, random_state=seed),
        hospitals_frame({"h1": profile}),
        RULE_SETS,
    )
    assert json.dumps(baseline.scores.to_dict("records")) == json.dumps(
        shuffled.scores.to_dict("records")
    )
    pd.testing.assert_frame_equal(baseline.criteria, shuffled.criteria)


@SETTINGS
@given(
    rows=qd_findings(),
    target=st.sampled_from(CRITERIA),
    n=st.integers(1, 4),
    level=st.integers(1, 5),
)
def test_na_items_never_change_other_criteria(rows, target, n, level):
    before = run("QD6858", rows)
    extra = [("a1", f"{target}-{level}.{n + 10}", "na")]
    after = run("QD6858", rows + extra)
    others_before = before.criteria[before.criteria["code"] != target]
    others_after = after.criteria[after.criteria["code"] != target]
    pd.testing.assert_frame_equal(
        others_before.reset_index(drop=True), others_after.reset_index(drop=True)
    )
    # nor its own criterion's level, when its level already had answers (an NA-only level
    # counts as met, while a level with no answers at all stops the climb)
    answered_level = any(code.startswith(f"{target}-{level}.") for _, code, _ in rows)
    target_before = before.criteria.set_index("code").loc[target]
    target_after = after.criteria.set_index("code").loc[target]
    if target_before["status"] == "scored" and answered_level:
        assert target_after["level"] == target_before["level"]


@SETTINGS
@given(case=any_findings(), profile=PROFILES)
def test_scores_stay_within_their_range(case, profile):
    standard, rows = case
    frames = run(standard, rows, profile)
    row = frames.scores.iloc[0]
    low, high = RANGES[standard]
    for value in [row["score"], *row["parts"].values()]:
        if value is not None:
            assert low <= value <= high
    assert 0 <= row["assessed"] <= row["applicable"] <= row["details"]["total"]
    if row["level_counts"]:
        assert sum(row["level_counts"].values()) == row["assessed"]
    levels = frames.criteria["level"].dropna()
    assert all(1 <= lv <= 5 for lv in levels)
    assert (row["score"] is None) == (row["assessed"] == 0)


@pytest.mark.parametrize("standard", ["QD6858", "TT35", "JCI-DEMO"])
def test_every_shipped_rule_set_scores_an_empty_assessment(standard):
    frames = run(standard, [])
    assert frames.scores.iloc[0]["score"] is None
    assert len(frames.criteria) == RULE_SETS[standard].total
