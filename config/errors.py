"""The exception hierarchy: one base, specific subclasses whose messages say what to do."""

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


class BackendError(HqsyncError):
    """A spreadsheet backend (Google or xlsx) failed to read or write."""


class GoogleAccessError(BackendError):
    """Google refused or kept failing a request; the message names the spreadsheet and account."""


class StoreError(HqsyncError):
    """The SQL store is unreachable or inconsistent."""


class StaleMemoError(StoreError):
    """A source's memo no longer describes its stored rows; sync it again without the memo."""


class NotLeaderError(HqsyncError):
    """Another hqsync process holds the lease; this one must not run jobs now."""
