"""A fake Google Sheets v4 / Drive v3 / OAuth API for the tests (see `api.FakeGoogle`)."""

from tests.fake_google.api import FakeGoogle, LoggedRequest, apply_mask, google_error
from tests.fake_google.transport import google_settings, mocked, service_account_key, serving

__all__ = [
    "FakeGoogle",
    "LoggedRequest",
    "apply_mask",
    "google_error",
    "google_settings",
    "mocked",
    "service_account_key",
    "serving",
]
