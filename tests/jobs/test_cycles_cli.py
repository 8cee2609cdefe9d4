"""`hqsync check` and `run` refuse a cycle naming an unknown standard; `hqsync status` prints
the cycles' counts (text and `--format json`, key `cycles`)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hqsync.jobs.cli import cli
from hqsync.jobs.demo import demo_config, write_demo_source

SMALL = {"hospital_count": 3, "items_per_level": (1, 2, 1, 1, 1)}
CYCLES = """
[[cycles]]
standard = "QĐ 6858"
self_due = "11-30"
council_due = "12-31"

[[cycles]]
standard = "{second}"
self_due = "03-31"
covers = "previous_year"
"""


def _deployment(directory: Path, second: str) -> Path:
    config = directory / "hqsync.toml"
    config.write_text(demo_config("en") + CYCLES.format(second=second), encoding="utf-8")
    write_demo_source(directory / "source.xlsx", **SMALL)
    return config


@pytest.mark.parametrize("command", [["check"], ["run", "--once"]])
def test_a_cycle_whose_standard_no_rule_set_knows_stops_check_and_run(
    tmp_path: Path, command: list[str]
):
    config = _deployment(tmp_path, "TT 99")
    result = CliRunner().invoke(cli, [*command, "--config", str(config)])
    assert result.exit_code == 2, result.output
    (line,) = [x for x in result.stderr.splitlines() if x.startswith("hqsync: ")]
    assert "cycles[2].standard = 'TT 99': no rule set has that id or alias" in line
    assert "Traceback" not in result.output
    assert not (tmp_path / "hqsync.db").exists()


def test_status_prints_the_counts_of_every_cycle(tmp_path: Path):
    config = _deployment(tmp_path, "TT35")
    runner = CliRunner()
    assert runner.invoke(cli, ["sync", "--config", str(config)]).exit_code == 0
    result = runner.invoke(cli, ["status", "--config", str(config), "--format", "json"])
    assert result.exit_code == 0, result.output
    qd, tt = json.loads(result.stdout)["cycles"]
    assert (qd["standard"], qd["hospitals"], tt["standard"], tt["hospitals"]) == (
        "QD6858",
        3,
        "TT35",
        3,
    )
    assert qd["year"] == tt["covered_year"] + 1 and tt["council"] is None
    assert set(qd["self"]) == {
        "due", "submitted", "draft_only", "missing", "late", "overdue", "due_soon",
    }  # fmt: skip
    text = runner.invoke(cli, ["status", "--config", str(config)])
    assert text.exit_code == 0
    assert f"Cycle QD6858 {qd['year']} (covers {qd['year']}): 3 hospital(s); self " in text.stdout
