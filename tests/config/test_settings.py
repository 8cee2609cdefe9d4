"""The config contract: the documented TOML keys, environment overrides, errors naming the key."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from hqsync.config.errors import ConfigError
from hqsync.config.settings import (
    config_path,
    load_settings,
    parse_duration,
    redact_url,
    settings_from_mapping,
    spreadsheet_id,
)

DOCUMENTED_EXAMPLE = """
[database]
url = "sqlite:///hqsync.db"

[google]
credentials = "service-account.json"
sheets_endpoint = "https://sheets.googleapis.com"
drive_endpoint = "https://www.googleapis.com"
timeout_s = 60

[[sources]]
name = "cantho"
backend = "google"
spreadsheet = "https://docs.google.com/spreadsheets/d/1AbCdEf_-9/edit#gid=0"
tabs = { hospitals = "Bệnh viện", assessments = "Assessments", findings = "Findings" }

[dashboard]
backend = "google"
spreadsheet = "1XyZ"
language = "vi"

[schedule]
sync_every = "10m"
publish_cron = "0 6 * * *"
timezone = "Asia/Ho_Chi_Minh"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "hqsync.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_design_example_loads(tmp_path: Path):
    settings = load_settings(write(tmp_path, DOCUMENTED_EXAMPLE), environ={})
    assert settings.database.url == f"sqlite:///{tmp_path / 'hqsync.db'}"
    assert settings.google.credentials == str(tmp_path / "service-account.json")
    assert settings.google.timeout_s == 60
    source = settings.source("cantho")
    assert source.spreadsheet == "1AbCdEf_-9"
    assert source.tabs.hospitals == "Bệnh viện"
    assert settings.dashboard.spreadsheet == "1XyZ"
    assert settings.schedule.sync_every == timedelta(minutes=10)


def test_environment_overrides_the_file(tmp_path: Path):
    env = {
        "HQSYNC_DATABASE_URL": "postgresql+psycopg://u:secret@db/hq",
        "HQSYNC_SCHEDULE_SYNC_EVERY": "30s",
        "HQSYNC_DASHBOARD_LANGUAGE": "en",
        "HQSYNC_GOOGLE_CREDENTIALS": "adc",
        "HQSYNC_CONFIG": "ignored-here",
        "HQSYNC_TEST_PG_URL": "not a settings variable",
    }
    settings = load_settings(write(tmp_path, DOCUMENTED_EXAMPLE), environ=env)
    assert settings.database.url == "postgresql+psycopg://u:secret@db/hq"
    assert settings.schedule.sync_every == timedelta(seconds=30)
    assert settings.dashboard.language == "en"
    assert settings.google.credentials == "adc"


def test_config_path_precedence(tmp_path: Path):
    assert config_path("a.toml", {"HQSYNC_CONFIG": "b.toml"}) == Path("a.toml")
    assert config_path(None, {"HQSYNC_CONFIG": "b.toml"}) == Path("b.toml")
    assert config_path(None, {}) == Path("hqsync.toml")


@pytest.mark.parametrize(
    ("text", "env", "key"),
    [
        ("[database]\nurl = 'x'\npassword = 'p'\n", {}, "database.password"),
        ("[databse]\nurl = 'x'\n", {}, "[databse]"),
        ("[google]\ntimeout_s = 'slow'\n", {}, "google.timeout_s"),
        ("[google]\ntimeout_s = -1\n", {}, "google.timeout_s"),
        ("[google]\nsheets_endpoint = 'sheets.local'\n", {}, "google.sheets_endpoint"),
        ("[schedule]\nsync_every = '10 minutes'\n", {}, "schedule.sync_every"),
        ("[schedule]\npublish_cron = 'every morning'\n", {}, "schedule.publish_cron"),
        ("[schedule]\ntimezone = 'Asia/Saigon City'\n", {}, "schedule.timezone"),
        ("[dashboard]\nbackend = 'excel'\n", {}, "dashboard.backend"),
        ("[[sources]]\nbackend = 'xlsx'\nspreadsheet = 'a.xlsx'\n", {}, "sources[0].name"),
        (
            "[[sources]]\nname = 'a'\nbackend = 'xlsx'\nspreadsheet = 'a.xlsx'\nsheet = 1\n",
            {},
            "sources[0].sheet",
        ),
        (
            "[[sources]]\nname = 'a'\nbackend = 'xlsx'\nspreadsheet = 'a.xlsx'\n"
            "tabs = { findings = 'F', photos = 'P' }\n",
            {},
            "sources[0].tabs.photos",
        ),
        (
            "[[sources]]\nname = 'a'\nbackend = 'xlsx'\nspreadsheet = 'a.xlsx'\n"
            "[[sources]]\nname = 'a'\nbackend = 'xlsx'\nspreadsheet = 'b.xlsx'\n",
            {},
            "sources[1].name",
        ),
        ("", {"HQSYNC_DATABASE_URI": "x"}, "HQSYNC_DATABASE_URI"),
        ("", {"HQSYNC_SCHEDULE_SYNC_EVERY": "0s"}, "schedule.sync_every"),
    ],
)
def test_bad_config_is_an_error_naming_the_key(tmp_path: Path, text, env, key):
    with pytest.raises(ConfigError) as caught:
        load_settings(write(tmp_path, text), environ=env)
    assert key in str(caught.value)
    assert caught.value.exit_code == 2


def test_invalid_toml_and_missing_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_settings(write(tmp_path, "[database\n"), environ={})
    with pytest.raises(ConfigError, match="not found"):
        load_settings(tmp_path / "missing.toml", environ={})


def test_unknown_source_name_lists_the_configured_ones(tmp_path: Path):
    settings = load_settings(write(tmp_path, DOCUMENTED_EXAMPLE), environ={})
    with pytest.raises(ConfigError, match="cantho"):
        settings.source("hanoi")


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30s", 30), ("10m", 600), ("1h", 3600), ("1.5h", 5400), ("45", 45), ("2d", 172800)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)


def test_helpers():
    assert (
        redact_url("postgresql+psycopg://hq:s3cret@db:5432/x")
        == "postgresql+psycopg://hq:***@db:5432/x"
    )
    assert redact_url("sqlite:///a.db") == "sqlite:///a.db"
    assert spreadsheet_id("  1AbC  ") == "1AbC"


def test_defaults_without_a_file():
    settings = settings_from_mapping({})
    assert settings.sources == ()
    assert settings.dashboard.language == "vi"
    assert settings.schedule.timezone == "Asia/Ho_Chi_Minh"
