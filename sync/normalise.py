"""Normalising a source snapshot: headers by name, typed values, keys and references checked.

Pure: cells in, `NormalisedSource` out. Every row that cannot be used becomes a `Rejection` with
a reason in English and Vietnamese naming the column as the sheet spells it; good rows are never
held back by bad ones. Only problems with the source as a whole (a missing tab, a missing or
ambiguous column) raise `SourceError`.
"""

from __future__ import annotations

import gc
import hashlib
import marshal
import math
import re
import unicodedata
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from itertools import chain, islice
from types import MappingProxyType
from typing import Any, cast
from zoneinfo import ZoneInfo

from openpyxl.utils import get_column_letter

from hqsync.config.errors import SourceError
from hqsync.config.rulesets import RuleSet, resolve_standard
from hqsync.config.settings import TabNames
from hqsync.sync.interfaces import CellValue, SourceSnapshot
from hqsync.sync.memo import MemoScan, Settled, TabMemo, marshallable, text_digest

TAB_KINDS = ("hospitals", "assessments", "findings")
FORMULA_ERRORS = frozenset(
    {"#REF!", "#N/A", "#VALUE!", "#NAME?", "#DIV/0!", "#ERROR!", "#NULL!", "#NUM!", "#SPILL!"}
)
RESULTS = ("met", "not_met", "na", "partial")
KINDS = ("self", "council")
STATUSES = ("draft", "submitted", "approved")
OWNERSHIPS = ("public", "private")
DEFAULT_STATUS = "submitted"
"""The status of an assessment whose status cell (or column) is empty."""

_SERIAL_EPOCH = datetime(1899, 12, 30)
_MIN_YEAR, _MAX_YEAR = 1950, 2100


StandardResolver = Callable[[Mapping[str, RuleSet], str], RuleSet | None]


# --------------------------------------------------------------------------------------------
# Values exchanged with the rest of hqsync


@dataclass(frozen=True)
class Rejection:
    """A source row hqsync could not use, and why (in English and Vietnamese)."""

    tab: str
    row_number: int | None
    column: str | None
    key: str | None
    reason_en: str
    reason_vi: str
    raw: Mapping[str, Any]
    code: str = "invalid"
    """A stable machine name of the first problem (e.g. 'unknown_assessment', 'duplicate_key')."""
    tab_kind: str | None = None
    """'hospitals', 'assessments' or 'findings'."""


@dataclass(frozen=True)
class SourceRow:
    """One usable source row: parsed fields (named as the DB columns), raw values, extras, hash."""

    key: str
    row_number: int
    fields: Mapping[str, Any]
    raw: Mapping[str, Any]
    extra: Mapping[str, Any]
    row_hash: str
    parsed: bool = True
    """False when the row's hash matched the stored one given as `known`: it is unchanged, and
    `fields`, `raw` and `extra` are left empty (the store already holds them)."""


@dataclass(frozen=True)
class NormalisedSource:
    """The usable rows of one source per tab, and every rejected row."""

    hospitals: tuple[SourceRow, ...]
    assessments: tuple[SourceRow, ...]
    findings: tuple[SourceRow, ...]
    rejections: tuple[Rejection, ...]
    settled: Mapping[str, Settled] = field(default_factory=dict)
    """Tab kind → rows the memo showed unchanged in place: not among the tab's SourceRows."""
    memos: Mapping[str, TabMemo] = field(default_factory=dict)
    """Tab kind → the memo describing this snapshot, for the next sync (see sync/memo.py)."""

    def rows(self, tab_kind: str) -> tuple[SourceRow, ...]:
        """The usable rows of one tab kind."""
        return {
            "hospitals": self.hospitals,
            "assessments": self.assessments,
            "findings": self.findings,
        }[tab_kind]


@dataclass(frozen=True)
class FieldSpec:
    """One field of a source tab: its DB column, whether its column must exist, its aliases."""

    name: str
    required: bool
    header_vi: str
    header_en: str
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class HeaderMatch:
    """How one tab's header row maps onto fields: field → column index, plus extra columns."""

    tab_kind: str
    tab_name: str
    fields: Mapping[str, int]
    extra: Mapping[str, int]
    """Raw name → column index of every column hqsync does not use."""
    names: tuple[str, ...]
    """The raw name of every column (unique; blank headers become '(column F)')."""


# --------------------------------------------------------------------------------------------
# The source sheet contract (DESIGN.md, The source sheet)

