"""The province median beside a hospital's criterion levels is the overview's rule: the median
over the ranked assessments (each hospital's latest complete one) of the same standard and
kind, the hospital's own included."""

from __future__ import annotations

import statistics
from types import SimpleNamespace
from typing import Any

import pandas as pd
from hypothesis import given
from hypothesis import strategies as st

from hqsync.sync.dashboard.hospital import ProvinceMedians


@given(
    levels=st.lists(
        st.tuples(st.integers(1, 7), st.booleans(), st.sampled_from(["self", "council"])),
        min_size=1,
        max_size=30,
    )
)
def test_the_median_is_over_the_ranked_assessments_of_the_same_kind(
    levels: list[tuple[int, bool, str]],
) -> None:
    keys = [f"A{i}" for i in range(len(levels))]
    comparisons = pd.DataFrame(
        {
            "assessment_key": keys,
            "standard": "QD6858",
            "kind": [kind for _, _, kind in levels],
            "rank": [1 if ranked else None for _, ranked, _ in levels],
        }
    )
    criteria = pd.DataFrame(
        {"assessment_key": keys, "code": "A1.1", "level": [v for v, *_ in levels]}
    )
    data: Any = SimpleNamespace(comparisons=comparisons, criteria=criteria)
    medians = ProvinceMedians.of(data)
    for kind in ("self", "council"):
        counted = [v for v, ranked, k in levels if ranked and k == kind]
        expected = round(statistics.median(counted), 2) if counted else None
        assert medians.of_criterion("QD6858", kind, "A1.1") == expected
    assert medians.of_criterion("QD6858", "council", "B9.9") is None
