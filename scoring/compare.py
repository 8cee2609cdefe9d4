"""compare_assessments: change since last time, rank, at-risk and self-vs-council differences.

Definitions (leaders read these numbers, so they are fixed here and in the README):

- *Series*: the assessments of one hospital, standard and kind (`self` or `council`), ordered
  by `assessed_on` then assessment key (undated ones first). Drafts never take part: they get
  no previous assessment, no change and no rank, and are never anyone's previous one.
- *Change*: score − the previous non-draft score of the same series.
- *Coverage*: an assessment is *complete* when it assessed every applicable criterion
  (`assessed >= applicable`: a levels criterion, a checklist item, a points standard). An
  incomplete one is left out of every comparison, as a draft is, unless `rank_incomplete`:
  it gets no band, previous assessment, change, at-risk flag, rank or self-vs-council pair,
  and is never another assessment's previous one or pair. A series whose latest non-draft
  assessment is incomplete has no rank (it is not ranked by an older one), and its
  assessments stay out of the per-criterion medians (`criterion_medians`).
- *Rank*: among the latest non-draft assessment of each hospital per standard and kind that
  has a score (and is complete), highest score first; ties share the best rank (1, 1, 3).
  Others: None.
- *At risk*: compared with the previous assessment of its series, the score fell into a lower
  band, or `passed` went from True to False (e.g. TT 35 newly failed).
- *Period pairing* of self and council assessments: the same hospital and standard in the same
  calendar year of `assessed_on`; when a year has several, the latest non-draft (complete) one
  of each kind is the pair. Difference = council − self (positive: the council scored higher).
- *No score reason*: an assessment without a score says why (`NoScoreReason`): nothing
  applicable was left (`all_not_applicable`) or no finding assessed an applicable criterion
  (`no_usable_findings`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hqsync.scoring.compare_rows import ASSESSMENT_COLUMNS, ScoredRow, compare_rows


@dataclass(frozen=True)
class Comparisons:
    """Comparisons per assessment and per assessment × criterion (nullable values are None)."""

    assessments: pd.DataFrame
    criteria: pd.DataFrame


CRITERIA_COLUMNS = [
    "assessment_key",
    "code",
    "level",
    "value",
    "previous_level",
    "level_change",
    "paired_assessment_key",
    "self_level",
    "council_level",
    "self_council_level_diff",
]


def compare_assessments(
    scores: pd.DataFrame, criteria: pd.DataFrame, *, rank_incomplete: bool = False
) -> Comparisons:
    """Per assessment: previous one, change, rank, at-risk flag, self-vs-council difference,
    coverage (`complete`) and why it has no score; per criterion: level change since the
    previous assessment and self-vs-council difference.

    `scores` has the columns of `ScoreFrames.scores` plus `hospital_key`, `kind`,
    `assessed_on` and `status` (without `applicable`/`assessed` every assessment counts as
    complete); `criteria` those of `ScoreFrames.criteria`. Incomplete assessments are left out
    of the comparisons (see the module's definitions) unless `rank_incomplete`. Rows come out
    sorted by assessment key (criteria keep their order within an assessment).
    """
    assessments = assessment_comparisons(scores, rank_incomplete=rank_incomplete)
    return Comparisons(assessments=assessments, criteria=_criteria(criteria, assessments))


def assessment_comparisons(scores: pd.DataFrame, *, rank_incomplete: bool = False) -> pd.DataFrame:
    """The per-assessment frame of `compare_assessments` (`Comparisons.assessments`), without
    the per-criterion one (which needs the criteria and costs more)."""
    keys = scores["assessment_key"].astype(str).tolist()
    dates = pd.to_datetime(scores["assessed_on"], errors="coerce")
    periods = [None if pd.isna(d) else int(d.year) for d in dates]
    # NaT becomes the smallest int64 (`UNDATED`), so undated assessments sort first.
    orders = dates.to_numpy(dtype="datetime64[s]").astype(np.int64).tolist()
    numbers = pd.to_numeric(scores["score"], errors="coerce").to_numpy(dtype=np.float64)
    columns = (
        keys,
        _plain(scores["hospital_key"]),
        _plain(scores["standard"]),
        _plain(scores["kind"]),
        _plain(scores["assessed_on"]),
        _plain(scores["status"]),
        [None if math.isnan(x) else x for x in numbers.tolist()],
        _plain(scores["band"]),
        [_plain_bool(v) for v in scores["passed"].tolist()],
        _counts(scores, "applicable").tolist(),
        _counts(scores, "assessed").tolist(),
        periods,
        orders,
    )  # in the order of ScoredRow's fields
    rows = [ScoredRow(*values) for values in zip(*columns, strict=True)]
    compared = compare_rows(rows, rank_incomplete=rank_incomplete)
    return pd.DataFrame(
        {c: pd.Series([row[c] for row in compared], dtype=object) for c in ASSESSMENT_COLUMNS}
    )


def _plain(series: pd.Series) -> list[Any]:
    """A column's values as objects, None where missing."""
    values = series.to_numpy(dtype=object).copy()
    values[pd.isna(series).to_numpy()] = None
    return values.tolist()


def _counts(scores: pd.DataFrame, column: str) -> np.ndarray:
    """A count column of the scores as int64 (0 where absent: every assessment complete)."""
    if column not in scores:
        return np.zeros(len(scores), dtype=np.int64)
    return pd.to_numeric(scores[column], errors="coerce").fillna(0).to_numpy(dtype=np.int64)


def criterion_medians(comparisons: Comparisons) -> pd.DataFrame:
    """The median level of each criterion per standard and kind, over the ranked assessments
    (each hospital's latest complete one: incomplete ones are left out, see the module).

    Columns: standard, kind, code, median (float), hospitals (how many levels it is taken of).
    """
    columns = ["standard", "kind", "code", "median", "hospitals"]
    ranked = comparisons.assessments[comparisons.assessments["rank"].notna()]
    levels = comparisons.criteria.merge(
        ranked[["assessment_key", "standard", "kind"]], on="assessment_key", how="inner"
    )
    levels = levels[levels["level"].notna()]
    if levels.empty:
        return pd.DataFrame(columns=columns)
    levels = levels.assign(level=levels["level"].astype(np.float64))
    grouped = levels.groupby(["standard", "kind", "code"], sort=True)["level"]
    out = grouped.agg(["median", "size"]).reset_index()
    return out.rename(columns={"size": "hospitals"})[columns]


def _pair_self_council(frame: pd.DataFrame, counted: pd.DataFrame) -> pd.DataFrame:
    dated = counted[counted["period"].notna()]
    keys = ["hospital_key", "standard", "period"]
    pick = {}
    for kind in ("self", "council"):
        rows = dated[dated["kind"] == kind].groupby(keys, sort=False).tail(1)
        pick[kind] = rows[[*keys, "assessment_key", "_score"]].rename(
            columns={"assessment_key": f"{kind}_key", "_score": f"{kind}_score"}
        )
    frame = frame.merge(pick["self"], on=keys, how="left").merge(
        pick["council"], on=keys, how="left"
    )
    # Drafts (and incomplete assessments, unless ranked) are not in `counted`: no pair.
    left_out = ~frame["assessment_key"].isin(counted["assessment_key"])
    is_self = frame["kind"] == "self"
    is_council = frame["kind"] == "council"
    paired_key = pd.Series(None, index=frame.index, dtype=object)
    paired_key[is_self] = frame.loc[is_self, "council_key"]
    paired_key[is_council] = frame.loc[is_council, "self_key"]
    paired_key[left_out] = None
    frame["paired_assessment_key"] = paired_key
    paired = frame["paired_assessment_key"].notna()
    frame.loc[~paired, ["self_score", "council_score"]] = np.nan
    frame["self_council_diff"] = (frame["council_score"] - frame["self_score"]).round(6)
    return frame


def _criteria(criteria: pd.DataFrame, assessments: pd.DataFrame) -> pd.DataFrame:
    crit = criteria[["assessment_key", "code", "level", "value"]].copy()
    crit["assessment_key"] = crit["assessment_key"].astype(str)
    crit["_row"] = np.arange(len(crit))
    links = assessments[
        ["assessment_key", "kind", "previous_assessment_key", "paired_assessment_key"]
    ]
    crit = crit.merge(links, on="assessment_key", how="left")
    levels = crit[["assessment_key", "code", "level"]].rename(
        columns={"assessment_key": "_other", "level": "_other_level"}
    )
    crit = crit.merge(
        levels.rename(
            columns={"_other": "previous_assessment_key", "_other_level": "previous_level"}
        ),
        on=["previous_assessment_key", "code"],
        how="left",
    ).merge(
        levels.rename(columns={"_other": "paired_assessment_key", "_other_level": "paired_level"}),
        on=["paired_assessment_key", "code"],
        how="left",
    )
    own = pd.to_numeric(crit["level"], errors="coerce")
    prev = pd.to_numeric(crit["previous_level"], errors="coerce")
    paired = pd.to_numeric(crit["paired_level"], errors="coerce")
    is_self = crit["kind"] == "self"
    crit["level_change"] = own - prev
    crit["self_level"] = np.where(is_self, own, paired)
    crit["council_level"] = np.where(is_self, paired, own)
    crit.loc[crit["paired_assessment_key"].isna(), ["self_level", "council_level"]] = np.nan
    crit["self_council_level_diff"] = crit["council_level"] - crit["self_level"]
    crit = crit.sort_values(["assessment_key", "_row"], kind="stable")
    return _finish(
        crit,
        CRITERIA_COLUMNS,
        ints=(
            "level",
            "previous_level",
            "level_change",
            "self_level",
            "council_level",
            "self_council_level_diff",
        ),
        floats=("value",),
    )


def _finish(
    frame: pd.DataFrame,
    columns: list[str],
    ints: tuple[str, ...] = (),
    floats: tuple[str, ...] = (),
    bools: tuple[str, ...] = (),
) -> pd.DataFrame:
    """Fixed columns, object dtype, None for missing values, whole numbers as int."""
    out: dict[str, pd.Series] = {}
    for column in columns:
        series = frame[column]
        if column in ints or column in floats:
            numbers = pd.to_numeric(series, errors="coerce").to_numpy(dtype=np.float64)
            missing = np.isnan(numbers)
            values = (
                np.where(missing, 0, numbers).astype(np.int64) if column in ints else numbers
            ).astype(object)
        elif column in bools:
            values = np.array([_plain_bool(v) for v in series.tolist()], dtype=object)
            missing = np.zeros(len(values), dtype=bool)
        else:
            values = series.to_numpy(dtype=object).copy()
            missing = pd.isna(series).to_numpy()
        values[missing] = None
        out[column] = pd.Series(values, dtype=object)
    return pd.DataFrame(out)


def _plain_bool(value: Any) -> bool | None:
    if _is_true(value):
        return True
    if _is_false(value):
        return False
    return None


def _is_true(value: Any) -> bool:
    return value is True or value is np.True_


def _is_false(value: Any) -> bool:
    return value is False or value is np.False_
