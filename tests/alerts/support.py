"""Helpers of the alerts tests: a real SMTP server (aiosmtpd) and a local HTTP server standing
in for the Google Chat webhook, both started by the suite; a small province whose scores hold
known events; settings pointing at the two servers."""

from __future__ import annotations

import csv
import datetime as dt
import email
import email.policy
import io
import json
import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from hqsync.config.settings import Settings, settings_from_mapping
from hqsync.sync.interfaces import CellValue
from hqsync.sync.xlsx import write_source_workbook

PASSWORD = "pw-Secr3t-smtp"
TOKEN = "tokSECRETtoken123"
KEY = "AIzaSECRETkey456"
NAMES = {
    "BV01": "Bệnh viện Alpha",
    "BV02": "Bệnh viện Beta",
    "BV03": "Bệnh viện Gamma",
    "BV04": "Bệnh viện Delta",
}
LEADERS = {
    "BV01": ("giamdoc@bv01.example", "pho@bv01.example"),
    "BV02": ("lead@bv02.example",),
}
OPS = "ops@soyte.example"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Mailbox:
    """What the SMTP server accepted, and which recipients it refuses (550)."""

    messages: list[EmailMessage] = field(default_factory=list)
    refuse: set[str] = field(default_factory=set)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    def to(self, address: str) -> list[EmailMessage]:
        """The mails addressed to `address`."""
        return [m for m in self.messages if m["To"] == address]

    def recipients(self) -> list[str]:
        """Every mail's To, in order."""
        return [str(m["To"]) for m in self.messages]


class _Handler:
    def __init__(self, box: Mailbox) -> None:
        self.box = box

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.box.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.box.messages.append(message)
        return "250 Message accepted for delivery"


@dataclass
class SmtpServer:
    """A running aiosmtpd server and its mailbox."""

    port: int
    box: Mailbox
    controller: Controller


def start_smtp(
    *,
    tls: ssl.SSLContext | None = None,
    login: bool = False,
) -> SmtpServer:
    """Start a real SMTP server on 127.0.0.1 (STARTTLS with `tls`, AUTH LOGIN/PLAIN when
    `login`); stop it with `.controller.stop()`."""
    box = Mailbox()

    def authenticator(server, session, envelope, mechanism, auth_data):  # type: ignore[no-untyped-def]
        assert isinstance(auth_data, LoginPassword)
        box.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == PASSWORD.encode(), handled=False)

    port = free_port()
    kwargs: dict[str, Any] = {}
    if tls is not None:
        kwargs.update(tls_context=tls, require_starttls=True)
    if login:
        kwargs.update(authenticator=authenticator, auth_require_tls=tls is not None)
    controller = Controller(_Handler(box), hostname="127.0.0.1", port=port, **kwargs)
    controller.start()
    return SmtpServer(port, box, controller)


@dataclass
class Webhook:
    """A local HTTP server standing in for a Chat space's webhook."""

    url: str
    posts: list[dict[str, Any]] = field(default_factory=list)
    paths: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    """Answers to give, in order (then 200)."""
    server: ThreadingHTTPServer | None = None

    @property
    def texts(self) -> list[str]:
        """The text of every accepted post."""
        return [p["text"] for p in self.posts]


def start_webhook() -> Webhook:
    """Start the stand-in webhook on 127.0.0.1; stop it with `.server.shutdown()`."""
    hook = Webhook(url="")

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            status = hook.statuses.pop(0) if hook.statuses else 200
            hook.paths.append(self.path)
            if status == 200:
                hook.posts.append(json.loads(body))
            answer = b"{}" if status == 200 else b'{"error": {"message": "try later"}}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    port = server.server_address[1]
    hook.server = server
    hook.url = f"http://127.0.0.1:{port}/v1/spaces/AAAA/messages?key={KEY}&token={TOKEN}"
    return hook


