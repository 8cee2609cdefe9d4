"""The rule-set loader: TOML rule set files and their CSV catalogs → `hqsync.scoring.RuleSet`.

The shipped rule sets are data files in `hqsync.config.rulesets` (found through
importlib.resources); a council adds its own by dropping a `*.toml` file (and its CSVs) into a
folder named in `[scoring] rule_set_dirs`. All file reading for scoring happens here; the
model itself (`hqsync.scoring.ruleset`) is pure. See ARCHITECTURE.md.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import math
import re
import tomllib
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from importlib import resources
from pathlib import Path
from typing import Any, Protocol

from hqsync.config.errors import RuleSetError
from hqsync.config.vocabulary import Method, PassRule, UnansweredLevel, fold
from hqsync.scoring.ruleset import (
    DEFAULT_MAX_LEVEL,
    LEVEL_ITEM,
    Band,
    Item,
    RuleSet,
    Thresholds,
    Unit,
)

log = logging.getLogger(__name__)

SHIPPED_PACKAGE = "hqsync.config.rulesets"
"""The data package holding the shipped rule set files."""

# Catalog fields a rule set can map onto CSV columns ([catalog.columns]); code is required.
UNIT_FIELDS = (
    "code",
    "title",
    "part",
    "part_title",
    "chapter",
    "chapter_title",
    "weight",
    "applies_when",
    "critical",
)
ITEM_FIELDS = ("code", "unit", "title")
_METHODS = tuple(str(m) for m in Method)
_UNANSWERED_LEVEL_POLICIES = tuple(str(u) for u in UnansweredLevel)
_CHECKLIST_PASS_RULES = tuple(str(p) for p in PassRule)
_TRUE_WORDS = {"1", "true", "yes", "y", "x", "co", "critical"}
_FALSE_WORDS = {"", "0", "false", "no", "n", "khong"}


class Hasher(Protocol):
    """What the loader needs of a hashlib hash: the fingerprint takes every byte read."""

    def update(self, data: bytes, /) -> None:
        """Add `data` to the hash."""


ReadBeside = Callable[[str], bytes]
"""Reads a file named in a rule set (a catalog CSV) from beside the rule set file."""


def load_rule_sets(extra_dirs: Sequence[str | Path] = ()) -> dict[str, RuleSet]:
    """The shipped rule sets plus every `*.toml` rule set in `extra_dirs`, by id.

    A rule set in an extra folder with the id of a shipped one replaces it (a council's own
    version of QĐ 6858, e.g. with its full sub-item catalog). Malformed files raise
    `RuleSetError` naming the file and the field.
    """
    rule_sets: dict[str, RuleSet] = {}
    shipped = resources.files(SHIPPED_PACKAGE)
    for entry in sorted(shipped.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            rule_set = _parse(
                entry.name, entry.read_bytes(), lambda name: shipped.joinpath(name).read_bytes()
            )
            rule_sets[rule_set.id] = rule_set
    for folder in extra_dirs:
        path = Path(folder)
        if not path.is_dir():
            raise RuleSetError(
                f"rule set folder {str(path)!r} does not exist; fix [scoring] rule_set_dirs"
            )
        for file in sorted(path.glob("*.toml")):
            rule_set = load_rule_set_file(file)
            if rule_set.id in rule_sets:
                log.info("rule set %s from %s replaces the shipped one", rule_set.id, file)
            rule_sets[rule_set.id] = rule_set
    return rule_sets


def load_rule_set_file(path: str | Path) -> RuleSet:
    """One rule set read from a TOML file; its catalogs are resolved beside it."""
    file = Path(path)
    try:
        data = file.read_bytes()
    except OSError as exc:
        raise RuleSetError(f"cannot read rule set file {str(file)!r}: {exc}") from exc

    def read_beside(name: str) -> bytes:
        return (file.parent / name).read_bytes()

    return _parse(str(file), data, read_beside)


class _Fields:
    """Typed access to one TOML table, with errors naming the file and the field."""

    def __init__(self, source: str, table: Mapping[str, Any], prefix: str, allowed: Sequence[str]):
        self.source, self.table, self.prefix = source, table, prefix
        unknown = sorted(set(table) - set(allowed))
        if unknown:
            raise self.error(unknown[0], f"is not a known field (known: {', '.join(allowed)})")

    def error(self, key: str, problem: str) -> RuleSetError:
        return RuleSetError(f"rule set {self.source}: field {self.prefix}{key} {problem}")

    def text(self, key: str, default: str | None = None) -> str:
        value = self.table.get(key, default)
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise self.error(key, "must be a non-empty text value")
        return value.strip()

    def number(self, key: str, default: float | None = None) -> float | None:
        value = self.table.get(key, default)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.error(key, f"must be a number, not {value!r}")
        if not math.isfinite(value):
            raise self.error(key, f"must be a finite number, not {value!r}")
        return float(value)

    def table_of(self, key: str) -> Mapping[str, Any]:
        value = self.table.get(key, {})
        if not isinstance(value, Mapping):
            raise self.error(key, "must be a table")
        return value


_TOP_FIELDS = (
    "id",
    "name",
    "short_name",
    "method",
    "aliases",
    "catalog",
    "applicability",
    "bands",
    "thresholds",
    "levels",
    "points",
    "decimals",
    "version",
    "description",
)
_THRESHOLD_FIELDS = (
    "pass_min_score",
    "pass_rule",
    "standard_min",
    "standard_met",
    "chapter_min",
    "overall_min",
)


def _parse(source: str, data: bytes, read: ReadBeside) -> RuleSet:
    """One rule set from the bytes of its TOML file; `read` fetches the catalogs beside it."""
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RuleSetError(f"rule set {source}: not valid UTF-8 TOML: {exc}") from exc
    top = _Fields(source, doc, "", _TOP_FIELDS)
    rule_id = top.text("id")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", rule_id):
        raise top.error("id", f"{rule_id!r} must be letters, digits, '.', '_' or '-'")
    method_text = top.text("method")
    if method_text not in _METHODS:
        raise top.error("method", f"must be one of {', '.join(_METHODS)}, not {method_text!r}")
    method = Method(method_text)
    aliases = doc.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise top.error("aliases", "must be a list of text values")
    decimals = top.number("decimals", 2)
    if decimals is None or decimals != int(decimals) or not 0 <= decimals <= 6:
        raise top.error("decimals", "must be a whole number from 0 to 6")

    cat = _Fields(
        source, top.table_of("catalog"), "catalog.", ("file", "items", "columns", "item_columns")
    )
    if "catalog" not in doc:
        raise top.error("catalog", "is missing: name the catalog CSV in [catalog] file")
    hasher = hashlib.sha256()
    hasher.update(data)
    units_file = cat.text("file")
    unit_rows = _read_csv(source, "catalog.file", units_file, read, hasher)
    units = _units(source, unit_rows, _column_map(cat, "columns", UNIT_FIELDS), units_file)
    applicability = _applicability(top, units, units_file)
    max_level, unanswered = _levels_settings(source, top)
    items = _catalog_items(cat, method, units=units, max_level=max_level, read=read, hasher=hasher)
    points = _points(source, top)
    thresholds = _thresholds(source, top)
    bands = _bands(source, doc.get("bands", []))
    return RuleSet(
        id=rule_id,
        name=top.text("name"),
        short_name=top.text("short_name", ""),
        method=method,
        fingerprint=hasher.hexdigest(),
        aliases=tuple(a.strip() for a in aliases if a.strip()),
        units=units,
        items=items,
        applicability=applicability,
        bands=bands,
        thresholds=thresholds,
        max_level=max_level,
        decimals=int(decimals),
        unanswered_level=unanswered,
        points=points,
        source=source,
    )


def _applicability(top: _Fields, units: tuple[Unit, ...], units_file: str) -> dict[str, str]:
    """[applicability]: condition name → hospital column; every unit's condition is listed."""
    applicability = dict(top.table_of("applicability"))
    for key, value in applicability.items():
        if not isinstance(value, str) or not value:
            raise top.error(
                f"applicability.{key}", "must name a hospital column, e.g. has_obstetrics"
            )
    for unit in units:
        if unit.applies_when and unit.applies_when not in applicability:
            raise top.error(
                "applicability",
                f"has no entry for {unit.applies_when!r} (used by {unit.code} in {units_file})",
            )
    return applicability


