"""The dashboard builder: columns addressed by key, and levels 1..max_level of the rule sets."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pandas as pd
import pytest

from hqsync.config.utils import name_sort_key
from hqsync.config.vocabulary import Language
from hqsync.scoring import compare_assessments
from hqsync.scoring.ruleset import Band, RuleSet
from hqsync.sync.dashboard import (
    LABELS,
    LEVEL_COLOURS,
    DashboardData,
    Table,
    build_dashboard,
    builder,
    level_colour,
    level_colours,
)
from hqsync.sync.dashboard.builder import ColumnSpec

NOW = datetime(2026, 3, 1, 8, 0, tzinfo=UTC)
BAND_COLOURS = {"Tốt": "#63BE7B", "Kém": "#F8696B"}


def rule_set(standard: str, max_level: int) -> RuleSet:
    """A levels rule set with two bands (best first), as the builder reads it."""
    return RuleSet(
        id=standard,
        name=standard,
        method="levels",
        fingerprint="test",
        max_level=max_level,
        bands=(Band(min=4.0, label="Tốt"), Band(min=0.0, label="Kém")),
    )


def dashboard_data(max_level: int, counts: dict[str, int]) -> DashboardData:
    """Two hospitals assessed against one levels standard of `max_level` levels."""
    scores = pd.DataFrame(
        [
            {
                "assessment_key": f"s1:A{h}",
                "hospital_key": f"s1:H{h}",
                "source": "s1",
                "assessment_id": f"A{h}",
                "hospital_id": f"H{h}",
                "kind": "council",
                "assessed_on": date(2025, 6, h),
                "status": "submitted",
                "assessor": None,
                "standard": "STD",
                "method": "levels",
                "score": 4.5 if h == 1 else 1.5,
                "passed": None,
                "band": "Tốt" if h == 1 else "Kém",
                "applicable": 3,
                "assessed": 3,
                "level_counts": counts,
                "parts": {},
                "details": {},
            }
            for h in (1, 2)
        ]
    )
    criteria = pd.DataFrame(
        [
            {
                "assessment_key": f"s1:A{h}",
                "source": "s1",
                "assessment_id": f"A{h}",
                "code": code,
                "level": level,
                "value": None,
                "status": "scored",
                "details": {},
            }
            for h in (1, 2)
            for code, level in (("C1", max_level), ("C2", 6 if max_level >= 6 else 2), ("C3", 1))
        ]
    )
    hospitals = pd.DataFrame(
        [
            {"hospital_key": f"s1:H{h}", "source": "s1", "hospital_id": f"H{h}",
             "name": f"Bệnh viện {h}", "district": "Ninh Kiều", "ownership": "public"}
            for h in (1, 2)
        ]
    )  # fmt: skip
    return DashboardData(
        scores=scores,
        criteria=criteria,
        comparisons=pd.DataFrame(),
        hospitals=hospitals,
        rejected=[],
        rule_sets={"STD": rule_set("STD", max_level)},
        last_sync=None,
        sources=("s1",),
    )


def table(data: DashboardData, key: str, language: str = "en") -> Table:
    """The dashboard's table `key`."""
    return next(t for t in build_dashboard(data, language, NOW).tables if t.key == key)


def headers(t: Table) -> list[str]:
    """The table's column headers, in order."""
    return [c.header for c in t.columns]


def placed_colours(t: Table) -> tuple[dict[tuple[int, str], str], dict[str, list[float]]]:
    """Fills by (row, column header) and value colours by column header: where colours land."""
    names = headers(t)
    fills = {(row, names[col]): colour for (row, col), colour in t.fills.items()}
    by_value: dict[str, list[float]] = {}
    for colour in t.value_colours:
        for col in colour.columns:
            by_value.setdefault(names[col], []).append(colour.low)
    return fills, by_value


FIVE_COUNTS = {"1": 1, "2": 0, "3": 1, "4": 0, "5": 1}