def self_signed(directory: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """(server context, client context trusting it) for a certificate of 127.0.0.1."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file, key_file = directory / "cert.pem", directory / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert_file, key_file)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client


# --- a small province with known events -----------------------------------------------------


def _criteria() -> list[str]:
    text = (resources.files("hqsync.config.rulesets") / "qd6858-criteria.csv").read_text("utf-8")
    return [row["code"] for row in csv.DictReader(io.StringIO(text))]


def _tt35() -> list[str]:
    text = (resources.files("hqsync.config.rulesets") / "tt35-items.csv").read_text("utf-8")
    return [row["code"] for row in csv.DictReader(io.StringIO(text))]


@dataclass
class Province:
    """The rows of the source workbook, built up assessment by assessment."""

    hospitals: list[list[CellValue]] = field(default_factory=list)
    assessments: list[list[CellValue]] = field(default_factory=list)
    findings: list[list[CellValue]] = field(default_factory=list)

    def hospital(self, hid: str, email_cell: str | None = None, active: bool = True) -> None:
        """Add a hospital (obstetrics and paediatrics: every QĐ 6858 criterion applies)."""
        self.hospitals.append(
            [hid, NAMES[hid], "Ninh Kiều", "public", "có", "có", active, email_cell]
        )

    def qd6858(self, aid: str, hid: str, kind: str, on: dt.date, level: int) -> None:
        """An assessment where every criterion reaches exactly `level` (the score is `level`)."""
        self.assessments.append([aid, hid, "QD6858", kind, on, "x", "approved", None])
        for code in _criteria():
            for at in range(1, min(level + 1, 5) + 1):
                result = "Đạt" if at <= level else "Không đạt"
                self.findings.append([f"{aid}-{code}-{at}", aid, f"{code}-{at}.1", result])

    def tt35(self, aid: str, hid: str, kind: str, on: dt.date, failing: int = 0) -> None:
        """A TT 35 assessment with `failing` items not met (0: it passes)."""
        self.assessments.append([aid, hid, "TT35", kind, on, "x", "submitted", None])
        for index, code in enumerate(_tt35()):
            result = "Không đạt" if index < failing else "Đạt"
            self.findings.append([f"{aid}-{code}", aid, code, result])

    def write(self, path: Path) -> None:
        """Write the source workbook."""
        write_source_workbook(
            path,
            {
                "Hospitals": [
                    ["hospital_id", "name", "district", "ownership", "has_obstetrics",
                     "has_pediatrics", "active", "Email lãnh đạo"],
                    *self.hospitals,
                ],
                "Assessments": [
                    ["assessment_id", "hospital_id", "standard", "kind", "assessed_on",
                     "assessor", "status", "updated_at"],
                    *self.assessments,
                ],
                "Findings": [
                    ["finding_id", "assessment_id", "item_code", "result"],
                    *self.findings,
                ],
            },
        )  # fmt: skip


def province() -> Province:
    """The tests' province. Events that hold:

    - BV01: band_drop (QĐ 6858 council 4 → 2), basic_failed (TT 35 self passed, then fails);
    - BV02: basic_failed (its first TT 35 council assessment fails); QĐ 6858 stays at 3;
    - BV03: band_drop (4 → 3); its email cell is not an address: its events reach ops only;
    - BV04: inactive: its drop (4 → 1) is told to nobody.
    """
    p = Province()
    p.hospital("BV01", "giamdoc@bv01.example; pho@bv01.example")
    p.hospital("BV02", None)  # its leader is in [alerts.hospitals]
    p.hospital("BV03", "not-an-address")
    p.hospital("BV04", "lead@bv04.example", active=False)
    p.qd6858("A1", "BV01", "council", dt.date(2024, 11, 10), 4)
    p.qd6858("A2", "BV01", "council", dt.date(2025, 11, 10), 2)
    p.tt35("T1", "BV01", "self", dt.date(2025, 3, 1))
    p.tt35("T2", "BV01", "self", dt.date(2026, 3, 1), failing=2)
    p.qd6858("B1", "BV02", "council", dt.date(2024, 11, 10), 3)
    p.qd6858("B2", "BV02", "council", dt.date(2025, 11, 10), 3)
    p.tt35("U1", "BV02", "council", dt.date(2026, 3, 2), failing=1)
    p.qd6858("C1", "BV03", "council", dt.date(2024, 11, 10), 4)
    p.qd6858("C2", "BV03", "council", dt.date(2025, 11, 10), 3)
    p.qd6858("D1", "BV04", "council", dt.date(2024, 11, 10), 4)
    p.qd6858("D2", "BV04", "council", dt.date(2025, 11, 10), 1)
    return p


def alert_settings(
    directory: Path,
    db_url: str,
    *,
    smtp_port: int | None = None,
    webhook: str | None = None,
    extra: dict[str, Any] | None = None,
    email: dict[str, Any] | None = None,
    language: str = "vi",
    google: bool = True,
    cycles: list[dict[str, Any]] | None = None,
) -> Settings:
    """Settings of the province: xlsx source, Google dashboards (so messages carry links;
    `google` False: workbooks, which a cycle can publish),
    mail to the suite's SMTP server and Chat to its stand-in webhook."""
    alerts: dict[str, Any] = {"hospitals": {"BV02": list(LEADERS["BV02"])}, **(extra or {})}
    if smtp_port is not None:
        alerts["email"] = {
            "host": "127.0.0.1",
            "port": smtp_port,
            "starttls": False,
            "sender": "hqsync@soyte.example",
            "ops": [OPS],
            "timeout_s": 10,
            **(email or {}),
        }
    if webhook is not None:
        alerts["google_chat"] = {"webhook": webhook}
    data = {
        "database": {"url": db_url},
        "sources": [{"name": "demo", "backend": "xlsx", "spreadsheet": "source.xlsx"}],
        "dashboard": {
            "backend": "google" if google else "xlsx",
            "spreadsheet": "OVERVIEW-sheet-id" if google else "overview.xlsx",
            "language": language,
            "hospitals": {"BV01": "BV01-sheet-id" if google else "bv01.xlsx"},
        },
        "alerts": alerts,
        "cycles": cycles or [],
    }
    return settings_from_mapping(
        data, {"HQSYNC_ALERTS_EMAIL_PASSWORD": PASSWORD}, base_dir=directory
    )


def mail_texts(box: Mailbox) -> Iterator[str]:
    """Every accepted mail's headers and body, as text."""
    for message in box.messages:
        yield str(message["Subject"])
        body = message.get_body(("plain",))
        assert body is not None
        yield body.get_content()


def query_of(url: str) -> str:
    """The query of a URL (the webhook's key and token)."""
    return urlsplit(url).query
