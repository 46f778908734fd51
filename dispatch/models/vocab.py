"""Controlled vocabularies stored in the database, each enforced by a CHECK constraint.

Kept in one module so that schemas, the transition table and migrations agree.
"""

from __future__ import annotations

#: The three boroughs of the tri-borough pilot, spelt as the service has always stored them.
TRI_BOROUGHS = ("Hammersmith & Fulham", "Kensington & Chelsea", "Westminster")

#: Every London local authority (the 32 London boroughs and the City of London) with its ONS
#: GSS code, from the ONS register "Local Authority Districts (May 2023) Names and Codes in the
#: United Kingdom" (E09000001-E09000033; Open Government Licence). The two tri-borough names
#: keep the service's "&" spelling (ONS: "Hammersmith and Fulham", "Kensington and Chelsea")
#: so rows written before London opened up stay valid.
LONDON_BOROUGHS: tuple[tuple[str, str], ...] = (
    ("E09000001", "City of London"),
    ("E09000002", "Barking and Dagenham"),
    ("E09000003", "Barnet"),
    ("E09000004", "Bexley"),
    ("E09000005", "Brent"),
    ("E09000006", "Bromley"),
    ("E09000007", "Camden"),
    ("E09000008", "Croydon"),
    ("E09000009", "Ealing"),
    ("E09000010", "Enfield"),
    ("E09000011", "Greenwich"),
    ("E09000012", "Hackney"),
    ("E09000013", "Hammersmith & Fulham"),
    ("E09000014", "Haringey"),
    ("E09000015", "Harrow"),
    ("E09000016", "Havering"),
    ("E09000017", "Hillingdon"),
    ("E09000018", "Hounslow"),
    ("E09000019", "Islington"),
    ("E09000020", "Kensington & Chelsea"),
    ("E09000021", "Kingston upon Thames"),
    ("E09000022", "Lambeth"),
    ("E09000023", "Lewisham"),
    ("E09000024", "Merton"),
    ("E09000025", "Newham"),
    ("E09000026", "Redbridge"),
    ("E09000027", "Richmond upon Thames"),
    ("E09000028", "Southwark"),
    ("E09000029", "Sutton"),
    ("E09000030", "Tower Hamlets"),
    ("E09000031", "Waltham Forest"),
    ("E09000032", "Wandsworth"),
    ("E09000033", "Westminster"),
)

#: The boroughs a network may be in (``networks.borough``, a CHECK constraint): all of London.
BOROUGHS = tuple(name for _, name in LONDON_BOROUGHS)

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
