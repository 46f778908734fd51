"""Request and response schemas (marshmallow) shared by the API blueprints.

The input of a new referral (``ReferralCreateSchema`` and the ``StrictSchema`` and ``Text``
every input schema uses) lives in :mod:`dispatch.schemas.referrals`, free of Flask, because
the FHIR mapper and the web form read a referral with it too; it is re-exported here.
"""

from __future__ import annotations

from typing import Any

from marshmallow import EXCLUDE, Schema, fields, post_dump, validate

from dispatch.models.vocab import MESSAGE_DIRECTIONS, MESSAGE_STATUSES
from dispatch.planning import jeopardy, runs
from dispatch.reports import export
from dispatch.schemas.referrals import NAME, Text
from dispatch.schemas.referrals import ReferralCreateSchema as ReferralCreateSchema
from dispatch.schemas.referrals import StrictSchema as StrictSchema
from dispatch.services.care_plan_access import (
    MAX_OVERRIDE_TEXT,
    MIN_OVERRIDE_TEXT,
    OVERRIDE_PURPOSES,
)
from triage import CATEGORIES


class News2Schema(Schema):
    total = fields.Integer(allow_none=True)
    parts = fields.Dict(keys=fields.String(), values=fields.Integer())
    missing = fields.List(fields.String())
    band = fields.String(allow_none=True)
    scored = fields.Boolean()
    complete = fields.Boolean()
    scale = fields.Integer(allow_none=True)
    any_single_three = fields.Boolean()
    conservative = fields.List(fields.String(), metadata={
        "description": "Parameters scored at the highest value they could have (scale-2 SpO2 "
                       "with oxygen not stated)"})


CATEGORY_FIELD = {"type": "string", "enum": list(CATEGORIES),
                  "description": "out_of_scope: a child (under 18) or anyone else urgent "
                                 "community response does not serve; never a visit"}
SAFETY_NETTING_FIELD = {"description": "Advice read back to the caller: call 999 for the signs "
                                       "named, 111 otherwise; for 999, what to do while waiting"}


class DispositionSchema(Schema):
    category = fields.String(metadata=CATEGORY_FIELD)
    label = fields.String()
    deadline = fields.String(allow_none=True)
    earliest_start = fields.String(allow_none=True)
    priority = fields.Integer()
    skills = fields.List(fields.String())
    visit_duration_minutes = fields.Integer()
    news2 = fields.Nested(News2Schema, allow_none=True)
    reasons = fields.List(fields.String())
    out_of_hours = fields.Boolean()
    ucr_hours_note = fields.String(allow_none=True)
    safety_netting = fields.String(metadata=SAFETY_NETTING_FIELD)
    staff = fields.Integer(metadata={
        "description": "Staff the visit needs at once: 2 for a two-person need (a hoist "
                       "transfer); the service then books two linked visits"})


class VisitSummarySchema(Schema):
    id = fields.Integer()
    reference = fields.String()
    status = fields.String()
    deadline = fields.DateTime()


class OpenVisitSchema(Schema):
    reference = fields.String()
    status = fields.String()
    deadline = fields.DateTime()
    planned_start = fields.DateTime(allow_none=True)


class PossibleDuplicateSchema(Schema):
    """Another open referral of the same patient (hazard H-002)."""

    referral_id = fields.Integer()
    received_at = fields.DateTime()
    category = fields.String(allow_none=True)
    status = fields.String()
    deadline = fields.DateTime(allow_none=True)
    visits = fields.List(fields.Nested(OpenVisitSchema))


