"""Choosing the SMS backend and sorting provider failures into transient and permanent."""

from __future__ import annotations

import pytest

from dispatch.sms.errors import PermanentSendError, TransientSendError
from dispatch.sms.sender import (
    LocalOutboxBackend,
    TwilioBackend,
    backend_from_config,
    classify,
    status_callback_url,
)

CREDENTIALS = {"TWILIO_ACCOUNT_SID": "AC" + "1" * 32, "TWILIO_AUTH_TOKEN": "token"}


def test_no_credentials_means_local_outbox() -> None:
    """A newcomer with no settings gets the local outbox, never an error."""
    assert isinstance(backend_from_config({}), LocalOutboxBackend)


def test_credentials_without_a_sender_fall_back_to_local() -> None:
    """Twilio needs a From number or messaging service; without one, nothing is sent out."""
    assert isinstance(backend_from_config(CREDENTIALS), LocalOutboxBackend)


@pytest.mark.parametrize("sender", [{"TWILIO_FROM": "+447700900999"},
                                    {"TWILIO_MESSAGING_SERVICE_SID": "MG" + "2" * 32}])
def test_full_credentials_mean_twilio(sender: dict[str, str]) -> None:
    """Account sid, token and a sender select the real Twilio client."""
    backend = backend_from_config({**CREDENTIALS, **sender,
                                   "TWILIO_BASE_URL": "http://127.0.0.1:9"})

    assert isinstance(backend, TwilioBackend)
    assert backend.client.api.base_url == "http://127.0.0.1:9"


@pytest.mark.parametrize(("status", "code", "kind"), [
    (500, 20500, TransientSendError), (503, None, TransientSendError),
    (429, 20429, TransientSendError), (None, None, TransientSendError),
    (400, 21211, PermanentSendError), (400, 21610, PermanentSendError),
    (400, 21614, PermanentSendError), (400, 30006, PermanentSendError),
    (400, 21602, PermanentSendError),
])
def test_classify(status: int | None, code: int | None, kind: type) -> None:
    """Server errors and throttling retry; bad numbers and opt-outs fail at once."""
    assert isinstance(classify(status, code, "x"), kind)


@pytest.mark.parametrize(("base", "expected"), [
    ("https://dispatch.example.nhs.uk/", "https://dispatch.example.nhs.uk/sms/status"),
    ("http://127.0.0.1:5000", None), ("http://localhost:5000", None), (None, None),
])
def test_status_callback_url(base: str | None, expected: str | None) -> None:
    """Delivery reports are asked for only where Twilio can reach us."""
    assert status_callback_url(base) == expected
