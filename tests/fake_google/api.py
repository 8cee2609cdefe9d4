"""The fake Google API: Sheets v4, Drive v3 file metadata and the OAuth token endpoint.

`FakeGoogle.handle()` answers one HTTP request from its in-memory state; the transports in
`transport.py` feed it from `responses` callbacks or a local HTTP server. Tests seed and
inspect the state through the methods below, and inject failures with `fail_next()`.
"""

from __future__ import annotations

import copy
import json
import math
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fake_google import a1
from tests.fake_google.drive import DriveFile, DriveFiles
from tests.fake_google.sheet import (
    DEFAULT_COLUMNS,
    DEFAULT_ROWS,
    Sheet,
    Spreadsheet,
    entered,
    render,
    with_styles,
)

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
SCOPE = "https://www.googleapis.com/auth/"
READ_SHEETS = {
    SCOPE + s
    for s in ("spreadsheets", "spreadsheets.readonly", "drive", "drive.readonly", "drive.file")
}
WRITE_SHEETS = {SCOPE + s for s in ("spreadsheets", "drive", "drive.file")}
READ_DRIVE = {
    SCOPE + s
    for s in ("drive", "drive.readonly", "drive.file", "drive.metadata", "drive.metadata.readonly")
}
WRITE_DRIVE = {SCOPE + s for s in ("drive", "drive.file")}
MAX_PAYLOAD_BYTES = 10_485_760
"""Google refuses larger request bodies with HTTP 400 before looking at them."""
CELL_CHARACTERS = 50_000
"""Google refuses a write (HTTP 400) that puts more characters than this in one cell."""
TOO_LONG = (
    f"Your input contains more than the maximum of {CELL_CHARACTERS} characters in a single cell."
)


class DropConnection(Exception):
    """The transport must drop the connection without answering."""


class StallRequest(Exception):
    """The transport must not answer before the client's timeout."""


class ApiError(Exception):
    """An error answer: HTTP status and Google's JSON error body."""

    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(status, body)
        self.status = status
        self.body = body


_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    409: "ABORTED",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    502: "UNAVAILABLE",
    503: "UNAVAILABLE",
    504: "DEADLINE_EXCEEDED",
}
_DEFAULT_MESSAGES = {
    401: "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project.",
    403: "The caller does not have permission",
    404: "Requested entity was not found.",
    429: "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute "
    "per user' of service 'sheets.googleapis.com'.",
    500: "Internal error encountered.",
    502: "Bad Gateway",
    503: "The service is currently unavailable.",
    504: "Deadline exceeded.",
}


def google_error(status: int, message: str | None = None, **extra: Any) -> ApiError:
    """A Sheets-style error: {"error": {"code", "message", "status"}}."""
    body = {
        "code": status,
        "message": message or _DEFAULT_MESSAGES.get(status, "Error"),
        "status": _STATUS_NAMES.get(status, "UNKNOWN"),
        **extra,
    }
    return ApiError(status, {"error": body})


def drive_not_found(file_id: str) -> ApiError:
    """Drive's answer for a file that does not exist or is not shared with the caller."""
    message = f"File not found: {file_id}."
    error = {
        "message": message,
        "domain": "global",
        "reason": "notFound",
        "location": "fileId",
        "locationType": "parameter",
    }
    return ApiError(404, {"error": {"code": 404, "message": message, "errors": [error]}})


@dataclass(frozen=True)
class LoggedRequest:
    """One request the fake received."""

    method: str
    path: str
    query: Mapping[str, list[str]]
    kind: str
    status: int
    account: str | None
    spreadsheet_id: str | None


@dataclass
class _Failure:
    outcome: int | str
    remaining: int
    path_contains: str | None
    method: str | None
    retry_after: str | None = None


_BAD_BODIES = {
    "malformed": b'{"sheets": [',
    "misshaped": b"[1, 2]",
    "partial": b'{"sheets": [{}], "valueRanges": [{"values": 7}]}',
}


@dataclass(frozen=True)
class FakeResponse:
    """What the transport sends back."""

    status: int
    body: bytes
    content_type: str = "application/json; charset=UTF-8"
    headers: tuple[tuple[str, str], ...] = ()
    """Headers besides Content-Type (e.g. Retry-After)."""


