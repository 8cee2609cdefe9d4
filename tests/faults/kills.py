"""SIGKILL at random moments, and right after a job commits (see run_faults).

After every kill the next run of the same job must find a store that is as before the killed
run or as a whole run leaves it, no run left `running`, no temporary file or staging tab left,
and a dashboard (xlsx, or Google through the fake over HTTP) that is the old one or the new one.
"""

from __future__ import annotations

import json
import random
import signal
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from openpyxl import load_workbook

from tests.faults.deploy import (
    HQSYNC,
    Deployment,
    Snapshot,
    Suite,
    change_source,
    deployment,
    differing,
    running_runs,
    snapshot,
    temp_files,
    without_run_clock,
)

if TYPE_CHECKING:
    from tests.fake_google import FakeGoogle

KILL_LEASE_S = "10"
"""The writer lease of the kill deployments: a killed command holds it until it runs out,
and the next command waits that long (the default 60 s would make the suite crawl)."""
STAGED = (sys.executable, "-m", "tests.faults.staged_hqsync")
COMMITTED = "committed"
"""The kill moment right after the job's run is recorded as finished (its data committed)."""
RANDOM = "random"
BETWEEN = "between requests"
"""The kill moment right after Google applied one of the requests of a staged publish (sent
by the fake's write observer, so it lands between two requests whatever the load)."""

Moment = str
View = tuple[tuple[str, tuple[tuple[tuple[int, int], str], ...]], ...]


def moments(count: int, rng: random.Random) -> list[Moment]:
    """The kill moments of `count` trials: the first right after the commit (the moment a
    random kill rarely hits, and the one that once flagged), then random ones."""
    del rng  # the random moments draw their delay when they happen
    return [COMMITTED if i == 0 else RANDOM for i in range(count)]


def kill(
    dep: Deployment,
    args: Sequence[str],
    rng: random.Random,
    span: float,
    moment: Moment,
    *,
    command: Sequence[str] = (HQSYNC,),
    started: Callable[[subprocess.Popen[str]], None] = lambda process: None,
) -> str:
    """Start `args`, SIGKILL it at `moment` (after a random delay within `span` seconds,
    right after its run is recorded as finished, or when `started`, told of the process,
    kills it between requests); its output."""
    engine = dep.engine()
    try:
        last = _last_run(engine)
        process = dep.start(*args, command=command)
        started(process)
        if moment == RANDOM:
            time.sleep(rng.uniform(0.05, span))
        elif moment == BETWEEN:
            process.wait(timeout=300)
        else:
            deadline = time.monotonic() + 300
            while process.poll() is None and time.monotonic() < deadline:
                if _finished_since(engine, last, args[0]):
                    break
                time.sleep(0.005)
        process.send_signal(signal.SIGKILL)
        output, _ = process.communicate(timeout=60)
    finally:
        engine.dispose()
    return output or ""


