"""`hqsync check`: everything a run will meet, checked without writing anything.

The credentials; every source read in full and normalised as a sync would (rows that would
load or be rejected, per tab, with the first rejected rows; which header each field comes
from; a `[sources.columns.<tab>]` block guessed from the headers when required fields are not
found); the database (reachable; store missing, current, older or newer); and whether the
dashboard can be written. Nothing is written anywhere: sources are read with read-only
scopes, the store is opened read-only, the dashboard is only looked at (Drive tells whether
the service account may edit it).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

from hqsync.config.errors import HqsyncError
from hqsync.config.settings import Settings, SourceSettings
from hqsync.config.utils import redact_url
from hqsync.config.vocabulary import TAB_KINDS, Backend
from hqsync.jobs.logs import redact
from hqsync.sync.interfaces import SourceSnapshot

log = logging.getLogger(__name__)


SHOWN_REJECTIONS = 5
"""How many rejected rows `check` shows per tab."""


@dataclass(frozen=True)
class FieldSource:
    """Where one field of a tab is read from: its header, and whether the mapping named it."""

    field: str
    header: str
    by_mapping: bool


@dataclass(frozen=True)
class RejectedRow:
    """A row a sync would reject: its sheet row number and why."""

    row_number: int | None
    reason: str


@dataclass(frozen=True)
class TabFinding:
    """One source tab: found or not, the fields its headers matched, its data rows, and how a
    sync would read them (None until the whole source could be normalised)."""

    kind: str
    title: str
    found: bool
    rows: int = 0
    fields: tuple[str, ...] = ()
    extra_columns: tuple[str, ...] = ()
    problem: str | None = None
    sources: tuple[FieldSource, ...] = ()
    would_load: int | None = None
    would_reject: int = 0
    first_rejected: tuple[RejectedRow, ...] = ()


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
    suggestion: str | None = None
    """A guessed `[sources.columns.<tab>]` block (TOML, ready to paste), or None."""
    dashboards: tuple[tuple[str, str], ...] = ()
    """The Hospitals tab's `dashboard` column: (hospital_id, cell) of every usable row."""

    @property
    def ok(self) -> bool:
        """True when the source was read, every tab and header is usable and no row would be
        rejected."""
        return (
            self.problem is None
            and all(t.problem is None for t in self.tabs)
            and not any(t.would_reject for t in self.tabs)
        )


class StoreState(StrEnum):
    """What `check` found of the store."""

    MISSING = "missing"
    CURRENT = "current"
    OLDER = "older"
    NEWER = "newer"
    UNREACHABLE = "unreachable"


@dataclass(frozen=True)
class DatabaseFinding:
    """The store: reachable or not, and its schema against this hqsync's."""

    url: str
    """Password masked."""
    state: StoreState
    detail: str

    @property
    def ok(self) -> bool:
        """True when a sync could use the store (creating or migrating it as it does)."""
        return self.state not in (StoreState.NEWER, StoreState.UNREACHABLE)


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
    database: DatabaseFinding | None = None
    """None when the database was not checked."""

    @property
    def ok(self) -> bool:
        """True when every check passed."""
        return (
            (self.credentials is None or self.credentials.ok)
            and all(s.ok for s in self.sources)
            and self.dashboard.ok
            and (self.database is None or self.database.ok)
        )


def run_check(
    settings: Settings, *, database_url: str | None = None, **google_kw: Any
) -> CheckReport:
    """Check credentials, every source, the dashboard and (given `database_url`) the store;
    never raises for what it finds.

    `google_kw` is passed to the Google clients (e.g. `sleep`, `retry` in tests).
    """
    database = None if database_url is None else check_database(database_url)
    uses_google = settings.dashboard.backend == Backend.GOOGLE or any(
        s.backend == Backend.GOOGLE for s in settings.sources
    )
    credentials = _check_credentials(settings) if uses_google else None
    google_ok = credentials is None or credentials.ok
    sources = tuple(_check_source(settings, s, google_ok, google_kw) for s in settings.sources)
    dashboard = _check_dashboard(settings, google_ok, google_kw)
    return CheckReport(credentials, sources, dashboard, database)


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
        _check_tab(
            kind,
            names[kind],
            snapshot.tabs.get(names[kind]),
            snapshot.available_tabs,
            source.columns.get(kind),
        )
        for kind in TAB_KINDS
    )
    found = _with(
        base,
        tabs=tabs,
        available_tabs=snapshot.available_tabs,
        requests=reader.requests_made,
        suggestion=_suggestion(source, snapshot),
    )
    if any(tab.problem is not None for tab in tabs):
        return found
    return _normalised(settings, source, snapshot, found)