def test_an_inserted_column_moves_no_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    data = dashboard_data(5, FIVE_COUNTS)
    before = table(data, "summary")
    leading = list(builder.SUMMARY_LEADING)
    at_band = [spec.key for spec in leading].index("band")
    leading.insert(at_band, ColumnSpec("ownership", width=10))  # before band and level columns
    leading.insert(0, ColumnSpec("tab", width=10))  # and before everything
    monkeypatch.setattr(builder, "SUMMARY_LEADING", tuple(leading))
    after = table(data, "summary")

    assert len(after.columns) == len(before.columns) + 2
    assert headers(after)[0] == "Tab"
    assert headers(after)[headers(after).index("Band / result") - 1] == "Ownership"
    # Colours land on the same named columns: band and score fills, level-count rules.
    assert placed_colours(after) == placed_colours(before)
    fills, by_value = placed_colours(after)
    assert fills[(0, "Band / result")] == BAND_COLOURS["Tốt"] == fills[(0, "Score")]
    assert fills[(1, "Band / result")] == BAND_COLOURS["Kém"]
    assert {name for _, name in fills} == {"Band / result", "Score"}
    assert by_value == {f"Level {n}": [1] for n in range(1, 6)}
    band = headers(after).index("Band / result")
    assert [row[band] for row in after.rows] == ["Tốt", "Kém"]
    assert [row[headers(after).index("Ownership")] for row in after.rows] == [None, None]


def test_a_seven_level_rule_set_shows_levels_6_and_7_with_counts() -> None:
    counts = {"1": 1, "2": 0, "3": 0, "4": 0, "5": 0, "6": 1, "7": 1}
    data = dashboard_data(7, counts)
    for language, level in (("en", "Level"), ("vi", "Mức")):
        summary = table(data, "summary", language)
        names = headers(summary)
        level_columns = [n for n in names if n.startswith(f"{level} ")]
        assert level_columns == [f"{level} {n}" for n in range(1, 8)]
        for row in summary.rows:
            assert [row[names.index(f"{level} {n}")] for n in range(1, 8)] == [1, 0, 0, 0, 0, 1, 1]
        _, by_value = placed_colours(summary)
        assert set(by_value) == set(level_columns)
    # Each level count column has its own colour from red (level 1) to green (level 7).
    summary = table(data, "summary")
    colours = {summary.columns[c.columns[0]].header: c.colour for c in summary.value_colours}
    assert colours["Level 1"] == LEVEL_COLOURS[1]
    assert colours["Level 7"] == LEVEL_COLOURS[5]
    assert len(set(colours.values())) == 7
    # The criteria matrix colours every level 1..7, levels 6 and 7 included.
    criteria = table(data, "criteria")
    assert sorted({c.low for c in criteria.value_colours}) == list(range(1, 8))
    c1 = headers(criteria).index("C1")
    assert [row[c1] for row in criteria.rows] == [7, 7]
    assert all(c1 in c.columns for c in criteria.value_colours)


def test_five_levels_keep_their_columns_and_colours() -> None:
    summary = table(dashboard_data(5, FIVE_COUNTS), "summary")
    assert [n for n in headers(summary) if n.startswith("Level ")] == [
        f"Level {n}" for n in range(1, 6)
    ]
    assert [c.colour for c in summary.value_colours] == [LEVEL_COLOURS[n] for n in range(1, 6)]
    assert [level_colour(n) for n in range(1, 6)] == [LEVEL_COLOURS[n] for n in range(1, 6)]


def test_level_colours_spread_the_palette_over_the_scale() -> None:
    assert level_colour(1, 7) == LEVEL_COLOURS[1]
    assert level_colour(7, 7) == LEVEL_COLOURS[5]
    assert level_colour(4, 7) == LEVEL_COLOURS[3]  # the middle of the scale
    assert level_colour(3, 9) == LEVEL_COLOURS[2] and level_colour(9, 9) == LEVEL_COLOURS[5]
    seven = [level_colour(n, 7) for n in range(1, 8)]
    assert len(set(seven)) == 7 and all(c.startswith("#") and len(c) == 7 for c in seven)
    assert [c.low for c in level_colours((3,), 7)] == list(range(1, 8))
    with pytest.raises(ValueError, match="not within"):
        level_colour(8, 7)


