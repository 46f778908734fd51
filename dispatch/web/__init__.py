"""Server-rendered pages (NHS.UK frontend) and the vendored front-end assets.

Front-end packages (``nhsuk-frontend``, ``swagger-ui-dist``) are installed by npm into the
project's ``node_modules`` by the README's commands and served from ``/static/vendor/`` so the
pages work on a machine with no internet. Templates extend ``nhsuk/template.jinja`` from
``nhsuk-frontend-jinja`` (templates only; it pairs with npm ``nhsuk-frontend`` 10.6.1).

Pages work without JavaScript: every step is a plain form post, and scripts only add
niceties (the NHS.UK header menu, the board's live refresh). Views parse, call a service,
commit once and render; the rules live in ``dispatch.services`` and ``triage``.

One blueprint (``web``), its pages split by area: ``common`` (sign-in, assets, filters),
``handler`` (the call handler's referral pages), ``visits`` (field staff), ``board``
(coordinators), ``messages`` (the SMS outbox and inbox), ``reports`` (managers' KPIs),
``packages`` (care package decisions), ``consent`` (consent to share the care plan) and
``capacity`` (the capacity planner, managers), ``budgets`` (pooled network budgets),
``admin`` (the audit trail and the emergency-override report), ``users`` (accounts and
coordinators' networks). Importing the page modules registers their routes.
"""

from __future__ import annotations

import dispatch.web.absence
import dispatch.web.admin
import dispatch.web.board
import dispatch.web.budgets
import dispatch.web.capacity
import dispatch.web.care_plans
import dispatch.web.carers
import dispatch.web.conferences
import dispatch.web.consent
import dispatch.web.handler
import dispatch.web.messages
import dispatch.web.onward
import dispatch.web.package_pages
import dispatch.web.packages
import dispatch.web.practices
import dispatch.web.reports
import dispatch.web.tier_rules
import dispatch.web.users
import dispatch.web.visits
import dispatch.web.week_plan  # noqa: F401  (each registers its routes on ``bp``)
from dispatch.web.common import ROLE_HOME, bp, init_app, london_time

__all__ = ["ROLE_HOME", "bp", "init_app", "london_time"]
