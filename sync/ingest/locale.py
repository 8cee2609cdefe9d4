"""Text dates, times and numbers read the way the source's locale writes them.

An AppSheet app writes dates into its sheet as text in the table's data locale: `3/4/2026` is
4 March in en_US and 3 April in vi_VN or en_GB. A `SourceLocale` says which order and which
decimal separator one source uses; the functions here read TEXT cells only. Real date cells and
serial numbers mean the same in every locale and stay the caller's.

Dates and times, in every locale unless said:

- numeric dates day first (`d/m/y`) or month first (`m/d/y`) as the locale writes them, with
  `/`, `.` or `-` between the parts and a 4- or 2-digit year (`25` is 2025), optionally followed
  (after a space, comma or `T`) by a time;
- ISO dates `yyyy-mm-dd`, optionally with `T` or a space and a time; these are read by
  `datetime.fromisoformat`, so offsets such as `Z` or `+07:00` are kept;
- times `HH:MM[:SS]` (also `8h30`) on a 24-hour clock, or on a 12-hour clock with `AM`/`PM` or
  the Vietnamese `SA`/`CH` (sáng/chiều), any case, with or without a space: `2:03:00 PM`,
  `2:03CH`; `12:xx AM` is just after midnight and `12:xx PM` just after noon;
- a numeric date that is impossible in the locale's order (`11/25/2026` in vi_VN) raises a
  `TextDateError` naming the locale and its order; it is never re-read in the other order;
- text that is a number (in the locale's notation) is a spreadsheet serial date (`45721,5`).

The plausible-year check (1950–2100) applies to every kind of date cell and stays the caller's.

Numbers (any spaces are dropped first, so `1 234,5` is `1234,5`):

- one optional decimal separator: `3,5` in vi_VN or fr_FR, `3.5` in en_US or en_GB;
- or digits in groups of three split by the locale's group separator, optionally followed by the
  decimal separator and decimals: `1.234,5` in vi_VN, `1,234.5` in en_US;
- anything else is not a number. In particular `3,5` in en_US is rejected: there a comma only
  ever separates groups of three digits, and guessing 3.5 or 35 could store a wrong value.

vi_VN is hqsync's reading before locales existed, unchanged for every text it accepted: a lone
`.` is a decimal point there too (`1.234` is 1.234, as it always was), and numeric dates are day
first. What vi_VN adds is only what used to be rejected: 12-hour times and grouped numbers.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from types import MappingProxyType

from hqsync.config.vocabulary import SERIAL_EPOCH

__all__ = [
    "DEFAULT_LOCALE",
    "EN_GB",
    "EN_US",
    "KNOWN_LOCALES",
    "VI_VN",
    "SourceLocale",
    "TextDateError",
    "from_serial",
    "google_locale",
    "locale_name",
    "parse_text_date",
    "parse_text_datetime",
    "parse_text_number",
    "parse_text_time",
    "resolve_locale",
    "source_locale",
]


@dataclass(frozen=True)
class SourceLocale:
    """How one source writes dates and numbers as text."""

    name: str
    """The locale as configured or as the spreadsheet reports it (`en_US`, `en_AU`, `fr`)."""
    day_first: bool
    """True when `3/4/2026` is 3 April (vi_VN, en_GB); False when it is 4 March (en_US)."""
    decimal: str
    """The decimal separator: `,` or `.`."""
    group: str
    """The separator of groups of three digits: `.`, `,` or a space (spaces are dropped anyway)."""
    point_is_decimal: bool = False
    """Also read a lone `.` as a decimal point (vi_VN only: hqsync always has)."""

    @property
    def order(self) -> str:
        """The numeric date pattern: `dd/mm/yyyy` or `mm/dd/yyyy`."""
        return "dd/mm/yyyy" if self.day_first else "mm/dd/yyyy"

    @property
    def example(self) -> str:
        """25 March 2025 written in this locale's order."""
        return "25/03/2025" if self.day_first else "03/25/2025"