class FakeGoogle(DriveFiles):
    """In-memory Google Sheets + Drive + OAuth, behaving like Google for what hqsync uses."""

    def __init__(
        self,
        *,
        sheets_base: str = "https://sheets.fake-google.test",
        drive_base: str = "https://drive.fake-google.test",
        token_uri: str = "https://oauth2.fake-google.test/token",
        require_auth: bool = True,
    ) -> None:
        self.sheets_base = sheets_base.rstrip("/")
        self.drive_base = drive_base.rstrip("/")
        self.token_uri = token_uri
        self.require_auth = require_auth
        self.spreadsheets: dict[str, Spreadsheet] = {}
        self.drive_files: dict[str, DriveFile] = {}
        """Folders and uploaded files (see `tests.fake_google.drive`)."""
        self.sheet_parents: dict[str, list[str]] = {}
        """Spreadsheet id → the folders it is in."""
        self.log: list[LoggedRequest] = []
        self.accounts: dict[str, str] = {}  # client_email → public key PEM
        self.tokens: dict[str, tuple[str, frozenset[str]]] = {}
        self._failures: list[_Failure] = []
        self.disabled_apis: set[str] = set()
        """'sheets' / 'drive': APIs not enabled in the service account's Cloud project."""
        self._lock = threading.RLock()
        self._last_ms = 0
        self.link_sharing: dict[str, str] = {}
        """spreadsheet id → the role of "anyone with the link" (Drive permission type anyone)."""
        self.write_observers: list[Callable[[str], None]] = []
        """Called with the spreadsheet id after every applied write (to watch intermediate
        states, e.g. what leaders could see between the requests of a staged publish)."""

    # --- seeding and inspection -----------------------------------------------------------

    def now(self) -> str:
        """A strictly increasing RFC 3339 timestamp with milliseconds, as Drive writes them."""
        ms = max(int(time.time() * 1000), self._last_ms + 1)
        self._last_ms = ms
        stamp = datetime.fromtimestamp(ms / 1000, tz=UTC)
        return stamp.strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"

    def create_spreadsheet(
        self,
        title: str = "Untitled spreadsheet",
        tabs: Mapping[str, Sequence[Sequence[Any]]] | None = None,
        *,
        shared_with: Mapping[str, str] | Iterable[str] | None = None,
        user_entered: bool = False,
        spreadsheet_id: str | None = None,
    ) -> str:
        """Create a spreadsheet with `tabs` (title → rows of Python values); returns its id.

        `shared_with` limits access (emails, or email → 'reader'/'writer'); None lets anyone in.
        Strings are stored as typed text unless `user_entered` (then parsed like the Sheets UI).
        """
        with self._lock:
            sid = spreadsheet_id or secrets.token_urlsafe(33)[:44]
            stamp = self.now()
            book = Spreadsheet(sid, title, created=stamp, modified=stamp)
            book.properties["title"] = title
            if shared_with is not None:
                book.shared_with = (
                    dict(shared_with)
                    if isinstance(shared_with, Mapping)
                    else dict.fromkeys(shared_with, "writer")
                )
            for index, (name, rows) in enumerate((tabs or {"Sheet1": []}).items()):
                width = max((len(r) for r in rows), default=0)
                sheet = Sheet(
                    sheet_id=0 if index == 0 else self._new_sheet_id(book),
                    title=name,
                    index=index,
                    rows=max(DEFAULT_ROWS, len(rows)),
                    columns=max(DEFAULT_COLUMNS, width),
                )
                book.sheets.append(sheet)
                self._write_values(sheet, 0, 0, rows, user_entered)
            self.spreadsheets[sid] = book
            return sid

    def share(self, spreadsheet_id: str, email: str, role: str = "reader") -> None:
        """Share a spreadsheet with `email` as 'reader' or 'writer'."""
        with self._lock:
            book = self.spreadsheets[spreadsheet_id]
            if book.shared_with is None:
                book.shared_with = {}
            book.shared_with[email] = role

    def set_values(
        self,
        spreadsheet_id: str,
        tab: str,
        rows: Sequence[Sequence[Any]],
        start: str = "A1",
        *,
        user_entered: bool = False,
    ) -> None:
        """Write rows of values into a tab from `start` (like an inspector editing the sheet)."""
        with self._lock:
            book = self.spreadsheets[spreadsheet_id]
            span = a1.parse_cells(start, start)
            sheet = book.sheet(tab)
            self._write_values(sheet, span.row0, span.col0, rows, user_entered)
            book.modified = self.now()

    def add_tab(self, spreadsheet_id: str, title: str, rows: Sequence[Sequence[Any]] = ()) -> int:
        """Add a tab (optionally with values); returns its sheet id."""
        with self._lock:
            book = self.spreadsheets[spreadsheet_id]
            sheet = Sheet(self._new_sheet_id(book), title, index=len(book.sheets))
            book.sheets.append(sheet)
            self._write_values(sheet, 0, 0, rows, False)
            book.modified = self.now()
            return sheet.sheet_id

    def sheet_values(
        self,
        spreadsheet_id: str,
        tab: str,
        value_render: str = "UNFORMATTED_VALUE",
        date_render: str = "SERIAL_NUMBER",
    ) -> list[list[Any]]:
        """A tab's values as values.get would return them (trailing empties trimmed)."""
        book = self.spreadsheets[spreadsheet_id]
        sheet = book.sheet(tab)
        return _rows(
            sheet,
            0,
            sheet.rows,
            0,
            sheet.columns,
            value_render=value_render,
            date_render=date_render,
        )

    def sheet(self, spreadsheet_id: str, tab: str) -> Sheet:
        """The stored tab, for assertions on formats, filters, charts, widths and validation."""
        return self.spreadsheets[spreadsheet_id].sheet(tab)

    def tabs(self, spreadsheet_id: str) -> list[str]:
        """Tab titles in order."""
        return self.spreadsheets[spreadsheet_id].titles()

    def cell(self, spreadsheet_id: str, tab: str, ref: str) -> dict[str, Any]:
        """The stored CellData at `ref` (e.g. 'B2'), {} when empty."""
        span = a1.parse_cells(ref, ref)
        return copy.deepcopy(self.sheet(spreadsheet_id, tab).cells.get((span.row0, span.col0), {}))

    def formats(self, spreadsheet_id: str, tab: str) -> dict[tuple[int, int], dict[str, Any]]:
        """(row, column) → userEnteredFormat of every formatted cell, 0-based."""
        cells = self.sheet(spreadsheet_id, tab).cells
        return {k: v["userEnteredFormat"] for k, v in cells.items() if "userEnteredFormat" in v}

    def shown_background(
        self, spreadsheet_id: str, tab: str, row: int, col: int
    ) -> dict[str, Any] | None:
        """The background colour a viewer sees at (row, col), 0-based: the first matching
        conditional format rule's, else the cell's own (None when it has none)."""
        sheet = self.sheet(spreadsheet_id, tab)
        cell = sheet.cells.get((row, col), {})
        value = cell.get("userEnteredValue", {}).get("numberValue")
        for rule in sheet.conditional_formats:
            inside = any(
                int(r.get("startRowIndex", 0)) <= row < int(r.get("endRowIndex", sheet.rows))
                and int(r.get("startColumnIndex", 0))
                <= col
                < int(r.get("endColumnIndex", sheet.columns))
                for r in rule.get("ranges", [])
            )
            boolean = rule.get("booleanRule", {})
            if inside and value is not None and _condition_holds(boolean["condition"], value):
                return copy.deepcopy(boolean.get("format", {}).get("backgroundColor"))
        background = cell.get("userEnteredFormat", {}).get("backgroundColor")
        return copy.deepcopy(background)

    def visible(self, spreadsheet_id: str) -> list[Sheet]:
        """The tabs a viewer sees (not hidden), in order."""
        book = self.spreadsheets[spreadsheet_id]
        return [s for s in sorted(book.sheets, key=lambda s: s.index) if not s.hidden]

    def modified_time(self, spreadsheet_id: str) -> str:
        """Drive's modifiedTime of the spreadsheet."""
        return self.spreadsheets[spreadsheet_id].modified

    def fail_next(
        self,
        outcome: int | str,
        count: int = 1,
        *,
        path_contains: str | None = None,
        method: str | None = None,
        retry_after: float | str | None = None,
    ) -> None:
        """Answer the next `count` matching requests with HTTP `outcome`, or with a fault.

        Faults: 'drop' (connection closed before the request is handled), 'timeout' (no
        answer in time), 'drop_after' (the request is applied, then the connection drops),
        'malformed' (HTTP 200 whose body is not JSON), 'misshaped' (HTTP 200, a JSON array),
        'partial' (HTTP 200, an object missing the fields asked for).
        `retry_after` adds a `Retry-After` header to an HTTP `outcome` (seconds, or an
        HTTP date as text), as Google may with a 429 or 503.
        Token grants only fail when `path_contains` names the token path (e.g. '/token').
        """
        if retry_after is not None and not isinstance(outcome, int):
            raise ValueError("retry_after goes with an HTTP status, not a fault")
        header = None if retry_after is None else _retry_after_text(retry_after)
        with self._lock:
            self._failures.append(_Failure(outcome, count, path_contains, method, header))

    def clear_failures(self) -> None:
        """Forget injected failures that have not happened yet."""
        with self._lock:
            self._failures.clear()

    def requests(self, kind: str | None = None) -> list[LoggedRequest]:
        """Logged API requests (not token grants unless asked), optionally of one kind."""
        return [
            r
            for r in self.log
            if (kind is None and r.kind != "oauth.token") or (kind is not None and r.kind == kind)
        ]

    def count(self, kind: str | None = None, spreadsheet_id: str | None = None) -> int:
        """How many API requests (of `kind`, on `spreadsheet_id`) were received."""
        return sum(
            1
            for r in self.requests(kind)
            if spreadsheet_id is None or r.spreadsheet_id == spreadsheet_id
        )

    def reset_log(self) -> None:
        """Forget the request log."""
        with self._lock:
            self.log.clear()

    def register_account(self, email: str, public_key_pem: str) -> None:
        """Accept JWT grants signed by this service account's key."""
        self.accounts[email] = public_key_pem

    def issue_token(self, email: str, scopes: Iterable[str]) -> str:
        """Mint an access token directly (for raw HTTP tests)."""
        token = "ya29.fake-" + secrets.token_urlsafe(16)
        self.tokens[token] = (email, frozenset(scopes))
        return token

    # --- the HTTP entry point ---------------------------------------------------------------

    def handle(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | str | None
    ) -> FakeResponse:
        """Answer one HTTP request (raises DropConnection/StallRequest for injected faults)."""
        method = method.upper()
        parts = urlsplit(url)
        path = unquote(parts.path)
        query = parse_qs(parts.query, keep_blank_values=True)
        raw = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        kind, sid = _classify(method, parts.path)
        with self._lock:
            account = None
            taken = self._take_failure(method, url, kind)
            failure = taken.outcome if taken else None
            try:
                if failure in _BAD_BODIES:
                    self.log.append(LoggedRequest(method, parts.path, query, kind, 200, None, sid))
                    return FakeResponse(200, _BAD_BODIES[str(failure)])
                if failure is not None and failure != "drop_after":
                    if failure == "drop":
                        raise DropConnection(url)
                    if failure == "timeout":
                        raise StallRequest(url)
                    raise google_error(int(failure))
                if len(raw) > MAX_PAYLOAD_BYTES:
                    raise google_error(
                        400, f"Request payload size exceeds the limit: {MAX_PAYLOAD_BYTES} bytes."
                    )
                if kind == "oauth.token":
                    status, payload = 200, self._token(raw)
                else:
                    account, scopes = self._authenticate(headers)
                    _check_enabled(self.disabled_apis, kind)
                    status, payload = self._dispatch(
                        kind,
                        sid,
                        method=method,
                        path=path,
                        query=query,
                        raw=raw,
                        account=account,
                        scopes=scopes,
                    )
            except ApiError as exc:
                status, payload = exc.status, exc.body
            except (DropConnection, StallRequest):
                self.log.append(LoggedRequest(method, parts.path, query, kind, 0, account, sid))
                raise
            self.log.append(LoggedRequest(method, parts.path, query, kind, status, account, sid))
            if status == 200 and sid is not None and kind in _WRITES:
                for observer in self.write_observers:
                    observer(sid)
        if failure == "drop_after":  # applied, but the answer never reaches the client
            raise DropConnection(url)
        if status == 204:
            return FakeResponse(204, b"", "text/html")
        extra = (("Retry-After", taken.retry_after),) if taken and taken.retry_after else ()
        if _first(query, "prettyPrint") == "false":  # Google's system parameter: compact JSON
            body = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
        else:
            body = json.dumps(payload, ensure_ascii=False, indent=2)
        return FakeResponse(status, body.encode(), headers=extra)

    def _permissions(self, sid: str, shared_with: Mapping[str, str] | None) -> dict[str, Any]:
        """permissions.list (Drive v3): one user permission per share, `anyone` for a link
        share (and for a spreadsheet shared with no one in particular: anyone gets in)."""
        found: list[dict[str, Any]] = []
        for index, (email, role) in enumerate(sorted((shared_with or {}).items())):
            found.append(
                {
                    "kind": "drive#permission",
                    "id": f"{index:020d}",
                    "type": "user",
                    "emailAddress": email,
                    "role": role,
                }
            )
        anyone = self.link_sharing.get(sid) or (None if shared_with is not None else "writer")
        if anyone:
            found.append({"kind": "drive#permission", "id": "anyoneWithLink", "type": "anyone",
                          "role": anyone})  # fmt: skip
        return {"kind": "drive#permissionList", "permissions": found}

    def _take_failure(self, method: str, url: str, kind: str) -> _Failure | None:
        for failure in self._failures:
            if kind == "oauth.token" and not failure.path_contains:
                continue
            if failure.method and failure.method.upper() != method:
                continue
            if failure.path_contains and failure.path_contains not in unquote(url):
                continue
            failure.remaining -= 1
            if failure.remaining <= 0:
                self._failures.remove(failure)
            return failure
        return None

    def _token(self, raw: bytes) -> dict[str, Any]:
        from google.auth import jwt

        form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8")).items()}
        if form.get("grant_type") != "urn:ietf:params:oauth:grant-type:jwt-bearer":
            raise ApiError(
                400, {"error": "unsupported_grant_type", "error_description": "Invalid grant_type"}
            )
        assertion = form.get("assertion", "")
        try:
            claims = jwt.decode(assertion, verify=False)
            key = self.accounts.get(str(claims.get("iss")))
            if key is None:
                raise ValueError("unknown account")
            jwt.decode(assertion, certs=key, verify=True)
        except ValueError:
            raise ApiError(
                400, {"error": "invalid_grant", "error_description": "Invalid JWT Signature."}
            ) from None
        scopes = str(claims.get("scope", "")).split()
        token = self.issue_token(str(claims["iss"]), scopes)
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}

    def _authenticate(self, headers: Mapping[str, str]) -> tuple[str | None, frozenset[str]]:
        header = next((v for k, v in headers.items() if k.lower() == "authorization"), "")
        if not self.require_auth:
            return None, frozenset(WRITE_SHEETS | WRITE_DRIVE)
        if not header:
            raise google_error(
                401,
                "Request is missing required authentication credential. Expected OAuth 2 access "
                "token, login cookie or other valid authentication credential. See "
                "https://developers.google.com/identity/sign-in/web/devconsole-project.",
            )
        token = header.split(" ", 1)[-1]
        if token not in self.tokens:
            raise google_error(401)
        return self.tokens[token]

    # --- routing ----------------------------------------------------------------------------

    def _dispatch(
        self,
        kind: str,
        sid: str | None,
        *,
        method: str,
        path: str,
        query: Mapping[str, list[str]],
        raw: bytes,
        account: str | None,
        scopes: frozenset[str],
    ) -> tuple[int, Any]:
        body = _json_body(raw) if raw else {}
        if kind == "drive.files.create":
            _need(scopes, WRITE_DRIVE)
            book_id = self.create_spreadsheet(body.get("name", "Untitled spreadsheet"))
            if account:
                self.spreadsheets[book_id].shared_with = {account: "owner"}
            return 200, {
                "kind": "drive#file",
                "id": book_id,
                "name": body.get("name", "Untitled spreadsheet"),
                "mimeType": body.get("mimeType", SPREADSHEET_MIME),
            }
        if kind == "drive.files.list":
            _need(scopes, READ_DRIVE)
            return 200, self.drive_list(query, account)
        if kind == "drive.files.get" and sid in self.drive_files:
            _need(scopes, READ_DRIVE)
            if not self.drive_visible(sid, account):
                raise drive_not_found(sid)
            resource = self.drive_resource(sid, account)
            fields = _first(query, "fields")
            if not fields:
                return 200, {k: resource[k] for k in ("kind", "id", "name", "mimeType")}
            return 200, apply_mask(resource, fields)
        if kind.startswith("drive."):
            assert sid is not None
            book = self.spreadsheets.get(sid)
            role = book.role(account) if book else None
            if book is None or role is None:
                raise drive_not_found(sid)
            if kind == "drive.files.delete":
                _need(scopes, WRITE_DRIVE)
                if role != "owner" and book.shared_with is not None:
                    raise google_error(
                        403, "The user does not have sufficient permissions for this file."
                    )
                del self.spreadsheets[sid]
                return 204, None
            _need(scopes, READ_DRIVE)
            if kind == "drive.permissions.list":
                return 200, self._permissions(sid, book.shared_with)
            resource = self.drive_resource(sid, account)
            fields = _first(query, "fields")
            if not fields:
                return 200, {k: resource[k] for k in ("kind", "id", "name", "mimeType")}
            return 200, apply_mask(resource, fields)
        if kind == "unknown" or sid is None:
            raise google_error(404, f"Method not found: {method} {path}")
        writes = kind in _WRITES
        _need(scopes, WRITE_SHEETS if writes else READ_SHEETS)
        book = self.spreadsheets.get(sid)
        if book is None:
            raise google_error(404)
        role = book.role(account)
        if role is None or (writes and role == "reader"):
            raise google_error(403)
        if kind == "spreadsheets.get":
            return 200, self._get_spreadsheet(book, query)
        if kind == "spreadsheets.batchUpdate":
            return 200, self._batch_update(book, body)
        if kind == "values.get":
            rng = path.split("/values/", 1)[1]
            return 200, self._values_get(book, rng, query)
        if kind == "values.batchGet":
            ranges = query.get("ranges", [])
            return 200, {
                "spreadsheetId": sid,
                "valueRanges": [self._values_get(book, r, query) for r in ranges],
            }
        if kind == "values.update":
            rng = path.split("/values/", 1)[1]
            reply = self._values_update(book, rng, body, _first(query, "valueInputOption"))
            book.modified = self.now()
            return 200, reply
        if kind == "values.batchUpdate":
            option = body.get("valueInputOption")
            replies = [
                self._values_update(book, d["range"], d, option) for d in body.get("data", [])
            ]
            book.modified = self.now()
            return 200, {
                "spreadsheetId": sid,
                "totalUpdatedRows": sum(r["updatedRows"] for r in replies),
                "totalUpdatedColumns": max((r["updatedColumns"] for r in replies), default=0),
                "totalUpdatedCells": sum(r["updatedCells"] for r in replies),
                "totalUpdatedSheets": len({r["updatedRange"].rsplit("!", 1)[0] for r in replies}),
                "responses": replies,
            }
        if kind == "values.clear":
            rng = path.split("/values/", 1)[1].rsplit(":clear", 1)[0]
            title, span = self._range(book, rng)
            sheet = book.sheet(title)
            r0, r1, c0, c1 = span.clip(sheet.rows, sheet.columns)
            for key in [k for k in sheet.cells if r0 <= k[0] < r1 and c0 <= k[1] < c1]:
                cell = dict(sheet.cells[key])
                cell.pop("userEnteredValue", None)
                sheet.set_cell(*key, cell)
            book.modified = self.now()
            return 200, {
                "spreadsheetId": sid,
                "clearedRange": a1.format_range(title, r0, r1, c0, c1),
            }
        if kind == "values.append":
            rng = path.split("/values/", 1)[1].rsplit(":append", 1)[0]
            reply = self._values_append(book, rng, body, _first(query, "valueInputOption"))
            book.modified = self.now()
            return 200, reply
        raise google_error(404, f"Method not found: {method} {path}")

    # --- Sheets: reading --------------------------------------------------------------------

    def _get_spreadsheet(self, book: Spreadsheet, query: Mapping[str, list[str]]) -> dict[str, Any]:
        fields = _first(query, "fields")
        grid = _first(query, "includeGridData").lower() == "true" or "data" in fields
        ranges = query.get("ranges", [])
        wanted: dict[str, list[a1.Span]] = {}
        for rng in ranges:
            title, span = self._range(book, rng)
            wanted.setdefault(title, []).append(span)
        sheets = []
        for sheet in sorted(book.sheets, key=lambda s: s.index):
            if ranges and sheet.title not in wanted:
                continue
            entry: dict[str, Any] = {"properties": sheet.properties()}
            if grid:
                spans = wanted.get(sheet.title) or [a1.Span(0, None, 0, None)]
                entry["data"] = [_grid_data(sheet, span) for span in spans]
            if sheet.basic_filter:
                entry["basicFilter"] = copy.deepcopy(sheet.basic_filter)
            if sheet.charts:
                entry["charts"] = copy.deepcopy(sheet.charts)
            if sheet.conditional_formats:
                entry["conditionalFormats"] = copy.deepcopy(sheet.conditional_formats)
            sheets.append(entry)
        resource = {
            "spreadsheetId": book.spreadsheet_id,
            "properties": copy.deepcopy(book.properties),
            "sheets": sheets,
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.spreadsheet_id}/edit",
        }
        return apply_mask(resource, fields) if fields else resource

    def _range(self, book: Spreadsheet, text: str) -> tuple[str, a1.Span]:
        try:
            return a1.split_range(text, book.titles())
        except a1.RangeError:
            raise google_error(400, f"Unable to parse range: {text}") from None

    def _values_get(
        self, book: Spreadsheet, rng: str, query: Mapping[str, list[str]]
    ) -> dict[str, Any]:
        title, span = self._range(book, rng)
        sheet = book.sheet(title)
        r0, r1, c0, c1 = span.clip(sheet.rows, sheet.columns)
        value_render = _first(query, "valueRenderOption") or "FORMATTED_VALUE"
        date_render = _first(query, "dateTimeRenderOption") or "SERIAL_NUMBER"
        rows = _rows(sheet, r0, r1, c0, c1, value_render=value_render, date_render=date_render)
        if _first(query, "majorDimension") == "COLUMNS":
            width = max((len(r) for r in rows), default=0)
            rows = [[r[c] if c < len(r) else "" for r in rows] for c in range(width)]
            rows = [_trim(col) for col in rows]
        result: dict[str, Any] = {
            "range": a1.format_range(title, r0, r1, c0, c1),
            "majorDimension": _first(query, "majorDimension") or "ROWS",
        }
        if rows:
            result["values"] = rows
        return result

    # --- Sheets: writing values -------------------------------------------------------------

    def _write_values(
        self, sheet: Sheet, row0: int, col0: int, rows: Sequence[Sequence[Any]], user_entered: bool
    ) -> None:
        for r, row in enumerate(rows):
            for c, value in enumerate(row):
                key = (row0 + r, col0 + c)
                cell = copy.deepcopy(sheet.cells.get(key, {}))
                extended, number_format = entered(value, user_entered)
                if extended is None:
                    cell.pop("userEnteredValue", None)
                else:
                    cell["userEnteredValue"] = extended
                    if number_format and "numberFormat" not in cell.get("userEnteredFormat", {}):
                        cell.setdefault("userEnteredFormat", {})["numberFormat"] = number_format
                sheet.set_cell(*key, cell)
        width = max((len(r) for r in rows), default=0)
        if rows and (row0 + len(rows) > sheet.rows or col0 + width > sheet.columns):
            sheet.rows = max(sheet.rows, row0 + len(rows))
            sheet.columns = max(sheet.columns, col0 + width)

    def _values_update(
        self, book: Spreadsheet, rng: str, body: Mapping[str, Any], option: str | None
    ) -> dict[str, Any]:
        if option not in ("RAW", "USER_ENTERED"):
            raise google_error(400, "Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED")
        values = body.get("values")
        if not isinstance(values, list) or not all(isinstance(r, list) for r in values):
            message = (
                "Invalid value at 'data.values' (type.googleapis.com/google.protobuf.ListValue), "
                + json.dumps(values, ensure_ascii=False)
            )
            raise google_error(
                400,
                message,
                details=[
                    {
                        "@type": "type.googleapis.com/google.rpc.BadRequest",
                        "fieldViolations": [{"field": "data.values", "description": message}],
                    }
                ],
            )
        if any(isinstance(v, str) and len(v) > CELL_CHARACTERS for row in values for v in row):
            raise google_error(400, TOO_LONG)
        title, span = self._range(book, rng)
        sheet = book.sheet(title)
        self._write_values(sheet, span.row0, span.col0, values, option == "USER_ENTERED")
        width = max((len(r) for r in values), default=0)
        return {
            "spreadsheetId": book.spreadsheet_id,
            "updatedRange": a1.format_range(
                title, span.row0, span.row0 + len(values), span.col0, span.col0 + width
            ),
            "updatedRows": len(values),
            "updatedColumns": width,
            "updatedCells": sum(len(r) for r in values),
        }

    def _values_append(
        self, book: Spreadsheet, rng: str, body: Mapping[str, Any], option: str | None
    ) -> dict[str, Any]:
        title, span = self._range(book, rng)
        sheet = book.sheet(title)
        last = sheet.last_data_row()
        reply: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
        column = span.col0
        if last:
            # Google's table detection: the run of filled cells ending at the last filled cell
            # of the last filled row, extended upwards while its first column stays filled.
            def filled(r: int, c: int) -> bool:
                return "userEnteredValue" in sheet.cells.get((r, c), {})

            end = max(c for (r, c) in sheet.cells if r == last - 1 and filled(r, c))
            column = end
            while column > 0 and filled(last - 1, column - 1):
                column -= 1
            top = last - 1
            while top > 0 and filled(top - 1, column):
                top -= 1
            reply["tableRange"] = a1.format_range(title, top, last, column, end + 1)
        start = f"{a1.column_letters(column)}{last + 1}"
        reply["updates"] = self._values_update(
            book, f"{a1.sheet_prefix(title)}!{start}", body, option
        )
        return reply

    # --- Sheets: batchUpdate ----------------------------------------------------------------

    def _batch_update(self, book: Spreadsheet, body: Mapping[str, Any]) -> dict[str, Any]:
        requests = body.get("requests")
        if not isinstance(requests, list):
            raise google_error(400, "Invalid JSON payload received. 'requests' must be a list.")
        if not requests:
            raise google_error(400, "Invalid requests: Must specify at least one request.")
        work = copy.deepcopy(book)  # atomic: apply to a copy, keep it only if all succeed
        replies = []
        for i, request in enumerate(requests):
            if not isinstance(request, dict) or len(request) != 1:
                raise google_error(
                    400, f"Invalid requests[{i}]: exactly one kind of request expected"
                )
            ((name, args),) = request.items()
            handler = getattr(self, f"_req_{name}", None)
            if handler is None:
                raise google_error(
                    400,
                    f'Invalid JSON payload received. Unknown name "{name}" at '
                    f"'requests[{i}]': Cannot find field.",
                )
            try:
                replies.append(handler(work, args))
            except _RequestError as exc:
                raise google_error(400, f"Invalid requests[{i}].{name}: {exc}") from None
        work.modified = self.now()
        self.spreadsheets[book.spreadsheet_id] = work
        return {"spreadsheetId": book.spreadsheet_id, "replies": replies}

    def _new_sheet_id(self, book: Spreadsheet) -> int:
        taken = {s.sheet_id for s in book.sheets}
        while True:
            candidate = secrets.randbelow(2**31 - 1) + 1
            if candidate not in taken:
                return candidate

    def _sheet(self, book: Spreadsheet, sheet_id: Any) -> Sheet:
        sheet = book.sheet_by_id(int(sheet_id or 0))
        if sheet is None:
            raise _RequestError(f"No grid with id: {sheet_id}")
        return sheet

    def _grid(self, book: Spreadsheet, rng: Mapping[str, Any]) -> tuple[Sheet, int, int, int, int]:
        sheet = self._sheet(book, rng.get("sheetId", 0))
        r0 = int(rng.get("startRowIndex", 0))
        r1 = int(rng.get("endRowIndex", sheet.rows))
        c0 = int(rng.get("startColumnIndex", 0))
        c1 = int(rng.get("endColumnIndex", sheet.columns))
        if r1 > sheet.rows or c1 > sheet.columns or r0 < 0 or c0 < 0:
            text = a1.format_range(sheet.title, r0, r1, c0, c1)
            raise _RequestError(
                f"Range ({text}) exceeds grid limits. Max rows: {sheet.rows}, "
                f"max columns: {sheet.columns}"
            )
        return sheet, r0, r1, c0, c1

    def _req_addSheet(self, book: Spreadsheet, args: Mapping[str, Any]) -> dict[str, Any]:
        props = dict(args.get("properties", {}))
        title = props.get("title") or f"Sheet{len(book.sheets) + 1}"
        if any(s.title.lower() == title.lower() for s in book.sheets):
            raise _RequestError(
                f'A sheet with the name "{title}" already exists. Please enter another name.'
            )
        sheet_id = props.get("sheetId")
        if sheet_id is None:
            sheet_id = self._new_sheet_id(book)
        elif book.sheet_by_id(int(sheet_id)) is not None:
            raise _RequestError(f"A sheet with the ID {sheet_id} already exists")
        grid = props.get("gridProperties", {})
        index = int(props.get("index", len(book.sheets)))
        if index > len(book.sheets):
            raise _RequestError(f"Invalid index {index}; must be at most {len(book.sheets)}")
        for other in book.sheets:
            if other.index >= index:
                other.index += 1
        sheet = Sheet(
            sheet_id=int(sheet_id),
            title=title,
            index=index,
            rows=int(grid.get("rowCount", DEFAULT_ROWS)),
            columns=int(grid.get("columnCount", DEFAULT_COLUMNS)),
            frozen_rows=int(grid.get("frozenRowCount", 0)),
            frozen_columns=int(grid.get("frozenColumnCount", 0)),
            hidden=bool(props.get("hidden", False)),
        )
        _check_frozen(sheet)
        book.sheets.append(sheet)
        book.reindex()
        return {"addSheet": {"properties": sheet.properties()}}

    def _req_deleteSheet(self, book: Spreadsheet, args: Mapping[str, Any]) -> dict[str, Any]:
        sheet = self._sheet(book, args.get("sheetId"))
        if len(book.sheets) == 1:
            raise _RequestError("You can't remove all the sheets in a document.")
        if all(s.hidden for s in book.sheets if s is not sheet):
            raise _RequestError("You can't remove all the visible sheets in a document.")
        book.sheets.remove(sheet)
        book.reindex()
        return {}

    def _req_updateSpreadsheetProperties(
        self, book: Spreadsheet, args: Mapping[str, Any]
    ) -> dict[str, Any]:
        props = args.get("properties", {})
        for path in _field_paths(args.get("fields", "")):
            if path[0] in props:
                book.properties[path[0]] = props[path[0]]
        if "title" in props:
            book.title = props["title"]
        return {}

    def _req_updateSheetProperties(
        self, book: Spreadsheet, args: Mapping[str, Any]
    ) -> dict[str, Any]:
        props = args.get("properties", {})
        sheet = self._sheet(book, props.get("sheetId", 0))
        fields = args.get("fields")
        if not fields:
            raise _RequestError("At least one field must be updated, but 'fields' is empty.")
        grid = props.get("gridProperties", {})
        paths = _field_paths(fields)
        if ["*"] in paths:
            paths = [["title"], ["index"], ["gridProperties"]]
        rows, columns = sheet.rows, sheet.columns
        for path in paths:
            if path == ["title"]:
                title = props.get("title", "")
                if any(s is not sheet and s.title.lower() == title.lower() for s in book.sheets):
                    raise _RequestError(f'A sheet with the name "{title}" already exists.')
                sheet.title = title
            elif path == ["index"]:
                order = [s for s in sorted(book.sheets, key=lambda s: s.index) if s is not sheet]
                order.insert(min(int(props.get("index", 0)), len(order)), sheet)
                for i, each in enumerate(order):
                    each.index = i
            elif path == ["gridProperties"]:
                rows = int(grid.get("rowCount", rows))
                columns = int(grid.get("columnCount", columns))
                sheet.frozen_rows = int(grid.get("frozenRowCount", 0))
                sheet.frozen_columns = int(grid.get("frozenColumnCount", 0))
            elif path[:1] == ["gridProperties"] and len(path) == 2:
                key, value = path[1], grid.get(path[1], 0)
                if key == "rowCount":
                    rows = int(value)
                elif key == "columnCount":
                    columns = int(value)
                elif key == "frozenRowCount":
                    sheet.frozen_rows = int(value)
                elif key == "frozenColumnCount":
                    sheet.frozen_columns = int(value)
            elif path == ["hidden"]:
                hidden = bool(props.get("hidden", False))
                if hidden and all(s.hidden for s in book.sheets if s is not sheet):
                    raise _RequestError("You can't hide all the sheets in a document.")
                sheet.hidden = hidden
            elif path[0] not in ("sheetId", "tabColor", "tabColorStyle", "rightToLeft"):
                raise _RequestError(f"Unsupported field: {'.'.join(path)}")
        if rows < 1 or columns < 1:
            raise _RequestError("A sheet must have at least one row and one column.")
        sheet.resize(rows, columns)
        if sheet.basic_filter:
            sheet.basic_filter = _clip_filter(sheet, sheet.basic_filter)
        _check_frozen(sheet)
        return {}

    def _apply_cell(
        self, sheet: Sheet, row: int, col: int, new: Mapping[str, Any], paths: list[list[str]]
    ) -> None:
        """Set the masked fields of one cell from `new` (request data, owned by the fake)."""
        cell = dict(sheet.cells.get((row, col), {}))
        for path in paths:
            top = path[0]
            if top == "userEnteredValue":
                value = new.get("userEnteredValue")
                if value and len(value) != 1:
                    raise _RequestError("userEnteredValue must hold exactly one kind of value")
                if len(str((value or {}).get("stringValue", ""))) > CELL_CHARACTERS:
                    raise _RequestError(TOO_LONG)
                cell[top] = value or None
            elif top == "userEnteredFormat":
                fmt = new.get("userEnteredFormat") or {}
                if len(path) == 1:
                    cell[top] = with_styles(fmt) if fmt else None
                else:
                    merged = copy.deepcopy(cell.get(top) or {})
                    if path[1] in fmt:
                        merged[path[1]] = copy.deepcopy(fmt[path[1]])
                    else:
                        merged.pop(path[1], None)
                    cell[top] = with_styles(merged) if merged else None
            elif top in ("note", "dataValidation", "textFormatRuns", "hyperlink"):
                cell[top] = new.get(top)
            else:
                raise _RequestError(f"Unsupported field: {'.'.join(path)}")
        sheet.set_cell(row, col, {k: v for k, v in cell.items() if v is not None})

    def _req_updateCells(self, book: Spreadsheet, args: Mapping[str, Any]) -> dict[str, Any]:
        if not args.get("fields"):
            raise _RequestError("'fields' is required")
        paths = _cell_paths(args["fields"])
        rows = args.get("rows", [])
        if "range" in args:
            sheet, r0, r1, c0, c1 = self._grid(book, args["range"])
            if len(rows) > r1 - r0 or any(len(r.get("values", [])) > c1 - c0 for r in rows):
                raise _RequestError("The rows written exceed the range given")
            for r in range(r0, r1):
                values = rows[r - r0].get("values", []) if r - r0 < len(rows) else []
                for c in range(c0, c1):
                    new = values[c - c0] if c - c0 < len(values) else {}
                    self._apply_cell(sheet, r, c, new, paths)
        else:
            start = args.get("start", {})
            sheet = self._sheet(book, start.get("sheetId", 0))
            r0, c0 = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
            if r0 + len(rows) > sheet.rows or any(
                c0 + len(r.get("values", [])) > sheet.columns for r in rows
            ):
                raise _RequestError("Range exceeds grid limits.")
            for r, row in enumerate(rows):
                for c, new in enumerate(row.get("values", [])):
                    self._apply_cell(sheet, r0 + r, c0 + c, new, paths)
        return {}

    def _req_appendCells(self, book: Spreadsheet, args: Mapping[str, Any]) -> dict[str, Any]:
        sheet = self._sheet(book, args.get("sheetId", 0))
        rows = args.get("rows", [])
        start = sheet.last_data_row()
        width = max((len(r.get("values", [])) for r in rows), default=0)
        sheet.rows = max(sheet.rows, start + len(rows))
        sheet.columns = max(sheet.columns, width)
        for r, row in enumerate(rows):
            for c, new in enumerate(row.get("values", [])):
                self._apply_cell(sheet, start + r, c, new, _cell_paths(args.get("fields", "*")))
        return {}

    def _req_repeatCell(self, book: Spreadsheet, args: Mapping[str, Any]) -> dict[str, Any]:
        sheet, r0, r1, c0, c1 = self._grid(book, args.get("range", {}))
        paths = _cell_paths(args.get("fields", ""))
        for r in range(r0, r1):
            for c in range(c0, c1):
                self._apply_cell(sheet, r, c, args.get("cell", {}), paths)
        return {}

    def _req_setBasicFilter(self, book: Spreadsheet, args: Mapping[str, Any]) -> dict[str, Any]:
        flt = copy.deepcopy(args.get("filter", {}))
        sheet, r0, r1, c0, c1 = self._grid(book, flt.get("range", {}))
        # Google echoes the range with every bound filled in and a zero sheetId left out.
        rng: dict[str, Any] = {"sheetId": sheet.sheet_id} if sheet.sheet_id else {}
        rng.update(startRowIndex=r0, endRowIndex=r1, startColumnIndex=c0, endColumnIndex=c1)
        flt["range"] = rng
        sheet.basic_filter = flt
        return {}

    def _req_clearBasicFilter(self, book: Spreadsheet, args: Mapping[str, Any]) -> dict[str, Any]:
        self._sheet(book, args.get("sheetId", 0)).basic_filter = None
        return {}

    def _req_updateDimensionProperties(
        self, book: Spreadsheet, args: Mapping[str, Any]
    ) -> dict[str, Any]:
        rng = args.get("range", {})
        sheet = self._sheet(book, rng.get("sheetId", 0))
        columns = rng.get("dimension") == "COLUMNS"
        limit = sheet.columns if columns else sheet.rows
        start, end = int(rng.get("startIndex", 0)), int(rng.get("endIndex", limit))
        if end > limit:
            raise _RequestError(f"Invalid dimension range: end index {end} is beyond {limit}")
        size = args.get("properties", {}).get("pixelSize")
        target = sheet.column_widths if columns else sheet.row_heights
        for i in range(start, end):
            if size is not None:
                target[i] = int(size)
        return {}

    def _req_addChart(self, book: Spreadsheet, args: Mapping[str, Any]) -> dict[str, Any]:
        chart = copy.deepcopy(args.get("chart", {}))
        anchor = chart.get("position", {}).get("overlayPosition", {}).get("anchorCell", {})
        sheet_id = anchor.get("sheetId", chart.get("position", {}).get("sheetId"))
        sheet = self._sheet(book, sheet_id)
        for series in chart.get("spec", {}).get("basicChart", {}).get("series", []):
            for source in series.get("series", {}).get("sourceRange", {}).get("sources", []):
                self._grid(book, source)
        taken = {c["chartId"] for s in book.sheets for c in s.charts}
        chart_id = chart.get("chartId") or max(taken, default=0) + 1 + secrets.randbelow(10**6)
        if chart_id in taken:
            raise _RequestError(f"An embedded object with id {chart_id} already exists")
        chart["chartId"] = chart_id
        sheet.charts.append(chart)
        return {"addChart": {"chart": copy.deepcopy(chart)}}

    def _req_deleteEmbeddedObject(
        self, book: Spreadsheet, args: Mapping[str, Any]
    ) -> dict[str, Any]:
        object_id = args.get("objectId")
        for sheet in book.sheets:
            for chart in sheet.charts:
                if chart["chartId"] == object_id:
                    sheet.charts.remove(chart)
                    return {}
        raise _RequestError(f"No embedded object with id: {object_id}")

    def _req_setDataValidation(self, book: Spreadsheet, args: Mapping[str, Any]) -> dict[str, Any]:
        sheet, r0, r1, c0, c1 = self._grid(book, args.get("range", {}))
        rule = args.get("rule")
        if rule is not None:
            condition = rule.get("condition", {})
            if condition.get("type") == "ONE_OF_LIST" and not condition.get("values"):
                raise _RequestError("ONE_OF_LIST condition requires at least one value")
        for r in range(r0, r1):
            for c in range(c0, c1):
                self._apply_cell(sheet, r, c, {"dataValidation": rule}, [["dataValidation"]])
        return {}

    def _req_addConditionalFormatRule(
        self, book: Spreadsheet, args: Mapping[str, Any]
    ) -> dict[str, Any]:
        rule = copy.deepcopy(args.get("rule", {}))
        ranges = rule.get("ranges", [])
        if not ranges:
            raise _RequestError("A conditional format rule needs at least one range")
        sheet, *_ = self._grid(book, ranges[0])
        for rng in ranges[1:]:
            if self._grid(book, rng)[0] is not sheet:
                raise _RequestError("All ranges of a conditional format rule must be on one sheet")
        index = int(args.get("index", 0))
        if not 0 <= index <= len(sheet.conditional_formats):
            raise _RequestError(f"Invalid index {index} for a conditional format rule")
        sheet.conditional_formats.insert(index, rule)
        return {}

    def _req_deleteConditionalFormatRule(
        self, book: Spreadsheet, args: Mapping[str, Any]
    ) -> dict[str, Any]:
        sheet = self._sheet(book, args.get("sheetId", 0))
        index = int(args.get("index", 0))
        if not 0 <= index < len(sheet.conditional_formats):
            raise _RequestError(f"No conditional format on sheet {sheet.sheet_id} at {index}")
        rule = sheet.conditional_formats.pop(index)
        return {"deleteConditionalFormatRule": {"rule": rule}}

    def _req_copyPaste(self, book: Spreadsheet, args: Mapping[str, Any]) -> dict[str, Any]:
        if (
            args.get("pasteType", "PASTE_NORMAL") != "PASTE_NORMAL"
            or args.get("pasteOrientation", "NORMAL") != "NORMAL"
        ):
            raise _RequestError("only PASTE_NORMAL / NORMAL pastes are supported by the fake")
        source, r0, r1, c0, c1 = self._grid(book, args.get("source", {}))
        dest = args.get("destination", {})
        target = self._sheet(book, dest.get("sheetId", 0))
        d0, e0 = int(dest.get("startRowIndex", 0)), int(dest.get("startColumnIndex", 0))
        # Like Google: the whole source is pasted from the destination's top-left corner.
        self._grid(book, {"sheetId": target.sheet_id, "startRowIndex": d0,
                          "endRowIndex": d0 + r1 - r0, "startColumnIndex": e0,
                          "endColumnIndex": e0 + c1 - c0})  # fmt: skip
        copied = {
            (r - r0, c - c0): copy.deepcopy(source.cells.get((r, c), {}))
            for r in range(r0, r1)
            for c in range(c0, c1)
        }
        for (r, c), cell in copied.items():
            target.set_cell(d0 + r, e0 + c, cell)
        return {}


