"""The local workbook backend: sources and the dashboard as .xlsx files.

reader.py          XlsxSourceReader: a source workbook's tabs with typed values
writer.py          XlsxDashboardWriter: the dashboard as one workbook, replaced atomically
source_writer.py   write_source_workbook: fast, byte-stable source workbooks (demo, tests)
"""

from __future__ import annotations

from hqsync.sync.xlsx.reader import XlsxSourceReader
from hqsync.sync.xlsx.source_writer import replace_atomically, write_source_workbook
from hqsync.sync.xlsx.writer import XlsxDashboardWriter

__all__ = [
    "XlsxDashboardWriter",
    "XlsxSourceReader",
    "replace_atomically",
    "write_source_workbook",
]
