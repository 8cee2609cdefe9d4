"""The council's calendar in the config: assessment cycles (`[[cycles]]`) and who is alerted
about what (`[alerts]`).

Only parsing and validation live here: the cycle model, and what a cycle means for a hospital
on a given day, are `hqsync.scoring.cycles`. Secrets (the SMTP password, the Chat webhook's key
and token) are kept out of every `repr` so they cannot reach a log line.
"""

from __future__ import annotations

import calendar
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from hqsync.config.errors import ConfigError
from hqsync.config.utils import http_link, redact_url
from hqsync.config.vocabulary import AlertEvent, Covers
from hqsync.scoring.cycles import Cycle, MonthDay

EMAIL_PASSWORD_ENV = "HQSYNC_ALERTS_EMAIL_PASSWORD"
"""The SMTP password: only ever from the environment, never the config file."""
CHAT_WEBHOOK_ENV = "HQSYNC_ALERTS_GOOGLE_CHAT_WEBHOOK"
"""The Chat webhook (its URL holds a key and a token): wins over `[alerts.google_chat]`."""
CALENDAR_ENV = frozenset({EMAIL_PASSWORD_ENV, CHAT_WEBHOOK_ENV})

CYCLE_KEYS = ("standard", "self_due", "council_due", "covers", "applies_when", "exclude")
ALERT_KEYS = ("events", "due_soon_days", "quiet_hours", "email", "google_chat", "hospitals")
EMAIL_KEYS = ("host", "port", "starttls", "ssl", "username", "sender", "ops", "timeout_s")
CHAT_KEYS = ("webhook",)

_MONTH_DAY = re.compile(r"^\s*(\d{1,2})-(\d{1,2})\s*$")
_QUIET = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
_ADDRESS = re.compile(r"^[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\"]+$")


@dataclass(frozen=True)
class EmailSettings:
    """`[alerts.email]`: the SMTP server alerts are mailed through."""

    host: str
    sender: str
    port: int = 587
    starttls: bool = True
    ssl: bool = False
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    ops: tuple[str, ...] = ()
    """Who hears of source failures and of delivery problems."""
    timeout_s: float = 30.0


@dataclass(frozen=True)
class ChatSettings:
    """`[alerts.google_chat]`: the department's Google Chat space (an incoming webhook)."""

    webhook: str = field(repr=False)

    @property
    def shown(self) -> str:
        """The webhook with its key and token masked, fit for a log line or `status`."""
        return redact_url(self.webhook)


@dataclass(frozen=True)
class AlertSettings:
    """`[alerts]`: which events are sent, when, and to whom."""

    events: tuple[AlertEvent, ...] = tuple(AlertEvent)
    due_soon_days: int = 14
    quiet_hours: tuple[time, time] | None = None
    """(start, end) in the schedule's time zone; may wrap midnight ("21:00-07:00")."""
    email: EmailSettings | None = None
    google_chat: ChatSettings | None = None
    hospitals: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))
    """hospital_id → its leaders' addresses; wins over the Hospitals tab's `email` column."""

    @property
    def enabled(self) -> bool:
        """Whether any channel is configured (otherwise alerts are only previewed)."""
        return self.email is not None or self.google_chat is not None

    def is_quiet(self, moment: time) -> bool:
        """Whether `moment` (local time) falls within the quiet hours."""
        if self.quiet_hours is None:
            return False
        start, end = self.quiet_hours
        if start <= end:
            return start <= moment < end
        return moment >= start or moment < end


