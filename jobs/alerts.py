"""`hqsync alerts` and the alerts step after publish: detect the events, send each recipient
one digest of what it was not yet told, record every delivery.

Nothing here raises for a delivery problem: a refused mail or a failing webhook is recorded
(retried on the next run, shown in `status`, reported to ops by mail when mail works). During
the quiet hours nothing is sent: the digests wait for the first run after them.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, time
from zoneinfo import ZoneInfo

from sqlalchemy.engine import Engine

from hqsync.config.calendar_settings import ChatSettings, address_problem, split_addresses
from hqsync.config.errors import ConfigError, HqsyncError, StoreError
from hqsync.config.settings import Settings
from hqsync.config.vocabulary import (
    AlertEvent,
    Backend,
    Channel,
    DeliveryOutcome,
    Job,
    RunOutcome,
)
from hqsync.jobs.logs import redact
from hqsync.models import reports
from hqsync.models.alerts import (
    DeliveryAttempt,
    DeliveryKey,
    DeliveryState,
    HospitalContact,
    delivery_states,
    load_contacts,
    record_deliveries,
)
from hqsync.models.cycles import load_cycle_states
from hqsync.models.runs import finish_run, source_failures, start_run
from hqsync.models.store import head_revision, schema_version
from hqsync.scoring.ruleset import RuleSet
from hqsync.sync.alerts.chat import post_to_chat
from hqsync.sync.alerts.digest import (
    Audience,
    Digest,
    HospitalView,
    Message,
    Problem,
    RenderContext,
    clean,
    plan_digests,
    render,
)
from hqsync.sync.alerts.events import Alert, cycle_alerts, score_alerts, source_alerts
from hqsync.sync.alerts.mail import Mailer

log = logging.getLogger(__name__)

SHEETS_URL = "https://docs.google.com/spreadsheets/d/{id}"
"""A Google dashboard's link, from its spreadsheet id."""
ChatPoster = Callable[[ChatSettings, Message], "str | None"]


@dataclass(frozen=True)
class Delivered:
    """One digest of this run: to whom, in which words, and how it went."""

    digest: Digest
    message: Message
    error: str | None = None
    """None: delivered (or, in a dry run or the quiet hours, not tried)."""


@dataclass(frozen=True)
class AlertsReport:
    """What one alerts run found and did."""

    alerts: tuple[Alert, ...]
    """Every event that holds now (sent before or not)."""
    digests: tuple[Delivered, ...]
    sent: bool
    """False: nothing was tried (a dry run, the quiet hours, or no channel configured)."""
    quiet_until: time | None = None
    skipped_addresses: tuple[tuple[str, str], ...] = ()
    """(hospital_id, text) of the addresses in the Hospitals tab that are not addresses."""
    run_id: int | None = None

    @property
    def failed(self) -> tuple[Delivered, ...]:
        """The digests this run could not deliver."""
        return tuple(d for d in self.digests if d.error is not None)

    @property
    def delivered(self) -> tuple[Delivered, ...]:
        """The digests this run delivered."""
        return tuple(d for d in self.digests if d.error is None) if self.sent else ()


@dataclass(frozen=True)
class Senders:
    """How digests leave: injectable for tests (a trusted test certificate, a fake clock)."""

    ssl_context: ssl.SSLContext | None = None
    chat: ChatPoster = field(default=post_to_chat)


