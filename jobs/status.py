"""`hqsync status`: what ran, when, how it ended, what failed and why, what runs next, who leads."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any

from sqlalchemy.engine import Engine

from hqsync.config.settings import Settings
from hqsync.config.utils import redact_url
from hqsync.config.vocabulary import TAB_KINDS, Channel, DashboardOutcome, Job, RunOutcome
from hqsync.models.lease import WRITER, current_lease
from hqsync.models.runs import last_run, last_runs, recent_runs
from hqsync.models.store import head_revision, schema_version
from hqsync.models.tables import utcnow

RECENT_RUNS = 20
DASHBOARDS_LISTED = 20
"""Up to this many dashboard targets are listed one by one; beyond, only the failed ones."""
_PER_TAB = tuple(f"{kind}_" for kind in TAB_KINDS)
"""Prefixes of the per-tab row counts a sync run records (the table shows the totals)."""


def status_report(
    settings: Settings, engine: Engine, now: datetime | None = None, limit: int = RECENT_RUNS
) -> dict[str, Any]:
    """The `status --format json` object: database, leader, next_runs, runs (the `limit` most
    recent), and beside them writer (who writes now), last_runs (the newest run of every job
    and source, however old), last_failure, last_publish (the newest successful one), schema
    (the store's version and the one this hqsync expects), dashboards (every dashboard
    target's last publish: target, hospital_id, outcome, updated_at, error) and alerts (the
    channels, quiet hours, last alerts run, deliveries sent, and those failing: retried)."""
    now = now or utcnow()
    lease = current_lease(engine, now)
    writer = current_lease(engine, now, WRITER)
    last_failure = last_run(engine, outcome=RunOutcome.FAILED)
    last_publish = last_run(engine, job=Job.PUBLISH, outcome=RunOutcome.OK)
    version = schema_version(engine)
    return {
        "database": redact_url(settings.database.url),
        "leader": (
            {"holder": lease.holder, "expires_at": lease.expires_at.isoformat()} if lease else None
        ),
        "next_runs": dict(sorted(lease.next_runs.items())) if lease else {},
        "runs": [run.as_json() for run in recent_runs(engine, limit=limit)],
        "writer": (
            {"holder": writer.holder, "expires_at": writer.expires_at.isoformat()}
            if writer
            else None
        ),
        "last_runs": [run.as_json() for run in last_runs(engine)],
        "last_failure": last_failure.as_json() if last_failure else None,
        "last_publish": last_publish.as_json() if last_publish else None,
        "schema": {"version": version, "expected": head_revision()},
        **_cycles(settings, engine, now),
        "dashboards": _dashboards(engine),
        "alerts": _alerts(settings, engine),
    }


def _dashboards(engine: Engine) -> list[dict[str, Any]]:
    """Every dashboard target's last publish (the overview and each hospital's own); empty
    before the store has the table (an old schema: `status` never migrates)."""
    from sqlalchemy.exc import SQLAlchemyError

    from hqsync.models.fingerprints import read_fingerprints

    try:
        states = read_fingerprints(engine, with_cache=False)
    except SQLAlchemyError:
        return []
    return [state.as_json() for state in states.values()]


def _alerts(settings: Settings, engine: Engine) -> dict[str, Any]:
    """The alerts' state: channels (never the webhook: it holds a key and a token), quiet
    hours, the last alerts run, how many deliveries were sent, and each recipient whose
    deliveries fail (retried on every run). Empty lists before the store has the table."""
    from sqlalchemy.exc import SQLAlchemyError

    from hqsync.models.alerts import failing_deliveries, sent_count

    config = settings.alerts
    channels = [
        str(channel)
        for channel, on in (
            (Channel.EMAIL, config.email),
            (Channel.GOOGLE_CHAT, config.google_chat),
        )
        if on is not None
    ]
    try:
        failing = failing_deliveries(engine)
        sent = sent_count(engine)
    except SQLAlchemyError:
        failing, sent = [], 0
    grouped: dict[tuple[str, str], list[Any]] = {}
    for state in failing:
        grouped.setdefault((state.channel, state.recipient), []).append(state)
    last = last_run(engine, job=Job.ALERTS)
    quiet = config.quiet_hours
    return {
        "channels": channels,
        "events": [str(e) for e in config.events],
        "quiet_hours": f"{quiet[0]:%H:%M}-{quiet[1]:%H:%M}" if quiet else None,
        "last_run": last.as_json() if last else None,
        "sent": sent,
        "failing": [
            {
                "channel": channel,
                "recipient": recipient,
                "alerts": len(states),
                "attempts": max(s.attempts for s in states),
                "since": min(s.first_attempt_at for s in states).isoformat(),
                "error": max(states, key=lambda s: s.last_attempt_at).error,
            }
            for (channel, recipient), states in grouped.items()
        ],
    }


def render_status(report: dict[str, Any], now: datetime | None = None, width: int = 120) -> str:
    """The status report as plain text: who leads, what runs next, a table of recent runs
    and, for each failed run, the full reason."""
    from rich.console import Console

    now = now or utcnow()
    out = io.StringIO()
    console = Console(file=out, width=width, color_system=None, force_terminal=False)
    _print_header(console, report, now)
    _print_cycles(console, report)
    _print_dashboards(console, report.get("dashboards") or [], now)
    _print_alerts(console, report.get("alerts") or {}, now)
    runs = report.get("runs") or []
    if not runs and not report.get("last_runs"):
        console.print("\nNo runs recorded yet.", highlight=False)
        return out.getvalue()
    _print_latest(console, report, now)
    if not runs:
        return out.getvalue()
    _print_runs(console, runs)
    return out.getvalue()


def _print_header(console: Any, report: dict[str, Any], now: datetime) -> None:
    """The database, the daemon's leader and writer leases, the schema and the next runs."""
    console.print(f"Database:  {report['database']}", highlight=False)
    leader = report.get("leader")
    if leader:
        expires = datetime.fromisoformat(leader["expires_at"])
        console.print(
            f"Leader:    {leader['holder']} (lease until {_when(expires, now)})", highlight=False
        )
    else:
        console.print(
            "Leader:    none — no daemon holds the lease (not running, or it just stopped)",
            highlight=False,
        )
    writer = report.get("writer")
    if writer:
        expires = datetime.fromisoformat(writer["expires_at"])
        console.print(
            f"Writing:   {writer['holder']} (lease until {_when(expires, now)})", highlight=False
        )
    schema = report.get("schema") or {}
    if schema and schema.get("version") != schema.get("expected"):
        console.print(
            f"Schema:    {schema.get('version')}, this hqsync expects {schema.get('expected')}: "
            "run `hqsync sync` (or any write command) to migrate the store",
            highlight=False,
        )
    next_runs = report.get("next_runs") or {}
    if next_runs:
        console.print("Next runs:", highlight=False)
        for job, when in next_runs.items():
            console.print(f"  {job:<8} {_when(datetime.fromisoformat(when), now)}", highlight=False)
    else:
        console.print("Next runs: none scheduled (no daemon leads)", highlight=False)


