"""A publish builds only the dashboards whose inputs changed, and never skips one that must be
rewritten: a province median that moves, a new language, a hospital's own rejected row. The
median a hospital shows is the overview's rule (`criterion_medians`)."""

from __future__ import annotations

import os
import statistics
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from hqsync.config.vocabulary import AssessmentKind, DashboardOutcome, Language, Method
from hqsync.jobs.pipeline import Pipeline
from hqsync.models import reports
from hqsync.models.store import open_store
from hqsync.sync.dashboard import LABELS, latest_assessments, load_dashboard_data
from hqsync.sync.dashboard import builder as overview_builder
from hqsync.sync.dashboard import hospital as hospital_builder
from hqsync.sync.dashboard.hospital import ProvinceMedians, index_hospitals
from hqsync.sync.dashboard.inputs import hospital_input_digests, overview_input_digest
from hqsync.sync.xlsx import write_source_workbook
from tests.dashboard.hospital_support import IDS, table_rows, visible_finding, xlsx_deployment

VI, EN = LABELS[Language.VI], LABELS[Language.EN]
FAILED_TEXT = "Không đạt"


@pytest.fixture
def deployment(tmp_path: Path, db_url: str):
    settings, tabs, targets = xlsx_deployment(tmp_path, db_url)
    engine = open_store(db_url)
    yield Pipeline(settings, engine), tabs, tmp_path, targets
    engine.dispose()


def _files(directory: Path, targets: dict[str, str]) -> dict[str, tuple[int, bytes]]:
    paths = {**targets, "overview": str(directory / "overview.xlsx")}
    return {h: (os.stat(p).st_mtime_ns, Path(p).read_bytes()) for h, p in paths.items()}


def _changed(before: dict[str, Any], after: dict[str, Any]) -> set[str]:
    return {h for h in before if after[h] != before[h]}


def _resync(pipeline: Pipeline, tabs: dict[str, list[list[Any]]], directory: Path) -> None:
    write_source_workbook(directory / "source.xlsx", tabs)
    result = pipeline.run_cycle()
    assert result.published and not result.failed


def _latest_council(pipeline: Pipeline) -> dict[str, str]:
    """hospital_id → the assessment_id of its latest council levels assessment."""
    with pipeline.engine.connect() as conn:
        scores, _ = reports.load_results(conn)
    latest = latest_assessments(scores, by_kind=True)
    council = latest[
        (latest["kind"] == AssessmentKind.COUNCIL) & (latest["method"] == Method.LEVELS)
    ]
    return dict(zip(council["hospital_id"], council["assessment_id"], strict=True))


def _criteria_rows(path: str | Path) -> dict[tuple[str, str, str], dict[str, Any]]:
    rows = table_rows(Path(path), VI["criteria"])
    return {(r[VI["standard"]], r[VI["kind"]], r[VI["criterion"]]): r for r in rows}


def test_an_unchanged_publish_builds_nothing_and_one_change_builds_little(deployment, monkeypatch):
    pipeline, tabs, directory, _ = deployment
    built: Counter[str] = Counter()
    real_hospital = hospital_builder.build_hospital_dashboard
    real_overview = overview_builder.build_dashboard

    def hospital(views: Any, hospital_id: str, *args: Any) -> Any:
        built[hospital_id] += 1
        return real_hospital(views, hospital_id, *args)

    def overview(*args: Any) -> Any:
        built["overview"] += 1
        return real_overview(*args)

    monkeypatch.setattr(hospital_builder, "build_hospital_dashboard", hospital)
    monkeypatch.setattr(overview_builder, "build_dashboard", overview)
    assert not pipeline.run_cycle(publish_always=True).failed
    assert built == Counter(dict.fromkeys((*IDS, "overview"), 1))

    built.clear()
    report = pipeline.publish()
    assert built == Counter()
    assert set(report.outcomes.values()) == {DashboardOutcome.UNCHANGED}

    row = visible_finding(pipeline.engine, tabs, "BV02")
    tabs["Findings"][row][3] = FAILED_TEXT
    _resync(pipeline, tabs, directory)
    assert built["BV02"] == 1 and built["overview"] == 1
    assert sum(built.values()) < len(IDS) + 1  # hospitals whose inputs did not change: unbuilt


