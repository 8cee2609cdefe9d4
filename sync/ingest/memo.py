"""Memos: a compact picture of a tab as it was after its last sync, for fast re-syncs.

A re-sync of a 500,000-row tab where 1% of rows changed should not pay for the other 99%.
After each sync hqsync keeps, per source and tab, a memo: for every data row the first bytes of
the hash it is stored under (zeros when the row was not stored: rejected or blank), and for
every block of `BLOCK_ROWS` rows one digest of the block's raw cells (zeros when some row of
the block was not stored). On the next sync a block whose cells digest the same, read in the
same context, holds exactly the rows the store holds at those places: it is *settled* and is
neither parsed nor hashed row by row nor looked up in the store. Rows of other blocks are
hashed one by one and settled when their hash matches the memo's at the same place.

Digests are 8 bytes (blake2b): a changed block or row is taken for unchanged with odds of
2^-64. Pure: bytes in, bytes out. Cells are serialised as the row hasher serialises them
(`hqsync.sync.ingest.hashing.marshallable`). The store side (reading and writing memos, catching
a row that takes the key of a settled one) lives in `hqsync.sync.ingest.diff`. See ARCHITECTURE.md.
"""

from __future__ import annotations

import hashlib
import marshal
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import groupby, repeat
from operator import eq, itemgetter, ne
from typing import Any, cast

from hqsync.sync.ingest.hashing import marshallable
from hqsync.sync.interfaces import CellValue

BLOCK_ROWS = 8
"""Rows per block digest. Small enough that 1% of rows changed at random leaves most blocks
settled (8% of rows to check one by one), large enough that hashing blocks costs little."""
DIGEST_BYTES = 8
"""Bytes kept of each row's stored hash and of each block digest."""
MOVED_AFTER = 10_000
"""Rows not settled in place after which the memo's digests are indexed to recognise rows
that only moved (e.g. a row deleted near the top); below it parsing them is cheaper."""

NOT_STORED = 0
"""`Settled.states` value: the row is not stored (rejected, blank, or not looked at yet)."""
STORED = 1
"""`Settled.states` value: the row is stored as a usable row (returned as a SourceRow)."""
SETTLED = 2
"""`Settled.states` value: the row is exactly as the store holds it at this place."""

_ZERO = bytes(DIGEST_BYTES)
NO_HASH = "0" * (2 * DIGEST_BYTES)
"""`MemoScan.hashes` value of a row that is not stored."""
_short_hex = itemgetter(slice(0, 2 * DIGEST_BYTES))


@dataclass(frozen=True)
class TabMemo:
    """What one tab of a source looked like after a sync (see the module docstring)."""

    tab_kind: str
    context: str
    """Digest of what every row's parse depends on besides its cells (headers, time zone...)."""
    parents: str
    """Digest of the parent rows the tab's rows refer to (their keys and rule sets)."""
    block_rows: int
    blocks: bytes
    """DIGEST_BYTES per block of `block_rows` data rows; zeros: a row of it was not stored."""
    rows: bytes
    """DIGEST_BYTES per data row (row 2 first): its stored hash's first bytes; zeros: not stored."""
    live: int = -1
    """Live (not tombstoned) stored rows of the tab after that sync; -1 until stored."""
    kept: Mapping[str, tuple[int, str]] = field(default_factory=dict)
    """Key → (row number, row hash) of stored rows whose key a rejected row of the last sync
    also carried (a duplicate the sheet keeps); read beside the memo, not stored in it."""


@dataclass(frozen=True)
class Settled:
    """Which rows of a tab the memo showed to be stored exactly as they are, in place."""

    count: int
    states: bytes
    """One byte per data row (row 2 first): NOT_STORED, STORED or SETTLED."""
    digests: bytes
    """The new memo's rows: DIGEST_BYTES per data row."""
    expected_live: int
    """Live stored rows the previous memo recorded."""

    def holds(self, row_number: int, row_hash: str) -> bool:
        """True when `row_number` is settled and its stored row has the hash `row_hash`."""
        index = row_number - 2
        if not 0 <= index < len(self.states) or self.states[index] != SETTLED:
            return False
        start = index * DIGEST_BYTES
        return self.digests[start : start + DIGEST_BYTES] == short_digest(row_hash)


