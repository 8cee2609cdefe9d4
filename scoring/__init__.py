"""Pure scoring: rule sets applied to findings, per-criterion levels and gaps, comparisons.

The rule-set model (`RuleSet`, `Band`, ...) lives here too; `hqsync.config.ruleset_loader` reads
the files into it. DataFrames in, DataFrames out (or plain columns: `score_columns`, the
pipeline's road, which never imports pandas); no I/O. See `score_assessments` and
`compare_assessments`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hqsync.scoring.ruleset import (
    Band,
    Item,
    RuleSet,
    Thresholds,
    Unit,
    report_levels,
    resolve_standard,
)

if TYPE_CHECKING:
    from hqsync.scoring.compare import Comparisons, assessment_comparisons, compare_assessments
    from hqsync.scoring.engine import (
        FindingCodes,
        ScoreColumns,
        ScoreFrames,
        score_assessments,
        score_columns,
    )

_LAZY = {
    "Comparisons": "hqsync.scoring.compare",
    "assessment_comparisons": "hqsync.scoring.compare",
    "compare_assessments": "hqsync.scoring.compare",
    "FindingCodes": "hqsync.scoring.engine",
    "ScoreColumns": "hqsync.scoring.engine",
    "ScoreFrames": "hqsync.scoring.engine",
    "score_assessments": "hqsync.scoring.engine",
    "score_columns": "hqsync.scoring.engine",
}
"""Names whose modules import numpy or pandas: loaded on first use, so the rule-set model
stays light."""


def __getattr__(name: str) -> Any:
    """The engine's and the comparisons' names, imported when first asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = [
    "Band",
    "Comparisons",
    "FindingCodes",
    "Item",
    "RuleSet",
    "ScoreColumns",
    "ScoreFrames",
    "Thresholds",
    "Unit",
    "assessment_comparisons",
    "compare_assessments",
    "report_levels",
    "resolve_standard",
    "score_assessments",
    "score_columns",
]
