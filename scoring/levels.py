"""The `levels` method (QĐ 6858): criterion levels 1..max_level by the cumulative rule, weighted
mean."""

from __future__ import annotations

from typing import Any

import numpy as np

from hqsync.config.vocabulary import UnansweredLevel
from hqsync.scoring.common import (
    MET,
    NA,
    PARTIAL,
    UNANSWERED,
    Answers,
    Profiles,
    applicability,
    codes_per_unit,
    contiguous_sums,
    group_sums,
    ordered_groups,
    round_ratios,
    score_row,
)
from hqsync.scoring.ruleset import RuleSet

WINS_LIMIT = 10
"""How many of the nearest next-level wins an assessment's details list."""


def score_levels(
    rule_set: RuleSet, answers: Answers, profiles: Profiles
) -> tuple[list[dict[str, Any]], dict[str, list[Any]]]:
    """Score assessments by the cumulative level rule; returns score rows and criteria columns.

    Per criterion: level 1 if any level-1 item (a violation) is not met, else 1 + the number of
    consecutive levels from 2 whose applicable items are all met. A level whose items are all
    not applicable counts as met; a level with no findings at all stops the climb unless the
    rule set says `unanswered_level = "met"` (with a sub-item catalog, the catalog decides).
    """
    # Long on purpose: one vectorised pass over the answer matrix whose intermediate arrays feed
    # both the score rows and the criteria columns; split up, each part would take a dozen arrays.
    units, items, matrix = rule_set.units, answers.items, answers.matrix
    levels = rule_set.levels  # 1..max_level
    n_a, n_k, n_l = matrix.shape[0], len(units), len(levels)
    groups = items.unit * n_l + (items.level - 1)

    def per_level(mask: np.ndarray) -> np.ndarray:
        return contiguous_sums(mask, groups, n_k * n_l).reshape(n_a, n_k, n_l)

    met = per_level(matrix == MET)
    na = per_level(matrix == NA)
    bad = per_level(matrix >= PARTIAL)  # partial is not met for levels
    answered = met + na + bad
    has_findings = answered.sum(axis=2) > 0
    missing = np.zeros_like(bad)
    if items.from_catalog:
        expected = np.bincount(groups, minlength=n_k * n_l).reshape(n_k, n_l)
        missing = np.where(has_findings[:, :, None], expected[None, :, :] - answered, 0)
    failing = bad + missing
    level_ok = failing == 0
    if not items.from_catalog and rule_set.unanswered_level == UnansweredLevel.BLOCKS:
        level_ok &= answered > 0
    level1_fail = failing[:, :, 0] > 0
    climb = np.cumprod(level_ok[:, :, 1:], axis=2).sum(axis=2)
    level = np.where(level1_fail, 1, 1 + climb)

    profile_ok, profile_columns = applicability(rule_set, profiles, n_a)
    all_na = has_findings & (met.sum(axis=2) == 0) & (failing.sum(axis=2) == 0)
    scored = profile_ok & has_findings & ~all_na
    not_applicable = ~profile_ok | (has_findings & all_na)
    not_assessed = profile_ok & ~has_findings
    below_top = scored & (level < n_l)
    next_level = np.where(below_top, level + 1, 0)

    # Items blocking the next level: failing items at or below it (unanswered catalog items too).
    cell_findings = has_findings[:, items.unit]
    missing_cell = (matrix == UNANSWERED) & cell_findings & items.from_catalog
    blocking = (matrix >= PARTIAL) | missing_cell
    gap_mask = blocking & (items.level[None, :] <= next_level[:, items.unit])
    gaps = codes_per_unit(gap_mask, items, n_k)
    missing_codes = codes_per_unit(missing_cell & scored[:, items.unit], items, n_k)
    unanswered_levels = (answered == 0) & scored[:, :, None] & (not items.from_catalog)
    blocked_unanswered = np.zeros((n_a, n_k), dtype=bool)
    if not items.from_catalog:
        nxt = np.clip(next_level - 1, 0, n_l - 1)
        blocked_unanswered = (
            below_top & np.take_along_axis(unanswered_levels, nxt[:, :, None], axis=2)[:, :, 0]
        )
    incomplete = scored & ((missing.sum(axis=2) > 0) | blocked_unanswered)

    coef = np.array([u.weight for u in units], dtype=np.float64)
    lvl_scored = np.where(scored, level, 0).astype(np.float64)
    weighted = (lvl_scored * coef).sum(axis=1)
    coef_sum = (scored * coef).sum(axis=1)
    unweighted = lvl_scored.sum(axis=1)
    part_names, part_of = ordered_groups([u.part for u in units])
    chapter_names, chapter_of = ordered_groups([u.chapter for u in units])
    part_w = group_sums(lvl_scored * coef, part_of, len(part_names))
    part_c = group_sums(scored * coef, part_of, len(part_names))
    chap_w = group_sums(lvl_scored * coef, chapter_of, len(chapter_names))
    chap_c = group_sums(scored * coef, chapter_of, len(chapter_names))
    level_counts = np.stack([(scored & (level == lv)).sum(axis=1) for lv in levels], 1)
    items_answered = (matrix != UNANSWERED).sum(axis=1)
    items_expected = None
    if items.from_catalog:
        applicable_items = (profile_ok & ~(has_findings & all_na))[:, items.unit]
        items_expected = applicable_items.sum(axis=1)

    codes = np.array([u.code for u in units], dtype=object)
    dp = rule_set.decimals
    scores = round_ratios(weighted, coef_sum, dp)
    part_scores = np.array(round_ratios(part_w, part_c, dp), dtype=object).reshape(part_w.shape)
    chap_scores = np.array(round_ratios(chap_w, chap_c, dp), dtype=object).reshape(chap_w.shape)
    n_scored_all = scored.sum(axis=1)
    n_applicable_all = n_k - not_applicable.sum(axis=1)
    percents = np.array(
        round_ratios(level_counts * 100, np.repeat(n_scored_all[:, None], n_l, 1), 2), dtype=object
    ).reshape(level_counts.shape)
    if items_expected is not None:
        coverage = round_ratios(items_answered * 100, items_expected, 2)
    else:
        coverage = round_ratios(n_scored_all * 100, n_applicable_all, 2)
    gap_counts = contiguous_sums(gap_mask, items.unit, n_k)  # len(gaps[cell]), 0 for none

    rows: list[dict[str, Any]] = []
    for a in range(n_a):
        n_scored, n_applicable = int(n_scored_all[a]), int(n_applicable_all[a])
        score = scores[a]
        counts = {str(lv): int(level_counts[a, lv - 1]) for lv in levels}
        candidates = np.flatnonzero(below_top[a])
        wins = sorted(
            zip(
                gap_counts[a, candidates].tolist(),
                (-coef[candidates]).tolist(),
                candidates.tolist(),
                strict=True,
            )
        )
        details = {
            "applicable_label": f"{n_applicable}/{n_k}",
            "total": n_k,
            "coefficient_sum": _num(coef_sum[a]),
            "weighted_sum": _num(weighted[a]),
            "unweighted_sum": _num(unweighted[a]),
            "level_percents": {str(lv): percents[a, lv - 1] for lv in levels},
            "chapters": _named(chapter_names, chap_scores[a]),
            "coverage": {
                "criteria_assessed": n_scored,
                "criteria_applicable": n_applicable,
                "items_answered": int(items_answered[a]),
                "items_expected": None if items_expected is None else int(items_expected[a]),
                "percent": coverage[a],
            },
            "incomplete": codes[incomplete[a]].tolist(),
            "not_assessed": codes[not_assessed[a]].tolist(),
            "not_applicable": codes[not_applicable[a]].tolist(),
            "next_level_wins": [
                {
                    "code": str(codes[k]),
                    "level": int(level[a, k]),
                    "next_level": int(level[a, k]) + 1,
                    "gap_count": n_gaps,
                    "unanswered": bool(blocked_unanswered[a, k]),
                }
                for n_gaps, _, k in wins[:WINS_LIMIT]
            ],
        }
        rows.append(
            score_row(
                rule_set,
                answers,
                a,
                score=score,
                passed=_passed(rule_set, score),
                applicable=n_applicable,
                assessed=n_scored,
                level_counts=counts,
                parts=_named(part_names, part_scores[a]),
                details=details,
            )
        )

    status = (
        np.select(
            [scored, not_applicable, not_assessed], ["scored", "not_applicable", "not_assessed"], ""
        )
        .reshape(-1)
        .tolist()
    )
    flat_level = np.where(scored, level, 0).reshape(-1).tolist()
    flat_scored = scored.reshape(-1).tolist()
    flat_profile = profile_ok.reshape(-1).tolist()
    flat_na = not_applicable.reshape(-1).tolist()
    flat_incomplete = incomplete.reshape(-1).tolist()
    flat_next = next_level.reshape(-1).tolist()
    flat_met = met.sum(axis=2).reshape(-1).tolist()
    flat_bad = bad.sum(axis=2).reshape(-1).tolist()
    flat_nas = na.sum(axis=2).reshape(-1).tolist()
    flat_answered = answered.sum(axis=2).reshape(-1).tolist()
    unanswered_cells = {
        int(cell): [lv + 1 for lv in np.flatnonzero(row).tolist()]
        for cell, row in zip(
            np.flatnonzero(unanswered_levels.any(axis=2).reshape(-1)),
            unanswered_levels.reshape(n_a * n_k, n_l)[unanswered_levels.any(axis=2).reshape(-1)],
            strict=True,
        )
    }
    static = [
        {"title": u.title, "part": u.part, "chapter": u.chapter, "coefficient": _num(u.weight)}
        for u in units
    ]
    crit_details: list[dict[str, Any]] = [
        {
            **unit_static,
            "incomplete": cell_incomplete,
            "next_level": cell_next or None,
            "gaps": gaps.get(cell, []),
            "met": cell_met,
            "not_met": cell_bad,
            "na": cell_na,
            "missing": missing_codes.get(cell, []),
        }
        for cell, (unit_static, cell_incomplete, cell_next, cell_met, cell_bad, cell_na) in (
            enumerate(
                zip(
                    static * n_a,
                    flat_incomplete,
                    flat_next,
                    flat_met,
                    flat_bad,
                    flat_nas,
                    strict=True,
                )
            )
        )
    ]
    for cell, entry in enumerate(crit_details):
        if flat_scored[cell]:
            entry["unanswered_levels"] = unanswered_cells.get(cell, [])
        elif not flat_profile[cell]:
            entry["reason"] = f"profile: {profile_columns[cell % n_k]} = no"
            entry["ignored_findings"] = flat_answered[cell]
        elif flat_na[cell]:
            entry["reason"] = "every item not applicable"
        else:
            entry["reason"] = "no findings"
    criteria = {
        "assessment_key": np.repeat(answers.keys, n_k).tolist(),
        "code": np.tile(codes, n_a).tolist(),
        "level": [lv if s else None for lv, s in zip(flat_level, flat_scored, strict=True)],
        "value": [float(lv) if s else None for lv, s in zip(flat_level, flat_scored, strict=True)],
        "status": status,
        "details": crit_details,
    }
    return rows, criteria


def _passed(rule_set: RuleSet, score: float | None) -> bool | None:
    minimum = rule_set.thresholds.pass_min_score
    if minimum is None or score is None:
        return None
    return score >= minimum


def _named(names: list[str], values: np.ndarray) -> dict[str, float]:
    """Name → score for the groups that have one."""
    return {
        name: v for name, v in zip(names, values.tolist(), strict=True) if name and v is not None
    }


def _num(value: float) -> float | int:
    """A whole number as int (90, not 90.0) so published sums read as they are printed."""
    value = float(value)
    return int(value) if value.is_integer() else value
