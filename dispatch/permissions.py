"""Who may call what: the one permission table, enforced before every request.

Keys are Flask endpoint names (``blueprint.View``) and an HTTP method (``*`` for any). A route
missing from the table is refused (fail closed) and logged, so a new endpoint cannot ship open
by accident; the route-walking test in ``tests/dispatch/test_permissions.py`` fails first.
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

Rule = frozenset[str] | str

PERMISSIONS: dict[tuple[str, str], Rule] = {
    ("health.Health", "*"): PUBLIC,
    ("api-docs.openapi_json", "*"): PUBLIC,
    ("api-docs.openapi_swagger_ui", "*"): PUBLIC,
    ("static", "*"): PUBLIC,
    ("web.vendor", "*"): PUBLIC,
    ("web.index", "*"): PUBLIC,
    ("referrals.Referrals", "POST"): frozenset({CALL_HANDLER, COORDINATOR, ADMIN}),
    ("referrals.ReferralById", "GET"): OFFICE,
    ("patients.Patients", "GET"): OFFICE,
    ("patients.CarePlan", "GET"): frozenset({CALL_HANDLER, COORDINATOR, FIELD_STAFF, ADMIN}),
    ("staff.StaffCollection", "GET"): OFFICE,
    ("staff.StaffCollection", "POST"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("staff.ShiftCollection", "GET"): OFFICE,
    ("staff.ShiftCollection", "POST"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("staff.RosterImport", "POST"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("plans.Plans", "POST"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("plans.PlanById", "GET"): frozenset({COORDINATOR, MANAGER, ADMIN}),
    ("visits.Visits", "GET"): ALL_ROLES,
    ("visits.VisitById", "GET"): ALL_ROLES,
}


def rule_for(endpoint: str | None, method: str) -> Rule | None:
    """The rule for ``endpoint`` and ``method``; None when the route has none (refuse it)."""
    if endpoint is None or method == "OPTIONS":
        return PUBLIC  # 404/405 and CORS pre-flight: nothing to protect
    if method == "HEAD":
        method = "GET"
    return PERMISSIONS.get((endpoint, method)) or PERMISSIONS.get((endpoint, "*"))


def allowed(rule: Rule, role: str | None) -> bool:
    """Whether a user of ``role`` passes ``rule`` (public and signature rules are checked elsewhere)."""
    if isinstance(rule, str):
        return rule in (PUBLIC, SIGNATURE)
    return role is not None and role in rule


def roles_for(endpoint: str, method: str) -> Iterable[str]:
    rule = rule_for(endpoint, method)
    return sorted(rule) if isinstance(rule, frozenset) else ()
