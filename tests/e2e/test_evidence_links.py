"""Evidence links through a template, on the xlsx backend end to end: every gap links its
failing sub-items' evidence as the formatted URL with the cell URL-encoded, hostile evidence
text stays inert, and the dashboard workbook holds no formula."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from openpyxl import load_workbook

from hqsync.config.settings import (
    DashboardSettings,
    DatabaseSettings,
    Settings,
    SourceSettings,
    TabNames,
)
from hqsync.jobs.demo import RESULT_WORDS, build_source_tabs
from hqsync.jobs.pipeline import Pipeline
from hqsync.models.store import open_store
from hqsync.sync.xlsx import write_source_workbook
from tests.dashboard.gaps import VI, expected_gap_links, xlsx_formula_cells, xlsx_gap_links

FINDINGS_TAB = "Chi tiết đánh giá"
TEMPLATE = (
    "https://www.appsheet.com/template/gettablefileurl?appName=Insp-1"
    "&tableName={tab}&fileName={path}"
)
HOSTILE = (
    '=HYPERLINK("http://evil.example/","bấm vào")',
    "javascript:alert(document.cookie)",
    "data:text/html,<script>alert(1)</script>",
    "=1+1",
    "+cmd|' /C calc'!A0",
    'Findings_Images/it\'s "ảnh" số 1 <b>.jpg',
    "https://photos.example.org/ảnh 1.jpg",
)


def _link(cell: str) -> str | None:
    """What the template gives a cell (the rule written out again, independently)."""
    if cell.startswith("https://"):
        return "https://photos.example.org/%E1%BA%A3nh%201.jpg"
    if cell.split(":", 1)[0] in ("javascript", "data"):
        return None
    return TEMPLATE.format(tab=quote(FINDINGS_TAB, safe=""), path=quote(cell, safe=""))


def test_a_gaps_evidence_links_through_the_template_and_stays_inert(tmp_path: Path):
    tabs: dict[str, list[list[Any]]] = build_source_tabs(
        hospital_count=2, items_per_level=(1, 2, 1, 1, 1)
    )
    tabs[FINDINGS_TAB] = tabs.pop("Findings")
    failing = [r for r in tabs[FINDINGS_TAB][1:] if r[3] == RESULT_WORDS["not_met"]]
    for n, row in enumerate(failing):
        row[5] = HOSTILE[n % len(HOSTILE)] if n % 3 == 0 else f"Findings_Images/{row[0]}.Ảnh.jpg"
    write_source_workbook(tmp_path / "source.xlsx", tabs)
    settings = Settings(
        database=DatabaseSettings(f"sqlite:///{tmp_path / 'store.db'}"),
        sources=(
            SourceSettings(
                "demo",
                "xlsx",
                str(tmp_path / "source.xlsx"),
                tabs=TabNames(findings=FINDINGS_TAB),
                evidence_url=TEMPLATE,
            ),
        ),
        dashboard=DashboardSettings("xlsx", str(tmp_path / "dashboard.xlsx"), "vi"),
    )
    engine = open_store(settings.database.url)
    try:
        pipeline = Pipeline(settings, engine)
        assert not pipeline.run_cycle(publish_always=True).failed
        expected = expected_gap_links(
            engine, pipeline.rule_sets, settings.sources, tabs[FINDINGS_TAB], _link
        )
    finally:
        engine.dispose()
    found = xlsx_gap_links(tmp_path / "dashboard.xlsx")
    assert len(expected) > 20 and found == expected
    texts = {cell for cell in HOSTILE if _link(cell)}
    linked = {url for *_, url in found}
    assert {_link(cell) for cell in texts} & linked, "no hostile cell reached a gap"
    for url in linked:
        assert url.startswith("https://")
        assert not any(c in url for c in " \"'<>") and "=HYPERLINK" not in url
    assert xlsx_formula_cells(tmp_path / "dashboard.xlsx") == []
    # A link's text is the sub-item's code, blue and underlined like any link.
    gaps = load_workbook(tmp_path / "dashboard.xlsx")[VI["gaps"]]
    cell = next(c for row in gaps.iter_rows() for c in row if c.hyperlink)
    assert cell.data_type == "s" and cell.font.underline == "single"