class ReferralSchema(Schema):
    """A referral as the API shows it (dumps a :class:`dispatch.services.duplicates.ReferralRead`:
    the referral's own fields, its visits, and the patient's other open referrals)."""

    id = fields.Integer(attribute="referral.id")
    status = fields.String(attribute="referral.status")
    patient_id = fields.Integer(attribute="referral.patient_id")
    source = fields.String(attribute="referral.source")
    received_at = fields.DateTime(attribute="referral.received_at")
    category = fields.String(attribute="referral.category", allow_none=True,
                             metadata=CATEGORY_FIELD)
    deadline = fields.DateTime(attribute="referral.deadline", allow_none=True)
    disposition = fields.Nested(DispositionSchema, attribute="referral.disposition",
                                allow_none=True)
    safety_netting = fields.String(allow_none=True, metadata=SAFETY_NETTING_FIELD)
    visits = fields.List(fields.Nested(VisitSummarySchema), attribute="referral.visits")
    possible_duplicates = fields.List(fields.Nested(PossibleDuplicateSchema), metadata={
        "description": "The patient's other open referrals (always present, possibly empty); "
                       "the referral is logged anyway"})
    duplicate_of_id = fields.Integer(attribute="referral.duplicate_of_id", allow_none=True,
                                     metadata={
        "description": "Set when a coordinator marked this referral a duplicate of another"})


class PatientMismatchSchema(Schema):
    """409 ``patient_mismatch``: the details disagree with the registered patient (H-001).

    Only the names of the differing fields are given, never the stored values.
    """

    code = fields.String(metadata={"example": "patient_mismatch"})
    status = fields.String(metadata={"example": "Conflict"})
    message = fields.String()
    fields_ = fields.List(fields.String(), data_key="fields", metadata={
        "example": ["family_name", "postcode"]})
    patient_id = fields.Integer(allow_none=True, metadata={
        "description": "The registered patient to confirm with confirm_patient_id (null when "
                       "several are alike: see patient_ids)"})
    patient_ids = fields.List(fields.Integer())


class PartnerSchema(Schema):
    """The other half of a linked visit (issue 15): for a double-handed visit, the second
    worker's visit at the same time."""

    visit_id = fields.Integer()
    reference = fields.String()
    status = fields.String()
    kind = fields.String(metadata={"description": "double_handed (two staff at once), "
                                   "follow_on (then within a gap) or spacing"})
    workers = fields.String(metadata={"description": "different, same or any"})
    min_gap_minutes = fields.Integer(metadata={
        "description": "start(second) - start(first), at least"})
    max_gap_minutes = fields.Integer(metadata={"description": "and at most"})
    first = fields.Boolean(metadata={"description": "Whether this visit is the link's first"})
    staff_id = fields.Integer(allow_none=True)
    staff_name = fields.String(allow_none=True)
    planned_start = fields.DateTime(allow_none=True)


class VisitSchema(Schema):
    id = fields.Integer()
    reference = fields.String()
    referral_id = fields.Integer(allow_none=True)
    package_id = fields.Integer(allow_none=True)
    patient_id = fields.Integer()
    network_id = fields.Integer(allow_none=True)
    category = fields.String()
    status = fields.String()
    skills = fields.List(fields.String())
    duration_minutes = fields.Integer()
    earliest_start = fields.DateTime()
    deadline = fields.DateTime()
    priority = fields.Integer()
    assigned_staff_id = fields.Integer(allow_none=True)
    planned_start = fields.DateTime(allow_none=True)
    pinned = fields.Boolean()
    unassigned_reason = fields.String(
        allow_none=True, metadata={"description": "The planner's reason for leaving the visit "
                                   "unassigned or planning it late (null when placed in time)"})
    jeopardy_cause = fields.String(allow_none=True)
    late_allowed_until = fields.DateTime(allow_none=True)
    late_allowed_staff_id = fields.Integer(allow_none=True)
    outcome = fields.String(allow_none=True)
    version = fields.Integer()
    staff_needed = fields.Integer(metadata={
        "description": "2 for a double-handed visit (its partner is the other worker's half)"})
    partner = fields.Nested(PartnerSchema, allow_none=True, metadata={
        "description": "The linked visit, if any (GET /api/visits and /api/visits/{id})"})


class VisitQuerySchema(StrictSchema):
    status = fields.String(validate=validate.Length(max=16))
    network = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


