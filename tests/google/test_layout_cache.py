"""A write from the layout the last write left: one request, the same result as a write after a
layout read, and a read and a second write when a leader changed the spreadsheet since."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from hqsync.config.errors import GoogleError
from hqsync.config.settings import GoogleSettings
from hqsync.sync.dashboard import Dashboard
from hqsync.sync.google import GoogleDashboardWriter, open_google_writer
from hqsync.sync.google.layout import load_layout
from hqsync.sync.interfaces import LayoutKeeper
from tests.fake_google import FakeGoogle
from tests.google.test_staged_publish import TINY, big, new_target
from tests.google.test_writer import dashboard, state

GET, BATCH = "spreadsheets.get", "spreadsheets.batchUpdate"


def _writer(
    settings: GoogleSettings, sid: str, layout: str | None, **kw: int
) -> GoogleDashboardWriter:
    writer = open_google_writer(settings, sid, **kw)
    writer.known_layout = layout
    return writer


def _fresh_twin(fake: FakeGoogle, settings: GoogleSettings, *dashboards: Dashboard) -> str:
    """A new spreadsheet that got `dashboards` in turn, each after a layout read."""
    sid = new_target(fake)
    for each in dashboards:
        open_google_writer(settings, sid).publish(each)
    return sid


def test_the_writer_keeps_layouts(settings: GoogleSettings, fake: FakeGoogle) -> None:
    writer = open_google_writer(settings, new_target(fake))
    assert isinstance(writer, LayoutKeeper)
    assert writer.layout is None


@pytest.mark.parametrize("staged", [False, True], ids=["one-body", "staged"])
def test_a_write_from_the_known_layout_skips_the_read_and_ends_like_a_fresh_one(
    fake: FakeGoogle, settings: GoogleSettings, staged: bool
) -> None:
    limit = {"max_body_bytes": TINY} if staged else {}
    first, second = (big(), big(hospitals=30, shift=2)) if staged else (dashboard(5), dashboard(2))
    sid = new_target(fake)
    writer = _writer(settings, sid, None, **limit)
    writer.publish(first)
    layout = writer.layout
    assert load_layout(layout) is not None
    fake.reset_log()

    again = _writer(settings, sid, layout, **limit)
    again.publish(second)

    assert fake.count(GET) == 0 and fake.count(BATCH) >= 1
    assert (fake.count(BATCH) == 1) is not staged
    assert state(fake, sid) == state(fake, _fresh_twin(fake, settings, first, second))
    # the layout it leaves is the one a read would give: the next write needs no read either
    fake.reset_log()
    _writer(settings, sid, again.layout, **limit).publish(first)
    assert fake.count(GET) == 0
    assert state(fake, sid) == state(fake, _fresh_twin(fake, settings, first, second, first))


def _delete_tab(fake: FakeGoogle, sid: str) -> None:
    book = fake.spreadsheets[sid]
    book.sheets.remove(fake.sheet(sid, "Xu hướng"))
    book.reindex()


def _delete_chart(fake: FakeGoogle, sid: str) -> None:
    fake.sheet(sid, "Xu hướng").charts.clear()


def _delete_colour_rules(fake: FakeGoogle, sid: str) -> None:
    for sheet in fake.spreadsheets[sid].sheets:
        sheet.conditional_formats.clear()


@pytest.mark.parametrize(
    "change", [_delete_tab, _delete_chart, _delete_colour_rules], ids=["tab", "chart", "rules"]
)
def test_a_layout_changed_since_is_read_and_the_dashboard_written_again(
    fake: FakeGoogle, settings: GoogleSettings, change: Callable[[FakeGoogle, str], None]
) -> None:
    sid = new_target(fake)
    writer = _writer(settings, sid, None)
    writer.publish(big())
    change(fake, sid)  # a leader, between two publishes
    fake.reset_log()

    again = _writer(settings, sid, writer.layout)
    again.publish(big(hospitals=30, shift=1))

    refused = [r for r in fake.requests(BATCH) if r.status == 400]
    assert len(refused) == 1  # the write from the stale layout changed nothing
    assert [r.kind for r in fake.requests() if r.status == 200] == [GET, BATCH]
    assert state(fake, sid) == state(fake, _fresh_twin(fake, settings, big(hospitals=30, shift=1)))
    assert load_layout(again.layout) is not None


def test_a_tab_a_leader_added_is_left_alone_without_a_read(
    fake: FakeGoogle, settings: GoogleSettings
) -> None:
    sid = new_target(fake)
    writer = _writer(settings, sid, None)
    writer.publish(dashboard(3))
    fake.add_tab(sid, "Ghi chú 2", [["mine"]])
    fake.reset_log()
    _writer(settings, sid, writer.layout).publish(dashboard(4))
    assert [r.kind for r in fake.requests()] == [BATCH]
    assert fake.sheet_values(sid, "Ghi chú 2") == [["mine"]]
    assert len(fake.sheet_values(sid, "Tổng hợp")) == 5


def test_a_refusal_after_a_layout_read_fails_and_leaves_no_layout(
    fake: FakeGoogle, settings: GoogleSettings
) -> None:
    sid = new_target(fake)
    writer = _writer(settings, sid, None)
    writer.publish(dashboard(3))
    _delete_tab(fake, sid)
    fake.reset_log()
    fake.fail_next(400, 2, path_contains=":batchUpdate")
    again = _writer(settings, sid, writer.layout)
    with pytest.raises(GoogleError, match=sid):
        again.publish(dashboard(4))
    assert [r.kind for r in fake.requests()] == [BATCH, GET, BATCH]
    assert again.layout is None


@pytest.mark.parametrize("text", ["", "not json", "{}", '[{"properties": {"title": 1}}]'])
def test_an_unusable_layout_is_read_instead(
    fake: FakeGoogle, settings: GoogleSettings, text: str
) -> None:
    sid = new_target(fake)
    fake.reset_log()
    _writer(settings, sid, text).publish(dashboard(2))
    assert [r.kind for r in fake.requests()] == [GET, BATCH]


def test_a_write_killed_half_way_leaves_no_layout_to_trust(
    fake: FakeGoogle, settings: GoogleSettings, tmp_path
) -> None:
    from datetime import UTC, datetime

    from hqsync.config.vocabulary import Backend
    from hqsync.jobs.publish import DashboardTarget, publish_targets
    from hqsync.models.fingerprints import read_fingerprints
    from hqsync.models.store import open_store

    engine = open_store(f"sqlite:///{tmp_path / 'store.db'}")
    sid = new_target(fake)
    target = DashboardTarget(sid, "BV01")

    class Killed(GoogleDashboardWriter):
        def publish(self, dashboard: Dashboard) -> None:
            super().publish(Dashboard(dashboard.tables[:1]))  # a part of it, then a kill
            raise KeyboardInterrupt

    def publish(rows: int, writer: type[GoogleDashboardWriter] = GoogleDashboardWriter) -> None:
        client = open_google_writer(settings, sid).client
        publish_targets(
            engine,
            [(target, lambda: dashboard(rows))],
            lambda t: writer(client, t.target),
            backend=Backend.GOOGLE,
            clock=lambda: datetime.now(UTC),
        )

    try:
        publish(2)
        assert read_fingerprints(engine)[sid].layout is not None
        with pytest.raises(KeyboardInterrupt):
            publish(3, Killed)
        assert read_fingerprints(engine)[sid].layout is None
        fake.reset_log()
        publish(4)
        assert [r.kind for r in fake.requests()] == [GET, BATCH]
        assert read_fingerprints(engine)[sid].layout is not None
    finally:
        engine.dispose()
