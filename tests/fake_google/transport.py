"""How requests reach the fake: `responses` callbacks in-process, or a local HTTP server."""

from __future__ import annotations

import contextlib
import json
import re
import sys
import threading
import time
from collections.abc import Iterator
from functools import lru_cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests
import responses

from tests.fake_google.api import DropConnection, FakeGoogle, StallRequest

STALL_S = 5.0
"""How long the HTTP server sits on a 'timeout' request (clients use shorter timeouts)."""


@contextlib.contextmanager
def mocked(fake: FakeGoogle) -> Iterator[responses.RequestsMock]:
    """Route every request to the fake's bases through `responses` (nothing else is reachable)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:

        def callback(request: Any) -> tuple[int, dict[str, str], bytes]:
            try:
                answer = fake.handle(request.method, request.url, request.headers, request.body)
            except DropConnection:
                raise requests.exceptions.ConnectionError(
                    "('Connection aborted.', RemoteDisconnected('Remote end closed connection'))"
                ) from None
            except StallRequest:
                raise requests.exceptions.ReadTimeout("Read timed out. (fake stall)") from None
            return (
                answer.status,
                {"Content-Type": answer.content_type, **dict(answer.headers)},
                answer.body,
            )

        hosts = {_origin(fake.sheets_base), _origin(fake.drive_base), _origin(fake.token_uri)}
        for host in hosts:
            pattern = re.compile(re.escape(host) + r"(/.*)?$")
            for method in ("GET", "POST", "PUT", "DELETE", "PATCH"):
                rsps.add_callback(method, pattern, callback=callback)
        yield rsps


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


class _Handler(BaseHTTPRequestHandler):
    fake: FakeGoogle
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = f"http://{self.headers.get('Host', 'localhost')}{self.path}"
        try:
            answer = self.fake.handle(self.command, url, dict(self.headers.items()), body)
        except DropConnection:
            self.close_connection = True
            return
        except StallRequest:
            time.sleep(STALL_S)
            self.close_connection = True
            return
        self.send_response(answer.status)
        self.send_header("Content-Type", answer.content_type)
        for name, value in answer.headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer.body)))
        self.end_headers()
        self.wfile.write(answer.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _serve


class _QuietServer(ThreadingHTTPServer):
    """A server that says nothing when a client goes away mid-request (a killed process)."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if not isinstance(error, ConnectionError):
            super().handle_error(request, client_address)


@contextlib.contextmanager
def serving(fake: FakeGoogle) -> Iterator[str]:
    """Serve the fake on 127.0.0.1 (ephemeral port); yields the base URL for all endpoints.

    The fake's bases and token_uri are pointed at the server for the duration.
    """
    handler = type("Handler", (_Handler,), {"fake": fake})
    server = _QuietServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    base = f"http://127.0.0.1:{server.server_address[1]}"
    fake.sheets_base = fake.drive_base = base
    fake.token_uri = base + "/token"
    thread = threading.Thread(target=server.serve_forever, name="fake-google", daemon=True)
    thread.start()
    try:
        yield base
    finally:
        server.shutdown()
        server.server_close()


@lru_cache(maxsize=1)
def _rsa_key() -> tuple[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def service_account_key(
    fake: FakeGoogle,
    path: Path,
    email: str = "hqsync-reader@hqsync-test.iam.gserviceaccount.com",
) -> Path:
    """Write a service-account JSON key whose token_uri is the fake's; register the account."""
    private, public = _rsa_key()
    info = {
        "type": "service_account",
        "project_id": "hqsync-test",
        "private_key_id": "0123456789abcdef",
        "private_key": private,
        "client_email": email,
        "client_id": "100000000000000000001",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": fake.token_uri,
        "auth_provider_x509_cert_url": "https://www.googleapis.com/oauth2/v1/certs",
        "universe_domain": "googleapis.com",
    }
    path.write_text(json.dumps(info), encoding="utf-8")
    path.chmod(0o600)  # as a key file should be: hqsync warns about one others can read
    fake.register_account(email, public)
    return path


def google_settings(fake: FakeGoogle, credentials: Path, **overrides: Any) -> Any:
    """GoogleSettings pointing at the fake (its endpoints, a key whose token_uri is the fake's)."""
    from hqsync.config.settings import GoogleSettings

    values: dict[str, Any] = {
        "credentials": str(credentials),
        "sheets_endpoint": fake.sheets_base,
        "drive_endpoint": fake.drive_base,
        "timeout_s": 5.0,
        "requests_per_minute": 6000,
    }
    values.update(overrides)
    return GoogleSettings(**values)