class PatientQuerySchema(StrictSchema):
    nhs_number = Text(validate=validate.Length(max=20))
    family_name = Text(validate=NAME)
    name = Text(validate=NAME, metadata={
        "description": "What the caller says: a family name alone, or given name(s) then "
                       "family name (\"Joe Bloggs\"); whole words, any case. With "
                       "date_of_birth, as the call handler's page searches"})
    date_of_birth = fields.Date()
    postcode = Text(validate=validate.Length(max=10))


class PatientSchema(Schema):
    id = fields.Integer()
    nhs_number = fields.String(allow_none=True)
    nhs_number_status = fields.String(metadata={
        "description": "present, or not_known: registered without one, flagged for tracing"})
    given_name = fields.String()
    family_name = fields.String()
    date_of_birth = fields.Date()
    address = fields.String()
    postcode = fields.String()
    phone = fields.String(allow_none=True)
    gp_practice = fields.String(allow_none=True)
    named_lead = fields.String(allow_none=True)
    network_id = fields.Integer(allow_none=True)
    risk_tier = fields.String()
    frailty = fields.Integer(allow_none=True)
    consent_to_share = fields.Boolean()


class CarePlanQuerySchema(StrictSchema):
    purpose = fields.String(validate=validate.Length(min=3, max=300),
                            load_default="direct care",
                            metadata={"description": "Why you read it (audited)"})
    referral_id = fields.Integer(
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "Read for this referral: a FHIR Consent that came with it "
                                 "covers its episode (basis episode_consent)"})
    override_purpose = fields.String(
        validate=validate.OneOf(list(OVERRIDE_PURPOSES)),
        metadata={"description": "Emergency override without consent (call handlers and "
                                 "coordinators only): "
                                 + "; ".join(f"{k} = {v}" for k, v in OVERRIDE_PURPOSES.items())})
    override_reason = fields.String(
        validate=validate.Length(max=MAX_OVERRIDE_TEXT),
        metadata={"description": f"With override_purpose: what the emergency is (at least "
                                 f"{MIN_OVERRIDE_TEXT} characters)"})


class CarePlanSchema(Schema):
    patient_id = fields.Integer()
    version = fields.Integer(allow_none=True)
    summary = fields.String(allow_none=True)
    content = fields.Dict()
    author = fields.String(allow_none=True)
    created_at = fields.DateTime(allow_none=True)
    access_basis = fields.String(metadata={
        "description": "consent, episode_consent (a FHIR Consent with this referral) or "
                       "emergency_override"})
    override_purpose = fields.String(allow_none=True)


# --- Health: /healthz ------------------------------------------------------------------------


class HealthSchema(Schema):
    status = fields.String(required=True, metadata={"example": "ok"})
    database = fields.String(required=True, metadata={"example": "sqlite"})


# --- KPIs: /api/kpis -------------------------------------------------------------------------


class KpiQuerySchema(StrictSchema):
    date = fields.Date(metadata={"description": "Day (Europe/London); default today"})
    network = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1),
                             metadata={"description": "Network id; omit for all networks"})


class CsvQuerySchema(KpiQuerySchema):
    table = fields.String(load_default="responses", validate=validate.OneOf(export.TABLES),
                          metadata={"description": "Which rows: " + ", ".join(export.TABLES)})


class KpiSchema(Schema):
    date = fields.String()
    timezone = fields.String()
    network = fields.Integer(allow_none=True)
    as_of = fields.DateTime()
    summary = fields.Dict(metadata={"description": (
        "urgent_2h (received 08:00-20:00 London), urgent_2h_out_of_hours (urgent, received "
        "20:00-08:00, each against its own deadline) and response_24h: {count, met, breached, "
        "pending, compliance}; response_minutes {urgent_2h, urgent_2h_out_of_hours, "
        "response_24h, all: {n, median, p90}}; breaches [{referral_id, visit_reference, "
        "category, line, out_of_hours, team, received_at, deadline, first_arrival, "
        "minutes_late, cause, causes}] (every line's); breach_causes {cause: n}; "
        "bookings_outside_timeframe "
        "{count, items}, utilisation {workers, overall, travel_minutes_per_visit}, "
        "declines {count, by_reason, items}")})
    networks = fields.List(fields.Dict(), metadata={
        "description": "Per network: network_id, code, name, summary, teams [{team, ...}]"})