FIELDS: dict[str, tuple[FieldSpec, ...]] = {
    "hospitals": (
        FieldSpec(
            "hospital_id",
            True,
            "Mã bệnh viện",
            "hospital_id",
            ("hospital id", "hospital code", "ma bv", "ma co so", "ma csyt", "ma benh vien"),
        ),
        FieldSpec(
            "name",
            True,
            "Tên bệnh viện",
            "name",
            ("hospital name", "hospital", "ten bv", "ten co so", "ten", "ten csyt"),
        ),
        FieldSpec(
            "district",
            False,
            "Huyện/Quận",
            "district",
            ("huyen", "quan", "quan/huyen", "huyen/quan", "quan huyen", "dia ban", "khu vuc"),
        ),
        FieldSpec(
            "ownership",
            False,
            "Hình thức sở hữu",
            "ownership",
            ("so huu", "cong lap/tu nhan", "loai hinh so huu", "sector", "owner"),
        ),
        FieldSpec(
            "has_obstetrics",
            False,
            "Có sản khoa",
            "has_obstetrics",
            ("obstetrics", "san khoa", "khoa san", "has obstetrics"),
        ),
        FieldSpec(
            "has_pediatrics",
            False,
            "Có nhi khoa",
            "has_pediatrics",
            ("has_paediatrics", "pediatrics", "paediatrics", "nhi khoa", "khoa nhi"),
        ),
        FieldSpec(
            "active",
            False,
            "Hoạt động",
            "active",
            ("is active", "dang hoat dong", "con hoat dong", "enabled"),
        ),
    ),
    "assessments": (
        FieldSpec(
            "assessment_id",
            True,
            "Mã đánh giá",
            "assessment_id",
            ("assessment id", "assessment code", "ma dot danh gia", "ma phieu danh gia"),
        ),
        FieldSpec(
            "hospital_id",
            True,
            "Mã bệnh viện",
            "hospital_id",
            ("hospital id", "hospital code", "hospital", "ma bv", "ma co so", "ma csyt"),
        ),
        FieldSpec(
            "standard",
            True,
            "Bộ tiêu chí",
            "standard",
            ("rule set", "ruleset", "bo tieu chuan", "tieu chuan", "tieu chi", "bo tieu chi"),
        ),
        FieldSpec(
            "kind",
            True,
            "Loại đánh giá",
            "kind",
            ("assessment kind", "assessment type", "type", "hinh thuc danh gia", "loai"),
        ),
        FieldSpec(
            "assessed_on",
            False,
            "Ngày đánh giá",
            "assessed_on",
            ("assessed on", "assessment date", "date", "ngay"),
        ),
        FieldSpec(
            "assessor",
            False,
            "Người đánh giá",
            "assessor",
            ("inspector", "assessed by", "can bo danh gia", "doan danh gia", "nguoi cham"),
        ),
        FieldSpec("status", False, "Trạng thái", "status", ("state", "tinh trang")),
        FieldSpec(
            "updated_at",
            False,
            "Cập nhật lúc",
            "updated_at",
            ("updated at", "updated", "last updated", "modified", "ngay cap nhat", "cap nhat"),
        ),
    ),
    "findings": (
        FieldSpec(
            "finding_id",
            True,
            "Mã kết quả",
            "finding_id",
            ("finding id", "finding code", "ma dong", "ma chi tiet", "ma phat hien"),
        ),
        FieldSpec(
            "assessment_id",
            True,
            "Mã đánh giá",
            "assessment_id",
            ("assessment id", "assessment code", "ma dot danh gia", "ma phieu danh gia"),
        ),
        FieldSpec(
            "item_code",
            True,
            "Mã tiểu mục",
            "item_code",
            ("item code", "item", "sub-item", "tieu muc", "ma muc", "ma tieu chi"),
        ),
        FieldSpec("result", True, "Kết quả", "result", ("outcome", "answer", "danh gia")),
        FieldSpec("note", False, "Ghi chú", "note", ("notes", "comment", "comments", "nhan xet")),
        FieldSpec(
            "evidence",
            False,
            "Minh chứng",
            "evidence",
            ("photo", "image", "attachment", "hinh anh", "anh minh chung", "tai lieu"),
        ),
        FieldSpec(
            "updated_at",
            False,
            "Cập nhật lúc",
            "updated_at",
            ("updated at", "updated", "last updated", "modified", "ngay cap nhat", "cap nhat"),
        ),
    ),
}

_RESULT_WORDS = {
    "met": ("đạt", "đ", "met", "yes", "y", "có", "true", "pass", "passed", "ok"),
    "not_met": (
        "không đạt",
        "chưa đạt",
        "kđ",
        "cđ",
        "not met",
        "no",
        "n",
        "không",
        "false",
        "fail",
        "failed",
    ),
    "na": (
        "không áp dụng",
        "kad",
        "kapd",
        "kap",
        "n/a",
        "na",
        "not applicable",
        "none applicable",
    ),
    "partial": ("partial", "partially met", "partly met", "đạt một phần", "một phần", "đmp"),
}
_YES_NO_WORDS = {
    True: ("yes", "y", "true", "có", "x", "đúng", "ok"),
    False: ("no", "n", "false", "không", "sai"),
}
_KIND_WORDS = {
    "self": ("self", "self assessment", "tự đánh giá", "bệnh viện tự đánh giá", "tđg", "nội bộ"),
    "council": (
        "council",
        "inspection",
        "inspection team",
        "external",
        "đoàn kiểm tra",
        "hội đồng",
        "hội đồng đánh giá",
        "đoàn đánh giá",
        "kiểm tra",
        "đkt",
        "sở y tế",
        "phúc tra",
    ),
}
_STATUS_WORDS = {
    "draft": ("draft", "nháp", "bản nháp", "đang làm", "đang nhập"),
    "submitted": ("submitted", "submit", "đã nộp", "nộp", "đã gửi", "gửi"),
    "approved": ("approved", "đã duyệt", "duyệt", "phê duyệt", "đã phê duyệt"),
}
_OWNERSHIP_WORDS = {
    "public": ("public", "công lập", "nhà nước", "state", "government"),
    "private": ("private", "tư nhân", "ngoài công lập", "tư"),
}

# --------------------------------------------------------------------------------------------
# Text


_INVISIBLE = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u2060\ufeff\u00ad"))
_SPACES = {ord(c): " " for c in "\u00a0\u202f\u2007\u2009\u200a\u3000"}
_TRANSLATE: dict[int, Any] = {**_INVISIBLE, **_SPACES}


def clean_text(value: str) -> str:
    """NFC text without invisible characters, odd spaces, runs of spaces or a leading apostrophe."""
    text = " ".join(unicodedata.normalize("NFC", value).translate(_TRANSLATE).split())
    if text.startswith("'"):
        text = text[1:].lstrip()
    return text


def clean_free_text(value: str) -> str:
    """Like `clean_text` but keeping line breaks and inner spacing (notes, names)."""
    text = unicodedata.normalize("NFC", value).translate(_TRANSLATE).strip()
    if text.startswith("'"):
        text = text[1:].lstrip()
    return text


def fold(value: str) -> str:
    """A matching key: no case, no accents (đ → d), only letters and digits."""
    decomposed = unicodedata.normalize("NFD", clean_text(value).casefold())
    return "".join(c for c in decomposed if c.isalnum()).replace("đ", "d")


def _word_table(words: Mapping[Any, Sequence[str]]) -> dict[str, Any]:
    table: dict[str, Any] = {}
    for meaning, spellings in words.items():
        for spelling in spellings:
            table[fold(spelling)] = meaning
    return table


_RESULT_TABLE = _word_table(_RESULT_WORDS)
_YES_NO_TABLE = _word_table(_YES_NO_WORDS)
_KIND_TABLE = _word_table(_KIND_WORDS)
_STATUS_TABLE = _word_table(_STATUS_WORDS)
_OWNERSHIP_TABLE = _word_table(_OWNERSHIP_WORDS)


def accepted_words() -> dict[str, dict[str, tuple[str, ...]]]:
    """The words accepted for each coded column (for documentation and `init-source`)."""
    return {
        "result": {k: tuple(v) for k, v in _RESULT_WORDS.items()},
        "yes_no": {("yes" if k else "no"): tuple(v) for k, v in _YES_NO_WORDS.items()},
        "kind": {k: tuple(v) for k, v in _KIND_WORDS.items()},
        "status": {k: tuple(v) for k, v in _STATUS_WORDS.items()},
        "ownership": {k: tuple(v) for k, v in _OWNERSHIP_WORDS.items()},
    }


