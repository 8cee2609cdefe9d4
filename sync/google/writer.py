"""The Google dashboard writer: replaces hqsync's tabs of the dashboard spreadsheet atomically."""

from __future__ import annotations

import logging
from functools import partial
from typing import Any

from gspread.exceptions import APIError

from hqsync.config.settings import GoogleSettings
from hqsync.sync.dashboard.document import Dashboard
from hqsync.sync.dashboard.guard import GOOGLE_CELL_LIMIT, guarded
from hqsync.sync.google.client import SHEETS_URL, WRITE_SCOPES, GoogleClient, WriteOutcomeUnknown
from hqsync.sync.google.layout import added_charts, dump_layout, layout_after, load_layout
from hqsync.sync.google.render import DEFAULT_MAX_BODY_BYTES, plan_publish

log = logging.getLogger(__name__)

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}
HTTP_BAD_REQUEST = 400


class GoogleDashboardWriter:
    """Publishes the dashboard to a Google spreadsheet atomically: leaders never see half of it.

    A dashboard whose write fits in `max_body_bytes` is one batchUpdate. A larger one (a
    country's criteria matrix) is written into hidden staging tabs in several batchUpdates
    within the limit, then shown by one final batchUpdate (see `plan_publish`).
    """

    def __init__(
        self,
        client: GoogleClient,
        spreadsheet_id: str,
        *,
        max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    ) -> None:
        if max_body_bytes < 1:
            raise ValueError("max_body_bytes must be positive")
        self.client = client
        self.spreadsheet_id = spreadsheet_id
        self.max_body_bytes = max_body_bytes
        self.known_layout: str | None = None
        """The layout the last write left (`layout`, kept by the caller); None: read it."""
        self._layout: str | None = None

    @property
    def requests_made(self) -> int:
        """How many API requests this writer has sent (retries included)."""
        return self.client.requests_made

    @property
    def layout(self) -> str | None:
        """The tab layout the last successful `publish` left (JSON text), for `known_layout`."""
        return self._layout

    def publish(self, dashboard: Dashboard) -> None:
        """Replace hqsync's tabs atomically, after reading the tab layout (one request) unless
        `known_layout` gives it.

        Small dashboards take one batchUpdate; large ones are staged in hidden tabs first
        (leftover staging tabs of an interrupted publish are deleted on the way). When Google
        refuses a write made from `known_layout` (a leader deleted a tab or a chart since), the
        layout is read and the dashboard written again. If the answer to a write is lost, the
        write may have been applied: sending the same batch again could fail (its tabs or
        charts already changed), so the layout is read again and the dashboard published once
        more.
        """
        dashboard = guarded(dashboard, GOOGLE_CELL_LIMIT)
        self._layout = None
        try:
            known = load_layout(self.known_layout)
            if known is not None:
                try:
                    self._publish(dashboard, known, pass_unknown_outcome=True)
                    return
                except _StaleLayout as exc:
                    log.info(
                        "spreadsheet %s changed since hqsync last wrote it (%s); reading its "
                        "layout and writing again",
                        self.spreadsheet_id,
                        exc,
                    )
            self._publish(dashboard, None, pass_unknown_outcome=True)
        except WriteOutcomeUnknown as exc:
            log.warning(
                "the answer to a dashboard write was lost (%s); reading the layout again and "
                "publishing once more",
                exc,
            )
            self._publish(dashboard, None, pass_unknown_outcome=False)

    def _read_layout(self) -> list[dict[str, Any]]:
        sid = self.spreadsheet_id
        meta = self.client.call(
            sid,
            "publishing to",
            lambda: self.client.http.fetch_sheet_metadata(
                sid,
                params={
                    "fields": "sheets(properties(sheetId,title),charts(chartId),"
                    "basicFilter(range),conditionalFormats(ranges(sheetId)))"
                },
            ),
        )
        with self.client.answer_shape(sid, "publishing to"):
            return list(meta.get("sheets", []))

    def _publish(
        self,
        dashboard: Dashboard,
        known: list[dict[str, Any]] | None,
        *,
        pass_unknown_outcome: bool,
    ) -> None:
        """One publish from the `known` layout (None: read it first); a write Google refuses
        as invalid raises _StaleLayout when the layout was known, not read."""
        sid = self.spreadsheet_id
        sheets = known if known is not None else self._read_layout()
        with self.client.answer_shape(sid, "publishing to"):
            bodies = plan_publish(dashboard, sheets, self.max_body_bytes)
        if not bodies:  # Google refuses an empty batch
            log.info("dashboard has no tabs; nothing to publish to spreadsheet %s", sid)
            return
        if len(bodies) > 1:
            log.info(
                "dashboard write is %d bytes in all; staging it in %d requests",
                sum(len(b) for b in bodies),
                len(bodies),
            )
        replies: list[Any] = []
        for body in bodies:
            response = self.client.call(
                sid,
                "publishing to",
                partial(self._post, body, stale_possible=known is not None),
                pass_unknown_outcome=pass_unknown_outcome,
            )
            with self.client.answer_shape(sid, "publishing to"):
                replies = _replies(response.json())
        with self.client.answer_shape(sid, "publishing to"):
            self._layout = dump_layout(layout_after(dashboard, sheets, added_charts(replies)))
        log.info("published %d tabs to spreadsheet %s", len(dashboard.tables), sid)

    def _post(self, body: bytes, *, stale_possible: bool) -> Any:
        """Send one batchUpdate body; with `stale_possible`, Google's 400 (a request naming a
        tab, chart or rule that is gone) raises _StaleLayout instead of failing."""
        try:
            return self.client.http.request(
                "post",
                f"{SHEETS_URL}/{self.spreadsheet_id}:batchUpdate",
                data=body,
                headers=dict(JSON_HEADERS),
            )
        except APIError as exc:
            if stale_possible and exc.response.status_code == HTTP_BAD_REQUEST:
                raise _StaleLayout(str(exc)) from None
            raise


class _StaleLayout(Exception):
    """Google refused a write made from a known layout: the spreadsheet changed since."""


def _replies(reply: Any) -> list[Any]:
    """A batchUpdate's replies. Its answer is an object listing them; anything else means the
    write may not have been applied (TypeError, turned into a GoogleError by the caller)."""
    if not isinstance(reply, dict) or not isinstance(reply.get("replies"), list):
        raise TypeError("the batchUpdate answer is not an object with 'replies'")
    return reply["replies"]


def open_google_writer(
    settings: GoogleSettings,
    spreadsheet_id: str,
    *,
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
    **kw: Any,
) -> GoogleDashboardWriter:
    """A writer of the dashboard spreadsheet (scope `spreadsheets`)."""
    client = GoogleClient.from_settings(settings, WRITE_SCOPES, **kw)
    return GoogleDashboardWriter(client, spreadsheet_id, max_body_bytes=max_body_bytes)