def _levels_settings(source: str, top: _Fields) -> tuple[int, UnansweredLevel]:
    """[levels]: max_level (2..9) and the unanswered-level policy."""
    levels = _Fields(source, top.table_of("levels"), "levels.", ("max_level", "unanswered_level"))
    max_level = levels.number("max_level", DEFAULT_MAX_LEVEL)
    if max_level is None or max_level != int(max_level) or not 2 <= max_level <= 9:
        raise levels.error("max_level", "must be a whole number from 2 to 9")
    unanswered = levels.text("unanswered_level", UnansweredLevel.BLOCKS)
    if unanswered not in _UNANSWERED_LEVEL_POLICIES:
        raise levels.error("unanswered_level", f"must be one of {_UNANSWERED_LEVEL_POLICIES}")
    return int(max_level), UnansweredLevel(unanswered)


def _catalog_items(
    cat: _Fields,
    method: Method,
    *,
    units: tuple[Unit, ...],
    max_level: int,
    read: ReadBeside,
    hasher: Hasher,
) -> tuple[Item, ...] | None:
    """The item list: the catalog itself (checklist), or the [catalog] items CSV, or None."""
    source = cat.source
    items: tuple[Item, ...] | None = None
    if method == Method.CHECKLIST:
        items = tuple(Item(code=u.code, unit=u.code, title=u.title) for u in units)
    if cat.table.get("items") is not None:
        if method == Method.CHECKLIST:
            raise cat.error(
                "items", "is not used by the checklist method (its catalog lists items)"
            )
        items_file = cat.text("items")
        item_rows = _read_csv(source, "catalog.items", items_file, read, hasher)
        items = _items(
            source,
            rows=item_rows,
            columns=_column_map(cat, "item_columns", ITEM_FIELDS),
            file=items_file,
            method=method,
            units=units,
            unit_index={u.code.upper(): i for i, u in enumerate(units)},
            max_level=max_level,
        )
    elif method == Method.POINTS:
        raise cat.error("items", "is missing: a points rule set needs its measurable elements CSV")
    return items


