"""The `levels` method (QĐ 6858): the cumulative rule, applicability, sums, gaps, completeness."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from hqsync.config.ruleset_loader import load_rule_sets
from hqsync.scoring import score_assessments
from tests.scoring.factories import (
    assessment,
    assessments_frame,
    findings_frame,
    hospitals_frame,
    reaching,
    score_one,
)

SHIPPED = Path(__file__).resolve().parents[2] / "config" / "rulesets"


@pytest.fixture(scope="module")
def rule_sets():
    return load_rule_sets()


def one_criterion(rule_sets, answers: dict[int, list[str]], criterion: str = "A1.1", **kw):
    findings = [
        ("a1", f"{criterion}-{level}.{n}", result)
        for level, results in answers.items()
        for n, result in enumerate(results, start=1)
    ]
    return score_one(rule_sets, findings, **kw)


M, N, X = "met", "not_met", "na"


@pytest.mark.parametrize(
    ("answers", "level", "status", "gaps"),
    [
        # everything met → top level, nothing to close
        ({1: [M, M], 2: [M], 3: [M], 4: [M], 5: [M]}, 5, "scored", []),
        # a level-1 violation caps the criterion at 1 whatever is above; the gap list holds the
        # violation and the level-2 items still failing
        ({1: [M, N], 2: [M, N], 3: [M], 4: [M], 5: [M]}, 1, "scored", ["A1.1-1.2", "A1.1-2.2"]),
        ({1: [N], 2: [M], 3: [M], 4: [M], 5: [M]}, 1, "scored", ["A1.1-1.1"]),
        # the climb stops at the first level not fully met
        ({1: [M], 2: [M, M], 3: [M, N], 4: [M], 5: [M]}, 2, "scored", ["A1.1-3.2"]),
        ({1: [M], 2: [N], 3: [M], 4: [M], 5: [M]}, 1, "scored", ["A1.1-2.1"]),
        ({1: [M], 2: [M], 3: [M], 4: [N, N], 5: [N]}, 3, "scored", ["A1.1-4.1", "A1.1-4.2"]),
        ({1: [M], 2: [M], 3: [M], 4: [M], 5: [M, N]}, 4, "scored", ["A1.1-5.2"]),
        # not-applicable items leave their level; a level left with none counts as met
        ({1: [M, X], 2: [X, M], 3: [X], 4: [M], 5: [M]}, 5, "scored", []),
        ({1: [X], 2: [X], 3: [X], 4: [M], 5: [N]}, 4, "scored", ["A1.1-5.1"]),
        # an NA item does not excuse a failing one beside it
        ({1: [M], 2: [X, N], 3: [M], 4: [M], 5: [M]}, 1, "scored", ["A1.1-2.2"]),
        # every item not applicable → the criterion is not applicable
        ({1: [X], 2: [X, X], 3: [X], 4: [X], 5: [X]}, None, "not_applicable", []),
        # no findings at all → not assessed
        ({}, None, "not_assessed", []),
        # a partial answer is not met for levels
        ({1: [M], 2: ["partial"], 3: [M], 4: [M], 5: [M]}, 1, "scored", ["A1.1-2.1"]),
        # level 1 unanswered is no violation; levels above still count
        ({2: [M], 3: [M], 4: [M], 5: [M]}, 5, "scored", []),
    ],
)
def test_criterion_level_by_the_cumulative_rule(rule_sets, answers, level, status, gaps):
    _, criteria = one_criterion(rule_sets, answers)
    crit = criteria["A1.1"]
    assert (crit["level"], crit["status"], crit["details"]["gaps"]) == (level, status, gaps)
    if level is not None:
        assert crit["value"] == float(level)
        assert crit["details"]["next_level"] == (None if level == 5 else level + 1)


@pytest.mark.parametrize(
    ("answers", "level", "incomplete", "unanswered"),
    [
        # without a sub-item catalog an unanswered level stops the climb and flags it
        ({1: [M], 2: [M], 4: [M], 5: [M]}, 2, True, [3]),
        ({1: [M], 2: [M], 3: [M]}, 3, True, [4, 5]),
        # an unanswered level above a failing one is normal (forms stop there): not incomplete
        ({1: [M], 2: [N]}, 1, False, [3, 4, 5]),
    ],
)
def test_unanswered_levels_without_a_sub_item_catalog(
    rule_sets, answers, level, incomplete, unanswered
):
    score, criteria = one_criterion(rule_sets, answers)
    crit = criteria["A1.1"]
    assert crit["level"] == level
    assert crit["details"]["incomplete"] is incomplete
    assert crit["details"]["unanswered_levels"] == unanswered
    assert (score["details"]["incomplete"] == ["A1.1"]) is incomplete


def test_unanswered_levels_count_as_met_when_the_rule_set_says_so(rule_sets, tmp_path):
    text = (SHIPPED / "qd6858.toml").read_text(encoding="utf-8")
    (tmp_path / "qd.toml").write_text(
        text.replace('unanswered_level = "blocks"', 'unanswered_level = "met"'), "utf-8"
    )
    (tmp_path / "qd6858-criteria.csv").write_bytes((SHIPPED / "qd6858-criteria.csv").read_bytes())
    lenient = load_rule_sets([tmp_path])
    _, criteria = one_criterion(lenient, {1: [M], 2: [M], 4: [M]})
    assert criteria["A1.1"]["level"] == 5


def full_assessment(rule_sets, level_of, key="a1"):
    rows = []
    for unit in rule_sets["QD6858"].units:
        rows += reaching(key, unit.code, level_of(unit))
    return rows


def test_full_assessment_all_83_applicable_sums_coefficients_to_90(rule_sets):
    score, criteria = score_one(rule_sets, full_assessment(rule_sets, lambda u: 5))
    details = score["details"]
    assert score["score"] == 5.0
    assert (score["applicable"], score["assessed"]) == (83, 83)
    assert details["applicable_label"] == "83/83"
    assert details["coefficient_sum"] == 90
    assert details["weighted_sum"] == 450
    assert details["unweighted_sum"] == 415
    assert score["level_counts"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 83}
    assert details["level_percents"]["5"] == 100.0
    assert details["coverage"]["percent"] == 100.0
    assert len(criteria) == 83 and all(c["status"] == "scored" for c in criteria.values())
    assert score["band"] == "Tốt"


def test_published_formula_with_doubled_chapters(rule_sets):
    # Level 3 everywhere but C3/C5 (coefficient 2) at level 5:
    # Σ(level × coefficient) = 76 × 3 + 7 × 5 × 2 = 298; ÷ 90 = 3.3111 → 3.31.
    def level_of(unit):
        return 5 if unit.chapter in ("C3", "C5") else 3

    score, _ = score_one(rule_sets, full_assessment(rule_sets, level_of))
    assert score["score"] == 3.31
    assert score["details"]["weighted_sum"] == 298
    assert score["details"]["unweighted_sum"] == 263
    assert score["level_counts"] == {"1": 0, "2": 0, "3": 76, "4": 0, "5": 7}
    assert score["details"]["level_percents"] == {
        "1": 0.0,
        "2": 0.0,
        "3": 91.57,
        "4": 0.0,
        "5": 8.43,
    }
    # part C: 28 criteria × 3 + 7 × 5 × 2 over 42 = 3.67; chapter C5 is 5
    assert score["parts"] == {"A": 3.0, "B": 3.0, "C": 3.67, "D": 3.0, "E": 3.0}
    assert score["details"]["chapters"]["C5"] == 5.0
    assert score["details"]["chapters"]["C4"] == 3.0
    assert score["band"] == "Khá"


def test_two_decimals_round_half_up(rule_sets):
    # 8 criteria of coefficient 1 with levels summing to 17: 17 / 8 = 2.125 → 2.13 (not 2.12)
    codes = ["A1.1", "A1.2", "A1.3", "A1.4", "A1.5", "A1.6", "A2.1", "A2.2"]
    levels = [3, 2, 2, 2, 2, 2, 2, 2]
    rows = [r for code, lv in zip(codes, levels, strict=True) for r in reaching("a1", code, lv)]
    score, _ = score_one(rule_sets, rows)
    assert score["score"] == 2.13
    assert score["assessed"] == 8
    assert score["applicable"] == 83  # the others are applicable but not assessed
    assert len(score["details"]["not_assessed"]) == 75


@pytest.mark.parametrize(
    ("profile", "e1", "e2", "applicable"),
    [
        ((True, True), "scored", "scored", 83),
        ((False, True), "not_applicable", "scored", 80),
        ((True, False), "scored", "not_applicable", 82),
        ((False, False), "not_applicable", "not_applicable", 79),
        ((None, None), "scored", "scored", 83),  # unknown profile: the findings decide
    ],
)
def test_e1_e2_applicability_from_the_hospital_profile(rule_sets, profile, e1, e2, applicable):
    score, criteria = score_one(rule_sets, full_assessment(rule_sets, lambda u: 4), profile=profile)
    assert [criteria[c]["status"] for c in ("E1.1", "E1.2", "E1.3")] == [e1] * 3
    assert criteria["E2.1"]["status"] == e2
    assert score["applicable"] == applicable
    assert score["details"]["applicable_label"] == f"{applicable}/83"
    assert score["score"] == 4.0
    expected_coefficients = 90 - (83 - applicable)
    assert score["details"]["coefficient_sum"] == expected_coefficients
    if e1 == "not_applicable":
        assert criteria["E1.1"]["details"]["reason"] == "profile: has_obstetrics = no"
        assert criteria["E1.1"]["details"]["ignored_findings"] == 10
        assert "E" in score["parts"] or e2 == "not_applicable"


def test_not_applicable_criterion_leaves_both_sums(rule_sets):
    rows = reaching("a1", "A1.1", 4) + reaching("a1", "A1.2", 2)
    rows += [("a1", f"A1.3-{lv}.1", "na") for lv in range(1, 6)]
    score, criteria = score_one(rule_sets, rows)
    assert criteria["A1.3"]["status"] == "not_applicable"
    assert criteria["A1.3"]["details"]["reason"] == "every item not applicable"
    assert score["score"] == 3.0
    assert (score["details"]["weighted_sum"], score["details"]["unweighted_sum"]) == (6, 6)
    assert score["applicable"] == 82
    assert score["details"]["applicable_label"] == "82/83"


def test_next_level_wins_list_nearest_first(rule_sets):
    rows = [
        ("a1", "A1.1-1.1", "met"),
        ("a1", "A1.1-2.1", "not_met"),
        ("a1", "A1.1-2.2", "not_met"),
        ("a1", "C3.1-1.1", "met"),
        ("a1", "C3.1-2.1", "not_met"),
        ("a1", "A1.2-1.1", "met"),
        ("a1", "A1.2-2.1", "not_met"),
    ]
    score, _ = score_one(rule_sets, rows)
    wins = score["details"]["next_level_wins"]
    # one gap each for C3.1 and A1.2: the doubled criterion first; A1.1 needs two
    assert [(w["code"], w["gap_count"]) for w in wins] == [
        ("C3.1", 1),
        ("A1.2", 1),
        ("A1.1", 2),
    ]


def test_unknown_and_duplicate_findings_are_reported_not_scored(rule_sets):
    rows = [
        ("a1", "A1.1-1.1", "met"),
        ("a1", "A1.1-2.1", "met"),
        ("a1", "A1.1-2.1", "not_met"),  # the same item twice: the worse answer counts
        ("a1", "Z9.9-1.1", "met"),
        ("a1", "A1.1-3.1", "maybe"),
    ]
    score, criteria = score_one(rule_sets, rows)
    assert criteria["A1.1"]["level"] == 1
    assert score["details"]["duplicate_findings"] == 1
    assert score["details"]["unknown_items"] == ["A1.1-3.1", "Z9.9-1.1"]
    assert score["details"]["unknown_item_count"] == 2


def test_assessment_without_findings_has_no_score(rule_sets):
    score, criteria = score_one(rule_sets, [])
    assert score["score"] is None and score["band"] is None and score["passed"] is None
    assert score["assessed"] == 0 and score["applicable"] == 83
    assert score["parts"] == {}
    assert {c["status"] for c in criteria.values()} == {"not_assessed"}


@pytest.fixture(scope="module")
def with_items(tmp_path_factory):
    """QĐ 6858 with a council's sub-item catalog for A1.1 (2 items per level) and A1.2."""
    folder = tmp_path_factory.mktemp("qd")
    text = (SHIPPED / "qd6858.toml").read_text(encoding="utf-8")
    (folder / "qd6858.toml").write_text(
        text.replace(
            'file = "qd6858-criteria.csv"', 'file = "qd6858-criteria.csv"\nitems = "items.csv"'
        ),
        "utf-8",
    )
    (folder / "qd6858-criteria.csv").write_bytes((SHIPPED / "qd6858-criteria.csv").read_bytes())
    lines = ["code,title"]
    lines += [f"A1.1-{lv}.{n},item" for lv in range(1, 6) for n in (1, 2)]
    lines += ["A1.2-1.1,item", "A1.2-2.1,item", "A1.2-4.1,item"]  # A1.2 has no level-3/5 items
    (folder / "items.csv").write_text("\n".join(lines) + "\n", "utf-8")
    return load_rule_sets([folder])


