"""Errors of FHIR intake, each carrying the OperationOutcome issues that explain it."""

from __future__ import annotations

from collections.abc import Iterable

from dispatch.fhir.types import Issue


class FhirError(Exception):
    """Base of every FHIR intake error; ``status`` is the HTTP code of the OperationOutcome."""

    status = 422

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues = tuple(issues)
        if not self.issues:
            raise ValueError("a FhirError needs at least one issue")
        super().__init__("; ".join(i.diagnostics for i in self.issues))


class BundleUnreadable(FhirError):
    """Not JSON, not a Bundle, or not a message Bundle: we cannot even start (400)."""

    status = 400


class BundleInvalid(FhirError):
    """A message Bundle with missing, malformed or unknown elements or codes (422)."""

    status = 422


class MessageConflict(FhirError):
    """A message that clashes with what we hold (a duplicate, a referral too late to cancel)."""

    status = 409


class TaskNotFound(FhirError):
    """No Task (referral) with that id (404)."""

    status = 404
