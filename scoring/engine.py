"""score_assessments: every assessment scored by its rule set, with per-criterion detail."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hqsync.config.vocabulary import Method
from hqsync.scoring.checklist import score_checklist
from hqsync.scoring.common import (
    CRITERIA_COLUMNS,
    Answers,
    build_answers,
    criteria_frame,
    scores_frame,
)
from hqsync.scoring.levels import score_levels
from hqsync.scoring.points import score_points
from hqsync.scoring.ruleset import RuleSet

log = logging.getLogger(__name__)

MethodResult = tuple[list[dict[str, Any]], dict[str, list[Any]]]
METHODS: Mapping[Method, Callable[[RuleSet, Answers, pd.DataFrame], MethodResult]] = {
    Method.LEVELS: score_levels,
    Method.CHECKLIST: score_checklist,
    Method.POINTS: score_points,
}


@dataclass(frozen=True)
class ScoreFrames:
    """The results of scoring: one row per assessment, one per assessment × criterion.

    Nullable values (score, passed, band, level, value) are Python values or None (object
    columns), so rows go to JSON and SQL as they are.
    """

    scores: pd.DataFrame
    criteria: pd.DataFrame


def score_assessments(
    assessments: pd.DataFrame,
    findings: pd.DataFrame,
    hospitals: pd.DataFrame,
    rule_sets: Mapping[str, RuleSet],
) -> ScoreFrames:
    """Score every assessment against its rule set (`standard`, an id already resolved).

    `assessments[assessment_key, hospital_key, standard, ...]`, `findings[assessment_key,
    item_code, result]` with results met / not_met / na / partial, `hospitals[hospital_key,
    has_obstetrics, has_pediatrics, ...]`. Output rows are sorted by assessment key (criteria
    in catalog order), so the same input in any row order gives identical frames. An
    assessment whose standard is no known rule set gets a row with no score and an error in
    its details. Findings of unknown assessments are ignored.
    """
    table = (
        assessments[["assessment_key", "hospital_key", "standard"]]
        .astype({"assessment_key": str, "hospital_key": str, "standard": str})
        .sort_values(["assessment_key", "standard"], kind="stable")
        .drop_duplicates("assessment_key")
        .reset_index(drop=True)
    )
    profiles = (
        hospitals.astype({"hospital_key": str})
        .sort_values("hospital_key", kind="stable")
        .drop_duplicates("hospital_key")
    )
    profiles = profiles.drop(
        columns=[c for c in table.columns if c != "hospital_key"], errors="ignore"
    )
    table = table.merge(profiles, on="hospital_key", how="left", sort=False)
    keys = table["assessment_key"].to_numpy(dtype=object)
    f_pos = _positions(keys, findings["assessment_key"])
    known = f_pos >= 0
    f_pos, f_item, f_result = (
        f_pos[known],
        _values(findings["item_code"])[known],
        _values(findings["result"])[known],
    )
    standards = table["standard"].to_numpy(dtype=object)
    std_codes, std_names = pd.factorize(standards, sort=True)
    f_std = std_codes[f_pos]

    score_rows: list[dict[str, Any]] = []
    criteria_parts: list[pd.DataFrame] = []
    for s, standard in enumerate(std_names):
        members = np.flatnonzero(std_codes == s)
        rule_set = rule_sets.get(str(standard))
        if rule_set is None:
            log.warning("%d assessments name an unknown standard %r", len(members), standard)
            score_rows.extend(_unknown_standard(str(keys[m]), str(standard)) for m in members)
            continue
        local = np.full(len(keys), -1, dtype=np.int64)
        local[members] = np.arange(len(members))
        mine = f_std == s
        answers = build_answers(
            rule_set, keys[members], local[f_pos[mine]], f_item[mine], f_result[mine]
        )
        rows, criteria = METHODS[rule_set.method](
            rule_set, answers, table.iloc[members].reset_index(drop=True)
        )
        score_rows.extend(rows)
        criteria_parts.append(criteria_frame(criteria))

    scores = scores_frame(sorted(score_rows, key=lambda r: r["assessment_key"]))
    if criteria_parts:
        criteria_all = pd.concat(criteria_parts, ignore_index=True)
        # Within one assessment rows are already in catalog order; a stable sort keeps it.
        criteria_all = criteria_all.sort_values("assessment_key", kind="stable")
        criteria_all = criteria_all.reset_index(drop=True)
    else:
        criteria_all = criteria_frame({c: [] for c in CRITERIA_COLUMNS})
    return ScoreFrames(scores=scores, criteria=criteria_all)


def _positions(keys: np.ndarray, column: pd.Series) -> np.ndarray:
    """Each finding's position in `keys` by its key as text (-1 when not there)."""
    index = pd.Index(keys)
    if isinstance(column.dtype, pd.CategoricalDtype):
        codes = column.cat.codes.to_numpy()
        if (codes >= 0).all():  # each distinct key looked up once, not once per finding
            distinct = column.cat.categories.astype(str).to_numpy(dtype=object)
            return index.get_indexer(distinct)[codes]
    return index.get_indexer(column.astype(str).to_numpy())


def _values(column: pd.Series) -> Any:
    """A findings column's values: a categorical as it is (factorized by its codes), else
    as objects."""
    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.array
    return column.to_numpy(dtype=object)


def _unknown_standard(key: str, standard: str) -> dict[str, Any]:
    return {
        "assessment_key": key,
        "standard": standard,
        "method": None,
        "score": None,
        "passed": None,
        "band": None,
        "applicable": 0,
        "assessed": 0,
        "level_counts": {},
        "parts": {},
        "details": {"error": f"no rule set {standard!r}; add its file to [scoring] rule_set_dirs"},
    }
