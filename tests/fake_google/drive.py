"""The fake's Drive v3 files: folders and uploaded files beside the spreadsheets, `files.get`
with `parents`/`webViewLink`, and `files.list` with a `q` search and pages, as Google answers.

What the fake models of Drive's sharing: a file is visible to an account when it is shared with
it (or with everyone), or when a folder above it is; `parents` names only the visible parents.
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

FOLDER_MIME = "application/vnd.google-apps.folder"
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


@dataclass
class DriveFile:
    """A Drive file that is not a spreadsheet (a folder, a photo AppSheet uploaded)."""

    file_id: str
    name: str
    mime_type: str
    parents: list[str] = field(default_factory=list)
    shared_with: set[str] | None = None
    """Accounts it is shared with directly; None: anyone."""
    trashed: bool = False

    @property
    def web_view_link(self) -> str:
        """The link Drive gives for opening the file in a browser."""
        if self.mime_type == FOLDER_MIME:
            return f"https://drive.google.com/drive/folders/{self.file_id}"
        return f"https://drive.google.com/file/d/{self.file_id}/view?usp=drivesdk"


class DriveQueryError(ValueError):
    """A `q` Drive does not understand (answered 400 Invalid Value)."""


Predicate = Callable[[Mapping[str, Any]], bool]
_TOKEN = re.compile(r"\s*(?:(?P<s>'(?:[^'\\]|\\.)*')|(?P<op>!=|=|\(|\))|(?P<w>[A-Za-z]+))")


def _tokens(q: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    pos = 0
    while pos < len(q.rstrip()):
        match = _TOKEN.match(q, pos)
        if not match:
            raise DriveQueryError(q)
        pos = match.end()
        if match.group("s") is not None:
            body = match.group("s")[1:-1]
            out.append(("s", re.sub(r"\\(.)", r"\1", body)))
        elif match.group("op") is not None:
            out.append(("op", match.group("op")))
        else:
            out.append(("w", match.group("w")))
    return out


def parse_query(q: str) -> Predicate:
    """A predicate over file resources for Drive's search syntax (the subset hqsync uses:
    `'id' in parents`, `name`/`mimeType` `=`/`!=` 'text', `trashed = true|false`, and/or/not
    and parentheses). Raises DriveQueryError for anything else."""
    tokens = _tokens(q)
    pos = 0

    def peek() -> tuple[str, str] | None:
        return tokens[pos] if pos < len(tokens) else None

    def take(kind: str, value: str | None = None) -> str:
        nonlocal pos
        token = peek()
        if token is None or token[0] != kind or (value is not None and token[1] != value):
            raise DriveQueryError(q)
        pos += 1
        return token[1]

    def expr() -> Predicate:
        parts = [conj()]
        while peek() == ("w", "or"):
            take("w", "or")
            parts.append(conj())
        return lambda f: any(p(f) for p in parts)

    def conj() -> Predicate:
        parts = [atom()]
        while peek() == ("w", "and"):
            take("w", "and")
            parts.append(atom())
        return lambda f: all(p(f) for p in parts)

    def atom() -> Predicate:
        token = peek()
        if token == ("op", "("):
            take("op", "(")
            inner = expr()
            take("op", ")")
            return inner
        if token == ("w", "not"):
            take("w", "not")
            negated = atom()
            return lambda f: not negated(f)
        if token is not None and token[0] == "s":
            value = take("s")
            take("w", "in")
            take("w", "parents")
            return lambda f: value in f.get("parents", [])
        name = take("w")
        op = take("op")
        if op not in ("=", "!="):
            raise DriveQueryError(q)
        if name == "trashed":
            wanted = take("w")
            if wanted not in ("true", "false"):
                raise DriveQueryError(q)
            flag = wanted == "true"
            return lambda f: (f.get("trashed", False) == flag) == (op == "=")
        if name not in ("name", "mimeType"):
            raise DriveQueryError(q)
        text = take("s")
        return lambda f: (f.get(name) == text) == (op == "=")

    predicate = expr()
    if pos != len(tokens):
        raise DriveQueryError(q)
    return predicate


def page_token(offset: int, q: str) -> str:
    """An opaque page token bound to its query."""
    digest = hashlib.sha256(q.encode()).hexdigest()[:12]
    return base64.urlsafe_b64encode(f"{offset}:{digest}".encode()).decode()


def page_offset(token: str, q: str) -> int:
    """The offset a page token stands for (ValueError if it is not one of this query's)."""
    offset, _, digest = base64.urlsafe_b64decode(token.encode()).decode().partition(":")
    if digest != hashlib.sha256(q.encode()).hexdigest()[:12]:
        raise ValueError(token)
    return int(offset)


def list_page(
    resources: Iterator[dict[str, Any]], q: str, page_size: int, token: str
) -> dict[str, Any]:
    """One page of `files.list`: the matching resources from the token's offset on."""
    predicate = parse_query(q) if q.strip() else (lambda _f: True)
    matching = [r for r in resources if predicate(r)]
    start = page_offset(token, q) if token else 0
    page = matching[start : start + page_size]
    body: dict[str, Any] = {"kind": "drive#fileList", "incompleteSearch": False, "files": page}
    if start + page_size < len(matching):
        body["nextPageToken"] = page_token(start + page_size, q)
    return body


class DriveFiles:
    """The Drive side of `FakeGoogle` (a mixin): folders and files beside the spreadsheets."""

    spreadsheets: dict[str, Any]
    drive_files: dict[str, DriveFile]
    sheet_parents: dict[str, list[str]]

    def add_folder(
        self, name: str, parent: str | None = None, *, shared_with: set[str] | None = None
    ) -> str:
        """Create a folder (in `parent`); returns its id."""
        return self.add_drive_file(name, parent, FOLDER_MIME, shared_with=shared_with)

    def add_drive_file(
        self,
        name: str,
        parent: str | None,
        mime_type: str = "image/jpeg",
        *,
        shared_with: set[str] | None = None,
    ) -> str:
        """Create a file (a photo by default) in folder `parent`; returns its id."""
        file_id = "1" + hashlib.sha256(f"{len(self.drive_files)}:{name}".encode()).hexdigest()[:32]
        parents = [parent] if parent else []
        self.drive_files[file_id] = DriveFile(file_id, name, mime_type, parents, shared_with)
        return file_id

    def move_to_folder(self, file_id: str, folder_id: str) -> None:
        """Put a spreadsheet (or a file) in a folder, as a user moving it in Drive."""
        if file_id in self.drive_files:
            self.drive_files[file_id].parents = [folder_id]
        else:
            self.sheet_parents[file_id] = [folder_id]

    def web_view_link(self, file_id: str) -> str:
        """The webViewLink Drive gives for a file."""
        if file_id in self.drive_files:
            return self.drive_files[file_id].web_view_link
        return f"https://docs.google.com/spreadsheets/d/{file_id}/edit?usp=drivesdk"

    def drive_visible(self, file_id: str, account: str | None, depth: int = 0) -> bool:
        """True when `account` can see the file: shared with it, or below a folder that is."""
        if depth > 50:
            return False
        if file_id in self.drive_files:
            item = self.drive_files[file_id]
            direct = item.shared_with is None or (account or "") in item.shared_with
            parents = item.parents
        elif file_id in self.spreadsheets:
            direct = self.spreadsheets[file_id].role(account) is not None
            parents = self.sheet_parents.get(file_id, [])
        else:
            return False
        return direct or any(self.drive_visible(p, account, depth + 1) for p in parents)

    def drive_resource(self, file_id: str, account: str | None) -> dict[str, Any]:
        """The full file resource of a folder, a file or a spreadsheet, as `account` sees it."""
        if file_id in self.drive_files:
            item = self.drive_files[file_id]
            resource = {
                "kind": "drive#file",
                "id": item.file_id,
                "name": item.name,
                "mimeType": item.mime_type,
                "trashed": item.trashed,
                "parents": item.parents,
            }
        else:
            book = self.spreadsheets[file_id]
            resource = {
                "kind": "drive#file",
                "id": file_id,
                "name": book.title,
                "mimeType": "application/vnd.google-apps.spreadsheet",
                "createdTime": book.created,
                "modifiedTime": book.modified,
                "capabilities": {"canEdit": book.role(account) in ("writer", "owner")},
                "trashed": False,
                "parents": self.sheet_parents.get(file_id, []),
            }
        resource["webViewLink"] = self.web_view_link(file_id)
        resource["parents"] = [p for p in resource["parents"] if self.drive_visible(p, account)]
        return resource

    def drive_list(self, query: Mapping[str, list[str]], account: str | None) -> dict[str, Any]:
        """`files.list`: the visible files matching `q`, a page at a time."""
        from tests.fake_google.api import apply_mask, google_error

        def first(key: str) -> str:
            return query.get(key, [""])[0]

        q = first("q")
        try:
            size = int(first("pageSize") or DEFAULT_PAGE_SIZE)
            if not 1 <= size <= MAX_PAGE_SIZE:
                raise ValueError(size)
            everything = (
                self.drive_resource(i, account)
                for i in [*self.drive_files, *self.spreadsheets]
                if self.drive_visible(i, account)
            )
            body = list_page(everything, q, size, first("pageToken"))
        except (ValueError, KeyError):
            raise google_error(
                400,
                "Invalid Value",
                errors=[{"domain": "global", "reason": "invalid", "message": "Invalid Value"}],
            ) from None
        fields = first("fields")
        if not fields:
            body["files"] = [
                {k: f[k] for k in ("kind", "id", "name", "mimeType")} for f in body["files"]
            ]
            return body
        return dict(apply_mask(body, fields))