def test_a_median_that_moves_rewrites_a_hospital_whose_own_data_did_not_change(deployment):
    pipeline, tabs, directory, targets = deployment
    assert not pipeline.run_cycle(publish_always=True).failed
    council = _latest_council(pipeline)
    # the top-ranked council hospital keeps its rank when the others' levels fall
    (top,) = [
        h
        for h in council
        if any(
            r[VI["rank"]] == 1
            and r[VI["kind"]] == VI[AssessmentKind.COUNCIL]
            and r[VI["score"]] is not None  # the levels standard (TT 35 shows a percentage)
            for r in table_rows(Path(targets[h]), VI["summary"])
        )
    ]
    shown = _criteria_rows(targets[top])
    key = max(
        (k for k in shown if k[1] == VI[AssessmentKind.COUNCIL]),
        key=lambda k: shown[k][VI["median"]],
    )
    others = {council[h] for h in council if h != top}
    for row in tabs["Findings"][1:]:
        if row[1] in others and str(row[2]).startswith(f"{key[2]}-"):
            row[3] = FAILED_TEXT
    summary = table_rows(Path(targets[top]), VI["summary"])
    before = _files(directory, targets)

    _resync(pipeline, tabs, directory)

    assert table_rows(Path(targets[top]), VI["summary"]) == summary  # its own results: as before
    after = _criteria_rows(targets[top])
    assert after[key][VI["median"]] < shown[key][VI["median"]]
    assert top in _changed(before, _files(directory, targets))
    data = load_dashboard_data(pipeline.engine, pipeline.rule_sets)
    medians = ProvinceMedians.of(data)
    for hospital, path in targets.items():  # every hospital shows the medians of the store
        for (standard, kind, criterion), row in _criteria_rows(path).items():
            kinds = {VI[k]: str(k) for k in AssessmentKind}
            assert row[VI["median"]] == medians.of_criterion(
                _standard_id(data, standard), kinds[kind], criterion
            ), (hospital, standard, kind, criterion)


def _standard_id(data: Any, shown: str) -> str:
    from hqsync.sync.dashboard.formats import standard_name

    (found,) = [s for s in data.rule_sets if standard_name(data.rule_sets, s) == shown]
    return str(found)


def test_a_new_language_rewrites_every_dashboard(deployment, db_url):
    pipeline, _, directory, targets = deployment
    assert not pipeline.run_cycle(publish_always=True).failed
    before = _files(directory, targets)
    settings = pipeline.settings
    english = replace(settings, dashboard=replace(settings.dashboard, language="en"))
    report = Pipeline(english, pipeline.engine).publish()
    assert set(report.outcomes.values()) == {DashboardOutcome.WRITTEN}
    assert _changed(before, _files(directory, targets)) == {*IDS, "overview"}
    for path in targets.values():
        assert table_rows(Path(path), EN["summary"])


def test_a_rejected_row_of_one_hospital_rewrites_only_its_dashboard(deployment):
    pipeline, tabs, directory, targets = deployment
    assert not pipeline.run_cycle(publish_always=True).failed
    issues = {h: len(table_rows(Path(p), VI["issues"])) for h, p in targets.items()}
    before = _files(directory, targets)
    council = _latest_council(pipeline)
    tabs["Findings"].append(["zz-rejected", council["BV03"], "A1.1-1.1", "maybe", None, None, None])

    _resync(pipeline, tabs, directory)

    assert _changed(before, _files(directory, targets)) == {"BV03", "overview"}
    assert len(table_rows(Path(targets["BV03"]), VI["issues"])) == issues["BV03"] + 1


def test_the_median_a_hospital_shows_is_the_overviews(deployment):
    pipeline, tabs, directory, targets = deployment
    pipeline.sync()
    pipeline.score()
    council = _latest_council(pipeline)
    # BV03's latest council assessment leaves a criterion out: incomplete, unranked, and its
    # levels are in no median (the overview's rule)
    tabs["Findings"] = [
        r
        for r in tabs["Findings"]
        if not (r[1] == council["BV03"] and str(r[2]).startswith("A1.1-"))
    ]
    write_source_workbook(directory / "source.xlsx", tabs)
    assert not pipeline.run_cycle(publish_always=True).failed
    overview = directory / "overview.xlsx"
    ranked = {
        (r[VI["hospital"]], r[VI["standard"]], r[VI["kind"]], r[VI["date"]])
        for r in table_rows(overview, VI["summary"])
        if r[VI["rank"]] is not None
    }
    bv03 = [r for r in table_rows(Path(targets["BV03"]), VI["summary"]) if r[VI["date"]]]
    assert any(r[VI["rank"]] is None and r[VI["kind"]] == VI["council"] for r in bv03)
    levels: dict[tuple[str, str, str], list[float]] = {}
    for row in table_rows(overview, VI["criteria"]):
        key = (row[VI["hospital"]], row[VI["standard"]], row[VI["kind"]], row[VI["date"]])
        if key not in ranked:
            continue
        for header, value in row.items():
            if header not in key and header not in {
                VI["hospital"], VI["standard"], VI["kind"], VI["date"]
            } and value is not None:  # fmt: skip
                levels.setdefault((row[VI["standard"]], row[VI["kind"]], header), []).append(value)
    compared = 0
    for path in targets.values():
        for key, row in _criteria_rows(path).items():
            expected = round(statistics.median(levels[key]), 2) if key in levels else None
            assert row[VI["median"]] == expected, key
            compared += 1
    assert compared > 100


