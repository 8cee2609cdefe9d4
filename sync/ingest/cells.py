"""Reading cells: numbers, dates and times, keys, free text and coded words, with reasons.

Each field kind has a coercer that takes a cell and returns the parsed value, None for a
blank cell, or raises `CellProblem` with a machine code and a reason in English and
Vietnamese. `Coercers` caches outcomes per run: sheets repeat the same words and dates
thousands of times. Text dates are read in the source's locale (`hqsync.sync.ingest.locale`:
dd/mm/yyyy in vi_VN, mm/dd/yyyy in en_US), as ISO text or as spreadsheet serial numbers (day 0
is `SERIAL_EPOCH`); real date cells and serial numbers mean the same in every locale.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Generic, Literal, TypeVar, cast
from zoneinfo import ZoneInfo

from hqsync.config.vocabulary import (
    FORMULA_ERRORS,
    AssessmentKind,
    Ownership,
    Result,
    Status,
    TabKind,
    fold,
)
from hqsync.sync.ingest.contract import (
    KIND_WORDS,
    OWNERSHIP_WORDS,
    RESULT_WORDS,
    STATUS_WORDS,
    YES_NO_WORDS,
)
from hqsync.sync.ingest.headers import HeaderMatch, column_letter
from hqsync.sync.ingest.locale import (
    DEFAULT_LOCALE,
    SourceLocale,
    TextDateError,
    from_serial,
    parse_text_datetime,
)
from hqsync.sync.ingest.rows import FieldValue, JsonCell
from hqsync.sync.ingest.text import clean_free_text, clean_text
from hqsync.sync.interfaces import CellValue

_MIN_YEAR, _MAX_YEAR = 1950, 2100

W = TypeVar("W")


class CellProblem(Exception):
    """A cell hqsync cannot read: a machine code and the reason in English and Vietnamese."""

    def __init__(self, code: str, en: str, vi: str) -> None:
        super().__init__(en)
        self.code, self.en, self.vi = code, en, vi


def _is_number(value: object) -> bool:
    """True for an int or float cell (a bool is not a number)."""
    return isinstance(value, int | float) and not isinstance(value, bool)


_NUMBER_TEXT = re.compile(r"^[+-]?\d+(?:[.,]\d+)?$")


def parse_number(value: CellValue) -> float | None:
    """A number from a numeric cell or from text with a decimal point or comma; else None."""
    if _is_number(value):
        number = float(cast(float, value))
        return None if math.isnan(number) else number
    if isinstance(value, str):
        text = clean_text(value).replace(" ", "")
        if _NUMBER_TEXT.match(text):
            return float(text.replace(",", "."))
    return None


def cell_text(value: CellValue) -> str | None:
    """A cell as clean text (numbers without a spurious '.0'); None when blank."""
    if value is None:
        return None
    if isinstance(value, str):
        text = clean_text(value)
    elif isinstance(value, bool):
        text = "TRUE" if value else "FALSE"
    elif isinstance(value, float):
        text = str(int(value)) if value.is_integer() else repr(value)
    elif isinstance(value, datetime | date):
        text = value.isoformat()
    else:
        text = str(value)
    return text or None


def _free_text(value: CellValue) -> str | None:
    """A cell as free text (line breaks kept); None when blank."""
    if isinstance(value, str):
        return clean_free_text(value) or None
    return cell_text(value)


def _check_error(value: CellValue) -> None:
    """Raise CellProblem when the cell shows a formula error (#REF!, #N/A...)."""
    if isinstance(value, str) and value.strip() in FORMULA_ERRORS:
        error = value.strip()
        raise CellProblem(
            "formula_error",
            f"the cell holds the formula error {error}; fix the formula or type the value",
            f"ô có lỗi công thức {error}; hãy sửa công thức hoặc nhập giá trị",
        )


def parse_datetime_cell(value: CellValue, locale: SourceLocale = DEFAULT_LOCALE) -> datetime | None:
    """A naive or aware datetime from a serial number, a date/datetime or text; None when blank.

    Text is read in `locale` (`dd/mm/yyyy` in vi_VN, `mm/dd/yyyy` in en_US, optionally with a
    24- or 12-hour time) or as ISO. Raises ValueError when the value is not a date (a
    `TextDateError`, naming the locale, for text).
    """
    if value is None:
        return None
    if isinstance(value, datetime):
        result = value
    elif isinstance(value, date):
        result = datetime.combine(value, time())
    elif isinstance(value, bool):
        raise ValueError("a TRUE/FALSE cell is not a date")
    elif _is_number(value):
        result = from_serial(float(cast(float, value)))
    elif isinstance(value, str):
        parsed = parse_text_datetime(clean_text(value), locale)
        if parsed is None:
            return None
        result = parsed
    else:
        raise ValueError(f"{value!r} is not a date")
    if not _MIN_YEAR <= result.year <= _MAX_YEAR:
        raise ValueError(f"{result.date().isoformat()} is not a plausible date")
    return result


def _date_problem(value: CellValue, error: ValueError, locale: SourceLocale) -> CellProblem:
    """The problem of a cell that is not a (plausible) date in `locale`."""
    if isinstance(error, TextDateError):
        return CellProblem("bad_date", error.reason_en, error.reason_vi)
    order, example = locale.order, locale.example
    if "plausible" in str(error):
        return CellProblem(
            "bad_date",
            f"{_show(value)} reads as a date outside {_MIN_YEAR}–{_MAX_YEAR}; "
            f"write {order}, e.g. {example}",
            f"{_show(value)} là một ngày ngoài khoảng {_MIN_YEAR}–{_MAX_YEAR}; "
            f"hãy nhập dạng {order}, ví dụ {example}",
        )
    return CellProblem(
        "bad_date",
        f"{_show(value)} is not a date; write {order}, e.g. {example}",
        f"{_show(value)} không phải là ngày hợp lệ; hãy nhập dạng {order}, ví dụ {example}",
    )


def _show(value: CellValue) -> str:
    """A cell quoted for a reason (at most 60 characters)."""
    text = value if isinstance(value, str) else cell_text(value) or ""
    return repr(text[:60])


# --------------------------------------------------------------------------------------------
# Coercers: one per field kind; each takes a cell and returns the parsed value or raises.

Compute = Callable[[CellValue], FieldValue]
"""An uncached coercer: a cell → its value (None when blank); raises CellProblem."""
Outcome = tuple[Literal[True], FieldValue] | tuple[Literal[False], CellProblem]
"""A cached coercion: (True, value) or (False, the problem)."""


def _key(value: CellValue) -> str | None:
    """A key or reference cell as clean text."""
    _check_error(value)
    return cell_text(value)


def _free_text_checked(value: CellValue) -> str | None:
    """A free-text cell (names, notes)."""
    _check_error(value)
    return _free_text(value)


def _word_table(words: Mapping[W, Sequence[str]]) -> dict[str, W]:
    """Folded spelling → meaning."""
    table: dict[str, W] = {}
    for meaning, spellings in words.items():
        for spelling in spellings:
            table[fold(spelling)] = meaning
    return table


@dataclass(frozen=True)
class CodedWords(Generic[W]):
    """The words (and numbers) a coded column accepts, and how to say a value is not one."""

    code: str
    table: Mapping[str, W]
    numbers: Mapping[float, W]
    what_en: str
    hint_en: str
    what_vi: str
    hint_vi: str

    def __call__(self, value: CellValue) -> W | None:
        """The meaning of a cell; None when it is blank; raises CellProblem when unknown."""
        _check_error(value)
        if value is None:
            return None
        if isinstance(value, bool):
            value = "TRUE" if value else "FALSE"
        number = parse_number(value)
        if number is not None:
            if number in self.numbers:
                return self.numbers[number]
        elif isinstance(value, str):
            folded = fold(value)
            if not folded and not clean_text(value):
                return None
            if folded in self.table:
                return self.table[folded]
        shown = _show(value)
        raise CellProblem(
            self.code,
            f"{shown} is not a recognised {self.what_en}; {self.hint_en}",
            f"{shown} không phải là {self.what_vi} hợp lệ; {self.hint_vi}",
        )


YES_NO = CodedWords(
    "bad_yes_no",
    _word_table(YES_NO_WORDS),
    {1.0: True, 0.0: False},
    "yes/no value",
    "write yes/no or có/không",
    "giá trị có/không",
    "hãy nhập có/không hoặc yes/no",
)
OWNERSHIP = CodedWords[Ownership](
    "bad_ownership",
    _word_table(OWNERSHIP_WORDS),
    {},
    "ownership",
    "write public/private or công lập/tư nhân",
    "hình thức sở hữu",
    "hãy nhập công lập/tư nhân",
)
KIND = CodedWords[AssessmentKind](
    "bad_kind",
    _word_table(KIND_WORDS),
    {},
    "assessment kind",
    "write self/council or tự đánh giá/đoàn kiểm tra/hội đồng",
    "loại đánh giá",
    "hãy nhập tự đánh giá, đoàn kiểm tra hoặc hội đồng",
)
STATUS = CodedWords[Status](
    "bad_status",
    _word_table(STATUS_WORDS),
    {},
    "status",
    "write draft/submitted/approved or nháp/đã nộp/đã duyệt",
    "trạng thái",
    "hãy nhập nháp, đã nộp hoặc đã duyệt",
)
RESULT = CodedWords(
    "bad_result",
    _word_table(RESULT_WORDS),
    {1.0: Result.MET, 0.0: Result.NOT_MET},
    "result",
    "write Đạt, Không đạt or Không áp dụng; met, not met or n/a",
    "kết quả",
    "hãy nhập Đạt, Không đạt hoặc Không áp dụng",
)

_COMPUTES: Mapping[str, Compute] = {
    "key": _key,
    "text": _free_text_checked,
    "yes_no": YES_NO,
    "ownership": OWNERSHIP,
    "kind": KIND,
    "status": STATUS,
    "result": RESULT,
}


def attempt(compute: Compute, value: CellValue) -> Outcome:
    """The outcome of one coercion, a problem included (for caching)."""
    try:
        return (True, compute(value))
    except CellProblem as problem:
        return (False, problem)


FIELD_COERCERS: Mapping[str, Mapping[str, str]] = {
    TabKind.HOSPITALS: {
        "name": "text",
        "district": "text",
        "ownership": "ownership",
        "has_obstetrics": "yes_no",
        "has_pediatrics": "yes_no",
        "active": "yes_no",
        "dashboard": "text",
        "email": "text",
    },
    TabKind.ASSESSMENTS: {
        "hospital_id": "key",
        "standard": "key",
        "kind": "kind",
        "assessed_on": "day",
        "assessor": "text",
        "status": "status",
        "updated_at": "moment",
    },
    TabKind.FINDINGS: {
        "assessment_id": "key",
        "item_code": "key",
        "result": "result",
        "note": "text",
        "evidence": "text",
        "updated_at": "moment",
    },
}
"""Tab kind → field (other than the row's own key) → the `Coercers` kind that reads it."""


class Coercers:
    """Per-run coercers with caches (sheets repeat the same words and dates thousands of times).

    Kinds: 'key', 'text', 'yes_no', 'ownership', 'kind', 'status', 'result', 'day' (a date)
    and 'moment' (an aware UTC datetime; a naive cell is taken to be in the run's time zone).
    Text dates are read in the source's `locale`.
    """

    def __init__(self, zone: ZoneInfo, locale: SourceLocale = DEFAULT_LOCALE) -> None:
        self.zone = zone
        self.locale = locale
        self._caches: dict[str, dict[Hashable, Outcome]] = {}
        self._computes: dict[str, Compute] = {
            **_COMPUTES,
            "day": self._day,
            "moment": self._moment,
        }

    def plan(self, kind: str) -> tuple[dict[Hashable, Outcome], Compute]:
        """The cache and the uncached function of one kind (for normalise's per-cell loop,
        which inlines `coerce`). A cache key is the text of a text cell, else (type, value)."""
        return self._caches.setdefault(kind, {}), self._computes[kind]

    def coerce(self, kind: str, value: CellValue) -> FieldValue:
        """The value of a cell read as `kind`; None when blank; raises CellProblem."""
        cache, compute = self.plan(kind)
        # Text is the common case; other types keep their type in the key (True == 1).
        key: Hashable = value if type(value) is str else (type(value), value)
        outcome = cache.get(key)
        if outcome is None:
            outcome = cache[key] = attempt(compute, value)
        if outcome[0]:
            return outcome[1]
        raise outcome[1]

    def key(self, value: CellValue) -> str | None:
        """A reference to another row's key (cached: many rows name the same parent)."""
        return cast(str | None, self.coerce("key", value))

    def own_key(self, value: CellValue) -> str | None:
        """A row's own key: unique per row, so not worth caching."""
        return _key(value)

    def _day(self, value: CellValue) -> date | None:
        """A date cell (any time of day is dropped)."""
        _check_error(value)
        try:
            parsed = parse_datetime_cell(value, self.locale)
        except ValueError as exc:
            raise _date_problem(value, exc, self.locale) from None
        return None if parsed is None else parsed.date()

    def _moment(self, value: CellValue) -> datetime | None:
        """A datetime cell as an aware UTC datetime."""
        _check_error(value)
        try:
            parsed = parse_datetime_cell(value, self.locale)
        except ValueError as exc:
            raise _date_problem(value, exc, self.locale) from None
        if parsed is None:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self.zone)
        return parsed.astimezone(UTC)