_WRITES = frozenset(
    {
        "spreadsheets.batchUpdate",
        "values.update",
        "values.batchUpdate",
        "values.clear",
        "values.append",
    }
)


def _retry_after_text(value: float | str) -> str:
    """A Retry-After header's text: whole seconds, or the HTTP date given as it is."""
    if isinstance(value, str):
        return value
    if value < 0:
        raise ValueError("retry_after must not be negative")
    return str(math.ceil(value))


class _RequestError(Exception):
    """One request of a batchUpdate is invalid (the whole batch is refused)."""


def _condition_holds(condition: Mapping[str, Any], value: float) -> bool:
    """Whether a number meets a NUMBER_EQ / NUMBER_BETWEEN / NUMBER_GREATER… condition."""
    bounds = [float(v["userEnteredValue"]) for v in condition.get("values", [])]
    kind = condition.get("type")
    if kind == "NUMBER_EQ":
        return value == bounds[0]
    if kind == "NUMBER_BETWEEN":
        return bounds[0] <= value <= bounds[1]
    if kind == "NUMBER_GREATER":
        return value > bounds[0]
    if kind == "NUMBER_GREATER_THAN_EQ":
        return value >= bounds[0]
    if kind == "NUMBER_LESS":
        return value < bounds[0]
    if kind == "NUMBER_LESS_THAN_EQ":
        return value <= bounds[0]
    raise NotImplementedError(f"the fake does not evaluate {kind} conditions")


