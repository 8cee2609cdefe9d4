"""`hqsync alerts` from the command line: a dry run sends and marks nothing; a real run sends
and exits 1 when something was not delivered; the SMTP password and the webhook's key and
token are never printed or logged (even at DEBUG, where urllib3 logs the request line)."""

from __future__ import annotations

import io
import json
import logging
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from hqsync.jobs.cli import cli
from hqsync.jobs.logs import configure_logging
from hqsync.jobs.pipeline import Pipeline
from hqsync.models import tables
from hqsync.models.store import open_store
from tests.alerts.support import (
    KEY,
    LEADERS,
    OPS,
    PASSWORD,
    TOKEN,
    alert_settings,
    province,
    start_smtp,
    start_webhook,
)

ENV = {"HQSYNC_ALERTS_EMAIL_PASSWORD": PASSWORD}
_LATER = datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")) + timedelta(hours=3)
QUIET = f"{_LATER:%H}:00-{_LATER + timedelta(hours=1):%H}:00"
SECRETS = (PASSWORD, KEY, TOKEN)


@pytest.fixture
def deployment(tmp_path: Path):
    """A synced and scored store, a config file naming the suite's servers (login required)."""
    smtp = start_smtp(login=True)
    hook = start_webhook()
    db_url = f"sqlite:///{tmp_path / 'hqsync.db'}"
    province().write(tmp_path / "source.xlsx")
    settings = alert_settings(tmp_path, db_url, smtp_port=smtp.port, webhook=hook.url)
    engine = open_store(db_url)
    pipeline = Pipeline(settings, engine)
    pipeline.sync()
    pipeline.score()
    engine.dispose()
    config = tmp_path / "hqsync.toml"
    config.write_text(  # quiet hours that are not now
        f"""
[database]
url = "{db_url}"

[[sources]]
name = "demo"
backend = "xlsx"
spreadsheet = "source.xlsx"

[dashboard]
backend = "google"
spreadsheet = "OVERVIEW-sheet-id"

[alerts]
quiet_hours = "{QUIET}"

[alerts.email]
host = "127.0.0.1"
port = {smtp.port}
starttls = false
username = "hqsync@soyte.example"
sender = "hqsync@soyte.example"
ops = ["{OPS}"]

[alerts.google_chat]
webhook = "{hook.url}"

[alerts.hospitals]
BV02 = ["{LEADERS["BV02"][0]}"]
""",
        encoding="utf-8",
    )
    yield config, smtp, hook, db_url
    smtp.controller.stop()
    assert hook.server is not None
    hook.server.shutdown()


def invoke(args: list[str]) -> Result:
    return CliRunner().invoke(cli, args, env=ENV, catch_exceptions=True)


def stored(db_url: str) -> tuple[int, int]:
    """(deliveries recorded, alerts runs recorded)."""
    engine = sa.create_engine(db_url)
    with engine.connect() as conn:
        deliveries = conn.execute(sa.select(sa.func.count()).select_from(tables.alert_deliveries))
        runs = conn.execute(sa.select(sa.func.count()).where(tables.runs.c.job == "alerts"))
        counts = (int(deliveries.scalar_one()), int(runs.scalar_one()))
    engine.dispose()
    return counts


def test_a_dry_run_says_what_would_go_to_whom_and_sends_nothing(deployment):
    config, smtp, hook, db_url = deployment
    result = invoke(["alerts", "--config", str(config), "--dry-run"])
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "dry run: 4 event(s) hold now; 5 digest(s) would be sent" in out
    for address in (*LEADERS["BV01"], *LEADERS["BV02"], OPS):
        assert f"--- to {address}: [hqsync] " in out
    assert "--- to the Google Chat space (http://127.0.0.1:" in out
    assert "key=***&token=***" in out
    assert "hospital BV03: 'not-an-address' in its email column is not an address" in result.stderr
    assert smtp.box.messages == [] and hook.posts == [] and smtp.box.logins == []
    assert stored(db_url) == (0, 0)
    assert not any(secret in result.output for secret in SECRETS)


def test_a_real_run_sends_logs_in_and_exits_1_when_one_is_refused(deployment):
    config, smtp, hook, db_url = deployment
    smtp.box.refuse.add(LEADERS["BV02"][0])
    result = invoke(["alerts", "--config", str(config)])
    assert result.exit_code == 1, result.output
    assert "4 event(s) hold now; 4 digest(s) sent, 1 not delivered" in result.stdout
    assert f"not delivered to {LEADERS['BV02'][0]}: refused: 550" in result.stderr
    assert smtp.box.logins and smtp.box.logins[0] == (b"hqsync@soyte.example", PASSWORD.encode())
    assert len(hook.posts) == 1
    assert stored(db_url) == (13, 1)  # the refused one recorded as failed, to retry
    status = invoke(["status", "--config", str(config), "--format", "json"])
    failing = json.loads(status.stdout)["alerts"]["failing"]
    assert [(f["recipient"], f["alerts"]) for f in failing] == [(LEADERS["BV02"][0], 1)]
    smtp.box.refuse.clear()
    again = invoke(["alerts", "--config", str(config)])
    assert again.exit_code == 0, again.output
    assert "1 digest(s) sent" in again.stdout
    text = invoke(["status", "--config", str(config)]).stdout
    assert f"Alerts:    email + google_chat, quiet {QUIET}; last run" in text
    for output in (result.output, again.output, status.output, text):
        assert not any(secret in output for secret in SECRETS)


def test_secrets_never_reach_the_log(deployment):
    config, _smtp, hook, _db_url = deployment
    hook.statuses.append(500)
    stream = io.StringIO()
    configure_logging("human", logging.DEBUG, stream=stream)
    try:
        from hqsync.config.settings import load_settings

        settings = load_settings(config, environ=ENV)
        assert PASSWORD not in repr(settings) and TOKEN not in repr(settings)
        engine = open_store(settings.database.url)
        report = Pipeline(settings, engine).alerts()
        engine.dispose()
    finally:
        configure_logging("human", logging.WARNING)
    assert [d.digest.recipient for d in report.failed] == ["space"]
    log = stream.getvalue()
    assert "POST /v1/spaces/AAAA/messages?key=***&token=***" in log  # urllib3's request line
    assert "not delivered to the Google Chat space" in log
    assert not any(secret in log for secret in SECRETS)
    assert not any(secret in (d.error or "") for d in report.digests for secret in SECRETS)