def run_alerts(
    settings: Settings,
    engine: Engine,
    rule_sets: Mapping[str, RuleSet],
    *,
    clock: Callable[[], datetime],
    holder: str,
    dry_run: bool = False,
    senders: Senders | None = None,
) -> AlertsReport:
    """Detect the events that hold now (`clock()`) and send every recipient its digest of
    those it was not told yet (nothing when `dry_run`, during the quiet hours, or with no
    channel)."""
    config = settings.alerts
    now = clock()
    zone = ZoneInfo(settings.schedule.timezone)
    local = now.astimezone(zone)
    if dry_run and schema_version(engine) != head_revision():
        raise StoreError(
            "the store's schema is older than this hqsync: run `hqsync sync` (or any write "
            "command) to migrate it, then `hqsync alerts --dry-run` again"
        )
    with engine.connect() as conn:
        contacts = load_contacts(conn)
    alerts = _detect(settings, engine, rule_sets, contacts, local)
    with engine.connect() as conn:
        states = delivery_states(conn, {a.key for a in alerts})
    delivered = {k for k, s in states.items() if s.outcome == DeliveryOutcome.SENT}
    leaders, skipped = leader_addresses(settings, contacts)
    audience = Audience(
        leaders=leaders,
        ops=config.email.ops if config.email else (),
        email=config.email is not None,
        chat=config.google_chat is not None,
    )
    digests = plan_digests(alerts, audience, delivered)
    context = RenderContext(
        language=settings.dashboard.language,
        hospitals=hospital_views(settings, contacts),
        rule_sets=rule_sets,
        zone=zone,
        overview_link=_link(settings, settings.dashboard.spreadsheet),
    )
    quiet = config.is_quiet(local.time())
    quiet_until = config.quiet_hours[1] if quiet and config.quiet_hours else None
    if dry_run or quiet or not config.enabled:
        planned = tuple(Delivered(d, render(d, context)) for d in digests)
        return AlertsReport(tuple(alerts), planned, False, quiet_until, skipped)
    run_id = start_run(engine, Job.ALERTS, holder, None, now)
    try:
        done = _send(settings, digests, context, states, senders or Senders())
        _record(engine, run_id, len(alerts), done, clock)
    except Exception as exc:
        error = redact(str(exc) if isinstance(exc, HqsyncError) else f"{type(exc).__name__}: {exc}")
        finish_run(engine, run_id, RunOutcome.FAILED, error=error, finished_at=clock())
        raise
    return AlertsReport(tuple(alerts), tuple(done), True, None, skipped, run_id)


def _record(
    engine: Engine,
    run_id: int,
    holding: int,
    done: Sequence[Delivered],
    clock: Callable[[], datetime],
) -> None:
    """Store every delivery of this run and finish its run (one transaction), then log them."""
    attempts = [
        DeliveryAttempt(
            a.key, d.digest.channel, d.digest.recipient, a.event, a.hospital_id, d.error
        )
        for d in done
        for a in d.digest.alerts
    ]
    failed = [d for d in done if d.error is not None]
    now = clock()
    with engine.begin() as conn:
        record_deliveries(conn, attempts, now)
        finish_run(
            conn,
            run_id,
            RunOutcome.FAILED if failed else RunOutcome.OK,
            rows={
                "alerts": holding,
                "digests": len(done),
                "sent": len(done) - len(failed),
                "failed": len(failed),
            },
            error=_failure_summary(failed, len(done)) if failed else None,
            finished_at=now,
        )
    for item in done:
        if item.error is None:
            log.info("alerts: %d sent to %s", len(item.digest.alerts), _who(item.digest))
        else:
            log.warning("alerts: not delivered to %s: %s", _who(item.digest), item.error)


def _detect(
    settings: Settings,
    engine: Engine,
    rule_sets: Mapping[str, RuleSet],
    contacts: Sequence[HospitalContact],
    local: datetime,
) -> list[Alert]:
    """The events that hold now (`local`: the schedule's time zone), of the configured kinds,
    about live, active hospitals."""
    from hqsync.scoring import assessment_comparisons

    wanted = set(settings.alerts.events)
    alerts: list[Alert] = []
    if wanted & {AlertEvent.BAND_DROP, AlertEvent.BASIC_FAILED}:
        with engine.connect() as conn:
            scores = reports.load_scores(conn)
        comparisons = assessment_comparisons(
            scores, rank_incomplete=settings.scoring.rank_incomplete
        )
        alerts += score_alerts(comparisons, rule_sets)
    if wanted & {AlertEvent.DUE_SOON, AlertEvent.OVERDUE} and settings.cycles:
        try:
            states = load_cycle_states(
                engine,
                settings.cycles,
                rule_sets,
                local.date(),
                timezone=settings.schedule.timezone,
            )
        except ConfigError as exc:  # the other events are still told
            log.error("alerts: no due_soon / overdue events: %s", exc)
        else:
            alerts += cycle_alerts(states, local.date(), settings.alerts.due_soon_days)
    if AlertEvent.SOURCE_FAILED in wanted:
        configured = {s.name for s in settings.sources}
        alerts += source_alerts(f for f in source_failures(engine) if f.source in configured)
    active = {c.hospital_id for c in contacts if c.active is not False}
    kept = {  # by key: a hospital id listed by two sources is one hospital's event once
        a.key: a
        for a in alerts
        if a.event in wanted and (a.hospital_id is None or a.hospital_id in active)
    }
    return list(kept.values())