# --------------------------------------------------------------------------------------------
# Headers


def _column_letter(index: int) -> str:
    return get_column_letter(index + 1)


_ALIAS_TABLES: dict[str, dict[str, str]] = {}


def _alias_table(tab_kind: str) -> dict[str, str]:
    table = _ALIAS_TABLES.get(tab_kind)
    if table is None:
        table = {}
        for spec in FIELDS[tab_kind]:
            for alias in (spec.name, spec.header_vi, spec.header_en, *spec.aliases):
                table.setdefault(fold(alias), spec.name)
        _ALIAS_TABLES[tab_kind] = table
    return table


def match_headers(tab_kind: str, headers: Sequence[CellValue], tab_name: str) -> HeaderMatch:
    """Map a header row onto the fields of `tab_kind` by name (aliases, any case or accents).

    Raises SourceError naming the tab, the column and the headers found when a required column
    is missing or two headers mean the same field.
    """
    if tab_kind not in FIELDS:
        raise ValueError(f"unknown tab kind {tab_kind!r}; expected one of {', '.join(TAB_KINDS)}")
    aliases = _alias_table(tab_kind)
    found = [_header_text(h) for h in headers]
    shown = ", ".join(repr(h) for h in found if h) or "none"
    fields: dict[str, int] = {}
    extra: dict[str, int] = {}
    names: list[str] = []
    for index, text in enumerate(found):
        name = text or f"(column {_column_letter(index)})"
        if name in names:
            name = f"{name} ({_column_letter(index)})"
        names.append(name)
        target = aliases.get(fold(text)) if text else None
        if target is None:
            extra[name] = index
            continue
        if target in fields:
            first = found[fields[target]]
            raise SourceError(
                f"tab {tab_name!r}: columns {first!r} ({_column_letter(fields[target])}) and "
                f"{text!r} ({_column_letter(index)}) both mean {target!r}; rename or delete one "
                f"(headers found: {shown})"
            )
        fields[target] = index
    missing = [spec for spec in FIELDS[tab_kind] if spec.required and spec.name not in fields]
    if missing:
        wanted = "; ".join(f"{s.name!r} (e.g. {s.header_vi!r} or {s.header_en!r})" for s in missing)
        raise SourceError(
            f"tab {tab_name!r} has no column for {wanted}; add it to the header row "
            f"(headers found: {shown})"
        )
    return HeaderMatch(tab_kind, tab_name, fields, extra, tuple(names))


def _header_text(value: CellValue) -> str:
    if value is None:
        return ""
    return clean_text(value if isinstance(value, str) else str(value))


# --------------------------------------------------------------------------------------------
# Cell values


_Problems = list[tuple[str, str | None, str, str]]


class _Problem(Exception):
    def __init__(self, code: str, en: str, vi: str) -> None:
        super().__init__(en)
        self.code, self.en, self.vi = code, en, vi


def _is_number(value: object) -> bool:
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
    if isinstance(value, str):
        return clean_free_text(value) or None
    return cell_text(value)


def _check_error(value: CellValue) -> None:
    if isinstance(value, str) and value.strip() in FORMULA_ERRORS:
        error = value.strip()
        raise _Problem(
            "formula_error",
            f"the cell holds the formula error {error}; fix the formula or type the value",
            f"ô có lỗi công thức {error}; hãy sửa công thức hoặc nhập giá trị",
        )


_DMY = re.compile(
    r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})"
    r"(?:[ ,T]+(\d{1,2})[:h](\d{2})(?::(\d{2}))?)?$"
)


