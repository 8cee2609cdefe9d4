"""Issue 13: bad cells are rows' problems, never the source's; no field text becomes a formula;
atomic replaces keep the target's mode; temp files of killed writes are cleared."""

from __future__ import annotations

import os
import re
import stat
import time
import zipfile
from pathlib import Path

import pytest
from openpyxl import Workbook

from hqsync.config.errors import DashboardError, RuleSetError
from hqsync.config.ruleset_loader import load_rule_set_file
from hqsync.config.utils import CUT_MARKER, fit_text, neutralise_formula, without_controls
from hqsync.sync.dashboard.document import Column, Dashboard, Table
from hqsync.sync.dashboard.guard import XLSX_CELL_LIMIT, safe_text
from hqsync.sync.xlsx import XlsxDashboardWriter, XlsxSourceReader, replace_atomically

pytestmark = pytest.mark.filterwarnings("error::pytest.PytestUnraisableExceptionWarning")

CONTROLS = [chr(c) for c in [*range(0, 9), 11, 12, *range(14, 32), 127, *range(128, 160)]]


@pytest.mark.parametrize("control", [*CONTROLS, "_x0001_", "_x001F_", "_x007f_", "_x0085_"])
def test_every_control_character_is_removed(control: str) -> None:
    assert without_controls(f"a{control}b") == "ab"
    assert without_controls(f"a{control}b", "\ufffd") == "a\ufffdb"


@pytest.mark.parametrize("kept", ["\t", "\n", "\r", "_x0041_", "Bệnh viện", "x_y"])
def test_tab_newline_and_text_are_kept(kept: str) -> None:
    assert without_controls(kept) == kept


@pytest.mark.parametrize(
    ("text", "limit", "cut"), [("abc", 3, False), ("x" * 100_000, 50_000, True), ("", 1, False)]
)
def test_text_is_cut_to_the_limit_with_a_marker(text: str, limit: int, cut: bool) -> None:
    fitted = fit_text(text, limit)
    assert len(fitted) <= limit
    assert fitted.endswith(CUT_MARKER) is cut


@pytest.mark.parametrize(
    ("text", "safe"),
    [("=1+1", "'=1+1"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"), ("a=b", "a=b")],
)
def test_csv_text_never_starts_like_a_formula(text: str, safe: str) -> None:
    assert neutralise_formula(text) == safe


def _dashboard(header: str, cell: str) -> Dashboard:
    table = Table("trend", "Trend", (Column("Năm"), Column(header)), (("2026", cell),))
    return Dashboard((table,))


def test_hostile_headers_and_cells_make_a_valid_workbook_without_formulas(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    header = '=HYPERLINK("http://evil","x")' + "".join(CONTROLS)
    XlsxDashboardWriter(path).publish(_dashboard(header, "@SUM(A1)\x00" + "y" * 40_000))
    with zipfile.ZipFile(path) as archive:
        xml = archive.read("xl/worksheets/sheet1.xml")
    assert not re.search(rb"<f[ >]", xml)
    rows = XlsxSourceReader(path).read(["Trend"]).tabs["Trend"].rows
    assert rows[0][1] == safe_text(header, XLSX_CELL_LIMIT)
    assert rows[1][1].startswith("@SUM(A1)\ufffd") and rows[1][1].endswith(CUT_MARKER)


def test_a_stray_cell_far_to_the_right_is_ignored_not_an_abort(tmp_path: Path) -> None:
    path = tmp_path / "source.xlsx"
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Findings"
    sheet.append(["finding_id", "note"])
    for i in range(2000):
        sheet.append([f"F{i}", "n"])
    sheet["XFD1500"] = "x"
    workbook.save(path)
    rows = XlsxSourceReader(path).read(["Findings"]).tabs["Findings"].rows
    assert len(rows) == 2001
    assert max(map(len, rows)) == 2


def test_a_replace_keeps_the_mode_of_the_file_it_replaces(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    writer = XlsxDashboardWriter(path)
    writer.publish(_dashboard("a", "b"))
    umask = os.umask(0)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    path.chmod(0o640)
    writer.publish(_dashboard("a", "c"))
    assert stat.S_IMODE(path.stat().st_mode) == 0o640


def test_temporaries_of_a_killed_publish_are_removed_by_the_next(tmp_path: Path) -> None:
    path = tmp_path / "dashboard.xlsx"
    dead = tmp_path / ".dashboard.xlsx.999999999.abcd1234.tmp"  # no such process
    old = tmp_path / ".dashboard.xlsx.zz_9ab12.tmp"
    fresh = tmp_path / f".dashboard.xlsx.{os.getpid()}.live.tmp"
    other = tmp_path / ".other.xlsx.1.x.tmp"
    for file in (dead, old, fresh, other):
        file.write_text("partial")
    os.utime(old, (time.time() - 600, time.time() - 600))
    XlsxDashboardWriter(path).publish(_dashboard("a", "b"))
    assert not dead.exists() and not old.exists()
    assert fresh.exists() and other.exists()


def test_a_parent_path_that_is_a_file_is_one_dashboard_error(tmp_path: Path) -> None:
    (tmp_path / "afile").write_text("x")
    with pytest.raises(DashboardError, match="is a file, not a folder"):
        XlsxDashboardWriter(tmp_path / "afile" / "d.xlsx").publish(_dashboard("a", "b"))


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes to any folder")
def test_an_unwritable_folder_is_one_dashboard_error(tmp_path: Path) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o500)
    try:
        with pytest.raises(DashboardError, match="writable"):
            replace_atomically(folder / "d.xlsx", lambda name: None, error=DashboardError)
    finally:
        folder.chmod(0o700)


RULESETS = Path(__file__).resolve().parents[2] / "config" / "rulesets"


def _rule_set(tmp_path: Path, standards: str) -> Path:
    for name in ("jci-demo.toml", "jci-demo-elements.csv"):
        (tmp_path / name).write_bytes((RULESETS / name).read_bytes())
    (tmp_path / "jci-demo-standards.csv").write_text(standards, encoding="utf-8")
    return tmp_path / "jci-demo.toml"


@pytest.mark.parametrize(
    ("standards", "message"),
    [
        (
            "code,chapter,chapter_title,title\nIPSG.1,IPSG,Goals,Identify,EXTRA\n",
            r"jci-demo-standards.csv row 2: 1 field\(s\) more",
        ),
        ("code,chapter,chapter_title,title,weight\nIPSG.1,IPSG,G,I,inf\n", "row 2.*'weight'"),
        ("code,chapter,chapter_title,title,weight\nIPSG.1,IPSG,G,I,nan\n", "row 2.*'weight'"),
    ],
)
def test_a_bad_rule_set_csv_row_is_a_rule_set_error(
    tmp_path: Path, standards: str, message: str
) -> None:
    with pytest.raises(RuleSetError, match=message):
        load_rule_set_file(_rule_set(tmp_path, standards))
