"""The stored form of a scoring result: its rows' values, JSON texts and result hash.

No SQL here: `hqsync.models.results` reads and writes these rows.
"""

from __future__ import annotations

import hashlib
import json
import math
import sys
from _json import make_encoder  # CPython's C JSON encoder, behind json.dumps
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from itertools import repeat
from json.encoder import encode_basestring_ascii
from typing import TYPE_CHECKING, Any, overload

from hqsync.models.plans import ColumnRows

if TYPE_CHECKING:
    import pandas as pd

SCORE_JSON = ("level_counts", "parts", "details")
"""An assessment score's JSON columns."""


def score_row(
    source: str, ident: str, record: Mapping[str, Any], fingerprint: str
) -> tuple[dict[str, Any], str]:
    """An assessment_scores row (its JSON columns as the text SQLAlchemy's JSON type stores
    of `_jsonable(value)`), and the row's text as `result_hash` reads it.

    The engine's values are plain JSON with text keys: they are encoded as they are (the
    bytes `_jsonable` then `json.dumps` gave); a value the strict encoders refuse goes
    through `_jsonable`.
    """
    row: dict[str, Any] = {
        "source": source,
        "assessment_id": ident,
        "standard": str(record["standard"]),
        "method": str(record["method"]),
        "score": _float_or_none(record.get("score")),
        "passed": _bool_or_none(record.get("passed")),
        "band": _str_or_none(record.get("band")),
        "applicable": int(record.get("applicable") or 0),
        "assessed": int(record.get("assessed") or 0),
        **{name: record.get(name) or {} for name in SCORE_JSON},
        "rule_set_fingerprint": fingerprint,
    }
    try:
        hashed = _HASHED_JSON(row)
        stored = [_STORED_JSON(row[name]) for name in SCORE_JSON]
    except (TypeError, ValueError):
        for name in SCORE_JSON:
            row[name] = _jsonable(row[name])
        hashed = _hash_text(row)
        stored = [json.dumps(row[name]) for name in SCORE_JSON]
    row.update(zip(SCORE_JSON, stored, strict=True))
    return row, hashed


