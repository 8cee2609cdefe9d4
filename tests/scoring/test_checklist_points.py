"""The `checklist` (TT 35, weighted audits) and `points` (JCI-style) methods."""

from __future__ import annotations

import pytest

from hqsync.config.ruleset_loader import load_rule_sets
from tests.scoring.factories import score_one


@pytest.fixture(scope="module")
def rule_sets():
    return load_rule_sets()


def tt35(rule_sets, overrides: dict[str, str], default: str | None = "met"):
    codes = [u.code for u in rule_sets["TT35"].units]
    rows = []
    for code in codes:
        result = overrides.get(code, default)
        if result is not None:
            rows.append(("a1", code, result))
    return score_one(rule_sets, rows, standard="TT35")


@pytest.mark.parametrize(
    ("overrides", "default", "score", "passed", "failing", "applicable"),
    [
        ({}, "met", 100.0, True, [], 43),
        ({"1.2": "not_met"}, "met", 97.67, False, ["1.2"], 43),
        # NA items leave the denominator: 41 met of 41 applicable
        ({"1.7.1": "na", "1.7.2": "na"}, "met", 100.0, True, [], 41),
        ({"1.7.1": "na", "5.5": "not_met"}, "met", 97.62, False, ["5.5"], 42),
        # 'partial' is not met in a checklist
        ({"3.1": "partial"}, "met", 97.67, False, ["3.1"], 43),
        # an unanswered item: not assessed, out of the percent; pass cannot be certified
        ({"4.5": None}, "met", 100.0, None, [], 43),
        # but a known failure still fails
        ({"4.5": None, "4.4": "not_met"}, "met", 97.62, False, ["4.4"], 43),
        # nothing answered: no score, no verdict
        ({}, None, None, None, [], 43),
    ],
)
def test_tt35_percent_and_pass(  # noqa: PLR0917
    rule_sets, overrides, default, score, passed, failing, applicable
):
    row, criteria = tt35(rule_sets, overrides, default)
    assert row["score"] == score
    assert row["passed"] is passed
    assert row["details"]["failing_items"] == failing
    assert row["applicable"] == applicable
    assert row["level_counts"] == {}
    for code in failing:
        assert criteria[code]["status"] == "not_met" and criteria[code]["value"] == 0.0
    for code, result in overrides.items():
        if result is None:
            assert criteria[code]["status"] == "not_assessed"
            assert row["details"]["not_assessed"] == [code]
            assert row["details"]["incomplete"] is True


def test_tt35_group_percents(rule_sets):
    # group I has 13 items: 2 failing → 11/13 = 84.62 %; group III 1 NA, 1 met → 100 %
    row, _ = tt35(rule_sets, {"1.1": "not_met", "1.8": "not_met", "3.2": "na"})
    assert row["parts"] == {"I": 84.62, "II": 100.0, "III": 100.0, "IV": 100.0, "V": 100.0}
    assert row["details"]["groups"]["I"] == {"percent": 84.62, "met": 11, "counted": 13}
    assert row["score"] == 95.24  # 40 of 42


AUDIT_TOML = """
id = "AUDIT"
name = "Ward safety audit"
method = "checklist"
[catalog]
file = "audit.csv"
[thresholds]
pass_rule = "percent"
pass_min_score = 80
"""
AUDIT_CSV = """code,part,title,weight,critical
W1,Ward,Hand rub at every bed,2,no
W2,Ward,Crash cart checked,3,yes
W3,Ward,Sharps bins below the line,1,
W4,Ward,Fridge log,4,no
"""


@pytest.fixture(scope="module")
def audit(tmp_path_factory):
    folder = tmp_path_factory.mktemp("audit")
    (folder / "audit.toml").write_text(AUDIT_TOML, "utf-8")
    (folder / "audit.csv").write_text(AUDIT_CSV, "utf-8")
    return load_rule_sets([folder])


@pytest.mark.parametrize(
    ("results", "score", "passed", "critical_failed"),
    [
        ({"W1": "met", "W2": "met", "W3": "met", "W4": "met"}, 100.0, True, []),
        # weights: W3 (1) failing → 9/10 = 90 % ≥ 80 → pass
        ({"W1": "met", "W2": "met", "W3": "not_met", "W4": "met"}, 90.0, True, []),
        # W4 (4) failing → 6/10 = 60 % → fail
        ({"W1": "met", "W2": "met", "W3": "met", "W4": "not_met"}, 60.0, False, []),
        # the critical item fails the whole audit even at 70 %
        ({"W1": "met", "W2": "not_met", "W3": "met", "W4": "met"}, 70.0, False, ["W2"]),
        ({"W1": "met", "W2": "not_met", "W3": "na", "W4": "met"}, 66.67, False, ["W2"]),
        # NA removed from the denominator: 6/6
        ({"W1": "met", "W2": "na", "W3": "na", "W4": "met"}, 100.0, True, []),
    ],
)
def test_weighted_audit_with_critical_items(audit, results, score, passed, critical_failed):
    row, criteria = score_one(audit, [("a1", *kv) for kv in results.items()], standard="AUDIT")
    assert row["score"] == score
    assert row["passed"] is passed
    assert row["details"]["critical_failed"] == critical_failed
    assert criteria["W2"]["details"]["critical"] is True
    assert criteria["W1"]["details"]["weight"] == 2.0


