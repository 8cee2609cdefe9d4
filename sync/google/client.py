"""The Google HTTP layer: credentials, one resilient session, and the client that wraps errors.

Every request goes through `GoogleClient.session` (a google-auth `AuthorizedSession`), which
rewrites the public endpoints to the configured ones, keeps the whole process under the
credential's request rate, puts a timeout on every request and retries what is worth
retrying. gspread's `HTTPClient` sits on top of that session for the Sheets calls; its
`BackOffHTTPClient` (which retries forever) is never used. Every failure reaches the caller as
a `GoogleError` whose message names the spreadsheet, the account and what to do.
"""

from __future__ import annotations

import json
import logging
import random
import re
import stat
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import google.auth
import requests
from google.auth.credentials import Credentials
from google.auth.exceptions import DefaultCredentialsError, RefreshError, TransportError
from google.auth.transport.requests import AuthorizedSession
from google.oauth2 import service_account
from gspread.exceptions import APIError
from gspread.http_client import HTTPClient
from urllib3.exceptions import InvalidHeader
from urllib3.util.retry import Retry

from hqsync.config.errors import ConfigError, GoogleError
from hqsync.config.settings import DRIVE_ENDPOINT, SHEETS_ENDPOINT, GoogleSettings

log = logging.getLogger(__name__)

SCOPE_SHEETS = "https://www.googleapis.com/auth/spreadsheets"
SCOPE_SHEETS_READONLY = "https://www.googleapis.com/auth/spreadsheets.readonly"
SCOPE_DRIVE_METADATA_READONLY = "https://www.googleapis.com/auth/drive.metadata.readonly"
READ_SCOPES = (SCOPE_SHEETS_READONLY, SCOPE_DRIVE_METADATA_READONLY)
WRITE_SCOPES = (SCOPE_SHEETS,)

SHEETS_URL = SHEETS_ENDPOINT + "/v4/spreadsheets"
DRIVE_FILES_URL = DRIVE_ENDPOINT + "/drive/v3/files"
RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
"""Transient answers (a timeout, the quota, a failing or overloaded server), worth retrying.
Anything else (501 Not Implemented, 400, 403, ...) is final: sent again, it fails again."""
_RETRY_EXCEPTIONS = (
    requests.exceptions.ConnectionError,
    requests.exceptions.Timeout,
    requests.exceptions.ChunkedEncodingError,
    TransportError,
)
ADC = "adc"
T = TypeVar("T")


class WriteOutcomeUnknown(Exception):
    """A write was sent but its answer was lost (read timeout, dropped connection).

    Google may or may not have applied it, so it is not blindly sent again: the caller
    decides (the dashboard writer re-reads the layout and publishes once more).
    """


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently failed requests are retried (capped exponential backoff)."""

    attempts: int = 6
    base_s: float = 1.0
    cap_s: float = 32.0
    retry_after_cap_s: float = 120.0
    """The longest `Retry-After` honoured; a longer one ends the retries (the caller fails)."""

    def delay(self, attempt: int, rand: Callable[[], float]) -> float:
        """The wait before retry `attempt` (1-based): a random half to all of a capped doubling."""
        return min(self.cap_s, self.base_s * 2 ** (attempt - 1)) * (0.5 + rand() / 2)


class RateLimiter:
    """A sliding-window limiter: at most `per_minute` request starts in any 60 seconds."""

    def __init__(
        self,
        per_minute: int,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_minute = max(1, int(per_minute))
        self.clock = clock
        self.sleep = sleep
        self._starts: deque[float] = deque()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Wait until one more request fits in the window; returns how long it waited."""
        waited = 0.0
        while True:
            with self._lock:
                now = self.clock()
                while self._starts and now - self._starts[0] >= _WINDOW_S - 1e-6:
                    self._starts.popleft()
                if len(self._starts) < self.per_minute:
                    self._starts.append(now)
                    return waited
                pause = _WINDOW_S - (now - self._starts[0])
            log.debug("rate limit reached (%d/min); waiting %.1fs", self.per_minute, pause)
            self.sleep(pause)
            waited += pause


