"""The fault suite of issue 13: kills, hostile cells, Google faults, bad config, leaked secrets.

Run by hand at full scale (`python -m tests.faults.run_faults`), or small in CI through
`tests/faults/test_faults_small.py`. It prints ONE table; every figure in the `bad` column
must be 0 (the exit status is 1 otherwise).
"""

from __future__ import annotations

import argparse
import random
import re
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import sqlalchemy as sa
from openpyxl import load_workbook

from hqsync.jobs.demo import build_source_tabs
from tests.conftest import pg_available, pg_base_url
from tests.faults.deploy import (
    HQSYNC,
    SECRET_PASSWORD,
    SMALL,
    Deployment,
    Row,
    Suite,
    change_source,
    deployment,
)
from tests.faults.google_faults import google_faults
from tests.faults.kills import google_dashboard, google_publish_kills, kill_trials

# ------------------------------------------------------------------------------------------
# Hostile cells

CONTROLS = "".join(chr(c) for c in [*range(0, 9), 11, 12, *range(14, 32), 127, *range(128, 160)])
FORMULAS = ('=HYPERLINK("http://evil","x")', "+1+1", "-2+3", "@SUM(A1)", "=1+1")


def hostile_tabs(rng: random.Random) -> tuple[dict[str, list[list[object]]], set[str], int]:
    """The demo source with hostile cells; the keys of the rows made bad (as typed and as they
    were); how many more rows must be rejected than in the demo source."""
    tabs = build_source_tabs(**SMALL)
    hospitals, assessments, findings = tabs["Hospitals"], tabs["Assessments"], tabs["Findings"]
    hospitals[1][1] = FORMULAS[0] + CONTROLS + "_x0001_"  # a name: the Trend tab's header
    hospitals[2][1] = FORMULAS[1]
    hospitals[1][2] = FORMULAS[2] + "\x00"  # district
    assessments[1][5] = FORMULAS[3] + CONTROLS  # assessor
    findings[1][4] = "\x00note with a NUL" + CONTROLS  # note
    findings[2][4] = "x" * 100_000  # 100k characters
    findings[3][4] = FORMULAS[4]
    findings[4][5] = FORMULAS[0]  # evidence
    rejected = 0
    for index in (5, 6):
        findings[index][0] = "K" * 300  # a key longer than the store holds
        rejected += 1
    findings[7][0] = "key_x0000_with-nul"  # a NUL as Excel escapes it (XML cannot hold one)
    rejected += 1
    findings[8][1] = "A" * 300  # a reference longer than the store holds
    rejected += 1
    bad = {str(findings[i][0]) for i in (5, 6, 7, 8)} | {
        str(build_source_tabs(**SMALL)["Findings"][i][0]) for i in (5, 6, 7, 8)
    }
    return tabs, bad, rejected


def _with_stray_cell(path: Path) -> None:
    """Put an `x` in column XFD of the findings tab, as a slip of the hand would."""
    workbook = load_workbook(path)
    workbook["Findings"]["XFD7"] = "x"
    workbook["Findings"]["XFD1"] = FORMULAS[0]
    workbook.save(path)


