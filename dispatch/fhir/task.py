"""The FHIR Task that tells the referrer what became of their referral, and the response Bundle.

One Task per referral; its id is the referral id. Its status follows the referral and its
visit (CLINICAL.md, BaRS; issue 5 "sees ... the FHIR Task completed"):

================================================  ==============  ==========================
ours                                              Task.status     Task.statusReason
================================================  ==============  ==========================
visit unassigned / assigned / offered             requested
visit accepted                                    accepted
visit en_route / on_site                          in-progress
visit completed, or referral completed            completed
referral sent_to_999                              rejected        sent to 999 / ED + reasons
referral signposted                               rejected        signposted + reasons
referral out_of_scope (a child)                   rejected        children's pathway + reasons
referral cancelled                                rejected        cancelled by the referrer
referral rejected                                 rejected        not accepted
referral received / triaged, or no open visit     requested
================================================  ==============  ==========================

The visit read is the latest one that is not cancelled (a re-planned referral may have
had an earlier visit cancelled). ``businessStatus`` is the disposition label, ``owner`` the
provider network of the assigned worker (else of the patient), and the deadline is given
three ways: ``restriction.period.end`` (FHIR's "fulfil by"), an ``output`` and a ``note``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from types import MappingProxyType
from typing import Any

from dispatch.config import LONDON
from dispatch.fhir import codes as c

VISIT_TASK_STATUS: Mapping[str, str] = MappingProxyType({
    "unassigned": "requested",
    "assigned": "requested",
    "offered": "requested",
    "accepted": "accepted",
    "en_route": "in-progress",
    "on_site": "in-progress",
    "completed": "completed",
})
REJECTED_REFERRAL_REASONS: Mapping[str, str] = MappingProxyType({
    "sent_to_999": "Not for a community visit: sent to 999 / the emergency department",
    "signposted": "No visit needed: signposted to advice or another service",
    "out_of_scope": "Out of scope: urgent community response is an adult service; children's "
                    "pathway (111 clinical assessment or GP, 999 for red flags)",
    "cancelled": "Cancelled by the referrer",
    "rejected": "Not accepted by the rapid response service",
})
# Task.priority (routine | urgent | asap | stat) for each disposition category.
TASK_PRIORITY: Mapping[str, str] = MappingProxyType({
    "emergency_999": "stat", "urgent_2h": "asap", "response_24h": "urgent",
    "planned": "routine", "signpost": "routine", "out_of_scope": "urgent",
})
DEFAULT_OWNER = "Rapid response single point of access"


@dataclass(frozen=True)
class TaskFacts:
    """Everything the Task says, read from the referral, its visit and its network."""

    referral_id: int
    referral_status: str
    visit_status: str | None
    visit_outcome: str | None
    category: str | None
    label: str | None
    reasons: tuple[str, ...]
    deadline: datetime | None
    authored_on: datetime
    last_modified: datetime
    arrived_at: datetime | None
    completed_at: datetime | None
    nhs_number: str
    external_id: str | None
    owner_name: str | None
    owner_code: str | None


def task_status(referral_status: str, visit_status: str | None) -> tuple[str, str | None]:
    """The Task status and, for ``rejected``, the reason (see the module table)."""
    if referral_status in REJECTED_REFERRAL_REASONS:
        return "rejected", REJECTED_REFERRAL_REASONS[referral_status]
    if referral_status == "completed":
        return "completed", None
    return VISIT_TASK_STATUS.get(visit_status or "", "requested"), None


def task_resource(facts: TaskFacts) -> dict[str, Any]:
    """The Task as FHIR R4 JSON."""
    status, reason = task_status(facts.referral_status, facts.visit_status)
    task: dict[str, Any] = {
        "resourceType": "Task",
        "id": str(facts.referral_id),
        "identifier": [{"system": c.TASK_ID_SYSTEM, "value": str(facts.referral_id)}],
        "status": status,
        "intent": "order",
        "for": {"type": "Patient", "identifier": {"system": c.NHS_NUMBER_SYSTEM,
                                                    "value": facts.nhs_number}},
        "authoredOn": _iso(facts.authored_on),
        "lastModified": _iso(max(facts.last_modified, facts.authored_on)),
        "owner": _owner(facts),
    }
    if reason:
        detail = "; ".join(facts.reasons)
        task["statusReason"] = {"text": f"{reason}. {detail}".strip() if detail else reason}
    if facts.category:
        task["priority"] = TASK_PRIORITY[facts.category]
        task["businessStatus"] = {"coding": [{"system": c.CATEGORY_SYSTEM, "code": facts.category,
                                              "display": facts.label or facts.category}],
                                  "text": facts.label or facts.category}
    if facts.external_id:
        task["focus"] = {"type": "ServiceRequest", "identifier": {"value": facts.external_id}}
    task.update(_timing(facts))
    return task


def _owner(facts: TaskFacts) -> dict[str, Any]:
    owner: dict[str, Any] = {"type": "Organization", "display": facts.owner_name or DEFAULT_OWNER}
    if facts.owner_code:
        owner["identifier"] = {"system": c.NETWORK_ID_SYSTEM, "value": facts.owner_code}
    return owner


def _timing(facts: TaskFacts) -> dict[str, Any]:
    out: dict[str, Any] = {}
    outputs: list[dict[str, Any]] = []
    if facts.deadline is not None:
        out["restriction"] = {"period": {"end": _iso(facts.deadline)}}
        outputs.append({"type": {"text": "deadline"}, "valueDateTime": _iso(facts.deadline)})
        local = facts.deadline.astimezone(LONDON)
        out["note"] = [{"text": f"Respond by {local:%H:%M on %a %d %b %Y} (UK time). "
                                f"{facts.label or ''}".strip()}]
    if facts.visit_outcome:
        outputs.append({"type": {"text": "visit outcome"}, "valueCodeableConcept": {
            "coding": [{"system": c.VISIT_OUTCOME_SYSTEM, "code": facts.visit_outcome}]}})
    if outputs:
        out["output"] = outputs
    if facts.arrived_at is not None:
        period = {"start": _iso(facts.arrived_at)}
        if facts.completed_at is not None:
            period["end"] = _iso(facts.completed_at)
        out["executionPeriod"] = period
    return out


def response_bundle(
    task: dict[str, Any], *, request_header_id: str, now: datetime
) -> dict[str, Any]:
    """The ``$process-message`` reply: a message Bundle with a MessageHeader and the Task."""
    header_url, task_url = f"urn:uuid:{uuid.uuid4()}", f"urn:uuid:{uuid.uuid4()}"
    header = {
        "resourceType": "MessageHeader",
        "id": header_url.rsplit(":", 1)[-1],
        "eventCoding": {"system": c.MESSAGE_EVENTS_SYSTEM, "code": c.EVENT_REFERRAL_REQUEST},
        "source": {"name": "Rapid response dispatch", "endpoint": c.SERVICE_ENDPOINT},
        "response": {"identifier": request_header_id, "code": "ok"},
        "focus": [{"reference": task_url}],
    }
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": "message",
        "timestamp": _iso(now),
        "entry": [{"fullUrl": header_url, "resource": header},
                  {"fullUrl": task_url, "resource": task}],
    }


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")