VI_VN = SourceLocale("vi_VN", day_first=True, decimal=",", group=".", point_is_decimal=True)
EN_US = SourceLocale("en_US", day_first=False, decimal=".", group=",")
EN_GB = SourceLocale("en_GB", day_first=True, decimal=".", group=",")
DEFAULT_LOCALE = VI_VN
"""The locale of an xlsx source, and of anything hqsync cannot place."""

KNOWN_LOCALES: Mapping[str, SourceLocale] = MappingProxyType(
    {locale.name: locale for locale in (VI_VN, EN_US, EN_GB)}
)
"""The locales hqsync knows by full name; any other falls back by language."""

_COMMA_POINT = (True, ",", ".")
_COMMA_SPACE = (True, ",", " ")
_POINT_COMMA = (True, ".", ",")
_LANGUAGES: Mapping[str, tuple[bool, str, str]] = MappingProxyType(
    {
        "en": _POINT_COMMA,
        **dict.fromkeys(
            ("de", "es", "it", "pt", "nl", "id", "tr", "da", "el", "ro", "hr", "sl", "sr", "ca"),
            _COMMA_POINT,
        ),
        **dict.fromkeys(
            ("fr", "ru", "pl", "sv", "fi", "nb", "nn", "no", "cs", "sk", "hu", "uk", "bg", "lt"),
            _COMMA_SPACE,
        ),
        **dict.fromkeys(("zh", "ja", "ko", "th", "ms", "fil", "hi", "he", "iw"), _POINT_COMMA),
    }
)
"""Language → (day first, decimal separator, group separator) for locales not known by name.
Languages whose numeric dates are year first (zh, ja, ko, hu) only matter for their numbers:
year-first dates are read in ISO form (`2026-03-04`)."""

_NAME = re.compile(r"([A-Za-z]{2,3})(?:[_-]([A-Za-z]{2}|\d{3}))?")


def locale_name(value: str) -> str | None:
    """The canonical spelling of a locale name (`en-us` → `en_US`, `FR` → `fr`, `es_419`);
    None when `value` is not a plausible `ll` or `ll_CC` name."""
    match = _NAME.fullmatch(value.strip())
    if match is None:
        return None
    language, country = match.groups()
    return language.lower() if country is None else f"{language.lower()}_{country.upper()}"


def source_locale(name: str | None) -> SourceLocale:
    """The locale called `name`: a known one, else by its language, else day-first like vi_VN.

    `en_AU` reads like en_GB (day first, decimal point), `fr_FR` day first with a decimal comma;
    an unknown language or an implausible name reads like vi_VN but keeps its own name, so
    messages name what was configured. None or blank is `DEFAULT_LOCALE`.
    """
    if name is None or not name.strip():
        return DEFAULT_LOCALE
    canonical = locale_name(name)
    if canonical is None:
        return replace(VI_VN, name=name.strip())
    known = KNOWN_LOCALES.get(canonical)
    if known is not None:
        return known
    language = canonical.split("_", 1)[0]
    conventions = _LANGUAGES.get(language)
    if conventions is None:  # Vietnamese, or a language hqsync does not know: today's reading
        return replace(VI_VN, name=canonical)
    day_first, decimal, group = conventions
    return SourceLocale(canonical, day_first=day_first, decimal=decimal, group=group)


def google_locale(value: str | None) -> SourceLocale:
    """The locale of a Google spreadsheet from its `properties.locale` (`en_US`, `vi_VN`, `fr`);
    `DEFAULT_LOCALE` when Google reports none."""
    return source_locale(value)


def resolve_locale(
    configured: str | None, backend: str, spreadsheet_locale: str | None = None
) -> SourceLocale:
    """The locale one source is read in: the configured one; else, on Google, the spreadsheet's
    own (`properties.locale`); else `DEFAULT_LOCALE` (xlsx files carry no data locale)."""
    if configured is not None:
        return source_locale(configured)
    if backend == "google":
        return google_locale(spreadsheet_locale)
    return DEFAULT_LOCALE


