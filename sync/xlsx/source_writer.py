"""A fast, deterministic writer for source workbooks (the demo, `init-source`'s examples, tests).

Writes SpreadsheetML directly: typed cells (text always as text, never a formula; numbers;
booleans; dates and datetimes as date-formatted serial numbers), a bold, frozen header row.
The same rows always give the same bytes: zip entries carry a fixed timestamp.
"""

from __future__ import annotations

import logging
import math
import os
import re
import stat
import tempfile
import time
import zipfile
from collections.abc import Callable, Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from openpyxl.utils import get_column_letter

from hqsync.config.errors import HqsyncError, SourceError
from hqsync.config.vocabulary import SERIAL_EPOCH
from hqsync.sync.interfaces import CellValue

log = logging.getLogger(__name__)

ZIP_TIMESTAMP = (2026, 1, 1, 0, 0, 0)
STYLE_DATE, STYLE_DATETIME, STYLE_HEADER = 1, 2, 3
_ILLEGAL_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT = "application/vnd.openxmlformats-officedocument.spreadsheetml"

_STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="{_MAIN}"><numFmts count="2"><numFmt numFmtId="164" formatCode="dd/mm/yyyy"/>\
<numFmt numFmtId="165" formatCode="dd/mm/yyyy hh:mm"/></numFmts>\
<fonts count="2"><font><sz val="11"/><name val="Calibri"/></font>\
<font><b/><sz val="11"/><name val="Calibri"/></font></fonts>\
<fills count="2"><fill><patternFill patternType="none"/></fill>\
<fill><patternFill patternType="gray125"/></fill></fills>\
<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>\
<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs>\
<cellXfs count="4"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>\
<xf numFmtId="164" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="165" fontId="0" fillId="0" borderId="0" xfId="0" applyNumberFormat="1"/>\
<xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/></cellXfs>\
<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles>\
</styleSheet>"""


def write_source_workbook(
    path: str | os.PathLike[str], tabs: Mapping[str, Sequence[Sequence[CellValue]]]
) -> None:
    """Write a source workbook: one tab per entry, rows as given (first row = headers)."""
    target = Path(path)
    names = list(tabs)
    for name in names:
        if not name or len(name) > 31 or any(c in name for c in "[]:*?/\\"):
            raise SourceError(f"{name!r} cannot be a tab name (1–31 characters, no []:*?/\\)")

    def write(temp_name: str) -> None:
        with zipfile.ZipFile(temp_name, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            _put(archive, "[Content_Types].xml", _content_types(len(names)))
            _put(archive, "_rels/.rels", _package_rels())
            _put(archive, "xl/workbook.xml", _workbook(names))
            _put(archive, "xl/_rels/workbook.xml.rels", _workbook_rels(len(names)))
            _put(archive, "xl/styles.xml", _STYLES)
            for index, name in enumerate(names, start=1):
                _put(archive, f"xl/worksheets/sheet{index}.xml", "".join(_sheet(tabs[name])))

    replace_atomically(target, write, error=SourceError)


def replace_atomically(
    path: Path, write: Callable[[str], None], *, error: type[HqsyncError]
) -> None:
    """Write a file through `write(temporary name)` beside `path`, then rename it into place:
    readers see the old file or the new one, never half of one. A failed write raises `error`
    (SourceError for a source workbook, DashboardError for the dashboard) in one line.

    The new file keeps the mode and owner of the one it replaces (a new file follows the
    umask). Temporary files left by a killed write are removed on the way.
    """
    temp_name: str | None = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_stale_temporaries(path)
        handle, temp_name = tempfile.mkstemp(
            prefix=f".{path.name}.{os.getpid()}.", suffix=TEMP_SUFFIX, dir=path.parent
        )
        os.close(handle)
        write(temp_name)
        _keep_mode_and_owner(path, temp_name)
        os.replace(temp_name, path)
        temp_name = None
    except OSError as exc:
        raise error(f"cannot write {path}: {_os_reason(exc)}") from None
    finally:
        if temp_name is not None and os.path.exists(temp_name):
            os.unlink(temp_name)


TEMP_SUFFIX = ".tmp"
STALE_AFTER_S = 60.0
"""A temporary file of a writer that is not running (or older than this) is left over."""


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove the temporary files a killed write of `path` left beside it; return them.

    Only hqsync's own pattern (`.<name>.<pid>.<random>.tmp`) is touched, and only when its
    process is gone or the file is older than a minute.
    """
    removed: list[Path] = []
    prefix = f".{path.name}."
    try:
        candidates = [p for p in path.parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return removed
    for candidate in candidates:
        if not candidate.name.endswith(TEMP_SUFFIX) or not _is_stale(candidate, prefix):
            continue
        try:
            candidate.unlink()
        except OSError:
            continue
        removed.append(candidate)
    if removed:
        log.info("removed %d temporary file(s) left by a killed write of %s", len(removed), path)
    return removed


def _is_stale(candidate: Path, prefix: str) -> bool:
    middle = candidate.name[len(prefix) : -len(TEMP_SUFFIX)]
    pid_text = middle.split(".", 1)[0]
    if pid_text.isdigit() and "." in middle and not _alive(int(pid_text)):
        return True
    try:
        return time.time() - candidate.stat().st_mtime > STALE_AFTER_S
    except OSError:
        return False


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # someone else's process: alive
        return True
    return True


def _keep_mode_and_owner(path: Path, temp_name: str) -> None:
    """Give `temp_name` the mode and owner of `path`, or the umask's mode for a new file."""
    try:
        current = path.stat()
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temp_name, 0o666 & ~umask)
        return
    os.chmod(temp_name, stat.S_IMODE(current.st_mode))
    if hasattr(os, "chown"):
        try:
            os.chown(temp_name, current.st_uid, current.st_gid)
        except PermissionError:  # only root may give a file away: keep ours
            log.debug("cannot keep the owner of %s", path)


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileExistsError | NotADirectoryError):
        return f"a part of the path is a file, not a folder ({exc.strerror}); fix the path"
    if isinstance(exc, PermissionError):
        return f"{exc.strerror}; make the folder writable by this user (or not immutable)"
    return exc.strerror or str(exc)


