"""The Google source reader: a Drive change marker, then the typed values of the wanted tabs."""

from __future__ import annotations

import json
from collections.abc import Collection, Mapping, Sequence
from itertools import chain
from typing import Any

from gspread.http_client import ParamsType
from gspread.urls import SPREADSHEET_VALUES_BATCH_URL

from hqsync.config.settings import GoogleSettings
from hqsync.config.utils import paused_gc
from hqsync.sync.google.client import DRIVE_FILES_URL, READ_SCOPES, GoogleClient
from hqsync.sync.google.drive import resolve_drive_links
from hqsync.sync.google.render import quote_tab
from hqsync.sync.interfaces import CellValue, RawTab, SourceSnapshot


def decode_batch(content: bytes) -> tuple[Any, bool]:
    """A `values.batchGet` response body, decoded, with empty cells as None where it can, and
    whether an empty text ("") may be left in it for `tab_rows` to replace.

    Sheets sends an empty cell as "". Turning `,""` and `[""` into `null` before decoding
    (in C, where they can only be empty array items: a quote inside text is escaped) spares
    creating and then replacing hundreds of thousands of empty strings. When the rewritten
    body holds no `""` at all (the usual compact body) none is left; otherwise (a
    pretty-printed body, a text ending in a quote) `tab_rows` replaces whatever is."""
    rewritten = content.replace(b',""', b",null").replace(b'[""', b"[null")
    try:
        return json.loads(rewritten), b'""' in rewritten
    except ValueError:  # an empty object key, which Sheets never sends: decode as it is
        return json.loads(content), True


def _row(values: list[Any]) -> list[CellValue]:
    while "" in values:  # a few empty cells per row: replaced in place, in C
        values[values.index("")] = None
    return values


def tab_rows(values: list[list[Any]], *, emptied: bool = False) -> tuple[list[CellValue], ...]:
    """The rows of a `values` array as Sheets returns it, as a RawTab holds them: empty cells
    (Google sends "") become None. Sheets sends only text, numbers and booleans as values.
    `emptied`: `decode_batch` found no "" left in the body (the rows are taken as they are).

    Takes over `values`: its row lists are edited in place and become the rows (copying
    500k rows into tuples would cost more than decoding them)."""
    if emptied:
        return tuple(values)
    return tuple(map(_row, values))


_CELL_TYPES = frozenset({str, int, float, bool, type(None)})


def _checked_rows(values: Any) -> list[list[Any]]:
    """`values` if it is a list of rows of plain cells; TypeError (a mis-shaped answer) if not."""
    # Types gathered in C: a mis-shaped answer is found without a Python loop over every cell.
    if type(values) is not list or not {list}.issuperset(map(type, values)):
        raise TypeError("'values' is not a list of rows")
    if not _CELL_TYPES.issuperset(map(type, chain.from_iterable(values))):
        raise TypeError("a cell in 'values' is not text, a number or a boolean")
    return values


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
        with self.client.answer_shape(self.spreadsheet_id, "checking"):
            self._marker = str(body["modifiedTime"]) if body.get("modifiedTime") else None
        return self._marker

    def read(self, tabs: Sequence[str]) -> SourceSnapshot:
        """Tab names, sizes and the spreadsheet's locale (one request), then every wanted tab's
        values (one request).

        The snapshot's marker is the one from the last `change_marker()` call: taken before
        the values, so a change made while reading is picked up by the next sync.
        """
        sid = self.spreadsheet_id
        meta = self.client.call(
            sid,
            "reading",
            lambda: self.client.http.fetch_sheet_metadata(
                sid,
                params={"fields": "properties.locale,sheets.properties(title,gridProperties)"},
            ),
        )
        with self.client.answer_shape(sid, "reading"):
            available = tuple(str(s["properties"]["title"]) for s in meta.get("sheets", []))
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
                body, maybe_empty = self.client.call(
                    sid,
                    "reading",
                    lambda: decode_batch(
                        self.client.http.request("get", url, params=dict(params)).content
                    ),
                )
                with self.client.answer_shape(sid, "reading"):
                    for name, value_range in zip(wanted, body.get("valueRanges", []), strict=True):
                        values = _checked_rows(value_range.get("values", []))
                        rows = tab_rows(values, emptied=not maybe_empty)
                        result[name] = RawTab(name=name, rows=rows)
        locale = meta.get("properties", {}).get("locale")
        return SourceSnapshot(
            tabs=result,
            marker=self._marker,
            available_tabs=available,
            locale=str(locale) if locale else None,
        )

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