# --------------------------------------------------------------------------------------------
# Dates and times


class TextDateError(ValueError):
    """A text cell that is not a date (or date-time) in the source's locale.

    A ValueError like every date-parsing failure: a cell's problem becomes a rejection of its
    row, never an `HqsyncError`. `reason_en` / `reason_vi` say why and what to write instead.
    """

    def __init__(self, text: str, locale: SourceLocale, reason_en: str, reason_vi: str) -> None:
        super().__init__(reason_en)
        self.text = text
        self.locale = locale
        self.reason_en = reason_en
        self.reason_vi = reason_vi


_HMS = r"(\d{1,2})[:h](\d{2})(?::(\d{2}))?"
_MARKER = r"\s*((?i:am|pm|sa|ch))"
_CLOCK = _HMS + "(?:" + _MARKER + ")?"
_NUMERIC_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4}|\d{2})(?:[ ,T]+" + _CLOCK + ")?$")
_ISO_PREFIX = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}")
_ISO_12_HOUR = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})[ T]+" + _HMS + _MARKER + "$")
_TIME = re.compile("^" + _CLOCK + "$")
_AFTERNOON = frozenset({"pm", "ch"})


def parse_text_datetime(text: str, locale: SourceLocale = DEFAULT_LOCALE) -> datetime | None:
    """A naive (or, for ISO text with an offset, aware) datetime from a text cell; None if blank.

    `text` should already be cleaned (invisible characters and a leading apostrophe removed);
    runs of spaces are collapsed here. Raises `TextDateError` when the text is not a date in
    `locale`. The plausible-year check is the caller's.
    """
    text = " ".join(text.split())
    if not text:
        return None
    match = _NUMERIC_DATE.match(text)
    if match:
        first, second, year, *clock = match.groups()
        day, month = (first, second) if locale.day_first else (second, first)
        full_year = int(year) + (2000 if len(year) == 2 else 0)
        try:
            day_value = date(full_year, int(month), int(day))
        except ValueError:
            raise _impossible_in_locale(text, locale) from None
        return datetime.combine(day_value, _clock(text, locale, clock))
    if _ISO_PREFIX.match(text):
        return _iso(text, locale)
    number = parse_text_number(text, locale)
    if number is None:
        raise _not_a_date(text, locale)
    try:
        return from_serial(number)
    except ValueError:
        raise _not_a_date(text, locale) from None


def parse_text_date(text: str, locale: SourceLocale = DEFAULT_LOCALE) -> date | None:
    """The date of a text cell (any time of day is dropped); None if blank.

    Raises `TextDateError` when the text is not a date in `locale`.
    """
    moment = parse_text_datetime(text, locale)
    return None if moment is None else moment.date()


def parse_text_time(text: str) -> time | None:
    """A time of day from text (`14:03`, `8h30`, `2:03:00 PM`, `2:03 CH`); None if blank.

    The same in every locale. Raises ValueError when the text is not a time of day.
    """
    text = " ".join(text.split())
    if not text:
        return None
    match = _TIME.match(text)
    if match is None:
        raise ValueError(f"{text[:60]!r} is not a time of day; write HH:MM or e.g. 2:30 PM")
    try:
        return _clock(text, DEFAULT_LOCALE, match.groups())
    except TextDateError as exc:
        raise ValueError(exc.reason_en) from None


def from_serial(number: float) -> datetime:
    """The datetime of a spreadsheet serial number (days since 1899-12-30), to the second.

    Raises ValueError when the number is outside the serial dates spreadsheets can hold.
    """
    if not 0 < number < 2_958_466:
        raise ValueError(f"{number!r} is not a date serial number")
    # Round to the second: serial fractions carry binary noise.
    return SERIAL_EPOCH + timedelta(seconds=round(number * 86400))


