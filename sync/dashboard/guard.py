"""The one guard every dashboard writer puts the document through before making cells.

Text from the field (hospital names become the Trend tab's headers; notes, assessors and
districts become cells) may carry control characters that a workbook cannot hold, or be
longer than the target's cells allow. The guard shows each control character as U+FFFD and
cuts text to the target's limit with a marker, in headers, titles and cells alike. Writers
then keep text typed as text (never a formula): see ARCHITECTURE.md, "Invariants".
"""

from __future__ import annotations

from dataclasses import replace

from hqsync.config.utils import fit_text, without_controls
from hqsync.sync.dashboard.document import Dashboard, DocumentCell, Link, Table

XLSX_CELL_LIMIT = 32_767
"""Characters an Excel cell holds."""
GOOGLE_CELL_LIMIT = 50_000
"""Characters a Google Sheets cell holds."""
SHOWN_CONTROL = "\ufffd"


def safe_text(text: str, limit: int) -> str:
    """`text` as a cell may hold it: control characters shown as U+FFFD, cut to `limit`."""
    return fit_text(without_controls(text, SHOWN_CONTROL), limit)


def guarded(dashboard: Dashboard, limit: int) -> Dashboard:
    """`dashboard` with every header, title and text cell made safe for cells of `limit`."""
    return Dashboard(tables=tuple(_guard_table(table, limit) for table in dashboard.tables))


def _guard_table(table: Table, limit: int) -> Table:
    columns = tuple(
        replace(column, header=safe_text(column.header, limit)) for column in table.columns
    )
    rows = tuple(tuple(_guard_cell(value, limit) for value in row) for row in table.rows)
    chart = table.chart
    if chart is not None:
        chart = replace(chart, title=safe_text(chart.title, limit))
    return replace(
        table, title=safe_text(table.title, limit), columns=columns, rows=rows, chart=chart
    )


def _guard_cell(value: DocumentCell, limit: int) -> DocumentCell:
    if isinstance(value, Link):
        return replace(value, text=safe_text(value.text, limit))
    return safe_text(value, limit) if isinstance(value, str) else value


__all__ = ["GOOGLE_CELL_LIMIT", "XLSX_CELL_LIMIT", "guarded", "safe_text"]