def _print_runs(console: Any, runs: list[dict[str, Any]]) -> None:
    """The recent runs as a table, then each failed run's full reason."""
    from rich.table import Table

    table = Table(title="Recent runs (newest first)", title_justify="left", expand=False)
    for column in ("started", "job", "source", "outcome", "took", "requests", "rows", "holder"):
        table.add_column(column, overflow="fold")
    for run in runs:
        started = datetime.fromisoformat(run["started_at"])
        finished = datetime.fromisoformat(run["finished_at"]) if run["finished_at"] else None
        took = f"{(finished - started).total_seconds():.1f}s" if finished else "…"
        rows = ", ".join(
            f"{k} {v}"
            for k, v in (run.get("rows") or {}).items()
            if v and not k.startswith(_PER_TAB)  # the JSON has the per-tab detail
        )
        outcome = run["outcome"].upper() if run["outcome"] == RunOutcome.FAILED else run["outcome"]
        table.add_row(
            _short(started),
            run["job"],
            run["source"] or "-",
            outcome,
            took,
            str(run["requests"]),
            rows or "-",
            run["holder"],
        )
    console.print()
    console.print(table)
    failures = [run for run in runs if run["outcome"] == RunOutcome.FAILED]
    if failures:
        console.print("\nFailures:", highlight=False)
        for run in failures:
            what = run["job"] + (f" {run['source']}" if run["source"] else "")
            at = _short(datetime.fromisoformat(run["started_at"]))
            reason = run["error"] or "no reason recorded"
            console.print(f"  {at}  {what}: {reason}", highlight=False, soft_wrap=True)


def _print_latest(console: Any, report: dict[str, Any], now: datetime) -> None:
    """The newest run of every job and source, the last failure and the last publish."""
    latest = report.get("last_runs") or []
    if latest:
        console.print("\nLast run of each job:", highlight=False)
        for run in latest:
            what = run["job"] + (f" {run['source']}" if run["source"] else "")
            started = _when(datetime.fromisoformat(run["started_at"]), now)
            console.print(f"  {what:<24} {run['outcome']:<8} {started}", highlight=False)
    publish = report.get("last_publish")
    if publish:
        at = datetime.fromisoformat(publish["finished_at"] or publish["started_at"])
        console.print(f"Last publish: {_when(at, now)}", highlight=False)
    elif latest:
        console.print("Last publish: none succeeded yet", highlight=False)
    failure = report.get("last_failure")
    if failure:
        what = failure["job"] + (f" {failure['source']}" if failure["source"] else "")
        failed_at = _short(datetime.fromisoformat(failure["started_at"]))
        reason = failure["error"] or "no reason recorded"
        console.print(
            f"Last failure: {failed_at}  {what}: {reason}", highlight=False, soft_wrap=True
        )