def _clock(text: str, locale: SourceLocale, parts: Sequence[str | None]) -> time:
    """The time of the matched (hour, minute, second, marker) groups; midnight when none."""
    hour, minute, second, marker = parts
    if hour is None or minute is None:
        return time()
    value = int(hour)
    if marker is not None:
        if not 1 <= value <= 12:
            raise _bad_time(text, locale)
        value = value % 12 + (12 if marker.lower() in _AFTERNOON else 0)
    try:
        return time(value, int(minute), int(second or 0))
    except ValueError:
        raise _bad_time(text, locale) from None


def _iso(text: str, locale: SourceLocale) -> datetime:
    match = _ISO_12_HOUR.match(text)
    try:
        if match is None:
            return datetime.fromisoformat(text.replace(" ", "T", 1))
        year, month, day, *clock = match.groups()
        day_value = date(int(year), int(month), int(day))
    except ValueError:
        raise _not_a_date(text, locale) from None
    return datetime.combine(day_value, _clock(text, locale, clock))


def _show(text: str) -> str:
    return repr(text[:60])


def _not_a_date(text: str, locale: SourceLocale) -> TextDateError:
    return TextDateError(
        text,
        locale,
        f"{_show(text)} is not a date; write {locale.order}, e.g. {locale.example}",
        f"{_show(text)} không phải là ngày hợp lệ; hãy nhập dạng {locale.order}, "
        f"ví dụ {locale.example}",
    )


def _impossible_in_locale(text: str, locale: SourceLocale) -> TextDateError:
    first_en, first_vi = ("day", "ngày") if locale.day_first else ("month", "tháng")
    return TextDateError(
        text,
        locale,
        f"{_show(text)} is not a date in the source's locale {locale.name}, which writes the "
        f"{first_en} first ({locale.order}, e.g. {locale.example}); it is not read in another "
        "order: check the value, or the source's locale in the config",
        f"{_show(text)} không phải là ngày hợp lệ theo định dạng vùng {locale.name} của nguồn, "
        f"ghi {first_vi} trước ({locale.order}, ví dụ {locale.example}); hqsync không đọc theo "
        "thứ tự khác: hãy kiểm tra giá trị, hoặc mục locale của nguồn trong cấu hình",
    )


def _bad_time(text: str, locale: SourceLocale) -> TextDateError:
    return TextDateError(
        text,
        locale,
        f"{_show(text)} has no valid time of day; write HH:MM (24-hour) or e.g. 2:30 PM",
        f"{_show(text)} không có giờ hợp lệ; hãy nhập HH:MM (24 giờ) hoặc ví dụ 2:30 CH",
    )


# --------------------------------------------------------------------------------------------
# Numbers


@lru_cache(maxsize=64)
def _number_patterns(locale: SourceLocale) -> tuple[re.Pattern[str], re.Pattern[str] | None]:
    """The plain and the grouped number pattern of a locale."""
    marks = locale.decimal + ("." if locale.point_is_decimal else "")
    plain = re.compile(rf"^[+-]?\d+(?:[{re.escape(marks)}]\d+)?$")
    if locale.group.isspace() or locale.group == locale.decimal:
        return plain, None
    grouped = re.compile(
        rf"^[+-]?\d{{1,3}}(?:{re.escape(locale.group)}\d{{3}})+"
        rf"(?:{re.escape(locale.decimal)}\d+)?$"
    )
    return plain, grouped


def parse_text_number(text: str, locale: SourceLocale = DEFAULT_LOCALE) -> float | None:
    """The number a text cell holds in `locale`'s notation; None when it is not one.

    `3,5` is 3.5 in vi_VN and None in en_US (see the module docstring for the rules).
    """
    compact = "".join(text.split())
    plain, grouped = _number_patterns(locale)
    if plain.match(compact):
        return float(compact.replace(",", "."))
    if grouped is not None and grouped.match(compact):
        return float(compact.replace(locale.group, "").replace(locale.decimal, "."))
    return None
