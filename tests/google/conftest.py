"""Fixtures of the Google tests: a fake Google reachable through `responses`, and a key for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from hqsync.config.settings import GoogleSettings
from tests.fake_google import FakeGoogle, google_settings, mocked, service_account_key

READER = "hqsync-reader@hqsync-test.iam.gserviceaccount.com"
WRITER = "hqsync-writer@hqsync-test.iam.gserviceaccount.com"


class Sleeps(list[float]):
    """A `sleep` that records how long it was asked to wait instead of waiting."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def fake() -> Iterator[FakeGoogle]:
    """A fake Google; every request to its endpoints goes to it, any other URL fails."""
    google = FakeGoogle()
    with mocked(google):
        yield google


@pytest.fixture
def key_path(fake: FakeGoogle, tmp_path: Path) -> Path:
    """A service-account key (for READER) whose token_uri is the fake's token endpoint."""
    return service_account_key(fake, tmp_path / "reader-key.json", READER)


@pytest.fixture
def settings(fake: FakeGoogle, key_path: Path) -> GoogleSettings:
    """GoogleSettings pointing every endpoint at the fake."""
    return google_settings(fake, key_path)


@pytest.fixture
def sleeps() -> Sleeps:
    """Records backoff waits."""
    return Sleeps()