def _not_plain(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not plain JSON")


def _plain_encoder(item_separator: str, key_separator: str) -> Callable[[Any], str]:
    """`json.JSONEncoder(sort_keys=True, allow_nan=False, separators=..., default=_not_plain)
    .encode`, with CPython's C encoder built once (`encode` builds one per call, which cost
    more than the encoding on 30k criterion rows): the same text, the same errors."""
    encode = make_encoder(
        None, _not_plain, encode_basestring_ascii, None, key_separator, item_separator,
        True, False, False,
    )  # fmt: skip

    def text(value: Any) -> str:
        return "".join(encode(value, 0))

    return text


_STORED_JSON = _plain_encoder(", ", ": ")
"""A plain value's text as SQLAlchemy's JSON type stores `_jsonable(value)` (keys sorted)."""
_HASHED_JSON = _plain_encoder(",", ":")
"""A plain value's text as `result_hash` reads it."""


class _Escaped(dict[str, str]):
    """A string → its JSON text (`encode_basestring_ascii`), computed on first use."""

    def __missing__(self, value: str) -> str:
        text = self[value] = encode_basestring_ascii(value)
        return text


def _separated_encoder() -> Callable[[Any, int], Any]:
    """`_HASHED_JSON`'s encoder, a "\x00" after each separator: the encoder escapes every
    control character inside a string, so each "\x00" follows a separator, and one encoding
    gives both texts: `_HASHED_JSON`'s without them, `_STORED_JSON`'s with a space for each.

    Its strings' texts are kept (criterion details repeat most of theirs: keys, titles,
    codes), which saved a quarter of the encoding."""
    escaped = _Escaped().__getitem__
    return make_encoder(None, _not_plain, escaped, None, ":\x00", ",\x00", True, False, False)


_CRITERION_TEXT = (
    '{{"assessment_id":{},"code":{},"details":{},"level":{},"source":{},"status":{},"value":{}}}'
).format
"""A criterion row's text as `_HASHED_JSON` gives it (keys sorted), from its values' texts."""
_CRITERION_NAMES = ("source", "assessment_id", "code", "level", "value", "status", "details")


@dataclass(frozen=True)
class Criteria:
    """A criteria frame's criterion_results rows (a column at a time), with each row's text as
    the result hash reads it."""

    rows: RowColumns
    hashed: list[str]
    """Each row's text as `result_hash` reads it."""
    positions: dict[str, list[int]]
    """Assessment key → its rows' positions, in the frame's order."""


class RowColumns(ColumnRows):
    """Rows held as one list per column (`insert_many` reads them so, without a dict per row)."""

    def __init__(self, names: tuple[str, ...], columns: list[list[Any]]) -> None:
        self.names = names
        self._columns = columns

    def picked(self, positions: list[int]) -> RowColumns:
        """The rows at `positions`, in that order."""
        if positions == list(range(len(self))):
            return self
        return RowColumns(self.names, [[column[i] for i in positions] for column in self._columns])

    def __len__(self) -> int:
        return len(self._columns[0]) if self._columns else 0

    @overload
    def __getitem__(self, index: int) -> dict[str, Any]: ...

    @overload
    def __getitem__(self, index: slice) -> list[dict[str, Any]]: ...

    def __getitem__(self, index: int | slice) -> dict[str, Any] | list[dict[str, Any]]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        return dict(zip(self.names, (column[index] for column in self._columns), strict=True))

    def columns(self, start: int, stop: int) -> list[Iterable[Any]]:
        """The values of rows[start:stop], a list per name."""
        return [column[start:stop] for column in self._columns]


def criterion_rows(
    criteria: pd.DataFrame | Mapping[str, Sequence[Any]], split: Callable[[str], tuple[str, str]]
) -> Criteria:
    """The criterion_results rows of a criteria frame or columns (`split`: an assessment key →
    its source and id), details as their stored JSON text.

    The engine's details are plain JSON with text keys (see `hqsync.scoring.ScoreFrames`):
    each is encoded once (see `_separated_encoder`), which gives the bytes `_jsonable` then
    `json.dumps` gave; a row the strict encoder refuses (numpy, NaN, a set, a date, an
    infinite value) goes through `_jsonable`, as before.
    """
    keys = [str(k) for k in _listed(criteria["assessment_key"])]
    parts = {key: split(key) for key in dict.fromkeys(keys)}
    positions: dict[str, list[int]] = {key: [] for key in parts}
    for position, key in enumerate(keys):
        positions[key].append(position)
    sources, idents = [parts[k][0] for k in keys], [parts[k][1] for k in keys]
    codes = list(map(str, _listed(criteria["code"])))
    levels = [
        v if v is None or type(v) is int else _int_or_none(v) for v in _listed(criteria["level"])
    ]
    values = [
        v if v is None or (type(v) is float and math.isfinite(v)) else _float_or_none(v)
        for v in _listed(criteria["value"])
    ]
    statuses = [str(s or "") for s in _listed(criteria["status"])]
    details = [d or {} for d in _listed(criteria["details"])]
    encode = _separated_encoder()
    try:
        texts: list[str | None] = list(map("".join, map(encode, details, repeat(0))))
    except (TypeError, ValueError):
        texts = [_text_or_none(encode, d) for d in details]
    refused = [
        i
        for i, (text, value) in enumerate(zip(texts, values, strict=True))
        if text is None or (value is not None and not math.isfinite(value))
    ]
    separated = [text or "null" for text in texts]  # a refused row's texts are set below
    hashed = list(
        map(
            _CRITERION_TEXT,
            map(encode_basestring_ascii, idents),
            map(encode_basestring_ascii, codes),
            [text.replace("\x00", "") for text in separated],
            ["null" if v is None else int.__repr__(v) for v in levels],
            map(encode_basestring_ascii, sources),
            map(encode_basestring_ascii, statuses),
            ["null" if v is None else float.__repr__(v) for v in values],
        )
    )
    stored = [text.replace("\x00", " ") for text in separated]
    columns: list[list[Any]] = [sources, idents, codes, levels, values, statuses, stored]
    for i in refused:
        row = {name: column[i] for name, column in zip(_CRITERION_NAMES, columns, strict=True)}
        row["details"] = _jsonable(details[i])
        hashed[i] = _hash_text(row)
        stored[i] = json.dumps(row["details"])
    return Criteria(RowColumns(_CRITERION_NAMES, columns), hashed, positions)


def _listed(values: Any) -> list[Any]:
    """A frame's column, or a column given as a sequence, as a list of its values."""
    return values.tolist() if hasattr(values, "tolist") else list(values)


def _text_or_none(encode: Callable[[Any, int], Any], value: Any) -> str | None:
    """`encode`'s text of a value, or None when the strict encoder refuses it."""
    try:
        return "".join(encode(value, 0))
    except (TypeError, ValueError):
        return None


def _int_or_none(value: Any) -> int | None:
    if value is None:
        return None
    import pandas as pd  # only a level other than an int comes here

    return None if pd.isna(value) else int(value)


def _float_or_none(value: Any) -> float | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or _is_na(value):
        return None
    return float(value)


def _bool_or_none(value: Any) -> bool | None:
    if value is None or _is_na(value) or (isinstance(value, float) and math.isnan(value)):
        return None
    return bool(value)


def _str_or_none(value: Any) -> str | None:
    if value is None or _is_na(value) or (isinstance(value, float) and math.isnan(value)):
        return None
    return str(value)


def _is_na(value: Any, *, or_nat: bool = False) -> bool:
    """`value is pd.NA` (or `pd.NaT`), without importing pandas: no value is either unless
    pandas is loaded."""
    pd = sys.modules.get("pandas")
    return pd is not None and (value is pd.NA or (or_nat and value is pd.NaT))


def _jsonable(value: Any) -> Any:
    """A plain-JSON copy: numpy scalars made plain, NaN/NA and ±infinity as None (JSON has
    none of them, and PostgreSQL refuses them), dates as ISO, sorted keys."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, set | frozenset):
        return [_jsonable(v) for v in sorted(value, key=str)]
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if hasattr(value, "tolist") and not isinstance(value, str | bytes):
        return _jsonable(value.tolist())
    if value is None or _is_na(value, or_nat=True):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bool | int | float | str):
        return value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def _json_default(value: Any) -> Any:
    return _jsonable(value)


def _hash_text(value: Any) -> str:
    return json.dumps(value, sort_keys=True, default=_json_default, separators=(",", ":"))


def result_hash(score_text: str, criteria_texts: Sequence[str]) -> str:
    """sha256 of `{"score": score row, "criteria": [criterion rows]}` as sorted, compact JSON
    (the rows given as their texts)."""
    text = f'{{"criteria":[{",".join(criteria_texts)}],"score":{score_text}}}'
    return hashlib.sha256(text.encode()).hexdigest()
