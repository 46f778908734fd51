"""Plain, frozen data passed between the FHIR intake steps."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

SEVERITIES = ("fatal", "error", "warning", "information")
# The OperationOutcome issue types we use (FHIR R4 IssueType value set).
ISSUE_CODES = (
    "invalid", "structure", "required", "value", "code-invalid", "not-found", "conflict",
    "duplicate", "not-supported", "business-rule", "processing", "too-long",
)


@dataclass(frozen=True)
class Issue:
    """One problem with a message, as an OperationOutcome.issue says it.

    ``expression`` is the FHIRPath of the offending element (``Bundle.entry[2].resource...``)
    so the sender's developer can find it without guessing.
    """

    code: str
    diagnostics: str
    expression: str | None = None
    severity: str = "error"

    def __post_init__(self) -> None:
        if self.severity not in SEVERITIES:
            raise ValueError(f"severity must be one of {', '.join(SEVERITIES)}")
        if self.code not in ISSUE_CODES:
            raise ValueError(f"issue code must be one of {', '.join(ISSUE_CODES)}")
        if not self.diagnostics:
            raise ValueError("an issue needs a diagnostics sentence")


@dataclass(frozen=True)
class ConsentGiven:
    """An active Consent to share the care plan for direct care, and who recorded it."""

    recorded_by: str
    expression: str


@dataclass(frozen=True)
class DischargeFacts:
    """A hospital discharge to follow up at home: where from, when, within how many hours.

    ``discharged_at`` is the inpatient ``Encounter.period.end``; ``follow_up_hours`` is
    ``ServiceRequest.occurrencePeriod.end`` less that, 24 or 48; ``summary`` the
    ServiceRequest's notes.
    """

    hospital: str
    discharged_at: datetime
    follow_up_hours: int
    summary: str
    #: Care at home the summary asks for: (tariff code, units a week, weeks) per CarePlan
    #: activity in the message; a draft care package is made from them.
    care_lines: tuple[tuple[str, float, int], ...] = ()


@dataclass(frozen=True)
class ReferralMessage:
    """What a valid referral message asks of us, ready for ``create_referral``.

    ``payload`` is the DESIGN.md referral JSON; ``origins`` maps each payload field
    (``patient.postcode``, ``observations.spo2``) to the FHIRPath it came from, so an error
    found later by the service still points at the sender's element.
    """

    header_id: str
    reason: str
    service_request_status: str
    external_id: str
    idempotency_key: str | None
    payload: dict[str, Any] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    occurrence_end: datetime | None = None
    consent: ConsentGiven | None = None
    service_request_path: str = "Bundle"
    discharge: DischargeFacts | None = None

    @property
    def cancels(self) -> bool:
        """Whether the message withdraws an earlier referral rather than making one."""
        return self.service_request_status != "active"
