"""The pipeline: sync every source, score what changed, publish the dashboard."""

from __future__ import annotations

import logging
import os
import secrets
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from hqsync.config.errors import DashboardError, HqsyncError, StaleMemoError
from hqsync.config.ruleset_loader import load_rule_sets
from hqsync.config.settings import Settings, SourceSettings
from hqsync.config.utils import paused_gc
from hqsync.config.vocabulary import Job, RunOutcome, SourceOutcome
from hqsync.jobs.logs import redact
from hqsync.models import source_rows
from hqsync.models.lease import lock_source
from hqsync.models.runs import finish_run, last_run, source_failures, start_run
from hqsync.models.tables import utcnow
from hqsync.scoring.ruleset import RuleSet
from hqsync.sync.backends import DashboardWriters, open_dashboard_writer, open_source_reader
from hqsync.sync.interfaces import (
    DashboardWriter,
    EvidenceResolver,
    SourceReader,
    SourceSnapshot,
)

if TYPE_CHECKING:
    from hqsync.jobs.alerts import AlertsReport, Senders
    from hqsync.jobs.publish import DashboardTarget, PublishReport
    from hqsync.sync.dashboard.document import Dashboard
    from hqsync.sync.dashboard.loader import DashboardData
    from hqsync.sync.ingest.counts import UpsertCounts

log = logging.getLogger(__name__)

ProgressCallback = Callable[[str, int, int], None]
"""Called as (stage label, done, total) while a long stage runs."""

SCORE_CHUNK = 500
"""Assessments scored per batch: bounds memory on a country-wide store."""


