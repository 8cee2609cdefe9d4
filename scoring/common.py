"""Shared pieces of the scoring methods: the answer matrix, applicability, rounding, bands."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

import numpy as np

from hqsync.config.vocabulary import Result
from hqsync.scoring.ruleset import Band, RuleSet

if TYPE_CHECKING:
    import pandas as pd

Profiles = Mapping[str, np.ndarray]
"""Hospital column → its values (objects), one per assessment, in the assessments' order."""

# Answer codes in the answer matrix; a duplicate answer to one item keeps the worst (highest).
UNANSWERED = -1
NA = 0
MET = 1
PARTIAL = 2
NOT_MET = 3
RESULT_CODES: Mapping[str, int] = {
    Result.NA: NA,
    Result.MET: MET,
    Result.PARTIAL: PARTIAL,
    Result.NOT_MET: NOT_MET,
}
"""Each finding result's answer code (a StrEnum member looks up as its text)."""
RESULT_NAMES: Mapping[int, Result | None] = {
    UNANSWERED: None,
    **{c: Result(r) for r, c in RESULT_CODES.items()},
}
"""Each answer code's result (None: unanswered)."""
LIST_LIMIT = 50
"""At most this many codes in an assessment-level list of unknown items (the count is exact)."""


@dataclass(frozen=True)
class ItemTable:
    """The items one rule set scores, ordered by (unit position, level, n), as arrays."""

    codes: np.ndarray  # str objects
    unit: np.ndarray  # int, position in rule_set.units
    level: np.ndarray  # int, 0 when the method has no levels
    from_catalog: bool
    """True when the rule set lists its items, so unanswered items are known to be missing."""


@dataclass(frozen=True)
class Answers:
    """The answers of one rule set's assessments: one row per assessment, one column per item."""

    keys: np.ndarray  # assessment keys, sorted
    matrix: np.ndarray  # int8 (assessments × items), UNANSWERED where no finding
    items: ItemTable
    duplicates: np.ndarray  # int, per assessment: findings that repeated an item
    unknown: list[list[str]]  # per assessment: item codes the rule set does not know


@dataclass(frozen=True)
class Coded:
    """A column of findings as codes into its distinct values (-1: a missing value)."""

    codes: np.ndarray
    values: Sequence[Any]
    raw: Sequence[Any] | None = None
    """The findings' own values, when the codes may be -1 (their text names an unknown item)."""

    def texts(self, mask: np.ndarray) -> list[str]:
        """The text of the values of the findings in `mask`."""
        if self.raw is not None:
            return [str(v) for v in self.raw[mask]]  # type: ignore[call-overload]
        return [str(self.values[c]) for c in self.codes[mask].tolist()]


def build_answers(
    rule_set: RuleSet, keys: np.ndarray, f_assessment: np.ndarray, items: Coded, results: Coded
) -> Answers:
    """The answer matrix of `keys` (sorted) from their findings; duplicates keep the worst.

    Findings are given as arrays: the position of their assessment in `keys`, the item code
    and the result (as codes into their distinct values, some maybe unused).
    """
    item_codes, item_uniques = items.codes, items.values
    canonical = [rule_set.canonical_item(str(code)) for code in item_uniques]
    used = np.bincount(item_codes[item_codes >= 0], minlength=len(canonical)) > 0
    observed = [c for c, u in zip(canonical, used.tolist(), strict=True) if c is not None and u]
    table = _item_table(rule_set, observed)
    position = {code: i for i, code in enumerate(table.codes.tolist())}
    unique_to_item = np.array(
        [position.get(c, -1) if c is not None else -1 for c in canonical] or [-1], dtype=np.int64
    )
    item_idx = unique_to_item[item_codes] if len(item_codes) else np.empty(0, np.int64)
    result_codes, result_uniques = results.codes, results.values
    result_map = np.array(
        [RESULT_CODES.get(str(r), -2) for r in result_uniques] or [-2], dtype=np.int8
    )
    severity = result_map[result_codes] if len(result_codes) else np.empty(0, np.int8)

    n_assessments, n_items = len(keys), len(table.codes)
    unknown: list[list[str]] = [[] for _ in range(n_assessments)]
    bad = (item_idx < 0) | (severity < 0)
    if bad.any():
        pairs = zip(f_assessment[bad], items.texts(bad), strict=True)
        for a, code in sorted({(int(a), c) for a, c in pairs}):
            unknown[a].append(code)
    good = ~bad & (f_assessment >= 0)
    flat = f_assessment[good].astype(np.int64) * n_items + item_idx[good]
    matrix = np.full((n_assessments, n_items), UNANSWERED, dtype=np.int8)
    np.maximum.at(matrix.reshape(-1), flat, severity[good])  # the worst answer of each cell
    answers = np.bincount(flat, minlength=n_assessments * n_items)
    duplicates = np.maximum(answers - 1, 0).reshape(n_assessments, n_items).sum(axis=1)
    return Answers(keys, matrix, table, duplicates, unknown)


