"""Alert digests by e-mail, through the standard library's smtplib (STARTTLS or SSL, login
when a username is configured). One connection per run, opened on the first message.

A failure is returned as text, never raised: delivery problems never stop a run. The texts
name the server and what it answered, never the password.
"""

from __future__ import annotations

import logging
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from types import TracebackType

from hqsync.config.calendar_settings import EmailSettings
from hqsync.sync.alerts.digest import Message, clean

log = logging.getLogger(__name__)


class Mailer:
    """Sends plain-text mails through one SMTP server; use it as a context manager."""

    def __init__(self, settings: EmailSettings, ssl_context: ssl.SSLContext | None = None) -> None:
        self.settings = settings
        self._context = ssl_context
        self._smtp: smtplib.SMTP | None = None
        self._broken: str | None = None
        """Why the server cannot be used in this run (every later message fails with it)."""

    def __enter__(self) -> Mailer:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def server(self) -> str:
        """The server as messages name it: host:port."""
        return f"{self.settings.host}:{self.settings.port}"

    def send(self, to: str, message: Message) -> str | None:
        """Mail `message` to `to`; None when the server accepted it, else why not."""
        if self._broken is not None:
            return self._broken
        mail = self._mail(to, message)
        for attempt in (1, 2):
            smtp = self._connection()
            if smtp is None:
                return self._broken
            try:
                smtp.send_message(mail)
                return None
            except smtplib.SMTPRecipientsRefused as exc:
                return "refused: " + "; ".join(
                    _reply(code, text) for code, text in exc.recipients.values()
                )
            except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
                return f"refused by {self.server}: {_reply(exc.smtp_code, exc.smtp_error)}"
            except (smtplib.SMTPServerDisconnected, ConnectionError) as exc:
                self._drop()
                if attempt == 2:  # reconnected once already: give up for this run
                    self._broken = f"{self.server} closed the connection ({_describe(exc)})"
                    return self._broken
            except (smtplib.SMTPException, OSError) as exc:
                self._drop()
                return f"{self.server}: {_describe(exc)}"
        return self._broken

    def close(self) -> None:
        """Say goodbye to the server, if connected."""
        if self._smtp is not None:
            try:
                self._smtp.quit()
            except (smtplib.SMTPException, OSError):
                self._smtp.close()
            self._smtp = None

    def _mail(self, to: str, message: Message) -> EmailMessage:
        mail = EmailMessage()
        mail["From"] = self.settings.sender
        mail["To"] = to
        mail["Subject"] = clean(message.subject)
        mail["Date"] = formatdate(localtime=True)
        mail["Message-ID"] = make_msgid(domain=self.settings.sender.rpartition("@")[2])
        mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
        mail.set_content(message.text)
        return mail

    def _connection(self) -> smtplib.SMTP | None:
        if self._smtp is not None:
            return self._smtp
        settings = self.settings
        context = self._context or ssl.create_default_context()
        smtp: smtplib.SMTP | None = None
        try:
            if settings.ssl:
                smtp = smtplib.SMTP_SSL(
                    settings.host, settings.port, timeout=settings.timeout_s, context=context
                )
            else:
                smtp = smtplib.SMTP(settings.host, settings.port, timeout=settings.timeout_s)
                if settings.starttls:
                    smtp.starttls(context=context)
            if settings.username:
                smtp.login(settings.username, settings.password or "")
        except smtplib.SMTPAuthenticationError as exc:
            self._broken = (
                f"{settings.host} refused the login of {settings.username} "
                f"({_reply(exc.smtp_code, exc.smtp_error)}): check the username and "
                "HQSYNC_ALERTS_EMAIL_PASSWORD"
            )
        except smtplib.SMTPNotSupportedError as exc:
            self._broken = f"{self.server}: {_describe(exc)} (check starttls / ssl / port)"
        except (smtplib.SMTPException, OSError) as exc:
            self._broken = f"cannot reach the mail server {self.server}: {_describe(exc)}"
        if self._broken is not None:
            if smtp is not None:
                smtp.close()
            log.warning("alerts by e-mail: %s", self._broken)
            return None
        self._smtp = smtp
        return smtp

    def _drop(self) -> None:
        if self._smtp is not None:
            self._smtp.close()
            self._smtp = None


def _reply(code: int, text: bytes | str) -> str:
    message = text.decode("utf-8", "replace") if isinstance(text, bytes) else str(text)
    return clean(f"{code} {message}")


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"its TLS certificate is not trusted ({exc.verify_message})"
    text = clean(str(exc))
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__
