"""The driver-level bulk writer: many rows inserted or updated per call, stored as SQLAlchemy would.

SQLAlchemy's per-row parameter processing cost twice the database's own work on a 500k-row
load, so rows go to the driver's executemany (COPY on psycopg), their values converted by the
columns' own bind processors a column at a time.
"""

from __future__ import annotations

import json
from _json import make_encoder  # CPython's C JSON encoder, behind json.dumps
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from functools import partial
from itertools import repeat
from json.encoder import JSONEncoder, encode_basestring_ascii
from operator import itemgetter
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from hqsync.config.utils import chunks
from hqsync.models.plans import ColumnRows

CHUNK = 5_000
"""Rows per executemany call (bounds memory on 500k-row loads)."""

PLACEHOLDERS: dict[str, str] = {"qmark": "?", "format": "%s", "pyformat": "%s"}
"""Driver paramstyle → its positional placeholder. A driver whose paramstyle is not here is
written to through SQLAlchemy's own executemany (slower, same stored values)."""

_MEMOISED = (sa.DateTime, sa.Date, sa.Boolean)


def insert_many(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    *,
    as_stored: Collection[str] = (),
) -> None:
    """INSERT `rows` (dicts with the same keys) as driver-level executemany (COPY on psycopg).

    `rows` is read a chunk (a slice) at a time, each row once: it may build its rows as they
    are read (see `hqsync.sync.ingest.diff.NewRows`).

    Values go through the columns' own bind processors (so they are stored exactly as
    SQLAlchemy would store them), but a column at a time and once per distinct value for
    dates, times and booleans. The columns named in `as_stored` already hold the text the
    column stores (JSON encoded by the caller as SQLAlchemy's JSON type would): they skip it.
    """
    _write_many(conn, table, rows, as_stored=frozenset(as_stored))


def update_many(
    conn: Connection, table: sa.Table, key: str, source: str, rows: Sequence[Mapping[str, Any]]
) -> None:
    """UPDATE the rows of `source` whose `key` column equals each row's 'b_key', setting the
    row's other values (like `insert_many`, as driver-level executemany). Rows may set
    different columns: one statement per distinct set of them, in the order first seen."""
    shapes: dict[tuple[str, ...], list[Mapping[str, Any]]] = {}
    for row in rows:
        shapes.setdefault(tuple(row), []).append(row)
    for same in shapes.values():
        _write_many(conn, table, same, where=(key, source))


def _write_many(
    conn: Connection,
    table: sa.Table,
    rows: Sequence[Mapping[str, Any]],
    where: tuple[str, str] | None = None,
    as_stored: frozenset[str] = frozenset(),
) -> None:
    if not rows:
        return
    # An UPDATE leaves the key it matches on out of SET: the database need not touch the
    # primary key's index.
    unset = {"b_key"} if where is None else {"b_key", where[0]}
    given = rows.names if isinstance(rows, ColumnRows) else tuple(rows[0])
    names = tuple(name for name in given if name not in unset)
    placeholder = PLACEHOLDERS.get(conn.dialect.paramstyle)
    if placeholder is None:  # an unusual driver: the usual road
        statement: Any = table.insert()
        if as_stored:
            statement = statement.values(
                {name: sa.bindparam(name, type_=sa.Text()) for name in as_stored}
            )
        if where is not None:
            statement = table.update().where(
                table.c.source == where[1], table.c[where[0]] == sa.bindparam("b_key")
            )
        for chunk in chunks(rows, CHUNK):
            conn.execute(statement, chunk)
        return
    quote = conn.dialect.identifier_preparer.quote
    if where is None:
        sql = (
            f"INSERT INTO {quote(table.name)} ({', '.join(quote(name) for name in names)}) "
            f"VALUES ({', '.join(placeholder for _ in names)})"
        )
    else:
        sql = (
            f"UPDATE {quote(table.name)} "
            f"SET {', '.join(f'{quote(name)} = {placeholder}' for name in names)} "
            f"WHERE {quote('source')} = {placeholder} AND {quote(where[0])} = {placeholder}"
        )
    converters = [
        None if name in as_stored else _converter(table.c[name], conn.dialect) for name in names
    ]
    read = _column_reader(rows, names if where is None else (*names, "b_key"))

    def columns_of(start: int) -> list[Iterable[Any]]:
        stop = min(start + CHUNK, len(rows))
        columns = read(start, stop)
        converted = [
            convert(column) if convert is not None else column
            for convert, column in zip(converters, columns, strict=False)
        ]
        if where is not None:  # the WHERE's values: the source, then the key
            converted += [repeat(where[1], stop - start), columns[-1]]
        return converted

    if where is None and conn.dialect.driver == "psycopg":
        # PostgreSQL loads fastest with COPY (psycopg adapts each value as for a query).
        copy_sql = (
            f"COPY {quote(table.name)} ({', '.join(quote(name) for name in names)}) FROM STDIN"
        )
        driver = cast(Any, conn.connection.driver_connection)
        with driver.cursor() as cursor, cursor.copy(copy_sql) as copy:
            for start in range(0, len(rows), CHUNK):
                for record in zip(*columns_of(start), strict=True):
                    copy.write_row(record)
        return
    for start in range(0, len(rows), CHUNK):
        conn.exec_driver_sql(sql, list(zip(*columns_of(start), strict=True)))


