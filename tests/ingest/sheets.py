"""Small builders for source sheets used by the upsert tests, the kill test and the benchmark."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import cache

from hqsync.config.ruleset_loader import load_rule_sets
from hqsync.config.settings import TabNames
from hqsync.scoring.ruleset import RuleSet
from hqsync.sync.ingest.normalise import normalise_source
from hqsync.sync.ingest.rows import NormalisedSource
from hqsync.sync.interfaces import CellValue, SourceSnapshot
from tests.ingest.backends import memory_snapshot
from tests.ingest.catalogue import (
    A_HEAD,
    BV01,
    BV02,
    DG01,
    DG02,
    F01,
    F02,
    F03,
    F04,
    F_HEAD,
    H_HEAD,
)

Row = list[CellValue]


@cache
def rule_sets() -> dict[str, RuleSet]:
    """The shipped rule sets (loaded once per process)."""
    return load_rule_sets()


def snapshot(
    hospitals: Sequence[Row] = (BV01, BV02),
    assessments: Sequence[Row] = (DG01, DG02),
    findings: Sequence[Row] = (F01, F02, F03, F04),
) -> SourceSnapshot:
    """A source whose default-named tabs hold these data rows under the Vietnamese headers."""
    tabs = TabNames()
    return memory_snapshot(
        {
            tabs.hospitals: [H_HEAD, *hospitals],
            tabs.assessments: [A_HEAD, *assessments],
            tabs.findings: [F_HEAD, *findings],
        }
    )


def normalise(
    hospitals: Sequence[Row] = (BV01, BV02),
    assessments: Sequence[Row] = (DG01, DG02),
    findings: Sequence[Row] = (F01, F02, F03, F04),
    *,
    known: Mapping[str, Mapping[str, str]] | None = None,
    rules: Mapping[str, RuleSet] | None = None,
) -> NormalisedSource:
    """Normalise `snapshot(hospitals, assessments, findings)` with the shipped rule sets."""
    return normalise_source(
        snapshot(hospitals, assessments, findings),
        TabNames(),
        rule_sets() if rules is None else rules,
        known=known,
    )


def with_cell(row: Row, column: int, value: CellValue) -> Row:
    """A copy of `row` with one cell replaced."""
    copy = list(row)
    copy[column] = value
    return copy


def changed_source() -> NormalisedSource:
    """The standard source after a busy day: an update, a removal, a new row and a bad row."""
    return normalise(
        hospitals=[BV01, with_cell(BV02, 5, "Không")],
        assessments=[DG01, DG02],
        findings=[
            F01,
            with_cell(F02, 3, "Đạt"),
            F04,
            ["F05", "DG02", "1.2", "Đạt"],
            ["F06", "DG01", "A1.1-2.3", "Tốt"],
        ],
    )
