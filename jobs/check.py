"""`hqsync check`: validate credentials, reach every source and the dashboard, say what is wrong.

Nothing is written anywhere: sources are read with read-only scopes, the dashboard is only
looked at (Drive tells whether the service account may edit it).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hqsync.config.errors import HqsyncError
from hqsync.config.settings import TAB_KINDS, Settings, SourceSettings
from hqsync.config.vocabulary import Backend
from hqsync.jobs.logs import redact

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TabFinding:
    """One source tab: found or not, the fields its headers matched, its data rows."""

    kind: str
    title: str
    found: bool
    rows: int = 0
    fields: tuple[str, ...] = ()
    extra_columns: tuple[str, ...] = ()
    problem: str | None = None


@dataclass(frozen=True)
class SourceFinding:
    """One configured source and what reaching it showed."""

    name: str
    backend: str
    spreadsheet: str
    tabs: tuple[TabFinding, ...] = ()
    available_tabs: tuple[str, ...] = ()
    problem: str | None = None
    requests: int = 0

    @property
    def ok(self) -> bool:
        """True when the source was read and every tab and header is usable."""
        return self.problem is None and all(t.problem is None for t in self.tabs)


@dataclass(frozen=True)
class DashboardFinding:
    """The dashboard spreadsheet (or workbook) and whether hqsync can write it."""

    backend: str
    spreadsheet: str
    detail: str = ""
    problem: str | None = None

    @property
    def ok(self) -> bool:
        """True when the dashboard can be written."""
        return self.problem is None


@dataclass(frozen=True)
class CredentialFinding:
    """The Google credentials: which account, and whether Google accepted them."""

    source: str
    account: str | None = None
    problem: str | None = None
    warning: str | None = None
    """Something to fix that does not stop hqsync (a key file readable by others)."""

    @property
    def ok(self) -> bool:
        """True when Google issued a token for these credentials."""
        return self.problem is None


@dataclass(frozen=True)
class CheckReport:
    """Everything `hqsync check` found."""

    credentials: CredentialFinding | None
    """None when no source and no dashboard uses Google."""
    sources: tuple[SourceFinding, ...]
    dashboard: DashboardFinding

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return (
            (self.credentials is None or self.credentials.ok)
            and all(s.ok for s in self.sources)
            and self.dashboard.ok
        )


def run_check(settings: Settings, **google_kw: Any) -> CheckReport:
    """Check credentials, every source and the dashboard; never raises for what it finds.

    `google_kw` is passed to the Google clients (e.g. `sleep`, `retry` in tests).
    """
    uses_google = settings.dashboard.backend == Backend.GOOGLE or any(
        s.backend == Backend.GOOGLE for s in settings.sources
    )
    credentials = _check_credentials(settings) if uses_google else None
    google_ok = credentials is None or credentials.ok
    sources = tuple(_check_source(settings, s, google_ok, google_kw) for s in settings.sources)
    dashboard = _check_dashboard(settings, google_ok, google_kw)
    return CheckReport(credentials=credentials, sources=sources, dashboard=dashboard)


def _check_credentials(settings: Settings) -> CredentialFinding:
    from google.auth.exceptions import GoogleAuthError
    from google.auth.transport.requests import Request

    from hqsync.sync.google import READ_SCOPES, load_credentials
    from hqsync.sync.google.client import ADC, key_file_warning

    source = settings.google.credentials or "(not set)"
    given = settings.google.credentials
    warning = key_file_warning(Path(given)) if given and given != ADC else None
    try:
        credentials, account = load_credentials(settings.google, READ_SCOPES)
    except HqsyncError as exc:
        return CredentialFinding(source, problem=str(exc), warning=warning)
    try:
        credentials.refresh(Request())
    except GoogleAuthError as exc:
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return CredentialFinding(
            source,
            account,
            problem=redact(
                f"Google did not accept the credentials of {account} ({text}); check that the "
                "key is current (not deleted in the Cloud console) and the account is enabled"
            ),
            warning=warning,
        )
    return CredentialFinding(source, account, warning=warning)


def _check_source(
    settings: Settings, source: SourceSettings, google_ok: bool, google_kw: Mapping[str, Any]
) -> SourceFinding:
    from hqsync.sync.interfaces import SourceReader

    base = SourceFinding(source.name, source.backend, source.spreadsheet)
    if source.backend == Backend.GOOGLE and not google_ok:
        return _with(base, problem="not checked: the Google credentials failed (see above)")
    names = source.tabs.as_dict()
    reader: SourceReader | None = None
    try:
        if source.backend == Backend.XLSX:
            from hqsync.sync.xlsx import XlsxSourceReader

            reader = XlsxSourceReader(source.spreadsheet)
        else:
            from hqsync.sync.google import open_google_reader

            reader = open_google_reader(settings.google, source.spreadsheet, **google_kw)
            reader.change_marker()
        snapshot = reader.read(list(names.values()))
    except HqsyncError as exc:
        requests = reader.requests_made if reader is not None else 0
        return _with(base, problem=str(exc), requests=requests)
    tabs = tuple(
        _check_tab(kind, names[kind], snapshot.tabs.get(names[kind]), snapshot.available_tabs)
        for kind in TAB_KINDS
    )
    return _with(
        base, tabs=tabs, available_tabs=snapshot.available_tabs, requests=reader.requests_made
    )


def _with(finding: SourceFinding, **changes: Any) -> SourceFinding:
    from dataclasses import replace

    return replace(finding, **changes)


def _check_tab(kind: str, title: str, tab: Any, available: tuple[str, ...]) -> TabFinding:
    from hqsync.sync.ingest.headers import match_headers

    if tab is None:
        present = ", ".join(repr(t) for t in available) or "none"
        return TabFinding(
            kind,
            title,
            found=False,
            problem=(
                f"tab {title!r} not found; the spreadsheet has: {present}. Rename the tab or set "
                f"[[sources]].tabs.{kind}"
            ),
        )
    rows = tab.rows
    data_rows = sum(1 for row in rows[1:] if any(v not in (None, "") for v in row))
    try:
        match = match_headers(kind, rows[0] if rows else (), title)
    except HqsyncError as exc:
        return TabFinding(kind, title, found=True, rows=data_rows, problem=str(exc))
    return TabFinding(
        kind,
        title,
        found=True,
        rows=data_rows,
        fields=tuple(match.fields),
        extra_columns=tuple(match.extra),
    )


def _check_dashboard(
    settings: Settings, google_ok: bool, google_kw: Mapping[str, Any]
) -> DashboardFinding:
    dash = settings.dashboard
    base = DashboardFinding(dash.backend, dash.spreadsheet)
    if dash.backend == Backend.XLSX:
        return _check_xlsx_dashboard(base, Path(dash.spreadsheet))
    if not google_ok:
        return DashboardFinding(
            dash.backend, dash.spreadsheet, problem="not checked: the Google credentials failed"
        )
    from hqsync.sync.google import DRIVE_FILES_URL, READ_SCOPES, GoogleClient

    sid = dash.spreadsheet
    try:
        client = GoogleClient.from_settings(settings.google, READ_SCOPES, **google_kw)
        info = client.call(
            sid,
            "checking",
            lambda: client.http.request(
                "get",
                f"{DRIVE_FILES_URL}/{sid}",
                params={"fields": "name,capabilities(canEdit)", "supportsAllDrives": "true"},
            ).json(),
        )
        meta = client.call(
            sid,
            "checking",
            lambda: client.http.fetch_sheet_metadata(
                sid, params={"fields": "sheets.properties.title"}
            ),
        )
    except HqsyncError as exc:
        return DashboardFinding(dash.backend, sid, problem=str(exc))
    tabs = ", ".join(repr(s["properties"]["title"]) for s in meta.get("sheets", []))
    detail = f"{info.get('name', sid)!r}; tabs: {tabs or 'none'}"
    if not info.get("capabilities", {}).get("canEdit", False):
        return DashboardFinding(
            dash.backend,
            sid,
            detail,
            problem=(
                f"{client.account} can only view dashboard spreadsheet {sid}; open it, press "
                f"Share and make {client.account} an Editor"
            ),
        )
    return DashboardFinding(dash.backend, sid, f"{detail}; editable by {client.account}")


def _check_xlsx_dashboard(base: DashboardFinding, path: Path) -> DashboardFinding:
    folder = path.parent
    if not folder.is_dir():
        return DashboardFinding(
            base.backend, base.spreadsheet, problem=f"folder {folder} does not exist; create it"
        )
    if not os.access(folder, os.W_OK):
        return DashboardFinding(
            base.backend, base.spreadsheet, problem=f"folder {folder} is not writable by this user"
        )
    if not path.exists():
        return DashboardFinding(base.backend, base.spreadsheet, "will be created on first publish")
    try:
        from openpyxl import load_workbook

        book = load_workbook(path, read_only=True)
        tabs = ", ".join(repr(n) for n in book.sheetnames)
        book.close()
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        return DashboardFinding(
            base.backend,
            base.spreadsheet,
            problem=f"{path} exists but is not a readable .xlsx workbook ({exc}); move it away",
        )
    return DashboardFinding(base.backend, base.spreadsheet, f"tabs: {tabs or 'none'}")


def render_check(report: CheckReport) -> str:
    """The report as text for a terminal: what was found, and what to do about each problem."""
    lines: list[str] = []

    def mark(ok: bool) -> str:
        return "ok  " if ok else "FAIL"

    if report.credentials is not None:
        cred = report.credentials
        who = cred.account or "?"
        lines.append(f"[{mark(cred.ok)}] Google credentials {cred.source}: {who}")
        if cred.problem:
            lines.append(f"       {cred.problem}")
        if cred.warning:
            lines.append(f"       warning: {cred.warning}")
    for source in report.sources:
        lines.append(
            f"[{mark(source.ok)}] source {source.name!r} ({source.backend}: {source.spreadsheet})"
            + (f", {source.requests} request(s)" if source.requests else "")
        )
        if source.problem:
            lines.append(f"       {source.problem}")
        for tab in source.tabs:
            if tab.problem:
                lines.append(f"       {tab.kind} tab {tab.title!r}: {tab.problem}")
                continue
            extra = (
                f"; extra columns kept: {', '.join(tab.extra_columns)}" if tab.extra_columns else ""
            )
            lines.append(
                f"       {tab.kind} tab {tab.title!r}: {tab.rows} row(s); "
                f"columns {', '.join(tab.fields)}{extra}"
            )
    dash = report.dashboard
    lines.append(f"[{mark(dash.ok)}] dashboard ({dash.backend}: {dash.spreadsheet})")
    if dash.detail:
        lines.append(f"       {dash.detail}")
    if dash.problem:
        lines.append(f"       {dash.problem}")
    if not report.sources:
        lines.append("       note: no [[sources]] configured")
    problems = sum(
        [
            report.credentials is not None and not report.credentials.ok,
            *(not s.ok for s in report.sources),
            not dash.ok,
        ]
    )
    lines.append("All checks passed." if report.ok else f"{problems} problem(s) found.")
    return "\n".join(lines)
