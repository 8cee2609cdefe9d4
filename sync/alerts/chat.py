"""Alert digests to the department's Google Chat space: one POST of {"text": …} to its
incoming webhook (requests).

The webhook's URL holds the space's key and token: a failure is described by the host and
what happened, with both masked, never by the exception's own text (which quotes the URL).
"""

from __future__ import annotations

import logging
from urllib.parse import parse_qsl, urlsplit

import requests

from hqsync.config.calendar_settings import ChatSettings
from hqsync.sync.alerts.digest import Message, clean

log = logging.getLogger(__name__)

CHAT_TIMEOUT_S = 30.0
"""Seconds before a webhook call is abandoned (retried on the next run)."""


def post_to_chat(
    chat: ChatSettings, message: Message, session: requests.Session | None = None
) -> str | None:
    """Post `message` to the space; None when Chat accepted it, else why not."""
    host = urlsplit(chat.webhook).hostname or "the webhook"
    poster = session or requests
    try:
        response = poster.post(
            chat.webhook,
            json={"text": message.text},
            headers={"Content-Type": "application/json; charset=UTF-8"},
            timeout=CHAT_TIMEOUT_S,
        )
    except requests.Timeout:
        return f"Google Chat webhook: {host} did not answer within {CHAT_TIMEOUT_S:g}s"
    except requests.ConnectionError:
        return f"Google Chat webhook: cannot connect to {host}"
    except requests.RequestException as exc:
        return f"Google Chat webhook: the request to {host} failed ({type(exc).__name__})"
    if response.status_code >= 400:
        detail = _scrub(clean(response.text[:300]), chat.webhook)
        return f"Google Chat webhook: {host} answered HTTP {response.status_code}: {detail}"
    return None


def _scrub(text: str, webhook: str) -> str:
    """`text` without the webhook's secrets (an error page may quote the request)."""
    text = text.replace(webhook, ChatSettings(webhook).shown)
    secrets = [value for _, value in parse_qsl(urlsplit(webhook).query) if len(value) >= 4]
    for secret in sorted(secrets, key=len, reverse=True):
        text = text.replace(secret, "***")
    return text
