"""Alerts delivered for real: a SMTP server (aiosmtpd) and a stand-in Chat webhook started by
the suite, the store on SQLite and PostgreSQL. Each event once, one digest per recipient, no
other hospital in a hospital's mail, quiet hours, a refused delivery retried and nothing
resent after success, source failures to ops and Chat only."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa

from hqsync.config.vocabulary import AlertEvent, Channel, DeliveryOutcome
from hqsync.jobs.pipeline import Pipeline
from hqsync.jobs.status import render_status, status_report
from hqsync.models import tables
from hqsync.models.alerts import failing_deliveries
from hqsync.models.store import open_store
from tests.alerts.support import (
    LEADERS,
    NAMES,
    OPS,
    alert_settings,
    free_port,
    province,
    start_smtp,
    start_webhook,
)
from tests.daemon.fakes import FakeClock

MORNING = datetime(2026, 3, 10, 3, 0, tzinfo=UTC)  # 10:00 in Asia/Ho_Chi_Minh
BV01 = LEADERS["BV01"]
BV02 = LEADERS["BV02"]


@pytest.fixture
def servers():
    smtp = start_smtp()
    hook = start_webhook()
    yield smtp, hook
    smtp.controller.stop()
    assert hook.server is not None
    hook.server.shutdown()


def make_pipeline(tmp_path: Path, db_url: str, servers, clock=None, **kwargs) -> Pipeline:
    smtp, hook = servers
    if not (tmp_path / "source.xlsx").exists():
        province().write(tmp_path / "source.xlsx")
    settings = alert_settings(tmp_path, db_url, smtp_port=smtp.port, webhook=hook.url, **kwargs)
    pipeline = Pipeline(settings, open_store(db_url), clock=clock or FakeClock(MORNING))
    pipeline.sync()
    pipeline.score()
    return pipeline


def deliveries(pipeline: Pipeline) -> list[tuple[str, str, str]]:
    d = tables.alert_deliveries.c
    with pipeline.engine.connect() as conn:
        rows = conn.execute(sa.select(d.event, d.recipient, d.outcome)).all()
    return sorted((str(e), str(r), str(o)) for e, r, o in rows)


def test_each_event_is_sent_once_in_one_digest_per_recipient(tmp_path, db_url, servers):
    smtp, hook = servers
    pipeline = make_pipeline(tmp_path, db_url, servers)
    report = pipeline.alerts()
    events = sorted((a.event, a.hospital_id) for a in report.alerts)
    assert events == [
        (AlertEvent.BAND_DROP, "BV01"),
        (AlertEvent.BAND_DROP, "BV03"),
        (AlertEvent.BASIC_FAILED, "BV01"),
        (AlertEvent.BASIC_FAILED, "BV02"),
    ]  # BV04 is inactive: nobody hears of it
    assert sorted(smtp.box.recipients()) == sorted([*BV01, *BV02, OPS])
    assert len(hook.posts) == 1
    assert not report.failed and len(report.delivered) == 5
    # each leader's digest holds its own hospital's events, ops' and Chat's all four
    for address in BV01:
        (mail,) = smtp.box.to(address)
        body = mail.get_body(("plain",)).get_content()
        assert mail["Subject"] == f"[hqsync] {NAMES['BV01']}: 2 cảnh báo"
        assert "QĐ 6858: đánh giá của đoàn ngày 10/11/2025 xếp loại Trung bình (2,00)" in body
        assert "lần trước: Tốt (4,00)" in body
        assert "TT 35/2024: tự đánh giá ngày 01/03/2026 không đạt" in body
        assert "https://docs.google.com/spreadsheets/d/BV01-sheet-id" in body
        assert "OVERVIEW-sheet-id" not in body  # the overview shows every hospital
    (ops,) = smtp.box.to(OPS)
    ops_body = ops.get_body(("plain",)).get_content()
    assert all(NAMES[h] in ops_body for h in ("BV01", "BV02", "BV03"))
    assert NAMES["BV04"] not in ops_body
    assert "https://docs.google.com/spreadsheets/d/OVERVIEW-sheet-id" in ops_body
    assert all(NAMES[h] in hook.texts[0] for h in ("BV01", "BV02", "BV03"))
    assert hook.paths[0].endswith("key=AIzaSECRETkey456&token=tokSECRETtoken123")
    # 4 events × (ops + Chat) + BV01's 2 × 2 leaders + BV02's 1
    assert len(deliveries(pipeline)) == 13
    assert {o for _, _, o in deliveries(pipeline)} == {DeliveryOutcome.SENT}

    again = pipeline.alerts()  # the same events hold: nobody is told twice
    assert len(again.alerts) == 4 and again.digests == ()
    assert len(smtp.box.messages) == 4 and len(hook.posts) == 1


def test_no_other_hospital_in_a_hospitals_mail(tmp_path, db_url, servers):
    smtp, _ = servers
    make_pipeline(tmp_path, db_url, servers).alerts()
    own = {a: h for h, addresses in LEADERS.items() for a in addresses}
    for message in smtp.box.messages:
        hospital = own.get(str(message["To"]))
        if hospital is None:
            continue
        text = str(message["Subject"]) + message.get_body(("plain",)).get_content()
        assert NAMES[hospital] in text
        for other, name in NAMES.items():
            if other != hospital:
                assert other not in text and name not in text, (message["To"], other)


def test_quiet_hours_hold_the_digests_until_after_them(tmp_path, db_url, servers):
    smtp, hook = servers
    clock = FakeClock(datetime(2026, 3, 10, 15, 0, tzinfo=UTC))  # 22:00 local
    pipeline = make_pipeline(tmp_path, db_url, servers, clock, extra={"quiet_hours": "21:00-07:00"})
    assert not pipeline.alerts_due()
    assert pipeline.run_cycle().alerts is None
    report = pipeline.alerts()  # asked for by hand: still waits
    assert not report.sent and report.quiet_until is not None
    assert len(report.digests) == 5
    assert smtp.box.messages == [] and hook.posts == [] and deliveries(pipeline) == []
    clock.now = datetime(2026, 3, 10, 23, 59, tzinfo=UTC)  # 06:59 local: still quiet
    assert not pipeline.alerts_due()
    clock.now = datetime(2026, 3, 11, 0, 30, tzinfo=UTC)  # 07:30 local
    assert pipeline.alerts_due()
    outcome = pipeline.run_cycle().alerts
    assert outcome is not None and (outcome.sent, outcome.failed) == (5, 0)
    assert len(smtp.box.messages) == 4 and len(hook.posts) == 1
    assert not pipeline.alerts_due()  # nothing changed since


def test_a_refused_delivery_is_retried_and_nothing_is_resent(tmp_path, db_url, servers):
    smtp, hook = servers
    smtp.box.refuse.add(BV01[0])
    hook.statuses += [503, 503]
    pipeline = make_pipeline(tmp_path, db_url, servers)
    first = pipeline.alerts()
    assert sorted(d.digest.recipient for d in first.failed) == sorted([BV01[0], "space"])
    assert sorted(smtp.box.recipients()) == sorted([BV01[1], *BV02, OPS])
    (ops,) = smtp.box.to(OPS)
    ops_body = ops.get_body(("plain",)).get_content()
    assert f"thư tới {BV01[0]}: refused: 550 5.1.1 mailbox unavailable (2 cảnh báo)" in ops_body
    assert "Google Chat: Google Chat webhook: 127.0.0.1 answered HTTP 503" in ops_body
    failing = failing_deliveries(pipeline.engine)
    assert sorted({(s.channel, s.recipient) for s in failing}) == [
        (Channel.EMAIL, BV01[0]),
        (Channel.GOOGLE_CHAT, "space"),
    ]
    report = status_report(pipeline.settings, pipeline.engine, now=MORNING)
    assert [f["recipient"] for f in report["alerts"]["failing"]] == [BV01[0], "space"]
    assert report["alerts"]["last_run"]["outcome"] == "failed"
    text = render_status(report, now=MORNING)
    assert f"NOT DELIVERED to {BV01[0]}: 2 alert(s), 1 attempt(s)" in text
    assert "NOT DELIVERED to Google Chat space: 4 alert(s)" in text
    assert pipeline.alerts_due()  # the failures are retried on the next run

    second = pipeline.alerts()  # still refused: retried, and ops are not told again
    assert len(second.failed) == 2 and len(smtp.box.messages) == 3
    assert max(s.attempts for s in failing_deliveries(pipeline.engine)) == 2

    smtp.box.refuse.clear()
    third = pipeline.alerts()
    assert not third.failed and [d.digest.recipient for d in third.delivered] == [
        BV01[0],
        "space",
    ]
    assert sorted(smtp.box.recipients()) == sorted([*BV01, *BV02, OPS])  # one mail each
    assert len(hook.posts) == 1
    assert failing_deliveries(pipeline.engine) == []
    assert pipeline.alerts().digests == ()  # and nothing after success


def test_a_source_failure_goes_to_ops_and_chat_only(tmp_path, db_url, servers):
    smtp, hook = servers
    pipeline = make_pipeline(tmp_path, db_url, servers)
    pipeline.alerts()
    before = len(smtp.box.messages)
    (tmp_path / "source.xlsx").rename(tmp_path / "moved.xlsx")
    assert pipeline.sync(force=True).failed_sources == ("demo",)
    report = pipeline.alerts()
    assert [a.event for a in report.alerts if a.hospital_id is None] == [AlertEvent.SOURCE_FAILED]
    assert [m["To"] for m in smtp.box.messages[before:]] == [OPS]
    assert (
        "Nguồn demo không đồng bộ được" in smtp.box.messages[-1].get_body(("plain",)).get_content()
    )
    assert "Nguồn demo không đồng bộ được" in hook.texts[-1]
    # the failure streak is one event, however many syncs fail
    assert pipeline.sync(force=True).failed_sources == ("demo",)
    assert pipeline.alerts().digests == ()


def test_english_digests_follow_the_dashboard_language(tmp_path, db_url, servers):
    smtp, _ = servers
    make_pipeline(tmp_path, db_url, servers, language="en").alerts()
    (mail,) = smtp.box.to(BV02[0])
    assert mail["Subject"] == f"[hqsync] {NAMES['BV02']}: 1 alert(s)"
    body = mail.get_body(("plain",)).get_content()
    assert "TT 35/2024: the council assessment of 2026-03-02 fails the basic standards" in body


def test_alerts_never_fail_the_cycle(tmp_path, db_url):
    province().write(tmp_path / "source.xlsx")
    closed = f"http://127.0.0.1:{free_port()}/v1/spaces/A/messages?key=k&token=t"
    settings = alert_settings(tmp_path, db_url, smtp_port=free_port(), webhook=closed, google=False)
    pipeline = Pipeline(settings, open_store(db_url), clock=FakeClock(MORNING))
    result = pipeline.run_cycle()  # the mail server is down, Chat unreachable
    assert not result.failed and result.scored and result.published
    assert result.alerts is not None and (result.alerts.sent, result.alerts.failed) == (0, 5)
    errors = {s.error or "" for s in failing_deliveries(pipeline.engine)}
    assert any(e.startswith("cannot reach the mail server 127.0.0.1:") for e in errors)
    assert "Google Chat webhook: cannot connect to 127.0.0.1" in errors
