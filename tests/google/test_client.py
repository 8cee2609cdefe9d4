"""The Google HTTP layer: credentials, endpoints, timeouts, retries, rate limit, clean errors."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import google.auth
import pytest
from google.oauth2 import service_account
from hypothesis import given
from hypothesis import strategies as st

from hqsync.config.errors import ConfigError, GoogleError
from hqsync.config.settings import GoogleSettings
from hqsync.sync.dashboard import Column, Dashboard, Table
from hqsync.sync.google import (
    READ_SCOPES,
    WRITE_SCOPES,
    GoogleClient,
    RateLimiter,
    RetryPolicy,
    open_google_reader,
    open_google_writer,
    shared_limiter,
)
from tests.fake_google import FakeGoogle, google_settings, service_account_key, serving
from tests.google.conftest import READER, Sleeps

TABS = {"Hospitals": [["hospital_id", "name"], ["H01", "Bệnh viện Đa khoa"]]}


def _source(fake: FakeGoogle) -> str:
    return fake.create_spreadsheet("source", TABS, shared_with={READER: "reader"})


@pytest.mark.parametrize("outcome", [429, 500, 502, 503, 504, "drop", "timeout"])
def test_transient_failures_are_retried_with_growing_waits(
    fake: FakeGoogle, settings: GoogleSettings, sleeps: Sleeps, outcome: int | str
) -> None:
    sid = _source(fake)
    reader = open_google_reader(settings, sid, sleep=sleeps, rand=lambda: 1.0)
    fake.fail_next(outcome, 3, path_contains="values:batchGet")

    snapshot = reader.read(["Hospitals"])

    assert tuple(snapshot.tabs["Hospitals"].rows[1]) == ("H01", "Bệnh viện Đa khoa")
    assert sleeps == [1.0, 2.0, 4.0]
    assert reader.requests_made == 1 + 4  # metadata, then three failures and the success
    assert fake.count("values.batchGet") == 4


def test_backoff_is_capped_and_a_run_that_keeps_failing_ends_with_a_clear_error(
    fake: FakeGoogle, settings: GoogleSettings, sleeps: Sleeps
) -> None:
    sid = _source(fake)
    policy = RetryPolicy(attempts=8, base_s=1.0, cap_s=5.0)
    reader = open_google_reader(settings, sid, sleep=sleeps, rand=lambda: 1.0, retry=policy)
    fake.fail_next(503, 100)

    with pytest.raises(GoogleError) as error:
        reader.change_marker()

    assert fake.count("drive.files.get") == 8
    assert sleeps == [1.0, 2.0, 4.0, 5.0, 5.0, 5.0, 5.0]
    message = str(error.value)
    assert sid in message and READER in message and "503" in message and "8 attempts" in message


@given(attempt=st.integers(1, 40), rand=st.floats(0, 1))
def test_backoff_delay_stays_between_half_and_full_capped_doubling(
    attempt: int, rand: float
) -> None:
    policy = RetryPolicy(attempts=50, base_s=0.5, cap_s=30.0)
    ceiling = min(30.0, 0.5 * 2 ** (attempt - 1))
    assert ceiling / 2 <= policy.delay(attempt, lambda: rand) <= ceiling


def test_dropped_connections_that_persist_fail_cleanly(
    fake: FakeGoogle, settings: GoogleSettings, sleeps: Sleeps
) -> None:
    sid = _source(fake)
    reader = open_google_reader(settings, sid, sleep=sleeps, retry=RetryPolicy(attempts=3))
    fake.fail_next("drop", 10)
    with pytest.raises(GoogleError, match=r"could not reach Google .* ConnectionError"):
        reader.change_marker()
    assert len(sleeps) == 2


@pytest.mark.parametrize("call", ["change_marker", "read"])
def test_a_sheet_not_shared_fails_at_once_naming_the_sheet_and_the_account(
    fake: FakeGoogle, settings: GoogleSettings, sleeps: Sleeps, call: str
) -> None:
    sid = fake.create_spreadsheet("private", TABS, shared_with={"someone@example.org": "writer"})
    reader = open_google_reader(settings, sid, sleep=sleeps)

    with pytest.raises(GoogleError) as error:
        reader.change_marker() if call == "change_marker" else reader.read(["Hospitals"])

    message = str(error.value)
    assert sid in message and READER in message and "Share" in message
    assert sleeps == [] and reader.requests_made == 1


def test_a_permanent_403_is_not_retried(
    fake: FakeGoogle, settings: GoogleSettings, sleeps: Sleeps
) -> None:
    sid = _source(fake)
    reader = open_google_reader(settings, sid, sleep=sleeps)
    fake.fail_next(403, 100)
    with pytest.raises(GoogleError, match=rf"{sid}.*{READER}"):
        reader.read(["Hospitals"])
    assert sleeps == [] and fake.count() == 1


def test_every_request_goes_to_the_configured_endpoints_and_the_keys_token_uri(
    fake: FakeGoogle, settings: GoogleSettings
) -> None:
    # Only the fake's hosts are reachable (responses refuses anything else, googleapis.com
    # included), so a successful read proves the rewrite and the key's own token_uri.
    sid = _source(fake)
    reader = open_google_reader(settings, sid)
    reader.change_marker()
    reader.read(["Hospitals"])
    assert fake.count("oauth.token") == 1
    assert [r.kind for r in fake.requests()] == [
        "drive.files.get",
        "spreadsheets.get",
        "values.batchGet",
    ]


def test_endpoints_with_a_path_prefix_are_honoured(settings: GoogleSettings) -> None:
    custom = GoogleSettings(
        credentials=settings.credentials,
        sheets_endpoint="http://proxy.local:8080/sheets",
        drive_endpoint="http://proxy.local:8080/drive",
    )
    client = GoogleClient.from_settings(custom, READ_SCOPES)
    rewrite = client.session.rewrite
    assert rewrite("https://sheets.googleapis.com/v4/spreadsheets/x") == (
        "http://proxy.local:8080/sheets/v4/spreadsheets/x"
    )
    assert rewrite("https://www.googleapis.com/drive/v3/files/x") == (
        "http://proxy.local:8080/drive/drive/v3/files/x"
    )
    assert rewrite("https://oauth2.googleapis.com/token") == "https://oauth2.googleapis.com/token"


def test_sources_get_read_only_scopes_and_only_the_dashboard_may_write(
    fake: FakeGoogle, settings: GoogleSettings
) -> None:
    sid = fake.create_spreadsheet("both", TABS)
    open_google_reader(settings, sid).read(["Hospitals"])
    reader_scopes = {scopes for _email, scopes in fake.tokens.values()}
    assert reader_scopes == {frozenset(READ_SCOPES)}

    fake.tokens.clear()
    writer = open_google_writer(settings, sid)
    writer.publish(Dashboard((Table("t", "T", (Column("a"),), (("x",),)),)))
    assert {scopes for _e, scopes in fake.tokens.values()} == {frozenset(WRITE_SCOPES)}


def test_a_reader_cannot_write_even_if_asked(fake: FakeGoogle, settings: GoogleSettings) -> None:
    sid = fake.create_spreadsheet("src", TABS)
    reader = open_google_reader(settings, sid)
    with pytest.raises(GoogleError, match="scope"):
        reader.client.call(
            sid, "writing", lambda: reader.client.http.batch_update(sid, {"requests": []})
        )


def test_unknown_key_is_reported_as_rejected_credentials(
    fake: FakeGoogle, tmp_path: Path, sleeps: Sleeps
) -> None:
    key = service_account_key(
        fake, tmp_path / "k.json", "revoked@hqsync-test.iam.gserviceaccount.com"
    )
    fake.accounts.clear()  # the key was deleted in the Cloud console
    sid = _source(fake)
    reader = open_google_reader(google_settings(fake, key), sid, sleep=sleeps)
    with pytest.raises(GoogleError, match="rejected the credentials of revoked@"):
        reader.change_marker()


@pytest.mark.parametrize(
    ("content", "match"),
    [
        (None, "not found"),
        ("{not json", "not a readable JSON key"),
        (json.dumps({"type": "authorized_user"}), "not a service-account key"),
        (json.dumps({"type": "service_account"}), "missing a field"),
    ],
)
def test_bad_key_files_are_config_errors(tmp_path: Path, content: str | None, match: str) -> None:
    path = tmp_path / "key.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=match) as error:
        GoogleClient.from_settings(GoogleSettings(credentials=str(path)), READ_SCOPES)
    assert "google.credentials" in str(error.value)


def test_missing_credentials_setting_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=r"google\.credentials is not set"):
        GoogleClient.from_settings(GoogleSettings(), READ_SCOPES)


def test_application_default_credentials(
    fake: FakeGoogle, key_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[object] = []

    def default(scopes: object = None, **_kw: object) -> tuple[object, str]:
        asked.append(scopes)
        creds = service_account.Credentials.from_service_account_file(str(key_path), scopes=scopes)
        return creds, "hqsync-test"

    monkeypatch.setattr(google.auth, "default", default)
    sid = _source(fake)
    reader = open_google_reader(replace(google_settings(fake, key_path), credentials="adc"), sid)
    assert reader.change_marker() == fake.modified_time(sid)
    assert asked == [list(READ_SCOPES)]
    assert reader.client.account == READER


def test_no_application_default_credentials_is_a_config_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def missing(**_kw: object) -> None:
        raise google.auth.exceptions.DefaultCredentialsError("nothing found")

    monkeypatch.setattr(google.auth, "default", missing)
    with pytest.raises(ConfigError, match="application default credentials"):
        GoogleClient.from_settings(GoogleSettings(credentials="adc"), READ_SCOPES)


class FakeClock:
    """A clock that only moves when the code under test sleeps."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def test_rate_limiter_waits_for_the_window_to_move() -> None:
    clock = FakeClock()
    limiter = RateLimiter(3, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        assert limiter.acquire() == 0
    clock.now += 10
    assert limiter.acquire() == pytest.approx(50.0)
    assert clock.now == pytest.approx(1060.0)


@given(gaps=st.lists(st.floats(0, 30), min_size=1, max_size=60), limit=st.integers(1, 10))
def test_rate_limiter_never_lets_more_than_the_limit_into_any_minute(
    gaps: list[float], limit: int
) -> None:
    clock = FakeClock()
    limiter = RateLimiter(limit, clock=clock, sleep=clock.sleep)
    starts = []
    for gap in gaps:
        clock.now += gap
        limiter.acquire()
        starts.append(clock.now)
    for i, start in enumerate(starts):
        assert sum(1 for s in starts[i:] if s - start < 60.0 - 1e-6) <= limit


def test_clients_of_one_credential_share_a_limiter(settings: GoogleSettings) -> None:
    assert shared_limiter("key-a", 60) is shared_limiter("key-a", 60)
    assert shared_limiter("key-a", 60) is not shared_limiter("key-b", 60)
    first = GoogleClient.from_settings(settings, READ_SCOPES)
    second = GoogleClient.from_settings(settings, WRITE_SCOPES)
    assert first.session.limiter is second.session.limiter


def test_requests_over_the_rate_wait_instead_of_failing(
    fake: FakeGoogle, settings: GoogleSettings
) -> None:
    sid = _source(fake)
    clock = FakeClock()
    limiter = RateLimiter(2, clock=clock, sleep=clock.sleep)
    reader = open_google_reader(settings, sid, limiter=limiter)
    reader.change_marker()
    reader.read(["Hospitals"])
    reader.change_marker()
    assert fake.count() == 4
    assert sum(clock.slept) == pytest.approx(60.0)


@pytest.mark.slow
def test_a_stalled_request_times_out_and_is_retried_over_real_http(tmp_path: Path) -> None:
    fake = FakeGoogle()
    with serving(fake):
        key = service_account_key(fake, tmp_path / "key.json", READER)
        sid = _source(fake)
        sleeps = Sleeps()
        reader = open_google_reader(google_settings(fake, key, timeout_s=0.3), sid, sleep=sleeps)
        fake.fail_next("timeout", 1, path_contains="/drive/")
        fake.fail_next("drop", 1, path_contains="/drive/")
        assert reader.change_marker() == fake.modified_time(sid)
        assert len(sleeps) == 2
        assert fake.count("drive.files.get") == 3


@pytest.mark.parametrize("fmt", ["human", "json"])
def test_debug_logs_hold_no_tokens_or_keys(
    fake: FakeGoogle, settings: GoogleSettings, key_path: Path, sleeps: Sleeps, fmt: str
) -> None:
    import io
    import logging

    from hqsync.jobs.logs import configure_logging

    stream = io.StringIO()
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)
    configure_logging(fmt, logging.DEBUG, stream)
    try:
        sid = _source(fake)
        fake.fail_next(503, 1)
        reader = open_google_reader(settings, sid, sleep=sleeps)
        reader.change_marker()
        reader.read(["Hospitals"])
    finally:
        root.handlers[:], root.level = saved[0], saved[1]
    text = stream.getvalue()
    assert "retrying" in text  # the logs did capture the Google traffic
    tokens = list(fake.tokens)
    assert tokens and not any(token in text for token in tokens)
    private_key = json.loads(key_path.read_text())["private_key"]
    assert "PRIVATE KEY" not in text and private_key[40:80] not in text


@pytest.mark.parametrize("api", ["sheets", "drive"])
def test_a_disabled_api_says_to_enable_it_not_to_share(
    fake: FakeGoogle, settings: GoogleSettings, sleeps: Sleeps, api: str
) -> None:
    sid = _source(fake)
    fake.disabled_apis.add(api)
    reader = open_google_reader(settings, sid, sleep=sleeps)
    with pytest.raises(GoogleError) as error:
        reader.change_marker()
        reader.read(["Hospitals"])
    message = str(error.value)
    assert "enable the Google Sheets API and the Google Drive API" in message
    assert "Share" not in message and sleeps == []