@pytest.mark.parametrize(
    ("answers", "level", "incomplete", "missing", "gaps"),
    [
        ({lv: [M, M] for lv in range(1, 6)}, 5, False, [], []),
        # an unanswered listed item counts as not met and flags the criterion
        ({1: [M, M], 2: [M, M], 3: [M], 4: [M, M], 5: [M, M]}, 2, True, ["A1.1-3.2"], ["A1.1-3.2"]),
        ({1: [M], 2: [M, M], 3: [M, M], 4: [M, M], 5: [M, M]}, 1, True, ["A1.1-1.2"], ["A1.1-1.2"]),
        (
            {1: [M, M], 2: [M, M], 3: [M, M]},
            3,
            True,
            ["A1.1-4.1", "A1.1-4.2", "A1.1-5.1", "A1.1-5.2"],
            ["A1.1-4.1", "A1.1-4.2"],
        ),
        # NA answers are answers: nothing missing
        ({1: [X, X], 2: [M, X], 3: [X, M], 4: [M, M], 5: [X, X]}, 5, False, [], []),
        # every listed item unanswered → not assessed (no findings), not "not met"
        ({}, None, False, [], []),
    ],
)
def test_missing_answers_with_a_sub_item_catalog(  # noqa: PLR0917
    with_items, answers, level, incomplete, missing, gaps
):
    score, criteria = one_criterion(with_items, answers)
    crit = criteria["A1.1"]
    assert crit["level"] == level
    assert crit["details"]["incomplete"] is incomplete
    assert crit["details"]["missing"] == missing
    assert crit["details"]["gaps"] == gaps
    assert (score["details"]["incomplete"] == ["A1.1"]) is incomplete
    # coverage counts every listed item of applicable criteria (A1.1 and A1.2: 13)
    assert score["details"]["coverage"]["items_expected"] == 13
    assert score["details"]["coverage"]["items_answered"] == sum(map(len, answers.values()))