def parse_datetime_cell(value: CellValue) -> datetime | None:
    """A naive or aware datetime from a serial number, a date/datetime or text; None when blank.

    Text may be `dd/mm/yyyy`, `d/m/yy` (Vietnamese order, optionally with `HH:MM[:SS]`) or ISO.
    Raises ValueError when the value is not a date.
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
        result = _from_serial(float(value))
    elif isinstance(value, str):
        text = clean_text(value)
        if not text:
            return None
        match = _DMY.match(text)
        if match:
            day, month, year, hour, minute, second = match.groups()
            full_year = int(year) + (2000 if len(year) == 2 else 0)
            result = datetime(
                full_year,
                int(month),
                int(day),
                int(hour or 0),
                int(minute or 0),
                int(second or 0),
            )
        elif re.match(r"^\d{4}-\d{1,2}-\d{1,2}", text):
            result = datetime.fromisoformat(text.replace(" ", "T", 1))
        else:
            number = parse_number(text)
            if number is None:
                raise ValueError(f"{text!r} is not a date")
            result = _from_serial(number)
    else:
        raise ValueError(f"{value!r} is not a date")
    if not _MIN_YEAR <= result.year <= _MAX_YEAR:
        raise ValueError(f"{result.date().isoformat()} is not a plausible date")
    return result


def _from_serial(number: float) -> datetime:
    if not 0 < number < 2_958_466:
        raise ValueError(f"{number!r} is not a date serial number")
    # Round to the second: serial fractions carry binary noise.
    return _SERIAL_EPOCH + timedelta(seconds=round(number * 86400))


def _date_problem(value: CellValue, detail: str) -> _Problem:
    if "plausible" in detail:
        return _Problem(
            "bad_date",
            f"{_show(value)} reads as a date outside {_MIN_YEAR}–{_MAX_YEAR}; "
            "write dd/mm/yyyy, e.g. 25/03/2025",
            f"{_show(value)} là một ngày ngoài khoảng {_MIN_YEAR}–{_MAX_YEAR}; "
            "hãy nhập dạng dd/mm/yyyy, ví dụ 25/03/2025",
        )
    return _Problem(
        "bad_date",
        f"{_show(value)} is not a date; write dd/mm/yyyy, e.g. 25/03/2025",
        f"{_show(value)} không phải là ngày hợp lệ; hãy nhập dạng dd/mm/yyyy, ví dụ 25/03/2025",
    )


def _show(value: CellValue) -> str:
    text = value if isinstance(value, str) else cell_text(value) or ""
    return repr(text[:60])


# --------------------------------------------------------------------------------------------
# Coercers: one per field kind; each takes a cell and returns the parsed value or raises.


class _Coercers:
    """Per-run coercers with caches (sheets repeat the same words and dates thousands of times)."""

    def __init__(self, zone: ZoneInfo) -> None:
        self.zone = zone
        self._caches: dict[str, dict[Any, Any]] = {}

    def cached(self, name: str, value: CellValue, fn: Callable[[CellValue], Any]) -> Any:
        cache = self._caches.get(name)
        if cache is None:
            cache = self._caches[name] = {}
        # Text is the common case; other types keep their type in the key (True == 1).
        key: Any = value if type(value) is str else (type(value), value)
        try:
            outcome = cache[key]
        except KeyError:
            try:
                outcome = (True, fn(value))
            except _Problem as problem:
                outcome = (False, problem)
            cache[key] = outcome
        if outcome[0]:
            return outcome[1]
        raise outcome[1]

    def plan(self, parser: _FieldParser) -> tuple[dict[Any, Any], Callable[[CellValue], Any]]:
        """The cache and the uncached function behind one of the coercer methods below (for
        `_parse_tab`, which inlines `cached` in its per-cell loop)."""
        name = parser.__name__
        computes: dict[str, Callable[[CellValue], Any]] = {
            "key": _key,
            "text": _free_text_checked,
            "yes_no": _YES_NO,
            "ownership": _OWNERSHIP,
            "kind": _KIND,
            "status": _STATUS,
            "result": _RESULT,
            "day": _day,
            "moment": self._moment,
        }
        return self._caches.setdefault(name, {}), computes[name]

    def key(self, value: CellValue) -> str | None:
        return self.cached("key", value, _key)

    def own_key(self, value: CellValue) -> str | None:
        """A row's own key: unique per row, so not worth caching."""
        return _key(value)

    def text(self, value: CellValue) -> str | None:
        return self.cached("text", value, _free_text_checked)

    def yes_no(self, value: CellValue) -> bool | None:
        return self.cached("yes_no", value, _YES_NO)

    def ownership(self, value: CellValue) -> str | None:
        return self.cached("ownership", value, _OWNERSHIP)

    def kind(self, value: CellValue) -> str | None:
        return self.cached("kind", value, _KIND)

    def status(self, value: CellValue) -> str | None:
        return self.cached("status", value, _STATUS)

    def result(self, value: CellValue) -> str | None:
        return self.cached("result", value, _RESULT)

    def day(self, value: CellValue) -> date | None:
        return self.cached("day", value, _day)

    def moment(self, value: CellValue) -> datetime | None:
        return self.cached("moment", value, self._moment)

    def _moment(self, value: CellValue) -> datetime | None:
        _check_error(value)
        try:
            parsed = parse_datetime_cell(value)
        except ValueError as exc:
            raise _date_problem(value, str(exc)) from None
        if parsed is None:
            return None
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=self.zone)
        return parsed.astimezone(UTC)


def _key(value: CellValue) -> str | None:
    _check_error(value)
    return cell_text(value)


def _free_text_checked(value: CellValue) -> str | None:
    _check_error(value)
    return _free_text(value)


def _day(value: CellValue) -> date | None:
    _check_error(value)
    try:
        parsed = parse_datetime_cell(value)
    except ValueError as exc:
        raise _date_problem(value, str(exc)) from None
    return None if parsed is None else parsed.date()


@dataclass(frozen=True)
class _Vocabulary:
    """The words (and numbers) a coded column accepts, and how to say a value is not one."""

    code: str
    table: Mapping[str, Any]
    numbers: Mapping[float, Any]
    what_en: str
    hint_en: str
    what_vi: str
    hint_vi: str

    def __call__(self, value: CellValue) -> Any:
        """The meaning of a cell; None when it is blank; raises _Problem when unknown."""
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
        raise _Problem(
            self.code,
            f"{shown} is not a recognised {self.what_en}; {self.hint_en}",
            f"{shown} không phải là {self.what_vi} hợp lệ; {self.hint_vi}",
        )


_YES_NO = _Vocabulary(
    "bad_yes_no",
    _YES_NO_TABLE,
    {1.0: True, 0.0: False},
    "yes/no value",
    "write yes/no or có/không",
    "giá trị có/không",
    "hãy nhập có/không hoặc yes/no",
)
_OWNERSHIP = _Vocabulary(
    "bad_ownership",
    _OWNERSHIP_TABLE,
    {},
    "ownership",
    "write public/private or công lập/tư nhân",
    "hình thức sở hữu",
    "hãy nhập công lập/tư nhân",
)
_KIND = _Vocabulary(
    "bad_kind",
    _KIND_TABLE,
    {},
    "assessment kind",
    "write self/council or tự đánh giá/đoàn kiểm tra/hội đồng",
    "loại đánh giá",
    "hãy nhập tự đánh giá, đoàn kiểm tra hoặc hội đồng",
)
_STATUS = _Vocabulary(
    "bad_status",
    _STATUS_TABLE,
    {},
    "status",
    "write draft/submitted/approved or nháp/đã nộp/đã duyệt",
    "trạng thái",
    "hãy nhập nháp, đã nộp hoặc đã duyệt",
)
_RESULT = _Vocabulary(
    "bad_result",
    _RESULT_TABLE,
    {1.0: "met", 0.0: "not_met"},
    "result",
    "write Đạt, Không đạt or Không áp dụng; met, not met or n/a",
    "kết quả",
    "hãy nhập Đạt, Không đạt hoặc Không áp dụng",
)


# --------------------------------------------------------------------------------------------
# Rows


_PLAIN = frozenset({str, int, bool, type(None)})
_PLAIN_OR_FLOAT = _PLAIN | {float}


