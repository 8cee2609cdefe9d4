"""score_assessments: every assessment scored by its rule set, with per-criterion detail.

`score_columns` is the same scoring of plain columns, without pandas (whose import alone cost
`hqsync score` a tenth of its time): the pipeline's road. Both share `_score`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, islice
from operator import gt, itemgetter
from typing import TYPE_CHECKING, Any

import numpy as np

from hqsync.config.vocabulary import Method
from hqsync.scoring.checklist import score_checklist
from hqsync.scoring.common import (
    CRITERIA_COLUMNS,
    Answers,
    Coded,
    Profiles,
    build_answers,
    criteria_frame,
    scores_frame,
)
from hqsync.scoring.levels import score_levels
from hqsync.scoring.points import score_points
from hqsync.scoring.ruleset import RuleSet

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

MethodResult = tuple[list[dict[str, Any]], dict[str, list[Any]]]
METHODS: Mapping[Method, Callable[[RuleSet, Answers, Profiles], MethodResult]] = {
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


@dataclass(frozen=True)
class ScoreColumns:
    """`ScoreFrames` as plain values: the score rows, and the criteria a list per column."""

    scores: list[dict[str, Any]]
    """One row per assessment (`SCORE_COLUMNS`), sorted by assessment key."""
    criteria: dict[str, list[Any]]
    """`CRITERIA_COLUMNS` → one value per assessment × criterion, sorted by assessment key
    (criteria in catalog order)."""


@dataclass(frozen=True)
class FindingCodes:
    """Findings, each column as codes into its distinct values."""

    assessment: Coded
    item: Coded
    result: Coded


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
    import pandas as pd

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
    f_item = _values(findings["item_code"])[known]
    f_result = _values(findings["result"])[known]
    std_codes, std_names = pd.factorize(table["standard"].to_numpy(dtype=object), sort=True)
    score_rows, parts = _score(
        keys,
        (std_codes, list(std_names)),
        {str(name): table[name].to_numpy(dtype=object) for name in table.columns},
        f_pos[known],
        (lambda mine: _factorized(f_item[mine]), lambda mine: _factorized(f_result[mine])),
        rule_sets=rule_sets,
    )
    scores = scores_frame(score_rows)
    if parts:
        criteria_all = pd.concat([criteria_frame(p) for p in parts], ignore_index=True)
        # Within one assessment rows are already in catalog order; a stable sort keeps it.
        criteria_all = criteria_all.sort_values("assessment_key", kind="stable")
        criteria_all = criteria_all.reset_index(drop=True)
    else:
        criteria_all = criteria_frame({c: [] for c in CRITERIA_COLUMNS})
    return ScoreFrames(scores=scores, criteria=criteria_all)


def score_columns(
    assessments: Mapping[str, Sequence[Any]],
    findings: FindingCodes,
    hospitals: Mapping[str, Sequence[Any]],
    rule_sets: Mapping[str, RuleSet],
) -> ScoreColumns:
    """`score_assessments` of plain columns: the same rows, as `ScoreColumns`.

    Keys, hospital keys and standards are text (as the store holds them); a finding's
    assessment is a code into `findings.assessment.values` (keys).
    """
    rows = sorted(
        zip(
            map(str, assessments["assessment_key"]),
            map(str, assessments["standard"]),
            map(str, assessments["hospital_key"]),
            strict=True,
        ),
        key=itemgetter(0, 1),
    )
    table: list[tuple[str, str, str]] = []
    for row in rows:  # each key's first row
        if not table or table[-1][0] != row[0]:
            table.append(row)
    keys = np.array([row[0] for row in table], dtype=object)
    standards = [row[1] for row in table]
    names = sorted(set(standards))
    number = {name: n for n, name in enumerate(names)}
    profiles: dict[str, np.ndarray] = {
        "assessment_key": keys,
        "hospital_key": np.array([row[2] for row in table], dtype=object),
        "standard": np.array(standards, dtype=object),
    }
    first: dict[str, int] = {}
    for n, hospital in enumerate(map(str, hospitals["hospital_key"])):
        first.setdefault(hospital, n)
    of = [first.get(row[2]) for row in table]
    for name, values in hospitals.items():
        if name not in profiles:
            profiles[name] = np.array([None if n is None else values[n] for n in of], dtype=object)
    position = {key: n for n, key in enumerate(keys.tolist())}
    codes = findings.assessment.codes
    where = np.array([position.get(str(k), -1) for k in findings.assessment.values] or [-1])
    f_pos = np.where(codes >= 0, where[codes], -1) if len(codes) else np.empty(0, np.int64)
    known = f_pos >= 0
    items, results = findings.item.codes[known], findings.result.codes[known]
    score_rows, parts = _score(
        keys,
        (np.array([number[s] for s in standards], dtype=np.int64), names),
        profiles,
        f_pos[known],
        (
            lambda mine: Coded(items[mine], findings.item.values),
            lambda mine: Coded(results[mine], findings.result.values),
        ),
        rule_sets=rule_sets,
    )
    criteria = {c: list(chain.from_iterable(part[c] for part in parts)) for c in CRITERIA_COLUMNS}
    keys_of = criteria["assessment_key"]
    if any(map(gt, keys_of, islice(keys_of, 1, None))):  # a stable sort, as score_assessments's
        order = sorted(range(len(keys_of)), key=keys_of.__getitem__)
        criteria = {c: [values[n] for n in order] for c, values in criteria.items()}
    return ScoreColumns(scores=score_rows, criteria=criteria)


def _score(
    keys: np.ndarray,
    standards: tuple[np.ndarray, list[Any]],
    profiles: Profiles,
    f_pos: np.ndarray,
    coded: tuple[Callable[[np.ndarray], Coded], Callable[[np.ndarray], Coded]],
    *,
    rule_sets: Mapping[str, RuleSet],
) -> tuple[list[dict[str, Any]], list[dict[str, list[Any]]]]:
    """The score rows (sorted by key) and each rule set's criteria columns of the assessments
    `keys`: `standards` is each one's number into the standards' names, `profiles` their
    hospital columns; findings are given by their assessment's position in `keys` and, for a
    mask over them, their items and results (`coded`)."""
    std_codes, std_names = standards
    f_std = std_codes[f_pos]
    score_rows: list[dict[str, Any]] = []
    criteria_parts: list[dict[str, list[Any]]] = []
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
            rule_set, keys[members], local[f_pos[mine]], coded[0](mine), coded[1](mine)
        )
        rows, criteria = METHODS[rule_set.method](
            rule_set, answers, {name: values[members] for name, values in profiles.items()}
        )
        score_rows.extend(rows)
        criteria_parts.append(criteria)
    return sorted(score_rows, key=lambda r: r["assessment_key"]), criteria_parts


def _positions(keys: np.ndarray, column: pd.Series) -> np.ndarray:
    """Each finding's position in `keys` by its key as text (-1 when not there)."""
    import pandas as pd

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
    import pandas as pd

    if isinstance(column.dtype, pd.CategoricalDtype):
        return column.array
    return column.to_numpy(dtype=object)


def _factorized(values: Any) -> Coded:
    """`values` as codes into their distinct values, in order of appearance (-1: missing)."""
    import pandas as pd

    codes, uniques = pd.factorize(values, sort=False)
    return Coded(codes, list(uniques), raw=values)


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