def leader_addresses(
    settings: Settings, contacts: Sequence[HospitalContact]
) -> tuple[dict[str, tuple[str, ...]], tuple[tuple[str, str], ...]]:
    """hospital_id → its leaders' addresses (`[alerts.hospitals]` wins over the Hospitals
    tab's `email` column), and the (hospital_id, text) pairs of the column that are not
    addresses (left out)."""
    configured = settings.alerts.hospitals
    found: dict[str, list[str]] = {}
    skipped: list[tuple[str, str]] = []
    for contact in contacts:
        if contact.hospital_id in configured or not contact.email:
            continue
        for address in split_addresses(contact.email):
            if address_problem(address):
                skipped.append((contact.hospital_id, address))
            else:
                found.setdefault(contact.hospital_id, []).append(address)
    leaders = {h: tuple(dict.fromkeys(a)) for h, a in found.items()}
    leaders.update({h: tuple(a) for h, a in configured.items() if a})
    for hospital, text in skipped:
        log.warning(
            "alerts: hospital %s's email cell holds %r, not an e-mail address: left out",
            hospital,
            text,
        )
    return leaders, tuple(skipped)


def hospital_views(
    settings: Settings, contacts: Sequence[HospitalContact]
) -> dict[str, HospitalView]:
    """Each hospital's name and its own dashboard's link, as messages show them; the
    dashboard is chosen by publish's one rule (a cell naming another's dashboard is skipped)."""
    from hqsync.jobs.publish import hospital_dashboards

    targets = hospital_dashboards(settings, [(c.hospital_id, c.dashboard) for c in contacts])
    views: dict[str, HospitalView] = {}
    for contact in contacts:
        if contact.hospital_id in views:
            continue
        target = targets.get(contact.hospital_id)
        name = clean(contact.name or "") or contact.hospital_id
        views[contact.hospital_id] = HospitalView(
            contact.hospital_id, name, _link(settings, target) if target else None
        )
    return views


def _link(settings: Settings, target: str) -> str | None:
    """A dashboard's web link: a Google spreadsheet's URL; None for a workbook file."""
    if settings.dashboard.backend != Backend.GOOGLE:
        return None
    return SHEETS_URL.format(id=target)


def _send(
    settings: Settings,
    digests: Sequence[Digest],
    context: RenderContext,
    states: Mapping[DeliveryKey, DeliveryState],
    senders: Senders,
) -> list[Delivered]:
    """Deliver each digest; ops' mails (sent last) also report this run's new problems."""
    config = settings.alerts
    done: list[Delivered] = []
    problems: list[Problem] = []
    ops = set(config.email.ops) if config.email else set()
    is_ops = [d.channel == Channel.EMAIL and d.recipient in ops for d in digests]
    mailer = Mailer(config.email, senders.ssl_context) if config.email else None
    try:
        for digest in [d for d, o in zip(digests, is_ops, strict=True) if not o]:
            message = render(digest, context)
            if digest.channel == Channel.EMAIL and mailer is not None:
                error = mailer.send(digest.recipient, message)
            elif config.google_chat is not None:
                error = senders.chat(config.google_chat, message)
            else:  # pragma: no cover - plan_digests only plans configured channels
                continue
            done.append(Delivered(digest, message, error))
            if error is not None and _is_new_problem(digest, states):
                problems.append(
                    Problem(digest.channel, digest.recipient, error, len(digest.alerts))
                )
        if mailer is not None:
            planned = {d.recipient: d for d, o in zip(digests, is_ops, strict=True) if o}
            for address in config.email.ops if config.email else ():
                if address not in planned and not problems:
                    continue
                to_ops = planned.get(address) or Digest(Channel.EMAIL, address, True, ())
                message = render(to_ops, context, problems)
                done.append(Delivered(to_ops, message, mailer.send(address, message)))
    finally:
        if mailer is not None:
            mailer.close()
    return done


