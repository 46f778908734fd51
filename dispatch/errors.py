"""Errors raised by the dispatch services, mapped to HTTP codes in one place (``dispatch.api``)."""

from __future__ import annotations


class DispatchError(Exception):
    """Base of every service error; ``status`` is the HTTP code it maps to."""

    status = 400

    def __init__(self, message: str, *, errors: dict[str, list[str]] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or {}


class NotFound(DispatchError):
    status = 404


class Conflict(DispatchError):
    status = 409


class IllegalTransition(Conflict):
    """A status change the transition table forbids."""


class InvalidInput(DispatchError):
    """Input that fails validation; ``errors`` maps field to reasons."""

    status = 422


class Forbidden(DispatchError):
    status = 403
