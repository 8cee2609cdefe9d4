"""Choosing a backend: the reader for a source and the writers of the dashboards, by config.

Each backend is imported when chosen (openpyxl and the Google client are heavy imports)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from hqsync.config.settings import Settings, SourceSettings
from hqsync.config.vocabulary import Backend
from hqsync.sync.interfaces import DashboardWriter, SourceReader

if TYPE_CHECKING:
    from hqsync.sync.google.client import GoogleClient


def open_source_reader(settings: Settings, source: SourceSettings) -> SourceReader:
    """A reader for `source`: a local workbook, or a Google spreadsheet with read-only scopes."""
    if source.backend == Backend.XLSX:
        from hqsync.sync.xlsx import XlsxSourceReader

        return XlsxSourceReader(source.spreadsheet)
    from hqsync.sync.google import open_google_reader

    return open_google_reader(settings.google, source.spreadsheet)


def open_dashboard_writer(settings: Settings, target: str | None = None) -> DashboardWriter:
    """A writer for the configured dashboard, or for `target` (a hospital's own dashboard:
    a workbook path or a spreadsheet id, on the dashboard's backend)."""
    spreadsheet = target or settings.dashboard.spreadsheet
    if settings.dashboard.backend == Backend.XLSX:
        from hqsync.sync.xlsx import XlsxDashboardWriter

        return XlsxDashboardWriter(spreadsheet)
    from hqsync.sync.google import open_google_writer

    return open_google_writer(settings.google, spreadsheet)


class DashboardWriters:
    """Writers of many dashboard targets in one publish: on Google they share one client, so
    one credential's request budget (its rate limiter) paces every hospital's dashboard."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._client: GoogleClient | None = None

    def writer(self, target: str) -> DashboardWriter:
        """The writer of one target."""
        if self.settings.dashboard.backend == Backend.XLSX:
            from hqsync.sync.xlsx import XlsxDashboardWriter

            return XlsxDashboardWriter(target)
        from hqsync.sync.google.client import WRITE_SCOPES, GoogleClient
        from hqsync.sync.google.writer import GoogleDashboardWriter

        if self._client is None:
            self._client = GoogleClient.from_settings(self.settings.google, WRITE_SCOPES)
        return GoogleDashboardWriter(self._client, target)
