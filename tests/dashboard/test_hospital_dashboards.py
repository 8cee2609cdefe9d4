"""Each hospital's own dashboard on the xlsx backend: only that hospital, equal to the overview,
rewritten only when its content changed, and a failing one does not stop the others."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from hqsync.config.errors import DashboardError
from hqsync.config.settings import (
    DashboardSettings,
    DatabaseSettings,
    Settings,
    SourceSettings,
    settings_from_mapping,
)
from hqsync.config.vocabulary import DashboardOutcome, Language
from hqsync.jobs.demo import build_source_tabs
from hqsync.jobs.pipeline import Pipeline
from hqsync.jobs.status import render_status, status_report
from hqsync.models.store import open_store
from hqsync.sync.dashboard import LABELS
from hqsync.sync.xlsx import write_source_workbook
from tests.dashboard.hospital_support import (
    IDS,
    SMALL,
    others_found,
    table_rows,
    visible_finding,
    workbook_texts,
)

VI = LABELS[Language.VI]


@pytest.fixture
def deployment(tmp_path: Path, db_url: str):
    tabs = build_source_tabs(**SMALL)
    write_source_workbook(tmp_path / "source.xlsx", tabs)
    targets = {h: str(tmp_path / "hospitals" / f"{h}.xlsx") for h in IDS}
    settings = Settings(
        database=DatabaseSettings(db_url),
        sources=(SourceSettings("demo", "xlsx", str(tmp_path / "source.xlsx")),),
        dashboard=DashboardSettings("xlsx", str(tmp_path / "overview.xlsx"), "vi", targets),
    )
    (tmp_path / "hospitals").mkdir()
    engine = open_store(db_url)
    yield Pipeline(settings, engine), tabs, tmp_path, targets
    engine.dispose()


def _state(paths: dict[str, str]) -> dict[str, tuple[int, bytes]]:
    return {h: (os.stat(p).st_mtime_ns, Path(p).read_bytes()) for h, p in paths.items()}


def test_every_hospital_dashboard_holds_no_other_hospital(deployment):
    pipeline, _, _, targets = deployment
    result = pipeline.run_cycle(publish_always=True)
    assert not result.failed
    issues = 0
    for hospital, path in targets.items():
        texts = list(workbook_texts(Path(path)))
        assert hospital in " ".join(texts)
        assert others_found(texts, hospital) == []
        issues += len(table_rows(Path(path), VI["issues"]))
    # the demo's rejected rows are scoped: each hospital sees its own, none sees another's
    overview_issues = table_rows(Path(path).parents[1] / "overview.xlsx", VI["issues"])
    assert 0 < issues <= len(overview_issues)


def test_a_hospital_dashboard_shows_the_same_results_as_the_overview(deployment, tmp_path):
    pipeline, _, directory, targets = deployment
    pipeline.run_cycle(publish_always=True)
    fields = (VI["standard"], VI["kind"], VI["date"], VI["score"], VI["band"], VI["rank"])
    overview = table_rows(directory / "overview.xlsx", VI["summary"])
    for hospital, path in targets.items():
        own = {tuple(r[f] for f in fields) for r in table_rows(Path(path), VI["summary"])}
        shown = [tuple(r[f] for f in fields) for r in overview if r[VI["hospital_id"]] == hospital]
        assert shown and set(shown) <= own
        gaps = table_rows(Path(path), VI["gaps"])
        overview_gaps = {
            (r[VI["standard"]], r[VI["criterion"]], r[VI["current"]], r[VI["to_fix"]])
            for r in table_rows(directory / "overview.xlsx", VI["gaps"])
        }
        for gap in gaps:
            key = (gap[VI["standard"]], gap[VI["criterion"]], gap[VI["current"]], gap[VI["to_fix"]])
            assert key in overview_gaps
        criteria = table_rows(Path(path), VI["criteria"])
        assert criteria and all(r[VI["median"]] is None or r[VI["median"]] >= 1 for r in criteria)


def test_after_one_hospitals_finding_changes_only_its_dashboard_and_the_overview_are_written(
    deployment,
):
    pipeline, tabs, directory, targets = deployment
    pipeline.run_cycle(publish_always=True)
    paths = {**targets, "overview": str(directory / "overview.xlsx")}
    before = _state(paths)
    again = pipeline.run_cycle(publish_always=True)  # nothing changed: nothing is rewritten
    assert not again.failed and _state(paths) == before

    row = visible_finding(pipeline.engine, tabs, "BV02")
    tabs["Findings"][row][3] = "Không đạt"
    write_source_workbook(directory / "source.xlsx", tabs)
    result = pipeline.run_cycle()
    assert result.published and not result.failed
    after = _state(paths)
    changed = {h for h in paths if after[h] != before[h]}
    assert changed == {"BV02", "overview"}
    report = status_report(pipeline.settings, pipeline.engine)
    outcomes = {d["hospital_id"]: d["outcome"] for d in report["dashboards"]}
    assert outcomes == {
        None: DashboardOutcome.WRITTEN,
        "BV01": DashboardOutcome.UNCHANGED,
        "BV02": DashboardOutcome.WRITTEN,
        "BV03": DashboardOutcome.UNCHANGED,
        "BV04": DashboardOutcome.UNCHANGED,
    }


def test_a_failing_hospital_dashboard_does_not_stop_the_others_and_shows_in_status(
    deployment,
):
    pipeline, _, directory, targets = deployment
    (directory / "not-a-folder").write_text("a file where a folder should be", encoding="utf-8")
    broken = str(directory / "not-a-folder" / "BV03.xlsx")
    settings = pipeline.settings
    dashboard = DashboardSettings(
        "xlsx", settings.dashboard.spreadsheet, "vi", {**targets, "BV03": broken}
    )
    pipeline = Pipeline(Settings(settings.database, sources=settings.sources, dashboard=dashboard),
                        pipeline.engine)  # fmt: skip
    pipeline.sync()
    pipeline.score()
    with pytest.raises(DashboardError, match="1 of 5 dashboards failed"):
        pipeline.publish()
    for hospital in ("BV01", "BV02", "BV04"):
        assert Path(targets[hospital]).exists()
    assert (directory / "overview.xlsx").exists()
    report = status_report(pipeline.settings, pipeline.engine)
    failed = [d for d in report["dashboards"] if d["outcome"] == DashboardOutcome.FAILED]
    assert [(d["hospital_id"], d["target"]) for d in failed] == [("BV03", broken)]
    assert failed[0]["error"]
    text = render_status(report)
    assert "hospital BV03" in text and "failed" in text
    assert "Dashboards: 5 (1 failed, 4 written)" in text


def test_the_hospitals_tab_may_name_a_dashboard_and_the_config_wins(tmp_path, db_url):
    tabs = build_source_tabs(**SMALL)
    tabs["Hospitals"][0].append("Bảng điều khiển")
    for row in tabs["Hospitals"][1:]:
        row.append(f"sheets/{row[0]}.xlsx")
    write_source_workbook(tmp_path / "source.xlsx", tabs)
    (tmp_path / "sheets").mkdir()
    settings = settings_from_mapping(
        {
            "database": {"url": db_url},
            "sources": [{"name": "demo", "backend": "xlsx", "spreadsheet": "source.xlsx"}],
            "dashboard": {
                "backend": "xlsx",
                "spreadsheet": "overview.xlsx",
                "hospitals": {"BV01": "mine/BV01.xlsx"},
            },
        },
        base_dir=tmp_path,
        path=tmp_path / "hqsync.toml",
    )
    (tmp_path / "mine").mkdir()
    engine = open_store(db_url)
    try:
        result = Pipeline(settings, engine).run_cycle(publish_always=True)
        assert not result.failed
    finally:
        engine.dispose()
    assert (tmp_path / "mine" / "BV01.xlsx").exists()
    assert not (tmp_path / "sheets" / "BV01.xlsx").exists()
    for hospital in IDS[1:]:
        texts = list(workbook_texts(tmp_path / "sheets" / f"{hospital}.xlsx"))
        assert others_found(texts, hospital) == []


@pytest.mark.parametrize(
    ("hospitals", "message"),
    [
        ({"BV01": "overview.xlsx"}, "already another dashboard"),
        ({"BV01": "a.xlsx", "BV02": "a.xlsx"}, "already another dashboard"),
        ("BV01.xlsx", "must be a table"),
        ({"BV01": ""}, "non-empty string"),
    ],
)
def test_hospital_dashboard_settings_are_checked(tmp_path, hospitals, message):
    from hqsync.config.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        settings_from_mapping(
            {"dashboard": {"spreadsheet": "overview.xlsx", "hospitals": hospitals}},
            base_dir=tmp_path,
        )


def test_google_hospital_dashboards_are_ids_from_urls(tmp_path):
    settings = settings_from_mapping(
        {
            "dashboard": {
                "backend": "google",
                "spreadsheet": "1Overview",
                "hospitals": {"BV01": "https://docs.google.com/spreadsheets/d/1AbC_d-9/edit#gid=0"},
            }
        },
        base_dir=tmp_path,
    )
    assert dict(settings.dashboard.hospitals) == {"BV01": "1AbC_d-9"}
