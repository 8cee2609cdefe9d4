"""The rule-set loader: shipped standards, councils' own files, fingerprints, malformed files."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from hqsync.config.errors import RuleSetError
from hqsync.config.ruleset_loader import load_rule_set_file, load_rule_sets
from hqsync.scoring import resolve_standard
from tests.scoring.factories import assessment, assessments_frame, findings_frame, hospitals_frame

SHARED_STANDARDS = Path(__file__).resolve().parents[3] / "shared" / "standards"
SHIPPED = Path(__file__).resolve().parents[2] / "config" / "rulesets"


@pytest.fixture(scope="module")
def rule_sets():
    return load_rule_sets()


def test_shipped_rule_sets_and_methods(rule_sets):
    assert {k: v.method for k, v in rule_sets.items()} == {
        "QD6858": "levels",
        "TT35": "checklist",
        "JCI-DEMO": "points",
    }
    assert [rs.accepts_partial for rs in rule_sets.values()] == [
        rule_sets[k].method == "points" for k in rule_sets
    ]


def test_qd6858_catalog_matches_the_standard(rule_sets):
    qd = rule_sets["QD6858"]
    assert qd.total == 83
    assert Counter(u.part for u in qd.units) == {"A": 19, "B": 14, "C": 35, "D": 11, "E": 4}
    doubled = sorted(u.code for u in qd.units if u.weight == 2)
    assert doubled == ["C3.1", "C3.2", "C5.1", "C5.2", "C5.3", "C5.4", "C5.5"]
    assert sum(u.weight for u in qd.units) == 90
    assert {u.code: u.applies_when for u in qd.units if u.applies_when} == {
        "E1.1": "obstetrics",
        "E1.2": "obstetrics",
        "E1.3": "obstetrics",
        "E2.1": "pediatrics",
    }
    assert qd.applicability == {"obstetrics": "has_obstetrics", "pediatrics": "has_pediatrics"}
    assert qd.items is None  # the shipped catalog lists criteria only


def test_tt35_catalog_matches_the_circular(rule_sets):
    tt = rule_sets["TT35"]
    assert tt.total == 43
    assert Counter(u.part for u in tt.units) == {"I": 13, "II": 9, "III": 2, "IV": 5, "V": 14}
    assert tt.units[2].code == "1.3.1" and tt.units[2].title.startswith("Clinical units")


@pytest.mark.skipif(not SHARED_STANDARDS.is_dir(), reason="shared reference data not present")
@pytest.mark.parametrize("name", ["qd6858-criteria.csv", "tt35-items.csv"])
def test_shipped_catalogs_equal_the_reference_data(name):
    assert (SHIPPED / name).read_bytes() == (SHARED_STANDARDS / name).read_bytes()


CRITERIA_CSV = "code,part,chapter,title,weight\nK1.1,K,K1,Hand hygiene,1\nK1.2,K,K1,Sharps,2\n"
GOOD_TOML = """
id = "COUNCIL-X"
name = "Council X infection control"
method = "levels"
aliases = ["CX"]
[catalog]
file = "cx.csv"
[levels]
max_level = 3
"""


def write_rule_set(folder: Path, toml: str = GOOD_TOML, csv: str = CRITERIA_CSV) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cx.csv").write_text(csv, encoding="utf-8")
    path = folder / "cx.toml"
    path.write_text(toml, encoding="utf-8")
    return path


def test_a_councils_rule_set_dropped_into_a_folder_is_used(tmp_path):
    write_rule_set(tmp_path / "council")
    rule_sets = load_rule_sets([tmp_path / "council"])
    cx = rule_sets["COUNCIL-X"]
    assert resolve_standard(rule_sets, "cx") is cx
    assert cx.max_level == 3 and cx.canonical_item("k1.2-3.1") == "K1.2-3.1"
    assert cx.canonical_item("K1.2-4.1") is None
    from hqsync.scoring import score_assessments

    findings = [("a1", f"K1.1-{lv}.1", "met") for lv in (1, 2, 3)]
    findings += [("a1", "K1.2-1.1", "met"), ("a1", "K1.2-2.1", "not_met")]
    frames = score_assessments(
        assessments_frame([assessment("a1", standard="COUNCIL-X")]),
        findings_frame(findings),
        hospitals_frame(),
        rule_sets,
    )
    row = frames.scores.iloc[0]
    # K1.1 level 3 (coefficient 1), K1.2 level 1 (coefficient 2): (3 + 2) / 3
    assert row["score"] == 1.67
    assert row["level_counts"] == {"1": 1, "2": 0, "3": 1}
    assert row["applicable"] == 2


def test_a_council_file_replaces_a_shipped_rule_set_and_can_add_a_sub_item_catalog(tmp_path):
    folder = tmp_path / "own"
    folder.mkdir()
    shipped = (SHIPPED / "qd6858.toml").read_text(encoding="utf-8")
    (folder / "qd6858.toml").write_text(
        shipped.replace(
            'file = "qd6858-criteria.csv"', 'file = "qd6858-criteria.csv"\nitems = "items.csv"'
        ),
        encoding="utf-8",
    )
    (folder / "qd6858-criteria.csv").write_bytes((SHIPPED / "qd6858-criteria.csv").read_bytes())
    (folder / "items.csv").write_text("code,title\nA1.1-1.1,No sign\nA1.1-2.1,Sign\n", "utf-8")
    rule_sets = load_rule_sets([folder])
    qd = rule_sets["QD6858"]
    assert qd.items is not None and len(qd.items) == 2
    assert qd.canonical_item("a1.1-2.1") == "A1.1-2.1"
    assert qd.canonical_item("A1.1-2.2") is None  # not in the council's catalog
    assert qd.fingerprint != load_rule_sets()["QD6858"].fingerprint


def test_fingerprint_changes_when_the_catalog_changes(tmp_path):
    first = load_rule_set_file(write_rule_set(tmp_path / "a"))
    same = load_rule_set_file(write_rule_set(tmp_path / "b"))
    changed = load_rule_set_file(
        write_rule_set(tmp_path / "c", csv=CRITERIA_CSV.replace("Sharps,2", "Sharps,3"))
    )
    assert first.fingerprint == same.fingerprint
    assert first.fingerprint != changed.fingerprint
    assert len(first.fingerprint) == 64


@pytest.mark.parametrize(
    ("toml", "csv", "names"),
    [
        (GOOD_TOML.replace('id = "COUNCIL-X"', ""), CRITERIA_CSV, "id"),
        (GOOD_TOML.replace('id = "COUNCIL-X"', 'id = "bad id!"'), CRITERIA_CSV, "id"),
        (GOOD_TOML.replace('name = "Council X infection control"', ""), CRITERIA_CSV, "name"),
        (GOOD_TOML.replace('"levels"', '"stars"'), CRITERIA_CSV, "method"),
        (GOOD_TOML.replace('aliases = ["CX"]', 'aliases = "CX"'), CRITERIA_CSV, "aliases"),
        (GOOD_TOML + "colour = 1\n", CRITERIA_CSV, "levels.colour"),
        ("colour = 1\n" + GOOD_TOML, CRITERIA_CSV, "colour"),
        (GOOD_TOML.replace('[catalog]\nfile = "cx.csv"', ""), CRITERIA_CSV, "catalog"),
        (GOOD_TOML.replace('"cx.csv"', '"nope.csv"'), CRITERIA_CSV, "catalog.file"),
        (GOOD_TOML.replace('"cx.csv"', '"../cx.csv"'), CRITERIA_CSV, "catalog.file"),
        (GOOD_TOML.replace("max_level = 3", "max_level = 1"), CRITERIA_CSV, "levels.max_level"),
        (GOOD_TOML.replace("max_level = 3", 'max_level = "3"'), CRITERIA_CSV, "levels.max_level"),
        (GOOD_TOML + 'unanswered_level = "skip"\n', CRITERIA_CSV, "levels.unanswered_level"),
        (GOOD_TOML + "[[bands]]\nlabel = 'good'\n", CRITERIA_CSV, "bands[0].min"),
        (GOOD_TOML + "[[bands]]\nmin = 4\n", CRITERIA_CSV, "bands[0].label"),
        (GOOD_TOML + "[thresholds]\npass_rule = 'most'\n", CRITERIA_CSV, "thresholds.pass_rule"),
        (
            GOOD_TOML + "[thresholds]\npass_rule = 'percent'\n",
            CRITERIA_CSV,
            "thresholds.pass_min_score",
        ),
        (
            GOOD_TOML.replace('file = "cx.csv"', 'file = "cx.csv"\ncolumns = { colour = "x" }'),
            CRITERIA_CSV,
            "catalog.columns.colour",
        ),
        (GOOD_TOML, CRITERIA_CSV.replace(",2\n", ",two\n"), "'weight'"),
        (GOOD_TOML, CRITERIA_CSV.replace(",2\n", ",0\n"), "'weight'"),
        (GOOD_TOML, CRITERIA_CSV.replace("K1.2", "K1.1"), "repeats"),
        (GOOD_TOML, CRITERIA_CSV.replace("code,", "id,"), "'code'"),
        (GOOD_TOML, "code,title\n", "no rows"),
        (
            GOOD_TOML,
            CRITERIA_CSV.replace("weight", "weight,applies_when").replace(
                "Sharps,2", "Sharps,2,surgery"
            ),
            "applicability",
        ),
        (
            GOOD_TOML.replace('method = "levels"', 'method = "points"'),
            CRITERIA_CSV,
            "catalog.items",
        ),
        (
            GOOD_TOML + "[thresholds]\noverall_min = 'high'\n",
            CRITERIA_CSV,
            "thresholds.overall_min",
        ),
        ("id = [", CRITERIA_CSV, "TOML"),
    ],
)
def test_malformed_rule_set_is_rejected_naming_file_and_field(tmp_path, toml, csv, names):
    path = write_rule_set(tmp_path, toml, csv)
    with pytest.raises(RuleSetError) as caught:
        load_rule_sets([tmp_path])
    message = str(caught.value)
    assert str(path) in message
    assert names in message


def test_missing_rule_set_folder_is_a_clear_error(tmp_path):
    with pytest.raises(RuleSetError, match="rule_set_dirs"):
        load_rule_sets([tmp_path / "absent"])


def test_sub_item_catalog_with_an_unknown_criterion_is_rejected(tmp_path):
    toml = GOOD_TOML.replace('file = "cx.csv"', 'file = "cx.csv"\nitems = "items.csv"')
    path = write_rule_set(tmp_path, toml)
    (tmp_path / "items.csv").write_text("code\nK9.9-1.1\n", encoding="utf-8")
    with pytest.raises(RuleSetError, match=r"items\.csv row 2: item code 'K9\.9-1\.1'") as caught:
        load_rule_sets([tmp_path])
    assert str(path) in str(caught.value)