def test_catalog_levels_without_items_count_as_met(with_items):
    # A1.2 lists items at levels 1, 2 and 4 only: levels 3 and 5 have none and count as met
    _, criteria = one_criterion(with_items, {1: [M], 2: [M], 4: [M]}, criterion="A1.2")
    assert criteria["A1.2"]["level"] == 5
    assert criteria["A1.2"]["details"]["incomplete"] is False


def test_output_is_identical_whatever_the_row_order(rule_sets):
    rows = full_assessment(rule_sets, lambda u: (len(u.code) % 5) + 1, key="a1")
    rows += full_assessment(rule_sets, lambda u: 3, key="a2")
    assessments = assessments_frame(
        [assessment("a1"), assessment("a2", hospital="h2"), assessment("t1", standard="TT35")]
    )
    hospitals = hospitals_frame({"h1": (True, False), "h2": (False, True)})
    findings = findings_frame([*rows, ("t1", "1.1", "met")])

    def dump(a, f, h):
        frames = score_assessments(a, f, h, rule_sets)
        return json.dumps(
            [frames.scores.to_dict("records"), frames.criteria.to_dict("records")],
            ensure_ascii=False,
        )

    baseline = dump(assessments, findings, hospitals)
    shuffled = dump(
        assessments.sample(frac=1, random_state=3),
        findings.sample(frac=1, random_state=4),
        hospitals.sample(frac=1, random_state=5),
    )
    assert baseline == shuffled
    frames = score_assessments(assessments, findings, hospitals, rule_sets)
    assert frames.scores["assessment_key"].tolist() == ["a1", "a2", "t1"]
    assert frames.criteria["code"].tolist()[:3] == ["A1.1", "A1.2", "A1.3"]
    assert frames.criteria["code"].tolist()[82] == "E2.1"


