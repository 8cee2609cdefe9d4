"""The province median beside a hospital's criterion levels leaves that hospital out."""

from __future__ import annotations

import statistics

from hypothesis import given
from hypothesis import strategies as st

from hqsync.sync.dashboard.hospital import ProvinceMedians


@given(
    levels=st.lists(st.integers(1, 7), min_size=1, max_size=40),
    mine=st.integers(0, 40),
)
def test_the_median_is_the_other_hospitals_median(levels: list[int], mine: int) -> None:
    hospitals = [f"H{i}" for i in range(len(levels))]
    medians = ProvinceMedians(
        {("QD6858", "A1.1"): sorted(float(v) for v in levels)},
        {(h, "QD6858", "A1.1"): float(v) for h, v in zip(hospitals, levels, strict=True)},
    )
    who = hospitals[mine % len(hospitals)]
    others = [v for h, v in zip(hospitals, levels, strict=True) if h != who]
    expected = round(statistics.median(others), 2) if others else None
    assert medians.without(who, "QD6858", "A1.1") == expected
    # a hospital with no level of its own sees the median of all
    assert medians.without("elsewhere", "QD6858", "A1.1") == round(statistics.median(levels), 2)
    assert medians.without(who, "QD6858", "B9.9") is None
