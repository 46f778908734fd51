"""A fake Twilio REST API on 127.0.0.1, for driving the real ``twilio`` client in tests.

It implements what the outbox uses, in Twilio's own shapes: ``POST
/2010-04-01/Accounts/{sid}/Messages.json`` (form fields ``To``, ``From`` or
``MessagingServiceSid``, ``Body``, ``StatusCallback``; answers 201 with a message resource) and
``GET`` on the same path (``To`` filter, newest first, paged). It checks HTTP Basic auth
(account sid and token), answers errors as Twilio does (``{"code", "message", "status"}``), and
has switches: :meth:`FakeTwilio.fail_next` queues failures (500, 429, 21211...), and
:meth:`FakeTwilio.hang_on` makes the n-th create record the message and then hold its answer
until released (a sender killed there has sent but not recorded).
"""

from __future__ import annotations

import base64
import json
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

API_VERSION = "2010-04-01"
HANG_LIMIT_SECONDS = 30.0  # a hung answer is released after this even if the test forgets

ERRORS: dict[int, tuple[int, str]] = {  # Twilio code -> (HTTP status, message)
    20429: (429, "Too Many Requests"),
    20500: (500, "Internal Server Error"),
    21211: (400, "The 'To' number is not a valid phone number."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21614: (400, "'To' number is not a valid mobile number"),
}


@dataclass
class FakeMessage:
    sid: str
    to: str
    from_: str | None
    body: str
    messaging_service_sid: str | None
    status_callback: str | None
    created: datetime

    def resource(self, account_sid: str) -> dict[str, Any]:
        stamp = format_datetime(self.created)
        return {
            "sid": self.sid, "account_sid": account_sid, "to": self.to, "from": self.from_,
            "body": self.body, "status": "queued", "direction": "outbound-api",
            "messaging_service_sid": self.messaging_service_sid, "num_segments": "1",
            "num_media": "0", "date_created": stamp, "date_updated": stamp, "date_sent": None,
            "error_code": None, "error_message": None, "price": None, "price_unit": "USD",
            "api_version": API_VERSION, "subresource_uris": {},
            "uri": f"/{API_VERSION}/Accounts/{account_sid}/Messages/{self.sid}.json",
        }


@dataclass
class FakeTwilio:
    """The fake's state; :meth:`start` serves it on a random port of 127.0.0.1."""

    account_sid: str = "AC" + "0" * 32
    auth_token: str = "fake-auth-token"
    messages: list[FakeMessage] = field(default_factory=list)
    creates: int = 0  # create requests received, including failed ones
    _failures: deque[int] = field(default_factory=deque)
    _hang_at: int | None = None
    hung: threading.Event = field(default_factory=threading.Event)
    release: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    @property
    def base_url(self) -> str:
        assert self._server is not None, "start() the fake first"
        port = self._server.server_address[1]
        return f"http://127.0.0.1:{port}"

    def start(self) -> FakeTwilio:
        fake = self

        class Handler(_Handler):
            state = fake

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                         daemon=True).start()
        return self

    def stop(self) -> None:
        self.release.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.stop()

    def fail_next(self, *codes: int) -> None:
        """Answer the next creates with these Twilio error codes (20500, 20429, 21211...)."""
        self._failures.extend(codes)

    def hang_on(self, nth: int) -> None:
        """The ``nth`` create (1-based) is recorded, then its answer waits for :attr:`release`."""
        self._hang_at = nth

    def bodies_to(self, to: str) -> list[str]:
        return [m.body for m in self.messages if m.to == to]

    # -- request handling (called from the server threads) --

    def create(self, form: dict[str, str]) -> tuple[int, dict[str, Any], bool]:
        with self._lock:
            self.creates += 1
            if self._failures:
                return (*_error(self._failures.popleft()), False)
            message = FakeMessage(
                sid="SM" + uuid.uuid4().hex, to=form.get("To", ""), from_=form.get("From"),
                body=form.get("Body", ""), messaging_service_sid=form.get("MessagingServiceSid"),
                status_callback=form.get("StatusCallback"), created=datetime.now(UTC))
            self.messages.append(message)
            hang = self._hang_at == self.creates
        return 201, message.resource(self.account_sid), hang

    def page(self, query: dict[str, list[str]], path: str) -> dict[str, Any]:
        to = query.get("To", [None])[0]
        size = int(query.get("PageSize", ["50"])[0])
        with self._lock:
            found = [m for m in reversed(self.messages) if to is None or m.to == to]
        return {"messages": [m.resource(self.account_sid) for m in found[:size]],
                "first_page_uri": path, "next_page_uri": None, "previous_page_uri": None,
                "page": 0, "page_size": size, "start": 0, "end": max(len(found[:size]) - 1, 0),
                "uri": path}


def _error(code: int) -> tuple[int, dict[str, Any]]:
    status, message = ERRORS.get(code, (400, "Error"))
    return status, {"code": code, "message": message, "status": status,
                    "more_info": f"https://www.twilio.com/docs/errors/{code}"}


class _Handler(BaseHTTPRequestHandler):
    state: FakeTwilio

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet tests
        return

    def _authorised(self) -> bool:
        expected = base64.b64encode(
            f"{self.state.account_sid}:{self.state.auth_token}".encode()).decode()
        return self.headers.get("Authorization") == f"Basic {expected}"

    def _path_ok(self, path: str) -> bool:
        return path == f"/{API_VERSION}/Accounts/{self.state.account_sid}/Messages.json"

    def _answer(self, status: int, payload: dict[str, Any]) -> None:
        data = json.dumps(payload).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client was killed while we held the answer

    def _guard(self) -> str | None:
        url = urlparse(self.path)
        if not self._authorised():
            self._answer(*_error_auth())
            return None
        if not self._path_ok(url.path):
            self._answer(404, {"code": 20404, "message": "not found", "status": 404})
            return None
        return url.path

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length", "0"))
        form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
        if self._guard() is None:
            return
        status, payload, hang = self.state.create(form)
        if hang:
            self.state.hung.set()
            self.state.release.wait(HANG_LIMIT_SECONDS)
        self._answer(status, payload)

    def do_GET(self) -> None:  # noqa: N802
        path = self._guard()
        if path is None:
            return
        self._answer(200, self.state.page(parse_qs(urlparse(self.path).query), path))


def _error_auth() -> tuple[int, dict[str, Any]]:
    return 401, {"code": 20003, "message": "Authenticate", "status": 401}
