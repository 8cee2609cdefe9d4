"""The Gaps tab's evidence columns in the document: one Link per failing sub-item's photo."""

from __future__ import annotations

import dataclasses

from hqsync.sync.dashboard import Link
from tests.dashboard.test_builder import FIVE_COUNTS, dashboard_data, headers, table


def test_a_gap_row_gets_one_link_column_per_evidence_of_its_failing_sub_items():
    data = dashboard_data(5, FIVE_COUNTS)
    criteria = data.criteria.copy()
    criteria["details"] = [
        {"gaps": ["C3-2.1", "C3-2.2"], "next_level": 2, "title": "T"} if code == "C3" else {}
        for code in criteria["code"]
    ]
    evidence = {
        ("s1:A1", "C3-2.2"): ("https://d.example/1", "https://d.example/2"),
        ("s1:A1", "C3-2.1"): ("https://d.example/0",),
        ("s1:A1", "C9-1.1"): ("https://d.example/not-a-gap",),
        ("s1:A3", "C3-2.1"): ("https://d.example/not-latest",),
    }
    gaps = table(dataclasses.replace(data, criteria=criteria, evidence=evidence), "gaps")
    names = headers(gaps)
    assert names[-3:] == ["Evidence 1", "Evidence 2", "Evidence 3"]
    first, second = (row[names.index("Evidence 1") :] for row in gaps.rows)
    assert first == (
        Link("C3-2.1", "https://d.example/0"),
        Link("C3-2.2", "https://d.example/1"),
        Link("C3-2.2", "https://d.example/2"),
    )
    assert second == (None, None, None)
    # Without evidence the tab keeps its columns, and no link anywhere.
    plain = table(dataclasses.replace(data, criteria=criteria), "gaps")
    assert headers(plain) == names[:-3]
    assert not any(isinstance(cell, Link) for row in plain.rows for cell in row)