def short_digest(row_hash: str) -> bytes:
    """The first DIGEST_BYTES of a row hash (hex), as a memo keeps them."""
    return bytes.fromhex(row_hash[: 2 * DIGEST_BYTES])


def text_digest(text: str) -> str:
    """A 64-character hex digest of `text` (for a memo's context and parents)."""
    return hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=32).hexdigest()


def block_digests(rows: Sequence[Sequence[CellValue]], block_rows: int) -> list[bytes]:
    """One digest per block of `block_rows` rows, of their cells.

    What else the rows' meaning depends on is compared separately (`TabMemo.context` and
    `TabMemo.parents`), so the digests hold only cells: a block per C call or two."""
    blocks = [slice(start, start + block_rows) for start in range(0, len(rows), block_rows)]
    try:
        # marshal version 2 writes by value only (no back-references): same cells, same bytes.
        return [_digest(marshal.dumps(cast(Any, rows[block]), 2)) for block in blocks]
    except ValueError:  # date cells (some readers) are not marshallable
        return [
            _digest(
                marshal.dumps(
                    cast(Any, tuple(tuple(map(marshallable, row)) for row in rows[block])), 2
                )
            )
            for block in blocks
        ]


def _digest(payload: bytes) -> bytes:
    return hashlib.blake2b(payload, digest_size=DIGEST_BYTES).digest()


