"""Who may call what: the one permission table, enforced before every request.

Keys are Flask endpoint names (``blueprint.View``) and an HTTP method (``*`` for any). A route
missing from the table is refused (fail closed) and logged, so a new endpoint cannot ship open
by accident; the route-walking test in ``tests/dispatch/app/test_permissions.py`` fails first.
"""

from __future__ import annotations

from collections.abc import Iterable

CALL_HANDLER = "call_handler"
COORDINATOR = "coordinator"
FIELD_STAFF = "field_staff"
MANAGER = "manager"
ADMIN = "admin"
USER_ROLES = (CALL_HANDLER, COORDINATOR, FIELD_STAFF, MANAGER, ADMIN)
ALL_ROLES = frozenset(USER_ROLES)
OFFICE = frozenset({CALL_HANDLER, COORDINATOR, MANAGER, ADMIN})
PUBLIC = "public"  # no sign-in (health checks, docs, static assets)
SIGNATURE = "signature"  # authenticated by a provider signature (twilio webhooks), not by user
# /metrics: open like the health check unless DISPATCH_METRICS_TOKEN is set, then that bearer
# token (a scraper's secret, not a user's token); checked in dispatch/auth.py.
METRICS_TOKEN = "metrics_token"

Rule = frozenset[str] | str

