"""Reading a published Gaps tab back (both backends), what its evidence links must be, and
a scan of every written cell for formulas: shared by the xlsx and Google evidence tests."""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from sqlalchemy.engine import Engine

from hqsync.config.settings import SourceSettings
from hqsync.jobs.demo import RESULT_WORDS
from hqsync.models.results import split_key
from hqsync.scoring.ruleset import RuleSet
from hqsync.sync.dashboard import LABELS, latest_assessments, load_dashboard_data

GapLink = tuple[str, str, str, str, str]
"""(hospital name, standard, criterion, link text, url) of one evidence link on the Gaps tab."""
VI = LABELS["vi"]


def _links_of_rows(rows: Sequence[Sequence[tuple[Any, str | None]]]) -> set[GapLink]:
    header = [str(value) for value, _ in rows[0]]
    column = {name: i for i, name in enumerate(header)}
    found: set[GapLink] = set()
    for row in rows[1:]:
        cells = list(row) + [(None, None)] * (len(header) - len(row))
        to_fix = str(cells[column[VI["to_fix"]]][0]).split(", ")
        for i, name in enumerate(header):
            text, url = cells[i]
            if url is None:
                continue
            assert name.startswith(VI["evidence"] + " "), f"a link in column {name!r}"
            assert text in to_fix, f"link {text!r} is not one of the gap's sub-items {to_fix}"
            found.add(
                (
                    str(cells[column[VI["hospital"]]][0]),
                    str(cells[column[VI["standard"]]][0]),
                    str(cells[column[VI["criterion"]]][0]),
                    str(text),
                    url,
                )
            )
    return found


def xlsx_gap_links(path: Path) -> set[GapLink]:
    """The evidence links of the Gaps tab of a dashboard workbook (cell hyperlinks)."""
    sheet = load_workbook(path)[VI["gaps"]]
    rows = [
        [(c.value, c.hyperlink.target if c.hyperlink else None) for c in row]
        for row in sheet.iter_rows()
    ]
    return _links_of_rows(rows)


def google_gap_links(fake: Any, spreadsheet_id: str) -> set[GapLink]:
    """The evidence links of the Gaps tab of a dashboard in the fake (cell `textFormat.link`)."""
    sheet = fake.sheet(spreadsheet_id, VI["gaps"])
    width = max(c for _, c in sheet.cells) + 1
    height = max(r for r, _ in sheet.cells) + 1
    rows = []
    for r in range(height):
        row = []
        for c in range(width):
            cell = sheet.cells.get((r, c), {})
            value = next(iter(cell.get("userEnteredValue", {None: None}).values()))
            link = cell.get("userEnteredFormat", {}).get("textFormat", {}).get("link")
            row.append((value, link["uri"] if link else None))
        rows.append(row)
    return _links_of_rows(rows)


def expected_gap_links(
    engine: Engine,
    rule_sets: Mapping[str, RuleSet],
    sources: Sequence[SourceSettings],
    findings_tab: Sequence[Sequence[Any]],
    link_of: Callable[[str], str | None],
) -> set[GapLink]:
    """The links the Gaps tab must hold: for each latest assessment's gap, every failing
    sub-item's finding (from the source tab as written) whose evidence has a link."""
    data = load_dashboard_data(engine, rule_sets, sources)
    latest = latest_assessments(data.scores)
    names = dict(zip(data.hospitals["hospital_key"], data.hospitals["name"], strict=True))
    evidence: dict[tuple[str, str], list[str]] = {}
    for row in findings_tab[1:]:
        if row[3] == RESULT_WORDS["not_met"] and row[5]:
            evidence.setdefault((str(row[1]), str(row[2])), []).append(str(row[5]))
    expected: set[GapLink] = set()
    for record in latest.to_dict("records"):
        key = record["assessment_key"]
        _source, assessment_id = split_key(key)
        criteria = data.criteria[data.criteria["assessment_key"] == key]
        for criterion in criteria.to_dict("records"):
            for code in (criterion["details"] or {}).get("gaps") or []:
                for cell in evidence.get((assessment_id, code), []):
                    url = link_of(cell)
                    if url:
                        hospital = names.get(record["hospital_key"]) or record["hospital_id"]
                        expected.add((hospital, record["standard"], criterion["code"], code, url))
    return expected


_FORMULA_TAG = re.compile(rb"<(?:\w+:)?f[\s>/]")


def xlsx_formula_cells(path: Path) -> list[str]:
    """Every formula in a workbook: cells typed 'f', and `<f>` elements in any sheet's XML."""
    found = [
        f"{sheet.title}!{cell.coordinate}"
        for sheet in load_workbook(path)
        for row in sheet.iter_rows()
        for cell in row
        if cell.data_type == "f"
    ]
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/") and _FORMULA_TAG.search(archive.read(name)):
                found.append(name)
    return found


def formula_values(body: Any) -> list[Any]:
    """Every `formulaValue` anywhere in a (decoded JSON) request body or stored cell."""
    if isinstance(body, Mapping):
        own = [body["formulaValue"]] if "formulaValue" in body else []
        return own + [f for v in body.values() for f in formula_values(v)]
    if isinstance(body, list):
        return [f for v in body for f in formula_values(v)]
    return []
