"""The Google source reader: a Drive change marker, then the typed values of the wanted tabs."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from gspread.http_client import ParamsType
from gspread.urls import SPREADSHEET_VALUES_BATCH_URL

from hqsync.config.settings import GoogleSettings
from hqsync.config.utils import paused_gc
from hqsync.sync.google.client import DRIVE_FILES_URL, READ_SCOPES, GoogleClient
from hqsync.sync.google.drive import resolve_drive_links
from hqsync.sync.google.render import quote_tab
from hqsync.sync.interfaces import CellValue, RawTab, SourceSnapshot


def decode_values(content: bytes) -> Any:
    """A `values.batchGet` response body, decoded, with empty cells as None where it can.

    Sheets sends an empty cell as "". Turning `,""` and `[""` into `null` before decoding
    (in C, where they can only be empty array items: a quote inside text is escaped) spares
    creating and then replacing hundreds of thousands of empty strings; `tab_rows` replaces
    whatever is left (a pretty-printed body)."""
    try:
        return json.loads(content.replace(b',""', b",null").replace(b'[""', b"[null"))
    except ValueError:  # an empty object key, which Sheets never sends: decode as it is
        return json.loads(content)


def _row(values: list[Any]) -> list[CellValue]:
    while "" in values:  # a few empty cells per row: replaced in place, in C
        values[values.index("")] = None
    return values


def tab_rows(values: list[list[Any]]) -> tuple[list[CellValue], ...]:
    """The rows of a `values` array as Sheets returns it, as a RawTab holds them: empty cells
    (Google sends "") become None. Sheets sends only text, numbers and booleans as values.

    Takes over `values`: its row lists are edited in place and become the rows (copying
    500k rows into tuples would cost more than decoding them)."""
    return tuple(map(_row, values))


class GoogleSourceReader:
    """Reads one source spreadsheet: a Drive change marker, then typed values of its tabs."""

    def __init__(self, client: GoogleClient, spreadsheet_id: str) -> None:
        self.client = client
        self.spreadsheet_id = spreadsheet_id
        self._marker: str | None = None

    @property
    def requests_made(self) -> int:
        """How many API requests this reader has sent (retries included)."""
        return self.client.requests_made

    def change_marker(self) -> str | None:
        """Drive's modifiedTime of the spreadsheet (one small request)."""

        def fetch() -> Any:
            url = f"{DRIVE_FILES_URL}/{self.spreadsheet_id}"
            params: ParamsType = {"fields": "modifiedTime", "supportsAllDrives": "true"}
            return self.client.http.request("get", url, params=params).json()

        body = self.client.call(self.spreadsheet_id, "checking", fetch)
        self._marker = str(body["modifiedTime"]) if body.get("modifiedTime") else None
        return self._marker

    def read(self, tabs: Sequence[str]) -> SourceSnapshot:
        """Tab names and sizes (one request), then every wanted tab's values (one request).

        The snapshot's marker is the one from the last `change_marker()` call: taken before
        the values, so a change made while reading is picked up by the next sync.
        """
        sid = self.spreadsheet_id
        meta = self.client.call(
            sid,
            "reading",
            lambda: self.client.http.fetch_sheet_metadata(
                sid, params={"fields": "sheets.properties(title,gridProperties)"}
            ),
        )
        available = tuple(s["properties"]["title"] for s in meta.get("sheets", []))
        wanted = [t for t in dict.fromkeys(tabs) if t in available]
        result: dict[str, RawTab] = {}
        if wanted:
            params: ParamsType = {
                "valueRenderOption": "UNFORMATTED_VALUE",
                "dateTimeRenderOption": "SERIAL_NUMBER",
                "majorDimension": "ROWS",
                "prettyPrint": "false",  # a compact body: smaller and faster to decode
                "ranges": [quote_tab(t) for t in wanted],
            }
            url = SPREADSHEET_VALUES_BATCH_URL % sid
            # Hundreds of thousands of small, acyclic objects: collecting cycles while they are
            # built would take several times longer than decoding them.
            with paused_gc():
                body = self.client.call(
                    sid,
                    "reading",
                    lambda: decode_values(
                        self.client.http.request("get", url, params=dict(params)).content
                    ),
                )
                for name, value_range in zip(wanted, body.get("valueRanges", []), strict=True):
                    rows = tab_rows(value_range.get("values", []))
                    result[name] = RawTab(name=name, rows=rows)
        return SourceSnapshot(tabs=result, marker=self._marker, available_tabs=available)

    def resolve_evidence(self, paths: Collection[str]) -> Mapping[str, str | None]:
        """The Drive links of AppSheet's relative evidence paths (`resolve_drive_links`)."""
        return resolve_drive_links(self.client, self.spreadsheet_id, paths)


def open_google_reader(
    settings: GoogleSettings, spreadsheet_id: str, **kw: Any
) -> GoogleSourceReader:
    """A reader of one source spreadsheet with read-only scopes."""
    return GoogleSourceReader(
        GoogleClient.from_settings(settings, READ_SCOPES, **kw), spreadsheet_id
    )
