"""due_soon and overdue alerts from the current cycles (the clock injected): each told once,
due soon first and overdue later, only to the hospitals the cycle applies to."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from hqsync.config.vocabulary import AlertEvent, AssessmentKind
from hqsync.jobs.pipeline import Pipeline
from hqsync.models.store import open_store
from tests.alerts.support import LEADERS, NAMES, OPS, alert_settings, province, start_smtp
from tests.daemon.fakes import FakeClock

CYCLES = [
    {"standard": "QD6858", "self_due": "11-30", "council_due": "12-31"},
    {"standard": "TT 35", "self_due": "03-31", "covers": "previous_year"},
]


@pytest.fixture
def smtp():
    server = start_smtp()
    yield server
    server.controller.stop()


def test_due_soon_then_overdue_each_told_once(tmp_path, db_url, smtp):
    province().write(tmp_path / "source.xlsx")
    settings = alert_settings(
        tmp_path,
        db_url,
        smtp_port=smtp.port,
        cycles=CYCLES,
        extra={"events": ["due_soon", "overdue"], "due_soon_days": 30},
    )
    clock = FakeClock(datetime(2026, 3, 10, 3, 0, tzinfo=UTC))  # 10 March, local
    pipeline = Pipeline(settings, open_store(db_url), clock=clock)
    pipeline.sync()
    pipeline.score()

    first = pipeline.alerts()
    # TT 35's self-assessment is due on 31 March (21 days): BV01 submitted one on 1 March;
    # BV02 (only a council one) and BV03 did not; BV04 is inactive. QĐ 6858 is months away.
    assert sorted((a.event, a.hospital_id, a.kind, a.days_left) for a in first.alerts) == [
        (AlertEvent.DUE_SOON, "BV02", AssessmentKind.SELF, 21),
        (AlertEvent.DUE_SOON, "BV03", AssessmentKind.SELF, 21),
    ]
    (mail,) = smtp.box.to(LEADERS["BV02"][0])
    body = mail.get_body(("plain",)).get_content()
    assert "TT 35/2024 năm 2025: tự đánh giá chưa nộp; hạn 31/03/2026, còn 21 ngày." in body
    assert NAMES["BV03"] not in body
    assert sorted(smtp.box.recipients()) == sorted([LEADERS["BV02"][0], OPS])

    clock.now = datetime(2026, 3, 20, 3, 0, tzinfo=UTC)  # still due soon: not told again
    assert pipeline.alerts_due()  # a new day
    assert pipeline.alerts().digests == ()

    clock.now = datetime(2026, 4, 2, 3, 0, tzinfo=UTC)  # two days late
    late = pipeline.alerts()
    assert sorted((a.event, a.hospital_id, a.days_left) for a in late.alerts) == [
        (AlertEvent.OVERDUE, "BV02", -2),
        (AlertEvent.OVERDUE, "BV03", -2),
    ]
    body = smtp.box.to(LEADERS["BV02"][0])[-1].get_body(("plain",)).get_content()
    assert "TT 35/2024 năm 2025: tự đánh giá quá hạn 2 ngày (hạn 31/03/2026)." in body
    assert len(smtp.box.messages) == 4
    assert pipeline.alerts().digests == ()
