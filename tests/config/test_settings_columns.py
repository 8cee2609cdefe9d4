"""`[[sources]] locale` and `[sources.columns.<tab>]`: an AppSheet sheet mapped, never renamed."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from hqsync.config.errors import ConfigError
from hqsync.config.settings import (
    SourceSettings,
    load_settings,
    settings_from_mapping,
)
from hqsync.config.source_columns import parse_source_columns, parse_source_locale

ISSUE_EXAMPLE = """
[[sources]]
name = "cantho"
backend = "google"
spreadsheet = "1AbC"
tabs = { hospitals = "Bệnh viện", assessments = "Đợt đánh giá", findings = "Chi tiết đánh giá" }
locale = "en_US"

[sources.columns.findings]
finding_id = "Row ID"
assessment_id = "Đợt đánh giá"
result = "Đánh giá"
evidence = "Ảnh"
updated_at = "Last Modified"
"""

SOURCE = "[[sources]]\nname = 'cantho'\nbackend = 'xlsx'\nspreadsheet = 'a.xlsx'\n"


def source_from(text: str) -> SourceSettings:
    (source,) = settings_from_mapping(tomllib.loads(text), {}, base_dir=Path("/tmp")).sources
    return source


def test_the_issue_example_loads(tmp_path: Path):
    path = tmp_path / "hqsync.toml"
    path.write_text(ISSUE_EXAMPLE, encoding="utf-8")
    source = load_settings(path, environ={}).source("cantho")
    assert source.locale == "en_US"
    assert dict(source.columns) == {
        "findings": {
            "finding_id": "Row ID",
            "assessment_id": "Đợt đánh giá",
            "result": "Đánh giá",
            "evidence": "Ảnh",
            "updated_at": "Last Modified",
        }
    }


def test_unset_means_no_locale_and_no_columns():
    source = source_from(SOURCE)
    assert source.locale is None
    assert dict(source.columns) == {}
    assert source == SourceSettings("cantho", "xlsx", "/tmp/a.xlsx")


def test_columns_of_every_tab_and_inline_tables():
    source = source_from(
        SOURCE
        + "[sources.columns.hospitals]\nhospital_id = 'Row ID'\nname = ' Tên BV '\n"
        + "[sources.columns.assessments]\nassessment_id = 'Row ID'\nhospital_id = 'Bệnh viện'\n"
        + "[sources.columns.findings]\nfinding_id = 'Row ID'\n"
    )
    assert dict(source.columns["hospitals"]) == {"hospital_id": "Row ID", "name": "Tên BV"}
    assert source.columns["assessments"]["hospital_id"] == "Bệnh viện"
    assert source.columns["findings"] == {"finding_id": "Row ID"}
    inline = source_from(SOURCE + "columns = { findings = { result = 'Đánh giá' } }\n")
    assert inline.columns == {"findings": {"result": "Đánh giá"}}


def test_columns_are_immutable_and_the_settings_hashable():
    source = source_from(SOURCE + "[sources.columns.findings]\nresult = 'Đánh giá'\n")
    with pytest.raises(TypeError):
        source.columns["hospitals"] = {}  # type: ignore[index]
    with pytest.raises(TypeError):
        source.columns["findings"]["note"] = "Ghi chú"  # type: ignore[index]
    assert hash(source) == hash(source_from(SOURCE + "[sources.columns.findings]\nresult = 'x'\n"))
    assert source != source_from(SOURCE + "[sources.columns.findings]\nresult = 'x'\n")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("en_US", "en_US"),
        ("vi_VN", "vi_VN"),
        ("en_GB", "en_GB"),
        ("en-us", "en_US"),
        ("  EN_au ", "en_AU"),
        ("fr", "fr"),
        ("es_419", "es_419"),
        (None, None),
    ],
)
def test_locale_names(value, expected):
    assert parse_source_locale(value, "sources[x].locale") == expected


@pytest.mark.parametrize("value", ["", "english", "en_USA", "en US", "vi_VN.UTF-8", 7, True])
def test_bad_locales_name_the_key(value):
    with pytest.raises(ConfigError, match=r"sources\[x\]\.locale") as caught:
        parse_source_locale(value, "sources[x].locale")
    assert "en_US" in str(caught.value)


def test_bad_locale_in_a_file_names_the_source():
    with pytest.raises(ConfigError, match=r"sources\[cantho\]\.locale"):
        source_from(SOURCE + "locale = 'American'\n")


@pytest.mark.parametrize(
    ("tables", "key"),
    [
        ("columns = 'Row ID'\n", "sources[cantho].columns"),
        ("[sources.columns.photos]\nimage = 'Ảnh'\n", "sources[cantho].columns.photos"),
        ("[sources.columns]\nfindings = 'Row ID'\n", "sources[cantho].columns.findings"),
        ("[sources.columns.findings]\nresult = ''\n", "sources[cantho].columns.findings.result"),
        ("[sources.columns.findings]\nresult = '  '\n", "sources[cantho].columns.findings.result"),
        ("[sources.columns.findings]\nresult = '—'\n", "sources[cantho].columns.findings.result"),
        ("[sources.columns.findings]\nresult = 3\n", "sources[cantho].columns.findings.result"),
        (
            "[sources.columns.findings]\nresult = ['Đánh giá']\n",
            "sources[cantho].columns.findings.result",
        ),
        (
            "[sources.columns.findings]\n'Kết quả' = 'Đánh giá'\n",
            "sources[cantho].columns.findings.Kết quả",
        ),
        (
            "[sources.columns.findings]\nresult = { header = 'x' }\n",
            "sources[cantho].columns.findings.result",
        ),
    ],
)
def test_bad_columns_name_the_key(tables, key):
    with pytest.raises(ConfigError) as caught:
        source_from(SOURCE + tables)
    assert key in str(caught.value)


@pytest.mark.parametrize(
    "second",
    ["Row ID", "row id", "ROW  ID", "Row_ID", " Row-ID "],
)
def test_one_header_for_two_fields_is_rejected(second):
    with pytest.raises(ConfigError) as caught:
        source_from(
            SOURCE + f"[sources.columns.findings]\nfinding_id = 'Row ID'\nnote = '{second}'\n"
        )
    message = str(caught.value)
    assert "sources[cantho].columns.findings.note" in message
    assert "sources[cantho].columns.findings.finding_id" in message


def test_one_header_in_two_tabs_is_fine():
    source = source_from(
        SOURCE
        + "[sources.columns.hospitals]\nhospital_id = 'Row ID'\n"
        + "[sources.columns.assessments]\nassessment_id = 'Row ID'\n"
    )
    assert source.columns["hospitals"]["hospital_id"] == "Row ID"
    assert source.columns["assessments"]["assessment_id"] == "Row ID"


def test_field_names_are_checked_later_by_the_ingest_layer():
    # settings cannot know the sheet contract (it must not import hqsync.sync): any field name
    # shaped like one passes here and is checked against the contract when the source is read.
    columns = parse_source_columns({"findings": {"reslt": "Đánh giá"}}, "sources[x].columns")
    assert columns == {"findings": {"reslt": "Đánh giá"}}


def test_settings_does_not_import_sync():
    import subprocess
    import sys

    code = (
        "import sys, hqsync.config.settings\n"
        "bad = [m for m in sys.modules if m.startswith('hqsync.sync')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