# --- Messages: /api/messages -----------------------------------------------------------------


#: The most texts one request lists.
MAX_LIMIT = 1000


class MessageQuerySchema(StrictSchema):
    visit_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    direction = fields.String(validate=validate.OneOf(MESSAGE_DIRECTIONS))
    status = fields.String(validate=validate.OneOf(MESSAGE_STATUSES))
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=MAX_LIMIT))


class MessageSchema(Schema):
    id = fields.Integer()
    direction = fields.String()
    to = fields.String(attribute="to_number")
    from_ = fields.String(attribute="from_number", data_key="from", allow_none=True)
    body = fields.String()
    status = fields.String()
    visit_id = fields.Integer(allow_none=True)
    staff_id = fields.Integer(allow_none=True)
    attempts = fields.Integer()
    provider_sid = fields.String(allow_none=True)
    created_at = fields.AwareDateTime()
    sent_at = fields.AwareDateTime(allow_none=True)
    error = fields.Method("_error", allow_none=True)

    def _error(self, message: Any) -> str | None:
        if not (message.error_code or message.error_message):
            return None
        return f"{message.error_code or ''} {message.error_message or ''}".strip()


# --- Plans: /api/plans and /api/networks/{id}/replan -----------------------------------------


class PlanRequestSchema(StrictSchema):
    network = fields.Integer(
        validate=validate.Range(min=1, max=2**31 - 1),
        allow_none=True,
        metadata={"description": "Network id; omit for all networks"},
    )
    horizon_hours = fields.Float(
        load_default=runs.DEFAULT_HORIZON_HOURS, validate=validate.Range(min=0.25, max=72)
    )
    seconds = fields.Float(load_default=5.0, validate=validate.Range(min=0.1, max=runs.MAX_SECONDS))
    wait = fields.Boolean(
        load_default=False,
        metadata={"description": "Answer once the plan job has finished it (at most "
                  "PLAN_WAIT_SECONDS)"},
    )


class PlanSchema(Schema):
    id = fields.Integer()
    status = fields.String()
    kind = fields.String(metadata={"description": "proposal (POST /api/plans), replan, week "
                                   "or week_preview (POST /api/networks/{id}/week-plan)"})
    network_id = fields.Integer(allow_none=True)
    horizon_start = fields.DateTime()
    horizon_end = fields.DateTime()
    seconds = fields.Float()
    requested_by = fields.String(allow_none=True)
    created_at = fields.DateTime()
    finished_at = fields.DateTime(allow_none=True)
    result = fields.Dict(
        allow_none=True,
        metadata={
            "description": "routes (vehicle, staff_id, visits, arrivals), travel_minutes, "
            "vehicles, "
            "unassigned [{id, reason, code}], late, seconds, fallback (null, or "
            "greedy_insertion when the search found no plan in time) and its note"
        },
    )


class ChangeSchema(Schema):
    visit_id = fields.Integer()
    reference = fields.String()
    from_ = fields.Dict(allow_none=True, attribute="from", data_key="from",
                        metadata={"description": "{staff_id, start} before; null if unassigned"})
    to = fields.Dict(allow_none=True,
                     metadata={"description": "{staff_id, start} after; null if unassigned"})


class UnassignedSchema(Schema):
    visit_id = fields.Integer()
    reference = fields.String(allow_none=True)
    reason = fields.String()
    code = fields.String()


