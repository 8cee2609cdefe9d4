"""The Google dashboard writer: replaces hqsync's tabs of the dashboard spreadsheet atomically."""

from __future__ import annotations

import logging
from typing import Any

from hqsync.config.settings import GoogleSettings
from hqsync.sync.dashboard.document import Dashboard
from hqsync.sync.dashboard.guard import GOOGLE_CELL_LIMIT, guarded
from hqsync.sync.google.client import SHEETS_URL, WRITE_SCOPES, GoogleClient, WriteOutcomeUnknown
from hqsync.sync.google.render import DEFAULT_MAX_BODY_BYTES, plan_publish

log = logging.getLogger(__name__)

JSON_HEADERS = {"Content-Type": "application/json; charset=utf-8"}


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

    @property
    def requests_made(self) -> int:
        """How many API requests this writer has sent (retries included)."""
        return self.client.requests_made

    def publish(self, dashboard: Dashboard) -> None:
        """Read the tab layout (one request), then replace hqsync's tabs atomically.

        Small dashboards take one batchUpdate; large ones are staged in hidden tabs first
        (leftover staging tabs of an interrupted publish are deleted on the way). If the
        answer to a write is lost, the write may have been applied: sending the same batch
        again could fail (its tabs or charts already changed), so the layout is read again
        and the dashboard published once more.
        """
        dashboard = guarded(dashboard, GOOGLE_CELL_LIMIT)
        try:
            self._publish(dashboard, pass_unknown_outcome=True)
        except WriteOutcomeUnknown as exc:
            log.warning(
                "the answer to a dashboard write was lost (%s); reading the layout again and "
                "publishing once more",
                exc,
            )
            self._publish(dashboard, pass_unknown_outcome=False)

    def _publish(self, dashboard: Dashboard, *, pass_unknown_outcome: bool) -> None:
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
            bodies = plan_publish(dashboard, meta.get("sheets", []), self.max_body_bytes)
        if not bodies:  # Google refuses an empty batch
            log.info("dashboard has no tabs; nothing to publish to spreadsheet %s", sid)
            return
        if len(bodies) > 1:
            log.info(
                "dashboard write is %d bytes in all; staging it in %d requests",
                sum(len(b) for b in bodies),
                len(bodies),
            )
        for body in bodies:
            response = self.client.call(
                sid,
                "publishing to",
                lambda body=body: self.client.http.request(  # type: ignore[misc]
                    "post",
                    f"{SHEETS_URL}/{sid}:batchUpdate",
                    data=body,
                    headers=dict(JSON_HEADERS),
                ),
                pass_unknown_outcome=pass_unknown_outcome,
            )
            with self.client.answer_shape(sid, "publishing to"):
                _check_reply(response.json())
        log.info("published %d tabs to spreadsheet %s", len(dashboard.tables), sid)


def _check_reply(reply: Any) -> None:
    """A batchUpdate's answer is an object listing its replies; anything else means the
    write may not have been applied (TypeError, turned into a GoogleError by the caller)."""
    if not isinstance(reply, dict) or not isinstance(reply.get("replies"), list):
        raise TypeError("the batchUpdate answer is not an object with 'replies'")


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
