"""No secret printed: database passwords masked however they are given (issue 13)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from hqsync.config.settings import settings_from_mapping
from hqsync.config.utils import redact_url
from hqsync.jobs.logs import configure_logging, redact
from hqsync.jobs.status import render_status, status_report

SECRET = "SECRET"


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql://postgres:ss@SECRET@host/db", "postgresql://postgres:***@host/db"),
        ("postgresql+psycopg://hq:SECRET@db:5432/x", "postgresql+psycopg://hq:***@db:5432/x"),
        ("postgresql://u:p@ss@SECRET@h:5432/db?sslmode=require", None),
        ("postgresql://u:SE/CRET@host/db", "postgresql://u:***@host/db"),
        ("postgresql://:SECRET@host/db", "postgresql://:***@host/db"),
        ("postgresql://u@host/db?password=SECRET", "postgresql://u@host/db?password=***"),
        (
            "postgresql://u@host/db?sslmode=require&password=SECRET&application_name=hq",
            "postgresql://u@host/db?sslmode=require&password=***&application_name=hq",
        ),
        ("postgresql://u@host/db?sslpassword=SECRET", "postgresql://u@host/db?sslpassword=***"),
        ("postgresql://u@host/db?passfile=/SECRET", "postgresql://u@host/db?passfile=***"),
        ("postgresql://u@host/db?PASSWORD=SECRET#x", "postgresql://u@host/db?PASSWORD=***#x"),
        ("postgresql://u@host/db?api_token=SECRET", "postgresql://u@host/db?api_token=***"),
        ("postgresql://u@host/db?sslkey=SECRET.key", "postgresql://u@host/db?sslkey=***"),
        ("postgresql://u@host/db?client_secret=SECRET", "postgresql://u@host/db?client_secret=***"),
        ("postgresql://u:x@host/db?application_name=a@b", None),
        (
            "postgresql://h:5432/db?application_name=a@b",
            "postgresql://h:5432/db?application_name=a@b",
        ),
        ("sqlite:///var/lib/hqsync/hqsync.db", "sqlite:///var/lib/hqsync/hqsync.db"),
        ("sqlite:///file:store.db?mode=ro&uri=true", "sqlite:///file:store.db?mode=ro&uri=true"),
    ],
)
def test_redact_url_masks_every_password(url: str, shown: str | None):
    masked = redact_url(url)
    assert SECRET not in masked
    if shown is not None:
        assert masked == shown
    if "@host" in url or "@h:" in url or "@host" in (shown or ""):
        assert "@h" in masked  # the host stays visible
    in_text = redact(f"cannot reach {url}, refused")
    assert SECRET not in in_text
    assert in_text.startswith("cannot reach ") and in_text.endswith(", refused")


def test_a_password_with_at_signs_keeps_the_host_and_database():
    assert redact_url("postgresql://u:x@y@z@db.example:5433/hq?sslmode=require") == (
        "postgresql://u:***@db.example:5433/hq?sslmode=require"
    )


def test_log_records_are_redacted_whatever_the_url_shape():
    stream = io.StringIO()
    configure_logging("json", logging.INFO, stream)
    try:
        log = logging.getLogger("hqsync.test")
        log.error("cannot reach %s", "postgresql://postgres:ss@SECRET@host/db")
        log.error("cannot reach postgresql://u@host/db?sslpassword=SECRET&sslmode=require")
        try:
            raise RuntimeError("postgresql://u:SECRET@host/db refused")
        except RuntimeError:
            log.exception("failed")
    finally:
        configure_logging("human", logging.WARNING)
    text = stream.getvalue()
    assert SECRET not in text
    lines = [json.loads(line) for line in text.splitlines()]
    assert lines[0]["message"] == "cannot reach postgresql://postgres:***@host/db"
    assert "sslpassword=***&sslmode=require" in lines[1]["message"]


@pytest.mark.parametrize(
    "url",
    [
        "postgresql+psycopg://hqsync:ss@SECRET@db.example/hq",
        "postgresql+psycopg://hqsync@db.example/hq?password=SECRET",
        "postgresql+psycopg://hqsync@db.example/hq?sslmode=require&sslpassword=SECRET",
    ],
)
def test_status_never_shows_the_password(engine, url: str):
    report = status_report(settings_from_mapping({"database": {"url": url}}), engine)
    assert SECRET not in json.dumps(report)
    assert SECRET not in render_status(report)
    assert "db.example/hq" in report["database"]