def _item_table(rule_set: RuleSet, observed: Sequence[str]) -> ItemTable:
    if rule_set.items is not None:
        entries = [
            (rule_set.unit_position(i.unit) or 0, i.level or 0, i.n or 0, i.code)
            for i in rule_set.items
        ]
        from_catalog = True
    else:  # levels without a sub-item catalog: the items that findings name
        entries = []
        for code in set(observed):
            unit, rest = code.rsplit("-", 1)
            level, n = rest.split(".")
            entries.append((rule_set.unit_position(unit) or 0, int(level), int(n), code))
        from_catalog = False
    entries.sort()
    return ItemTable(
        codes=np.array([e[3] for e in entries], dtype=object),
        unit=np.array([e[0] for e in entries], dtype=np.int64),
        level=np.array([e[1] for e in entries], dtype=np.int64),
        from_catalog=from_catalog,
    )


def applicability(rule_set: RuleSet, profiles: Profiles, n: int) -> tuple[np.ndarray, list[str]]:
    """(assessments × units) bool: False where the hospital profile rules the unit out.

    `profiles` holds the hospital columns of the `n` assessments. An unknown profile value
    (None) leaves the unit applicable: its findings decide.
    """
    result = np.ones((n, len(rule_set.units)), dtype=bool)
    for pos, unit in enumerate(rule_set.units):
        if not unit.applies_when:
            continue
        column = rule_set.applicability[unit.applies_when]
        if column in profiles:
            values = np.asarray(profiles[column], dtype=object)
            result[:, pos] = np.array([not _says_no(v) for v in values], dtype=bool)
    return result, [rule_set.applicability.get(u.applies_when, "") for u in rule_set.units]


def _says_no(value: Any) -> bool:
    """True for a definite no (False, 0); None, NA and NaN are unknown, not no."""
    if isinstance(value, bool | np.bool_ | int | float | np.integer | np.floating):
        return not np.isnan(float(value)) and not bool(value)
    return False