class ReplanSchema(Schema):
    network_id = fields.Integer()
    run_id = fields.Integer()
    status = fields.String(metadata={"description": "done, failed, cancelled; pending or "
                                     "running with 202"})
    changed = fields.List(fields.Nested(ChangeSchema))
    unassigned = fields.List(fields.Nested(UnassignedSchema))
    error = fields.String(allow_none=True)

    @post_dump
    def _no_error_when_none(self, data: dict[str, Any], **_: Any) -> dict[str, Any]:
        """``error`` is only there when the re-plan failed."""
        if data.get("error") is None:
            data.pop("error", None)
        return data


class WeekPlanRequestSchema(StrictSchema):
    days = fields.Integer(load_default=7, validate=validate.Range(min=1, max=14))
    dry_run = fields.Boolean(
        load_default=False,
        metadata={"description": "Say what committing would do; write and text nothing"})


class WeekPlanRunSchema(Schema):
    network_id = fields.Integer()
    dry_run = fields.Boolean()
    run_id = fields.Integer(metadata={"description": "The planning task (a plan request)"})
    status = fields.String(metadata={"description": "pending: poll status_url"})
    status_url = fields.String(metadata={
        "description": "GET it for the status and, when done, the result: network_id, "
        "dry_run, offered (visits offered by SMS now), provisional (booked for later days, "
        "the worker not told), kept (left as they were), conflicts, refused, "
        "worker_changes and visits [{visit_id, reference, patient_id, staff_id, staff, "
        "start, reason}]"})


# --- SMS webhooks: /sms (Twilio's form fields) -----------------------------------------------


class InboundFormSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    From = fields.String(required=True, validate=validate.Length(min=1, max=64))
    To = fields.String(load_default="", validate=validate.Length(max=64))
    Body = fields.String(load_default="", validate=validate.Length(max=1600))
    MessageSid = fields.String(validate=validate.Length(max=64))


class StatusFormSchema(Schema):
    class Meta:
        unknown = EXCLUDE

    MessageSid = fields.String(required=True, validate=validate.Length(min=1, max=64))
    MessageStatus = fields.String(required=True, validate=validate.Length(max=32))
    ErrorCode = fields.String(validate=validate.Length(max=16))


# --- Staff, shifts and rosters: /api/staff, /api/shifts, /api/rosters ------------------------


class StaffSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    name = fields.String(required=True, validate=validate.Length(min=1, max=120))
    role = fields.String(required=True)
    skills = fields.List(fields.String(validate=validate.Length(max=40)), load_default=list)
    phone = fields.String(required=True, validate=validate.Length(max=20))
    network_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    base_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    travel_mode = fields.String(load_default="car")
    active = fields.Boolean(dump_only=True)


class StaffCreateSchema(StaffSchema, StrictSchema):
    pass


class StaffQuerySchema(StrictSchema):
    network = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))
    role = fields.String(validate=validate.Length(max=16))


class BreakSchema(StrictSchema):
    start = fields.AwareDateTime(required=True)
    end = fields.AwareDateTime(required=True)


class StoredBreakSchema(Schema):
    """A break as stored (ISO 8601 strings with their offset)."""

    start = fields.String()
    end = fields.String()


class ShiftSchema(Schema):
    id = fields.Integer(dump_only=True)
    code = fields.String(required=True, validate=validate.Length(min=1, max=48))
    staff_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    base_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    starts_at = fields.AwareDateTime(required=True)
    ends_at = fields.AwareDateTime(required=True)
    breaks = fields.List(fields.Nested(BreakSchema), load_default=list)


class ShiftCreateSchema(ShiftSchema, StrictSchema):
    pass


class ShiftOutSchema(ShiftSchema):
    breaks = fields.List(fields.Nested(StoredBreakSchema))


class ShiftQuerySchema(StrictSchema):
    start = fields.AwareDateTime()
    end = fields.AwareDateTime()
    staff_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1))