def clean_key(text: str) -> bool:
    """True when `text` is a key cell's own key as it is: `_key` would return it unchanged
    and it holds no control character (plain printable ASCII, no space, no Excel `_xHHHH_`
    escape, no leading apostrophe, no formula error). Most keys are: they skip cleaning."""
    return (
        text.isascii()
        and text.isprintable()
        and text[:1] not in _NOT_FIRST
        and " " not in text
        and "_x" not in text
    )


_NOT_FIRST = frozenset({"", "'", "#"})
"""Starts of a key `clean_key` leaves to the general road: empty, the apostrophe Sheets uses to
force text, and the formula errors (all start with '#')."""
assert all(error.startswith("#") for error in FORMULA_ERRORS)


def cell_key(
    parse: Callable[[CellValue], str | None], row: Sequence[CellValue], index: int
) -> str | None:
    """The key the row's cell `index` holds, read by `parse`; None when it holds none."""
    try:
        return parse(row[index] if index < len(row) else None)
    except CellProblem:
        return None


def json_safe(value: CellValue) -> JsonCell:
    """A cell as a JSON value: dates as ISO strings, NaN and infinities as null."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


# --------------------------------------------------------------------------------------------
# Whole rows

_PLAIN_OR_FLOAT = frozenset({str, int, bool, float, type(None)})


def blank(value: CellValue) -> bool:
    """True for a cell that holds nothing once cleaned (None, '', spaces, invisible marks)."""
    if value is None:
        return True
    if not isinstance(value, str) or value[:1].isalnum():
        return False  # cleaning keeps letters and digits: no need to clean to know
    return not clean_text(value)


def _finite(row: Sequence[CellValue]) -> bool:
    """True when every float cell of `row` is finite (one sum in C for the common case)."""
    try:
        return math.isfinite(math.fsum([value for value in row if type(value) is float]))
    except (OverflowError, ValueError):  # huge finite values, or inf - inf: look one by one
        return all(math.isfinite(v) for v in row if type(v) is float)


def raw_and_extra(
    match: HeaderMatch, row: Sequence[CellValue]
) -> tuple[dict[str, JsonCell], dict[str, JsonCell]]:
    """header → value of every column (JSON-ready), and the same for the unused columns.

    A value beyond the last header is kept too, named by its column letter ('(column K)')."""
    names = match.names
    width = len(names)
    length = len(row)
    if length <= width:
        types = set(map(type, row))
        if types <= _PLAIN_OR_FLOAT:
            # The common case, a column at a time in C: no dates, no cells beyond the headers.
            fast = cast(dict[str, JsonCell], dict(zip(names, row, strict=False)))  # padded below
            if length < width:
                fast.update(dict.fromkeys(names[length:]))
            if float in types and not _finite(row):
                for name, value in fast.items():
                    if type(value) is float and not math.isfinite(value):
                        fast[name] = None
            if not match.extra:
                return fast, {}
            return fast, {name: fast[name] for name in match.extra}
    raw: dict[str, JsonCell] = {
        names[i]: (json_safe(row[i]) if i < length else None) for i in range(width)
    }
    extra = {name: raw[name] for name in match.extra}
    for i in range(width, length):
        if row[i] is not None:
            # A value under no header: keep it, named by its column letter.
            name = f"(column {column_letter(i)})"
            raw[name] = extra[name] = json_safe(row[i])
    return raw, extra
