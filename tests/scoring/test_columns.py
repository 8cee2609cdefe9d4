"""`score_columns` (the pipeline's road, without pandas) scores as `score_assessments` does."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hqsync.config.ruleset_loader import load_rule_sets
from hqsync.scoring import score_assessments
from hqsync.scoring.common import Coded
from hqsync.scoring.engine import FindingCodes, score_columns
from tests.scoring.factories import ASSESSMENT_COLUMNS, FINDING_COLUMNS, levels_rule_set

COUNCIL = levels_rule_set()  # levels without a sub-item catalog: its items are the findings'
RULE_SETS = {**load_rule_sets(), COUNCIL.id: COUNCIL}
STANDARDS = ["QD6858", "TT35", "JCI-DEMO", COUNCIL.id, "GONE"]  # GONE: no such rule set
ITEMS = sorted(
    {
        *(
            f"{c}-{level}.{n}"
            for c in ("A1.1", "C3.1", "E1.1")
            for level in (1, 2, 3)
            for n in (1, 2)
        ),
        *[i.code for i in RULE_SETS["TT35"].items or ()][:6],
        *[i.code for i in RULE_SETS["JCI-DEMO"].items or ()][:6],
        *(f"K1.{k}-{level}.1" for k in (1, 2) for level in (1, 2, 3)),
        "Z9.9-1.1",  # no rule set knows it
    }
)
KEYS = [f"a{n}" for n in range(5)]
HOSPITALS = ["h0", "h1", "h2"]  # h2 has no profile row


@st.composite
def inputs(draw) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]], list[Any]]:
    assessments = draw(
        st.lists(
            st.tuples(
                st.sampled_from(KEYS), st.sampled_from(HOSPITALS), st.sampled_from(STANDARDS)
            ),
            min_size=1,
            max_size=7,  # a key may repeat, with another standard
        )
    )
    findings = draw(
        st.lists(
            st.tuples(
                st.sampled_from([*KEYS, "stray"]),
                st.sampled_from(ITEMS),
                st.sampled_from(["met", "not_met", "na", "partial", "Đạt?"]),
            ),
            max_size=60,
        )
    )
    flags = st.sampled_from([True, False, None])
    hospitals = draw(st.lists(st.tuples(st.sampled_from(["h0", "h1"]), flags, flags), max_size=3))
    return assessments, findings, hospitals


def coded(values: list[str]) -> Coded:
    numbers: dict[str, int] = {}
    codes = np.array([numbers.setdefault(v, len(numbers)) for v in values], dtype=np.int32)
    return Coded(codes, list(numbers))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inputs())
def test_score_columns_gives_the_rows_score_assessments_gives(case):
    assessment_rows, finding_rows, hospital_rows = case
    assessments = {
        "assessment_key": [r[0] for r in assessment_rows],
        "hospital_key": [r[1] for r in assessment_rows],
        "standard": [r[2] for r in assessment_rows],
        "kind": ["self"] * len(assessment_rows),
        "assessed_on": [None] * len(assessment_rows),
        "status": ["submitted"] * len(assessment_rows),
    }
    hospitals = {
        "hospital_key": [r[0] for r in hospital_rows],
        "has_obstetrics": [r[1] for r in hospital_rows],
        "has_pediatrics": [r[2] for r in hospital_rows],
    }
    frames = score_assessments(
        pd.DataFrame(assessments, columns=ASSESSMENT_COLUMNS),
        pd.DataFrame(finding_rows, columns=FINDING_COLUMNS),
        pd.DataFrame(hospitals, dtype=object),
        RULE_SETS,
    )
    findings = FindingCodes(*(coded([r[n] for r in finding_rows]) for n in range(3)))
    columns = score_columns(assessments, findings, hospitals, RULE_SETS)

    assert frames.scores.to_dict("records") == columns.scores
    assert {c: frames.criteria[c].tolist() for c in frames.criteria.columns} == columns.criteria
    assert [r["assessment_key"] for r in columns.scores] == sorted(
        set(assessments["assessment_key"])
    )