class ImportSummarySchema(Schema):
    staff_created = fields.Integer()
    staff_updated = fields.Integer()
    shifts_created = fields.Integer()
    shifts_updated = fields.Integer()
    tier_warnings = fields.List(fields.String(), metadata={
        "description": "Per network in the file: booked visits its tier rules now leave with "
                       "nobody on the roster (hazard H-232)"})


# --- Visits: /api/visits ---------------------------------------------------------------------


class DoubleHandedSchema(StrictSchema):
    version = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1),
                             metadata={"description": "The visit version you saw (409 if "
                                                      "stale)"})
    reason = fields.String(load_default="needs two staff", validate=validate.Length(
        min=3, max=200), metadata={"description": "Why (recorded in the audit log)"})


class AssignSchema(StrictSchema):
    staff_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    start = fields.AwareDateTime(required=True)
    version = fields.Integer(
        required=True,
        validate=validate.Range(min=1, max=2**31 - 1),
        metadata={"description": "The visit version you saw (409 if stale)"},
    )
    confirm = fields.Boolean(
        load_default=False,
        metadata={"description": "Save despite warnings (never a double booking)"},
    )
    pin = fields.Boolean(
        load_default=True,
        metadata={"description": "Pin it as the coordinator's decision (default): the planner "
                                 "keeps it with this worker at this time"})


class UnassignSchema(StrictSchema):
    version = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    reason = fields.String(
        required=True, validate=validate.Length(min=3, max=300),
        metadata={"description": "Why (recorded in the audit log)"})
    keep_off = fields.Boolean(
        load_default=True,
        metadata={"description": "Keep this worker off the visit (default): neither the "
                                 "planner nor the candidates list offers it to them again. "
                                 "false: an unanswered offer is only asked of others first"})


class PushSchema(Schema):
    visit_id = fields.Integer()
    reference = fields.String()
    minutes = fields.Integer(metadata={"description": "How much later it would start"})


class CandidateSchema(Schema):
    staff_id = fields.Integer()
    name = fields.String()
    travel_minutes = fields.Integer(
        allow_none=True, metadata={"description": "From their previous visit in the plan, "
                                   "else their base"})
    start = fields.DateTime(
        allow_none=True, metadata={"description": "The start to pass to "
                                   "POST /api/visits/{id}/assign (null when refused)"})
    arrival = fields.DateTime(allow_none=True)
    arrival_before_deadline = fields.Boolean()
    pushes = fields.List(fields.Nested(PushSchema),
                         metadata={"description": "Their visits it would make start later"})
    warnings = fields.List(fields.String(), metadata={
        "description": "In words; with any, assign saves only with confirm (Assign anyway)"})
    refused = fields.Boolean(metadata={"description": "Cannot take it; see reason"})
    reason = fields.String(allow_none=True, metadata={
        "description": "Why not, in words with times and skill names"})


class PinSchema(StrictSchema):
    version = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1))
    pinned = fields.Boolean(required=True)


class ManualResultSchema(Schema):
    applied = fields.Boolean()
    warnings = fields.List(fields.String())
    costs = fields.List(fields.String(), metadata={
        "description": "What pinning it costs: the open 2-hour visits only this worker could "
                       "reach in time that it leaves unassigned, in words (also in warnings; "
                       "saved only with confirm)"})
    visit = fields.Nested(VisitSchema)


class JeopardyDecisionSchema(StrictSchema):
    choice = fields.String(
        required=True, validate=validate.OneOf(jeopardy.CHOICES),
        metadata={"description": "allow_late (with staff_id and late_minutes), cover (with "
                                 "network_id) or hand_back (to 111/999; the visit is cancelled)"})
    staff_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1),
                              metadata={"description": "allow_late: the worker who will go"})
    late_minutes = fields.Integer(
        validate=validate.Range(min=1, max=jeopardy.MAX_LATE_MINUTES),
        metadata={"description": "allow_late: the latest start, in minutes after the deadline"})
    network_id = fields.Integer(validate=validate.Range(min=1, max=2**31 - 1),
                                metadata={"description": "cover: the network taking it on"})
    note = fields.String(validate=validate.Length(max=200))