_WINDOW_S = 60.0
_LIMITERS: dict[str, RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def shared_limiter(credential_key: str, per_minute: int) -> RateLimiter:
    """The process-wide limiter of one credential, so every job using it shares the quota."""
    with _LIMITERS_LOCK:
        limiter = _LIMITERS.get(credential_key)
        if limiter is None or limiter.per_minute != per_minute:
            limiter = _LIMITERS[credential_key] = RateLimiter(per_minute)
        return limiter


_WARNED_KEYS: set[str] = set()


def key_file_warning(path: Path) -> str | None:
    """A warning when the key file can be read by its group or by others; None otherwise."""
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return None
    if not mode & 0o077:
        return None
    return (
        f"google.credentials: key file {path} has mode {mode:04o}: other users can read the "
        f"service account's private key; run 'chmod 600 {path}'"
    )


def load_credentials(settings: GoogleSettings, scopes: Sequence[str]) -> tuple[Credentials, str]:
    """Credentials for `scopes` and the account they act as (a key file's client_email, or ADC)."""
    source = settings.credentials
    if source is None:
        raise ConfigError(
            "google.credentials is not set: give the path of a service-account key file, "
            'or "adc" for application default credentials'
        )
    if source == ADC:
        try:
            creds, _project = google.auth.default(scopes=list(scopes))
        except DefaultCredentialsError as exc:
            raise ConfigError(
                f'google.credentials = "adc" but no application default credentials were found '
                f"({exc}); run 'gcloud auth application-default login' or use a key file"
            ) from None
        account = (
            getattr(creds, "service_account_email", None)
            or getattr(creds, "account", None)
            or "the account of your application default credentials"
        )
        return creds, str(account)
    path = Path(source)
    warning = key_file_warning(path)
    if warning is not None and str(path) not in _WARNED_KEYS:
        _WARNED_KEYS.add(str(path))
        log.warning("%s", warning)
    try:
        info = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"google.credentials: key file {path} not found; download a JSON key of the "
            "service account from the Google Cloud console and point google.credentials at it"
        ) from None
    except (OSError, ValueError) as exc:
        raise ConfigError(
            f"google.credentials: {path} is not a readable JSON key ({exc})"
        ) from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        raise ConfigError(
            f"google.credentials: {path} is not a service-account key (its 'type' must be "
            '"service_account"); use "adc" for user credentials'
        )
    try:
        creds = service_account.Credentials.from_service_account_info(info, scopes=list(scopes))
    except (ValueError, KeyError) as exc:
        raise ConfigError(f"google.credentials: {path} is missing a field ({exc})") from None
    return creds, creds.service_account_email


class _ResilientSession(AuthorizedSession):
    """An AuthorizedSession that rewrites endpoints, rate-limits, times out and retries."""

    def __init__(
        self,
        credentials: Credentials,
        *,
        endpoints: Mapping[str, str],
        timeout_s: float,
        limiter: RateLimiter,
        retry: RetryPolicy,
        sleep: Callable[[float], None],
        rand: Callable[[], float],
    ) -> None:
        super().__init__(credentials)
        self.endpoints = dict(endpoints)
        self.timeout_s = timeout_s
        self.limiter = limiter
        self.retry = retry
        self.sleep = sleep
        self.rand = rand
        self.requests_made = 0
        self._count_lock = threading.Lock()

    def rewrite(self, url: str) -> str:
        """`url` with a public Google endpoint replaced by the configured one."""
        for public, configured in self.endpoints.items():
            if url.startswith(public) and public != configured:
                return configured + url[len(public) :]
        return url

    def request(  # type: ignore[override]
        self, method: str, url: str, data: Any = None, headers: Any = None, **kwargs: Any
    ) -> requests.Response:
        """Send one API request; retry 429/5xx/timeouts/dropped connections with backoff."""
        url = self.rewrite(url)
        kwargs["timeout"] = self.timeout_s
        attempt = 1
        while True:
            asked: float | None = None
            self.limiter.acquire()
            with self._count_lock:
                self.requests_made += 1
            try:
                response = super().request(method, url, data=data, headers=headers, **kwargs)
            except _RETRY_EXCEPTIONS as exc:
                if method.upper() == "POST" and _maybe_delivered(exc):
                    raise WriteOutcomeUnknown(type(exc).__name__) from exc
                if attempt >= self.retry.attempts:
                    raise
                reason = type(exc).__name__
            else:
                if response.status_code not in RETRY_STATUSES or attempt >= self.retry.attempts:
                    return response
                reason = f"HTTP {response.status_code}"
                asked = _retry_after(response)
                if asked is not None and asked > self.retry.retry_after_cap_s:
                    return response
            pause = self.retry.delay(attempt, self.rand)
            if asked is not None:
                pause = max(pause, asked)
            log.warning(
                "%s %s failed (%s, attempt %d of %d); retrying in %.1fs",
                method.upper(),
                _path_only(url),
                reason,
                attempt,
                self.retry.attempts,
                pause,
            )
            self.sleep(pause)
            attempt += 1


