"""A1 notation as the Sheets API reads and writes it: quoted tab names, open-ended ranges."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CELL = re.compile(r"^([A-Za-z]*)(\d*)$")
_PLAIN_TAB = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class RangeError(ValueError):
    """A range Google would refuse with 'Unable to parse range'."""


@dataclass(frozen=True)
class Span:
    """A block of cells, 0-based, end-exclusive; None means 'to the edge of the grid'."""

    row0: int
    row1: int | None
    col0: int
    col1: int | None

    def clip(self, rows: int, cols: int) -> tuple[int, int, int, int]:
        """The span bounded by a grid of `rows` x `cols`."""
        r1 = rows if self.row1 is None else min(self.row1, rows)
        c1 = cols if self.col1 is None else min(self.col1, cols)
        return self.row0, r1, self.col0, c1


def column_letters(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def column_index(letters: str) -> int:
    """A → 0, AA → 26."""
    index = 0
    for ch in letters.upper():
        index = index * 26 + ord(ch) - 64
    return index - 1


def sheet_prefix(title: str) -> str:
    """The tab part of a range as Google returns it: bare when plain, else quoted."""
    cell = _CELL.match(title)
    looks_like_cell = cell is not None and len(cell.group(1)) <= 3 and bool(cell.group(2))
    if _PLAIN_TAB.match(title) and not looks_like_cell:
        return title
    return "'" + title.replace("'", "''") + "'"


def format_range(title: str, row0: int, row1: int, col0: int, col1: int) -> str:
    """`'Tab'!A1:B2` (or `Tab!A1` for one cell) for a clipped, end-exclusive block."""
    start = f"{column_letters(col0)}{row0 + 1}"
    end = f"{column_letters(max(col1 - 1, col0))}{max(row1, row0 + 1)}"
    cells = start if start == end else f"{start}:{end}"
    return f"{sheet_prefix(title)}!{cells}"


def split_range(text: str, titles: list[str]) -> tuple[str, Span]:
    """The tab title and cell span of an A1 range; a bare tab name means the whole tab."""
    text = text.strip()
    if text.startswith("'"):
        i, name = 1, []
        while i < len(text):
            if text[i] == "'":
                if i + 1 < len(text) and text[i + 1] == "'":
                    name.append("'")
                    i += 2
                    continue
                break
            name.append(text[i])
            i += 1
        else:
            raise RangeError(text)
        title, rest = "".join(name), text[i + 1 :]
        if rest and not rest.startswith("!"):
            raise RangeError(text)
        cells = rest[1:]
    elif text in titles:
        title, cells = text, ""
    elif "!" in text:
        title, cells = text.rsplit("!", 1)
    elif titles and _is_cells(text):
        title, cells = titles[0], text
    else:
        raise RangeError(text)
    if title not in titles:
        raise RangeError(text)
    return title, parse_cells(cells, text)


def _is_cells(text: str) -> bool:
    try:
        parse_cells(text, text)
    except RangeError:
        return False
    return True


def parse_cells(cells: str, original: str) -> Span:
    """`A1`, `A1:B2`, `A:A`, `2:3`, `A2:2`, `A2:B` or '' (everything) as a Span."""
    if not cells:
        return Span(0, None, 0, None)
    parts = cells.split(":")
    if len(parts) > 2:
        raise RangeError(original)
    matches = [_CELL.match(p) for p in parts]
    if any(m is None or not (m.group(1) or m.group(2)) for m in matches):
        raise RangeError(original)
    start = matches[0]
    assert start is not None
    c0 = column_index(start.group(1)) if start.group(1) else 0
    r0 = int(start.group(2)) - 1 if start.group(2) else 0
    if len(parts) == 1:
        if not (start.group(1) and start.group(2)):
            raise RangeError(original)
        return Span(r0, r0 + 1, c0, c0 + 1)
    end = matches[1]
    assert end is not None
    c1 = column_index(end.group(1)) + 1 if end.group(1) else None
    r1 = int(end.group(2)) if end.group(2) else None
    if r0 < 0 or (r1 is not None and r1 <= r0) or (c1 is not None and c1 <= c0):
        raise RangeError(original)
    return Span(r0, r1, c0, c1)