class CoverRequestSchema(StrictSchema):
    version = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1),
                             metadata={"description": "The visit version you saw (409 if "
                                                      "stale)"})
    network_id = fields.Integer(required=True, validate=validate.Range(min=1, max=2**31 - 1),
                                metadata={"description": "The network asked to cover it"})
    note = fields.String(required=True, metadata={
        "description": "Why you are asking, for the covering team (3 to "
                       f"{jeopardy.COVER_NOTE_LENGTH} characters); shown before why the "
                       "visit is needed, never instead of it"})


class LateOptionSchema(Schema):
    staff_id = fields.Integer()
    name = fields.String()
    network_id = fields.Integer(allow_none=True)
    arrival = fields.DateTime()
    start = fields.DateTime()
    late_minutes = fields.Integer()


class CoverOptionSchema(Schema):
    network_id = fields.Integer()
    code = fields.String()
    name = fields.String()


class JeopardyOptionsSchema(Schema):
    visit_id = fields.Integer()
    late = fields.List(fields.Nested(LateOptionSchema))
    cover = fields.List(fields.Nested(CoverOptionSchema))
    hand_back = fields.Boolean()


# --- Care packages and the tariff: /api/packages, /api/tariff --------------------------------

ID = validate.Range(min=1, max=2**31 - 1)  # a row id


class LineSchema(StrictSchema):
    tariff_code = fields.String(required=True, validate=validate.Length(min=1, max=32))
    units_per_week = fields.Float(required=True, metadata={"example": 14})
    weeks = fields.Integer(required=True, strict=True, metadata={"example": 6})
    staff = fields.Integer(load_default=1, strict=True, validate=validate.OneOf((1, 2)),
                           metadata={"description": "2: two staff at each visit at once "
                                                    "(a hoist); the line costs twice"})
    follows = fields.Integer(load_default=None, allow_none=True, strict=True,
                             validate=validate.Range(min=0, max=29), metadata={
                                 "description": "This line's visits follow that line's (its "
                                                "number in items, from 0) on the same day"})
    follow_min_minutes = fields.Integer(
        load_default=None, allow_none=True, strict=True,
        validate=validate.Range(min=0, max=24 * 60),
        metadata={"description": "With follows: at least this many minutes after its start"})
    follow_max_minutes = fields.Integer(
        load_default=None, allow_none=True, strict=True,
        validate=validate.Range(min=0, max=24 * 60),
        metadata={"description": "With follows: at most this many minutes after its start"})
    min_spacing_hours = fields.Float(
        load_default=None, allow_none=True,
        validate=validate.Range(min=0, min_inclusive=False, max=16),
        metadata={"description": "This line's visits on one day start at least this many "
                                 "hours apart"})


class PackageCreateSchema(StrictSchema):
    patient_id = fields.Integer(required=True, strict=True, validate=ID)
    start_date = fields.Date(required=True)
    end_date = fields.Date(allow_none=True, load_default=None)
    items = fields.List(fields.Nested(LineSchema), required=True,
                        validate=validate.Length(min=1, max=30))


class DecisionSchema(StrictSchema):
    note = fields.String(validate=validate.Length(max=300))


class RejectSchema(StrictSchema):
    reason = fields.String(required=True, validate=validate.Length(min=1, max=300))


class EndSchema(StrictSchema):
    reason = fields.String(validate=validate.Length(max=300))


class PackageQuerySchema(StrictSchema):
    status = fields.String(validate=validate.Length(max=12))
    patient_id = fields.Integer(validate=ID)
    network = fields.Integer(validate=ID)
    limit = fields.Integer(load_default=200, validate=validate.Range(min=1, max=1000))


