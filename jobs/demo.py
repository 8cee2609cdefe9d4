"""`hqsync demo`: a seeded, realistic province run end to end on the embedded default."""

from __future__ import annotations

import csv
import io
import random
from dataclasses import dataclass
from datetime import date, datetime
from importlib import resources
from pathlib import Path
from typing import Any

from hqsync.sync.interfaces import CellValue

DISTRICTS = (
    "Ninh Kiều",
    "Bình Thủy",
    "Cái Răng",
    "Ô Môn",
    "Thốt Nốt",
    "Phong Điền",
    "Cờ Đỏ",
    "Vĩnh Thạnh",
    "Thới Lai",
)
HOSPITALS = (
    ("BV01", "Bệnh viện Đa khoa Thành phố", "Ninh Kiều", "public", True, True),
    ("BV02", "Bệnh viện Nhi đồng", "Ninh Kiều", "public", False, True),
    ("BV03", "Bệnh viện Phụ sản", "Cái Răng", "public", True, False),
    ("BV04", "Bệnh viện Đa khoa Trung ương", "Cái Răng", "public", True, True),
    ("BV05", "Bệnh viện Y học cổ truyền", "Bình Thủy", "public", False, False),
    ("BV06", "Trung tâm Y tế quận Ô Môn", "Ô Môn", "public", True, True),
    ("BV07", "Trung tâm Y tế quận Thốt Nốt", "Thốt Nốt", "public", True, True),
    ("BV08", "Trung tâm Y tế huyện Phong Điền", "Phong Điền", "public", True, False),
    ("BV09", "Trung tâm Y tế huyện Cờ Đỏ", "Cờ Đỏ", "public", False, True),
    ("BV10", "Bệnh viện Quốc tế Phương Châu", "Ninh Kiều", "private", True, True),
    ("BV11", "Bệnh viện Đa khoa Hòa Hảo", "Bình Thủy", "private", False, False),
    ("BV12", "Bệnh viện Mắt Sài Gòn Cần Thơ", "Ninh Kiều", "private", False, False),
    ("BV13", "Trung tâm Y tế huyện Vĩnh Thạnh", "Vĩnh Thạnh", "public", True, True),
    ("BV14", "Trung tâm Y tế huyện Thới Lai", "Thới Lai", "public", False, True),
)
PERIODS = (2024, 2025)
ITEMS_PER_LEVEL = (2, 4, 5, 4, 3)
"""Demo sub-items per level 1..5 of every QĐ 6858 criterion (the real catalog varies)."""

HOSPITAL_HEADERS = (
    "Mã bệnh viện",
    "Tên bệnh viện",
    "district",
    "ownership",
    "has_obstetrics",
    "has_pediatrics",
    "active",
)
ASSESSMENT_HEADERS = (
    "assessment_id",
    "Mã bệnh viện",
    "Bộ tiêu chí",
    "kind",
    "Ngày đánh giá",
    "assessor",
    "status",
    "updated_at",
)
FINDING_HEADERS = (
    "finding_id",
    "Mã đánh giá",
    "Mã tiểu mục",
    "Kết quả",
    "Ghi chú",
    "Minh chứng",
    "updated_at",
)
RESULT_WORDS = {"met": "Đạt", "not_met": "Không đạt", "na": "Không áp dụng"}


@dataclass(frozen=True)
class DemoFiles:
    """Where the demo put its files."""

    directory: Path
    config: Path
    source: Path
    database: Path
    dashboard: Path


def demo_files(directory: Path) -> DemoFiles:
    """The demo's file layout under `directory`."""
    return DemoFiles(
        directory=directory,
        config=directory / "hqsync.toml",
        source=directory / "source.xlsx",
        database=directory / "hqsync.db",
        dashboard=directory / "dashboard.xlsx",
    )


def demo_config(language: str = "vi") -> str:
    """The demo's hqsync.toml (paths relative to the config file)."""
    return f"""# hqsync demo configuration: SQLite store and local workbooks, no Google account.
[database]
url = "sqlite:///hqsync.db"

[[sources]]
name = "demo"
backend = "xlsx"
spreadsheet = "source.xlsx"
tabs = {{ hospitals = "Hospitals", assessments = "Assessments", findings = "Findings" }}

[dashboard]
backend = "xlsx"
spreadsheet = "dashboard.xlsx"
language = "{language}"

[schedule]
sync_every = "10m"
publish_cron = "0 6 * * *"
timezone = "Asia/Ho_Chi_Minh"
"""


def _criteria_catalog() -> list[dict[str, str]]:
    text = (resources.files("hqsync.config.rulesets") / "qd6858-criteria.csv").read_text(
        encoding="utf-8"
    )
    return list(csv.DictReader(io.StringIO(text)))