def hostile_cells(suite: Suite, backend: str, rng: random.Random) -> None:
    """Sync, score and publish a source full of hostile cells (xlsx and Google dashboards)."""
    failed = suite.row(backend, "hostile cells: sources failed")
    lost = suite.row(backend, "hostile cells: good rows lost")
    wrong = suite.row(backend, "hostile cells: bad rows not rejected")
    formulas = suite.row(backend, "hostile cells: formula cells written (xlsx, Google)")
    tracebacks = suite.row(backend, "hostile cells: tracebacks")
    tabs, bad, rejected = hostile_tabs(rng)
    with deployment(backend) as clean:  # the demo source as it is: its own rejections
        clean.run("sync")
        engine = clean.engine()
        try:
            with engine.connect() as conn:
                good = {r[0] for r in conn.execute(sa.text("SELECT finding_id FROM findings"))}
                rejected += conn.execute(
                    sa.text("SELECT count(*) FROM rejected_rows WHERE tab='Findings'")
                ).one()[0]
        finally:
            engine.dispose()
        good -= bad
    with deployment(backend, tabs) as dep:
        _with_stray_cell(dep.folder / "source.xlsx")
        result = dep.run("run", "--once")
        suite.seen += [result.stdout, result.stderr]
        tracebacks.bad += "Traceback" in result.stdout + result.stderr
        engine = dep.engine()
        try:
            with engine.connect() as conn:
                failed.bad += conn.execute(
                    sa.text("SELECT count(*) FROM runs WHERE outcome='failed'")
                ).one()[0]
                stored = {r[0] for r in conn.execute(sa.text("SELECT finding_id FROM findings"))}
                rejections = conn.execute(
                    sa.text("SELECT count(*) FROM rejected_rows WHERE tab='Findings'")
                ).one()[0]
        finally:
            engine.dispose()
        lost.bad += len(good - stored)
        wrong.bad += abs(rejected - rejections) + len(stored - good)
        formulas.bad += xlsx_formulas(dep.folder / "dashboard.xlsx")
        formulas.bad += google_formulas(dep, suite)
        for row in (failed, lost, wrong, formulas, tracebacks):
            row.trials += 1


def xlsx_formulas(path: Path) -> int:
    """`<f>` elements in the workbook: formulas, which no dashboard cell may be."""
    with zipfile.ZipFile(path) as archive:
        return sum(
            len(re.findall(rb"<(?:\w+:)?f[ >]", archive.read(name)))
            for name in archive.namelist()
            if name.startswith("xl/worksheets/")
        )


def google_formulas(dep: Deployment, suite: Suite) -> int:
    """Publish the stored dashboard to the Google fake; count the formulas it received (and
    a publish that failed as one more)."""
    from hqsync.config.settings import load_settings
    from hqsync.jobs.pipeline import Pipeline
    from hqsync.models.store import open_store
    from tests.fake_google import FakeGoogle, google_settings, mocked, service_account_key

    fake = FakeGoogle()
    writer = "writer@hqsync-test.iam.gserviceaccount.com"
    with mocked(fake):
        key = service_account_key(fake, dep.folder / "key.json", writer)
        sid = fake.create_spreadsheet("dashboard")
        fake.share(sid, writer, "writer")
        google = google_settings(fake, key)
        config = google_dashboard(
            (dep.folder / "hqsync.toml").read_text(encoding="utf-8"),
            sid,
            key,
            google.sheets_endpoint,
            google.drive_endpoint,
        )
        (dep.folder / "google.toml").write_text(config, encoding="utf-8")
        settings = load_settings(
            dep.folder / "google.toml", environ={"HQSYNC_DATABASE_URL": dep.url}
        )
        engine = open_store(settings.database.url)
        try:
            Pipeline(settings, engine).publish()
        except Exception as exc:  # counted, not raised: the table is the point
            suite.seen.append(f"{type(exc).__name__}: {exc}")
            return 1
        finally:
            engine.dispose()
        return sum(
            "formulaValue" in str(cell.get("userEnteredValue", {}))
            for tab in fake.tabs(sid)
            for cell in fake.sheet(sid, tab).cells.values()
        )


# ------------------------------------------------------------------------------------------
# Bad config and bad paths; two one-shot syncs at once