def json_safe(value: CellValue) -> Any:
    """A cell as a JSON value: dates as ISO strings, NaN as null."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    return value


HASH_VERSION = 1
"""Bump when parsing changes meaning, so every stored row is re-parsed once."""


def row_hash(context: str, row: Sequence[CellValue]) -> str:
    """A stable hash of a row's cells and of everything else its parsed fields depend on.

    `context` holds the header mapping, the time zone and the rule set the row is read
    against. The cells are serialised with `marshal` format version 2 (a fixed, by-value
    format for text, numbers, bools and None; dates go in as tagged ISO text), which is
    several times faster than repr or JSON on 500k rows.
    """
    return _row_digest(_context_hasher(context), row)


@lru_cache(maxsize=256)
def _context_hasher(context: str) -> Any:
    """A hasher fed with `context`, to be copied for every row read in that context."""
    return hashlib.blake2b(context.encode("utf-8", "surrogatepass"), digest_size=20)


def _row_digest(hasher: Any, row: Sequence[CellValue]) -> str:
    end = len(row)
    while end and (row[end - 1] is None or row[end - 1] == ""):
        end -= 1  # backends differ in trimming trailing empty cells
    cells = tuple(row) if end == len(row) else tuple(row[:end])
    try:
        payload = marshal.dumps(cast(Any, cells), 2)
    except ValueError:  # date/datetime cells (openpyxl) are not marshallable
        payload = marshal.dumps(tuple(marshallable(cell) for cell in cells), 2)
    digest = hasher.copy()
    digest.update(payload)
    return str(digest.hexdigest())


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


@dataclass
class _Tab:
    kind: str
    name: str
    match: HeaderMatch
    rows: Sequence[Sequence[CellValue]]


@dataclass
class _Context:
    coerce: _Coercers
    rule_sets: Mapping[str, Any]
    resolve: StandardResolver
    rejections: list[Rejection] = field(default_factory=list)
    standards: dict[str, Any] = field(default_factory=dict)
    items: dict[tuple[str, str], str | None] = field(default_factory=dict)
    timezone: str = ""
    cause: tuple[str, str] | None = None
    """The root cause of the parent rejection the current row's check last reported."""


@dataclass(frozen=True)
class _Parent:
    """What a child row needs to know of a referenced row: stored, or rejected and why."""

    row_number: int
    rejected_en: str | None = None
    rejected_vi: str | None = None
    rule_set: Any = None


def _messages(code: str, column: str | None, en: str, vi: str) -> tuple[str, str | None, str, str]:
    """A problem as (code, column, English reason, Vietnamese reason), naming the column."""
    if column:
        return code, column, f"column {column!r}: {en}", f"cột {column!r}: {vi}"
    return code, column, en, vi


def _raw_and_extra(
    match: HeaderMatch, row: Sequence[CellValue]
) -> tuple[dict[str, Any], dict[str, Any]]:
    """header → value of every column (JSON-ready), and the same for the unused columns."""
    names = match.names
    width = len(names)
    length = len(row)
    if length <= width:
        types = set(map(type, row))
        if types <= _PLAIN_OR_FLOAT:
            # The common case, a column at a time in C: no dates, no cells beyond the headers.
            fast = dict(zip(names, row, strict=False))  # a short row: padded below
            if length < width:
                fast.update(dict.fromkeys(names[length:]))
            if float in types:
                for name, value in fast.items():
                    if type(value) is float and not math.isfinite(value):
                        fast[name] = None
            return fast, {name: fast[name] for name in match.extra}
    raw = {
        names[i]: (row[i] if type(row[i]) in _PLAIN else json_safe(row[i])) if i < length else None
        for i in range(width)
    }
    extra = {name: raw[name] for name in match.extra}
    for i in range(width, length):
        if row[i] is not None:
            # A value under no header: keep it, named by its column letter.
            name = f"(column {_column_letter(i)})"
            raw[name] = extra[name] = json_safe(row[i])
    return raw, extra


def _blank(value: CellValue) -> bool:
    if value is None:
        return True
    if not isinstance(value, str) or value[:1].isalnum():
        return False  # cleaning keeps letters and digits: no need to clean to know
    return not clean_text(value)


def _header(tab: _Tab, field_name: str) -> str:
    return tab.match.names[tab.match.fields[field_name]]


def _reject(
    ctx: _Context,
    *,
    tab: _Tab,
    row_number: int,
    key: str | None,
    row: Sequence[CellValue],
    problems: _Problems,
) -> None:
    """Record one rejection for a row (all its problems in one reason, first problem's column)."""
    code, column, _, _ = problems[0]
    raw, _ = _raw_and_extra(tab.match, row)
    en = "; also ".join(p[2] for p in problems)
    vi = "; ngoài ra ".join(p[3] for p in problems)
    ctx.rejections.append(
        Rejection(
            tab=tab.name,
            row_number=row_number,
            column=column,
            key=key,
            reason_en=en,
            reason_vi=vi,
            raw=raw,
            code=code,
            tab_kind=tab.kind,
        )
    )


_FieldParser = Callable[[_Coercers, CellValue], Any]
_PARSERS: dict[str, dict[str, _FieldParser]] = {
    "hospitals": {
        "name": _Coercers.text,
        "district": _Coercers.text,
        "ownership": _Coercers.ownership,
        "has_obstetrics": _Coercers.yes_no,
        "has_pediatrics": _Coercers.yes_no,
        "active": _Coercers.yes_no,
    },
    "assessments": {
        "hospital_id": _Coercers.key,
        "standard": _Coercers.key,
        "kind": _Coercers.kind,
        "assessed_on": _Coercers.day,
        "assessor": _Coercers.text,
        "status": _Coercers.status,
        "updated_at": _Coercers.moment,
    },
    "findings": {
        "assessment_id": _Coercers.key,
        "item_code": _Coercers.key,
        "result": _Coercers.result,
        "note": _Coercers.text,
        "evidence": _Coercers.text,
        "updated_at": _Coercers.moment,
    },
}
_KEY_FIELD = {"hospitals": "hospital_id", "assessments": "assessment_id", "findings": "finding_id"}
_REQUIRED_VALUES = {
    "hospitals": ("name",),
    "assessments": ("hospital_id", "standard", "kind"),
    "findings": ("assessment_id", "item_code", "result"),
}
_WHAT = {
    "hospitals": ("hospital", "bệnh viện"),
    "assessments": ("assessment", "đánh giá"),
    "findings": ("finding", "kết quả"),
}


_UNPARSED: Mapping[str, Any] = MappingProxyType({})
_UNPARSED_ROW: dict[str, Any] = {
    "key": "",
    "row_number": 0,
    "fields": _UNPARSED,
    "raw": _UNPARSED,
    "extra": _UNPARSED,
    "row_hash": "",
    "parsed": False,
}
"""The attributes of an unparsed SourceRow but its key, row number and hash."""


