"""Who is told what, and the words they get: one digest per recipient per run (pure; no I/O).

A hospital's leaders get only their own hospital's events (never a source's failure); ops and
the department's Google Chat space get the department-wide digest. An address that is both
an ops address and a leader's gets the department-wide one only. Each digest holds only the
events not yet delivered to its recipient.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from hqsync.config.utils import name_sort_key, without_controls
from hqsync.config.vocabulary import CHAT_SPACE, AlertEvent, Channel, Language, Method
from hqsync.models.alerts import DeliveryKey
from hqsync.scoring.ruleset import RuleSet
from hqsync.sync.alerts.events import Alert
from hqsync.sync.alerts.labels import ALERT_LABELS

CHAT_LIMIT = 4000
"""Characters a Chat message holds here (Google's limit is higher; a digest longer than this
is cut, ending with how many more events the dashboard shows)."""


@dataclass(frozen=True)
class Audience:
    """Who may be told: the hospitals' leaders, ops, and which channels are configured."""

    leaders: Mapping[str, tuple[str, ...]]
    """hospital_id → its leaders' addresses."""
    ops: tuple[str, ...] = ()
    email: bool = False
    chat: bool = False


@dataclass(frozen=True)
class Digest:
    """The events one recipient is sent in one run."""

    channel: Channel
    recipient: str
    """An e-mail address, or `CHAT_SPACE`."""
    department: bool
    """The department-wide digest (ops, the Chat space), else a hospital's leaders' own."""
    alerts: tuple[Alert, ...]

    @property
    def keys(self) -> tuple[DeliveryKey, ...]:
        """The deliveries this digest makes."""
        return tuple((a.key, self.channel, self.recipient) for a in self.alerts)


@dataclass(frozen=True)
class Problem:
    """A digest this run could not deliver, as ops are told of it."""

    channel: Channel
    recipient: str
    error: str
    count: int


@dataclass(frozen=True)
class HospitalView:
    """A hospital as a message names it, with its dashboard's link (None: no web link)."""

    hospital_id: str
    name: str
    link: str | None = None


@dataclass(frozen=True)
class RenderContext:
    """What a message is written with: the language, names, links and the time zone."""

    language: Language
    hospitals: Mapping[str, HospitalView]
    rule_sets: Mapping[str, RuleSet]
    zone: ZoneInfo
    overview_link: str | None = None


@dataclass(frozen=True)
class Message:
    """A digest in words."""

    subject: str
    text: str


def plan_digests(
    alerts: Sequence[Alert], audience: Audience, delivered: Collection[DeliveryKey]
) -> list[Digest]:
    """Each recipient's digest of the events not yet delivered to it: the leaders' mails
    first, then the Chat space, then ops (whose mail also reports this run's problems)."""
    digests: list[Digest] = []
    ops = set(audience.ops)

    def pending(channel: Channel, recipient: str, chosen: Iterable[Alert]) -> tuple[Alert, ...]:
        return tuple(a for a in chosen if (a.key, channel, recipient) not in delivered)

    if audience.email:
        own: dict[str, set[str]] = {}
        for hospital, addresses in audience.leaders.items():
            for address in addresses:
                if address not in ops:
                    own.setdefault(address, set()).add(hospital)
        for address in sorted(own):
            mine = [
                a
                for a in alerts
                if a.hospital_id in own[address] and a.event != AlertEvent.SOURCE_FAILED
            ]
            chosen = pending(Channel.EMAIL, address, mine)
            if chosen:
                digests.append(Digest(Channel.EMAIL, address, False, chosen))
    if audience.chat:
        chosen = pending(Channel.GOOGLE_CHAT, CHAT_SPACE, alerts)
        if chosen:
            digests.append(Digest(Channel.GOOGLE_CHAT, CHAT_SPACE, True, chosen))
    if audience.email:
        for address in audience.ops:
            chosen = pending(Channel.EMAIL, address, alerts)
            if chosen:
                digests.append(Digest(Channel.EMAIL, address, True, chosen))
    return digests


