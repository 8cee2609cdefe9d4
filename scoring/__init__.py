"""Pure scoring: rule sets applied to findings, per-criterion levels and gaps, comparisons.

DataFrames in, DataFrames out; no I/O. See `score_assessments` and `compare_assessments`.
"""

from __future__ import annotations

from hqsync.scoring.compare import Comparisons, compare_assessments
from hqsync.scoring.engine import ScoreFrames, score_assessments

__all__ = ["Comparisons", "ScoreFrames", "compare_assessments", "score_assessments"]