def _put(archive: zipfile.ZipFile, name: str, text: str) -> None:
    info = zipfile.ZipInfo(name, date_time=ZIP_TIMESTAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, text.encode("utf-8"))


def _content_types(sheets: int) -> str:
    overrides = "".join(
        f'<Override PartName="/xl/worksheets/sheet{i}.xml" ContentType="{_CT}.worksheet+xml"/>'
        for i in range(1, sheets + 1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        f'<Override PartName="/xl/workbook.xml" ContentType="{_CT}.sheet.main+xml"/>'
        f'<Override PartName="/xl/styles.xml" ContentType="{_CT}.styles+xml"/>'
        f"{overrides}</Types>"
    )


def _package_rels() -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<Relationships xmlns="{_PKG_REL}"><Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="xl/workbook.xml"/></Relationships>'
    )


def _workbook(names: Sequence[str]) -> str:
    sheets = "".join(
        f'<sheet name={quoteattr(name)} sheetId="{i}" r:id="rId{i}"/>'
        for i, name in enumerate(names, start=1)
    )
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<workbook xmlns="{_MAIN}" xmlns:r="{_REL}"><sheets>{sheets}</sheets></workbook>'
    )


def _workbook_rels(sheets: int) -> str:
    kind = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    rels = "".join(
        f'<Relationship Id="rId{i}" Type="{kind}/worksheet" Target="worksheets/sheet{i}.xml"/>'
        for i in range(1, sheets + 1)
    )
    rels += f'<Relationship Id="rId{sheets + 1}" Type="{kind}/styles" Target="styles.xml"/>'
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<Relationships xmlns="{_PKG_REL}">{rels}</Relationships>'
    )


def _sheet(rows: Sequence[Sequence[CellValue]]) -> Iterator[str]:
    yield (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
        f'<worksheet xmlns="{_MAIN}" xmlns:r="{_REL}"><sheetViews>'
        '<sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" '
        'activePane="bottomLeft" state="frozen"/></sheetView></sheetViews><sheetData>'
    )
    letters: list[str] = []
    for row_index, row in enumerate(rows, start=1):
        while len(letters) < len(row):
            letters.append(get_column_letter(len(letters) + 1))
        header = row_index == 1
        cells = [
            _cell(f"{letters[c]}{row_index}", value, header)
            for c, value in enumerate(row)
            if value is not None
        ]
        yield f'<row r="{row_index}">{"".join(cells)}</row>'
    yield "</sheetData></worksheet>"


def _cell(ref: str, value: CellValue, header: bool) -> str:
    style = f' s="{STYLE_HEADER}"' if header else ""
    if isinstance(value, bool):
        return f'<c r="{ref}" t="b"{style}><v>{int(value)}</v></c>'
    if isinstance(value, int | float):
        if isinstance(value, float) and not math.isfinite(value):
            return _text(ref, str(value), style)
        return f'<c r="{ref}"{style}><v>{value!r}</v></c>'
    if isinstance(value, datetime):
        serial = (value.replace(tzinfo=None) - SERIAL_EPOCH).total_seconds() / 86400
        return f'<c r="{ref}" s="{STYLE_DATETIME}"><v>{serial!r}</v></c>'
    if isinstance(value, date):
        serial_days = (value - SERIAL_EPOCH.date()).days
        return f'<c r="{ref}" s="{STYLE_DATE}"><v>{serial_days}</v></c>'
    return _text(ref, str(value), style)


def _text(ref: str, text: str, style: str) -> str:
    clean = escape(_ILLEGAL_XML.sub("", text))
    space = ' xml:space="preserve"' if clean != clean.strip() else ""
    return f'<c r="{ref}" t="inlineStr"{style}><is><t{space}>{clean}</t></is></c>'
