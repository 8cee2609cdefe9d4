"""The `points` method (JCI-style): measurable elements → standards → chapters → overall."""

from __future__ import annotations

from typing import Any

import numpy as np

from hqsync.scoring.common import (
    MET,
    NOT_MET,
    PARTIAL,
    UNANSWERED,
    Answers,
    Profiles,
    applicability,
    codes_per_unit,
    contiguous_sums,
    group_sums,
    ordered_groups,
    round_half_up,
    score_row,
)
from hqsync.scoring.ruleset import RuleSet


def score_points(
    rule_set: RuleSet, answers: Answers, profiles: Profiles
) -> tuple[list[dict[str, Any]], dict[str, list[Any]]]:
    """Score measurable elements (met / partial / not met / NA → e.g. 10 / 5 / 0 / excluded).

    A standard's score is the mean of its applicable elements; unanswered elements of a standard
    that has findings count as not met (the standard is incomplete); a standard without findings
    is "not assessed". A chapter's score is the mean of its standards, the overall score the
    mean of all scored standards. Passed: no standard below `standard_min`, every chapter at
    `chapter_min` or more and the overall score at `overall_min` or more (unset ones ignored).
    """
    # Long on purpose: one vectorised pass over the answer matrix whose intermediate arrays feed
    # both the score rows and the criteria columns; split up, each part would take a dozen arrays.
    units, items, matrix = rule_set.units, answers.items, answers.matrix
    n_a, n_k = matrix.shape[0], len(units)
    th = rule_set.thresholds
    pts = rule_set.points
    value_of = np.zeros(4, dtype=np.float64)
    value_of[MET], value_of[PARTIAL], value_of[NOT_MET] = pts["met"], pts["partial"], pts["not_met"]

    answered = contiguous_sums(matrix != UNANSWERED, items.unit, n_k)
    has_findings = answered > 0
    missing_cell = (matrix == UNANSWERED) & has_findings[:, items.unit]
    counted_cell = (matrix >= MET) | missing_cell
    points_cell = np.where(matrix >= MET, value_of[np.clip(matrix, 0, 3)], 0.0)
    points_sum = (points_cell @ _onehot(items.unit, n_k)).astype(np.float64)
    counted = contiguous_sums(counted_cell, items.unit, n_k)
    profile_ok, profile_columns = applicability(rule_set, profiles, n_a)
    scored = profile_ok & (counted > 0)
    not_applicable = ~profile_ok | (has_findings & (counted == 0))
    not_assessed = profile_ok & ~has_findings
    standard_score = np.divide(
        points_sum, counted, out=np.zeros_like(points_sum), where=counted > 0
    )
    gap_cell = ((matrix >= PARTIAL) | missing_cell) & scored[:, items.unit]
    gaps = codes_per_unit(gap_cell, items, n_k)
    missing_codes = codes_per_unit(missing_cell & scored[:, items.unit], items, n_k)
    incomplete = scored & (contiguous_sums(missing_cell, items.unit, n_k) > 0)

    met_cut = th.standard_met if th.standard_met is not None else pts["met"]
    low_cut = th.standard_min
    chapter_names, chapter_of = ordered_groups([u.chapter or u.code for u in units])
    chapter_sum = group_sums(np.where(scored, standard_score, 0.0), chapter_of, len(chapter_names))
    chapter_n = group_sums(scored, chapter_of, len(chapter_names))
    codes = np.array([u.code for u in units], dtype=object)
    dp = rule_set.decimals
    rows: list[dict[str, Any]] = []
    for a in range(n_a):
        n_scored = int(scored[a].sum())
        overall = round_half_up(float(standard_score[a][scored[a]].sum()), n_scored, dp)
        chapters = {
            name: round_half_up(chapter_sum[a, c], chapter_n[a, c], dp)
            for c, name in enumerate(chapter_names)
            if chapter_n[a, c] > 0
        }
        below_min = (
            codes[scored[a] & (standard_score[a] < low_cut)].tolist() if low_cut is not None else []
        )
        chapters_below = (
            [c for c, s in chapters.items() if s is not None and s < th.chapter_min]
            if th.chapter_min is not None
            else []
        )
        passed: bool | None = None
        if overall is not None:
            passed = not below_min and not chapters_below
            if th.overall_min is not None:
                passed = passed and overall >= th.overall_min
        n_applicable = n_k - int(not_applicable[a].sum())
        rows.append(
            score_row(
                rule_set,
                answers,
                a,
                score=overall,
                passed=passed,
                applicable=n_applicable,
                assessed=n_scored,
                level_counts={},
                parts=chapters,
                details={
                    "applicable_label": f"{n_applicable}/{n_k}",
                    "total": n_k,
                    "standards_met": int((scored[a] & (standard_score[a] >= met_cut)).sum()),
                    "standards_below_min": below_min,
                    "chapters_below_min": chapters_below,
                    "overall_min": th.overall_min,
                    "incomplete": codes[incomplete[a]].tolist(),
                    "not_assessed": codes[not_assessed[a]].tolist(),
                    "not_applicable": codes[not_applicable[a]].tolist(),
                    "coverage": {
                        "standards_assessed": n_scored,
                        "standards_applicable": n_applicable,
                        "elements_answered": int(answered[a].sum()),
                        "percent": round_half_up(n_scored * 100, n_applicable, 2),
                    },
                },
            )
        )

    status = np.select(
        [
            scored & (standard_score >= met_cut),
            scored & (low_cut is not None) & (standard_score < (low_cut or 0)),
            scored,
            not_applicable,
            not_assessed,
        ],
        ["met", "not_met", "partially_met", "not_applicable", "not_assessed"],
        "",
    )
    crit_details = []
    for a in range(n_a):
        for k, unit in enumerate(units):
            cell = a * n_k + k
            entry: dict[str, Any] = {
                "title": unit.title,
                "chapter": unit.chapter,
                "chapter_title": unit.chapter_title,
                "incomplete": bool(incomplete[a, k]),
                "gaps": gaps.get(cell, []),
                "missing": missing_codes.get(cell, []),
            }
            if not profile_ok[a, k]:
                entry["reason"] = f"profile: {profile_columns[k]} = no"
            crit_details.append(entry)
    values = [
        round_half_up(float(points_sum[a, k]), float(counted[a, k]), dp) if scored[a, k] else None
        for a in range(n_a)
        for k in range(n_k)
    ]
    criteria = {
        "assessment_key": np.repeat(answers.keys, n_k).tolist(),
        "code": np.tile(codes, n_a).tolist(),
        "level": [None] * (n_a * n_k),
        "value": values,
        "status": status.reshape(-1).tolist(),
        "details": crit_details,
    }
    return rows, criteria


def _onehot(columns: np.ndarray, n_groups: int) -> np.ndarray:
    onehot = np.zeros((len(columns), n_groups), dtype=np.float64)
    onehot[np.arange(len(columns)), columns] = 1.0
    return onehot