def test_unknown_standard_gets_a_row_with_an_error(rule_sets):
    frames = score_assessments(
        assessments_frame([assessment("x1", standard="ISO9001")]),
        findings_frame([("x1", "1.1", "met")]),
        hospitals_frame(),
        rule_sets,
    )
    row = frames.scores.iloc[0]
    assert row["score"] is None
    assert "ISO9001" in row["details"]["error"]
    assert frames.criteria.empty
    assert list(frames.criteria.columns) == [
        "assessment_key",
        "code",
        "level",
        "value",
        "status",
        "details",
    ]


def test_scores_frame_shape_and_json_safety(rule_sets):
    frames = score_assessments(
        assessments_frame([assessment("a1"), assessment("a2")]),
        findings_frame(reaching("a1", "A1.1", 3)),
        hospitals_frame(),
        rule_sets,
    )
    assert list(frames.scores.columns) == [
        "assessment_key",
        "standard",
        "method",
        "score",
        "passed",
        "band",
        "applicable",
        "assessed",
        "level_counts",
        "parts",
        "details",
    ]
    records = frames.scores.to_dict("records")
    json.dumps(records)  # every value is JSON-serialisable
    json.dumps(frames.criteria.to_dict("records"))
    assert records[1]["score"] is None  # a2 has no findings
    assert isinstance(records[0]["score"], float)
    assert pd.api.types.is_integer_dtype(frames.scores["applicable"])


@pytest.mark.parametrize(
    ("values", "dtype"),
    [
        ([True, False, None], "boolean"),
        ([True, False, None], object),
        ([1.0, 0.0, float("nan")], "float64"),
    ],
)
def test_profile_values_of_any_dtype(rule_sets, values, dtype):
    hospitals = pd.DataFrame(
        {"hospital_key": ["h1", "h2", "h3"], "has_obstetrics": pd.array(values, dtype=dtype)}
    )
    keys = ["a1", "a2", "a3", "a4"]  # a4's hospital is not in the hospitals frame
    frames = score_assessments(
        assessments_frame(
            [assessment(k, hospital=h) for k, h in zip(keys, ["h1", "h2", "h3", "hx"], strict=True)]
        ),
        findings_frame([r for k in keys for r in reaching(k, "E1.1", 3)]),
        hospitals,
        rule_sets,
    )
    e1 = frames.criteria[frames.criteria["code"] == "E1.1"]
    assert e1["status"].tolist() == ["scored", "not_applicable", "scored", "scored"]