def config_matrix(suite: Suite, backend: str) -> None:
    """Mistakes ops make: each ends in one line and its documented exit code."""
    tracebacks = suite.row(backend, "bad config/paths: tracebacks")
    codes = suite.row(backend, "bad config/paths: exit codes not as documented")
    with deployment(backend) as dep:
        blocker = dep.folder / "afile"
        blocker.write_text("x")
        cases: list[tuple[str, Callable[[str], str], dict[str, str], Sequence[str], int]] = [
            (
                "postgres:// URL",
                lambda c: c,
                {"HQSYNC_DATABASE_URL": "postgres://u:p@h/db"},
                ["sync"],
                2,
            ),
            ("bare path URL", lambda c: c, {"HQSYNC_DATABASE_URL": "/tmp/x.db"}, ["status"], 2),
            ("mistyped variable", lambda c: c, {"HQSYNC_DATABSE_URL": dep.url}, ["status"], 2),
            ("unknown key", lambda c: c + "\n[database]\nurll = 1\n", {}, ["check"], 2),
            (
                "dashboard under a file",
                lambda c: c.replace('"dashboard.xlsx"', '"afile/dashboard.xlsx"'),
                {},
                ["run", "--once"],
                1,
            ),
            (
                "missing source workbook",
                lambda c: c.replace('"source.xlsx"', '"missing.xlsx"'),
                {},
                ["sync"],
                1,
            ),
            (
                "store missing (status)",
                lambda c: c,
                {"HQSYNC_DATABASE_URL": _missing(dep)},
                ["status"],
                1,
            ),
        ]
        base = (dep.folder / "hqsync.toml").read_text(encoding="utf-8")
        for _name, edit, env, args, expected in cases:
            (dep.folder / "case.toml").write_text(edit(base), encoding="utf-8")
            result = subprocess.run(
                [HQSYNC, *args, "--config", str(dep.folder / "case.toml")],
                cwd=dep.folder,
                env={**dep.env(), **env},
                capture_output=True,
                check=False,
                text=True,
                timeout=120,
            )
            suite.seen += [result.stdout, result.stderr]
            tracebacks.bad += "Traceback" in result.stdout + result.stderr
            if result.returncode != expected:
                codes.bad += 1
                codes.notes.append(f"{_name}: exit {result.returncode}, want {expected}")
            tracebacks.trials += 1
            codes.trials += 1


def _missing(dep: Deployment) -> str:
    if dep.url.startswith("sqlite"):
        return f"sqlite:///{dep.folder}/nowhere/store.db"
    return dep.url.replace("search_path%3D", "search_path%3Dmissing_")


def concurrent_syncs(suite: Suite, backend: str, count: int, rng: random.Random) -> None:
    """Two one-shot `sync --force` at once, while a daemon syncs the same source every second:
    no change recorded twice (a finding's history never holds the same change twice in a row)."""
    duplicates = suite.row(backend, "two one-shot syncs and a daemon: duplicate history rows")
    tracebacks = suite.row(backend, "two one-shot syncs and a daemon: failed or traceback")
    with deployment(backend, environ={"HQSYNC_SCHEDULE_SYNC_EVERY": "1s"}) as dep:
        dep.run("sync")
        daemon = dep.start("run")
        outputs: list[str] = []
        try:
            for _ in range(count):
                change_source(dep, rng)
                first, second = dep.start("sync", "--force"), dep.start("sync", "--force")
                for process in (first, second):
                    outputs.append(process.communicate(timeout=300)[0] or "")
                    tracebacks.bad += process.returncode != 0
                    tracebacks.trials += 1
                duplicates.trials += 1
            time.sleep(3)  # one more cycle of the daemon on the last change
        finally:
            daemon.send_signal(signal.SIGTERM)
            outputs.append(daemon.communicate(timeout=300)[0] or "")
        tracebacks.bad += daemon.returncode != 0
        tracebacks.trials += 1
        tracebacks.bad += sum("Traceback" in text for text in outputs)
        suite.seen += outputs
        engine = dep.engine()
        try:
            with engine.connect() as conn:
                duplicates.bad += conn.execute(sa.text(_REPEATED_CHANGES)).one()[0]
        finally:
            engine.dispose()


_REPEATED_CHANGES = """
SELECT count(*) FROM (
    SELECT id, old_result, new_result,
           lag(id) OVER w AS prev_id, lag(old_result) OVER w AS prev_old,
           lag(new_result) OVER w AS prev_new
    FROM finding_changes WINDOW w AS (PARTITION BY source, finding_id ORDER BY id)
) c
WHERE prev_id IS NOT NULL AND coalesce(old_result, '') = coalesce(prev_old, '')
  AND coalesce(new_result, '') = coalesce(prev_new, '')
"""
"""History rows that repeat the finding's previous change: recorded twice."""


# ------------------------------------------------------------------------------------------
# Secrets, the table, main

_KEY_BODY = re.compile(r"MII[A-Za-z0-9+/]{40,}")
_TOKEN = re.compile(r"\bya29\.[A-Za-z0-9._-]{8,}|\beyJ[A-Za-z0-9_-]{20,}\.")