def test_hospital_digests_follow_their_own_inputs_and_the_medians_of_their_standards(
    deployment,
):
    pipeline, *_ = deployment
    pipeline.sync()
    pipeline.score()
    data = load_dashboard_data(pipeline.engine, pipeline.rule_sets)
    with pipeline.engine.connect() as conn:
        failing = reports.load_failing_findings(conn)

    def digests(data: Any, views: Any = None, language: str = "vi") -> dict[str, str]:
        views = views or index_hospitals(data, failing)
        return hospital_input_digests(
            views, failing, IDS, language=language, timezone="Asia/Ho_Chi_Minh"
        )

    base = digests(data)
    assert len(set(base.values())) == len(IDS)
    assert digests(data) == base  # stable
    # another hospital's own score changes nothing of BV01's inputs
    scores = data.scores.copy()
    scores.loc[scores["hospital_id"] == "BV02", "score"] = 1.0
    changed = digests(replace(data, scores=scores))
    assert changed["BV01"] == base["BV01"] and changed["BV02"] != base["BV02"]
    # a province median every hospital shows: every hospital
    views = index_hospitals(data, failing)
    (first, value), *_ = views.medians.medians.items()
    moved = replace(views, medians=ProvinceMedians({**views.medians.medians, first: value + 1}))
    assert all(digests(data, moved)[h] != base[h] for h in IDS)
    # the language, a rule set: every hospital
    assert all(digests(data, language="en")[h] != base[h] for h in IDS)
    rule_sets = {k: replace(v, fingerprint="other") for k, v in data.rule_sets.items()}
    assert all(digests(replace(data, rule_sets=rule_sets))[h] != base[h] for h in IDS)
    # the time of the last sync (an About time) changes no digest
    later = replace(data, last_sync=None)
    assert digests(later) == base
    zone = "Asia/Ho_Chi_Minh"
    assert overview_input_digest(later, "vi", zone) == overview_input_digest(data, "vi", zone)
    assert overview_input_digest(data, "en", zone) != overview_input_digest(data, "vi", zone)


def test_a_hospitals_digest_follows_its_own_cycle_states_and_the_day(tmp_path: Path, db_url: str):
    from hqsync.config.vocabulary import Submission
    from hqsync.sync.dashboard.loader import with_cycles
    from tests.dashboard.progress_support import CYCLES, PUBLISHED, varied_tabs

    settings, _, _ = xlsx_deployment(tmp_path, db_url)
    settings = replace(settings, cycles=CYCLES)
    write_source_workbook(tmp_path / "source.xlsx", varied_tabs())
    engine = open_store(db_url)
    try:
        pipeline = Pipeline(settings, engine, clock=lambda: PUBLISHED)
        pipeline.sync()
        pipeline.score()
        data = with_cycles(
            load_dashboard_data(engine, pipeline.rule_sets), engine, settings, PUBLISHED
        )
        with engine.connect() as conn:
            failing = reports.load_failing_findings(conn)
    finally:
        engine.dispose()
    report = data.cycles
    assert report is not None

    def digests(cycles: Any) -> dict[str, str]:
        views = index_hospitals(replace(data, cycles=cycles), failing)
        return hospital_input_digests(
            views, failing, IDS, language="vi", timezone="Asia/Ho_Chi_Minh"
        )

    base = digests(report)
    states = tuple(
        replace(s, self_state=Submission.SUBMITTED) if s.hospital_id == "BV02" else s
        for s in report.states
    )
    submitted = digests(replace(report, states=states))
    assert {h for h in IDS if submitted[h] != base[h]} == {"BV02"}
    next_day = digests(replace(report, today=report.today.replace(day=report.today.day + 1)))
    with_states = {s.hospital_id for s in report.states}
    assert {h for h in IDS if next_day[h] != base[h]} == with_states
