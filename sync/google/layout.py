"""The tab layout a dashboard write leaves, kept so the next write needs no layout read.

A publish needs to know the spreadsheet's tabs (ids and titles), and of the tabs it replaces
their charts, basic filter and conditional format rules (`render.render_dashboard`). After a
write hqsync knows all of that without asking: its own tabs are exactly what it rendered, the
others are as it read or last knew them. The writer keeps that as JSON text (the store holds
it between publishes); when a leader changed the spreadsheet since (deleted a tab or a chart),
Google refuses the write and the writer reads the layout and writes again.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from hqsync.sync.dashboard.document import Dashboard
from hqsync.sync.google.render import is_staging, place_tables

Sheet = Mapping[str, Any]
"""One tab as `spreadsheets.get` describes it (the writer's `fields`)."""


def layout_after(
    dashboard: Dashboard, sheets: Sequence[Sheet], chart_ids: Sequence[int]
) -> list[dict[str, Any]]:
    """The tabs after writing `dashboard` over `sheets`: the dashboard's tabs as rendered (the
    charts added got `chart_ids`, in table order), the others as they were, staging tabs gone."""
    placed = place_tables(dashboard, sheets)
    ours = {p.sheet_id for p in placed}
    out: list[dict[str, Any]] = [
        dict(s)
        for s in sheets
        if int(s["properties"]["sheetId"]) not in ours and not is_staging(s["properties"]["title"])
    ]
    charts = iter(chart_ids)
    for p in placed:
        table, sheet_id = p.table, p.sheet_id
        sheet: dict[str, Any] = {"properties": {"sheetId": sheet_id, "title": table.title}}
        if table.chart is not None:
            sheet["charts"] = [{"chartId": next(charts)}]
        if table.filter and table.columns:
            sheet["basicFilter"] = {"range": {"sheetId": sheet_id}}
        if table.rows and table.value_colours:
            rule = {"ranges": [{"sheetId": sheet_id}]}
            sheet["conditionalFormats"] = [rule] * len(table.value_colours)
        out.append(sheet)
    return out


def added_charts(replies: Sequence[Any]) -> list[int]:
    """The chart ids a batchUpdate's replies give its `addChart` requests, in order."""
    return [
        int(r["addChart"]["chart"]["chartId"])
        for r in replies
        if isinstance(r, Mapping) and "addChart" in r
    ]


def dump_layout(sheets: Sequence[Sheet]) -> str:
    """The layout as compact JSON text (what the store keeps)."""
    return json.dumps(list(sheets), ensure_ascii=False, separators=(",", ":"))


def load_layout(text: str | None) -> list[dict[str, Any]] | None:
    """The layout `dump_layout` wrote; None when there is none or it is not one."""
    if not text:
        return None
    try:
        sheets = json.loads(text)
    except ValueError:
        return None
    if not isinstance(sheets, list):
        return None
    for sheet in sheets:
        props = sheet.get("properties") if isinstance(sheet, dict) else None
        if (
            not isinstance(props, dict)
            or not isinstance(props.get("sheetId"), int)
            or not isinstance(props.get("title"), str)
        ):
            return None
    return sheets


__all__ = ["added_charts", "dump_layout", "layout_after", "load_layout"]