def _column_reader(
    rows: Sequence[Mapping[str, Any]], names: Sequence[str]
) -> Callable[[int, int], list[Iterable[Any]]]:
    """(start, stop) → the values of rows[start:stop] under `names`, a list per name: from
    `ColumnRows.columns` when `rows` has it, else read out of each row's dict."""
    if isinstance(rows, ColumnRows):
        picked = [rows.names.index(name) for name in names]

        def from_columns(start: int, stop: int) -> list[Iterable[Any]]:
            columns = rows.columns(start, stop)
            return [columns[index] for index in picked]

        return from_columns
    getters = [itemgetter(name) for name in names]

    def from_dicts(start: int, stop: int) -> list[Iterable[Any]]:
        chunk = rows[start:stop]
        return [map(get, chunk) for get in getters]

    return from_dicts


ColumnConverter = Callable[[Iterable[Any]], Iterable[Any]]
"""A column's values → the values the driver is given for them."""


def _converter(column: sa.Column[Any], dialect: sa.Dialect) -> ColumnConverter | None:
    """The column's bind processor applied to a column of values (None when it has none),
    memoised for repeated values."""
    process = column.type.dialect_impl(dialect).bind_processor(dialect)
    if process is None:
        return None
    impl = column.type.impl if isinstance(column.type, sa.TypeDecorator) else column.type
    if isinstance(impl, sa.JSON) and _json_as_text(impl, dialect):
        return _JsonText(process).column
    if not isinstance(impl, _MEMOISED):
        return partial(map, process)
    return partial(map, _Memo(process).__getitem__)


def _json_as_text(impl: sa.JSON, dialect: sa.Dialect) -> bool:
    """True when the JSON type binds `json.dumps(value)` as it is (SQLite, default serializer)."""
    return (
        dialect.name == "sqlite"
        and getattr(dialect, "_json_serializer", None) in (None, json.dumps)
        and impl.dialect_impl(dialect)._str_impl.bind_processor(dialect) is None  # type: ignore[attr-defined]
    )


class _JsonText:
    """`json.dumps` of dicts and lists through the C encoder directly (json.dumps builds one
    per call): the same text; other values (None, SQL NULL...) go to the bind processor."""

    _encode = make_encoder(  # json.dumps's defaults, without the circular check
        None, JSONEncoder().default, encode_basestring_ascii, None, ": ", ", ", False, False, True
    )

    def __init__(self, process: Callable[[Any], Any]) -> None:
        self.process = process

    def __call__(self, value: Any) -> Any:
        if type(value) in (dict, list):
            return "".join(self._encode(value, 0))
        return self.process(value)

    def column(self, values: Iterable[Any]) -> Iterable[Any]:
        """`self(value)` of each value; a column of dicts (a tab's `raw`) in C throughout."""
        values = list(values)
        if {dict}.issuperset(map(type, values)):
            if not any(values):  # every one empty (a tab's `extra` without extra columns)
                return repeat("{}", len(values))
            return map("".join, map(self._encode, values, repeat(0)))
        return map(self, values)


class _Memo(dict[Any, Any]):
    """value → processed value, computed on first use."""

    def __init__(self, process: Callable[[Any], Any]) -> None:
        super().__init__()
        self.process = process

    def __missing__(self, value: Any) -> Any:
        processed = self[value] = self.process(value)
        return processed
