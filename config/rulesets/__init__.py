"""Rule sets: the standards hqsync scores against, read from data files (one TOML file each).

A rule set names its scoring method (`levels`, `checklist` or `points`), its catalog (a CSV
of criteria / checklist items / standards beside the TOML file), weights, applicability,
bands and thresholds. The shipped ones live in this package (`hqsync.config.rulesets`); a
council adds its own by dropping a `*.toml` file (and its CSVs) into a folder named in
`[scoring] rule_set_dirs`. All file reading for scoring happens here; `hqsync.scoring` only
receives the loaded `RuleSet` values.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, Literal, cast

from hqsync.config.errors import RuleSetError

log = logging.getLogger(__name__)

Method = Literal["levels", "checklist", "points"]
METHODS: tuple[str, ...] = ("levels", "checklist", "points")
SHIPPED_PACKAGE = "hqsync.config.rulesets"
UNANSWERED_LEVEL_POLICIES = ("blocks", "met")
CHECKLIST_PASS_RULES = ("all", "percent")

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
_TRUE_WORDS = {"1", "true", "yes", "y", "x", "co", "critical"}
_FALSE_WORDS = {"", "0", "false", "no", "n", "khong"}
_LEVEL_ITEM = re.compile(r"^(?P<unit>.+)-(?P<level>\d+)\.(?P<n>\d+)$")


@dataclass(frozen=True)
class Unit:
    """One scoring unit of a catalog: a QĐ 6858 criterion, a TT 35 item, a JCI standard."""

    code: str
    title: str = ""
    part: str = ""
    part_title: str = ""
    chapter: str = ""
    chapter_title: str = ""
    weight: float = 1.0
    applies_when: str = ""
    """A condition name from [applicability]; empty when the unit always applies."""
    critical: bool = False


@dataclass(frozen=True)
class Item:
    """One answerable item: a QĐ 6858 sub-item, a TT 35 item, a JCI measurable element."""

    code: str
    unit: str
    level: int | None = None
    n: int | None = None
    title: str = ""


@dataclass(frozen=True)
class Band:
    """A named score band: scores at or above `min` (and below the next band) get `label`."""

    min: float
    label: str


@dataclass(frozen=True)
class Thresholds:
    """Pass rules. `levels`: optional minimum score; `checklist`: `pass_rule` all/percent;
    `points`: minimum standard, chapter and overall scores and the 'met' cut-off of a standard."""

    pass_min_score: float | None = None
    pass_rule: str = "all"
    standard_min: float | None = None
    standard_met: float | None = None
    chapter_min: float | None = None
    overall_min: float | None = None


@dataclass(frozen=True)
class RuleSet:
    """One standard, as loaded from its rule set file and catalogs."""

    id: str
    name: str
    method: Method
    fingerprint: str
    aliases: tuple[str, ...] = ()
    units: tuple[Unit, ...] = ()
    items: tuple[Item, ...] | None = None
    """The full item list when the rule set has one (always for checklist and points; optional
    sub-item catalog for levels). When present, unanswered items count as not met."""
    applicability: Mapping[str, str] = field(default_factory=dict)
    """Condition name (the catalog's applies_when) → hospital profile column."""
    bands: tuple[Band, ...] = ()
    thresholds: Thresholds = field(default_factory=Thresholds)
    max_level: int = 5
    decimals: int = 2
    unanswered_level: str = "blocks"
    points: Mapping[str, float] = field(default_factory=dict)
    source: str = ""
    """Where the rule set was read from (for messages)."""
    _unit_index: Mapping[str, int] = field(init=False, compare=False, repr=False)
    _item_index: Mapping[str, str] = field(init=False, compare=False, repr=False)

    def __post_init__(self) -> None:
        # Lookup tables derived from the catalogs (the dataclass is frozen, hence __setattr__).
        object.__setattr__(
            self, "_unit_index", {u.code.upper(): i for i, u in enumerate(self.units)}
        )
        items = {} if self.items is None else {i.code.upper(): i.code for i in self.items}
        object.__setattr__(self, "_item_index", items)

    @property
    def accepts_partial(self) -> bool:
        """True when findings may be 'partial' (only the `points` method scores them)."""
        return self.method == "points"

    @property
    def total(self) -> int:
        """How many units the catalog lists (the "83" of "82/83")."""
        return len(self.units)

    def unit_position(self, code: str) -> int | None:
        """The catalog position of a unit code (exact canonical code), or None."""
        return self._unit_index.get(code.upper())

    def canonical_item(self, code: str) -> str | None:
        """The canonical item code if this rule set knows the item, else None.

        Case- and space-insensitive: " a1.1-2.12" → "A1.1-2.12" (QĐ 6858), "1.3.1" (TT 35).
        """
        key = "".join(str(code).split()).upper()
        if not key:
            return None
        if self.items is not None:
            return self._item_index.get(key)
        match = _LEVEL_ITEM.match(key)
        if match is None:
            return None
        pos = self._unit_index.get(match["unit"])
        level, n = int(match["level"]), int(match["n"])
        if pos is None or not 1 <= level <= self.max_level or n < 1:
            return None
        return f"{self.units[pos].code}-{level}.{n}"


def normalise_name(text: str) -> str:
    """Accent-, case-, space- and punctuation-free form of a name ("QĐ 6858" → "qd6858")."""
    text = unicodedata.normalize("NFKD", str(text).replace("đ", "d").replace("Đ", "D"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return "".join(ch for ch in text.casefold() if ch.isalnum())


def resolve_standard(rule_sets: Mapping[str, RuleSet], text: str) -> RuleSet | None:
    """The rule set whose id, alias or name matches what an inspector typed, else None.

    Accent-, case-, space- and punctuation-insensitive: "QĐ 6858", "qd-6858", "TT 35/2024".
    """
    wanted = normalise_name(text)
    if not wanted:
        return None
    for rule_set_id in sorted(rule_sets):
        rule_set = rule_sets[rule_set_id]
        names = (rule_set.id, rule_set.name, *rule_set.aliases)
        if any(normalise_name(name) == wanted for name in names):
            return rule_set
    return None


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
        return float(value)

    def table_of(self, key: str) -> Mapping[str, Any]:
        value = self.table.get(key, {})
        if not isinstance(value, Mapping):
            raise self.error(key, "must be a table")
        return value


def _parse(source: str, data: bytes, read: Any) -> RuleSet:
    try:
        doc = tomllib.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise RuleSetError(f"rule set {source}: not valid UTF-8 TOML: {exc}") from exc
    top = _Fields(
        source,
        doc,
        "",
        (
            "id",
            "name",
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
        ),
    )
    rule_id = top.text("id")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", rule_id):
        raise top.error("id", f"{rule_id!r} must be letters, digits, '.', '_' or '-'")
    method = top.text("method")
    if method not in METHODS:
        raise top.error("method", f"must be one of {', '.join(METHODS)}, not {method!r}")
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
    columns = _column_map(cat, "columns", UNIT_FIELDS)
    units = _units(source, unit_rows, columns, units_file)
    unit_index = {u.code.upper(): i for i, u in enumerate(units)}

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

    levels = _Fields(source, top.table_of("levels"), "levels.", ("max_level", "unanswered_level"))
    max_level = levels.number("max_level", 5)
    if max_level is None or max_level != int(max_level) or not 2 <= max_level <= 9:
        raise levels.error("max_level", "must be a whole number from 2 to 9")
    unanswered = levels.text("unanswered_level", "blocks")
    if unanswered not in UNANSWERED_LEVEL_POLICIES:
        raise levels.error("unanswered_level", f"must be one of {UNANSWERED_LEVEL_POLICIES}")

    items: tuple[Item, ...] | None = None
    if method == "checklist":
        items = tuple(Item(code=u.code, unit=u.code, title=u.title) for u in units)
    items_file = cat.table.get("items")
    if items_file is not None:
        if method == "checklist":
            raise cat.error(
                "items", "is not used by the checklist method (its catalog lists items)"
            )
        items_file = cat.text("items")
        item_rows = _read_csv(source, "catalog.items", items_file, read, hasher)
        item_columns = _column_map(cat, "item_columns", ITEM_FIELDS)
        items = _items(
            source,
            rows=item_rows,
            columns=item_columns,
            file=items_file,
            method=method,
            units=units,
            unit_index=unit_index,
            max_level=int(max_level),
        )
    elif method == "points":
        raise cat.error("items", "is missing: a points rule set needs its measurable elements CSV")

    points_table = _Fields(source, top.table_of("points"), "points.", ("met", "partial", "not_met"))
    points = {
        "met": points_table.number("met", 10.0),
        "partial": points_table.number("partial", 5.0),
        "not_met": points_table.number("not_met", 0.0),
    }

    th = _Fields(
        source,
        top.table_of("thresholds"),
        "thresholds.",
        (
            "pass_min_score",
            "pass_rule",
            "standard_min",
            "standard_met",
            "chapter_min",
            "overall_min",
        ),
    )
    thresholds = Thresholds(
        pass_min_score=th.number("pass_min_score"),
        pass_rule=th.text("pass_rule", "all"),
        standard_min=th.number("standard_min"),
        standard_met=th.number("standard_met"),
        chapter_min=th.number("chapter_min"),
        overall_min=th.number("overall_min"),
    )
    if thresholds.pass_rule not in CHECKLIST_PASS_RULES:
        raise th.error("pass_rule", f"must be one of {CHECKLIST_PASS_RULES}")
    if thresholds.pass_rule == "percent" and thresholds.pass_min_score is None:
        raise th.error("pass_min_score", "is needed when pass_rule = 'percent'")

    bands = _bands(source, doc.get("bands", []))
    return RuleSet(
        id=rule_id,
        name=top.text("name"),
        method=cast(Method, method),
        fingerprint=hasher.hexdigest(),
        aliases=tuple(a.strip() for a in aliases if a.strip()),
        units=units,
        items=items,
        applicability=applicability,
        bands=bands,
        thresholds=thresholds,
        max_level=int(max_level),
        decimals=int(decimals),
        unanswered_level=unanswered,
        points={k: float(v) for k, v in points.items() if v is not None},
        source=source,
    )


def _read_csv(source: str, key: str, name: str, read: Any, hasher: Any) -> list[dict[str, str]]:
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
    rows = list(csv.DictReader(io.StringIO(text)))
    if not rows:
        raise RuleSetError(f"rule set {source}: {name} (field {key}) has no rows")
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
        if not weight > 0:
            raise RuleSetError(
                f"rule set {source}: {file} row {row_no}: column {columns['weight']!r} must be a "
                f"positive number, not {weight_text!r}"
            )
        critical_text = normalise_name(
            _cell(source, file, row_no, row, columns["critical"], required=False)
        )
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
    method: str,
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
        if method == "levels":
            match = _LEVEL_ITEM.match(code.upper())
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


def _bands(source: str, raw: Any) -> tuple[Band, ...]:
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
