"""Builders of scoring inputs for tests and the benchmark: frames of assessments and findings."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

import numpy as np
import pandas as pd

from hqsync.config.vocabulary import Method
from hqsync.scoring.ruleset import RuleSet, Unit

ASSESSMENT_COLUMNS = ["assessment_key", "hospital_key", "standard", "kind", "assessed_on", "status"]
FINDING_COLUMNS = ["assessment_key", "item_code", "result"]


def levels_rule_set(
    rule_set_id: str = "COUNCIL-7",
    *,
    max_level: int = 7,
    codes: Sequence[str] = ("K1.1", "K1.2", "K1.3"),
) -> RuleSet:
    """A `levels` rule set built in memory (no file): one criterion per code, weight 1."""
    return RuleSet(
        id=rule_set_id,
        name=f"Council rule set {rule_set_id}",
        method=Method.LEVELS,
        fingerprint=f"test-{rule_set_id}-{max_level}",
        units=tuple(Unit(code=code, part=code[0], chapter=code[:2]) for code in codes),
        max_level=max_level,
    )


def assessment(
    key: str,
    *,
    hospital: str = "h1",
    standard: str = "QD6858",
    kind: str = "self",
    assessed_on: date | None = date(2025, 6, 1),
    status: str = "submitted",
) -> dict[str, object]:
    """One assessments row."""
    return {
        "assessment_key": key,
        "hospital_key": hospital,
        "standard": standard,
        "kind": kind,
        "assessed_on": assessed_on,
        "status": status,
    }


def assessments_frame(rows: Iterable[dict[str, object]]) -> pd.DataFrame:
    """An assessments frame with the scoring columns."""
    return pd.DataFrame(list(rows), columns=ASSESSMENT_COLUMNS)


def findings_frame(rows: Iterable[tuple[str, str, str]]) -> pd.DataFrame:
    """A findings frame from (assessment_key, item_code, result) tuples."""
    return pd.DataFrame(list(rows), columns=FINDING_COLUMNS)


def hospitals_frame(
    profiles: dict[str, tuple[bool | None, bool | None]] | None = None,
) -> pd.DataFrame:
    """hospital key → (has_obstetrics, has_pediatrics); default one hospital h1 with both."""
    profiles = profiles or {"h1": (True, True)}
    return pd.DataFrame(
        [(k, o, p) for k, (o, p) in profiles.items()],
        columns=["hospital_key", "has_obstetrics", "has_pediatrics"],
    ).astype({"has_obstetrics": object, "has_pediatrics": object})


def criterion_items(criterion: str, answers: dict[int, Sequence[str]]) -> list[tuple[str, str]]:
    """(item code, result) for one criterion: level → results of its items 1, 2, …"""
    return [
        (f"{criterion}-{level}.{n}", result)
        for level, results in sorted(answers.items())
        for n, result in enumerate(results, start=1)
    ]


def full_levels_findings(
    rule_set: RuleSet,
    keys: Sequence[str],
    *,
    items_per_level: int = 4,
    not_met_rate: float = 0.1,
    na_rate: float = 0.02,
    seed: int = 0,
) -> pd.DataFrame:
    """Findings answering every item of every criterion of a `levels` rule set, at random."""
    rng = np.random.default_rng(seed)
    codes = np.array(
        [
            f"{u.code}-{level}.{n}"
            for u in rule_set.units
            for level in range(1, rule_set.max_level + 1)
            for n in range(1, items_per_level + 1)
        ],
        dtype=object,
    )
    n_total = len(codes) * len(keys)
    draw = rng.random(n_total)
    results = np.where(
        draw < not_met_rate, "not_met", np.where(draw < not_met_rate + na_rate, "na", "met")
    )
    return pd.DataFrame(
        {
            "assessment_key": np.repeat(np.array(keys, dtype=object), len(codes)),
            "item_code": np.tile(codes, len(keys)),
            "result": results.astype(object),
        }
    )


def reaching(
    key: str, criterion: str, level: int, max_level: int = 5
) -> list[tuple[str, str, str]]:
    """Findings (two items a level) that put `criterion` exactly at `level`."""
    rows: list[tuple[str, str, str]] = []
    for lv in range(1, max_level + 1):
        if level == 1 and lv == 1:
            results = ["met", "not_met"]  # a violation
        elif lv <= level or lv > level + 1:
            results = ["met", "met"]
        else:
            results = ["met", "not_met"]  # the first level not reached
        rows.extend((key, f"{criterion}-{lv}.{n}", r) for n, r in enumerate(results, start=1))
    return rows


def score_one(
    rule_sets: dict,
    findings: list[tuple[str, str, str]],
    *,
    standard: str = "QD6858",
    profile: tuple[bool | None, bool | None] = (True, True),
    key: str = "a1",
):
    """Score one assessment of hospital h1; returns (score row as dict, criteria by code)."""
    from hqsync.scoring import score_assessments

    frames = score_assessments(
        assessments_frame([assessment(key, standard=standard)]),
        findings_frame(findings),
        hospitals_frame({"h1": profile}),
        rule_sets,
    )
    criteria = {r["code"]: r for r in frames.criteria.to_dict("records")}
    return frames.scores.to_dict("records")[0], criteria