class MemoScan:
    """One tab's data rows checked against the previous memo; collects the next memo.

    After construction, `visit` lists the (start, end) data-row index ranges that must be
    looked at row by row; every other row is settled. The caller sets `hashes[index]` to the
    row hash of each row it stores (a list, so that 500k rows cost a store each) and asks
    `settled_in_place` / `seen_before` about rows it has hashed.
    """

    def __init__(
        self,
        tab_kind: str,
        rows: Sequence[Sequence[CellValue]],
        previous: TabMemo | None,
        *,
        context: str,
        parents: str,
        block_rows: int | None = None,
    ) -> None:
        block_rows = block_rows or BLOCK_ROWS
        count = len(rows)
        self.tab_kind = tab_kind
        self.context = context
        self.parents = parents
        self.block_rows = block_rows
        self.blocks = block_digests(rows, block_rows)
        self.count = count
        self.states = bytearray(count)
        self.hashes = [NO_HASH] * count
        self.settled = 0
        self.in_place: list[int] = []
        """Indexes of rows settled in place one by one (see `settled_in_place`)."""
        self.expected_live = -1
        self._misses = 0
        self._previous_digests: set[bytes] | None = None
        usable = (
            previous is not None
            and previous.tab_kind == tab_kind
            and previous.context == context
            and previous.block_rows == block_rows
            and previous.live >= 0
        )
        self.previous_rows = previous.rows if previous is not None and usable else b""
        self.kept: Mapping[str, tuple[int, str]] = (
            previous.kept if previous is not None and usable else {}
        )
        """Keys a rejected row carried last time, by the stored row that holds them."""
        self.previous_hex = self.previous_rows.hex()
        if previous is not None and usable:
            self.expected_live = previous.live
        same_parents = previous is not None and usable and previous.parents == parents
        old_blocks = previous.blocks if previous is not None and same_parents else b""
        step = DIGEST_BYTES
        old = [old_blocks[start : start + step] for start in range(0, len(old_blocks), step)]
        same = list(map(eq, self.blocks, old))
        same.extend(repeat(False, len(self.blocks) - len(same)))
        # Per block, in C: SETTLED for each row of a settled block, NOT_STORED otherwise.
        fill = {True: bytes([SETTLED]) * block_rows, False: bytes(block_rows)}
        self.states[:] = b"".join(map(fill.__getitem__, same))[:count]
        self.settled = self.states.count(SETTLED)
        visit: list[tuple[int, int]] = []
        number = 0
        for settled, run in groupby(same):
            length = len(list(run))
            if not settled:
                visit.append((number * block_rows, min((number + length) * block_rows, count)))
            number += length
        self.visit = visit

    @property
    def has_previous(self) -> bool:
        """True when a usable previous memo was given (rows can be settled)."""
        return bool(self.previous_rows)

    def settled_in_place(self, index: int, row_hash: str) -> bool:
        """Settle data row `index` if the memo holds the same hash at the same place."""
        start = index * 2 * DIGEST_BYTES
        short = row_hash[: 2 * DIGEST_BYTES]
        if self.previous_hex[start : start + 2 * DIGEST_BYTES] != short or short == NO_HASH:
            return False
        self.in_place.append(index)
        return True

    def settled_holder(self, key: str, row_number: int) -> int | None:
        """The row number of the settled row that holds `key` above `row_number`, if the last
        sync saw `key` on a rejected row too (a duplicate the sheet keeps); else None.

        A settled row is unread, but the store holds its key: reading every row, the row at
        `row_number` would be a duplicate of it. Ask only in sheet order (row numbers rising).
        """
        held = self.kept.get(key)
        if held is None or held[0] >= row_number:
            return None
        index = held[0] - 2
        if not 0 <= index < self.count:
            return None
        if self.states[index] != SETTLED and index not in self.in_place:
            return None
        start = index * DIGEST_BYTES
        if self.previous_rows[start : start + DIGEST_BYTES] != short_digest(held[1]):
            return None
        return held[0]

    def seen_before(self, row_hash: str) -> bool:
        """True when the memo holds `row_hash` at some place (the row moved, unchanged).

        Answers False for the first MOVED_AFTER rows asked about: until then parsing a row
        costs less than indexing the memo."""
        if self._previous_digests is None:
            self._misses += 1
            if self._misses < MOVED_AFTER:
                return False
            old = self.previous_rows
            self._previous_digests = {
                old[start : start + DIGEST_BYTES] for start in range(0, len(old), DIGEST_BYTES)
            }
            self._previous_digests.discard(_ZERO)
        return short_digest(row_hash) in self._previous_digests

    def result(self) -> tuple[TabMemo, Settled | None]:
        """The memo for the next sync, and the settled rows (None without a previous memo).

        Call once, after every row was looked at."""
        states = self.states
        step = DIGEST_BYTES
        # Settled blocks keep the previous digests; visited rows get theirs, range by range.
        building = bytearray(self.previous_rows[: self.count * step])
        building.extend(bytes(self.count * step - len(building)))
        hashes = self.hashes
        for start, end in self.visit:
            building[start * step : end * step] = bytes.fromhex(
                "".join(map(_short_hex, hashes[start:end]))
            )
            # True (1, STORED) where the row was stored, False (0, NOT_STORED) elsewhere.
            states[start:end] = bytes(map(ne, hashes[start:end], repeat(NO_HASH)))
        previous = self.previous_rows
        for index in self.in_place:  # their digests are the previous ones
            start = index * step
            states[index] = SETTLED
            building[start : start + step] = previous[start : start + step]
        self.settled += len(self.in_place)
        self.in_place = []
        size = self.block_rows
        blocks = bytearray()
        for number, digest in enumerate(self.blocks):
            start = number * size
            fully_stored = NOT_STORED not in states[start : start + size]
            blocks += digest if fully_stored else _ZERO
        digests = bytes(building)
        memo = TabMemo(
            tab_kind=self.tab_kind,
            context=self.context,
            parents=self.parents,
            block_rows=size,
            blocks=bytes(blocks),
            rows=digests,
        )
        if not self.has_previous:
            return memo, None
        return memo, Settled(self.settled, bytes(states), digests, self.expected_live)
