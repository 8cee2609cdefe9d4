"""The leaders' dashboard: the document a writer publishes, and how it is built from the store.

    document.py   Dashboard, Table, Column, LineChart, ValueColour, Link: the neutral document
    evidence.py   evidence links of the gaps: the one rule that turns an evidence cell into a link
    labels.py     LABELS: the dashboard's words in Vietnamese and English
    builder.py    build_dashboard: each tab's columns by key, colours placed by column key
    colours.py    the level palette spread over 1..max_level, band and pass/fail colours
    loader.py     DashboardData, load_dashboard_data: what the dashboard shows, from the store

The builder, the colours and the loader (pandas, the store) are imported on first use: the
backends need only the document, and importing a backend should not load the store.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from hqsync.sync.dashboard.document import (
    Column,
    ColumnKind,
    Dashboard,
    DocumentCell,
    LineChart,
    Link,
    Table,
    ValueColour,
    column_runs,
)
from hqsync.sync.dashboard.labels import LABELS

if TYPE_CHECKING:
    from hqsync.sync.dashboard.builder import build_dashboard, latest_assessments
    from hqsync.sync.dashboard.colours import LEVEL_COLOURS, level_colour, level_colours
    from hqsync.sync.dashboard.loader import (
        DashboardData,
        is_missing,
        load_dashboard_data,
        plain_cell,
    )

_LAZY = {
    "LEVEL_COLOURS": "colours",
    "build_dashboard": "builder",
    "latest_assessments": "builder",
    "level_colour": "colours",
    "level_colours": "colours",
    "DashboardData": "loader",
    "is_missing": "loader",
    "load_dashboard_data": "loader",
    "plain_cell": "loader",
}


def __getattr__(name: str) -> object:
    """The builder's and loader's public names, importing their module on first use."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


__all__ = [
    "LABELS",
    "LEVEL_COLOURS",
    "Column",
    "ColumnKind",
    "Dashboard",
    "DashboardData",
    "DocumentCell",
    "LineChart",
    "Link",
    "Table",
    "ValueColour",
    "build_dashboard",
    "column_runs",
    "is_missing",
    "latest_assessments",
    "level_colour",
    "level_colours",
    "load_dashboard_data",
    "plain_cell",
]
