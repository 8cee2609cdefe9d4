"""Small helpers every layer may use (like gspread's `utils` or sqlite-utils' `chunks`).

Like the rest of `hqsync.config`'s bottom layer, this module imports nothing of hqsync's.
"""

from __future__ import annotations

import gc
import re
import string
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from functools import cache, lru_cache
from typing import Any, TypeVar
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
            # What was built meanwhile joins the oldest generation, checked at the next full
            # collection: left young, the first collection after the pause walked all of it
            # (a tenth of a second after `hqsync score`). Not when something else froze
            # objects: unfreezing would hand them back to the collector too.
            if not gc.get_freeze_count():
                gc.freeze()
                gc.unfreeze()
            gc.enable()


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
"""What makes a spreadsheet program read text as a formula (OWASP's CSV-injection list)."""


def neutralise_formula(text: str) -> str:
    """`text` that no spreadsheet reads as a formula: a leading `'` when it starts like one.

    For plain-text outputs (CSV); typed writers keep text typed as text instead.
    """
    return "'" + text if text.startswith(FORMULA_STARTS) else text


# Vietnamese letters that are letters of their own, not accented ones (CLDR's `vi` tailoring:
# &A<ă<â &D<đ &E<ê &O<ô<ơ &U<ư), as their canonical decompositions. Tone marks stay
# secondary differences, as in the Unicode default.
_VI_LETTERS = ("a\u0306", "a\u0302", "e\u0302", "o\u0302", "o\u031b", "u\u031b")
_VI_AFTER_ALL_LETTERS = 0xF000
"""Primary weights above every letter's: a tailored letter sorts after every word of its base."""


@cache
def _vietnamese_collator() -> Any:
    """The Unicode collation table (pyuca) with the Vietnamese letters tailored in."""
    import pyuca  # loaded on first use: reading the table takes most of a second

    collator = pyuca.Collator()
    for rank, letters in enumerate(_VI_LETTERS, start=1):
        base, mark = letters[0], letters[1:]
        for case in (base, base.upper()):
            elements = collator.table.find_prefix([ord(case)])[1]
            extra = [_VI_AFTER_ALL_LETTERS + rank, 0x20, 0x02]
            own = [ord(case), *(ord(m) for m in mark)]
            collator.table.add(own, [*elements, extra])
    for stroke, base in (("\u0111", "d"), ("\u0110", "D")):  # đ has no decomposition
        elements = collator.table.find_prefix([ord(base)])[1]
        collator.table.add([ord(stroke)], [*elements, [_VI_AFTER_ALL_LETTERS + 3, 0x20, 0x02]])
    return collator


@lru_cache(maxsize=65_536)  # a dashboard orders the same few thousand names many times
def name_sort_key(name: str) -> tuple[int, ...]:
    """THE sort key of names shown to people (hospitals, districts): Vietnamese alphabetical
    order (A Ă Â B C D Đ E Ê … O Ô Ơ … U Ư …, tones after the bare letter), by the Unicode
    collation algorithm (pyuca) tailored as CLDR's `vi` collation."""
    return tuple(_vietnamese_collator().sort_key(name))


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


# Control characters no cell may carry: C0 except tab, line feed and carriage return, DEL and
# C1. Excel stores them as `_xHHHH_` escapes, which readers (openpyxl, calamine) may hand back
# either decoded or as the escape text itself: both are matched.
_CONTROL = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff]"
    "|_x(?:000[0-8bBcCeEfF]|001[0-9a-fA-F]|007[fF]|008[0-9a-fA-F]|009[0-9a-fA-F]|[fF]{3}[eEfF])_"
)
CUT_MARKER = " …[cut]"
"""Appended to text cut to fit a cell."""


def without_controls(text: str, replacement: str = "") -> str:
    """`text` without control characters (or with each shown as `replacement`, e.g. U+FFFD)."""
    return _CONTROL.sub(replacement, text) if _CONTROL.search(text) else text


def fit_text(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending with `CUT_MARKER` when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - len(CUT_MARKER))] + CUT_MARKER


_MASK = "***"
_SECRET_QUERY_WORDS = ("pass", "secret", "token", "key")
# scheme://user:password@host… — the password runs to the LAST '@' before the host. First try
# a password without '/', '?' or '#' (so an '@' in the query is not taken for the host's),
# then one that may hold a '/' (but no '?' or '#', so a port and path are never taken).
_URL_USERINFO = (
    re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^:/?#@]*):([^/?#]*)@([^@/?#]*(?:[/?#].*)?)$", re.S),
    re.compile(r"^([A-Za-z][A-Za-z0-9+.-]*://[^:/?#@]*):([^?#]*)@([^@/?#]*(?:[/?#].*)?)$", re.S),
)


def redact_url(url: str) -> str:
    """`url` with every secret masked as ***: the password of its userinfo (even one holding
    '@' or '/'), and the values of query keys naming a secret (password, sslpassword, passfile,
    token, secret, …key)."""
    for pattern in _URL_USERINFO:
        match = pattern.match(url)
        if match:
            url = f"{match.group(1)}:{_MASK}@{match.group(3)}"
            break
    head, sep, query = url.partition("?")
    if not sep:
        return url
    query, hash_sep, fragment = query.partition("#")
    parts = []
    for part in query.split("&"):
        key, eq, _value = part.partition("=")
        secret = eq and any(word in key.lower() for word in _SECRET_QUERY_WORDS)
        parts.append(f"{key}={_MASK}" if secret else part)
    return f"{head}?{'&'.join(parts)}{hash_sep}{fragment}"
