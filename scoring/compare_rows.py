"""The per-assessment comparisons on plain values: the one implementation, without pandas.

The definitions (series, change, coverage, rank, at risk, self-vs-council pairing, no score
reason) are `hqsync.scoring.compare`'s; its `assessment_comparisons` puts these rows in a
frame. `hqsync scores` calls `compare_rows` on the store's rows directly, so it need not load
pandas.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from itertools import pairwise
from typing import Any

from hqsync.config.vocabulary import NoScoreReason, Status

ASSESSMENT_COLUMNS = [
    "assessment_key",
    "hospital_key",
    "standard",
    "kind",
    "assessed_on",
    "status",
    "score",
    "band",
    "passed",
    "period",
    "previous_assessment_key",
    "previous_score",
    "change",
    "previous_band",
    "previous_passed",
    "at_risk",
    "rank",
    "ranked",
    "paired_assessment_key",
    "self_score",
    "council_score",
    "self_council_diff",
    "complete",
    "no_score_reason",
]
"""The columns of `Comparisons.assessments`, the keys of each `compare_rows` row."""

UNDATED = -(2**63)
"""The `order` of an undated assessment: before every date (as pandas' NaT in int64)."""

_EPOCH = date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class ScoredRow:
    """One assessment and its stored score, as the comparisons read them. Missing values are
    None (never NaN); `hospital_key`, `standard`, `kind`, `assessed_on`, `status` and `band`
    are passed through to the result as they are."""

    assessment_key: str
    hospital_key: Any
    standard: Any
    kind: Any
    assessed_on: Any
    status: Any
    score: float | None
    band: Any
    passed: bool | None
    applicable: int
    assessed: int
    period: int | None
    """The calendar year of `assessed_on` (None: undated)."""
    order: int
    """Seconds from 1970 to `assessed_on` (`UNDATED`: undated): the order within a series."""

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> ScoredRow:
        """The row of an assessment's plain stored values (the columns of
        `hqsync.models.reports.load_score_rows`; `assessed_on` a date or None), normalised as
        `hqsync.scoring.compare.assessment_comparisons` normalises its frame."""
        score = None if row["score"] is None else float(row["score"])
        period, order = day_period_order(row["assessed_on"])
        return cls(
            assessment_key=row["assessment_key"],
            hospital_key=row["hospital_key"],
            standard=row["standard"],
            kind=row["kind"],
            assessed_on=row["assessed_on"],
            status=row["status"],
            score=None if score is None or math.isnan(score) else score,
            band=row["band"],
            passed=row["passed"] if isinstance(row["passed"], bool) else None,
            applicable=int(row["applicable"] or 0),
            assessed=int(row["assessed"] or 0),
            period=period,
            order=order,
        )


def day_period_order(day: date | None) -> tuple[int | None, int]:
    """`ScoredRow.period` and `.order` of a stored `assessed_on` (a date, or None)."""
    if day is None:
        return None, UNDATED
    return day.year, (day.toordinal() - _EPOCH) * 86400


def is_complete(applicable: int, assessed: int) -> bool:
    """True when an assessment assessed every criterion that applies to its hospital."""
    return int(assessed) >= int(applicable)


def no_score_reason(score: float | None, applicable: int, assessed: int) -> NoScoreReason | None:
    """Why an assessment has no score; None when it has one."""
    if score is not None and not (isinstance(score, float) and math.isnan(score)):
        return None
    if int(applicable) == 0:
        return NoScoreReason.ALL_NOT_APPLICABLE
    return NoScoreReason.NO_USABLE_FINDINGS


def compare_rows(
    rows: Iterable[ScoredRow], *, rank_incomplete: bool = False
) -> list[dict[str, Any]]:
    """Per assessment, by assessment key: previous one, change, rank, at-risk flag,
    self-vs-council difference, coverage (`complete`) and why it has no score, keyed by
    `ASSESSMENT_COLUMNS` (missing values None). Incomplete assessments are left out of the
    comparisons (see `hqsync.scoring.compare`) unless `rank_incomplete`."""
    ordered = sorted(rows, key=lambda r: r.assessment_key)
    counted_keys = {
        r.assessment_key
        for r in ordered
        if r.status != Status.DRAFT and (rank_incomplete or is_complete(r.applicable, r.assessed))
    }
    out = {r.assessment_key: _row(r, rank_incomplete) for r in ordered}

    # A series: one hospital, standard and kind, by date then key; drafts never take part.
    series: dict[tuple[Any, ...], list[ScoredRow]] = {}
    for r in sorted(ordered, key=lambda r: (r.order, r.assessment_key)):
        if r.status != Status.DRAFT:
            series.setdefault((r.hospital_key, r.standard, r.kind), []).append(r)
    latest: dict[tuple[Any, Any], list[tuple[float, str]]] = {}
    for members in series.values():
        counted = [r for r in members if r.assessment_key in counted_keys]
        for before, r in pairwise(counted):
            _follow(out[r.assessment_key], r, before)
        # The series' latest non-draft one is ranked, if scored and complete (else none is).
        last = members[-1]
        if (
            last.score is not None
            and last.assessment_key in counted_keys
            and last.standard is not None
            and last.kind is not None
        ):
            latest.setdefault((last.standard, last.kind), []).append(
                (last.score, last.assessment_key)
            )
    # Rank: highest score first, ties share the best rank (1, 1, 3).
    for group in latest.values():
        scores = sorted(score for score, _ in group)
        for score, key in group:
            out[key]["rank"] = 1 + len(scores) - bisect_right(scores, score)
            out[key]["ranked"] = len(group)

    _pair_self_council(out, [r for r in ordered if r.assessment_key in counted_keys])
    return list(out.values())


def _row(r: ScoredRow, rank_incomplete: bool) -> dict[str, Any]:
    """An assessment's row before it is compared with others."""
    complete = is_complete(r.applicable, r.assessed)
    return {
        "assessment_key": r.assessment_key,
        "hospital_key": r.hospital_key,
        "standard": r.standard,
        "kind": r.kind,
        "assessed_on": r.assessed_on,
        "status": r.status,
        "score": r.score,
        "band": r.band if complete or rank_incomplete else None,
        "passed": r.passed,
        "period": r.period,
        "previous_assessment_key": None,
        "previous_score": None,
        "change": None,
        "previous_band": None,
        "previous_passed": None,
        "at_risk": None,
        "rank": None,
        "ranked": None,
        "paired_assessment_key": None,
        "self_score": None,
        "council_score": None,
        "self_council_diff": None,
        "complete": complete,
        "no_score_reason": no_score_reason(r.score, r.applicable, r.assessed),
    }


def _follow(row: dict[str, Any], r: ScoredRow, before: ScoredRow) -> None:
    """Fill `row` (of `r`) from the previous assessment of its series."""
    row["previous_assessment_key"] = before.assessment_key
    row["previous_score"] = before.score
    row["previous_band"] = before.band
    row["previous_passed"] = before.passed
    row["change"] = _difference(r.score, before.score)
    fell_band = (
        before.band is not None
        and r.band is not None
        and r.band != before.band
        and r.score is not None
        and before.score is not None
        and r.score < before.score
    )
    row["at_risk"] = bool(fell_band or (r.passed is False and before.passed is True))


def _pair_self_council(out: dict[str, dict[str, Any]], counted: list[ScoredRow]) -> None:
    """Pair each counted self and council assessment with the latest counted one of the other
    kind of its hospital, standard and calendar year."""
    picks: dict[str, dict[tuple[Hashable, ...], ScoredRow]] = {"self": {}, "council": {}}
    for r in counted:
        if r.kind not in picks or None in (r.hospital_key, r.standard, r.period):
            continue
        key = (r.hospital_key, r.standard, r.period)
        pick = picks[r.kind].get(key)
        if pick is None or (pick.order, pick.assessment_key) < (r.order, r.assessment_key):
            picks[r.kind][key] = r
    for r in counted:
        other_kind = {"self": "council", "council": "self"}.get(r.kind)
        if other_kind is None:
            continue
        key = (r.hospital_key, r.standard, r.period)
        other = picks[other_kind].get(key)
        if other is None:
            continue
        self_score = picks["self"][key].score
        council_score = picks["council"][key].score
        row = out[r.assessment_key]
        row["paired_assessment_key"] = other.assessment_key
        row["self_score"] = self_score
        row["council_score"] = council_score
        row["self_council_diff"] = _difference(council_score, self_score)


def _difference(a: float | None, b: float | None) -> float | None:
    """a − b rounded to 6 decimals as numpy rounds (×10⁶, to even, ÷10⁶); None without both."""
    if a is None or b is None:
        return None
    scaled = (a - b) * 1e6
    if not math.isfinite(scaled):
        return None if math.isnan(scaled) else scaled / 1e6
    whole = float(round(scaled))
    # numpy's rint keeps the sign of a result rounded to zero: -0.0, as pandas writes it.
    return math.copysign(whole, scaled) / 1e6 if whole == 0 else whole / 1e6