def _with(finding: SourceFinding, **changes: Any) -> SourceFinding:
    return replace(finding, **changes)


def _normalised(
    settings: Settings, source: SourceSettings, snapshot: SourceSnapshot, found: SourceFinding
) -> SourceFinding:
    """The finding with what a sync would load and reject of each tab (it normalises the
    snapshot exactly as a sync does, the store left out)."""
    from hqsync.config.ruleset_loader import load_rule_sets
    from hqsync.sync.ingest.locale import resolve_locale
    from hqsync.sync.ingest.normalise import normalise_source

    try:
        data = normalise_source(
            snapshot,
            source.tabs,
            load_rule_sets(settings.scoring.rule_set_dirs),
            timezone=settings.schedule.timezone,
            columns=source.columns,
            locale=resolve_locale(source.locale, source.backend, snapshot.locale),
            source=source.name,
        )
    except HqsyncError as exc:
        return _with(found, problem=str(exc))
    tabs = []
    for tab in found.tabs:
        rejected = [r for r in data.rejections if r.tab_kind == tab.kind]
        shown = tuple(RejectedRow(r.row_number, r.reason_en) for r in rejected[:SHOWN_REJECTIONS])
        tabs.append(
            replace(
                tab,
                would_load=len(data.rows(tab.kind)),
                would_reject=len(rejected),
                first_rejected=shown,
            )
        )
    dashboards = tuple(
        (str(row.fields["hospital_id"]), str(row.fields["dashboard"]))
        for row in data.hospitals
        if row.fields.get("dashboard") not in (None, "")
    )
    return _with(found, tabs=tuple(tabs), dashboards=dashboards)


def _suggestion(source: SourceSettings, snapshot: SourceSnapshot) -> str | None:
    """A `[sources.columns.<tab>]` block guessed from the headers, when a tab lacks fields."""
    from hqsync.sync.ingest.mapping import TabHeaders, columns_block, suggest_columns

    names = source.tabs.as_dict()
    tabs: dict[str, TabHeaders] = {
        kind: TabHeaders(names[kind], raw.rows[0] if raw.rows else ())
        for kind in TAB_KINDS
        if (raw := snapshot.tabs.get(names[kind])) is not None
    }
    guessed = suggest_columns(tabs, source.columns)
    blocks = [columns_block(kind, guessed[kind]) for kind in TAB_KINDS if guessed.get(kind)]
    return "\n\n".join(blocks) if blocks else None


def _check_tab(
    kind: str,
    title: str,
    tab: Any,
    available: tuple[str, ...],
    mapped: Mapping[str, str] | None = None,
) -> TabFinding:
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
        match = match_headers(kind, rows[0] if rows else (), title, mapped)
    except HqsyncError as exc:
        return TabFinding(kind, title, found=True, rows=data_rows, problem=str(exc))
    return TabFinding(
        kind,
        title,
        found=True,
        rows=data_rows,
        fields=tuple(match.fields),
        extra_columns=tuple(match.extra),
        sources=tuple(
            FieldSource(name, match.column(name), match.by_mapping(name)) for name in match.fields
        ),
    )


def check_database(url: str) -> DatabaseFinding:
    """Reach the store read-only, creating nothing: missing, current, older (a sync migrates
    it), newer than this hqsync, or unreachable."""
    from hqsync.models.store import (
        create_store_engine,
        head_revision,
        known_revisions,
        schema_version,
        sqlite_file,
        store_error,
    )

    shown = redact_url(url)
    path = sqlite_file(url) if url.startswith("sqlite") else None
    if path is not None and not path.exists():
        folder = next((p for p in path.parents if p.exists()), None)
        if folder is None or not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            detail = f"hqsync cannot create {path} (check {folder})"
            return DatabaseFinding(shown, StoreState.UNREACHABLE, detail)
        detail = "does not exist yet; the first `hqsync sync` creates it"
        return DatabaseFinding(shown, StoreState.MISSING, detail)
    try:
        engine = create_store_engine(url, readonly=True) if path else create_store_engine(url)
        try:
            version = schema_version(engine)
        finally:
            engine.dispose()
    except HqsyncError as exc:
        return DatabaseFinding(shown, StoreState.UNREACHABLE, _one_line(str(exc)))
    except Exception as exc:  # the driver's own errors, whatever their kind
        return DatabaseFinding(shown, StoreState.UNREACHABLE, _one_line(str(store_error(exc, url))))
    if version is None:
        detail = "holds no hqsync store yet; the first `hqsync sync` creates it"
        return DatabaseFinding(shown, StoreState.MISSING, detail)
    head = head_revision()
    if version == head:
        return DatabaseFinding(shown, StoreState.CURRENT, f"schema {version}, current")
    if version in known_revisions():
        detail = f"schema {version}, older: the next `hqsync sync` migrates it to {head}"
        return DatabaseFinding(shown, StoreState.OLDER, detail)
    detail = (
        f"schema {version} is newer than this hqsync knows (its newest is {head}): "
        "upgrade hqsync on this machine before running it against this store"
    )
    return DatabaseFinding(shown, StoreState.NEWER, detail)