def _unparsed_row(key: str, row_number: int, digest: str) -> SourceRow:
    """A SourceRow for an unchanged row, built without the frozen dataclass's slow __init__
    (it costs more than everything else an unchanged row needs, at 500k rows)."""
    row = object.__new__(SourceRow)
    object.__setattr__(
        row, "__dict__", {**_UNPARSED_ROW, "key": key, "row_number": row_number, "row_hash": digest}
    )
    return row


_FastContext = Callable[[Sequence[CellValue]], "tuple[str, Any] | None"]


def _parse_tab(
    tab: _Tab,
    ctx: _Context,
    *,
    check: Callable[[dict[str, Any], _Problems], Any],
    context_of: _FastContext,
    known: Mapping[str, str],
    memo: TabMemo | None = None,
    parents_context: str | None = None,
) -> tuple[list[SourceRow], _Parents, MemoScan | None]:
    """Parse one tab's rows; `check` validates references and returns what children need.

    `context_of(row)` gives (what the row's hash depends on besides its cells, as text; what
    children need) when the row's references resolve, else None. A row whose hash equals the
    `known` stored hash of its key is not parsed again (it is unchanged in the store).
    With `parents_context` (a digest of the parent rows; only for a tab without children) the
    tab is scanned against `memo`: rows it shows unchanged in place are settled, neither
    parsed nor returned, and the returned scan holds them and the next memo.
    """
    kind = tab.kind
    key_field = _KEY_FIELD[kind]
    key_header = _header(tab, key_field)
    parsers = _PARSERS[kind]
    headers = {name: _header(tab, name) for name in tab.match.fields}
    required = _REQUIRED_VALUES[kind]
    field_items = tuple(tab.match.fields.items())
    plan = tuple(
        (name, tab.match.fields.get(name), *ctx.coerce.plan(parser), name in required)
        for name, parser in parsers.items()
    )
    prefix = repr(
        (HASH_VERSION, kind, tab.match.names, tuple(tab.match.fields.items()), ctx.timezone)
    )
    known_by_hash = dict(zip(known.values(), known.keys(), strict=True))
    has_children = kind != "findings"
    scan: MemoScan | None = None
    visiting: Iterator[tuple[int, Sequence[CellValue]]]
    if parents_context is None:
        visiting = enumerate(islice(tab.rows, 1, None), 2)
    else:
        scan = MemoScan(
            kind, tab.rows[1:], memo, context=text_digest(prefix), parents=parents_context
        )
        visiting = chain.from_iterable(
            zip(range(start + 2, end + 2), tab.rows[start + 1 : end + 1], strict=True)
            for start, end in scan.visit
        )
    in_place = scan if scan is not None and scan.has_previous else None
    memo_hashes = scan.hashes if scan is not None else None
    seen: dict[str, int] = {}
    parents: dict[str, _Parent] = {}
    stored: list[SourceRow] = []
    what_en, what_vi = _WHAT[kind]
    coerce = ctx.coerce
    hashers: dict[str, Any] = {}
    # The known-row fast path runs for every row of a re-sync: kept to a few dict lookups and
    # one hash, with no per-cell Python work (see bench_ingest.py).
    dumps: Callable[[Any, int], bytes] = marshal.dumps
    new_object = object.__new__
    set_attribute = object.__setattr__
    for row_number, row in visiting:
        if not row:
            continue
        context = context_of(row)
        digest = ""
        if context is not None:
            hasher = hashers.get(context[0])
            if hasher is None:
                hasher = hashers[context[0]] = _context_hasher(prefix + context[0])
            last = row[-1]
            if last is None or last == "" or type(row) is not tuple:
                digest = _row_digest(hasher, row)
            else:
                try:
                    payload = dumps(row, 2)
                except ValueError:  # date/datetime cells (openpyxl) are not marshallable
                    payload = dumps(tuple(map(marshallable, row)), 2)
                hashed = hasher.copy()
                hashed.update(payload)
                digest = hashed.hexdigest()
            if in_place is not None and in_place.settled_in_place(row_number - 2, digest):
                continue  # same cells, same context, same place as the stored row
            known_key = known_by_hash.get(digest)
            if known_key is None and in_place is not None and in_place.seen_before(digest):
                known_key = _cell_key(coerce.own_key, row, tab.match.fields[key_field])
            if known_key is not None and known_key not in seen:
                # Same cells, same context as the stored row: unchanged, no need to parse.
                seen[known_key] = row_number
                if has_children:
                    parents[known_key] = _Parent(row_number, rule_set=context[1])
                # `_unparsed_row`, inlined (a call per row costs a tenth of the fast path).
                unparsed = new_object(SourceRow)
                set_attribute(
                    unparsed,
                    "__dict__",
                    {
                        **_UNPARSED_ROW,
                        "key": known_key,
                        "row_number": row_number,
                        "row_hash": digest,
                    },
                )
                stored.append(unparsed)
                if memo_hashes is not None:
                    memo_hashes[row_number - 2] = digest
                continue
        length = len(row)
        cells = {name: (row[index] if index < length else None) for name, index in field_items}
        if _blank(cells[key_field]) and all(_blank(v) for v in cells.values()):
            continue  # empty (or only extra columns filled): not a record
        problems: _Problems = []
        try:
            key = coerce.own_key(cells[key_field])
        except _Problem as problem:
            key = None
            problems.append(_messages(problem.code, key_header, problem.en, problem.vi))
        else:
            if key is None:
                problems.append(
                    _messages(
                        "missing_key",
                        key_header,
                        f"the {what_en} key is empty; fill in a unique code",
                        f"mã {what_vi} đang trống; hãy nhập một mã duy nhất",
                    )
                )
        if key is not None and key in seen:
            first = seen[key]
            _reject(
                ctx,
                tab=tab,
                row_number=row_number,
                key=key,
                row=row,
                problems=[
                    _messages(
                        "duplicate_key",
                        key_header,
                        f"{what_en} {key!r} is already on row {first}; this row {row_number} is "
                        f"a duplicate and was not used (row {first} was kept) — delete one",
                        f"{what_vi} {key!r} đã có ở dòng {first}; dòng {row_number} này bị trùng "
                        f"và không được dùng (giữ dòng {first}) — hãy xoá một dòng",
                    )
                ],
            )
            continue
        if key is not None:
            seen[key] = row_number
        values: dict[str, Any] = {key_field: key}
        for name, index, cache, compute, needed in plan:
            if index is None:
                values[name] = None
                continue
            value = row[index] if index < length else None
            # Inlined `_Coercers.cached`: sheets repeat the same words and dates.
            outcome = cache.get(value if type(value) is str else (type(value), value))
            if outcome is None:
                try:
                    outcome = (True, compute(value))
                except _Problem as problem:
                    outcome = (False, problem)
                cache[value if type(value) is str else (type(value), value)] = outcome
            if not outcome[0]:
                values[name] = None
                failure = outcome[1]
                problems.append(_messages(failure.code, headers[name], failure.en, failure.vi))
                continue
            values[name] = outcome[1]
            if needed and outcome[1] is None:
                problems.append(
                    _messages(
                        "missing_value",
                        headers[name],
                        "the cell is empty; fill it in",
                        "ô đang trống; hãy nhập giá trị",
                    )
                )
        parent = None
        if not problems:
            parent = check(values, problems)
        if problems:
            _reject(ctx, tab=tab, row_number=row_number, key=key, row=row, problems=problems)
            if key is not None:
                if problems[0][0].endswith("_rejected") and ctx.cause is not None:
                    cause_en, cause_vi = ctx.cause  # keep the root cause, not a chain
                else:
                    cause_en = f"the cause: {tab.name} row {row_number}: {problems[0][2]}"
                    cause_vi = f"nguyên nhân: {tab.name} dòng {row_number}: {problems[0][3]}"
                parents[key] = _Parent(row_number, rejected_en=cause_en, rejected_vi=cause_vi)
            continue
        assert key is not None and context is not None, "a valid row's references resolve"
        parents[key] = _Parent(row_number, rule_set=parent)
        raw, extra = _raw_and_extra(tab.match, row)
        stored.append(SourceRow(key, row_number, values, raw, extra, digest))
        if memo_hashes is not None:
            memo_hashes[row_number - 2] = digest
    return stored, _Parents(parents), scan


