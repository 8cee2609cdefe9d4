"""`hqsync scores`: level counts follow each rule set's own levels (1..max_level)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from hqsync.config.ruleset_loader import load_rule_sets
from hqsync.config.utils import neutralise_formula
from hqsync.jobs.export import scores_csv_rows, scores_json
from hqsync.models import results
from hqsync.models.tables import Assessment, Hospital
from hqsync.scoring import report_levels, score_assessments
from tests.scoring.factories import (
    assessment,
    assessments_frame,
    findings_frame,
    hospitals_frame,
    levels_rule_set,
    reaching,
)

NOW = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
SOURCE = "council"


def _store_scored(engine, rule_sets, findings, standard, name="Bệnh viện 1"):
    """Store hospital h1 (called `name`) and assessment a1 of `standard`, scored from
    `findings`."""
    row = {"raw": {}, "extra": {}, "row_hash": "x", "first_seen_at": NOW, "changed_at": NOW}
    with engine.begin() as conn:
        conn.execute(
            sa.insert(Hospital).values(
                source=SOURCE, hospital_id="h1", row_number=2, name=name, **row
            )
        )
        conn.execute(
            sa.insert(Assessment).values(
                source=SOURCE,
                assessment_id="a1",
                hospital_id="h1",
                standard=standard,
                kind="council",
                status="submitted",
                row_number=2,
                **row,
            )
        )
    key, hospital = results.make_key(SOURCE, "a1"), results.make_key(SOURCE, "h1")
    frames = score_assessments(
        assessments_frame([assessment(key, hospital=hospital, standard=standard)]),
        findings_frame((key, code, result) for _, code, result in findings),
        hospitals_frame({hospital: (True, True)}),
        rule_sets,
    )
    fingerprints = {rid: rs.fingerprint for rid, rs in rule_sets.items()}
    with engine.begin() as conn:
        results.save_scores(conn, frames.scores, frames.criteria, fingerprints, NOW)


def test_a_seven_level_rule_set_reports_levels_6_and_7_in_json_and_csv(engine):
    council = levels_rule_set("COUNCIL-7", max_level=7, codes=("K1.1", "K1.2", "K1.3"))
    rule_sets = {**load_rule_sets(), council.id: council}
    assert council.levels == (1, 2, 3, 4, 5, 6, 7)
    assert report_levels(rule_sets.values()) == council.levels
    findings = [
        *reaching("a1", "K1.1", 7, max_level=7),
        *reaching("a1", "K1.2", 6, max_level=7),
        *reaching("a1", "K1.3", 2, max_level=7),
    ]
    _store_scored(engine, rule_sets, findings, council.id)

    (record,) = scores_json(engine, rule_sets)
    assert record["level_counts"] == {"1": 0, "2": 1, "3": 0, "4": 0, "5": 0, "6": 1, "7": 1}
    assert record["criteria"] == {"K1.1": 7, "K1.2": 6, "K1.3": 2}

    header, rows = scores_csv_rows([record], report_levels(rule_sets.values()))
    level_columns = [name for name in header if name.startswith("level_")]
    assert level_columns == [f"level_{n}" for n in range(1, 8)]
    (row,) = rows
    assert row[header.index("level_6")] == 1
    assert row[header.index("level_7")] == 1
    assert row[header.index("level_2")] == 1


def test_a_five_level_rule_set_keeps_five_level_columns(engine):
    rule_sets = load_rule_sets()
    assert report_levels(rule_sets.values()) == (1, 2, 3, 4, 5)
    findings = reaching("a1", "A1.1", 4)
    _store_scored(engine, rule_sets, findings, "QD6858")
    (record,) = scores_json(engine, rule_sets)
    assert record["level_counts"] == {"1": 0, "2": 0, "3": 0, "4": 1, "5": 0}
    header, _ = scores_csv_rows([record], report_levels(rule_sets.values()))
    assert [name for name in header if name.startswith("level_")] == [
        f"level_{n}" for n in range(1, 6)
    ]
    # Without the rule set (no longer configured) the stored levels are reported as they are.
    (orphan,) = scores_json(engine, {})
    assert orphan["level_counts"] == record["level_counts"]


@pytest.mark.parametrize(
    ("rank_incomplete", "rank", "band"), [(False, None, None), (True, 1, "Tốt")]
)
def test_two_of_83_criteria_at_level_5_are_unranked_without_band(
    engine, rank_incomplete, rank, band
):
    rule_sets = load_rule_sets()
    findings = reaching("a1", "A1.1", 5) + reaching("a1", "A1.2", 5)
    _store_scored(engine, rule_sets, findings, "QD6858")
    (record,) = scores_json(engine, rule_sets, rank_incomplete=rank_incomplete)
    assert (record["score"], record["assessed"], record["applicable"]) == (5.0, 2, 83)
    assert record["complete"] is False
    assert (record["rank"], record["band"]) == (rank, band)
    assert record["no_score_reason"] is None


def test_an_assessment_without_findings_says_why_in_json_and_csv(engine):
    rule_sets = load_rule_sets()
    _store_scored(engine, rule_sets, [], "QD6858")
    (record,) = scores_json(engine, rule_sets)
    assert record["score"] is None and record["rank"] is None
    assert record["no_score_reason"] == "no_usable_findings"
    header, (row,) = scores_csv_rows([record])
    assert row[header.index("no_score_reason")] == "no_usable_findings"
    assert row[header.index("complete")] is False


@pytest.mark.parametrize(
    ("text", "safe"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+1+2", "'+1+2"),
        ("-2+3", "'-2+3"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("Bệnh viện = tốt", "Bệnh viện = tốt"),
        ("'=quoted", "'=quoted"),
    ],
)
def test_csv_text_a_spreadsheet_would_evaluate_is_neutralised(engine, text, safe):
    assert neutralise_formula(text) == safe
    assert neutralise_formula("") == ""
    rule_sets = load_rule_sets()
    _store_scored(engine, rule_sets, reaching("a1", "A1.1", 4), "QD6858", name=text)
    (record,) = scores_json(engine, rule_sets)
    header, (row,) = scores_csv_rows([record])
    assert row[header.index("hospital_name")] == safe.replace("\r", "\n")
    for name, value in zip(header, row, strict=True):
        if isinstance(value, str):
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), name


@pytest.mark.parametrize("name", ["BV\rA", "BV\r\nA", "BV\nA", '"BV", A'])
def test_a_csv_row_with_line_breaks_in_text_reads_back_as_one_row(engine, name):
    rule_sets = load_rule_sets()
    _store_scored(engine, rule_sets, reaching("a1", "A1.1", 4), "QD6858", name=name)
    (record,) = scores_json(engine, rule_sets)
    header, (row,) = scores_csv_rows([record])
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows([header, row])  # as `hqsync scores` does
    read = list(csv.reader(io.StringIO(buffer.getvalue(), newline="")))
    assert len(read) == 2
    assert read[1][header.index("hospital_name")] == name.replace("\r\n", "\n").replace("\r", "\n")