def _tt35_items() -> list[str]:
    text = (resources.files("hqsync.config.rulesets") / "tt35-items.csv").read_text(
        encoding="utf-8"
    )
    return [row["code"] for row in csv.DictReader(io.StringIO(text))]


def _uid(rng: random.Random) -> str:
    return f"{rng.getrandbits(32):08x}"


def build_source_tabs(
    seed: int = 6858,
    hospital_count: int = len(HOSPITALS),
    items_per_level: tuple[int, ...] = ITEMS_PER_LEVEL,
) -> dict[str, list[list[CellValue]]]:
    """The demo source workbook's three tabs (header row first), fully determined by its
    arguments; fewer hospitals and items make the small workbooks the tests use."""
    # One long function on purpose: every value comes from one random stream, and the order of
    # the draws *is* the seed's contract (the demo's, the tests' and the benchmarks' workbooks
    # and the pinned results digest depend on it). Splitting it would make that order implicit.
    rng = random.Random(seed)
    chosen = HOSPITALS[:hospital_count]
    criteria = _criteria_catalog()
    tt35 = _tt35_items()
    hospitals: list[list[CellValue]] = [list(HOSPITAL_HEADERS)]
    assessments: list[list[CellValue]] = [list(ASSESSMENT_HEADERS)]
    findings: list[list[CellValue]] = [list(FINDING_HEADERS)]
    quality = {h[0]: rng.uniform(2.2, 4.3) for h in chosen}
    for hid, name, district, ownership, obstetrics, pediatrics in chosen:
        hospitals.append(
            [
                hid,
                name,
                district,
                ownership,
                "có" if obstetrics else "không",
                "yes" if pediatrics else "no",
                True,
            ]
        )
    for period_index, year in enumerate(PERIODS):
        for hid, _name, _district, _own, obstetrics, pediatrics in chosen:
            base = quality[hid] + 0.35 * period_index + rng.uniform(-0.2, 0.2)
            for kind, bias, month in (("self", 0.35, 9), ("council", 0.0, 11)):
                assessed_on = date(year, month, rng.randint(1, 28))
                aid = _uid(rng)
                updated = datetime(year, month, assessed_on.day, 16, rng.randint(0, 59))
                assessments.append(
                    [
                        aid,
                        hid,
                        "QD6858",
                        kind,
                        assessed_on,
                        "Tổ QLCL" if kind == "self" else "Đoàn Sở Y tế",
                        "approved",
                        updated,
                    ]
                )
                for criterion in criteria:
                    code = criterion["code"]
                    if code.startswith("E1") and not obstetrics:
                        continue
                    if code == "E2.1" and not pediatrics:
                        continue
                    target = max(1, min(5, round(rng.gauss(base + bias, 0.8))))
                    for level, count in enumerate(items_per_level, start=1):
                        for n in range(1, count + 1):
                            result = _item_result(rng, level, target)
                            note = (
                                "Chưa có minh chứng"
                                if result == "not_met" and rng.random() < 0.05
                                else None
                            )
                            findings.append(
                                [
                                    _uid(rng),
                                    aid,
                                    f"{code}-{level}.{n}",
                                    RESULT_WORDS[result],
                                    note,
                                    f"Findings_Images/{aid}.{code}.jpg"
                                    if result == "met" and rng.random() < 0.02
                                    else None,
                                    updated,
                                ]
                            )
        # TT 35 is assessed once a year, by the council.
        if year == PERIODS[-1]:
            for hid, *_ in chosen:
                aid = _uid(rng)
                day = date(year, 12, rng.randint(1, 20))
                assessments.append(
                    [
                        aid,
                        hid,
                        "TT35",
                        "council",
                        day,
                        "Đoàn Sở Y tế",
                        "submitted",
                        datetime(year, 12, day.day, 10, 0),
                    ]
                )
                failing = set(rng.sample(tt35, k=rng.choice((0, 0, 0, 1, 2))))
                for code in tt35:
                    result = "not_met" if code in failing else "met"
                    if code.startswith("1.7") and hid in ("BV05", "BV11"):
                        result = "na"  # no radiology equipment
                    findings.append(
                        [
                            _uid(rng),
                            aid,
                            code,
                            RESULT_WORDS[result],
                            None,
                            None,
                            datetime(year, 12, day.day, 10, 0),
                        ]
                    )
    _add_bad_rows(rng, hospitals, assessments, findings)
    return {"Hospitals": hospitals, "Assessments": assessments, "Findings": findings}


def _item_result(rng: random.Random, level: int, target: int) -> str:
    if rng.random() < 0.015 and level > 1:
        return "na"
    if level == 1:
        return "met" if target > 1 else ("not_met" if rng.random() < 0.5 else "met")
    if level <= target:
        return "met"
    if level == target + 1:
        return "met" if rng.random() < 0.6 else "not_met"
    return "met" if rng.random() < 0.25 else "not_met"


