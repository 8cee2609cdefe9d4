"""The Google part of the fault suite: every fault on every request type (see run_faults)."""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tests.faults.run_faults import Suite

TRANSIENT = (429, 500, 502, 503, 504, "timeout", "drop")
PERMANENT = (501, 400, "malformed", "misshaped", "partial")
REQUESTS = {
    "drive.files.get": ("GET", "/drive/v3/files/"),
    "spreadsheets.get": ("GET", "/spreadsheets/SID?"),
    "values.batchGet": ("GET", "values:batchGet"),
    "spreadsheets.batchUpdate": ("POST", ":batchUpdate"),
    "oauth.token": ("POST", "/token"),
}
MAX_REQUESTS = 14
"""A read with one fault and its retries, or a publish re-read after a lost answer."""


def google_faults(suite: Suite) -> None:
    """Every fault on every request type: the right outcome, and a bounded request count."""
    wrong = suite.row("google", "Google faults: wrong outcomes")
    unbounded = suite.row("google", f"Google faults: operations over {MAX_REQUESTS} requests")
    for kind, (method, needle) in REQUESTS.items():
        for fault in (*TRANSIENT, *PERMANENT):
            outcome, requests, of_kind, text = _google_trial(kind, method, needle, fault)
            suite.seen.append(text)
            permanent = fault in PERMANENT and kind != "oauth.token"
            expected = {"GoogleError"} if permanent else {"ok"}
            if kind == "oauth.token" or (kind == "drive.files.get" and fault == "partial"):
                expected = {"ok", "GoogleError"}  # google-auth's own retries; a missing field
            # A final answer is never asked again; a transient one is, once (or the lost write
            # is published once more after reading the layout again).
            sent = {1} if permanent else {1, 2, 3}
            if outcome not in expected or (kind != "oauth.token" and of_kind not in sent):
                wrong.bad += 1
                wrong.notes.append(f"{kind} {fault}: {outcome}, {of_kind} sent {text[:100]}")
            unbounded.bad += requests > MAX_REQUESTS
            wrong.trials += 1
            unbounded.trials += 1


def _google_trial(
    kind: str, method: str, needle: str, fault: int | str
) -> tuple[str, int, int, str]:
    from hqsync.config.errors import GoogleError
    from hqsync.sync.dashboard.document import Column, Dashboard, Table
    from hqsync.sync.google import open_google_reader, open_google_writer
    from hqsync.sync.google.client import RetryPolicy
    from tests.fake_google import FakeGoogle, google_settings, mocked, service_account_key

    fake = FakeGoogle()
    account = "faults@hqsync-test.iam.gserviceaccount.com"
    with mocked(fake), tempfile.TemporaryDirectory() as folder:
        key = service_account_key(fake, Path(folder) / "key.json", account)
        sid = fake.create_spreadsheet("s", {"T": [["a", "b"], ["1", "2"]]})
        fake.share(sid, account, "writer")
        settings = google_settings(fake, key, timeout_s=0.5)
        fake.fail_next(fault, method=method, path_contains=needle.replace("SID", sid))
        kw = {"retry": RetryPolicy(attempts=4, base_s=0.0, cap_s=0.0), "sleep": lambda s: None}
        try:
            if kind == "spreadsheets.batchUpdate":
                table = Table("t", "T2", (Column("a"),), (("=1+1",),))
                open_google_writer(settings, sid, **kw).publish(Dashboard((table,)))
            else:
                reader = open_google_reader(settings, sid, **kw)
                reader.change_marker()
                reader.read(["T"])
            outcome, text = "ok", ""
        except GoogleError as exc:
            outcome, text = "GoogleError", str(exc)
        except Exception as exc:  # the wrong outcome: counted, not raised
            outcome, text = type(exc).__name__, str(exc)
        return outcome, fake.count(), fake.count(kind), text