def _one_line(text: str) -> str:
    return " ".join(text.split())


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
    if not os.access(path, os.W_OK):
        return DashboardFinding(
            base.backend, base.spreadsheet, problem=f"{path} is not writable by this user"
        )
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
    if report.database is not None:
        base = report.database
        lines.append(f"[{_mark(base.ok)}] database {base.url}: {base.state}; {base.detail}")
    if report.credentials is not None:
        cred = report.credentials
        who = cred.account or "?"
        lines.append(f"[{_mark(cred.ok)}] Google credentials {cred.source}: {who}")
        if cred.problem:
            lines.append(f"       {cred.problem}")
        if cred.warning:
            lines.append(f"       warning: {cred.warning}")
    for source in report.sources:
        lines += _source_lines(source)
    dash = report.dashboard
    lines.append(f"[{_mark(dash.ok)}] dashboard ({dash.backend}: {dash.spreadsheet})")
    if dash.detail:
        lines.append(f"       {dash.detail}")
    if dash.problem:
        lines.append(f"       {dash.problem}")
    if not report.sources:
        lines.append("       note: no [[sources]] configured")
    problems = sum(
        [
            report.database is not None and not report.database.ok,
            report.credentials is not None and not report.credentials.ok,
            *(not s.ok for s in report.sources),
            not dash.ok,
        ]
    )
    lines.append("All checks passed." if report.ok else f"{problems} problem(s) found.")
    return "\n".join(lines)


def _mark(ok: bool) -> str:
    return "ok  " if ok else "FAIL"


def _source_lines(source: SourceFinding) -> list[str]:
    """One source's lines: its tabs, where each field comes from, what a sync would do."""
    lines = [
        f"[{_mark(source.ok)}] source {source.name!r} ({source.backend}: {source.spreadsheet})"
        + (f", {source.requests} request(s)" if source.requests else "")
    ]
    if source.problem:
        lines.append(f"       {source.problem}")
    for tab in source.tabs:
        if tab.problem:
            lines.append(f"       {tab.kind} tab {tab.title!r}: {tab.problem}")
            continue
        extra = f"; extra columns kept: {', '.join(tab.extra_columns)}" if tab.extra_columns else ""
        lines.append(
            f"       {tab.kind} tab {tab.title!r}: {tab.rows} row(s); "
            f"columns {', '.join(tab.fields)}{extra}"
        )
        lines += _field_lines(tab.sources)
        if tab.would_load is not None:
            lines.append(
                f"         a sync would load {tab.would_load} row(s) and reject {tab.would_reject}"
            )
        for rejected in tab.first_rejected:
            lines.append(f"           row {rejected.row_number}: {rejected.reason}")
        if tab.would_reject > len(tab.first_rejected):
            more = tab.would_reject - len(tab.first_rejected)
            lines.append(f"           … and {more} more (`hqsync status` lists them after a sync)")
    if source.suggestion:
        lines.append(
            "       Suggested mapping, guessed from the headers: paste it under this source's "
            "[[sources]] table in the config, check it, and run `hqsync check` again:"
        )
        lines += [f"         {line}" if line else "" for line in source.suggestion.splitlines()]
    return lines


def _field_lines(sources: Sequence[FieldSource]) -> list[str]:
    """Which header each field is read from, and whether by mapping or alias."""
    if not sources:
        return []
    shown = ", ".join(
        f"{s.field} ← {s.header!r} ({'mapping' if s.by_mapping else 'alias'})" for s in sources
    )
    return [f"         read from: {shown}"]