def jci(rule_sets, results: dict[str, str | None], default: str | None = "met"):
    rows = []
    for item in rule_sets["JCI-DEMO"].items:
        result = results.get(item.code, default)
        if result is not None:
            rows.append(("a1", item.code, result))
    return score_one(rule_sets, rows, standard="JCI-DEMO")


def test_points_all_met(rule_sets):
    row, criteria = jci(rule_sets, {})
    assert row["score"] == 10.0 and row["passed"] is True and row["band"] == "Accredited"
    assert row["parts"] == {"IPSG": 10.0, "MMU": 10.0, "PCI": 10.0}
    assert {c["status"] for c in criteria.values()} == {"met"}
    assert row["assessed"] == 7 and row["applicable"] == 7


def test_points_partial_and_not_met_aggregate_to_standard_chapter_overall(rule_sets):
    # IPSG.1: 10, 5, 0 → 5.0 (partially met); IPSG.2: 10, NA → 10; IPSG.5: 10, 10
    row, criteria = jci(
        rule_sets, {"IPSG.1-ME2": "partial", "IPSG.1-ME3": "not_met", "IPSG.2-ME2": "na"}
    )
    assert criteria["IPSG.1"]["value"] == 5.0
    assert criteria["IPSG.1"]["status"] == "partially_met"
    assert criteria["IPSG.1"]["details"]["gaps"] == ["IPSG.1-ME2", "IPSG.1-ME3"]
    assert criteria["IPSG.2"]["value"] == 10.0
    # chapter IPSG = (5 + 10 + 10) / 3 = 8.33 ≥ 8; overall = (5 + 6 × 10) / 7 = 9.29 ≥ 9
    assert row["parts"]["IPSG"] == 8.33
    assert row["score"] == 9.29
    assert row["passed"] is True
    assert row["band"] == "Accredited"


@pytest.mark.parametrize(
    ("results", "passed", "below", "chapters_below"),
    [
        # a standard under 5 (MMU.4 = 2.5) fails the survey; its chapter (6.25) too
        ({"MMU.4-ME1": "not_met", "MMU.4-ME2": "partial"}, False, ["MMU.4"], ["MMU"]),
        # IPSG.1 = 3.33 < 5 while chapter IPSG = (3.33 + 10 + 10) / 3 = 7.78 is also < 8
        ({"IPSG.1-ME1": "not_met", "IPSG.1-ME2": "not_met"}, False, ["IPSG.1"], ["IPSG"]),
        # a chapter under 8: MMU = (5 + 10) / 2 = 7.5
        ({"MMU.4-ME1": "not_met"}, False, [], ["MMU"]),
        # overall under 9 with every standard ≥ 5 and every chapter ≥ 8 is impossible here;
        # one partial keeps everything above the lines
        ({"PCI.7-ME2": "partial"}, True, [], []),
    ],
)
def test_points_thresholds_decide(rule_sets, results, passed, below, chapters_below):
    row, _ = jci(rule_sets, results)
    assert row["passed"] is passed
    assert row["details"]["standards_below_min"] == below
    assert row["details"]["chapters_below_min"] == chapters_below


def test_points_missing_elements_and_unassessed_standards(rule_sets):
    row, criteria = jci(rule_sets, {"IPSG.1-ME3": None, "PCI.7-ME1": None, "PCI.7-ME2": None})
    # IPSG.1 has findings: its unanswered element counts as not met → (10 + 10 + 0) / 3
    assert criteria["IPSG.1"]["value"] == 6.67
    assert criteria["IPSG.1"]["details"]["incomplete"] is True
    assert criteria["IPSG.1"]["details"]["missing"] == ["IPSG.1-ME3"]
    # PCI.7 has none: not assessed, left out
    assert criteria["PCI.7"]["status"] == "not_assessed"
    assert row["assessed"] == 6
    assert row["details"]["not_assessed"] == ["PCI.7"]
    assert row["details"]["incomplete"] == ["IPSG.1"]


def test_points_all_na_standard_is_not_applicable(rule_sets):
    row, criteria = jci(rule_sets, {"MMU.6-ME1": "na", "MMU.6-ME2": "na"})
    assert criteria["MMU.6"]["status"] == "not_applicable"
    assert criteria["MMU.6"]["value"] is None
    assert row["applicable"] == 6
    assert row["score"] == 10.0