def _retry_after(response: requests.Response) -> float | None:
    """The wait a `Retry-After` header asks for, in seconds (urllib3 reads both forms)."""
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return float(_RETRY_AFTER.parse_retry_after(value))
    except InvalidHeader:
        return None


_RETRY_AFTER = Retry()


def _maybe_delivered(exc: BaseException) -> bool:
    """True when the request may have reached Google before the failure (not a connect error)."""
    if isinstance(exc, requests.exceptions.ConnectTimeout | TransportError):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError):
        text = str(exc)
        return not any(s in text for s in ("NewConnectionError", "NameResolutionError", "refused"))
    return True


def _path_only(url: str) -> str:
    return url.split("?", 1)[0]


class GoogleClient:
    """An authorised, rate-limited, retrying connection to Google for one credential."""

    def __init__(
        self,
        credentials: Credentials,
        account: str,
        *,
        settings: GoogleSettings,
        limiter: RateLimiter,
        retry: RetryPolicy | None = None,
        sleep: Callable[[float], None] = time.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self.account = account
        self.settings = settings
        self.retry = retry or RetryPolicy()
        self.session = _ResilientSession(
            credentials,
            endpoints={
                SHEETS_ENDPOINT: settings.sheets_endpoint.rstrip("/"),
                DRIVE_ENDPOINT: settings.drive_endpoint.rstrip("/"),
            },
            timeout_s=settings.timeout_s,
            limiter=limiter,
            retry=self.retry,
            sleep=sleep,
            rand=rand,
        )
        self.http = HTTPClient(auth=None, session=self.session)  # type: ignore[arg-type]
        self.http.set_timeout(settings.timeout_s)

    @classmethod
    def from_settings(
        cls,
        settings: GoogleSettings,
        scopes: Sequence[str],
        *,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        rand: Callable[[], float] = random.random,
        retry: RetryPolicy | None = None,
        limiter: RateLimiter | None = None,
    ) -> GoogleClient:
        """A client for `scopes` with the configured credentials, endpoints and limits.

        Unless one is given, the rate limiter is the one shared by every client of the same
        credential in this process (`clock`/`sleep` then only apply to a new limiter).
        """
        credentials, account = load_credentials(settings, scopes)
        if limiter is None:
            per_minute = settings.requests_per_minute
            if clock is not time.monotonic or sleep is not time.sleep:
                limiter = RateLimiter(per_minute, clock=clock, sleep=sleep)
            else:
                limiter = shared_limiter(settings.credentials or ADC, per_minute)
        return cls(
            credentials, account, settings=settings, limiter=limiter, retry=retry,
            sleep=sleep, rand=rand,
        )  # fmt: skip

    @property
    def requests_made(self) -> int:
        """How many HTTP requests (retries included, token refreshes excluded) were sent."""
        return self.session.requests_made

    def call(
        self,
        spreadsheet_id: str,
        what: str,
        fn: Callable[[], T],
        *,
        pass_unknown_outcome: bool = False,
    ) -> T:
        """Run one API call for `spreadsheet_id`, turning every failure into GoogleError.

        With `pass_unknown_outcome`, a write whose answer was lost raises WriteOutcomeUnknown
        for the caller to handle.
        """
        try:
            return fn()
        except WriteOutcomeUnknown as exc:
            if pass_unknown_outcome:
                raise
            raise GoogleError(
                f"{what} spreadsheet {spreadsheet_id} as {self.account}: the connection failed "
                f"({exc}) after the request was sent, so Google may or may not have applied it; "
                "look at the spreadsheet and run the command again"
            ) from None
        except APIError as exc:
            raise self._api_error(spreadsheet_id, what, exc) from None
        except ValueError as exc:  # a body that is not JSON (requests' JSONDecodeError)
            raise GoogleError(
                f"{what} spreadsheet {spreadsheet_id} as {self.account}: Google's answer is "
                f"not valid JSON ({_first_line(exc)}); try again later"
            ) from None
        except (KeyError, IndexError, TypeError, AttributeError) as exc:
            # A token endpoint's answer of the wrong shape fails inside google-auth this way.
            raise GoogleError(
                f"{what} spreadsheet {spreadsheet_id} as {self.account}: an answer from Google "
                f"is of an unexpected shape ({type(exc).__name__}: {_first_line(exc)}); try "
                "again later, and report it if it persists"
            ) from None
        except RefreshError as exc:
            if getattr(exc, "retryable", False):
                raise GoogleError(
                    f"Google's token endpoint kept failing while {what} spreadsheet "
                    f"{spreadsheet_id} as {self.account} ({_auth_reason(exc)}); try again later"
                ) from None
            raise GoogleError(
                f"Google rejected the credentials of {self.account} while {what} spreadsheet "
                f"{spreadsheet_id} ({_auth_reason(exc)}); check that the key in "
                "google.credentials is current and the service account is enabled"
            ) from None
        except _RETRY_EXCEPTIONS as exc:
            raise GoogleError(
                f"could not reach Google while {what} spreadsheet {spreadsheet_id} as "
                f"{self.account}: {type(exc).__name__} after {self.retry.attempts} attempts "
                f"(timeout {self.settings.timeout_s:g}s); check the network or the endpoints "
                "in [google]"
            ) from None

    @contextmanager
    def answer_shape(self, spreadsheet_id: str, what: str) -> Iterator[None]:
        """Turn an answer of an unexpected shape (a missing key, a wrong type) into GoogleError."""
        try:
            yield
        except (KeyError, IndexError, TypeError, AttributeError, ValueError) as exc:
            raise GoogleError(
                f"{what} spreadsheet {spreadsheet_id} as {self.account}: Google's answer is "
                f"malformed or of an unexpected shape ({type(exc).__name__}: {exc}); try again "
                "later, and report it if it persists"
            ) from None

    def _api_error(self, spreadsheet_id: str, what: str, exc: APIError) -> GoogleError:
        status = exc.response.status_code
        message = _google_message(exc.response)
        who = self.account
        asked, cap = _retry_after(exc.response), self.retry.retry_after_cap_s
        if status == 403 and "scope" in message.lower():
            advice = "the client lacks the OAuth scope for this call (a bug in hqsync: report it)"
        elif status == 403 and ("has not been used" in message or "is disabled" in message):
            advice = (
                "enable the Google Sheets API and the Google Drive API in the Cloud project of "
                f"{who} (console: APIs & Services → Library), wait a few minutes, then retry"
            )
        elif status in (403, 404):
            advice = (
                f"open the spreadsheet in Google Sheets, press Share and add {who} "
                "(Viewer for a source, Editor for the dashboard); check its id in the config"
            )
        elif status == 401:
            advice = f"the credentials of {who} were rejected; check google.credentials"
        elif status in RETRY_STATUSES and asked is not None and asked > cap:
            advice = (
                f"Google asked to wait {asked:.0f}s before trying again, longer than hqsync "
                f"waits ({cap:.0f}s); run the command again later"
            )
        elif status == 429:
            advice = (
                f"Google's quota kept refusing after {self.retry.attempts} attempts; lower "
                "google.requests_per_minute or sync less often"
            )
        elif status >= 500:
            advice = f"Google kept failing after {self.retry.attempts} attempts; try again later"
        else:
            advice = "Google refused the request"
        return GoogleError(
            f"{what} spreadsheet {spreadsheet_id} as {who} failed: HTTP {status} {message}; "
            f"{advice}"
        )


def _google_message(response: requests.Response) -> str:
    try:
        error = response.json().get("error", {})
        return str(error.get("message") or error.get("status") or response.reason)
    except (ValueError, AttributeError):
        return str(response.reason or "")


_AUTH_WORD = re.compile(r"[^A-Za-z0-9 _.,:;'()-]")


def _auth_reason(exc: RefreshError) -> str:
    """Why the token endpoint refused, from its error code and description only: the rest of
    its answer (which may echo an assertion or a token) is never stored or printed."""
    data = exc.args[1] if len(exc.args) > 1 else None
    parts: list[str] = []
    if isinstance(data, Mapping):
        for field in ("error", "error_description"):
            value = data.get(field)
            if isinstance(value, str) and value:
                parts.append(_AUTH_WORD.sub("", value)[:120])
    if not parts and exc.args and isinstance(exc.args[0], str):
        first = exc.args[0].split(":", 1)[0]  # 'invalid_grant: <the body>' → the code only
        parts.append(_AUTH_WORD.sub("", first)[:60])
    return ": ".join(parts) or type(exc).__name__


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
