"""Settings schema and loading: a TOML file (see ARCHITECTURE.md) overridden by environment.

The words it accepts (backends, languages, tab kinds) are the vocabulary's
(`hqsync.config.vocabulary`).
"""

from __future__ import annotations

import difflib
import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from hqsync.config.calendar_settings import (
    ALERT_KEYS,
    CALENDAR_ENV,
    AlertSettings,
    Cycle,
    parse_alerts,
    parse_cycles,
)
from hqsync.config.errors import ConfigError
from hqsync.config.source_columns import parse_source_columns, parse_source_locale
from hqsync.config.utils import link_template_problem, redact_url
from hqsync.config.vocabulary import TAB_KINDS, Backend, Language, TabKind

CONFIG_ENV = "HQSYNC_CONFIG"
OTHER_ENV = frozenset(
    {
        CONFIG_ENV,
        "HQSYNC_TEST_PG_URL",  # the test suite's PostgreSQL server
        "HQSYNC_CASSETTES",  # the test suite's recorded Google answers
        *CALENDAR_ENV,  # the alerts' secrets (config/calendar_settings.py)
    }
)
"""HQSYNC_* environment variables that are not settings keys, and so are not errors."""
DEFAULT_CONFIG = "hqsync.toml"
DEFAULT_TABS: Mapping[TabKind, str] = {
    TabKind.HOSPITALS: "Hospitals",
    TabKind.ASSESSMENTS: "Assessments",
    TabKind.FINDINGS: "Findings",
}
"""The tab names a source uses unless its [sources.tabs] says otherwise."""
SHEETS_ENDPOINT = "https://sheets.googleapis.com"
DRIVE_ENDPOINT = "https://www.googleapis.com"


@dataclass(frozen=True)
class DatabaseSettings:
    """Where the SQL store lives."""

    url: str = "sqlite:///hqsync.db"


@dataclass(frozen=True)
class GoogleSettings:
    """How to reach Google: credentials, endpoints and the per-request timeout."""

    credentials: str | None = None
    sheets_endpoint: str = SHEETS_ENDPOINT
    drive_endpoint: str = DRIVE_ENDPOINT
    timeout_s: float = 60.0
    requests_per_minute: int = 60


@dataclass(frozen=True)
class TabNames:
    """The names of the three source tabs."""

    hospitals: str = "Hospitals"
    assessments: str = "Assessments"
    findings: str = "Findings"

    def as_dict(self) -> dict[TabKind, str]:
        """Tab kind → tab name."""
        return {
            TabKind.HOSPITALS: self.hospitals,
            TabKind.ASSESSMENTS: self.assessments,
            TabKind.FINDINGS: self.findings,
        }


@dataclass(frozen=True)
class SourceSettings:
    """One source spreadsheet written by an AppSheet app."""

    name: str
    backend: Backend
    spreadsheet: str
    tabs: TabNames = field(default_factory=TabNames)
    locale: str | None = None
    """The data locale of the sheet's text dates and numbers (`en_US`); None: on Google the
    spreadsheet's own locale, on xlsx vi_VN."""
    columns: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: MappingProxyType({}), hash=False
    )
    """Tab kind → field → the header that holds it in this sheet (`[sources.columns.<tab>]`);
    a field left out is matched by its aliases. Field names are checked by the ingest layer."""
    evidence_url: str | None = None
    """Link template of the findings' evidence cells (`{path}`: the cell, URL-encoded; `{tab}`:
    the findings tab's name); None: Drive links on Google, no links on xlsx."""


@dataclass(frozen=True)
class DashboardSettings:
    """The spreadsheet leaders read."""

    backend: Backend = Backend.XLSX
    spreadsheet: str = "dashboard.xlsx"
    language: Language = Language.VI
    hospitals: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    """hospital_id → that hospital's own dashboard (a spreadsheet id for google, a resolved
    path for xlsx), from `[dashboard.hospitals]`; it wins over the Hospitals tab's column."""

    def hospital_target(self, value: str, base: Path | None = None) -> str:
        """A hospital dashboard's target as written anywhere (config or the Hospitals tab):
        a spreadsheet id (an URL reduced to its id) for google, a path for xlsx."""
        if self.backend == Backend.XLSX:
            return str(_resolve_path(value.strip(), base or Path.cwd()))
        return spreadsheet_id(value.strip())