def parse_cycles(items: object) -> tuple[Cycle, ...]:
    """Validate the `[[cycles]]` array of tables."""
    if items is None:
        return ()
    if not isinstance(items, list) or not all(isinstance(x, Mapping) for x in items):
        raise ConfigError("[[cycles]] must be an array of tables: write [[cycles]] per standard")
    cycles: list[Cycle] = []
    for index, item in enumerate(items, start=1):
        where = f"cycles[{index}]"
        for key in item:
            if key not in CYCLE_KEYS:
                raise ConfigError(
                    f"unknown config key {where}.{key}; known: {', '.join(CYCLE_KEYS)}"
                )
        standard = item.get("standard")
        if not isinstance(standard, str) or not standard.strip():
            raise ConfigError(f'{where}.standard is missing: name the standard, e.g. "QD6858"')
        if "self_due" not in item:
            raise ConfigError(f'{where}.self_due is missing: write the month-day, e.g. "11-30"')
        council = item.get("council_due")
        covers = item.get("covers", Covers.CURRENT_YEAR)
        if covers not in tuple(Covers):
            raise ConfigError(f"{where}.covers = {covers!r}: must be one of {', '.join(Covers)}")
        applies = item.get("applies_when")
        if applies is not None and (not isinstance(applies, str) or not applies.strip()):
            raise ConfigError(f"{where}.applies_when must name a Hospitals-tab column")
        exclude = item.get("exclude", [])
        if not isinstance(exclude, list) or not all(isinstance(x, str) for x in exclude):
            raise ConfigError(f"{where}.exclude must be a list of hospital ids")
        cycles.append(
            Cycle(
                standard=standard.strip(),
                self_due=_month_day(item["self_due"], f"{where}.self_due"),
                council_due=None
                if council is None
                else _month_day(council, f"{where}.council_due"),
                covers=Covers(covers),
                applies_when=applies.strip() if isinstance(applies, str) else None,
                exclude=tuple(x.strip() for x in exclude),
            )
        )
    seen: set[str] = set()
    for cycle in cycles:
        if cycle.standard.casefold() in seen:
            raise ConfigError(f"[[cycles]] names {cycle.standard!r} twice: one cycle per standard")
        seen.add(cycle.standard.casefold())
    return tuple(cycles)


def parse_alerts(section: Mapping[str, Any], environ: Mapping[str, str]) -> AlertSettings:
    """Validate `[alerts]` and its sub-tables; secrets come from `environ`."""
    for key in section:
        if key not in ALERT_KEYS:
            raise ConfigError(f"unknown config key alerts.{key}; known: {', '.join(ALERT_KEYS)}")
    events_raw = section.get("events", list(AlertEvent))
    if isinstance(events_raw, str):
        events_raw = [x for x in re.split(r"[,\s]+", events_raw) if x]
    if not isinstance(events_raw, list):
        raise ConfigError(f"alerts.events must be a list of: {', '.join(AlertEvent)}")
    for event in events_raw:
        if event not in tuple(AlertEvent):
            raise ConfigError(
                f"alerts.events: unknown event {event!r}; known: {', '.join(AlertEvent)}"
            )
    days = _int(section.get("due_soon_days", 14), "alerts.due_soon_days", minimum=0)
    quiet = section.get("quiet_hours")
    webhook = environ.get(CHAT_WEBHOOK_ENV) or _table(section, "google_chat", CHAT_KEYS).get(
        "webhook"
    )
    if webhook is not None and not (isinstance(webhook, str) and webhook_problem(webhook) is None):
        raise ConfigError(
            "alerts.google_chat.webhook must be the space's https:// incoming-webhook URL "
            f"(or set {CHAT_WEBHOOK_ENV}); plain http:// only to this machine (127.0.0.1, "
            "localhost), e.g. a relay"
        )
    return AlertSettings(
        events=tuple(AlertEvent(e) for e in dict.fromkeys(events_raw)),
        due_soon_days=days,
        quiet_hours=None if quiet is None else _quiet_hours(quiet),
        email=_email(_table(section, "email", EMAIL_KEYS), environ),
        google_chat=ChatSettings(webhook.strip()) if isinstance(webhook, str) else None,
        hospitals=_hospital_addresses(section.get("hospitals", {})),
    )


LOOPBACK_HOSTS = frozenset({"localhost", "::1"})
"""Hosts (with 127.0.0.0/8) a webhook may be reached on over plain http: this machine only (a
local relay, the tests' stand-in server); elsewhere its key and token would travel in clear."""


def webhook_problem(url: str) -> str | None:
    """Why `url` cannot be the Chat webhook (None when it can): it must be an https URL, or
    http to a loopback host."""
    link = http_link(url.strip())
    if link is None:
        return "not an http(s) URL"
    parts = urlsplit(link)
    if parts.scheme == "https":
        return None
    host = (parts.hostname or "").lower()
    if host in LOOPBACK_HOSTS or host.startswith("127."):
        return None
    return "plain http would send its key and token in clear: use https"


def split_addresses(text: str) -> tuple[str, ...]:
    """The addresses in a cell or config value: separated by `,` or `;`, blanks dropped."""
    return tuple(a.strip() for a in re.split(r"[,;]", text) if a.strip())


def address_problem(address: str) -> str | None:
    """Why `address` is not a usable e-mail address, or None when it is."""
    return None if _ADDRESS.match(address) else "not an e-mail address"