def contiguous_sums(values: np.ndarray, groups: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum the columns of `values` (rows × columns) by `groups`, a non-decreasing column → group
    map; groups without columns sum to 0. Returns rows × n_groups int64."""
    out = np.zeros((values.shape[0], n_groups), dtype=np.int64)
    if values.shape[1] == 0:
        return out
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    out[:, groups[starts]] = np.add.reduceat(values.astype(np.int32), starts, axis=1)
    return out


def group_sums(values: np.ndarray, columns: np.ndarray, n_groups: int) -> np.ndarray:
    """Sum the columns of `values` (rows × columns) into `n_groups` groups (columns → group)."""
    onehot = np.zeros((values.shape[1], n_groups), dtype=np.float64)
    onehot[np.arange(values.shape[1]), columns] = 1.0
    return values.astype(np.float64) @ onehot


def round_half_up(numerator: float, denominator: float, decimals: int) -> float | None:
    """numerator ÷ denominator rounded half up (as published), or None when nothing counted."""
    if denominator == 0:
        return None
    quotient = Decimal(numerator) / Decimal(denominator)
    return float(quotient.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def round_ratios(numerators: np.ndarray, denominators: np.ndarray, decimals: int) -> list:
    """Element-wise `round_half_up` (None where the denominator is 0), exact and vectorised
    when every value is a whole number (the usual case: levels × whole coefficients)."""
    num = np.asarray(numerators, dtype=np.float64)
    den = np.asarray(denominators, dtype=np.float64)
    scale = 10**decimals
    whole = (
        np.all(num == np.round(num))
        and np.all(den == np.round(den))
        and np.all(np.abs(num) * scale * 2 < 2**62)
        and np.all(num >= 0)
    )
    if not whole:
        return [
            round_half_up(float(n), float(d), decimals)
            for n, d in zip(num.flat, den.flat, strict=True)
        ]
    n_int, d_int = num.astype(np.int64), den.astype(np.int64)
    safe = np.where(d_int > 0, d_int, 1)
    quotient = (2 * n_int * scale + safe) // (2 * safe)
    values = (quotient / scale).astype(object)
    values[d_int <= 0] = None
    return values.reshape(-1).tolist()


def score_row(
    rule_set: RuleSet,
    answers: Answers,
    a: int,
    *,
    score: float | None,
    passed: bool | None,
    applicable: int,
    assessed: int,
    level_counts: dict[str, int],
    parts: Mapping[str, float | None],
    details: dict[str, Any],
) -> dict[str, Any]:
    """One row of the scores frame; the band follows from the score, and the details gain
    what the findings could not say (unknown items, duplicates)."""
    return {
        "assessment_key": answers.keys[a],
        "standard": rule_set.id,
        "method": rule_set.method,
        "score": score,
        "passed": passed,
        "band": band_of(rule_set.bands, score),
        "applicable": applicable,
        "assessed": assessed,
        "level_counts": level_counts,
        "parts": parts,
        "details": {
            **details,
            "unknown_items": answers.unknown[a][:LIST_LIMIT],
            "unknown_item_count": len(answers.unknown[a]),
            "duplicate_findings": int(answers.duplicates[a]),
        },
    }


def band_of(bands: Sequence[Band], score: float | None) -> str | None:
    """The label of the highest band whose minimum the score reaches."""
    if score is None:
        return None
    for band in bands:  # sorted from the highest minimum down
        if score >= band.min:
            return band.label
    return None


def ordered_groups(names: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Distinct names in first-seen order and each input's group number."""
    distinct = list(dict.fromkeys(names))
    index = {name: i for i, name in enumerate(distinct)}
    return distinct, np.array([index[n] for n in names], dtype=np.int64)


SCORE_COLUMNS = [
    "assessment_key",
    "standard",
    "method",
    "score",
    "passed",
    "band",
    "applicable",
    "assessed",
    "level_counts",
    "parts",
    "details",
]


def scores_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The scores frame with its fixed columns, nullable values kept as None."""
    import pandas as pd

    frame = pd.DataFrame({c: pd.Series([r[c] for r in rows], dtype=object) for c in SCORE_COLUMNS})
    frame["applicable"] = frame["applicable"].astype(np.int64)
    frame["assessed"] = frame["assessed"].astype(np.int64)
    return frame


CRITERIA_COLUMNS = ["assessment_key", "code", "level", "value", "status", "details"]


def criteria_frame(columns: Mapping[str, Sequence[Any]]) -> pd.DataFrame:
    """The criteria frame with its fixed columns, nullable values kept as None."""
    import pandas as pd

    frame = pd.DataFrame({c: pd.Series(list(columns[c]), dtype=object) for c in CRITERIA_COLUMNS})
    return frame


def codes_per_unit(mask: np.ndarray, items: ItemTable, n_units: int) -> dict[int, list[str]]:
    """Item codes where `mask` (assessments × items) is set, grouped by assessment × unit.

    Keys are `assessment * n_units + unit`; codes keep item order (level, then number).
    """
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        return {}
    cells = rows.astype(np.int64) * n_units + items.unit[cols]
    bounds = np.flatnonzero(cells[1:] != cells[:-1]) + 1
    starts = np.r_[0, bounds].tolist()
    ends = [*bounds.tolist(), len(cells)]
    codes = items.codes[cols].tolist()
    cell_list = cells[starts].tolist()
    return {c: codes[s:e] for c, s, e in zip(cell_list, starts, ends, strict=True)}
