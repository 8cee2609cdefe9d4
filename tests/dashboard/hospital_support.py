"""Helpers of the hospital-dashboard tests: a demo deployment with one dashboard per hospital,
a cell-by-cell scan of a workbook, and a finding change that shows on a dashboard."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from openpyxl import load_workbook

from hqsync.jobs.demo import HOSPITALS
from hqsync.models import reports
from hqsync.sync.dashboard import latest_assessments

SMALL = {"hospital_count": 4, "items_per_level": (1, 2, 1, 1, 1)}
IDS = tuple(h[0] for h in HOSPITALS[: SMALL["hospital_count"]])
NAMES = {h[0]: h[1] for h in HOSPITALS[: SMALL["hospital_count"]]}


def workbook_texts(path: Path) -> Iterator[str]:
    """Every tab title and every non-empty cell of a workbook, as text."""
    book = load_workbook(path, read_only=True)
    for sheet in book.worksheets:
        yield sheet.title
        for row in sheet.iter_rows(values_only=True):
            yield from (str(v) for v in row if v is not None)
    book.close()


def others_found(texts: list[str], hospital_id: str) -> list[tuple[str, str]]:
    """(other hospital's id or name, the text holding it) for every mention of another."""
    found = []
    for other in IDS:
        if other == hospital_id:
            continue
        for text in texts:
            for needle in (other, NAMES[other]):
                if needle in text:
                    found.append((needle, text))
    return found


def table_rows(path: Path, title: str) -> list[dict[str, Any]]:
    """A tab's rows as header → value."""
    book = load_workbook(path, read_only=True)
    rows = [list(r) for r in book[title].iter_rows(values_only=True)]
    book.close()
    return [dict(zip(rows[0], r, strict=False)) for r in rows[1:]]


def visible_finding(engine: Any, tabs: dict[str, list[list[Any]]], hospital_id: str) -> int:
    """The Findings row of a level-1 sub-item, met, of a criterion at level 2 or more in the
    hospital's latest assessment: marking it not met drops the criterion's level."""
    with engine.connect() as conn:
        scores, criteria = reports.load_results(conn)
    latest = latest_assessments(scores)
    mine = latest[(latest["hospital_id"] == hospital_id) & (latest["method"] == "levels")]
    ids = set(mine["assessment_id"])
    keys = set(mine["assessment_key"])
    high = criteria[criteria["assessment_key"].isin(keys) & (criteria["level"] >= 2)]
    codes = {str(c) for c in high["code"]}
    findings = tabs["Findings"]
    seen = [r[0] for r in findings]
    for index, row in enumerate(findings):
        if not index or row[1] not in ids or row[3] != "Đạt" or seen.count(row[0]) != 1:
            continue
        criterion, _, item = str(row[2]).partition("-")
        if criterion in codes and item.startswith("1."):
            return index
    raise AssertionError(f"no level-1 finding to change for {hospital_id}")


def xlsx_deployment(directory: Path, db_url: str, language: str = "vi") -> tuple[Any, ...]:
    """A demo source, an overview and one dashboard per hospital (xlsx) under `directory`:
    (settings, source tabs, hospital_id → dashboard path)."""
    from hqsync.config.settings import (
        DashboardSettings,
        DatabaseSettings,
        Settings,
        SourceSettings,
    )
    from hqsync.jobs.demo import build_source_tabs
    from hqsync.sync.xlsx import write_source_workbook

    tabs = build_source_tabs(**SMALL)
    write_source_workbook(directory / "source.xlsx", tabs)
    (directory / "hospitals").mkdir(exist_ok=True)
    targets = {h: str(directory / "hospitals" / f"{h}.xlsx") for h in IDS}
    settings = Settings(
        database=DatabaseSettings(db_url),
        sources=(SourceSettings("demo", "xlsx", str(directory / "source.xlsx")),),
        dashboard=DashboardSettings("xlsx", str(directory / "overview.xlsx"), language, targets),
    )
    return settings, tabs, targets