def _print_dashboards(console: Any, dashboards: list[dict[str, Any]], now: datetime) -> None:
    """Each dashboard target's last publish; failed ones with their reason."""
    if not dashboards:
        return
    counts: dict[str, int] = {}
    for item in dashboards:
        counts[item["outcome"]] = counts.get(item["outcome"], 0) + 1
    summary = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items()))
    console.print(f"Dashboards: {len(dashboards)} ({summary})", highlight=False)
    for item in dashboards:
        if item["outcome"] != DashboardOutcome.FAILED and len(dashboards) > DASHBOARDS_LISTED:
            continue
        what = f"hospital {item['hospital_id']}" if item["hospital_id"] else "overview"
        when = _when(datetime.fromisoformat(item["updated_at"]), now)
        line = f"  {what:<20} {item['outcome']:<9} {when}  {item['target']}"
        if item["error"]:
            line += f": {item['error']}"
        console.print(line, highlight=False, soft_wrap=True)


def _print_alerts(console: Any, alerts: dict[str, Any], now: datetime) -> None:
    """The alerts' channels, last run and failing recipients (nothing when never set up)."""
    last = alerts.get("last_run")
    if not alerts.get("channels") and not last and not alerts.get("failing"):
        return
    channels = " + ".join(alerts.get("channels") or []) or "no channel configured"
    quiet = f", quiet {alerts['quiet_hours']}" if alerts.get("quiet_hours") else ""
    if last:
        started = _when(datetime.fromisoformat(last["started_at"]), now)
        rows = last.get("rows") or {}
        ran = f"last run {started} {last['outcome']} ({rows.get('sent', 0)} digest(s) sent)"
    else:
        ran = "not run yet"
    line = f"Alerts:    {channels}{quiet}; {ran}; {alerts.get('sent', 0)} delivery(ies) in all"
    console.print(line, highlight=False)
    for item in alerts.get("failing") or []:
        who = "Google Chat space" if item["channel"] == Channel.GOOGLE_CHAT else item["recipient"]
        since = _when(datetime.fromisoformat(item["since"]), now)
        console.print(
            f"  NOT DELIVERED to {who}: {item['alerts']} alert(s), {item['attempts']} "
            f"attempt(s) since {since}: {item['error']} (retried on the next run)",
            highlight=False,
            soft_wrap=True,
        )


def _short(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S")


def _when(when: datetime, now: datetime) -> str:
    seconds = (when - now).total_seconds()
    if abs(seconds) < 1:
        relative = "now"
    elif seconds > 0:
        relative = "in " + _span(seconds)
    else:
        relative = _span(-seconds) + " ago"
    return f"{_short(when)} {when.tzname() or ''} ({relative})".replace("  ", " ")


def _span(seconds: float) -> str:
    if seconds < 90:
        return f"{seconds:.0f}s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f}m"
    if seconds < 36 * 3600:
        return f"{seconds / 3600:.1f}h"
    return f"{seconds / 86400:.1f}d"


def _cycles(settings: Settings, engine: Engine, now: datetime) -> dict[str, Any]:
    """The report's `cycles`: each configured cycle's counts on today's local date
    (`CycleCounts.as_json`; [] without [[cycles]]), plus `cycles_error` when a rule set or the
    store stops them from being counted."""
    if not settings.cycles:
        return {"cycles": []}
    from zoneinfo import ZoneInfo

    from sqlalchemy.exc import SQLAlchemyError

    from hqsync.config.errors import HqsyncError
    from hqsync.config.ruleset_loader import load_rule_sets
    from hqsync.models.cycles import load_cycle_report

    zone = settings.schedule.timezone
    try:
        report = load_cycle_report(
            engine,
            settings.cycles,
            load_rule_sets(settings.scoring.rule_set_dirs),
            now.astimezone(ZoneInfo(zone)).date(),
            due_soon_days=settings.alerts.due_soon_days,
            timezone=zone,
        )
    except (HqsyncError, SQLAlchemyError) as exc:
        return {"cycles": [], "cycles_error": str(exc).splitlines()[0]}
    return {"cycles": [counts.as_json() for counts in report.counts]}


def _print_cycles(console: Any, report: dict[str, Any]) -> None:
    """Each cycle's counts: how many hospitals submitted, are overdue, due soon or late."""
    if report.get("cycles_error"):
        console.print(f"Cycles:    cannot count: {report['cycles_error']}", highlight=False)
    for item in report.get("cycles") or []:
        kinds = [
            _kind_counts(kind, item[kind], item["hospitals"])
            for kind in ("self", "council")
            if item.get(kind)
        ]
        console.print(
            f"Cycle {item['standard']} {item['year']} (covers {item['covered_year']}): "
            f"{item['hospitals']} hospital(s); " + "; ".join(kinds),
            highlight=False,
            soft_wrap=True,
        )


def _kind_counts(kind: str, counts: dict[str, Any], hospitals: int) -> str:
    """ "self 41/58 submitted, 6 overdue (due 2026-11-30)": the non-zero counts of one kind."""
    words = [f"{counts['submitted']}/{hospitals} submitted"] + [
        f"{counts[key]} {key.replace('_', ' ')}"
        for key in ("draft_only", "overdue", "due_soon", "late")
        if counts[key]
    ]
    return f"{kind} {', '.join(words)} (due {counts['due']})"
