"""The exception tree: one base, grouped by what failed; each message says what to do.

    HqsyncError
    ├── ConfigError            the config file, environment or a rule set file (exit 2)
    │   └── RuleSetError
    ├── SourceError            one source as a whole (missing tab or columns, unreadable file)
    ├── StoreError             the SQL store
    │   ├── StoreBusyError     another process writes (exit 75)
    │   └── StaleMemoError
    ├── GoogleError            Google refused or kept failing a request
    └── DashboardError         a dashboard could not be built or written

A row's problem is never an exception: it becomes a rejection of that row (see `sync.ingest`).
"""

from __future__ import annotations


class HqsyncError(Exception):
    """Base of every error hqsync raises on purpose; its message is meant for a person."""

    exit_code = 1


class ConfigError(HqsyncError):
    """The configuration file or environment is invalid; the message names the key."""

    exit_code = 2


class RuleSetError(ConfigError):
    """A rule set file is malformed; the message names the file and the field."""


class SourceError(HqsyncError):
    """One source could not be used as a whole (missing tab, missing or colliding columns)."""


class StoreError(HqsyncError):
    """The SQL store is unreachable or inconsistent."""


class StoreBusyError(StoreError):
    """Another process is writing to the store and this one was asked not to wait."""

    exit_code = 75  # EX_TEMPFAIL: try again later


class StaleMemoError(StoreError):
    """A source's memo no longer describes its stored rows; sync it again without the memo."""


class GoogleError(HqsyncError):
    """Google refused or kept failing a request; the message names the spreadsheet and account."""


class DashboardError(HqsyncError):
    """A dashboard could not be built or written; the message names the target."""
