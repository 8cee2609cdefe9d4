"""`hqsync scores`: level counts follow each rule set's own levels (1..max_level)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
import sqlalchemy as sa

from hqsync.config.ruleset_loader import load_rule_sets
from hqsync.config.utils import neutralise_formula
from hqsync.jobs.export import scores_csv_rows, scores_json
from hqsync.models import reports, results, tables
from hqsync.scoring import compare_assessments, report_levels, score_assessments
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
            sa.insert(tables.hospitals).values(
                source=SOURCE, hospital_id="h1", row_number=2, name=name, **row
            )
        )
        conn.execute(
            sa.insert(tables.assessments).values(
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


# (assessment, hospital, kind, assessed_on, status, level of each of K1.1, K1.2, K1.3: None is
# no finding). Series with a previous one, a rank tie, self/council pairs in one year, a draft,
# an incomplete one, an undated one and one without a score.
SERIES = [
    ("a1", "h1", "self", date(2024, 3, 1), "submitted", (3, 3, 3)),
    ("a2", "h1", "council", date(2024, 6, 1), "approved", (4, 4, 4)),
    ("a3", "h1", "self", date(2024, 9, 1), "submitted", (2, 3, 2)),
    ("a4", "h1", "self", date(2025, 1, 1), "draft", (5, 5, 5)),
    ("a5", "h1", "council", date(2025, 2, 1), "submitted", (6, None, None)),
    ("b1", "h2", "self", date(2024, 5, 1), "submitted", (2, 3, 2)),
    ("b2", "h2", "self", None, "submitted", (6, 6, 6)),
    ("b3", "h2", "council", date(2024, 7, 1), "submitted", (None, None, None)),
    ("b4", "h2", "council", date(2024, 8, 1), "approved", (7, 1, 7)),
]


def _store_series(engine, rule_set):
    row = {"raw": {}, "extra": {}, "row_hash": "x", "first_seen_at": NOW, "changed_at": NOW}
    with engine.begin() as conn:
        for n, hospital in enumerate(("h1", "h2"), start=2):
            conn.execute(
                sa.insert(tables.hospitals).values(
                    source=SOURCE, hospital_id=hospital, row_number=n, name=hospital, **row
                )
            )
        for n, (ident, hospital, kind, day, status, _) in enumerate(SERIES, start=2):
            conn.execute(
                sa.insert(tables.assessments).values(
                    source=SOURCE,
                    assessment_id=ident,
                    hospital_id=hospital,
                    standard=rule_set.id,
                    kind=kind,
                    assessed_on=day,
                    status=status,
                    row_number=n,
                    **row,
                )
            )
    key = lambda ident: results.make_key(SOURCE, ident)  # noqa: E731
    findings = [
        finding
        for ident, _, _, _, _, levels in SERIES
        for code, level in zip(("K1.1", "K1.2", "K1.3"), levels, strict=True)
        if level is not None
        for finding in reaching(key(ident), code, level, max_level=7)
    ]
    frames = score_assessments(
        assessments_frame(
            assessment(
                key(i), hospital=key(h), standard=rule_set.id, kind=k, assessed_on=d, status=s
            )
            for i, h, k, d, s, _ in SERIES
        ),
        findings_frame(findings),
        hospitals_frame({key("h1"): (True, True), key("h2"): (True, True)}),
        {rule_set.id: rule_set},
    )
    with engine.begin() as conn:
        results.save_scores(
            conn, frames.scores, frames.criteria, {rule_set.id: rule_set.fingerprint}, NOW
        )


@pytest.mark.parametrize("rank_incomplete", [False, True])
def test_the_export_compares_the_store_s_rows_as_the_dashboards_compare_its_frames(
    engine, rank_incomplete
):
    """`scores` compares plain rows (without pandas); the dashboards and alerts compare the
    frames of `load_results`: every comparison is the same value of the same type."""
    rule_set = levels_rule_set("COUNCIL-7", max_level=7)
    _store_series(engine, rule_set)
    records = scores_json(engine, {rule_set.id: rule_set}, rank_incomplete=rank_incomplete)
    with engine.connect() as conn:
        frame = compare_assessments(
            *reports.load_results(conn), rank_incomplete=rank_incomplete
        ).assessments
    expected = {row["assessment_key"]: row for row in frame.to_dict("records")}
    fields = ["band", "previous_score", "change", "rank", "at_risk", "self_council_diff"]
    fields += ["complete", "no_score_reason", "score"]
    assert len(records) == len(SERIES)
    for record in records:
        row = expected[results.make_key(SOURCE, record["assessment_id"])]
        got = [(type(record[f]), record[f]) for f in fields]
        assert got == [(type(row[f]), row[f]) for f in fields], record["assessment_id"]
    # The store holds every case the comparisons distinguish.
    assert {r["assessment_id"] for r in records if r["change"] is not None} >= {"a3"}
    assert {r["assessment_id"] for r in records if r["self_council_diff"] is not None} >= {
        "a2",
        "a3",
        "b1",
        "b4",
    }
    assert sum(r["rank"] is not None for r in records) >= 3
    assert any(r["no_score_reason"] is not None for r in records)
    assert any(r["complete"] is False for r in records)
