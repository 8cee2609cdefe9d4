"""`hqsync check` and `hqsync init-source` as real subprocesses against the fake over HTTP."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.fake_google import FakeGoogle, service_account_key, serving
from tests.google.conftest import READER

pytestmark = pytest.mark.slow


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[FakeGoogle, Path]]:
    fake = FakeGoogle()
    with serving(fake) as base:
        key = service_account_key(fake, tmp_path / "service-account.json", READER)
        source = fake.create_spreadsheet("AppSheet", {"Sheet1": []}, shared_with={READER: "writer"})
        dashboard = fake.create_spreadsheet("Dashboard", shared_with={READER: "reader"})
        config = tmp_path / "hqsync.toml"
        config.write_text(
            f"""
[database]
url = "sqlite:///{tmp_path / "store.db"}"

[google]
credentials = "{key.name}"
sheets_endpoint = "{base}"
drive_endpoint = "{base}"
timeout_s = 10

[[sources]]
name = "cantho"
backend = "google"
spreadsheet = "https://docs.google.com/spreadsheets/d/{source}/edit#gid=0"

[dashboard]
backend = "google"
spreadsheet = "{dashboard}"
""",
            encoding="utf-8",
        )
        yield fake, config


def hqsync(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hqsync.jobs.cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_init_source_then_check_over_real_http(served: tuple[FakeGoogle, Path]) -> None:
    fake, config = served
    before = hqsync("check", "--config", str(config))
    assert before.returncode == 1
    assert "tab 'Hospitals' not found; the spreadsheet has: 'Sheet1'" in before.stdout
    assert f"make {READER} an Editor" in before.stdout

    created = hqsync("init-source", "--config", str(config), "--language", "vi")
    assert created.returncode == 0, created.stderr
    assert "Hospitals" in created.stdout

    after = hqsync("check", "--config", str(config))
    assert "hospitals tab 'Hospitals': 0 row(s); columns hospital_id, name" in after.stdout
    assert after.returncode == 1  # the dashboard is still view-only
    assert fake.count("oauth.token") >= 3