def _add_bad_rows(
    rng: random.Random,
    hospitals: list[list[CellValue]],
    assessments: list[list[CellValue]],
    findings: list[list[CellValue]],
) -> None:
    """A few rows an inspector got wrong, so the Data issues tab has something to show."""
    first = assessments[1][0]
    stamp = datetime(2025, 12, 1, 9, 0)
    assessments.append(
        [_uid(rng), "BV99", "QD6858", "self", date(2025, 10, 1), "Tổ QLCL", "submitted", stamp]
    )  # unknown hospital
    findings.append([_uid(rng), first, "A1.1-2.1", "có lẽ", None, None, stamp])  # bad word
    findings.append([_uid(rng), first, "Z9.9-1.1", "Đạt", None, None, stamp])  # unknown item
    findings.append([_uid(rng), first, "A1.2-2.1", "#REF!", None, None, stamp])  # formula err
    findings.append([findings[1][0], first, "A1.1-3.1", "Đạt", None, None, stamp])  # dup key
    hospitals.append(
        [None, "Phòng khám chưa có mã", "Ninh Kiều", "private", "không", "không", True]
    )  # missing key


def write_demo_source(
    path: Path,
    seed: int = 6858,
    hospital_count: int = len(HOSPITALS),
    items_per_level: tuple[int, ...] = ITEMS_PER_LEVEL,
) -> None:
    """Write the seeded source workbook, byte-identical for the same arguments."""
    from hqsync.sync.xlsx import write_source_workbook

    write_source_workbook(path, build_source_tabs(seed, hospital_count, items_per_level))


def run_demo(
    directory: Path,
    seed: int = 6858,
    language: str = "vi",
    hospital_count: int = len(HOSPITALS),
    items_per_level: tuple[int, ...] = ITEMS_PER_LEVEL,
) -> str:
    """Write the demo files, run one full cycle, and return a summary for the terminal."""
    from hqsync.config.settings import load_settings
    from hqsync.jobs.pipeline import Pipeline
    from hqsync.models.store import open_store

    files = demo_files(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files.config.write_text(demo_config(language), encoding="utf-8")
    write_demo_source(files.source, seed, hospital_count, items_per_level)
    settings = load_settings(files.config, environ={})
    engine = open_store(settings.database.url)
    try:
        pipeline = Pipeline(settings, engine)
        result = pipeline.run_cycle(publish_always=True)
        from hqsync.jobs.export import scores_json

        records = scores_json(engine, pipeline.rule_sets)
    finally:
        engine.dispose()
    if result.failed:
        from hqsync.config.errors import HqsyncError

        problems = [*result.sync.errors.values(), result.score_error, result.publish_error]
        raise HqsyncError("demo cycle failed: " + "; ".join(p for p in problems if p))
    return _summary_text(files, records)


def _summary_text(files: DemoFiles, records: list[dict[str, Any]]) -> str:
    from rich.console import Console
    from rich.table import Table as RichTable

    latest: dict[tuple[str, str], dict[str, Any]] = {}
    for record in records:
        if record["standard"] != "QD6858" or record["kind"] != "council":
            continue
        key = (record["hospital_id"], record["standard"])
        if key not in latest or (record["assessed_on"] or "") > (latest[key]["assessed_on"] or ""):
            latest[key] = record
    tt35 = {r["hospital_id"]: r for r in records if r["standard"] == "TT35"}
    table = RichTable(title="QĐ 6858 — latest council assessment per hospital")
    for header in ("rank", "hospital", "score", "change", "band", "TT 35"):
        table.add_column(header)
    ordered = sorted(latest.values(), key=lambda r: (r["rank"] or 999, r["hospital_id"]))
    for record in ordered:
        basic = tt35.get(record["hospital_id"])
        table.add_row(
            str(record["rank"] or "-"),
            str(record["hospital_name"] or record["hospital_id"]),
            f"{record['score']:.2f}" if record["score"] is not None else "-",
            f"{record['change']:+.2f}" if record["change"] is not None else "-",
            str(record["band"] or "-"),
            "-" if basic is None else ("pass" if basic["passed"] else "fail"),
        )
    console = Console(file=io.StringIO(), width=110, force_terminal=False)
    console.print(table)
    console.print(f"{len(records)} assessments scored.")
    console.print(f"config:    {files.config}")
    console.print(f"source:    {files.source}")
    console.print(f"database:  {files.database}")
    console.print(f"dashboard: {files.dashboard}")
    console.print(f"next: hqsync scores --config {files.config} --format json")
    output = console.file
    assert isinstance(output, io.StringIO)
    return output.getvalue()