def _check_frozen(sheet: Sheet) -> None:
    if sheet.frozen_rows and sheet.frozen_rows >= sheet.rows:
        raise _RequestError("You can't freeze all visible rows on the sheet.")
    if sheet.frozen_columns and sheet.frozen_columns >= sheet.columns:
        raise _RequestError("You can't freeze all visible columns on the sheet.")


def _clip_filter(sheet: Sheet, flt: dict[str, Any]) -> dict[str, Any]:
    rng = flt.get("range", {})
    for key, limit in (("endRowIndex", sheet.rows), ("endColumnIndex", sheet.columns)):
        if key in rng:
            rng[key] = min(int(rng[key]), limit)
    return flt


def _check_enabled(disabled: set[str], kind: str) -> None:
    """Google's answer when the caller's Cloud project has not enabled the API."""
    api = "drive" if kind.startswith("drive.") else "sheets"
    if api not in disabled:
        return
    name, host = (
        ("Google Drive API", "drive") if api == "drive" else ("Google Sheets API", "sheets")
    )
    message = (
        f"{name} has not been used in project 123456789012 before or it is disabled. Enable it "
        f"by visiting https://console.developers.google.com/apis/api/{host}.googleapis.com/"
        "overview?project=123456789012 then retry. If you enabled this API recently, wait a few "
        "minutes for the action to propagate to our systems and retry."
    )
    raise google_error(
        403,
        message,
        details=[
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "SERVICE_DISABLED",
                "domain": "googleapis.com",
                "metadata": {
                    "service": f"{host}.googleapis.com",
                    "consumer": "projects/123456789012",
                },
            }
        ],
    )