def _is_new_problem(digest: Digest, states: Mapping[DeliveryKey, DeliveryState]) -> bool:
    """Whether the digest holds an alert that had not already failed to reach its recipient
    (ops hear of a failing recipient once, not on every retry)."""
    return any(
        states.get(key) is None or states[key].outcome != DeliveryOutcome.FAILED
        for key in digest.keys
    )


def _who(digest: Digest) -> str:
    if digest.channel == Channel.GOOGLE_CHAT:
        return "the Google Chat space"
    return digest.recipient


def _failure_summary(failed: Sequence[Delivered], total: int) -> str:
    reasons = "; ".join(f"{_who(d.digest)}: {d.error}" for d in failed[:5])
    more = f"; and {len(failed) - 5} more" if len(failed) > 5 else ""
    return (
        f"{len(failed)} of {total} alert digest(s) not delivered ({reasons}{more}); "
        "retried on the next run"
    )


def render_report(report: AlertsReport, settings: Settings, *, dry_run: bool) -> tuple[str, str]:
    """`hqsync alerts` output: (stdout text, stderr text). A dry run shows every digest in
    full; the webhook only ever masked."""
    config = settings.alerts
    out: list[str] = []
    err: list[str] = []
    count = len(report.digests)
    holding = f"{len(report.alerts)} event(s) hold now"
    if dry_run:
        out.append(f"dry run: {holding}; {count} digest(s) would be sent (nothing sent or marked)")
        if not config.enabled:
            out.append(
                "no channel is configured ([alerts.email] or [alerts.google_chat]): a real run "
                "sends nothing"
            )
        elif config.quiet_hours:
            start, end = config.quiet_hours
            out.append(f"quiet hours {start:%H:%M}-{end:%H:%M}: a run then waits until after them")
    elif not config.enabled:
        out.append(
            f"{holding}; no channel is configured ([alerts.email] or [alerts.google_chat]): "
            "nothing sent (see `hqsync alerts --dry-run`)"
        )
    elif report.quiet_until is not None:
        out.append(
            f"quiet hours: nothing sent now; {count} digest(s) wait until "
            f"{report.quiet_until:%H:%M} ({settings.schedule.timezone})"
        )
    else:
        failed = len(report.failed)
        out.append(
            f"{holding}; {count - failed} digest(s) sent"
            + (f", {failed} not delivered (retried on the next run)" if failed else "")
        )
    for item in report.digests:
        who = _shown(item.digest, settings)
        size = len(item.digest.alerts)
        if dry_run:
            out += ["", f"--- to {who}: {item.message.subject} ({size} alert(s))"]
            out += [f"    {line}" if line else "" for line in item.message.text.splitlines()]
        elif report.sent and item.error is None:
            out.append(f"  sent to {who}: {size} alert(s)")
        elif report.sent:
            err.append(f"  not delivered to {who}: {item.error}")
    for hospital, text in report.skipped_addresses:
        err.append(f"  hospital {hospital}: {text!r} in its email column is not an address")
    return "\n".join(out), "\n".join(err)


def _shown(digest: Digest, settings: Settings) -> str:
    chat = settings.alerts.google_chat
    if digest.channel == Channel.GOOGLE_CHAT and chat is not None:
        return f"the Google Chat space ({chat.shown})"
    return digest.recipient


__all__ = [
    "AlertsReport",
    "Delivered",
    "Senders",
    "leader_addresses",
    "render_report",
    "run_alerts",
]