@dataclass(frozen=True)
class ScheduleSettings:
    """When the daemon runs its jobs."""

    sync_every: timedelta = timedelta(minutes=10)
    publish_cron: str = "0 6 * * *"
    timezone: str = "Asia/Ho_Chi_Minh"


@dataclass(frozen=True)
class ScoringSettings:
    """Extra folders holding councils' own rule set files, searched after the shipped ones, and
    whether incomplete assessments are ranked and compared (ARCHITECTURE.md, Scoring)."""

    rule_set_dirs: tuple[str, ...] = ()
    rank_incomplete: bool = False


@dataclass(frozen=True)
class DaemonSettings:
    """Leader election between several daemons on one database."""

    lease_s: float = 60.0
    misfire_grace_s: float = 300.0


@dataclass(frozen=True)
class Settings:
    """The whole configuration of one hqsync deployment."""

    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    google: GoogleSettings = field(default_factory=GoogleSettings)
    sources: tuple[SourceSettings, ...] = ()
    dashboard: DashboardSettings = field(default_factory=DashboardSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    scoring: ScoringSettings = field(default_factory=ScoringSettings)
    daemon: DaemonSettings = field(default_factory=DaemonSettings)
    cycles: tuple[Cycle, ...] = ()
    alerts: AlertSettings = field(default_factory=AlertSettings)
    path: Path | None = None

    def source(self, name: str) -> SourceSettings:
        """The source called `name`."""
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none"
        raise ConfigError(f"no source named {name!r} in [[sources]] (configured: {known})")


_SECTION_KEYS: dict[str, tuple[str, ...]] = {
    "database": ("url",),
    "google": (
        "credentials",
        "sheets_endpoint",
        "drive_endpoint",
        "timeout_s",
        "requests_per_minute",
    ),
    "dashboard": ("backend", "spreadsheet", "language", "hospitals"),
    "schedule": ("sync_every", "publish_cron", "timezone"),
    "scoring": ("rule_set_dirs", "rank_incomplete"),
    "daemon": ("lease_s", "misfire_grace_s"),
    "alerts": ALERT_KEYS,
}
_ARRAYS = ("sources", "cycles")
"""Sections written as arrays of tables ([[sources]], [[cycles]])."""
_SOURCE_KEYS = ("name", "backend", "spreadsheet", "tabs", "locale", "columns", "evidence_url")
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|m|min|h|d)?\s*$")
_DURATION_UNITS = {None: 1, "s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400}
_SHEET_URL = re.compile(r"/spreadsheets/d/([A-Za-z0-9_-]+)")


def parse_duration(text: str, key: str = "duration") -> timedelta:
    """Parse `30s`, `10m`, `1h`, `1d` (or plain seconds) into a timedelta."""
    match = _DURATION.match(str(text))
    if not match:
        raise ConfigError(f"{key}: {text!r} is not a duration; write e.g. '30s', '10m' or '1h'")
    seconds = float(match.group(1)) * _DURATION_UNITS[match.group(2)]
    if seconds <= 0:
        raise ConfigError(f"{key}: {text!r} must be longer than zero")
    return timedelta(seconds=seconds)


def spreadsheet_id(value: str) -> str:
    """The spreadsheet id in a Google Sheets URL, or the value itself when it is already an id."""
    match = _SHEET_URL.search(value)
    return match.group(1) if match else value.strip()


def config_path(
    explicit: str | os.PathLike[str] | None, environ: Mapping[str, str] | None = None
) -> Path:
    """The config file to use: the explicit one, else $HQSYNC_CONFIG, else ./hqsync.toml."""
    env = os.environ if environ is None else environ
    return Path(explicit or env.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_settings(
    path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Read the TOML config at `path`, apply HQSYNC_* environment overrides and validate it."""
    env = dict(os.environ if environ is None else environ)
    file = config_path(path, env)
    if not file.exists():
        raise ConfigError(
            f"config file {file} not found; run 'hqsync demo' for an example, "
            f"or pass --config PATH / set {CONFIG_ENV}"
        )
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{file}: not valid TOML: {exc}") from exc
    except OSError as exc:
        raise ConfigError(f"{file}: cannot be read: {exc}") from exc
    return settings_from_mapping(data, env, base_dir=file.resolve().parent, path=file)


def settings_from_mapping(
    data: Mapping[str, Any],
    environ: Mapping[str, str] | None = None,
    base_dir: Path | None = None,
    path: Path | None = None,
) -> Settings:
    """Validate a parsed config mapping (plus environment overrides) into Settings."""
    env = {} if environ is None else environ
    base = base_dir or Path.cwd()
    raw = {k: dict(v) if isinstance(v, Mapping) else v for k, v in data.items()}
    _apply_environment(raw, env)
    for key in raw:
        if key not in _SECTION_KEYS and key not in _ARRAYS:
            raise ConfigError(
                f"unknown config section [{key}]; known: {', '.join([*_SECTION_KEYS, *_ARRAYS])}"
            )
    sections = {}
    for name, keys in _SECTION_KEYS.items():
        section = raw.get(name, {})
        if not isinstance(section, Mapping):
            raise ConfigError(f"[{name}] must be a table")
        for key in section:
            if key not in keys:
                raise ConfigError(f"unknown config key {name}.{key}; known: {', '.join(keys)}")
        sections[name] = section

    database = DatabaseSettings(
        url=_resolve_db_url(
            _str(sections["database"], "database", "url", DatabaseSettings.url), base
        )
    )
    g = sections["google"]
    credentials = _opt_str(g, "google", "credentials")
    if credentials and credentials != "adc":
        credentials = str(_resolve_path(credentials, base))
    google = GoogleSettings(
        credentials=credentials,
        sheets_endpoint=_endpoint(g, "sheets_endpoint", SHEETS_ENDPOINT),
        drive_endpoint=_endpoint(g, "drive_endpoint", DRIVE_ENDPOINT),
        timeout_s=_positive(g, "google", "timeout_s", 60.0),
        requests_per_minute=int(_positive(g, "google", "requests_per_minute", 60)),
    )
    s = sections["schedule"]
    schedule = ScheduleSettings(
        sync_every=parse_duration(s.get("sync_every", "10m"), "schedule.sync_every"),
        publish_cron=_cron(_str(s, "schedule", "publish_cron", "0 6 * * *")),
        timezone=_timezone(_str(s, "schedule", "timezone", "Asia/Ho_Chi_Minh")),
    )
    dm = sections["daemon"]
    daemon = DaemonSettings(
        lease_s=_positive(dm, "daemon", "lease_s", 60.0),
        misfire_grace_s=_positive(dm, "daemon", "misfire_grace_s", 300.0),
    )
    return Settings(
        database=database,
        google=google,
        sources=_sources(raw.get("sources", []), base),
        dashboard=_dashboard(sections["dashboard"], base),
        schedule=schedule,
        scoring=_scoring(sections["scoring"], base),
        daemon=daemon,
        cycles=parse_cycles(raw.get("cycles")),
        alerts=parse_alerts(sections["alerts"], env),
        path=path,
    )


def _dashboard(d: Mapping[str, Any], base: Path) -> DashboardSettings:
    """`[dashboard]` and its `[dashboard.hospitals]`."""
    backend = Backend(_choice(d, "dashboard", "backend", tuple(Backend), Backend.XLSX))
    sheet = _str(d, "dashboard", "spreadsheet", "dashboard.xlsx")
    dashboard = DashboardSettings(
        backend=backend,
        spreadsheet=(
            str(_resolve_path(sheet, base)) if backend == Backend.XLSX else spreadsheet_id(sheet)
        ),
        language=Language(_choice(d, "dashboard", "language", tuple(Language), Language.VI)),
    )
    return replace(dashboard, hospitals=_hospital_dashboards(dashboard, d, base))


def _scoring(sc: Mapping[str, Any], base: Path) -> ScoringSettings:
    """`[scoring]`: extra rule-set folders and whether incomplete assessments are ranked."""
    dirs = sc.get("rule_set_dirs", [])
    if isinstance(dirs, str):
        dirs = [dirs]
    if not isinstance(dirs, list) or not all(isinstance(x, str) for x in dirs):
        raise ConfigError("scoring.rule_set_dirs must be a list of folder paths")
    rank_incomplete = sc.get("rank_incomplete", False)
    if isinstance(rank_incomplete, str) and rank_incomplete.lower() in ("true", "false"):
        rank_incomplete = rank_incomplete.lower() == "true"  # from HQSYNC_SCORING_RANK_INCOMPLETE
    if not isinstance(rank_incomplete, bool):
        raise ConfigError(
            f"scoring.rank_incomplete = {rank_incomplete!r}: must be true or false (no quotes)"
        )
    return ScoringSettings(
        rule_set_dirs=tuple(str(_resolve_path(x, base)) for x in dirs),
        rank_incomplete=rank_incomplete,
    )


def settings_env_names() -> list[str]:
    """Every HQSYNC_<SECTION>_<KEY> variable that sets a settings key."""
    return [
        f"HQSYNC_{section}_{key}".upper() for section, keys in _SECTION_KEYS.items() for key in keys
    ]


def _unknown_env(name: str, what: str) -> ConfigError:
    known = [*settings_env_names(), *sorted(OTHER_ENV)]
    nearest = difflib.get_close_matches(name.upper(), known, n=1, cutoff=0.6)
    hint = f"did you mean {nearest[0]}?" if nearest else f"known: {', '.join(known)}"
    return ConfigError(f"environment variable {name}: {what}; {hint} (unset it or fix the name)")


def _apply_environment(raw: dict[str, Any], env: Mapping[str, str]) -> None:
    for name, value in env.items():
        if not name.upper().startswith("HQSYNC_") or name.upper() in OTHER_ENV:
            continue
        rest = name[len("HQSYNC_") :].lower()
        section = next((s for s in _SECTION_KEYS if rest.startswith(s + "_")), None)
        if section is None:
            raise _unknown_env(name, "not a settings key")
        key = rest[len(section) + 1 :]
        if key not in _SECTION_KEYS[section]:
            raise _unknown_env(name, f"unknown key {section}.{key}")
        target = raw.setdefault(section, {})
        if not isinstance(target, dict):
            raise ConfigError(f"[{section}] must be a table")
        target[key] = value.split(",") if key == "rule_set_dirs" else value


def _sources(items: object, base: Path) -> tuple[SourceSettings, ...]:
    if not isinstance(items, list):
        raise ConfigError("sources must be an array of tables: [[sources]]")
    result: list[SourceSettings] = []
    for index, item in enumerate(items):
        where = f"sources[{index}]"
        if not isinstance(item, Mapping):
            raise ConfigError(f"{where} must be a table")
        for key in item:
            if key not in _SOURCE_KEYS:
                raise ConfigError(
                    f"unknown config key {where}.{key}; known: {', '.join(_SOURCE_KEYS)}"
                )
        name = _str(item, where, "name", None)
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise ConfigError(f"{where}.name {name!r}: use letters, digits, '-', '_' or '.'")
        if any(s.name == name for s in result):
            raise ConfigError(f"{where}.name {name!r} is used by two sources; names must differ")
        backend = Backend(_choice(item, where, "backend", tuple(Backend), None))
        sheet = _str(item, where, "spreadsheet", None)
        sheet = (
            str(_resolve_path(sheet, base)) if backend == Backend.XLSX else spreadsheet_id(sheet)
        )
        tabs_raw = item.get("tabs", {})
        if not isinstance(tabs_raw, Mapping):
            raise ConfigError(f'{where}.tabs must be a table like {{ hospitals = "Hospitals" }}')
        for key, value in tabs_raw.items():
            if key not in TAB_KINDS:
                raise ConfigError(
                    f"unknown config key {where}.tabs.{key}; known: {', '.join(TAB_KINDS)}"
                )
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(f"{where}.tabs.{key} must be a non-empty tab name")
        tabs = TabNames(**{str(k): str(tabs_raw.get(k, DEFAULT_TABS[k])) for k in TAB_KINDS})
        result.append(
            SourceSettings(
                name=name,
                backend=backend,
                spreadsheet=sheet,
                tabs=tabs,
                locale=parse_source_locale(item.get("locale"), f"sources[{name}].locale"),
                columns=parse_source_columns(item.get("columns"), f"sources[{name}].columns"),
                evidence_url=_evidence_url(item.get("evidence_url"), f"sources[{name}]"),
            )
        )
    return tuple(result)


def _hospital_dashboards(
    dashboard: DashboardSettings, section: Mapping[str, Any], base: Path
) -> Mapping[str, str]:
    """`[dashboard.hospitals]`: hospital_id → its dashboard's target, checked and resolved."""
    table = section.get("hospitals", {})
    if not isinstance(table, Mapping):
        raise ConfigError(
            "dashboard.hospitals must be a table of hospital_id = spreadsheet id, URL or path"
        )
    targets: dict[str, str] = {}
    for hospital, value in table.items():
        target = _str(table, "dashboard.hospitals", hospital, None)
        resolved = dashboard.hospital_target(target, base)
        if resolved in (dashboard.spreadsheet, *targets.values()):
            raise ConfigError(
                f"dashboard.hospitals.{hospital} = {value!r} is already another dashboard: "
                "give every hospital its own spreadsheet, apart from the overview"
            )
        targets[str(hospital).strip()] = resolved
    return MappingProxyType(targets)


def _evidence_url(value: object, where: str) -> str | None:
    if value is None:
        return None
    problem = link_template_problem(value) if isinstance(value, str) else "not text"
    if problem:
        raise ConfigError(
            f"{where}.evidence_url = {value!r}: {problem}; write e.g. 'https://www.appsheet.com/"
            "template/gettablefileurl?appName=MyApp-123&tableName={tab}&fileName={path}'"
        )
    return str(value).strip()


def _str(section: Mapping[str, Any], where: str, key: str, default: str | None) -> str:
    value = section.get(key, default)
    if value is None:
        raise ConfigError(f"{where}.{key} is required")
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}.{key} must be a non-empty string, got {value!r}")
    return value.strip()


def _opt_str(section: Mapping[str, Any], where: str, key: str) -> str | None:
    return _str(section, where, key, None) if section.get(key) is not None else None


def _choice(
    section: Mapping[str, Any], where: str, key: str, choices: Sequence[str], default: str | None
) -> str:
    value = _str(section, where, key, default).lower()
    if value not in choices:
        raise ConfigError(f"{where}.{key} = {value!r}: must be one of {', '.join(choices)}")
    return value


def _positive(section: Mapping[str, Any], where: str, key: str, default: float) -> float:
    value = section.get(key, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{where}.{key} = {value!r}: must be a number") from None
    if number <= 0:
        raise ConfigError(f"{where}.{key} = {value!r}: must be greater than zero")
    return number


def _endpoint(section: Mapping[str, Any], key: str, default: str) -> str:
    value = _str(section, "google", key, default).rstrip("/")
    if not re.match(r"^https?://[^/\s]+", value):
        raise ConfigError(f"google.{key} = {value!r}: must be an http(s) URL")
    return value


def _cron(expr: str) -> str:
    from apscheduler.triggers.cron import CronTrigger

    try:
        CronTrigger.from_crontab(expr)
    except ValueError as exc:
        raise ConfigError(f"schedule.publish_cron = {expr!r}: not a crontab line ({exc})") from None
    return expr


def _timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"schedule.timezone = {name!r}: not an IANA time zone (e.g. Asia/Ho_Chi_Minh)"
        ) from None
    return name


def _resolve_path(value: str, base: Path) -> Path:
    path = Path(value).expanduser()
    return path if path.is_absolute() else base / path


_SQLITE_FIX = "use sqlite:///path/to/hqsync.db (three slashes, then the file's path)"


def _check_db_url(url: str) -> None:
    """Refuse the database URLs SQLAlchemy would misread, with the fix spelled out."""
    shown = redact_url(url)
    scheme, sep, rest = url.partition("://")
    if not sep:
        fix = f"sqlite:///{url}" if url.endswith((".db", ".sqlite", ".sqlite3")) else ""
        raise ConfigError(
            f"database.url = {shown!r} is not a URL; "
            + (f"use {fix!r} for a SQLite file" if fix else _SQLITE_FIX)
            + ", or postgresql+psycopg://user@host/db"
        )
    dialect = scheme.lower().split("+", 1)[0]
    if dialect == "postgres":
        raise ConfigError(
            f"database.url = {shown!r}: 'postgres://' is not understood; "
            f"use {redact_url('postgresql+psycopg://' + rest)!r}"
        )
    if dialect == "sqlite":
        if rest and not rest.startswith("/"):
            raise ConfigError(
                f"database.url = {shown!r} names no file (it reads as a host); "
                f"use {'sqlite:///' + rest!r} for a file beside the config, or {_SQLITE_FIX}"
            )
        return
    if dialect != "postgresql":
        raise ConfigError(
            f"database.url = {shown!r}: hqsync stores in SQLite or PostgreSQL; "
            f"{_SQLITE_FIX}, or postgresql+psycopg://user@host/db"
        )


def _resolve_db_url(url: str, base: Path) -> str:
    _check_db_url(url)
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith(prefix + "/"):
        rest = url[len(prefix) :]
        if rest and not rest.startswith(":memory:") and not rest.startswith("file:"):
            return prefix + str(_resolve_path(rest, base))
    return url
