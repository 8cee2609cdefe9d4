"""The local workbook backend: sources and the dashboard as .xlsx files.

reader.py          XlsxSourceReader: a source workbook's tabs with typed values
writer.py          XlsxDashboardWriter: the dashboard as one workbook, replaced atomically
source_writer.py   write_source_workbook: fast, byte-stable source workbooks (demo, tests)
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hqsync.sync.xlsx.reader import XlsxSourceReader
    from hqsync.sync.xlsx.source_writer import replace_atomically, write_source_workbook
    from hqsync.sync.xlsx.writer import XlsxDashboardWriter

__all__ = [
    "XlsxDashboardWriter",
    "XlsxSourceReader",
    "replace_atomically",
    "write_source_workbook",
]

_HOMES = {
    "XlsxDashboardWriter": "writer",
    "XlsxSourceReader": "reader",
    "replace_atomically": "source_writer",
    "write_source_workbook": "source_writer",
}
"""Name → the module of this package that defines it. Imported on first use: the writers
load openpyxl (and numpy), which reading a source (or finding it unchanged) never needs."""


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{home}"), name)
