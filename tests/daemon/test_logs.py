"""Logs: human or JSON lines, never a secret; a progress bar only on a terminal."""

from __future__ import annotations

import io
import json
import logging

import pytest
from rich.console import Console

from hqsync.jobs.logs import configure_logging, progress_callback, redact

PEM = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"


@pytest.mark.parametrize(
    ("text", "secret"),
    [
        ("Authorization: Bearer ya29.a0AfH6SMBx-secret_tok", "a0AfH6SMBx"),
        ("token ya29.c.Kp8B-abc_DEF.ghi rejected", "Kp8B"),
        ('{"access_token": "ya29.zzz", "expires_in": 3599}', "zzz"),
        ("refresh_token=1//0gSECRET&client_id=x", "0gSECRET"),
        ('"client_secret": "GOCSPX-abcdef"', "GOCSPX"),
        ("key file says " + PEM, "MIIEvQ"),
        (
            '{"private_key": "-----BEGIN PRIVATE KEY-----\\nMIIEvQ\\n"'
            '"-----END PRIVATE KEY-----\\n"}',
            "MIIEvQ",
        ),
        ("assertion=eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2lnbmF0dXJl", "c2lnbmF0dXJl"),
        ("cannot reach postgresql+psycopg://hqsync:p%40ss@db:5432/hq", "p%40ss"),
        ("password=hunter2 for user", "hunter2"),
    ],
)
def test_secrets_are_redacted(text, secret):
    assert secret not in redact(text)
    assert "***" in redact(text)


@pytest.mark.parametrize(
    "text",
    [
        "cycle: 2 sources synced (1 changed), 12 assessments scored in 1.3s",
        "reading https://sheets.googleapis.com/v4/spreadsheets/1AbC:batchGet",
        "sqlite:////var/lib/hqsync/hqsync.db at http://localhost:8080/x and a@b.example",
        "token_uri is https://oauth2.googleapis.com/token",
    ],
)
def test_ordinary_text_is_left_alone(text):
    assert redact(text) == text


@pytest.fixture
def restore_logging():
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(logging.NOTSET)


def test_json_logs_are_one_redacted_object_per_line(restore_logging):
    stream = io.StringIO()
    configure_logging("json", stream=stream)
    log = logging.getLogger("hqsync.test")
    log.info("cycle done", extra={"event": "cycle", "scored": 12})
    log.warning("sent %s", "Bearer ya29.topsecret")
    try:
        raise RuntimeError("boom with access_token=ya29.inner")
    except RuntimeError:
        log.exception("job failed")
    lines = stream.getvalue().splitlines()
    entries = [json.loads(line) for line in lines]
    assert len(entries) == 3
    assert entries[0]["message"] == "cycle done"
    assert (entries[0]["event"], entries[0]["scored"], entries[0]["level"]) == ("cycle", 12, "INFO")
    assert entries[1]["message"] == "sent Bearer ***"
    assert "RuntimeError" in entries[2]["exception"]
    assert "ya29" not in stream.getvalue()


def test_human_logs_and_a_quiet_scheduler(restore_logging):
    stream = io.StringIO()
    configure_logging("human", stream=stream)
    configure_logging("human", stream=stream)  # calling it again does not double the output
    logging.getLogger("hqsync.jobs.daemon").info("daemon started with %s", "password=x1")
    logging.getLogger("apscheduler.executors.default").info('Running job "sync"')
    out = stream.getvalue().splitlines()
    assert len(out) == 1
    assert out[0].endswith("INFO    hqsync.jobs.daemon: daemon started with password=***")


def test_an_unknown_log_format_is_refused(restore_logging):
    with pytest.raises(ValueError, match="human"):
        configure_logging("xml")


def test_progress_is_silent_when_not_on_a_terminal():
    out = io.StringIO()
    with progress_callback(Console(file=out, force_terminal=False)) as progress:
        progress("reading cantho", 1, 3)
    assert out.getvalue() == ""


def test_progress_draws_a_bar_on_a_terminal():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=80)
    with progress_callback(console) as progress:
        for done in range(4):
            progress("reading cantho", done, 3)
    assert "reading cantho" in out.getvalue()


def test_log_lines_go_above_a_live_progress_bar(restore_logging, monkeypatch):
    stderr = io.StringIO()
    monkeypatch.setattr("sys.stderr", stderr)
    configure_logging("human")  # writes to the stderr of the moment
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=100)
    with progress_callback(console) as progress:
        progress("reading cantho", 1, 3)
        logging.getLogger("hqsync.jobs.pipeline").info("source cantho synced")
    assert "source cantho synced" in out.getvalue()
    assert stderr.getvalue() == ""
    logging.getLogger("hqsync.jobs.pipeline").info("after the bar")
    assert "after the bar" in stderr.getvalue()
