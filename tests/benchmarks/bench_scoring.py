"""Benchmark: score 1,000,000 findings (≈600 full QĐ 6858 assessments) and compare them.

Not collected by pytest; run `.venv/bin/python tests/benchmarks/bench_scoring.py`. Prints
findings per second and peak memory. Target on the 2-core CI machine: < 2 s, < 1 GiB.
"""

from __future__ import annotations

import resource
import sys
import time
import tracemalloc
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # run as a script from anywhere

from hqsync.config.ruleset_loader import load_rule_sets
from hqsync.scoring import compare_assessments, score_assessments
from tests.scoring.factories import (
    assessment,
    assessments_frame,
    full_levels_findings,
    hospitals_frame,
)

TARGET_FINDINGS = 1_000_000
ITEMS_PER_LEVEL = 4  # 83 criteria × 5 levels × 4 items = 1,660 findings per assessment


def main() -> int:
    """Build the input, score it (timed, memory traced), print the figures."""
    rule_sets = load_rule_sets()
    qd = rule_sets["QD6858"]
    per_assessment = qd.total * qd.max_level * ITEMS_PER_LEVEL
    n_assessments = -(-TARGET_FINDINGS // per_assessment)
    n_hospitals = n_assessments // 4
    keys = [f"a{i:05d}" for i in range(n_assessments)]
    assessments = assessments_frame(
        assessment(
            key,
            hospital=f"h{i % n_hospitals:04d}",
            kind="self" if i % 2 == 0 else "council",
            assessed_on=date(2022 + (i // (2 * n_hospitals)), 6, 1),
        )
        for i, key in enumerate(keys)
    )
    hospitals = hospitals_frame({f"h{i:04d}": (i % 3 != 0, i % 2 == 0) for i in range(n_hospitals)})
    findings = full_levels_findings(qd, keys, items_per_level=ITEMS_PER_LEVEL).iloc[
        :TARGET_FINDINGS
    ]
    n_findings = len(findings)

    def run() -> tuple[float, float]:
        started = time.perf_counter()
        frames = score_assessments(assessments, findings, hospitals, rule_sets)
        scored_at = time.perf_counter()
        scores = frames.scores.merge(
            assessments[["assessment_key", "hospital_key", "kind", "assessed_on", "status"]],
            on="assessment_key",
        )
        compare_assessments(scores, frames.criteria)
        return scored_at - started, time.perf_counter() - scored_at

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    timings = [run() for _ in range(3)]  # untraced: tracemalloc slows Python code down
    rss_peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    tracemalloc.start()
    run()
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()

    score_s, compare_s = min(timings, key=sum)
    total = score_s + compare_s
    print(f"findings:          {n_findings:,} in {n_assessments} assessments")
    print(f"score_assessments: {score_s:.3f} s  ({n_findings / score_s:,.0f} findings/s)")
    print(f"compare:           {compare_s:.3f} s")
    print(f"total:             {total:.3f} s  ({n_findings / total:,.0f} findings/s), best of 3")
    print(f"peak traced:       {traced_peak / 2**20:,.1f} MiB (allocated while scoring+comparing)")
    print(
        f"peak RSS:          {rss_peak / 2**20:,.1f} MiB (whole process; "
        f"{rss_before / 2**20:,.1f} MiB before scoring)"
    )
    ok = total < 2.0 and traced_peak < 2**30 and rss_peak < 2**30
    print("target (< 2 s, < 1 GiB):", "met" if ok else "MISSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