def _need(scopes: frozenset[str], any_of: set[str]) -> None:
    if not scopes & any_of:
        raise google_error(
            403,
            "Request had insufficient authentication scopes.",
            details=[
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT",
                    "domain": "googleapis.com",
                }
            ],
        )


def _first(query: Mapping[str, list[str]], key: str) -> str:
    values = query.get(key)
    return values[0] if values else ""


def _json_body(raw: bytes) -> Any:
    try:
        return json.loads(raw.decode("utf-8"))
    except ValueError:
        raise google_error(400, "Invalid JSON payload received.") from None


_SHEETS_PATH = re.compile(r"^(?:/[^/]+)*?/v4/spreadsheets(?:/([^/:?]+))?(.*)$")
_DRIVE_PATH = re.compile(r"^(?:/[^/]+)*?/drive/v3/files(?:/([^/?]+))?$")
_PERMISSIONS_PATH = re.compile(r"^(?:/[^/]+)*?/drive/v3/files/([^/?]+)/permissions$")


def _classify(method: str, raw_path: str) -> tuple[str, str | None]:
    """The API method a request calls ('values.batchGet', ...) and its spreadsheet id."""
    if raw_path.rstrip("/").endswith("/token"):
        return "oauth.token", None
    permissions = _PERMISSIONS_PATH.match(raw_path)
    if permissions:
        kind = "drive.permissions.list" if method == "GET" else "unknown"
        return kind, unquote(permissions.group(1))
    drive = _DRIVE_PATH.match(raw_path)
    if drive:
        file_id = unquote(drive.group(1)) if drive.group(1) else None
        if file_id is None:
            kinds = {"POST": "drive.files.create", "GET": "drive.files.list"}
            return kinds.get(method, "unknown"), None
        return {"GET": "drive.files.get", "DELETE": "drive.files.delete"}.get(
            method, "unknown"
        ), file_id
    sheets = _SHEETS_PATH.match(raw_path)
    if not sheets or not sheets.group(1):
        return "unknown", None
    sid, rest = unquote(sheets.group(1)), sheets.group(2)
    if rest == "" and method == "GET":
        return "spreadsheets.get", sid
    if rest == ":batchUpdate" and method == "POST":
        return "spreadsheets.batchUpdate", sid
    if rest == "/values:batchGet" and method == "GET":
        return "values.batchGet", sid
    if rest == "/values:batchUpdate" and method == "POST":
        return "values.batchUpdate", sid
    if rest.startswith("/values/"):
        if method == "GET":
            return "values.get", sid
        if method == "PUT":
            return "values.update", sid
        if method == "POST" and rest.endswith(":clear"):
            return "values.clear", sid
        if method == "POST" and rest.endswith(":append"):
            return "values.append", sid
    return "unknown", sid


