"""The `checklist` method (TT 35, audits): weighted percent of applicable items met."""

from __future__ import annotations

from typing import Any

import numpy as np

from hqsync.config.vocabulary import PassRule
from hqsync.scoring.common import (
    MET,
    NA,
    PARTIAL,
    RESULT_NAMES,
    UNANSWERED,
    Answers,
    Profiles,
    applicability,
    group_sums,
    ordered_groups,
    round_half_up,
    score_row,
)
from hqsync.scoring.ruleset import RuleSet


def score_checklist(
    rule_set: RuleSet, answers: Answers, profiles: Profiles
) -> tuple[list[dict[str, Any]], dict[str, list[Any]]]:
    """Score checklist assessments: percent met per group and overall, pass/fail, failing items.

    Each catalog item is its own criterion. Percent = Σ weight(met) ÷ Σ weight(met or not met);
    a 'partial' answer is not met. Items without findings are "not assessed": left out of the
    percent and listed; while any remains, an assessment with no failure has `passed` None
    (it cannot be certified). `pass_rule = "all"`: pass only when every applicable item is met;
    `"percent"`: pass at `pass_min_score` percent. A failed critical item fails the assessment.
    """
    # Long on purpose: one vectorised pass over the answer matrix whose intermediate arrays feed
    # both the score rows and the criteria columns; split up, each part would take a dozen arrays.
    units, matrix = rule_set.units, answers.matrix
    n_a, n_k = matrix.shape[0], len(units)
    # The checklist item table is the catalog in catalog order: column k is unit k.
    profile_ok, profile_columns = applicability(rule_set, profiles, n_a)
    met = (matrix == MET) & profile_ok
    failed = (matrix >= PARTIAL) & profile_ok
    answered_na = (matrix == NA) & profile_ok
    not_applicable = ~profile_ok | answered_na
    not_assessed = (matrix == UNANSWERED) & profile_ok
    weight = np.array([u.weight for u in units], dtype=np.float64)
    critical = np.array([u.critical for u in units], dtype=bool)
    group_names, group_of = ordered_groups([u.part for u in units])
    met_w = group_sums(met * weight, group_of, len(group_names))
    counted_w = group_sums((met | failed) * weight, group_of, len(group_names))
    codes = np.array([u.code for u in units], dtype=object)
    dp = rule_set.decimals
    rows: list[dict[str, Any]] = []
    for a in range(n_a):
        counted = float(((met[a] | failed[a]) * weight).sum())
        score = round_half_up(float((met[a] * weight).sum()) * 100, counted, dp)
        failing = codes[failed[a]].tolist()
        critical_failed = codes[failed[a] & critical].tolist()
        unassessed = codes[not_assessed[a]].tolist()
        passed = _passed(rule_set, score, bool(failing), bool(critical_failed), bool(unassessed))
        n_applicable = n_k - int(not_applicable[a].sum())
        n_assessed = int((met[a] | failed[a]).sum())
        details = {
            "applicable_label": f"{n_applicable}/{n_k}",
            "total": n_k,
            "met": int(met[a].sum()),
            "not_met": len(failing),
            "failing_items": failing,
            "critical_failed": critical_failed,
            "not_assessed": unassessed,
            "not_applicable": codes[not_applicable[a]].tolist(),
            "incomplete": bool(unassessed),
            "groups": {
                name: {
                    "percent": round_half_up(met_w[a, g] * 100, counted_w[a, g], dp),
                    "met": int(met[a][group_of == g].sum()),
                    "counted": int((met[a] | failed[a])[group_of == g].sum()),
                }
                for g, name in enumerate(group_names)
            },
            "coverage": {
                "items_answered": n_assessed + int(answered_na[a].sum()),
                "items_applicable": n_applicable,
                "percent": round_half_up(n_assessed * 100, n_applicable, 2),
            },
        }
        rows.append(
            score_row(
                rule_set,
                answers,
                a,
                score=score,
                passed=passed,
                applicable=n_applicable,
                assessed=n_assessed,
                level_counts={},
                parts={
                    name: pct
                    for g, name in enumerate(group_names)
                    if (pct := round_half_up(met_w[a, g] * 100, counted_w[a, g], dp)) is not None
                },
                details=details,
            )
        )
    status = np.select(
        [met, failed, not_applicable, not_assessed],
        ["met", "not_met", "not_applicable", "not_assessed"],
        "",
    )
    value_array = np.full(met.shape, None, dtype=object)
    value_array[met], value_array[failed] = 1.0, 0.0
    value = value_array.reshape(-1).tolist()
    crit_details = [
        {
            "title": unit.title,
            "part": unit.part,
            "part_title": unit.part_title,
            "weight": unit.weight,
            "critical": unit.critical,
            "answer": RESULT_NAMES[int(matrix[a, k])],
            **({"reason": f"profile: {profile_columns[k]} = no"} if not profile_ok[a, k] else {}),
        }
        for a in range(n_a)
        for k, unit in enumerate(units)
    ]
    criteria = {
        "assessment_key": np.repeat(answers.keys, n_k).tolist(),
        "code": np.tile(codes, n_a).tolist(),
        "level": [None] * (n_a * n_k),
        "value": value,
        "status": status.reshape(-1).tolist(),
        "details": crit_details,
    }
    return rows, criteria


def _passed(
    rule_set: RuleSet, score: float | None, failing: bool, critical: bool, unassessed: bool
) -> bool | None:
    if score is None:
        return False if critical else None
    if critical:
        return False
    if rule_set.thresholds.pass_rule == PassRule.ALL:
        ok = not failing
    else:
        minimum = rule_set.thresholds.pass_min_score
        ok = minimum is not None and score >= minimum
    if ok and unassessed:
        return None
    return ok