def render(digest: Digest, context: RenderContext, problems: Sequence[Problem] = ()) -> Message:
    """The digest's subject and text (plain text; Chat's cut to `CHAT_LIMIT`)."""
    words = ALERT_LABELS[context.language]
    hospitals = _ordered_hospitals(digest.alerts, context)
    count = len(digest.alerts)
    if not digest.department:
        names = ", ".join(h.name for h in hospitals)
        subject = words["subject_hospital"].format(names=names, count=count)
    elif count:
        subject = words["subject_department"].format(count=count)
    else:
        subject = words["subject_problems"].format(count=sum(p.count for p in problems))
    blocks: list[list[str]] = []
    failures = [a for a in digest.alerts if a.event == AlertEvent.SOURCE_FAILED]
    if failures:
        blocks.append([words["sources"], *(f"- {_sentence(a, context)}" for a in failures)])
    for hospital in hospitals:
        lines = [f"{hospital.name} ({hospital.hospital_id})"]
        lines += [
            f"- {_sentence(a, context)}"
            for a in digest.alerts
            if a.hospital_id == hospital.hospital_id
        ]
        if hospital.link:
            lines.append(words["dashboard"].format(link=hospital.link))
        blocks.append(lines)
    if problems:
        blocks.append(
            [
                words["problems"],
                *(
                    "- " + words["problem"].format(who=_who(p, words), error=p.error, count=p.count)
                    for p in problems
                ),
            ]
        )
    intro = words["intro_department" if digest.department else "intro_hospital"]
    tail = []
    if digest.department and context.overview_link:
        tail.append(words["overview"].format(link=context.overview_link))
    tail.append(words["footer"])
    if digest.channel == Channel.GOOGLE_CHAT:
        text = _fit(intro, blocks, tail, count, words["more"])
        # Chat reads <users/all> as "notify everyone" and <url|text> as a link: a name typed
        # into a sheet must not do either.
        return Message(subject, text.replace("<", "‹").replace(">", "›"))
    text = "\n\n".join(["\n".join(b) for b in [[intro], *blocks, tail]])
    return Message(subject, text + "\n")


def _who(problem: Problem, words: Mapping[str, str]) -> str:
    channel = words[f"channel_{problem.channel}"]
    return f"{channel} {problem.recipient}" if problem.channel == Channel.EMAIL else channel


def _fit(intro: str, blocks: list[list[str]], tail: list[str], count: int, more: str) -> str:
    """The Chat text, whole blocks dropped from the end past `CHAT_LIMIT` (with a count)."""
    text = "\n\n".join(["\n".join(b) for b in [[intro], *blocks, tail]])
    if len(text) <= CHAT_LIMIT:
        return text
    kept: list[list[str]] = []
    shown = 0
    budget = CHAT_LIMIT - len(intro) - len("\n".join(tail)) - len(more) - 40
    for block in blocks:
        size = len("\n".join(block)) + 2
        if size > budget:
            break
        kept.append(block)
        budget -= size
        shown += sum(1 for line in block if line.startswith("- "))
    notice = more.format(count=max(count - shown, 1))
    return "\n\n".join(["\n".join(b) for b in [[intro], *kept, [notice], tail]])


def _ordered_hospitals(alerts: Iterable[Alert], context: RenderContext) -> list[HospitalView]:
    """The hospitals the alerts are about, in Vietnamese name order."""
    ids = {a.hospital_id for a in alerts if a.hospital_id is not None}
    views = [context.hospitals.get(i) or HospitalView(i, i) for i in ids]
    return sorted(views, key=lambda h: (name_sort_key(h.name), h.hospital_id))


def _sentence(alert: Alert, context: RenderContext) -> str:
    """One event as a sentence."""
    words = ALERT_LABELS[context.language]
    rule_set = context.rule_sets.get(alert.standard or "")
    standard = rule_set.display_name if rule_set else (alert.standard or "")
    kind = words[f"kind_{alert.kind}"] if alert.kind else ""
    drafted = words["drafted"] if alert.drafted else ""
    lang = context.language
    if alert.event == AlertEvent.SOURCE_FAILED:
        since = alert.since.astimezone(context.zone) if alert.since else None
        return words["source_failed"].format(
            source=alert.source,
            since=since.strftime("%H:%M ") + _day(since.date(), lang) if since else "?",
            failures=alert.failures or 1,
            error=clean(alert.error or "?"),
        )
    if alert.event in (AlertEvent.DUE_SOON, AlertEvent.OVERDUE):
        days = alert.days_left or 0
        key = str(alert.event) if days else "due_today"
        return words[key].format(
            standard=standard,
            year=alert.year,
            kind=kind,
            due=_day(alert.due, lang),
            days=abs(days),
            drafted=drafted,
        )
    return words[str(alert.event)].format(
        standard=standard,
        kind=kind,
        on=_day(alert.on, lang),
        band=alert.band,
        previous_band=alert.previous_band,
        score=_score(alert.score, rule_set, context.language),
        previous_score=_score(alert.previous_score, rule_set, context.language),
    )


def _day(day: date | datetime | None, language: Language) -> str:
    if day is None:
        return "?"
    return day.strftime("%d/%m/%Y") if language == Language.VI else day.strftime("%Y-%m-%d")


def _score(score: float | None, rule_set: RuleSet | None, language: Language) -> str:
    if score is None:
        return ALERT_LABELS[language]["no_score"]
    decimals = rule_set.decimals if rule_set else 2
    text = f"{score:.{decimals}f}"
    if rule_set is not None and rule_set.method == Method.CHECKLIST:
        text += "%"
    return text.replace(".", ",") if language == Language.VI else text


def clean(text: str) -> str:
    """Text from a sheet or an error, fit for one line of a message or a mail header: no
    control characters, line breaks or runs of spaces."""
    return " ".join(without_controls(text, " ").split())