def _points(source: str, top: _Fields) -> dict[str, float]:
    """[points]: the points of a met, partial and not-met answer."""
    table = _Fields(source, top.table_of("points"), "points.", ("met", "partial", "not_met"))
    points = {
        "met": table.number("met", 10.0),
        "partial": table.number("partial", 5.0),
        "not_met": table.number("not_met", 0.0),
    }
    return {k: float(v) for k, v in points.items() if v is not None}


def _thresholds(source: str, top: _Fields) -> Thresholds:
    """[thresholds]: the pass rules."""
    th = _Fields(source, top.table_of("thresholds"), "thresholds.", _THRESHOLD_FIELDS)
    pass_rule = th.text("pass_rule", PassRule.ALL)
    if pass_rule not in _CHECKLIST_PASS_RULES:
        raise th.error("pass_rule", f"must be one of {_CHECKLIST_PASS_RULES}")
    thresholds = Thresholds(
        pass_min_score=th.number("pass_min_score"),
        pass_rule=PassRule(pass_rule),
        standard_min=th.number("standard_min"),
        standard_met=th.number("standard_met"),
        chapter_min=th.number("chapter_min"),
        overall_min=th.number("overall_min"),
    )
    if thresholds.pass_rule == PassRule.PERCENT and thresholds.pass_min_score is None:
        raise th.error("pass_min_score", "is needed when pass_rule = 'percent'")
    return thresholds


def _read_csv(
    source: str, key: str, name: str, read: ReadBeside, hasher: Hasher
) -> list[dict[str, str]]:
    """The rows of a catalog CSV named in a rule set; its bytes go into the fingerprint."""
    if "/" in name or "\\" in name or name.startswith("."):
        raise RuleSetError(
            f"rule set {source}: field {key} must be a file name beside the rule set, not {name!r}"
        )
    try:
        data: bytes = read(name)
    except (OSError, FileNotFoundError) as exc:
        raise RuleSetError(
            f"rule set {source}: field {key} names {name!r}, which cannot be read ({exc})"
        ) from exc
    hasher.update(b"\0" + name.encode() + b"\0" + data)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise RuleSetError(f"rule set {source}: {name} (field {key}) is not UTF-8") from exc
    try:
        rows = list(csv.DictReader(io.StringIO(text)))
    except csv.Error as exc:
        raise RuleSetError(
            f"rule set {source}: {name} (field {key}) is not valid CSV ({exc})"
        ) from None
    if not rows:
        raise RuleSetError(f"rule set {source}: {name} (field {key}) has no rows")
    for row_no, row in enumerate(rows, start=2):
        if None in row:
            raise RuleSetError(
                f"rule set {source}: {name} row {row_no}: {len(row[None])} field(s) more than "
                f"the header's columns ({row[None]!r}); remove them or quote a value holding a "
                "comma"
            )
    return [
        {unicodedata.normalize("NFC", (k or "").strip()): (v or "").strip() for k, v in r.items()}
        for r in rows
    ]


def _column_map(cat: _Fields, key: str, fields: Sequence[str]) -> dict[str, str]:
    table = cat.table_of(key)
    for name, column in table.items():
        if name not in fields:
            raise cat.error(f"{key}.{name}", f"is not a catalog field (known: {', '.join(fields)})")
        if not isinstance(column, str) or not column:
            raise cat.error(f"{key}.{name}", "must name a CSV column")
    return {f: str(table.get(f, f)) for f in fields}