def _cell_key(
    parse: Callable[[CellValue], str | None], row: Sequence[CellValue], index: int
) -> str | None:
    """The key the row's cell `index` holds, read by `parse`; None when it holds none."""
    try:
        return parse(row[index] if index < len(row) else None)
    except _Problem:
        return None


class _Parents:
    """The rows of a parent tab, by key, for checking references to them."""

    def __init__(self, by_key: Mapping[str, _Parent]) -> None:
        self.by_key = by_key
        self._folded: dict[str, str] | None = None

    def near(self, ref: str) -> str | None:
        """A key that differs from `ref` only in case, accents or spacing (for a hint)."""
        if self._folded is None:
            self._folded = {}
            for key in self.by_key:
                self._folded.setdefault(fold(key), key)
        return self._folded.get(fold(ref))


def _cause(parents: _Parents, ref: str) -> tuple[str, str] | None:
    parent = parents.by_key.get(ref)
    if parent is None or parent.rejected_en is None or parent.rejected_vi is None:
        return None
    return parent.rejected_en, parent.rejected_vi


def _reference_problem(
    *,
    code_prefix: str,
    column: str,
    parent_tab: str,
    ref: str,
    parents: _Parents,
    what_en: str,
    what_vi: str,
) -> tuple[str, str | None, str, str] | None:
    parent = parents.by_key.get(ref)
    if parent is None:
        hint_en = hint_vi = ""
        near = parents.near(ref)
        if near is not None:
            hint_en = f" (did you mean {near!r}?)"
            hint_vi = f" (có phải {near!r}?)"
        return _messages(
            f"unknown_{code_prefix}",
            column,
            f"{what_en} {ref!r} is not in tab {parent_tab!r}{hint_en}",
            f"{what_vi} {ref!r} không có trong bảng {parent_tab!r}{hint_vi}",
        )
    if parent.rejected_en is not None:
        return _messages(
            f"{code_prefix}_rejected",
            column,
            f"{what_en} {ref!r} was rejected ({parent_tab} row {parent.row_number}), so this row "
            f"waits until that is fixed — {parent.rejected_en}",
            f"{what_vi} {ref!r} bị từ chối ({parent_tab} dòng {parent.row_number}) nên dòng này "
            f"chờ đến khi sửa xong — {parent.rejected_vi}",
        )
    return None


def normalise_source(
    snapshot: SourceSnapshot,
    tabs: TabNames,
    rule_sets: Mapping[str, RuleSet],
    timezone: str = "Asia/Ho_Chi_Minh",
    *,
    resolver: StandardResolver | None = None,
    known: Mapping[str, Mapping[str, str]] | None = None,
    memos: Mapping[str, TabMemo] | None = None,
) -> NormalisedSource:
    """Turn a source snapshot into usable rows per tab and rejections with reasons.

    Raises SourceError when a tab is missing or its headers are unusable; every row-level
    problem becomes a Rejection. A naive sheet datetime is taken to be in `timezone`.
    `resolver(rule_sets, text)` finds the rule set a `standard` cell names (default:
    `hqsync.config.rulesets.resolve_standard`). `known` (tab kind → key → row hash of the
    live stored rows, see `hqsync.sync.upsert.stored_hashes`) lets unchanged rows skip parsing:
    they come back with `parsed=False` and empty fields. `memos` (tab kind → the memo the
    last sync left, see `hqsync.sync.upsert.read_memos`) lets the findings rows it shows
    unchanged in place skip even hashing: they are counted in `settled`, not returned.
    """
    with paused_gc():
        return _normalise(
            snapshot,
            tabs,
            rule_sets,
            timezone=timezone,
            resolver=resolver,
            known=known or {},
            memos=memos or {},
        )