def test_names_sort_in_vietnamese_order_on_every_tab() -> None:
    names = ["Yên Bái", "Đà Nẵng", "Dương Minh Châu", "Ân Thi", "Anh Sơn", "Ô Môn", "Ông Ích"]
    expected = ["Anh Sơn", "Ân Thi", "Dương Minh Châu", "Đà Nẵng", "Ô Môn", "Ông Ích", "Yên Bái"]
    assert sorted(names, key=name_sort_key) == expected  # Đ after every D, not after Y
    base = dashboard_data(5, FIVE_COUNTS)
    scores = pd.concat([base.scores.iloc[[0]]] * len(names), ignore_index=True)
    scores["assessment_key"] = [f"s1:A{i}" for i in range(len(names))]
    scores["hospital_key"] = [f"s1:H{i}" for i in range(len(names))]
    scores["hospital_id"] = [f"H{i}" for i in range(len(names))]
    hospitals = pd.DataFrame(
        {"hospital_key": scores["hospital_key"], "source": "s1",
         "hospital_id": scores["hospital_id"], "name": names, "district": None,
         "ownership": None}
    )  # fmt: skip
    data = dataclasses.replace(base, scores=scores, hospitals=hospitals)
    summary = table(data, "summary")
    assert [row[0] for row in summary.rows] == expected
    trend = table(data, "trend")
    assert headers(trend)[1:] == expected


def scored(**fields: object) -> DashboardData:
    """One QĐ-like assessment of hospital 1 with `fields` over its stored values."""
    base = dashboard_data(5, FIVE_COUNTS)
    scores = base.scores.iloc[[0]].copy()
    for name, value in fields.items():
        scores[name] = [value]
    return dataclasses.replace(base, scores=scores)


@pytest.mark.parametrize(
    ("fields", "rank_incomplete", "note", "band_and_rank"),
    [
        ({"score": 5.0, "assessed": 2, "applicable": 83}, False, "incomplete", (None, None)),
        ({"score": 5.0, "assessed": 2, "applicable": 83}, True, "incomplete", ("Tốt", 1)),
        ({"score": None, "band": None, "assessed": 0, "applicable": 83}, False,
         "reason_no_usable_findings", (None, None)),
        ({"score": None, "band": None, "assessed": 0, "applicable": 0}, False,
         "reason_all_not_applicable", (None, None)),
        ({"score": 4.5, "assessed": 83, "applicable": 83}, False, None, ("Tốt", 1)),
    ],
)  # fmt: skip
@pytest.mark.parametrize("language", ["vi", "en"])
def test_the_summary_shows_coverage_and_why_there_is_no_score_or_rank(
    fields, rank_incomplete, note, band_and_rank, language
) -> None:
    data = scored(**fields)
    comparisons = compare_assessments(data.scores, data.criteria, rank_incomplete=rank_incomplete)
    data = dataclasses.replace(data, comparisons=comparisons.assessments)
    summary = table(data, "summary", language)
    labels = LABELS[Language(language)]
    (row,) = [dict(zip(headers(summary), r, strict=True)) for r in summary.rows]
    assert row[labels["applicable"]] == f"{fields['assessed']}/{fields['applicable']}"
    assert row[labels["note"]] == (labels[note] if note else None)
    assert (row[labels["band"]], row[labels["rank"]]) == band_and_rank
    if note and note.startswith("reason_"):
        assert (
            row[labels["note"]]
            in {
                "vi": {"Không có kết quả đánh giá dùng được", "Mọi tiêu chí đều không áp dụng"},
                "en": {"No usable findings", "All criteria not applicable"},
            }[language]
        )


def test_checklist_scores_are_percentages_and_standards_show_their_names() -> None:
    checklist = RuleSet(
        id="TT35", name="Tiêu chuẩn", short_name="TT 35/2024", method="checklist",
        fingerprint="t", bands=(),
    )  # fmt: skip
    data = scored(standard="TT35", method="checklist", score=87.5, band=None, passed=False)
    data = dataclasses.replace(data, rule_sets={**data.rule_sets, "TT35": checklist})
    summary = table(data, "summary")
    (row,) = [dict(zip(headers(summary), r, strict=True)) for r in summary.rows]
    assert (row["Standard"], row["Score"], row["% met"]) == ("TT 35/2024", None, 0.875)
    kinds = {c.header: c.kind for c in summary.columns}
    assert (kinds["% met"], kinds["Change"], kinds["Council − self"]) == (
        "percent",
        "signed",
        "signed",
    )
    fills, _ = placed_colours(summary)
    assert fills[(0, "% met")] == fills[(0, "Band / result")]  # the fail colour on the %
