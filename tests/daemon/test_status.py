"""`hqsync status`: the documented JSON object and the readable table, on both stores."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from hqsync.config.settings import settings_from_mapping
from hqsync.jobs.status import render_status, status_report
from hqsync.models.lease import record_next_runs, try_acquire
from hqsync.models.runs import finish_run, start_run

T0 = datetime(2026, 5, 1, 8, 0, tzinfo=UTC)


def settings_for(url: str):
    return settings_from_mapping({"database": {"url": url}})


def seed_runs(engine):
    sync_ok = start_run(engine, "sync", "host-a:1", source="cantho", started_at=T0)
    finish_run(
        engine,
        sync_ok,
        "ok",
        requests=3,
        rows={"read": 120, "inserted": 4, "rejected": 1, "findings_read": 118},
        finished_at=T0 + timedelta(seconds=2),
    )
    failed = start_run(engine, "sync", "host-a:1", source="soctrang", started_at=T0 + timedelta(1))
    finish_run(
        engine,
        failed,
        "failed",
        requests=1,
        error="source soctrang: tab 'Findings' not found; rename the tab or set sources[1].tabs",
        finished_at=T0 + timedelta(days=1, seconds=1),
    )
    start_run(engine, "publish", "host-a:1", started_at=T0 + timedelta(days=1, seconds=5))


def test_status_json_has_exactly_the_designed_fields(engine):
    seed_runs(engine)
    assert try_acquire(engine, "host-a:1", 60, T0 + timedelta(days=1))
    record_next_runs(engine, "host-a:1", {"sync": T0 + timedelta(days=1, minutes=10)})
    report = status_report(settings_for(str(engine.url)), engine, now=T0 + timedelta(days=1))
    assert set(report) >= {"database", "leader", "next_runs", "runs"}
    assert report["leader"] == {
        "holder": "host-a:1",
        "expires_at": (T0 + timedelta(days=1, seconds=60)).isoformat(),
    }
    assert report["next_runs"] == {"sync": (T0 + timedelta(days=1, minutes=10)).isoformat()}
    assert [(r["job"], r["source"], r["outcome"]) for r in report["runs"]] == [
        ("publish", None, "running"),
        ("sync", "soctrang", "failed"),
        ("sync", "cantho", "ok"),
    ]
    assert report["runs"][2] == {
        "job": "sync",
        "source": "cantho",
        "started_at": T0.isoformat(),
        "finished_at": (T0 + timedelta(seconds=2)).isoformat(),
        "outcome": "ok",
        "holder": "host-a:1",
        "requests": 3,
        "rows": {"read": 120, "inserted": 4, "rejected": 1, "findings_read": 118},
        "error": None,
    }
    assert json.loads(json.dumps(report)) == report


def test_status_of_an_idle_store_names_no_leader(engine):
    report = status_report(settings_for(str(engine.url)), engine, now=T0)
    assert report["leader"] is None
    assert report["next_runs"] == {}
    assert report["runs"] == []
    assert "No runs recorded yet" in render_status(report, now=T0)


def test_an_expired_lease_is_not_shown_as_leader(engine):
    assert try_acquire(engine, "host-a:1", 60, T0)
    record_next_runs(engine, "host-a:1", {"sync": T0 + timedelta(minutes=1)})
    report = status_report(settings_for(str(engine.url)), engine, now=T0 + timedelta(seconds=61))
    assert (report["leader"], report["next_runs"]) == (None, {})


def test_the_database_password_is_never_shown(engine):
    settings = settings_for("postgresql+psycopg://hqsync:s3cret@db.example/hq")
    report = status_report(settings, engine, now=T0)
    assert report["database"] == "postgresql+psycopg://hqsync:***@db.example/hq"
    assert "s3cret" not in render_status(report, now=T0)


def test_the_table_tells_what_ran_what_failed_why_what_is_next_and_who_leads(engine):
    seed_runs(engine)
    now = T0 + timedelta(days=1, seconds=10)
    assert try_acquire(engine, "host-a:1", 60, now)
    record_next_runs(engine, "host-a:1", {"sync": now + timedelta(minutes=10)})
    text = render_status(status_report(settings_for(str(engine.url)), engine, now=now), now=now)
    assert "Leader:    host-a:1" in text
    assert "in 60s" in text
    assert "sync" in text and "in 10m" in text
    assert "FAILED" in text and "cantho" in text and "read 120, inserted 4, rejected 1" in text
    assert "findings_read" not in text  # per-tab counts are in the JSON, not the table
    assert "tab 'Findings' not found; rename the tab or set sources[1].tabs" in text
    assert "…" in text  # the publish still running has no duration yet
