"""Where texts go: Twilio (the real client) where credentials are set, else a local outbox.

A backend does two things: ``send`` one text, and ``find_sent`` a text it may already have
sent, by the send key tagged onto the body. The second is what makes sending exactly-once
across a crash (see ``dispatch.services.outbox`` and ``docs/adr/0001-sms-exactly-once.md``):
Twilio's Messages API has no idempotency key, so before re-sending a text whose earlier attempt
may have reached Twilio we ask Twilio whether it has a message to that number carrying the tag.

Provider exceptions never leave this module: they become :class:`TransientSendError` (retry
with back-off) or :class:`PermanentSendError` (fail and escalate).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote, urlparse

from dispatch.sms.errors import PermanentSendError, SendError, TransientSendError

log = logging.getLogger(__name__)

# Twilio error codes that no retry can fix (https://www.twilio.com/docs/api/errors).
PERMANENT_ERROR_CODES: dict[int, str] = {
    21211: "invalid 'To' number",
    21408: "sending to this region is not enabled",
    21610: "recipient has opted out (replied STOP)",
    21612: "this number cannot be reached from our sender",
    21614: "'To' number is not a mobile number",
    30003: "unreachable handset",
    30004: "message blocked by the recipient or carrier",
    30005: "unknown destination handset",
    30006: "landline or unreachable carrier",
    30007: "message filtered by the carrier",
}
# Statuses worth retrying: throttled, server errors and authentication (a credential being
# rotated recovers; it fails for good after the last attempt anyway).
TRANSIENT_HTTP_STATUSES = frozenset({401, 408, 409, 429})
DEFAULT_TIMEOUT_SECONDS = 15.0  # well inside the outbox's sending lease
LOOKUP_LIMIT = 100  # newest messages to one number searched for a send-key tag
LOCAL_SID_PREFIX = "LOCAL"
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class OutgoingSms:
    """One text to send. ``body`` already carries the tag of ``key`` (see :func:`key_tag`)."""

    to: str
    body: str
    key: str


@dataclass(frozen=True)
class SentSms:
    """What the provider said when it took a text."""

    sid: str
    from_number: str | None = None


class SmsBackend(Protocol):
    """Sends texts and finds texts already sent (by send key)."""

    name: str

    def send(self, sms: OutgoingSms) -> SentSms:
        """Hand ``sms`` to the provider. :raise SendError: (transient or permanent)."""
        ...

    def find_sent(self, *, to: str, key: str) -> str | None:
        """The provider sid of a text to ``to`` tagged with ``key``, or None if none was taken.

        :raise TransientSendError: the provider could not be asked (so nobody may re-send).
        """
        ...


def key_tag(key: str) -> str:
    """The tag appended to every outbound body; what :meth:`SmsBackend.find_sent` looks for."""
    return f"[msg {key}]"


def classify(status: int | None, code: int | None, message: str) -> SendError:
    """A provider failure as our transient or permanent error."""
    text = PERMANENT_ERROR_CODES.get(code or 0)
    code_text = str(code) if code is not None else (str(status) if status else None)
    if text:
        return PermanentSendError(f"{text} ({message})"[:300], code=code_text)
    if status is None or status >= 500 or status in TRANSIENT_HTTP_STATUSES or code == 20429:
        return TransientSendError(message[:300], code=code_text)
    return PermanentSendError(message[:300], code=code_text)


class TwilioBackend:
    """Twilio's own ``twilio.rest.Client`` with its own HTTP client; only the host may differ.

    ``base_url`` points the client's API domain elsewhere (the tests' fake Twilio on
    127.0.0.1); every other line of the real client runs, auth and form encoding included.
    """

    name = "twilio"

    def __init__(
        self, *, account_sid: str, auth_token: str, from_number: str | None = None,
        messaging_service_sid: str | None = None, base_url: str | None = None,
        status_callback_url: str | None = None, timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        from twilio.http.http_client import TwilioHttpClient
        from twilio.rest import Client

        if not (from_number or messaging_service_sid):
            raise ValueError("TwilioBackend needs from_number or messaging_service_sid")
        self.client = Client(account_sid, auth_token,
                             http_client=TwilioHttpClient(timeout=timeout))
        if base_url:
            self.client.api.base_url = base_url.rstrip("/")
        self.from_number = from_number
        self.messaging_service_sid = messaging_service_sid
        self.status_callback_url = status_callback_url

    def send(self, sms: OutgoingSms) -> SentSms:
        kwargs: dict[str, Any] = {"to": sms.to, "body": sms.body}
        if self.messaging_service_sid:
            kwargs["messaging_service_sid"] = self.messaging_service_sid
        if self.from_number:
            kwargs["from_"] = self.from_number
        if self.status_callback_url:
            # The key rides along so a delivery report can settle a text whose sid we lost.
            kwargs["status_callback"] = f"{self.status_callback_url}?key={quote(sms.key)}"
        message = self._call(lambda: self.client.messages.create(**kwargs))
        return SentSms(sid=str(message.sid), from_number=message.from_)

    def find_sent(self, *, to: str, key: str) -> str | None:
        tag = key_tag(key)
        found = self._call(lambda: self.client.messages.list(to=to, limit=LOOKUP_LIMIT))
        for message in found:
            if message.body and tag in message.body:
                return str(message.sid)
        return None

    @staticmethod
    def _call(fn: Any) -> Any:
        import requests
        from twilio.base.exceptions import TwilioException

        try:
            return fn()
        except requests.RequestException as exc:
            raise TransientSendError(f"network error talking to Twilio: {exc}"[:300]) from exc
        except TwilioException as exc:
            status = getattr(exc, "status", None)
            code = getattr(exc, "code", None)
            message = str(getattr(exc, "msg", None) or getattr(exc, "title", None) or exc)
            raise classify(status, code if isinstance(code, int) else None, message) from exc


@dataclass
class LocalOutboxBackend:
    """No provider: a text is "sent" by recording it with a local sid, so the demo shows it.

    ``find_sent`` finds nothing: a text whose record was lost in a crash is sent again, which
    here only means recorded again on the same row; nothing ever left the machine.
    """

    name: str = "local"
    sent: list[OutgoingSms] = field(default_factory=list)

    def send(self, sms: OutgoingSms) -> SentSms:
        self.sent.append(sms)
        return SentSms(sid=f"{LOCAL_SID_PREFIX}{secrets.token_hex(12)}", from_number=None)

    def find_sent(self, *, to: str, key: str) -> str | None:
        return None


def status_callback_url(public_base_url: str | None) -> str | None:
    """Where Twilio posts delivery reports; None when the service is not publicly reachable."""
    if not public_base_url:
        return None
    if urlparse(public_base_url).hostname in LOOPBACK_HOSTS:
        return None  # Twilio refuses callback URLs it cannot reach
    return f"{public_base_url.rstrip('/')}/sms/status"


def backend_from_config(config: Mapping[str, Any]) -> SmsBackend:
    """Twilio when an account sid, auth token and a sender are configured; else the local outbox.
    ``SMS_BACKEND=local`` keeps texts in the local outbox even with Twilio settings present."""
    if str(config.get("SMS_BACKEND") or "").strip().lower() == "local":
        return LocalOutboxBackend()
    sid, token = config.get("TWILIO_ACCOUNT_SID"), config.get("TWILIO_AUTH_TOKEN")
    sender, service = config.get("TWILIO_FROM"), config.get("TWILIO_MESSAGING_SERVICE_SID")
    if sid and token and (sender or service):
        return TwilioBackend(
            account_sid=sid, auth_token=token, from_number=sender,
            messaging_service_sid=service, base_url=config.get("TWILIO_BASE_URL"),
            status_callback_url=status_callback_url(config.get("PUBLIC_BASE_URL")),
        )
    if sid or token:
        log.warning("Twilio settings incomplete (need account sid, auth token and TWILIO_FROM "
                    "or TWILIO_MESSAGING_SERVICE_SID): texts go to the local outbox")
    return LocalOutboxBackend()
