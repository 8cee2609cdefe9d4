"""Small helpers every layer may use (like gspread's `utils` or sqlite-utils' `chunks`).

Like the rest of `hqsync.config`'s bottom layer, this module imports nothing of hqsync's.
"""

from __future__ import annotations

import gc
import string
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import TypeVar
from urllib.parse import quote

T = TypeVar("T")

IN_CHUNK = 500
"""Keys per `IN (...)` list: far below SQLite's 32,766 variables and PostgreSQL's 65,535."""


def chunks(items: Sequence[T], size: int) -> Iterator[Sequence[T]]:
    """Consecutive slices of `items`, each at most `size` long."""
    if size < 1:
        raise ValueError(f"chunk size must be at least 1, not {size}")
    for start in range(0, len(items), size):
        yield items[start : start + size]


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building many small acyclic objects."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


LINK_SCHEMES = ("http", "https")
"""The only schemes a link hqsync writes may have: never javascript:, data:, file:, …"""
LINK_FIELDS = ("path", "tab")
"""The placeholders of a link template (`[[sources]] evidence_url`)."""
_URL_SAFE = "/:?#[]@!$&'()*+,;=%~"
"""Characters left as they are when a URL is made safe (its reserved ones and '%')."""


def http_link(text: str) -> str | None:
    """`text` as a link if it is an http(s) URL with a host, else None.

    Characters a URL may not hold (spaces, quotes, control characters, non-ASCII) are
    percent-encoded, so the link is always one inert URL."""
    candidate = text.strip()
    scheme, sep, rest = candidate.partition("://")
    if not sep or scheme.lower() not in LINK_SCHEMES:
        return None
    host = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if not host or any(c.isspace() or c in "<>\"'\\`{}|^" for c in host):
        return None
    return f"{scheme.lower()}://{quote(rest, safe=_URL_SAFE)}"


def link_template_problem(template: str) -> str | None:
    """What is wrong with a link template (None when it is usable): it must be an http(s) URL
    whose scheme and host come before any placeholder, hold `{path}`, and no other
    placeholder than `{path}` and `{tab}`."""
    try:
        fields = {f for _, f, _, _ in string.Formatter().parse(template) if f is not None}
    except ValueError as exc:
        return f"its braces do not pair ({exc}); write {{{{ and }}}} for literal braces"
    unknown = sorted(fields - set(LINK_FIELDS))
    if unknown:
        return f"unknown placeholder(s) {', '.join(unknown)}: use only {{path}} and {{tab}}"
    if "path" not in fields:
        return "it holds no {path}"
    head = template.partition("{")[0]
    if http_link(head) is None or not any(c in head.partition("://")[2] for c in "/?#"):
        return "it must start with http:// or https:// and a host, before any placeholder"
    return None


def format_link(template: str, path: str, tab: str) -> str | None:
    """The link a checked template gives for `path` (the cell's text) in tab `tab`: both are
    URL-encoded whole (every '/', '=', quote and space), so the cell's text stays inert."""
    url = template.format(path=quote(path.strip(), safe=""), tab=quote(tab, safe=""))
    return http_link(url)
