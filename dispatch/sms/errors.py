"""Errors of the SMS layer: provider failures wrapped at the boundary, and IG breaches."""

from __future__ import annotations


class SmsError(Exception):
    """Base of every SMS error."""


class SendError(SmsError):
    """The provider did not take a message. ``code`` is the provider's error code, if any."""

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


class TransientSendError(SendError):
    """Worth retrying later: a timeout, a refused connection, HTTP 429 or a 5xx."""


class PermanentSendError(SendError):
    """Retrying cannot help: an invalid or landline number, an opted-out recipient."""


class InformationGovernanceError(SmsError, ValueError):
    """A text would carry patient-identifiable or clinical data; ``problems`` says what."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("SMS text breaks information governance: " + "; ".join(problems))
        self.problems = problems