def _trim(row: list[Any]) -> list[Any]:
    while row and row[-1] == "":
        row.pop()
    return row


def _rows(
    sheet: Sheet, r0: int, r1: int, c0: int, c1: int, *, value_render: str, date_render: str
) -> list[list[Any]]:
    """Rendered rows of a block with trailing empty cells and rows trimmed, as Google does."""
    out: list[list[Any]] = []
    for r in range(r0, r1):
        row = [render(sheet.cells.get((r, c)), value_render, date_render) for c in range(c0, c1)]
        out.append(_trim(row))
    while out and not out[-1]:
        out.pop()
    return out


def _grid_data(sheet: Sheet, span: a1.Span) -> dict[str, Any]:
    r0, r1, c0, c1 = span.clip(sheet.rows, sheet.columns)
    row_data = []
    for r in range(r0, r1):
        values = []
        for c in range(c0, c1):
            cell = copy.deepcopy(sheet.cells.get((r, c), {}))
            if "userEnteredValue" in cell:
                shown = render(cell, "UNFORMATTED_VALUE", "SERIAL_NUMBER")
                kind = (
                    "boolValue"
                    if isinstance(shown, bool)
                    else "numberValue"
                    if isinstance(shown, int | float)
                    else "stringValue"
                )
                cell["effectiveValue"] = {kind: shown}
                cell["formattedValue"] = render(cell, "FORMATTED_VALUE", "FORMATTED_STRING")
            values.append(cell)
        while values and not values[-1]:
            values.pop()
        row_data.append({"values": values} if values else {})
    while row_data and not row_data[-1]:
        row_data.pop()
    data: dict[str, Any] = {}
    if r0:
        data["startRow"] = r0
    if c0:
        data["startColumn"] = c0
    if row_data:
        data["rowData"] = row_data
    return data


