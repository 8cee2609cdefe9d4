"""The fault suite at a small scale: every figure of its table is 0."""

from __future__ import annotations

import pytest

from tests.conftest import pg_available
from tests.faults.run_faults import SECTIONS, render, run


@pytest.mark.slow
def test_the_fault_suite_finds_nothing_wrong_at_a_small_scale() -> None:
    # Every section, kills included. The first kill of each job lands right after the job
    # commits (the moment that once flagged a killed sync: the check, not the store, was
    # wrong), the first staged Google publish is killed between two of its requests; the
    # random moments draw from the fixed seed, and whatever moment a kill lands on, a correct
    # store and dashboard pass.
    backends = ["sqlite"] + (["postgresql"] if pg_available() else [])
    rows = run(syncs=2, scores=1, publishes=2, concurrent=1, backends=backends, sections=SECTIONS)
    table = render(rows)
    assert {r.backend for r in rows} >= {*backends, "google"}, table
    assert all(r.trials for r in rows), table
    assert not [r for r in rows if r.bad], table