def _table(section: Mapping[str, Any], name: str, keys: tuple[str, ...]) -> Mapping[str, Any]:
    table = section.get(name, {})
    if not isinstance(table, Mapping):
        raise ConfigError(f"[alerts.{name}] must be a table")
    for key in table:
        if key not in keys:
            raise ConfigError(f"unknown config key alerts.{name}.{key}; known: {', '.join(keys)}")
    return table


def _email(table: Mapping[str, Any], environ: Mapping[str, str]) -> EmailSettings | None:
    if not table:
        return None
    where = "alerts.email"
    host = table.get("host")
    if not isinstance(host, str) or not host.strip():
        raise ConfigError(f"{where}.host is missing: the SMTP server's name")
    sender = table.get("sender", table.get("username"))
    if not isinstance(sender, str) or address_problem(sender.strip()):
        raise ConfigError(f"{where}.sender = {sender!r}: give the From address")
    starttls = _bool(table.get("starttls", True), f"{where}.starttls")
    ssl = _bool(table.get("ssl", False), f"{where}.ssl")
    if starttls and ssl:
        raise ConfigError(f"{where}: set starttls (port 587) or ssl (port 465), not both")
    username = table.get("username")
    if username is not None and not isinstance(username, str):
        raise ConfigError(f"{where}.username must be text")
    password = environ.get(EMAIL_PASSWORD_ENV)
    if username and not password:
        raise ConfigError(
            f"{where}.username is set but {EMAIL_PASSWORD_ENV} is not: "
            "set the SMTP password in that environment variable"
        )
    timeout = table.get("timeout_s", 30.0)
    if not isinstance(timeout, int | float) or isinstance(timeout, bool) or timeout <= 0:
        raise ConfigError(f"{where}.timeout_s must be a positive number of seconds")
    return EmailSettings(
        host=host.strip(),
        sender=sender.strip(),
        port=_int(table.get("port", 465 if ssl else 587), f"{where}.port", minimum=1),
        starttls=starttls,
        ssl=ssl,
        username=username.strip() if username else None,
        password=password or None,
        ops=_addresses(table.get("ops", []), f"{where}.ops"),
        timeout_s=float(timeout),
    )


def _hospital_addresses(table: object) -> Mapping[str, tuple[str, ...]]:
    if not isinstance(table, Mapping):
        raise ConfigError("[alerts.hospitals] must be a table of hospital_id = [addresses]")
    return MappingProxyType(
        {
            str(hospital).strip(): _addresses(value, f"alerts.hospitals.{hospital}")
            for hospital, value in table.items()
        }
    )


def _addresses(value: object, where: str) -> tuple[str, ...]:
    if isinstance(value, str):
        addresses = split_addresses(value)
    elif isinstance(value, list) and all(isinstance(x, str) for x in value):
        addresses = tuple(a for x in value for a in split_addresses(x))
    else:
        raise ConfigError(f"{where} must be a list of e-mail addresses")
    for address in addresses:
        if address_problem(address):
            raise ConfigError(f"{where}: {address!r} is not an e-mail address")
    return addresses


def _month_day(value: object, where: str) -> MonthDay:
    match = _MONTH_DAY.match(value) if isinstance(value, str) else None
    if match:
        month, day = int(match.group(1)), int(match.group(2))
        if 1 <= month <= 12 and 1 <= day <= calendar.monthrange(2024, month)[1]:
            return MonthDay(month, day)
    raise ConfigError(f'{where} = {value!r}: write the month-day in quotes, e.g. "11-30"')


def _quiet_hours(value: object) -> tuple[time, time]:
    match = _QUIET.match(value) if isinstance(value, str) else None
    if match:
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 < 24 and h2 < 24 and m1 < 60 and m2 < 60 and (h1, m1) != (h2, m2):
            return time(h1, m1), time(h2, m2)
    raise ConfigError(f'alerts.quiet_hours = {value!r}: write e.g. "21:00-07:00"')


def _int(value: object, where: str, minimum: int) -> int:
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)  # from an HQSYNC_ALERTS_* environment variable
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ConfigError(f"{where} = {value!r}: must be a whole number ≥ {minimum}")
    return value


def _bool(value: object, where: str) -> bool:
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    if not isinstance(value, bool):
        raise ConfigError(f"{where} = {value!r}: must be true or false (no quotes)")
    return value
