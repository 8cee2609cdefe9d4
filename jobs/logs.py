"""Logging for hqsync: human or JSON lines, secrets redacted, and a progress bar for terminals."""

from __future__ import annotations

import json
import logging
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, Any, Literal

from hqsync.config.utils import redact_url

ProgressCallback = Callable[[str, int, int], None]
"""Called as (stage label, done, total) while a long stage runs (same as jobs.pipeline's)."""

LogFormat = Literal["human", "json"]
HUMAN_FORMAT = "%(asctime)s %(levelname)-7s %(name)s: %(message)s"

_REDACTED = "***"
_SECRET_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    # PEM private keys, with real or JSON-escaped newlines.
    (
        re.compile(
            r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)",
            re.DOTALL,
        ),
        "-----PRIVATE KEY " + _REDACTED + "-----",
    ),
    (re.compile(r"(?i)\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]+"), r"\1 " + _REDACTED),
    # Google OAuth access tokens and JWTs (signed assertions, id tokens).
    (re.compile(r"\bya29\.[A-Za-z0-9._-]+"), _REDACTED),
    (re.compile(r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), _REDACTED),
    # key=value, key: value and "key": "value" for secret-looking keys.
    (
        re.compile(
            r"(?i)([\"']?\b(?:access_token|refresh_token|id_token|client_secret|private_key_id|"
            r"private_key|password|passwd|pwd|secret|api_key|apikey|assertion|token)[\"']?"
            r"\s*[:=]\s*[\"']?)([^\s\"'&,;}]+?)(?=[:.]?(?:[\s\"'&,;}]|$))"
        ),
        r"\1" + _REDACTED,
    ),
    # A query's key= (a Chat webhook's), even in a request line without scheme and host
    # (urllib3 logs "POST /v1/spaces/…/messages?key=…&token=…" at DEBUG).
    (re.compile(r"([?&]key=)[^\s\"'&#]+"), r"\1" + _REDACTED),
)
# Every URL in the text: passwords (even holding '@') and secret query values, by redact_url.
_URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]*[^\s'\"<>:.,;)]")


def redact(text: str) -> str:
    """`text` with access tokens, bearer credentials, private keys and URL passwords masked."""
    for pattern, replacement in _SECRET_PATTERNS:
        text = pattern.sub(replacement, text)
    return _URL.sub(lambda match: redact_url(match.group(0)), text)


class RedactingFilter(logging.Filter):
    """Masks secrets in every record's message, exception text and stack before it is written."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Redact `record` in place; never drops it."""
        record.msg = redact(record.getMessage())
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


_STANDARD_ATTRS = frozenset(vars(logging.LogRecord("x", logging.INFO, "x", 0, "x", None, None))) | {
    "message",
    "asctime",
    "taskName",
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, extra fields and any traceback."""

    def format(self, record: logging.LogRecord) -> str:
        """The record as one line of JSON."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD_ATTRS and not key.startswith("_"):
                entry[key] = value if _is_json(value) else str(value)
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False, default=str)


def _is_json(value: Any) -> bool:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return False
    return True


class _HqsyncHandler(logging.StreamHandler[IO[str]]):
    """Marks the handler configure_logging installed, so calling it again replaces it."""


def configure_logging(
    fmt: LogFormat = "human", level: int = logging.INFO, stream: IO[str] | None = None
) -> None:
    """Send every log record to `stream` (stderr by default) as human lines or JSON lines.

    Secrets are redacted from every record. APScheduler's per-run chatter is kept at WARNING
    unless `level` is DEBUG, so the daemon stays quiet.
    """
    if fmt not in ("human", "json"):
        raise ValueError(f"log format {fmt!r}: use 'human' or 'json'")
    root = logging.getLogger()
    for old in [h for h in root.handlers if isinstance(h, _HqsyncHandler)]:
        root.removeHandler(old)
    handler = _HqsyncHandler(stream if stream is not None else sys.stderr)
    handler.addFilter(RedactingFilter())
    handler.setFormatter(JsonFormatter() if fmt == "json" else logging.Formatter(HUMAN_FORMAT))
    root.addHandler(handler)
    root.setLevel(level)
    logging.getLogger("apscheduler").setLevel(
        logging.DEBUG if level <= logging.DEBUG else logging.WARNING
    )


def _ignore_progress(stage: str, done: int, total: int) -> None:
    """A progress callback that shows nothing."""


@contextmanager
def progress_callback(console: Any = None) -> Iterator[ProgressCallback]:
    """A progress callback drawing rich bars on a terminal; a silent one when not interactive.

    `console` is a rich Console (default: one on stderr). Bars are only drawn when it is a
    terminal, so the daemon and redirected runs stay quiet.
    """
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

    console = console if console is not None else Console(stderr=True)
    if not console.is_terminal:
        yield _ignore_progress
        return
    tasks: dict[str, TaskID] = {}
    stderr_before = sys.stderr
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=console,
        transient=True,
    ) as progress:

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = progress.add_task(stage, total=max(total, 0))
            progress.update(tasks[stage], completed=done, total=max(total, 0))

        # Log lines printed while the bar is live go above it, not through it.
        with _logs_through(sys.stderr, replaced=(stderr_before, sys.__stderr__)):
            yield update


@contextmanager
def _logs_through(stream: IO[str], replaced: tuple[IO[str] | None, ...]) -> Iterator[None]:
    """Point the handler configure_logging installed at `stream` for a while, if it wrote to
    one of the `replaced` streams."""
    moved: list[tuple[_HqsyncHandler, IO[str]]] = []
    if stream in replaced:
        yield
        return
    for handler in logging.getLogger().handlers:
        if isinstance(handler, _HqsyncHandler) and handler.stream in replaced:
            moved.append((handler, handler.stream))
            handler.setStream(stream)
    try:
        yield
    finally:
        for handler, previous in moved:
            handler.setStream(previous)