class LineOutSchema(Schema):
    """Dumps a :class:`dispatch.services.packages.Line`."""

    id = fields.Integer(attribute="item.id")
    tariff_code = fields.String(attribute="tariff.code")
    name = fields.String(attribute="tariff.name")
    unit = fields.String(attribute="tariff.unit")
    units_per_week = fields.Float(attribute="item.units_per_week")
    weeks = fields.Integer(attribute="item.weeks")
    staff = fields.Integer(attribute="item.staff_count")
    follows_item_id = fields.Integer(allow_none=True, attribute="item.follows_item_id")
    follow_min_minutes = fields.Integer(allow_none=True, attribute="item.follow_min_minutes")
    follow_max_minutes = fields.Integer(allow_none=True, attribute="item.follow_max_minutes")
    min_spacing_hours = fields.Float(allow_none=True, attribute="item.min_spacing_hours")
    unit_cost_pence = fields.Integer(attribute="item.unit_cost_pence")
    weekly_cost_pence = fields.Integer()
    total_cost_pence = fields.Integer()


class PackageSchema(Schema):
    """Dumps a :class:`dispatch.services.packages.PackageView`: costs in pence and in pounds,
    lines, who it waits for."""

    id = fields.Integer(attribute="package.id")
    patient_id = fields.Integer(attribute="package.patient_id")
    network_id = fields.Integer(allow_none=True, attribute="package.network_id")
    status = fields.String(attribute="package.status")
    start_date = fields.Date(attribute="package.start_date")
    end_date = fields.Date(allow_none=True, attribute="package.end_date")
    weekly_cost_pence = fields.Integer(attribute="package.weekly_cost_pence")
    total_cost_pence = fields.Integer(attribute="package.total_cost_pence")
    weekly_cost = fields.String(metadata={"example": "£434.00"})
    total_cost = fields.String(metadata={"example": "£2,604.00"})
    awaiting_role = fields.String(allow_none=True, metadata={
        "description": "For a submitted package: the role whose limit covers it (a manager "
                       "when it would take the network over its pooled budget)"})
    over_budget = fields.String(allow_none=True, metadata={
        "description": "For a submitted package over its network's pooled budget: the figures "
                       "(budget, committed, left, this package in the period, how far over)"})
    tier_weekly_guide_pence = fields.Integer(allow_none=True, metadata={
        "description": "The seeds' social care spend a week for a person of the patient's "
                       "risk tier (2010/11 prices): the average package for such a person"})
    created_by = fields.String(attribute="package.created_by")
    created_at = fields.DateTime(attribute="package.created_at")
    submitted_at = fields.DateTime(allow_none=True, attribute="package.submitted_at")
    decided_by = fields.String(allow_none=True, attribute="package.decided_by")
    decided_at = fields.DateTime(allow_none=True, attribute="package.decided_at")
    decision_reason = fields.String(allow_none=True, attribute="package.decision_reason")
    visit_count = fields.Integer()
    items = fields.List(fields.Nested(LineOutSchema), attribute="lines")


class TariffQuerySchema(StrictSchema):
    on = fields.Date(metadata={"description": "Prices in effect on this date (default today)"})


class TariffItemSchema(Schema):
    """Dumps a :class:`dispatch.services.tariffs.PricedItem`."""

    id = fields.Integer(attribute="row.id")
    code = fields.String(attribute="row.code")
    name = fields.String(attribute="row.name")
    unit = fields.String(attribute="row.unit")
    unit_cost_pence = fields.Integer(attribute="row.unit_cost_pence")
    effective_from = fields.Date(attribute="row.effective_from")
    effective_to = fields.Date(allow_none=True, attribute="row.effective_to")
    implies_visits = fields.Boolean()
    visit_skills = fields.List(fields.String())


class PriceSchema(StrictSchema):
    code = fields.String(required=True, validate=validate.Regexp(r"^[a-z][a-z0-9_]{1,31}$"))
    unit_cost_pence = fields.Integer(required=True, strict=True)
    effective_from = fields.Date(required=True)
    name = fields.String(validate=validate.Length(min=1, max=120))
    unit = fields.String(validate=validate.Length(min=1, max=24))
