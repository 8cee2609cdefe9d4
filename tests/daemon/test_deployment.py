"""The deployment examples: a valid, fully commented config and a sound systemd unit."""

from __future__ import annotations

import configparser
import dataclasses
import re
import shlex
from importlib import resources
from pathlib import Path

from hqsync.config import settings as settings_module
from hqsync.config.calendar_settings import AlertSettings, ChatSettings, EmailSettings
from hqsync.config.settings import load_settings
from hqsync.config.utils import format_link
from hqsync.scoring.cycles import Cycle

CONFIG_DIR = Path(str(resources.files("hqsync.config")))
EXAMPLE = CONFIG_DIR / "hqsync.example.toml"
UNIT = CONFIG_DIR / "hqsync.service"

SECTIONS = {
    "database": settings_module.DatabaseSettings,
    "google": settings_module.GoogleSettings,
    "sources": settings_module.SourceSettings,
    "dashboard": settings_module.DashboardSettings,
    "schedule": settings_module.ScheduleSettings,
    "scoring": settings_module.ScoringSettings,
    "daemon": settings_module.DaemonSettings,
    "cycles": Cycle,
    "alerts": AlertSettings,
}
SUB_TABLES = {"alerts": {"email": EmailSettings, "google_chat": ChatSettings}}
"""Fields written as tables of their own ([alerts.email]); their keys are checked there."""


def test_the_example_config_is_valid(tmp_path):
    settings = load_settings(EXAMPLE, environ={})
    assert settings.sources and settings.sources[0].backend == "google"
    # Copied as it is, the example keeps the defaults that depend on the sheet.
    assert settings.sources[0].locale is None and not settings.sources[0].columns
    assert settings.schedule.timezone == "Asia/Ho_Chi_Minh"
    assert settings.daemon.lease_s > 0
    source = settings.sources[0]
    assert source.evidence_url is not None
    link = format_link(source.evidence_url, "Findings_Images/a 1.jpg", source.tabs.findings)
    assert link is not None
    assert link.endswith("&tableName=Findings&fileName=Findings_Images%2Fa%201.jpg")


def test_the_example_config_shows_and_explains_every_setting():
    text = EXAMPLE.read_text(encoding="utf-8")
    top = {f.name for f in dataclasses.fields(settings_module.Settings)} - {"path"}
    assert top == set(SECTIONS), "a new settings section needs a place in the example"
    tables: list[tuple[str, type]] = list(SECTIONS.items())
    tables += [(f"{s}.{f}", c) for s, subs in SUB_TABLES.items() for f, c in subs.items()]
    for section, cls in tables:
        header = f"[[{section}]]" if section in ("sources", "cycles") else f"[{section}]"
        start = re.search(rf"(?m)^{re.escape(header)}$", text)
        assert start, f"no {header} table"
        body = re.split(r"(?m)^\[", text[start.end() :], maxsplit=1)[0]
        for field in dataclasses.fields(cls):
            if field.name in SUB_TABLES.get(section, {}) or field.name == "password":
                continue  # a table of its own; the password only from the environment
            if section == "alerts" and field.name == "hospitals":
                assert re.search(r"(?m)^\[alerts\.hospitals\]\n# ", text)
                continue
            # A setting whose default depends on the source (a source's locale) is shown
            # commented out ("# locale = ..."): set in a copied example it would override it.
            shown = rf"(?:{field.name}|# {field.name})"
            match = re.search(rf"(?m)^(#[^\n]*\n)+([a-z_]+ = [^\n]*\n)*{shown} = ", body)
            assert match, f"{section}.{field.name} is missing or has no comment above it"


def test_the_systemd_unit_runs_the_daemon_safely():
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # type: ignore[assignment,method-assign]
    unit.read_string(UNIT.read_text(encoding="utf-8"))
    service = unit["Service"]
    assert shlex.split(service["ExecStart"])[1:] == [
        "run",
        "--config",
        "/etc/hqsync/hqsync.toml",
    ]
    assert shlex.split(service["ExecStart"])[0].endswith("/hqsync")
    assert service["Restart"] == "on-failure"
    assert service["KillSignal"] == "SIGTERM"
    assert 15 <= int(service["TimeoutStopSec"]) <= 600
    assert service["User"] not in ("", "root")
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["StateDirectory"] == "hqsync"
    assert "multi-user.target" in unit["Install"]["WantedBy"]