def _last_run(engine: sa.Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT coalesce(max(id), 0) FROM runs")).one()[0])


def _finished_since(engine: sa.Engine, last: int, job: str) -> bool:
    with engine.connect() as conn:
        found = conn.execute(
            sa.text(
                "SELECT count(*) FROM runs WHERE id > :last AND job = :job AND outcome <> 'running'"
            ),
            {"last": last, "job": job},
        ).one()[0]
    return bool(found)


class KillRows:
    """The four rows of one kind of kill trial."""

    def __init__(self, suite: Suite, backend: str, what: str) -> None:
        self.inconsistent = suite.row(backend, f"SIGKILL during {what}: inconsistent stores")
        self.torn = suite.row(backend, f"SIGKILL during {what}: dashboards neither old nor new")
        self.left = suite.row(backend, f"SIGKILL during {what}: runs left running")
        self.temps = suite.row(backend, f"SIGKILL during {what}: temp files left")

    def judge(
        self,
        trial: str,
        before: Snapshot,
        killed: Snapshot,
        after: Snapshot,
        again: int,
    ) -> None:
        """Count one trial's store: as before the killed run, or as the next (whole) run left
        it but for when it ran; and that next run succeeded."""
        as_before = killed == before
        as_after = without_run_clock(killed) == without_run_clock(after)
        if not (as_before or as_after) or again != 0:
            self.inconsistent.bad += 1
            self.inconsistent.notes.append(
                f"{trial}: next run exit {again}; differs from before in "
                f"{differing(killed, before)}, from after in "
                f"{differing(without_run_clock(killed), without_run_clock(after))}"
            )
        for row in (self.inconsistent, self.torn, self.left, self.temps):
            row.trials += 1


def kill_trials(suite: Suite, backend: str, job: str, count: int, rng: random.Random) -> None:
    """Kill `job` (sync, score or publish to xlsx) at random moments and right after it
    commits; after the next run: consistent store, no run left running, no temporary file
    left, a dashboard that is the old one or a whole new one."""
    rows = KillRows(suite, backend, job)
    with deployment(backend, environ={"HQSYNC_DAEMON_LEASE_S": KILL_LEASE_S}) as dep:
        first = dep.run("run", "--once")
        suite.seen += [first.stdout, first.stderr]
        args = [job, "--force"] if job == "sync" else [job]
        span = _span(dep, job, args, rng)
        engine = dep.engine()
        try:
            for index, moment in enumerate(moments(count, rng)):
                _prepare(dep, job, rng, suite)
                before = snapshot(engine)
                old_dashboard = (dep.folder / "dashboard.xlsx").read_bytes()
                suite.seen.append(kill(dep, args, rng, span, moment))
                killed = snapshot(engine)
                rows.torn.bad += not _whole_dashboard(dep.folder / "dashboard.xlsx", old_dashboard)
                again = dep.run(*args)
                suite.seen += [again.stdout, again.stderr]
                rows.judge(f"{moment} #{index}", before, killed, snapshot(engine), again.returncode)
                rows.left.bad += running_runs(engine)
                rows.temps.bad += temp_files(dep.folder)
            status = dep.run("status")
            suite.seen += [status.stdout, status.stderr]
        finally:
            engine.dispose()


def _prepare(dep: Deployment, job: str, rng: random.Random, suite: Suite) -> None:
    """Change the source, and bring the store up to the job: a score or publish to kill has
    new findings (and a publish new scores) to work on."""
    change_source(dep, rng)
    for step in {"sync": [], "score": ["sync"], "publish": ["sync", "score"]}[job]:
        done = dep.run(step)
        suite.seen += [done.stdout, done.stderr]


def _span(dep: Deployment, job: str, args: Sequence[str], rng: random.Random) -> float:
    """How long one uninterrupted run of `job` with work to do takes (the kill window)."""
    _prepare(dep, job, rng, Suite())
    started = time.monotonic()
    dep.run(*args)
    return max(0.3, time.monotonic() - started)


def _whole_dashboard(path: Path, old: bytes) -> bool:
    data = path.read_bytes()
    if data == old:
        return True
    try:
        with zipfile.ZipFile(path) as archive:
            if archive.testzip() is not None:
                return False
        load_workbook(path, read_only=True).close()
    except Exception:
        return False
    return True


# ------------------------------------------------------------------------------------------
# Google dashboards, through the fake over HTTP


def google_publish_kills(suite: Suite, backend: str, count: int, rng: random.Random) -> None:
    """Kill `publish` to a Google dashboard (the fake, served over HTTP to the hqsync process)
    right after it commits, at random moments, and between the requests of a staged publish:
    every state leaders could see (after each request Google applied) is the old dashboard or
    the new one; the next publish leaves no staging tab."""
    from hqsync.sync.google.render import STAGING_PREFIX

    rows = KillRows(suite, backend, "Google publish")
    with google_deployment(backend) as (dep, fake, sid):
        first = dep.run("run", "--once")
        suite.seen += [first.stdout, first.stderr]
        span = _span(dep, "publish", ["publish"], rng)
        seen: list[View] = []
        armed: dict[str, Any] = {}

        def observe(written: str) -> None:
            seen.append(shown(fake, written))
            if len(seen) == armed.get("after"):
                armed["process"].send_signal(signal.SIGKILL)

        fake.write_observers.append(observe)
        writes = _staged_writes(dep, rng, suite, seen)
        engine = dep.engine()
        try:
            for index, moment in enumerate(_google_moments(count)):
                command = STAGED if index % 3 else (HQSYNC,)
                _prepare(dep, "publish", rng, suite)
                before, old = snapshot(engine), shown(fake, sid)
                seen.clear()
                armed.clear()
                if moment == BETWEEN:
                    armed["after"] = rng.randint(1, max(1, writes - 1))
                output = kill(
                    dep,
                    ["publish"],
                    rng,
                    span * 2,
                    moment,
                    command=command,
                    started=lambda process: armed.update(process=process),
                )
                suite.seen.append(output)
                during, killed = list(seen), snapshot(engine)
                again = dep.run("publish")
                suite.seen += [again.stdout, again.stderr]
                new = shown(fake, sid)
                torn = [v for v in during if v not in (old, new)]
                rows.torn.bad += bool(torn)
                if torn or new == old:  # the latter: a trial that tested nothing
                    rows.torn.notes.append(
                        f"{moment} #{index}: {len(torn)} of {len(during)} states mixed"
                        + (", the dashboard did not change" if new == old else "")
                    )
                rows.judge(f"{moment} #{index}", before, killed, snapshot(engine), again.returncode)
                rows.left.bad += running_runs(engine)
                rows.temps.bad += sum(t.startswith(STAGING_PREFIX) for t in fake.tabs(sid))
        finally:
            engine.dispose()


def _google_moments(count: int) -> list[Moment]:
    """First right after the commit, then between staged requests, then at random (staged
    and in one request), in turn."""
    cycle = (RANDOM, BETWEEN, RANDOM)
    return [COMMITTED if i == 0 else cycle[i % 3] for i in range(count)]


def _staged_writes(dep: Deployment, rng: random.Random, suite: Suite, seen: list[View]) -> int:
    """How many requests Google applies in one staged publish of the demo dashboard."""
    _prepare(dep, "publish", rng, suite)
    seen.clear()
    done = subprocess.run(
        [*STAGED, "publish", "--config", str(dep.folder / "hqsync.toml")],
        cwd=dep.folder,
        env=dep.env(),
        capture_output=True,
        check=False,
        text=True,
        timeout=300,
    )
    suite.seen += [done.stdout, done.stderr]
    if len(seen) < 2:
        raise RuntimeError(f"a staged publish applied {len(seen)} request(s), not several")
    return len(seen)


def shown(fake: FakeGoogle, sid: str) -> View:
    """What a leader sees of the dashboard: its visible tabs in order, their cells' values;
    the About tab's "generated at" time left out (every publish writes its own)."""
    from hqsync.sync.dashboard.labels import LABELS

    generated = tuple(labels["generated"] for labels in LABELS.values())
    view = []
    for sheet in fake.visible(sid):
        cells = {
            k: json.dumps(c.get("userEnteredValue"), sort_keys=True) for k, c in sheet.cells.items()
        }
        for (row, col), value in list(cells.items()):
            if col == 0 and any(label in value for label in generated):
                cells.pop((row, 1), None)
        view.append((sheet.title, tuple(sorted(cells.items()))))
    return tuple(view)


@contextmanager
def google_deployment(backend: str) -> Iterator[tuple[Deployment, FakeGoogle, str]]:
    """A demo deployment whose dashboard is a Google spreadsheet in the fake, which a local
    HTTP server serves to the hqsync processes; yields it, the fake and the spreadsheet id."""
    from tests.fake_google import FakeGoogle, service_account_key, serving

    fake = FakeGoogle()
    account = "writer@hqsync-test.iam.gserviceaccount.com"
    environ = {"HQSYNC_DAEMON_LEASE_S": KILL_LEASE_S}
    with serving(fake) as base, deployment(backend, environ=environ) as dep:
        key = service_account_key(fake, dep.folder / "key.json", account)
        sid = fake.create_spreadsheet("dashboard")
        fake.share(sid, account, "writer")
        path = dep.folder / "hqsync.toml"
        path.write_text(google_dashboard(path.read_text(encoding="utf-8"), sid, key, base, base))
        yield dep, fake, sid


def google_dashboard(config: str, sid: str, key: Path, sheets: str, drive: str) -> str:
    """The demo config with its dashboard moved to Google spreadsheet `sid` at the given
    endpoints, acting as the service account of `key`."""
    moved = config.replace(
        'backend = "xlsx"\nspreadsheet = "dashboard.xlsx"',
        f'backend = "google"\nspreadsheet = "{sid}"',
    )
    assert moved != config, "the demo config no longer names dashboard.xlsx"
    return moved + (
        f'\n[google]\ncredentials = "{key}"\nsheets_endpoint = "{sheets}"\n'
        f'drive_endpoint = "{drive}"\n'
    )
