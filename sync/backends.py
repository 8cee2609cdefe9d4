"""Choosing a backend: the reader for a source and the writer for the dashboard, by config.

Each backend is imported when chosen (openpyxl and the Google client are heavy imports)."""

from __future__ import annotations

from hqsync.config.settings import Settings, SourceSettings
from hqsync.config.vocabulary import Backend
from hqsync.sync.interfaces import DashboardWriter, SourceReader


def open_source_reader(settings: Settings, source: SourceSettings) -> SourceReader:
    """A reader for `source`: a local workbook, or a Google spreadsheet with read-only scopes."""
    if source.backend == Backend.XLSX:
        from hqsync.sync.xlsx import XlsxSourceReader

        return XlsxSourceReader(source.spreadsheet)
    from hqsync.sync.google import open_google_reader

    return open_google_reader(settings.google, source.spreadsheet)


def open_dashboard_writer(settings: Settings) -> DashboardWriter:
    """A writer for the configured dashboard (local workbook or Google spreadsheet)."""
    if settings.dashboard.backend == Backend.XLSX:
        from hqsync.sync.xlsx import XlsxDashboardWriter

        return XlsxDashboardWriter(settings.dashboard.spreadsheet)
    from hqsync.sync.google import open_google_writer

    return open_google_writer(settings.google, settings.dashboard.spreadsheet)
