"""Keeping the xlsx reader bounded: a stray value far to the right never costs gigabytes.

The fast reader (python-calamine) makes a dense grid from A1 to the last used cell, so one
`x` in column XFD of a 500,000-row tab would ask for billions of cells and abort the process.
Before it reads, each wanted sheet's extent is checked (its `<dimension>`, or a scan for
three-letter column references when it has none); a sheet reaching beyond column ZZ is read
from a copy of the workbook without the cells beyond ZZ, and a warning names the tab. No
source tab has hundreds of columns (ARCHITECTURE.md, "Invariants": one bad cell never
stops a source).
"""

from __future__ import annotations

import logging
import re
import shutil
import zipfile
from collections.abc import Sequence
from pathlib import Path

from lxml import etree

from hqsync.sync.ingest.headers import column_index

log = logging.getLogger(__name__)

MAX_COLUMN = "ZZ"
MAX_COLUMNS = column_index(MAX_COLUMN) + 1
"""Columns a source tab is read up to (702); every cell beyond is ignored with a warning."""
EXCEL_CELL_LIMIT = 32_767
"""Characters an .xlsx cell holds, and the most the fast reader returns of one."""

_MAIN_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_OFFICE_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\b[^>]*\bref="([A-Z]*)\d*(?::([A-Z]+)\d+)?"')
_FAR_REF = re.compile(rb'\br="[A-Z]{3}\d')
_FAR_CELL = re.compile(rb'<(?:\w+:)?c\b[^>]*?\br="[A-Z]{3}\d+"[^>]*?(?:/>|>.*?</(?:\w+:)?c>)', re.S)
_ANY_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\b[^>]*/>")
_HEAD_BYTES = 4096


def sheet_members(archive: zipfile.ZipFile, names: Sequence[str]) -> dict[str, str]:
    """Tab name → the zip member holding its sheet XML, for the named tabs that exist."""
    book = etree.fromstring(archive.read("xl/workbook.xml"))
    rels = etree.fromstring(archive.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): r.get("Target") for r in rels}
    members = set(archive.namelist())
    found: dict[str, str] = {}
    for sheet in book.iter(f"{{{_MAIN_NS}}}sheet"):
        name = sheet.get("name")
        if name not in names:
            continue
        target = str(targets.get(sheet.get(f"{{{_OFFICE_REL}}}id"), ""))
        member = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        if member in members:
            found[str(name)] = member
    return found


def reaches_too_far(archive: zipfile.ZipFile, member: str) -> bool:
    """True when the sheet has cells beyond column ZZ (by its dimension, else by a scan)."""
    with archive.open(member) as stream:
        head = stream.read(_HEAD_BYTES)
    match = _DIMENSION.search(head)
    if match is not None:
        last = (match.group(2) or match.group(1)).decode()
        return bool(last) and column_index(last) + 1 > MAX_COLUMNS
    return _FAR_REF.search(archive.read(member)) is not None


def bounded_copy(path: Path, names: Sequence[str], scratch: Path) -> Path | None:
    """A copy of the workbook without the cells beyond column ZZ of the named tabs, in
    `scratch`; None when no named tab reaches that far (read the workbook itself)."""
    with zipfile.ZipFile(path) as archive:
        members = sheet_members(archive, names)
        far = {m: n for n, m in members.items() if reaches_too_far(archive, m)}
        if not far:
            return None
        copy = scratch / "bounded.xlsx"
        with zipfile.ZipFile(copy, "w", compression=zipfile.ZIP_DEFLATED) as out:
            for info in archive.infolist():
                if info.filename not in far:
                    with archive.open(info) as src, out.open(info.filename, "w") as dst:
                        shutil.copyfileobj(src, dst)
                    continue
                xml, dropped = _FAR_CELL.subn(b"", archive.read(info))
                xml = _ANY_DIMENSION.sub(b"", xml, count=1)
                out.writestr(info.filename, xml)
                log.warning(
                    "%s, tab %s: %d cell(s) beyond column %s ignored (a stray value far to the "
                    "right? delete it)",
                    path,
                    far[info.filename],
                    dropped,
                    MAX_COLUMN,
                )
    return copy
