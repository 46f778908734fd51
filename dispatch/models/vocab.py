"""Controlled vocabularies stored in the database, each enforced by a CHECK constraint.

Kept in one module so that schemas, the transition table and migrations agree.
"""

from __future__ import annotations

BOROUGHS = ("Hammersmith & Fulham", "Kensington & Chelsea", "Westminster")

RISK_TIERS = ("very_high", "high", "moderate", "low", "very_low")

REFERRAL_SOURCES = (
    "111",
    "out_of_hours",
    "999",
    "gp",
    "hospital_discharge",
    "social_care",
    "self_or_carer",
)

# ``out_of_scope`` (issue 13, H-004): a child or anyone else the service does not serve; no visit.
CATEGORIES = (
    "emergency_999", "urgent_2h", "response_24h", "planned", "signpost", "out_of_scope",
)

STAFF_ROLES = ("district_nurse", "hybrid_worker", "therapist", "social_worker", "coordinator")

#: Why a worker is off: sick, absent (any other reason), or finishing their shift early.
ABSENCE_REASONS = ("sick", "absent", "finishing_early")

TRAVEL_MODES = ("car", "bicycle", "walk", "public_transport")

USER_ROLES = ("call_handler", "coordinator", "field_staff", "manager", "admin")

VISIT_OUTCOMES = ("visit_completed", "admitted_to_hospital", "escalated_to_gp", "no_access")

#: ``needs_decision``: a 2-hour visit nobody anywhere can reach before its deadline; the on-call
#: coordinator must choose (late with a named worker, cover, or hand back to 111/999).
JEOPARDY_CAUSES = ("unassigned", "not_accepted", "late_arrival", "sms_failed", "declined",
                   "needs_decision")

PACKAGE_STATUSES = ("draft", "submitted", "approved", "rejected", "active", "ended")

#: Why two visits are linked (``visit_links``): two staff at once (``double_handed``), one
#: visit then another within a gap (``follow_on``), or a patient's calls kept apart (``spacing``).
LINK_KINDS = ("double_handed", "follow_on", "spacing")
#: Who serves a linked pair: two ``different`` workers, the ``same`` worker, or ``any``.
LINK_WORKERS = ("different", "same", "any")

MESSAGE_DIRECTIONS = ("outbound", "inbound")

MESSAGE_STATUSES = (
    "pending",
    "sending",
    "sent",
    "delivered",
    "undelivered",
    "failed",
    "received",
)

PLAN_STATUSES = ("pending", "running", "done", "failed", "cancelled")
#: A stored run: a ``proposal`` (POST /api/plans, never applied) or a coordinator's ``replan``
#: (POST /api/networks/{id}/replan, applied).
#: ``week`` / ``week_preview``: the week's plan of care-package visits run as a planning task
#: (:func:`dispatch.planning.runs.request_week`), committed or only previewed.
PLAN_KINDS = ("proposal", "replan", "week", "week_preview")