def default_holder() -> str:
    """A name for this process in the run log and the lease: host:pid plus a random tag
    (containers often share a hostname and all run as pid 1)."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class SyncOutcome:
    """What one sync pass over all sources did."""

    changed: bool
    """True when any source was read afresh (so scores and the dashboard may be stale)."""
    failed_sources: tuple[str, ...] = ()
    rows: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class CycleResult:
    """What one full cycle (sync → score → publish) did."""

    sync: SyncOutcome
    scored: int
    published: bool
    publish_error: str | None = None
    score_error: str | None = None
    alerts: AlertsOutcome | None = None
    """What the alerts step did; None when it did not run (not due, quiet, not configured)."""

    @property
    def failed(self) -> bool:
        """True when sync, score or publish failed (an alert not delivered is no failure of
        the cycle: it is retried on the next run and shown in `status`)."""
        return bool(self.sync.failed_sources or self.publish_error or self.score_error)


@dataclass(frozen=True)
class AlertsOutcome:
    """What one alerts step after publish did."""

    sent: int = 0
    """Digests delivered."""
    failed: int = 0
    """Digests not delivered (retried on the next run)."""
    error: str | None = None
    """Why the step itself failed (e.g. the store), when it did."""


class Pipeline:
    """Runs the jobs of one deployment against one store; every collaborator is injectable."""

    def __init__(
        self,
        settings: Settings,
        engine: Engine,
        *,
        holder: str | None = None,
        clock: Callable[[], datetime] = utcnow,
        progress: ProgressCallback | None = None,
        reader_factory: Callable[[SourceSettings], SourceReader] | None = None,
        writer_factory: Callable[[], DashboardWriter] | None = None,
        hospital_writer_factory: Callable[[str], DashboardWriter] | None = None,
        rule_sets: Mapping[str, RuleSet] | None = None,
        alert_senders: Senders | None = None,
    ) -> None:
        self.settings = settings
        self.engine = engine
        self.holder = holder or default_holder()
        self.clock = clock
        self.progress = progress
        self._reader_factory = reader_factory or (lambda s: open_source_reader(settings, s))
        self._writer_factory = writer_factory or (lambda: open_dashboard_writer(settings))
        self._writers = hospital_writer_factory or DashboardWriters(settings).writer
        """target → the writer of that hospital's dashboard (one Google client for all)."""
        self._rule_sets = dict(rule_sets) if rule_sets is not None else None
        self._alert_senders = alert_senders
        self.should_stop: Callable[[], bool] = lambda: False
        """Checked between sources: a daemon asked to stop leaves the rest for its successor."""

    @property
    def rule_sets(self) -> dict[str, RuleSet]:
        """The shipped rule sets plus the council's own (loaded once)."""
        if self._rule_sets is None:
            self._rule_sets = load_rule_sets(self.settings.scoring.rule_set_dirs)
        return self._rule_sets

    # --- sync -------------------------------------------------------------------------------

    def sync(self, sources: tuple[str, ...] | None = None, force: bool = False) -> SyncOutcome:
        """Sync the named sources (all by default); unchanged sources are skipped unless forced.

        A failing source is logged in the run log and does not stop the others.
        """
        chosen = (
            [self.settings.source(n) for n in sources] if sources else list(self.settings.sources)
        )
        changed = False
        failed: list[str] = []
        rows: dict[str, dict[str, int]] = {}
        errors: dict[str, str] = {}
        for index, source in enumerate(chosen):
            if self.should_stop():
                log.info("stopping: %d source(s) left for the next run", len(chosen) - index)
                break
            self._report(Job.SYNC, index, len(chosen))
            # A snapshot is hundreds of thousands of small acyclic objects, alive from the read
            # to the store's commit: any collection in between would walk them all (the
            # reader's and normaliser's own pauses left gaps). They are freed by reference
            # counting once the source is done; only its few cycles wait for the collector.
            with paused_gc():
                outcome, counts, error = self._sync_source(source, force)
            rows[source.name] = counts
            if outcome == SourceOutcome.CHANGED:
                changed = True
            elif outcome == SourceOutcome.FAILED:
                failed.append(source.name)
                errors[source.name] = error or "unknown error"
        self._report(Job.SYNC, len(chosen), len(chosen))
        return SyncOutcome(changed=changed, failed_sources=tuple(failed), rows=rows, errors=errors)

    def _sync_source(
        self, source: SourceSettings, force: bool
    ) -> tuple[SourceOutcome, dict[str, int], str | None]:
        started = self.clock()
        run_id = start_run(self.engine, Job.SYNC, self.holder, source.name, started)
        reader: SourceReader | None = None
        try:
            reader = self._reader_factory(source)
            marker = reader.change_marker()
            if not force and marker is not None and marker == self._stored_marker(source.name):
                finish_run(
                    self.engine,
                    run_id,
                    RunOutcome.SKIPPED,
                    requests=reader.requests_made,
                    finished_at=self.clock(),
                )
                log.info("source %s unchanged since the last sync; skipped", source.name)
                return SourceOutcome.SKIPPED, {}, None
            snapshot = reader.read(list(source.tabs.as_dict().values()))
            now = self.clock()
            finished = _RunEnd(run_id, reader.requests_made, marker)
            try:
                counts = self._store_snapshot(source, snapshot, now, finished, use_memos=not force)
            except StaleMemoError as exc:
                log.warning("%s", exc)
                counts = self._store_snapshot(source, snapshot, now, finished, use_memos=False)
            rows = counts.as_rows()
            log.info(
                "source %s synced: %s", source.name, ", ".join(f"{k} {v}" for k, v in rows.items())
            )
            outcome = SourceOutcome.CHANGED if counts.changed else SourceOutcome.UNCHANGED
            if outcome == SourceOutcome.CHANGED or force:
                self._refresh_evidence(source, reader)
            return outcome, rows, None
        except HqsyncError as exc:
            message = redact(str(exc))
            log.error("source %s failed: %s", source.name, message)
        except Exception as exc:  # a bug or an unexpected library error: keep the schedule alive
            message = redact(f"unexpected error: {type(exc).__name__}: {exc}")
            log.exception("source %s failed unexpectedly", source.name)
        finish_run(
            self.engine,
            run_id,
            RunOutcome.FAILED,
            requests=reader.requests_made if reader else 0,
            error=message,
            finished_at=self.clock(),
        )
        return SourceOutcome.FAILED, {}, message

    def _store_snapshot(
        self,
        source: SourceSettings,
        snapshot: SourceSnapshot,
        now: datetime,
        end: _RunEnd,
        *,
        use_memos: bool,
    ) -> UpsertCounts:
        """Normalise a snapshot and write it, the change marker and the finished run into the
        store in one transaction."""
        from hqsync.sync.ingest.locale import resolve_locale
        from hqsync.sync.ingest.store import store_snapshot

        with self.engine.begin() as conn:
            lock_source(conn, source.name)  # one writer per source, even past the lease
            counts = store_snapshot(
                conn,
                source.name,
                snapshot,
                tabs=source.tabs,
                rule_sets=self.rule_sets,
                timezone=self.settings.schedule.timezone,
                now=now,
                use_memos=use_memos,
                columns=source.columns,
                locale=resolve_locale(source.locale, source.backend, snapshot.locale),
            )
            source_rows.write_change_marker(conn, source.name, end.marker, now)
            finish_run(
                conn,
                end.run_id,
                RunOutcome.OK,
                requests=end.requests,
                rows=counts.as_rows(),
                finished_at=self.clock(),
            )
        return counts

    def _refresh_evidence(self, source: SourceSettings, reader: SourceReader) -> None:
        """Cache the links of the source's new evidence paths, if its reader can resolve them;
        a failure is only logged (the Gaps tab then shows no link for those photos)."""
        if not isinstance(reader, EvidenceResolver):
            return
        from hqsync.sync.evidence import refresh_evidence_links

        try:
            refresh_evidence_links(self.engine, source, reader, self.clock())
        except HqsyncError as exc:
            log.warning(
                "source %s: evidence links not resolved (%s); the Gaps tab shows no link for "
                "its new photos until the source changes again",
                source.name,
                exc,
            )

    def _stored_marker(self, source: str) -> str | None:
        with self.engine.connect() as conn:
            return source_rows.read_change_marker(conn, source)

    # --- score ------------------------------------------------------------------------------

    def score(self) -> int:
        """Score every assessment whose inputs changed; returns how many results changed."""
        from hqsync.models import results  # numpy: only a job that scores pays for it
        from hqsync.scoring.engine import score_columns

        rule_sets = self.rule_sets
        fingerprints = {rid: rs.fingerprint for rid, rs in rule_sets.items()}
        with self.engine.begin() as conn:
            results.mark_stale_rule_sets(conn, fingerprints)
            removed = results.drop_scores_of_deleted(conn)
            pending = results.assessments_to_score(conn)
        if not pending and not removed:
            return 0
        run_id = start_run(self.engine, Job.SCORE, self.holder, None, self.clock())
        try:
            total = len(pending)
            changed = unknown = 0
            for start in range(0, total, SCORE_CHUNK):
                self._report(Job.SCORE, start, total)
                chunk = pending[start : start + SCORE_CHUNK]
                # Scoring builds many small acyclic objects: the collector found nothing in them
                # and cost a fifth of the work.
                with paused_gc(), self.engine.begin() as conn:
                    inputs = results.load_scoring_columns(conn, chunk)
                    known = [s in rule_sets for s in inputs.assessments["standard"]]
                    orphans = [
                        key
                        for key, ok in zip(inputs.assessments["assessment_key"], known, strict=True)
                        if not ok
                    ]
                    if orphans:
                        unknown += len(orphans)
                        log.warning(
                            "%d assessments name a rule set that is no longer "
                            "configured; left unscored",
                            len(orphans),
                        )
                        results.clear_needs_scoring(conn, [results.split_key(k) for k in orphans])
                    assessments = {
                        name: [v for v, ok in zip(values, known, strict=True) if ok]
                        for name, values in inputs.assessments.items()
                    }
                    scored = score_columns(
                        assessments, inputs.findings, inputs.hospitals, rule_sets
                    )
                    changed += results.save_scores(
                        conn, scored.scores, scored.criteria, fingerprints, self.clock()
                    )
            self._report(Job.SCORE, total, total)
            rows = {
                "pending": total,
                "changed": changed,
                "removed": removed,
                "unknown_standard": unknown,
            }
            finish_run(self.engine, run_id, RunOutcome.OK, rows=rows, finished_at=self.clock())
            log.info("scored %d assessments (%d results changed)", total, changed)
            return changed
        except Exception as exc:
            finish_run(
                self.engine,
                run_id,
                RunOutcome.FAILED,
                error=_describe(exc),
                finished_at=self.clock(),
            )
            raise

    # --- publish ----------------------------------------------------------------------------

    def publish(self) -> PublishReport:
        """Write the overview and every hospital's own dashboard from the store, each in one
        atomic write and only when its content changed.

        A failing hospital dashboard does not stop the others; when any target failed, the
        publish run is recorded as failed and DashboardError names them.
        """
        from hqsync.jobs.publish import DashboardTarget, publish_targets
        from hqsync.sync.dashboard import load_dashboard_data
        from hqsync.sync.dashboard.loader import with_cycles

        run_id = start_run(self.engine, Job.PUBLISH, self.holder, None, self.clock())
        report: PublishReport | None = None
        try:
            started = time.monotonic()
            data = load_dashboard_data(
                self.engine,
                self.rule_sets,
                self.settings.sources,
                rank_incomplete=self.settings.scoring.rank_incomplete,
            )
            now = self.clock()
            data = with_cycles(data, self.engine, self.settings, now)
            overview = DashboardTarget(self.settings.dashboard.spreadsheet)
            targets, inputs = self._dashboards(data, overview, now)
            report = publish_targets(
                self.engine,
                targets,
                lambda t: self._writer_factory() if t is overview else self._writers(t.target),
                backend=self.settings.dashboard.backend,
                clock=self.clock,
                inputs=inputs,
            )
            if report.errors:
                raise DashboardError(
                    f"{len(report.errors)} of {len(targets)} dashboards failed: "
                    + "; ".join(f"{t}: {e}" for t, e in report.errors.items())
                    + " (the others were published; see `hqsync status`)"
                )
            finish_run(
                self.engine,
                run_id,
                RunOutcome.OK,
                requests=report.requests,
                rows={**report.rows, "written": len(report.written)},
                finished_at=self.clock(),
            )
            log.info(
                "dashboards published (%d of %d written) in %.1fs",
                len(report.written),
                len(targets),
                time.monotonic() - started,
            )
            return report
        except Exception as exc:
            finish_run(
                self.engine,
                run_id,
                RunOutcome.FAILED,
                requests=report.requests if report else 0,
                error=_describe(exc),
                finished_at=self.clock(),
            )
            raise

    def _dashboards(
        self, data: DashboardData, overview: DashboardTarget, now: datetime
    ) -> tuple[list[tuple[DashboardTarget, Callable[[], Dashboard]]], dict[str, str]]:
        """Every dashboard target with how to build it (at `now`), and the digest of its
        inputs."""
        from hqsync.jobs.publish import hospital_targets
        from hqsync.models import reports
        from hqsync.sync.dashboard import build_dashboard
        from hqsync.sync.dashboard.hospital import build_hospital_dashboard, index_hospitals
        from hqsync.sync.dashboard.inputs import (
            RowHashes,
            hospital_input_digests,
            overview_input_digest,
        )

        language, zone = self.settings.dashboard.language, self.settings.schedule.timezone
        targets: list[tuple[DashboardTarget, Callable[[], Dashboard]]] = [
            (overview, lambda: build_dashboard(data, language, now, zone))
        ]
        hashes = RowHashes()
        inputs = {overview.target: overview_input_digest(data, language, zone, hashes)}
        hospitals = hospital_targets(self.settings, data)
        if not hospitals:
            return targets, inputs
        with self.engine.connect() as conn:
            failing = reports.load_failing_findings(conn)
        views = index_hospitals(data, failing)
        ids = [str(t.hospital_id) for t in hospitals]
        digests = hospital_input_digests(
            views, failing, ids, language=language, timezone=zone, hashes=hashes
        )
        for target, hospital in zip(hospitals, ids, strict=True):
            build = partial(build_hospital_dashboard, views, hospital, language, now, zone)
            targets.append((target, build))
            inputs[target.target] = digests[hospital]
        return targets, inputs

    def _source_names(self) -> frozenset[str]:
        return frozenset(s.name for s in self.settings.sources)

    def failing_sources_changed(self) -> bool:
        """True when the configured sources failing to sync now differ from those the last
        successful publish showed (a new failure, or a source that syncs again)."""
        names = self._source_names()
        now = {f.source for f in source_failures(self.engine)} & names
        published = last_run(self.engine, job=Job.PUBLISH, outcome=RunOutcome.OK)
        if published is None:
            return bool(now)
        shown = {f.source for f in source_failures(self.engine, before_run=published.id)}
        return now != shown & names

    # --- alerts -----------------------------------------------------------------------------

    def alerts(self, *, dry_run: bool = False) -> AlertsReport:
        """Send every recipient its digest of the events it was not told yet (see
        jobs/alerts.py); `dry_run`: only say what would be sent."""
        from hqsync.jobs.alerts import run_alerts

        return run_alerts(
            self.settings,
            self.engine,
            self.rule_sets,
            clock=self.clock,
            holder=self.holder,
            dry_run=dry_run,
            senders=self._alert_senders,
        )

    def alerts_due(self, changed: bool = False) -> bool:
        """Whether the alerts step should run now: a channel is configured, it is not the
        quiet hours, and something may have changed since the last alerts run (data, a
        publish, the failing sources, the day, or that run left deliveries to retry)."""
        config = self.settings.alerts
        if not config.enabled:
            return False
        zone = ZoneInfo(self.settings.schedule.timezone)
        now = self.clock().astimezone(zone)
        if config.is_quiet(now.time()):
            return False
        last = last_run(self.engine, job=Job.ALERTS)
        if changed or last is None or last.outcome != RunOutcome.OK:
            return True
        published = last_run(self.engine, job=Job.PUBLISH, outcome=RunOutcome.OK)
        if published is not None and published.id > last.id:
            return True
        if last.started_at.astimezone(zone).date() != now.date():
            return True  # a new day: deadlines come closer or pass
        failing = {f.source for f in source_failures(self.engine)}
        return failing != {f.source for f in source_failures(self.engine, before_run=last.id)}

    def alerts_if_due(self, changed: bool = False) -> AlertsOutcome | None:
        """Run the alerts step when `alerts_due`; never raises (a failure is logged and
        returned): alerts never stop sync, score or publish."""
        try:
            if not self.alerts_due(changed):
                return None
            report = self.alerts()
        except Exception as exc:
            error = _describe(exc)
            log.error("alerts failed: %s; the next run retries", error)
            return AlertsOutcome(error=error)
        return AlertsOutcome(sent=len(report.delivered), failed=len(report.failed))

    # --- cycle ------------------------------------------------------------------------------

    def run_cycle(self, publish_always: bool = False) -> CycleResult:
        """Sync; when data changed, the failing sources changed (or `publish_always`), score
        and publish; then the alerts step, when due (`alerts_if_due`).

        Never raises for a failing source or publish: failures are in the result and the log.
        """
        outcome = self.sync()
        scored = 0
        score_error = publish_error = None
        published = False
        try:
            scored = self.score()
        except Exception as exc:
            score_error = _describe(exc)
            log.error("scoring failed: %s", score_error)
        if score_error is None and (
            outcome.changed or scored or publish_always or self.failing_sources_changed()
        ):
            try:
                self.publish()
                published = True
            except Exception as exc:
                publish_error = _describe(exc)
                log.error("publish failed: %s", publish_error)
        alerts = self.alerts_if_due(changed=outcome.changed or bool(scored) or published)
        return CycleResult(
            sync=outcome,
            scored=scored,
            published=published,
            publish_error=publish_error,
            score_error=score_error,
            alerts=alerts,
        )

    def _report(self, stage: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(stage, done, total)


@dataclass(frozen=True)
class _RunEnd:
    """What finishing a sync run records besides its counts."""

    run_id: int
    requests: int
    marker: str | None


def _describe(exc: BaseException) -> str:
    """What failed, as stored in the run log: secrets masked before they are stored."""
    if isinstance(exc, HqsyncError):
        return redact(str(exc))
    return redact(f"unexpected error: {type(exc).__name__}: {exc}")