def _cell(
    source: str, file: str, row_no: int, row: Mapping[str, str], column: str, *, required: bool
) -> str:
    if column not in row:
        if required:
            raise RuleSetError(f"rule set {source}: {file} has no column {column!r}")
        return ""
    value = unicodedata.normalize("NFC", row[column])
    if required and not value:
        raise RuleSetError(f"rule set {source}: {file} row {row_no}: column {column!r} is empty")
    return value


def _units(
    source: str, rows: list[dict[str, str]], columns: Mapping[str, str], file: str
) -> tuple[Unit, ...]:
    units: list[Unit] = []
    seen: set[str] = set()
    for row_no, row in enumerate(rows, start=2):
        code = "".join(_cell(source, file, row_no, row, columns["code"], required=True).split())
        if code.upper() in seen:
            raise RuleSetError(f"rule set {source}: {file} row {row_no}: code {code!r} repeats")
        seen.add(code.upper())
        weight_text = _cell(source, file, row_no, row, columns["weight"], required=False) or "1"
        try:
            weight = float(weight_text.replace(",", "."))
        except ValueError:
            weight = -1.0
        if not (math.isfinite(weight) and weight > 0):
            raise RuleSetError(
                f"rule set {source}: {file} row {row_no}: column {columns['weight']!r} must be a "
                f"positive number, not {weight_text!r}"
            )
        critical_text = fold(_cell(source, file, row_no, row, columns["critical"], required=False))
        if critical_text not in _TRUE_WORDS | _FALSE_WORDS:
            raise RuleSetError(
                f"rule set {source}: {file} row {row_no}: column {columns['critical']!r} must be "
                f"yes/no, not {critical_text!r}"
            )

        def get(name: str, row: Mapping[str, str] = row, row_no: int = row_no) -> str:
            return _cell(source, file, row_no, row, columns[name], required=False)

        units.append(
            Unit(
                code=code,
                title=get("title"),
                part=get("part"),
                part_title=get("part_title"),
                chapter=get("chapter"),
                chapter_title=get("chapter_title"),
                weight=weight,
                applies_when=get("applies_when"),
                critical=critical_text in _TRUE_WORDS,
            )
        )
    return tuple(units)


def _items(
    source: str,
    *,
    rows: list[dict[str, str]],
    columns: Mapping[str, str],
    file: str,
    method: Method,
    units: tuple[Unit, ...],
    unit_index: Mapping[str, int],
    max_level: int,
) -> tuple[Item, ...]:
    items: list[Item] = []
    seen: set[str] = set()
    for row_no, row in enumerate(rows, start=2):
        code = "".join(_cell(source, file, row_no, row, columns["code"], required=True).split())
        title = _cell(source, file, row_no, row, columns["title"], required=False)
        if code.upper() in seen:
            raise RuleSetError(f"rule set {source}: {file} row {row_no}: code {code!r} repeats")
        seen.add(code.upper())
        if method == Method.LEVELS:
            match = LEVEL_ITEM.match(code.upper())
            pos = unit_index.get(match["unit"]) if match else None
            if match is None or pos is None or not 1 <= int(match["level"]) <= max_level:
                raise RuleSetError(
                    f"rule set {source}: {file} row {row_no}: item code {code!r} must be "
                    f"<criterion>-<level>.<n> with a catalog criterion and level 1..{max_level}"
                )
            level, n = int(match["level"]), int(match["n"])
            canonical = f"{units[pos].code}-{level}.{n}"
            items.append(Item(canonical, units[pos].code, level, n, title))
        else:
            unit_code = "".join(
                _cell(source, file, row_no, row, columns["unit"], required=True).split()
            )
            pos = unit_index.get(unit_code.upper())
            if pos is None:
                raise RuleSetError(
                    f"rule set {source}: {file} row {row_no}: column {columns['unit']!r} names "
                    f"{unit_code!r}, which the catalog does not list"
                )
            items.append(Item(code, units[pos].code, None, row_no - 1, title))
    return tuple(items)


def _bands(source: str, raw: object) -> tuple[Band, ...]:
    """[[bands]], highest minimum first."""
    if not isinstance(raw, list):
        raise RuleSetError(f"rule set {source}: field bands must be a list of [[bands]] tables")
    bands: list[Band] = []
    for i, entry in enumerate(raw):
        fields = _Fields(
            source, entry if isinstance(entry, Mapping) else {}, f"bands[{i}].", ("min", "label")
        )
        minimum = fields.number("min")
        if minimum is None:
            raise fields.error("min", "is missing: the lowest score of this band")
        bands.append(Band(min=minimum, label=fields.text("label")))
    ordered = tuple(sorted(bands, key=lambda b: -b.min))
    if len({b.min for b in ordered}) != len(ordered):
        raise RuleSetError(f"rule set {source}: field bands has two bands with the same min")
    return ordered
