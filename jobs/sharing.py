"""`hqsync check`: who each hospital's own dashboard is shared with, and warnings on shares
that could show a hospital's results to someone outside it.

hqsync never changes sharing; it lists Drive's permissions (permissions.list, read-only
Drive metadata scope) of every hospital dashboard spreadsheet (`[dashboard.hospitals]` and the
Hospitals tab's `dashboard` column) and warns on:

- "anyone with the link" (a permission of type `anyone`);
- a share to another hospital's address: the address's domain (or, for a public mail domain
  such as gmail.com, the whole address) has more shares on another hospital's dashboard than
  on this one (a tie warns on both), unless it is on more than half of the hospital
  dashboards (and on 3 or more): then it is the department's own, or hqsync's account's.

No hospital e-mail data exists yet, so "another hospital's address" is read from the other
dashboards' shares (see README, Hospital dashboards). xlsx hospital dashboards are files: their
sharing is said not to be checked.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hqsync.config.errors import HqsyncError
from hqsync.config.settings import Settings
from hqsync.config.vocabulary import Backend

PUBLIC_MAIL_DOMAINS = frozenset(
    {"gmail.com", "googlemail.com", "yahoo.com", "yahoo.com.vn", "outlook.com", "hotmail.com"}
)
"""Domains shared by unrelated people: there, an address is compared whole, not by domain."""


@dataclass(frozen=True)
class Share:
    """One Drive permission of a dashboard."""

    type: str
    role: str
    email: str | None = None
    domain: str | None = None

    @property
    def who(self) -> str:
        """The grantee as shown: an address, a domain or 'anyone with the link'."""
        if self.type == "anyone":
            return "anyone with the link"
        return self.email or self.domain or self.type

    @property
    def owner_key(self) -> str | None:
        """What ties the grantee to an organisation: its mail domain, or its whole address
        on a public mail domain."""
        if self.email and "@" in self.email:
            domain = self.email.rsplit("@", 1)[1].lower()
            return self.email.lower() if domain in PUBLIC_MAIL_DOMAINS else domain
        return self.domain.lower() if self.domain else None


@dataclass(frozen=True)
class SharingFinding:
    """Who one hospital dashboard is shared with, and what looks wrong."""

    hospital_id: str
    spreadsheet: str
    shares: tuple[Share, ...] = ()
    warnings: tuple[str, ...] = field(default_factory=tuple)
    problem: str | None = None


@dataclass(frozen=True)
class SharingReport:
    """The sharing section of `hqsync check`: each Google hospital dashboard's shares, or the
    xlsx hospital dashboards whose sharing is not checked (they are files)."""

    findings: tuple[SharingFinding, ...] = ()
    unchecked_files: tuple[tuple[str, str], ...] = ()
    """(hospital_id, path) of each xlsx hospital dashboard."""


def list_sharing(
    settings: Settings, column: Iterable[tuple[object, object]] = (), **google_kw: Any
) -> SharingReport:
    """Each hospital dashboard's shares and warnings: those of `[dashboard.hospitals]` and of
    the Hospitals tab's `dashboard` column (`column`: hospital_id, cell; the config wins). On
    xlsx they are files: listed as not checked. Never raises for what it finds."""
    from hqsync.jobs.publish import hospital_dashboards

    dash = settings.dashboard
    targets = hospital_dashboards(settings, column)
    if not targets:
        return SharingReport()
    if dash.backend != Backend.GOOGLE:
        return SharingReport(unchecked_files=tuple(sorted(targets.items())))
    from hqsync.sync.google import DRIVE_FILES_URL, READ_SCOPES, GoogleClient

    try:
        client = GoogleClient.from_settings(settings.google, READ_SCOPES, **google_kw)
    except HqsyncError as exc:
        return SharingReport(
            tuple(SharingFinding(h, s, problem=str(exc)) for h, s in sorted(targets.items()))
        )
    listed: dict[str, tuple[Share, ...]] = {}
    problems: dict[str, str] = {}
    for hospital, sid in sorted(targets.items()):
        try:
            answer = client.call(
                sid,
                "listing the shares of",
                lambda sid=sid: client.http.request(  # type: ignore[misc]
                    "get",
                    f"{DRIVE_FILES_URL}/{sid}/permissions",
                    params={
                        "fields": "permissions(type,role,emailAddress,domain)",
                        "supportsAllDrives": "true",
                    },
                ).json(),
            )
        except HqsyncError as exc:
            problems[hospital] = str(exc)
            continue
        listed[hospital] = tuple(
            Share(p.get("type", "?"), p.get("role", "?"), p.get("emailAddress"), p.get("domain"))
            for p in answer.get("permissions", [])
        )
    return SharingReport(
        tuple(
            SharingFinding(
                hospital,
                sid,
                listed.get(hospital, ()),
                _warnings(hospital, listed),
                problems.get(hospital),
            )
            for hospital, sid in sorted(targets.items())
        )
    )


def _warnings(hospital: str, listed: Mapping[str, tuple[Share, ...]]) -> tuple[str, ...]:
    if hospital not in listed:
        return ()
    spread = Counter(k for shares in listed.values() for k in {s.owner_key for s in shares} if k)
    common = max(3, len(listed) // 2 + 1)
    warnings: list[str] = []
    for share in listed[hospital]:
        if share.type == "anyone":
            warnings.append(
                f"anyone with the link can open it ({share.role}): in Drive, Share → General "
                "access → Restricted"
            )
            continue
        key = share.owner_key
        if not key or spread[key] >= common:
            continue
        count = {h: sum(s.owner_key == key for s in shares) for h, shares in listed.items()}
        others = sorted(h for h, n in count.items() if n and h != hospital)
        homes = {h for h, n in count.items() if n == max(count.values())}
        if others and (hospital not in homes or len(homes) > 1):
            warnings.append(
                f"{share.who} ({share.role}) is of the same organisation as shares of the "
                f"dashboard of {', '.join(others)}: check it belongs to this hospital, or "
                "remove the share"
            )
    return tuple(warnings)


def render_sharing(report: SharingReport) -> str:
    """The sharing section of `hqsync check` (empty when there are no hospital dashboards)."""
    lines: list[str] = []
    if report.unchecked_files:
        count = len(report.unchecked_files)
        lines.append(
            f"Hospital dashboards' sharing: not checked: the {count} hospital dashboard"
            f"{'s are' if count != 1 else ' is an'} xlsx file{'s' if count != 1 else ''} "
            f"(e.g. {report.unchecked_files[0][1]}); who can open one is who can read the file "
            "or its folder"
        )
    if not report.findings:
        return "\n".join(lines)
    lines.append("Hospital dashboards' sharing (hqsync never changes it):")
    for finding in report.findings:
        mark = "WARN" if finding.warnings or finding.problem else "ok  "
        lines.append(f"[{mark}] hospital {finding.hospital_id} ({finding.spreadsheet})")
        if finding.problem:
            lines.append(f"       {finding.problem}")
        if finding.shares:
            shown = ", ".join(f"{s.who} ({s.role})" for s in finding.shares)
            lines.append(f"       shared with: {shown}")
        lines.extend(f"       warning: {w}" for w in finding.warnings)
    return "\n".join(lines)