def _normalise(
    snapshot: SourceSnapshot,
    tabs: TabNames,
    rule_sets: Mapping[str, RuleSet],
    *,
    timezone: str,
    resolver: StandardResolver | None,
    known: Mapping[str, Mapping[str, str]],
    memos: Mapping[str, TabMemo],
) -> NormalisedSource:
    if resolver is None:
        resolver = resolve_standard
    parsed_tabs: dict[str, _Tab] = {}
    for kind, name in tabs.as_dict().items():
        raw_tab = snapshot.tabs.get(name)
        if raw_tab is None:
            found = ", ".join(repr(t) for t in snapshot.available_tabs) or "none"
            raise SourceError(
                f"the source has no tab {name!r} (for {kind}); tabs found: {found}. "
                f"Rename the tab or set tabs.{kind} in the source's config"
            )
        if not raw_tab.rows or not any(not _blank(c) for c in raw_tab.rows[0]):
            raise SourceError(
                f"tab {name!r} has no header row; row 1 must name the columns "
                f"(e.g. {', '.join(repr(s.header_vi) for s in FIELDS[kind] if s.required)})"
            )
        match = match_headers(kind, raw_tab.rows[0], name)
        parsed_tabs[kind] = _Tab(kind, name, match, raw_tab.rows)
    ctx = _Context(_Coercers(ZoneInfo(timezone)), rule_sets, resolver, timezone=timezone)
    coerce = ctx.coerce

    def rule_set_for(text: str) -> Any:
        if text not in ctx.standards:
            ctx.standards[text] = ctx.resolve(ctx.rule_sets, text)
        return ctx.standards[text]

    def fingerprint(rule_set: Any) -> str:
        return repr((rule_set.id, str(getattr(rule_set, "fingerprint", ""))))

    hospitals_tab = parsed_tabs["hospitals"]
    hospitals, hospital_parents, _ = _parse_tab(
        hospitals_tab,
        ctx,
        check=lambda values, problems: None,
        context_of=lambda row: ("", None),
        known=known.get("hospitals", {}),
    )

    assessments_tab = parsed_tabs["assessments"]
    hospital_column = _header(assessments_tab, "hospital_id")
    standard_column = _header(assessments_tab, "standard")

    def check_assessment(values: dict[str, Any], problems: list[Any]) -> Any:
        if values["status"] is None:
            values["status"] = DEFAULT_STATUS
        problem = _reference_problem(
            code_prefix="hospital",
            column=hospital_column,
            parent_tab=hospitals_tab.name,
            ref=values["hospital_id"],
            parents=hospital_parents,
            what_en="hospital",
            what_vi="bệnh viện",
        )
        if problem:
            problems.append(problem)
            ctx.cause = _cause(hospital_parents, values["hospital_id"])
        text = values["standard"]
        rule_set = rule_set_for(text)
        if rule_set is None:
            known = ", ".join(sorted(ctx.rule_sets)) or "none"
            problems.append(
                _messages(
                    "unknown_standard",
                    standard_column,
                    f"{text!r} is not a known rule set (known: {known})",
                    f"{text!r} không phải là bộ tiêu chí đã biết (đã biết: {known})",
                )
            )
            return None
        values["standard"] = rule_set.id
        return rule_set

    hospital_index = assessments_tab.match.fields["hospital_id"]
    standard_index = assessments_tab.match.fields["standard"]

    def assessment_context(row: Sequence[CellValue]) -> tuple[str, Any] | None:
        ref = _cell_key(coerce.key, row, hospital_index)
        text = _cell_key(coerce.key, row, standard_index)
        parent = hospital_parents.by_key.get(ref) if ref is not None else None
        if parent is None or parent.rejected_en is not None or text is None:
            return None
        rule_set = rule_set_for(text)
        return None if rule_set is None else (fingerprint(rule_set), rule_set)

    assessments, assessment_parents, _ = _parse_tab(
        assessments_tab,
        ctx,
        check=check_assessment,
        context_of=assessment_context,
        known=known.get("assessments", {}),
    )

    findings_tab = parsed_tabs["findings"]
    assessment_column = _header(findings_tab, "assessment_id")
    item_column = _header(findings_tab, "item_code")
    result_column = _header(findings_tab, "result")

    def check_finding(values: dict[str, Any], problems: list[Any]) -> Any:
        ref = values["assessment_id"]
        problem = _reference_problem(
            code_prefix="assessment",
            column=assessment_column,
            parent_tab=assessments_tab.name,
            ref=ref,
            parents=assessment_parents,
            what_en="assessment",
            what_vi="đánh giá",
        )
        if problem:
            problems.append(problem)
            ctx.cause = _cause(assessment_parents, ref)
            return None
        rule_set = assessment_parents.by_key[ref].rule_set
        code = values["item_code"]
        cache_key = (rule_set.id, code)
        if cache_key not in ctx.items:
            ctx.items[cache_key] = rule_set.canonical_item(code)
        canonical = ctx.items[cache_key]
        if canonical is None:
            problems.append(
                _messages(
                    "unknown_item",
                    item_column,
                    f"item code {code!r} is not in rule set {rule_set.id}",
                    f"mã tiểu mục {code!r} không có trong bộ tiêu chí {rule_set.id}",
                )
            )
        else:
            values["item_code"] = canonical
        if values["result"] == "partial" and not rule_set.accepts_partial:
            problems.append(
                _messages(
                    "partial_not_allowed",
                    result_column,
                    f"rule set {rule_set.id} has no 'partially met'; write met, not met or n/a",
                    f"bộ tiêu chí {rule_set.id} không có 'đạt một phần'; hãy nhập Đạt, "
                    f"Không đạt hoặc Không áp dụng",
                )
            )
        return None

    assessment_index = findings_tab.match.fields["assessment_id"]

    by_ref: dict[Any, tuple[str, Any] | None] = {}

    def finding_context(row: Sequence[CellValue]) -> tuple[str, Any] | None:
        cell = row[assessment_index] if assessment_index < len(row) else None
        cache_key = cell if type(cell) is str else (type(cell), cell)
        try:
            return by_ref[cache_key]  # an assessment has hundreds of findings
        except KeyError:
            pass
        ref = _cell_key(coerce.key, row, assessment_index)
        parent = assessment_parents.by_key.get(ref) if ref is not None else None
        context = None
        if parent is not None and parent.rejected_en is None:
            context = (fingerprint(parent.rule_set), None)
        by_ref[cache_key] = context
        return context

    # What a finding's parse depends on besides its cells and the tab: its assessment.
    assessments_context = repr(
        sorted(
            (key, None if parent.rejected_en is not None else fingerprint(parent.rule_set))
            for key, parent in assessment_parents.by_key.items()
        )
    )
    findings, _, scan = _parse_tab(
        findings_tab,
        ctx,
        check=check_finding,
        context_of=finding_context,
        known=known.get("findings", {}),
        memo=memos.get("findings"),
        parents_context=text_digest(assessments_context),
    )
    assert scan is not None
    memo, settled = scan.result()
    return NormalisedSource(
        hospitals=tuple(hospitals),
        assessments=tuple(assessments),
        findings=tuple(findings),
        rejections=tuple(ctx.rejections),
        settled={} if settled is None else {"findings": settled},
        memos={"findings": memo},
    )
