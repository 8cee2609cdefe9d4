"""Drive links of AppSheet's evidence files: `<Table>_Images/<file>` paths, relative to the
folder of the source sheet, resolved to each file's `webViewLink` (read-only metadata scope).

A resolution costs a bounded number of requests whatever the number of paths: one `files.get`
(the sheet's parents), one `files.list` of the named folders in them, and one `files.list` per
thousand files in those folders (see ARCHITECTURE.md, evidence links).
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Collection
from typing import Any

from gspread.http_client import ParamsType

from hqsync.config.utils import http_link
from hqsync.sync.google.client import DRIVE_FILES_URL, GoogleClient

log = logging.getLogger(__name__)

FOLDER_MIME = "application/vnd.google-apps.folder"
PAGE_SIZE = 1000
"""Drive's largest page of `files.list`."""
MAX_PAGES = 50
"""Pages read of one listing at most (50,000 files), so a wrong folder cannot run forever."""
_COMMON: ParamsType = {"supportsAllDrives": "true"}


def drive_path(evidence: str) -> tuple[str, str] | None:
    """(folder, file name) of a relative path `<Table>_Images/<file>`; None for another shape."""
    parts = evidence.strip().split("/")
    if len(parts) != 2 or any(p.strip() in ("", ".", "..") for p in parts):
        return None
    return parts[0].strip(), parts[1].strip()


def query_text(value: str) -> str:
    """`value` as a quoted string of Drive's search syntax (quotes and backslashes escaped)."""
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _same(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def resolve_drive_links(
    client: GoogleClient, spreadsheet_id: str, paths: Collection[str]
) -> dict[str, str | None]:
    """Each path's Drive link (webViewLink) when its file is found in its folder beside the
    spreadsheet and visible to the account; None otherwise. Raises GoogleError."""
    result: dict[str, str | None] = dict.fromkeys(paths)
    wanted = {p: drive_path(p) for p in paths}
    names = sorted({where[0] for where in wanted.values() if where})
    if not names:
        return result
    sheet = _call(client, spreadsheet_id, f"{DRIVE_FILES_URL}/{spreadsheet_id}", "parents")
    parents = [str(p) for p in sheet.get("parents", [])]
    if not parents:
        log.warning(
            "evidence: the folder of spreadsheet %s is not visible to %s; share the AppSheet "
            "app's folder with it to link the evidence photos",
            spreadsheet_id,
            client.account,
        )
        return result
    folders = _list(
        client,
        spreadsheet_id,
        f"({_any_parent(parents)}) and mimeType = '{FOLDER_MIME}' and trashed = false and ("
        + " or ".join(f"name = {query_text(n)}" for n in names)
        + ")",
        "files(id,name)",
    )
    folder_names = {str(f["id"]): _same(str(f["name"])) for f in folders}
    if not folder_names:
        log.info("evidence: no folder %s beside spreadsheet %s", ", ".join(names), spreadsheet_id)
        return result
    files = _list(
        client,
        spreadsheet_id,
        f"({_any_parent(sorted(folder_names))}) and mimeType != '{FOLDER_MIME}' "
        "and trashed = false",
        "files(id,name,parents,webViewLink)",
    )
    links: dict[tuple[str, str], str] = {}
    for item in files:
        link = http_link(str(item.get("webViewLink") or ""))
        for parent in item.get("parents", []):
            if link and parent in folder_names:
                links.setdefault((folder_names[parent], _same(str(item["name"]))), link)
    for path, where in wanted.items():
        if where is not None:
            result[path] = links.get((_same(where[0]), _same(where[1])))
    return result


def _any_parent(ids: Collection[str]) -> str:
    return " or ".join(f"{query_text(i)} in parents" for i in ids)


def _call(client: GoogleClient, spreadsheet_id: str, url: str, fields: str) -> Any:
    params: ParamsType = {**_COMMON, "fields": fields}
    return client.call(
        spreadsheet_id,
        "linking the evidence of",
        lambda: client.http.request("get", url, params=params).json(),
    )


def _list(client: GoogleClient, spreadsheet_id: str, q: str, fields: str) -> list[Any]:
    """Every file `q` finds (all pages, at most MAX_PAGES)."""
    found: list[Any] = []
    token = ""
    for _ in range(MAX_PAGES):
        params: ParamsType = {
            **_COMMON,
            "includeItemsFromAllDrives": "true",
            "q": q,
            "pageSize": str(PAGE_SIZE),
            "fields": f"nextPageToken,{fields}",
        }
        if token:
            params["pageToken"] = token
        body = client.call(
            spreadsheet_id,
            "linking the evidence of",
            lambda params=params: client.http.request(  # type: ignore[misc]
                "get", DRIVE_FILES_URL, params=params
            ).json(),
        )
        found += body.get("files", [])
        token = str(body.get("nextPageToken") or "")
        if not token:
            return found
    log.warning("evidence: more than %d files beside spreadsheet %s", len(found), spreadsheet_id)
    return found
