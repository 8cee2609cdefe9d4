"""The local source reader: the AppSheet tabs saved as an .xlsx workbook, with typed values."""

from __future__ import annotations

import logging
import os
import re
import tempfile
import zipfile
from collections.abc import Iterator, Sequence
from datetime import time, timedelta
from itertools import chain
from pathlib import Path
from typing import Any

from python_calamine import CalamineError, CalamineWorkbook

from hqsync.config.errors import SourceError
from hqsync.config.utils import paused_gc
from hqsync.sync.ingest.headers import column_index, column_letter
from hqsync.sync.interfaces import CellValue, RawTab, SourceSnapshot
from hqsync.sync.xlsx.bounds import EXCEL_CELL_LIMIT, bounded_copy, sheet_members

log = logging.getLogger(__name__)


class XlsxSourceReader:
    """Reads a source workbook (the AppSheet tabs saved as .xlsx) with typed cell values."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)

    @property
    def requests_made(self) -> int:
        """Local files cost no API requests."""
        return 0

    def change_marker(self) -> str | None:
        """The file's modification time and size; None when the file is missing."""
        try:
            stat = self.path.stat()
        except FileNotFoundError:
            return None
        return f"{stat.st_mtime_ns}:{stat.st_size}"

    def read(self, tabs: Sequence[str]) -> SourceSnapshot:
        """Read the named tabs; trailing empty cells and rows are trimmed as Google does.

        Values come typed as Google's UNFORMATTED_VALUE gives them: whole numbers as int,
        other numbers as float, booleans, text; dates and datetimes as Python objects; a
        formula error (#REF!, #N/A, …) as its error text, so it can be rejected.
        """
        marker = self.change_marker()
        if marker is None:
            raise SourceError(f"source workbook {self.path} not found; check sources.spreadsheet")
        # Many small acyclic objects: collecting cycles while they are built is slow.
        with paused_gc(), tempfile.TemporaryDirectory(prefix="hqsync-xlsx-") as scratch:
            try:
                workbook = CalamineWorkbook.from_path(str(self.path))
                available = tuple(workbook.sheet_names)
                found: dict[str, RawTab] = {}
                wanted = [name for name in tabs if name in available]
                errors = _error_cells(self.path, wanted) if wanted else {}
                bounded = bounded_copy(self.path, wanted, Path(scratch)) if wanted else None
                if bounded is not None:
                    workbook = CalamineWorkbook.from_path(str(bounded))
                for name in wanted:
                    rows = workbook.get_sheet_by_name(name).to_python(skip_empty_area=False)
                    for (row, col), text in errors.get(name, {}).items():
                        while len(rows) <= row:
                            rows.append([])
                        rows[row].extend([""] * (col + 1 - len(rows[row])))
                        rows[row][col] = text
                    found[name] = RawTab(name=name, rows=_trim(rows))
                    _warn_full_cells(self.path, name, found[name].rows)
            except (CalamineError, zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
                raise SourceError(f"{self.path} is not a readable .xlsx workbook: {exc}") from exc
        return SourceSnapshot(tabs=found, marker=marker, available_tabs=available)


_ERROR_CELL = re.compile(rb'<(?:\w+:)?c\b([^>]*\bt="e"[^>]*)>(.*?)</(?:\w+:)?c>', re.S)
_CELL_REF = re.compile(rb'\br="([A-Z]+)(\d+)"')
_VALUE = re.compile(rb"<(?:\w+:)?v>([^<]*)</(?:\w+:)?v>")


def _error_cells(path: Path, names: Sequence[str]) -> dict[str, dict[tuple[int, int], str]]:
    """Formula-error cells of the named sheets: (row, column) from 0 → error text.

    The fast reader shows these cells as empty; an inspector must instead see the error.
    """
    found: dict[str, dict[tuple[int, int], str]] = {}
    with zipfile.ZipFile(path) as archive:
        for name, member in sheet_members(archive, names).items():
            cells: dict[tuple[int, int], str] = {}
            for match in _error_cell_matches(archive.read(member)):
                ref = _CELL_REF.search(match.group(1))
                value = _VALUE.search(match.group(2))
                if ref and value:
                    cells[(int(ref.group(2)) - 1, column_index(ref.group(1).decode()))] = (
                        value.group(1).decode("utf-8", "replace")
                    )
            found[name] = cells
    return found


def _error_cell_matches(xml: bytes) -> Iterator[re.Match[bytes]]:
    """The `<c t="e">` elements of a sheet's XML. Most sheets have none: look for the
    attribute (in C) and match the cell around each occurrence, not every cell."""
    position = xml.find(_ERROR_TYPE)
    while position != -1:
        match = _ERROR_CELL.match(xml, xml.rfind(b"<", 0, position))
        if match is not None:
            yield match
        position = xml.find(_ERROR_TYPE, position + 1)


_ERROR_TYPE = b't="e"'
_PLAIN_TYPES = frozenset({str, int, bool, type(None)})


def _trim(rows: list[list[Any]]) -> tuple[tuple[CellValue, ...], ...]:
    if not rows:
        return ()
    width = max(map(len, rows))
    for row in rows:
        if len(row) < width:  # made ragged by the error overlay: square it up
            row.extend([""] * (width - len(row)))
    # Column by column: a column of text needs no look at its cells one by one.
    columns = [
        column if _PLAIN_TYPES.issuperset(map(type, column)) else tuple(map(_plain, column))
        for column in zip(*rows, strict=True)
    ]
    result: list[tuple[CellValue, ...]] = []
    for cells in zip(*columns, strict=True):
        end = len(cells)
        while end and (cells[end - 1] is None or cells[end - 1] == ""):
            end -= 1
        result.append(cells if end == len(cells) else cells[:end])
    while result and not result[-1]:
        result.pop()
    return tuple(result)


def _plain(value: Any) -> CellValue:
    # Google's UNFORMATTED_VALUE gives whole numbers as JSON integers; match it.
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, time | timedelta):
        return str(value)
    return value


def _warn_full_cells(path: Path, tab: str, rows: Sequence[Sequence[CellValue]]) -> None:
    """Say so when a cell holds exactly Excel's limit of characters: the reader stops there,
    so longer text in the file was cut."""
    longest = max((len(v) for v in chain.from_iterable(rows) if type(v) is str), default=0)
    if longest < EXCEL_CELL_LIMIT:
        return
    for row_number, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            if type(value) is str and len(value) >= EXCEL_CELL_LIMIT:
                log.warning(
                    "%s, tab %s, cell %s%d holds %d characters, the most an .xlsx cell is read "
                    "with: longer text was cut",
                    path,
                    tab,
                    column_letter(column - 1),
                    row_number,
                    len(value),
                )
