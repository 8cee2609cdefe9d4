"""The rule-set model: the standards hqsync scores against, as plain frozen values.

A `RuleSet` names its scoring method (`levels`, `checklist` or `points`), its catalog of units
(criteria / checklist items / standards) and answerable items, weights, applicability, bands
and thresholds. This module is pure: `hqsync.config.ruleset_loader` reads rule set files into
these values; scoring and the rest only read them (see ARCHITECTURE.md).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from hqsync.config.vocabulary import Method, PassRule, UnansweredLevel, fold, levels_of

DEFAULT_MAX_LEVEL = 5
"""The number of levels of a `levels` rule set that does not say (QĐ 6858 has 5)."""

LEVEL_ITEM = re.compile(r"^(?P<unit>.+)-(?P<level>\d+)\.(?P<n>\d+)$")
"""A `levels` item code, upper-cased and without spaces: <criterion>-<level>.<n> (A1.1-2.12)."""


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
    pass_rule: PassRule = PassRule.ALL
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
    short_name: str = ""
    """What leaders call the standard ("QĐ 6858", "TT 35/2024"); empty: its name."""
    units: tuple[Unit, ...] = ()
    items: tuple[Item, ...] | None = None
    """The full item list when the rule set has one (always for checklist and points; optional
    sub-item catalog for levels). When present, unanswered items count as not met."""
    applicability: Mapping[str, str] = field(default_factory=dict)
    """Condition name (the catalog's applies_when) → hospital profile column."""
    bands: tuple[Band, ...] = ()
    thresholds: Thresholds = field(default_factory=Thresholds)
    max_level: int = DEFAULT_MAX_LEVEL
    decimals: int = 2
    unanswered_level: UnansweredLevel = UnansweredLevel.BLOCKS
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
    def display_name(self) -> str:
        """The standard as dashboards show it: its short name, else its name, else its id."""
        return self.short_name or self.name or self.id

    @property
    def accepts_partial(self) -> bool:
        """True when findings may be 'partial' (only the `points` method scores them)."""
        return self.method == Method.POINTS

    @property
    def total(self) -> int:
        """How many units the catalog lists (the "83" of "82/83")."""
        return len(self.units)

    @property
    def levels(self) -> tuple[int, ...]:
        """The levels this rule set reports (1..max_level) when scored by levels, else ()."""
        return levels_of(self.max_level) if self.method == Method.LEVELS else ()

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
        match = LEVEL_ITEM.match(key)
        if match is None:
            return None
        pos = self._unit_index.get(match["unit"])
        level, n = int(match["level"]), int(match["n"])
        if pos is None or not 1 <= level <= self.max_level or n < 1:
            return None
        return f"{self.units[pos].code}-{level}.{n}"


def resolve_standard(rule_sets: Mapping[str, RuleSet], text: str) -> RuleSet | None:
    """The rule set whose id, alias or name matches what an inspector typed, else None.

    Accent-, case-, space- and punctuation-insensitive: "QĐ 6858", "qd-6858", "TT 35/2024".
    """
    wanted = fold(text)
    if not wanted:
        return None
    for rule_set_id in sorted(rule_sets):
        rule_set = rule_sets[rule_set_id]
        names = (rule_set.id, rule_set.name, *rule_set.aliases)
        if any(fold(name) == wanted for name in names):
            return rule_set
    return None


def report_levels(rule_sets: Iterable[RuleSet]) -> tuple[int, ...]:
    """The level columns of a report across `rule_sets`: 1..the highest `max_level` of those
    scored by levels (a 7-level council rule set beside QĐ 6858 gives 1..7); () when none is."""
    return levels_of(max((len(rs.levels) for rs in rule_sets), default=0))