def scan_secrets(suite: Suite) -> None:
    """Every text the suite saw, searched for the password, private keys and tokens."""
    leaks = suite.row("all", "secrets printed or stored (password, key, token)")
    for text in suite.seen:
        leaks.trials += 1
        leaks.bad += (
            SECRET_PASSWORD in text
            or _KEY_BODY.search(text) is not None
            or _TOKEN.search(text) is not None
        )


def secret_trials(suite: Suite, backend: str) -> None:
    """A store URL holding a password: its messages and the run log never show it."""
    if backend == "sqlite":
        url = f"postgresql+psycopg://hq:{SECRET_PASSWORD}@127.0.0.1:1/db"
    else:
        url = pg_base_url().replace("postgres@", f"postgres:{SECRET_PASSWORD}@")
    with deployment(backend) as dep:
        for args in (["status"], ["status", "--format", "json"], ["sync"], ["check"]):
            result = subprocess.run(
                [HQSYNC, *args, "--config", str(dep.folder / "hqsync.toml")],
                cwd=dep.folder,
                env={**dep.env(), "HQSYNC_DATABASE_URL": url},
                capture_output=True,
                check=False,
                text=True,
                timeout=120,
            )
            suite.seen += [result.stdout, result.stderr]
        engine = dep.engine()
        try:
            with engine.connect() as conn:
                suite.seen += [str(r[0]) for r in conn.execute(sa.text("SELECT error FROM runs"))]
        except sa.exc.SQLAlchemyError:
            pass
        finally:
            engine.dispose()


def render(rows: Sequence[Row]) -> str:
    """The table: backend, what, trials, bad (must be 0)."""
    width = max(len(r.what) for r in rows)
    lines = [f"{'backend':<10} {'what':<{width}} {'trials':>6} {'bad':>4}"]
    lines.append("-" * len(lines[0]))
    for r in rows:
        lines.append(f"{r.backend:<10} {r.what:<{width}} {r.trials:>6} {r.bad:>4}")
        lines += [f"{'':<10}   ! {note}" for note in r.notes[:5]]
    return "\n".join(lines)


SECTIONS = ("kill", "cells", "concurrent", "config", "secrets", "google")


def run(
    *,
    syncs: int,
    scores: int,
    publishes: int,
    concurrent: int,
    backends: Sequence[str],
    seed: int = 13,
    sections: Sequence[str] = SECTIONS,
) -> list[Row]:
    """Run the suite (or the named `sections` of it); the rows of its table."""
    rng = random.Random(seed)
    suite = Suite()
    for backend in backends:
        if "kill" in sections:
            kill_trials(suite, backend, "sync", syncs, rng)
            kill_trials(suite, backend, "score", scores, rng)
            kill_trials(suite, backend, "publish", publishes, rng)
            google_publish_kills(suite, backend, publishes, rng)
        if "cells" in sections:
            hostile_cells(suite, backend, rng)
        if "concurrent" in sections:
            concurrent_syncs(suite, backend, concurrent, rng)
        if "config" in sections:
            config_matrix(suite, backend)
        if "secrets" in sections:
            secret_trials(suite, backend)
    if "google" in sections:
        google_faults(suite)
    scan_secrets(suite)
    return suite.rows


def main(argv: Sequence[str] | None = None) -> int:
    """Run the suite at the scale asked for, print the table; 1 when any figure is not 0."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--syncs", type=int, default=50)
    parser.add_argument("--scores", type=int, default=10)
    parser.add_argument("--publishes", type=int, default=20)
    parser.add_argument("--concurrent", type=int, default=5)
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--backend", action="append", choices=("sqlite", "postgresql"))
    parser.add_argument("--section", action="append", choices=SECTIONS)
    args = parser.parse_args(argv)
    backends = args.backend or ["sqlite"] + (["postgresql"] if pg_available() else [])
    rows = run(
        syncs=args.syncs,
        scores=args.scores,
        publishes=args.publishes,
        concurrent=args.concurrent,
        backends=backends,
        seed=args.seed,
        sections=args.section or SECTIONS,
    )
    print(render(rows))
    return 1 if any(r.bad for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