PERMISSIONS: dict[tuple[str, str], Rule] = {
    ("health.Health", "*"): PUBLIC,
    ("metrics.metrics", "GET"): METRICS_TOKEN,
    ("api-docs.openapi_json", "*"): PUBLIC,
    ("api-docs.openapi_swagger_ui", "*"): PUBLIC,
    ("static", "*"): PUBLIC,
    ("web.vendor", "*"): PUBLIC,
    ("web.index", "*"): PUBLIC,
    # Web pages (dispatch/web/): anonymous visitors are sent to sign in, not told 401.
    ("web.nhsuk_assets", "*"): PUBLIC,
    ("web.favicon", "*"): PUBLIC,
    ("web.sign_in", "*"): PUBLIC,
    ("oidc.start", "GET"): PUBLIC,
    ("oidc.callback", "GET"): PUBLIC,
    ("web.sign_out", "POST"): ALL_ROLES,
    ("web.home", "GET"): ALL_ROLES,
    ("web.new_referral", "GET"): frozenset({CALL_HANDLER, COORDINATOR, ADMIN}),
    ("web.create_referral", "POST"): frozenset({CALL_HANDLER, COORDINATOR, ADMIN}),
    ("web.find_patient", "POST"): frozenset({CALL_HANDLER, COORDINATOR, ADMIN}),
    ("web.care_plan_override", "POST"): frozenset({CALL_HANDLER, COORDINATOR, ADMIN}),
    ("web.referral_page", "GET"): OFFICE,
    ("web.book_later_start", "POST"): frozenset({CALL_HANDLER, COORDINATOR, ADMIN}),
    # Slots to offer (issue 15): the windows only, never who would come (dispatch detail).
    ("web.book_slot", "POST"): frozenset({CALL_HANDLER, COORDINATOR, ADMIN}),
    # Field staff (dispatch/web/visits.py): a worker sees only their own visits (others 404);
    # only the assigned worker acts on a visit (the SMS state machine).
    ("web.my_visits", "GET"): frozenset({FIELD_STAFF}),
    ("web.visit_page", "GET"): frozenset({FIELD_STAFF, COORDINATOR, ADMIN}),
    ("web.visit_accept", "POST"): frozenset({FIELD_STAFF}),
    ("web.visit_decline", "POST"): frozenset({FIELD_STAFF}),
    ("web.visit_arrive", "POST"): frozenset({FIELD_STAFF}),
    ("web.visit_complete", "POST"): frozenset({FIELD_STAFF}),
    # The dispatch board (dispatch/web/board.py); changes as for /api/visits/<id>/assign.
    ("web.board", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("web.board_data", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("web.board_visit", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("web.board_assign", "POST"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("web.board_unassign", "POST"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("web.board_pin", "POST"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("web.board_double_handed", "POST"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("web.board_replan", "POST"): frozenset({COORDINATOR, MANAGER}),
    # Text messages (dispatch/web/messages.py): the SMS outbox and inbox, live. The people who
    # dispatch and follow up (coordinators), managers and admins. Not call handlers: the texts
    # show which worker goes to which visit and when, dispatch detail they do not get on the
    # board either, and their own referral page already shows each visit's status (offered,
    # accepted, en route...). Field staff read their own texts on their phones. /api/messages
    # follows the same roles (issue 20 item 13: it used to admit call handlers too).
    ("web.messages_page", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("web.messages_data", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    # Performance (dispatch/web/reports.py), as /api/kpis.
    ("web.kpi_page", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    # Care package decisions (dispatch/web/packages.py), as /api/packages/<id>/approve.
    ("web.package_page", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("web.packages_list", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("web.package_new", "GET"): frozenset({COORDINATOR, MANAGER}),
    ("web.package_create", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("web.package_edit", "GET"): frozenset({COORDINATOR, MANAGER}),
    ("web.package_update", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("web.package_submit", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("web.package_activate", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("web.package_end", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("web.package_approve", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("web.package_reject", "POST"): frozenset({COORDINATOR, MANAGER}),
    # The audit trail (dispatch/web/admin.py): read-only, administrators and managers (who
    # answer for their teams' access to records; issue 14); the daily emergency-override
    # report is for the Caldicott guardian (an administrator).
    ("web.audit_page", "GET"): frozenset({ADMIN, MANAGER}),
    ("web.audit_csv", "GET"): frozenset({ADMIN, MANAGER}),
    ("web.override_report", "GET"): frozenset({ADMIN}),
    # Accounts (dispatch/web/users.py): administrators, as `dispatch user` on the server.
    ("web.users_page", "GET"): frozenset({ADMIN}),
    ("web.user_networks_page", "GET"): frozenset({ADMIN}),
    ("web.user_networks_save", "POST"): frozenset({ADMIN}),
    ("web.user_new_page", "GET"): frozenset({ADMIN}),
    ("web.user_create", "POST"): frozenset({ADMIN}),
    ("web.user_disable", "POST"): frozenset({ADMIN}),
    ("web.user_enable", "POST"): frozenset({ADMIN}),
    # Consent to share the care plan (dispatch/web/consent.py): recorded by the people who
    # talk to the patient and their carers.
    ("web.consent_page", "GET"): frozenset({CALL_HANDLER, COORDINATOR}),
    ("web.consent_record", "POST"): frozenset({CALL_HANDLER, COORDINATOR}),
    ("web.consent_withdraw", "POST"): frozenset({CALL_HANDLER, COORDINATOR}),
    ("referrals.Referrals", "POST"): frozenset({CALL_HANDLER, COORDINATOR, ADMIN}),
    ("referrals.ReferralById", "GET"): OFFICE,
    ("referrals.ReferralSlots", "GET"): frozenset({CALL_HANDLER, COORDINATOR, ADMIN}),
    # Marking a duplicate cancels visits: a coordinator's decision (hazard H-002).
    ("referrals.DuplicateOf", "POST"): frozenset({COORDINATOR}),
    # FHIR: a 111/999 system posts with the API token of a call_handler (system) user.
    ("fhir.ProcessMessage", "POST"): frozenset({CALL_HANDLER, COORDINATOR, ADMIN}),
    ("fhir.TaskById", "GET"): OFFICE,
    ("patients.Patients", "GET"): OFFICE,
    ("patients.CarePlan", "GET"): frozenset({CALL_HANDLER, COORDINATOR, FIELD_STAFF, ADMIN}),
    ("staff.StaffCollection", "GET"): OFFICE,
    ("staff.StaffCollection", "POST"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    # Absence (issue 14): the people who run the day mark a worker off and re-plan.
    ("absences.StaffAbsence", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("absences.StaffAbsenceById", "DELETE"): frozenset({COORDINATOR, MANAGER}),
    ("web.absence_page", "GET"): frozenset({COORDINATOR, MANAGER}),
    ("web.absence_record", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("web.absence_cancel", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("web.absence_give_back", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("staff.ShiftCollection", "GET"): OFFICE,
    ("staff.ShiftCollection", "POST"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("staff.RosterImport", "POST"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("plans.Plans", "POST"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    # Capacity planner (dispatch/api/capacity.py, web/capacity.py): commissioning, managers.
    ("capacity.CapacityPlans", "POST"): frozenset({MANAGER, ADMIN}),
    ("capacity.CapacityPlanById", "GET"): frozenset({MANAGER, ADMIN}),
    ("capacity.CapacityPlanById", "DELETE"): frozenset({MANAGER, ADMIN}),
    ("capacity.CapacityPlanChart", "GET"): frozenset({MANAGER, ADMIN}),
    ("web.capacity_page", "GET"): frozenset({MANAGER, ADMIN}),
    ("web.capacity_start", "POST"): frozenset({MANAGER, ADMIN}),
    ("web.capacity_run", "GET"): frozenset({MANAGER, ADMIN}),
    # Pooled network budgets (dispatch/api/budgets.py, web/budgets.py): coordinators read
    # what their network has left; managers set budgets.
    ("budgets.NetworkBudgets", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("budgets.NetworkBudgets", "POST"): frozenset({MANAGER}),
    ("budgets.BudgetChart", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    # Tier rules (issue 17): coordinators read who may serve whom; managers set them.
    ("budgets.NetworkTierRules", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("budgets.NetworkTierRules", "PUT"): frozenset({MANAGER}),
    ("budgets.NetworkTierCover", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    # The tier rules' page (issue 14): everyone who dispatches reads them, managers change.
    ("web.tier_rules_index", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("web.tier_rules_page", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("web.tier_rules_save", "POST"): frozenset({MANAGER}),
    # Who a network's escalations are texted to (H-040): managers and admins set them.
    ("network_contacts.NetworkContacts", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("network_contacts.NetworkContacts", "PUT"): frozenset({MANAGER, ADMIN}),
    ("web.budgets_page", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("plans.PlanById", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("visits.VisitCandidates", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("plans.PlanById", "DELETE"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    # Re-plan now (issue 14): the people who run a network's day.
    ("networks.NetworkReplan", "POST"): frozenset({COORDINATOR, MANAGER}),
    # The week's plan written back (issue 15): offers texts, so coordinators and managers.
    ("networks.NetworkWeekPlan", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("web.week_plan_page", "GET"): frozenset({COORDINATOR, MANAGER}),
    # A care-package line's best times (issue 15): booking narrows a visit's window.
    ("web.package_book_slot", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("web.week_plan_run", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("web.week_plan_status", "GET"): frozenset({COORDINATOR, MANAGER}),
    ("visits.AssignVisit", "POST"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("visits.UnassignVisit", "POST"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("visits.PinVisit", "POST"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("visits.DoubleHandedVisit", "POST"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    # A 2-hour visit nobody can reach in time (H-006): a clinical call for the people who
    # dispatch, not for administrators (as package decisions).
    ("visits.JeopardyOptions", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("visits.JeopardyDecision", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("web.board_jeopardy_decision", "POST"): frozenset({COORDINATOR, MANAGER}),
    # Asking another network to cover a visit (issue 14): as the jeopardy decision's cover.
    ("visits.CoverVisit", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("web.board_cover", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("visits.Visits", "GET"): ALL_ROLES,
    ("visits.VisitById", "GET"): ALL_ROLES,
    ("messages.Messages", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("sms.Inbound", "POST"): SIGNATURE,
    ("sms.Status", "POST"): SIGNATURE,
    # Care packages (dispatch/api/packages.py). Coordinators build and decide within their
    # limit, managers above it; admins read and keep the tariff but never approve or reject
    # (separation of duties, docs/adr/0002-approval-thresholds.md).
    ("packages.Packages", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("packages.Packages", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("packages.PackageById", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("packages.SubmitPackage", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("packages.ApprovePackage", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("packages.RejectPackage", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("packages.ActivatePackage", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("packages.EndPackage", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("packages.Tariff", "GET"): OFFICE,
    ("packages.Tariff", "POST"): frozenset({MANAGER, ADMIN}),
    # Performance (dispatch/api/kpis.py): aggregate figures, no patient identifiers.
    ("kpis.Kpis", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("kpis.KpiChart", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("kpis.KpiCsv", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    # --- Integrated care around the person (issue 16) ----------------------------------------
    # Practices and groups hold no patient data: every office role reads them; managers and
    # admins keep them. Registering a patient and naming a coordinator are coordinators' work.
    ("practices.Practices", "GET"): OFFICE,
    ("practices.Practices", "POST"): frozenset({MANAGER, ADMIN}),
    ("practices.Registrations", "POST"): frozenset({COORDINATOR, ADMIN}),
    ("groups.Groups", "GET"): OFFICE,
    ("groups.Groups", "POST"): frozenset({MANAGER, ADMIN}),
    ("groups.GroupById", "GET"): OFFICE,
    ("groups.GroupMembers", "POST"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("coordinators.PatientCoordinator", "PUT"): frozenset({COORDINATOR, MANAGER}),
    ("coordinators.Caseloads", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    # A caseload names patients: the people who coordinate their care.
    ("coordinators.Caseload", "GET"): frozenset({COORDINATOR, MANAGER}),
    ("coordinators.Uncoordinated", "GET"): frozenset({COORDINATOR, MANAGER}),
    ("web.practices_page", "GET"): OFFICE,
    ("web.caseloads_page", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    # Care plan versions: read by whoever may read the current plan (H-009 rules inside);
    # written by coordinators (the GP-led plan is typed in by the patient's coordinator).
    ("care_plans.CarePlanVersions", "GET"): frozenset({CALL_HANDLER, COORDINATOR, FIELD_STAFF,
                                                       ADMIN}),
    ("care_plans.CarePlanVersions", "POST"): frozenset({COORDINATOR}),
    ("care_plans.OverdueReviews", "GET"): frozenset({COORDINATOR, MANAGER}),
    ("web.care_plan_page", "GET"): frozenset({CALL_HANDLER, COORDINATOR}),
    ("web.care_plan_new", "GET"): frozenset({COORDINATOR}),
    ("web.care_plan_create", "POST"): frozenset({COORDINATOR}),
    ("web.my_caseload", "GET"): frozenset({COORDINATOR}),
    # Referrals out and hand-overs (H-022): whoever logs referrals or coordinates care may
    # send one and record what the other service did; tasks likewise.
    ("onward.OnwardReferrals", "GET"): frozenset({CALL_HANDLER, COORDINATOR, MANAGER}),
    ("onward.OnwardReferrals", "POST"): frozenset({CALL_HANDLER, COORDINATOR}),
    ("onward.OnwardById", "GET"): frozenset({CALL_HANDLER, COORDINATOR, MANAGER}),
    ("onward.OnwardStatus", "POST"): frozenset({CALL_HANDLER, COORDINATOR}),
    ("tasks.Tasks", "GET"): frozenset({COORDINATOR, MANAGER}),
    ("tasks.Tasks", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("tasks.TaskDone", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("web.onward_page", "GET"): frozenset({CALL_HANDLER, COORDINATOR, MANAGER}),
    ("web.onward_status", "POST"): frozenset({CALL_HANDLER, COORDINATOR}),
    ("web.patient_onward", "GET"): frozenset({CALL_HANDLER, COORDINATOR}),
    ("web.patient_onward_create", "POST"): frozenset({CALL_HANDLER, COORDINATOR}),
    ("web.patient_task_create", "POST"): frozenset({COORDINATOR}),
    ("web.task_done", "POST"): frozenset({COORDINATOR, MANAGER}),
    # Carers: the people who talk to patients and carers (call handlers see who to call in a
    # carer breakdown); texting a carer about a visit is the coordinator's.
    ("carers.Carers", "GET"): frozenset({CALL_HANDLER, COORDINATOR}),
    ("carers.Carers", "POST"): frozenset({CALL_HANDLER, COORDINATOR}),
    ("carers.CarerById", "GET"): frozenset({CALL_HANDLER, COORDINATOR}),
    ("carers.CarerLinks", "POST"): frozenset({CALL_HANDLER, COORDINATOR}),
    ("carers.CarerContactConsent", "PUT"): frozenset({CALL_HANDLER, COORDINATOR}),
    ("carers.CarerVisitText", "POST"): frozenset({COORDINATOR}),
    ("carers.CarerAssessments", "GET"): frozenset({COORDINATOR}),
    ("carers.CarerAssessments", "POST"): frozenset({COORDINATOR}),
    ("carers.CarerAssessmentDone", "POST"): frozenset({COORDINATOR}),
    ("web.patient_carers", "GET"): frozenset({CALL_HANDLER, COORDINATOR}),
    ("web.patient_carer_add", "POST"): frozenset({CALL_HANDLER, COORDINATOR}),
    ("web.carer_page", "GET"): frozenset({CALL_HANDLER, COORDINATOR}),
    ("web.carer_assessment_plan", "POST"): frozenset({COORDINATOR}),
    ("web.carer_assessment_done", "POST"): frozenset({COORDINATOR}),
    ("web.carer_visit_text", "POST"): frozenset({COORDINATOR}),
    # Hospital discharges: a hospital's system posts with a call_handler (system) token, like
    # FHIR referrals; coordinators log them by hand. The KPI is figures only.
    ("discharges.Discharges", "POST"): frozenset({CALL_HANDLER, COORDINATOR}),
    ("discharges.DischargeKpi", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    # Case conferences: run by coordinators and the MDG manager (a coordinator or manager
    # account); they name patients, so not admins.
    ("conferences.GroupConferences", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("conferences.ConferenceById", "GET"): frozenset({COORDINATOR, MANAGER}),
    ("conferences.ConferencePicks", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("conferences.ConferenceCaseById", "PATCH"): frozenset({COORDINATOR, MANAGER}),
    ("conferences.ConferenceActions", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("web.conference_page", "GET"): frozenset({COORDINATOR, MANAGER}),
    ("web.conference_case_save", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("web.conference_action_add", "POST"): frozenset({COORDINATOR, MANAGER}),
    ("web.group_conferences", "GET"): frozenset({COORDINATOR, MANAGER}),
    ("web.group_conference_build", "POST"): frozenset({COORDINATOR, MANAGER}),
    # Consent by API: as the consent page (the people who talk to patients and carers).
    ("consents.Consents", "GET"): frozenset({CALL_HANDLER, COORDINATOR}),
    ("consents.Consents", "POST"): frozenset({CALL_HANDLER, COORDINATOR}),
}


def rule_for(endpoint: str | None, method: str) -> Rule | None:
    """The rule for ``endpoint`` and ``method``; None when the route has none (refuse it)."""
    if endpoint is None or method == "OPTIONS":
        return PUBLIC  # 404/405 and CORS pre-flight: nothing to protect
    if method == "HEAD":
        method = "GET"
    return PERMISSIONS.get((endpoint, method)) or PERMISSIONS.get((endpoint, "*"))


def allowed(rule: Rule, role: str | None) -> bool:
    """Whether a user of ``role`` passes ``rule``.

    Public, signature and metrics-token rules are checked elsewhere.
    """
    if isinstance(rule, str):
        return rule in (PUBLIC, SIGNATURE, METRICS_TOKEN)
    return role is not None and role in rule


def roles_for(endpoint: str, method: str) -> Iterable[str]:
    rule = rule_for(endpoint, method)
    return sorted(rule) if isinstance(rule, frozenset) else ()
