"""Retry-After (issue 13): the client waits at least as long as Google asks on a 429 or 503,
gives up at once when asked to wait longer than it would, and never retries a final answer,
whatever header it carries. The sleep is injected: nothing here really waits."""

from __future__ import annotations

import time
from email.utils import formatdate
from pathlib import Path

import pytest

from hqsync.config.errors import GoogleError
from hqsync.config.settings import GoogleSettings
from hqsync.sync.dashboard import Column, Dashboard, Table
from hqsync.sync.google import RetryPolicy, open_google_reader, open_google_writer
from tests.fake_google import FakeGoogle, google_settings, service_account_key, serving
from tests.google.conftest import READER, Sleeps

TABS = {"Hospitals": [["hospital_id", "name"], ["H01", "Bệnh viện Đa khoa"]]}
BATCH_GET = "values:batchGet"


def _source(fake: FakeGoogle) -> str:
    return fake.create_spreadsheet("source", TABS, shared_with={READER: "reader"})


@pytest.mark.parametrize("status", [429, 503])
def test_a_transient_answer_with_retry_after_is_retried_after_at_least_that_long(
    fake: FakeGoogle, settings: GoogleSettings, sleeps: Sleeps, status: int
) -> None:
    sid = _source(fake)
    reader = open_google_reader(settings, sid, sleep=sleeps, rand=lambda: 1.0)
    fake.fail_next(status, path_contains=BATCH_GET, retry_after=17)

    snapshot = reader.read(["Hospitals"])

    assert tuple(snapshot.tabs["Hospitals"].rows[1]) == ("H01", "Bệnh viện Đa khoa")
    assert sleeps == [17.0]  # not the 1 s of the first backoff step
    assert fake.count("values.batchGet") == 2


def test_the_backoff_wins_when_it_is_longer_than_retry_after(
    fake: FakeGoogle, settings: GoogleSettings, sleeps: Sleeps
) -> None:
    sid = _source(fake)
    reader = open_google_reader(settings, sid, sleep=sleeps, rand=lambda: 1.0)
    fake.fail_next(429, 3, path_contains=BATCH_GET, retry_after=0)
    reader.read(["Hospitals"])
    assert sleeps == [1.0, 2.0, 4.0]


def test_retry_after_as_an_http_date_is_honoured(
    fake: FakeGoogle, settings: GoogleSettings, sleeps: Sleeps
) -> None:
    sid = _source(fake)
    reader = open_google_reader(settings, sid, sleep=sleeps, rand=lambda: 0.0)
    fake.fail_next(
        503, path_contains=BATCH_GET, retry_after=formatdate(time.time() + 90, usegmt=True)
    )
    reader.read(["Hospitals"])
    assert len(sleeps) == 1 and 80 <= sleeps[0] <= 90


def test_a_retry_after_that_is_not_a_time_falls_back_to_the_backoff(
    fake: FakeGoogle, settings: GoogleSettings, sleeps: Sleeps
) -> None:
    sid = _source(fake)
    reader = open_google_reader(settings, sid, sleep=sleeps, rand=lambda: 1.0)
    fake.fail_next(429, path_contains=BATCH_GET, retry_after="soon")
    reader.read(["Hospitals"])
    assert sleeps == [1.0]


def test_a_retry_after_longer_than_the_cap_fails_at_once_saying_so(
    fake: FakeGoogle, settings: GoogleSettings, sleeps: Sleeps
) -> None:
    sid = _source(fake)
    policy = RetryPolicy(retry_after_cap_s=120.0)
    reader = open_google_reader(settings, sid, sleep=sleeps, retry=policy)
    fake.fail_next(429, 10, path_contains=BATCH_GET, retry_after=3600)

    with pytest.raises(GoogleError) as failed:
        reader.read(["Hospitals"])

    assert sleeps == [] and fake.count("values.batchGet") == 1
    text = str(failed.value)
    assert sid in text and "wait 3600s" in text and "again later" in text
    assert "attempts" not in text  # it was asked once, not six times


@pytest.mark.parametrize("status", [501, 400])
def test_a_final_answer_is_never_retried_even_with_retry_after(
    fake: FakeGoogle, settings: GoogleSettings, sleeps: Sleeps, status: int
) -> None:
    sid = _source(fake)
    reader = open_google_reader(settings, sid, sleep=sleeps)
    fake.fail_next(status, 10, path_contains=BATCH_GET, retry_after=1)

    with pytest.raises(GoogleError, match=f"HTTP {status}"):
        reader.read(["Hospitals"])

    assert sleeps == [] and fake.count("values.batchGet") == 1


def test_a_refused_dashboard_write_waits_as_asked_then_is_sent_again(
    fake: FakeGoogle, settings: GoogleSettings, sleeps: Sleeps
) -> None:
    # A 429 means Google did not apply the batch: sending it again is safe.
    target = fake.create_spreadsheet("Dashboard", shared_with={READER: "writer"})
    writer = open_google_writer(settings, target, sleep=sleeps, rand=lambda: 1.0)
    fake.fail_next(429, method="POST", path_contains=":batchUpdate", retry_after=30)

    writer.publish(Dashboard((Table("t", "Tổng hợp", (Column("a"),), (("x",),)),)))

    assert sleeps == [30.0]
    assert fake.count("spreadsheets.batchUpdate") == 2
    assert fake.sheet_values(target, "Tổng hợp") == [["a"], ["x"]]


@pytest.mark.slow
def test_retry_after_reaches_the_client_over_real_http(tmp_path: Path) -> None:
    fake = FakeGoogle()
    with serving(fake):
        key = service_account_key(fake, tmp_path / "key.json", READER)
        sid = _source(fake)
        sleeps = Sleeps()
        reader = open_google_reader(google_settings(fake, key), sid, sleep=sleeps, rand=lambda: 1.0)
        fake.fail_next(503, path_contains="/drive/", retry_after=9)
        assert reader.change_marker() == fake.modified_time(sid)
        assert sleeps == [9.0]


def test_the_fake_refuses_retry_after_on_a_fault_that_is_no_http_answer(fake: FakeGoogle) -> None:
    with pytest.raises(ValueError, match="HTTP status"):
        fake.fail_next("drop", retry_after=5)
