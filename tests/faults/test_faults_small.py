"""The fault suite at a small scale: every figure of its table is 0."""

from __future__ import annotations

import pytest

from tests.conftest import pg_available
from tests.faults.run_faults import render, run


@pytest.mark.slow
def test_the_fault_suite_finds_nothing_wrong_at_a_small_scale() -> None:
    backends = ["sqlite"] + (["postgresql"] if pg_available() else [])
    rows = run(syncs=1, scores=1, publishes=1, concurrent=1, backends=backends)
    table = render(rows)
    assert {r.backend for r in rows} >= {*backends, "google"}, table
    assert all(r.trials for r in rows), table
    assert not [r for r in rows if r.bad], table