def _cell_paths(fields: str) -> list[list[str]]:
    """The CellData fields a mask names ('*' = all that the fake stores)."""
    paths = _field_paths(fields)
    if ["*"] in paths:
        return [["userEnteredValue"], ["userEnteredFormat"], ["note"], ["dataValidation"]]
    return paths


def _field_paths(fields: str) -> list[list[str]]:
    """'a.b(c,d),e' or 'a/b,e' as paths [['a','b','c'], ['a','b','d'], ['e']]."""
    tree = parse_mask(fields)

    def walk(node: dict[str, Any], prefix: list[str]) -> list[list[str]]:
        if not node:
            return [prefix]
        out: list[list[str]] = []
        for key, sub in node.items():
            out += walk(sub, [*prefix, key])
        return out

    return walk(tree, []) if tree else []


def parse_mask(fields: str) -> dict[str, Any]:
    """Parse a partial-response field mask into a tree ({} = everything below)."""
    tree: dict[str, Any] = {}
    pos = 0
    text = fields.replace("/", ".").replace(" ", "")

    def parse_list(node: dict[str, Any]) -> None:
        nonlocal pos
        while pos < len(text):
            start = pos
            while pos < len(text) and text[pos] not in ",()":
                pos += 1
            target = node
            for part in text[start:pos].split("."):
                if part:
                    target = target.setdefault(part, {})
            if pos < len(text) and text[pos] == "(":
                pos += 1
                parse_list(target)
                pos += 1  # ')'
            if pos < len(text) and text[pos] == ",":
                pos += 1
                continue
            if pos < len(text) and text[pos] == ")":
                return

    parse_list(tree)
    return tree


def apply_mask(resource: Any, fields: str) -> Any:
    """`resource` reduced to the fields named by a partial-response mask."""
    tree = parse_mask(fields)
    if not tree or "*" in tree:
        return resource

    def cut(value: Any, node: dict[str, Any]) -> Any:
        if not node:
            return value
        if isinstance(value, list):
            return [cut(v, node) for v in value]
        if isinstance(value, dict):
            out = {k: cut(value[k], sub) for k, sub in node.items() if k in value}
            return out
        return value

    return cut(resource, tree)
