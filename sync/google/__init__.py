"""The Google backend: one resilient HTTP layer, the source reader and the dashboard writer.

client.py   GoogleClient (credentials, endpoints, rate limit, retries, GoogleError messages)
reader.py   GoogleSourceReader: a Drive change marker, then typed values of the tabs
writer.py   GoogleDashboardWriter: the dashboard's tabs replaced in one atomic write
render.py   the dashboard as Sheets `batchUpdate` requests, staged when too large (pure)
"""

from __future__ import annotations

from hqsync.sync.google.client import (
    DRIVE_FILES_URL,
    READ_SCOPES,
    SHEETS_URL,
    WRITE_SCOPES,
    GoogleClient,
    RateLimiter,
    RetryPolicy,
    WriteOutcomeUnknown,
    load_credentials,
    shared_limiter,
)
from hqsync.sync.google.reader import (
    GoogleSourceReader,
    decode_batch,
    open_google_reader,
    tab_rows,
)
from hqsync.sync.google.writer import GoogleDashboardWriter, open_google_writer

__all__ = [
    "DRIVE_FILES_URL",
    "READ_SCOPES",
    "SHEETS_URL",
    "WRITE_SCOPES",
    "GoogleClient",
    "GoogleDashboardWriter",
    "GoogleSourceReader",
    "RateLimiter",
    "RetryPolicy",
    "WriteOutcomeUnknown",
    "decode_batch",
    "load_credentials",
    "open_google_reader",
    "open_google_writer",
    "shared_limiter",
    "tab_rows",
]
