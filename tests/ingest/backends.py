"""Backends the source-sheet catalogue runs against: each turns typed tabs into a SourceSnapshot.

A backend is a function `(tabs: {tab name: rows}, wanted tab names, tmp_path) -> SourceSnapshot`
that stores the cells the way that backend would and reads the wanted tabs back through the
backend's real reader.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from hqsync.sync.interfaces import CellValue, RawTab, SourceSnapshot

Tabs = Mapping[str, Sequence[Sequence[CellValue]]]
BuildSnapshot = Callable[[Tabs, Sequence[str], Path], SourceSnapshot]


@dataclass(frozen=True)
class Backend:
    """A named way of storing and reading back a source; `skip` says why it cannot run."""

    name: str
    build: BuildSnapshot
    skip: str | None = None


def memory_snapshot(
    tabs: Tabs, wanted: Sequence[str] = (), tmp_path: Path | None = None
) -> SourceSnapshot:
    """The snapshot itself, cells exactly as given (all tabs when `wanted` is empty)."""
    names = [name for name in tabs if not wanted or name in wanted]
    return SourceSnapshot(
        tabs={name: RawTab(name, tuple(tuple(row) for row in tabs[name])) for name in names},
        marker="memory",
        available_tabs=tuple(tabs),
    )


def write_workbook(tabs: Tabs, path: Path) -> None:
    """Write tabs to an .xlsx with openpyxl: dates as real date cells, text always as text."""
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.remove(workbook.active)  # type: ignore[arg-type]
    for name, rows in tabs.items():
        sheet = workbook.create_sheet(title=name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is None:
                    continue
                cell = sheet.cell(row=r, column=c, value=value)
                if isinstance(value, str) and value.startswith("="):
                    cell.data_type = "s"  # text that looks like a formula stays text
    workbook.save(path)


def xlsx_snapshot(tabs: Tabs, wanted: Sequence[str], tmp_path: Path) -> SourceSnapshot:
    """Write the tabs to a workbook and read them back with the xlsx backend's reader."""
    from hqsync.sync.xlsx import XlsxSourceReader

    path = tmp_path / "source.xlsx"
    write_workbook(tabs, path)
    return XlsxSourceReader(path).read(list(wanted))


def _xlsx_skip() -> str | None:
    try:
        from hqsync.sync.xlsx import XlsxSourceReader  # noqa: F401
    except ImportError as exc:
        return f"hqsync.sync.xlsx.XlsxSourceReader is not available yet: {exc}"
    return None


def google_snapshot(
    tabs: Tabs, wanted: Sequence[str], tmp_path: Path, sheet_locale: str | None = None
) -> SourceSnapshot:
    """Put the tabs in a spreadsheet of the fake Google API and read them back with the Google
    backend's reader (real gspread/google-auth code, typed values as Google returns them).
    `sheet_locale` is the spreadsheet's `properties.locale` (default: the fake's, vi_VN)."""
    from hqsync.sync.google import open_google_reader
    from tests.fake_google import FakeGoogle, google_settings, mocked, service_account_key

    fake = FakeGoogle()
    with mocked(fake):
        key = service_account_key(fake, tmp_path / "reader-key.json")
        sheet_id = fake.create_spreadsheet(
            "AppSheet source", {name: [list(row) for row in rows] for name, rows in tabs.items()}
        )
        if sheet_locale is not None:
            fake.spreadsheets[sheet_id].properties["locale"] = sheet_locale
        return open_google_reader(google_settings(fake, key), sheet_id).read(list(wanted))


BACKENDS: list[Backend] = [
    Backend("memory", memory_snapshot),
    Backend("xlsx", xlsx_snapshot, skip=_xlsx_skip()),
    Backend("google", google_snapshot),
]
"""The registry: every catalogue case runs against each backend."""
