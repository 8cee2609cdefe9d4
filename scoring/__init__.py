"""Pure scoring: rule sets applied to findings, per-criterion levels and gaps, comparisons.

The rule-set model (`RuleSet`, `Band`, ...) lives here too; `hqsync.config.ruleset_loader` reads
the files into it. DataFrames in, DataFrames out; no I/O. See `score_assessments` and
`compare_assessments`.
"""

from __future__ import annotations

from hqsync.scoring.compare import Comparisons, compare_assessments
from hqsync.scoring.engine import ScoreFrames, score_assessments
from hqsync.scoring.ruleset import (
    Band,
    Item,
    RuleSet,
    Thresholds,
    Unit,
    report_levels,
    resolve_standard,
)

__all__ = [
    "Band",
    "Comparisons",
    "Item",
    "RuleSet",
    "ScoreFrames",
    "Thresholds",
    "Unit",
    "compare_assessments",
    "report_levels",
    "resolve_standard",
    "score_assessments",
]
