"""The tier rules page (issue 14): who serves whom by risk tier, per network, in words; a
manager changes them with a form (before this, ``PUT /api/networks/{id}/tier-rules`` only).

The form posts what the API takes, through the same service (:func:`strata.set_rules`:
validated, audited as ``set_tier_rules``), so the page and the API cannot disagree on what is
valid; the service's errors go back next to their fields and into the NHS.UK error summary.
Only what differs from the seeds' defaults is stored, so a network that keeps a default keeps
following it.

The page also shows the network's tier cover over the coming week (H-232-C2,
:mod:`dispatch.services.tier_cover`): booked visits only the rules keep from everyone on the
roster (a warning, also in the message after saving) and the hours when a skill on shift is
held only by workers who may not serve some tiers.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import RadioField, SelectMultipleField
from wtforms.validators import InputRequired

from dispatch import forms
from dispatch.auth import current_actor
from dispatch.db import get_session
from dispatch.errors import InvalidInput
from dispatch.models import Network
from dispatch.models.vocab import RISK_TIERS
from dispatch.permissions import PERMISSIONS
from dispatch.request_clock import now
from dispatch.services import strata, tier_cover
from dispatch.web.common import bp, clock
from triage.timing import local

TIER_LABELS = {t: strata.TIER_WORDS[t][:1].upper() + strata.TIER_WORDS[t][1:]
               for t in RISK_TIERS}
PRIORITIES = [str(p) for p in range(strata.MIN_PLANNED_PRIORITY,
                                    strata.MAX_PLANNED_PRIORITY + 1)]


class TierRulesForm(FlaskForm):
    """A network's rules; one radio group per tier for the planned visits' priority."""

    hybrid_tiers = SelectMultipleField("Hybrid workers are sent to", validate_choice=False,
                                       choices=forms.options(TIER_LABELS.items()))
    coordinated_tiers = SelectMultipleField("Patients who need a named care coordinator",
                                            validate_choice=False,
                                            choices=forms.options(TIER_LABELS.items()))
    urgent_any_tier = RadioField(
        "May a 2-hour urgent visit go to anyone with the skills, whatever the tier?",
        choices=forms.options([
            ("yes", "Yes, anyone with the skills (the default)"),
            ("no", "No, hybrid workers keep to their tiers for urgent visits too")]),
        validators=[InputRequired("Choose whether a 2-hour visit may go to anyone with the "
                                  "skills")])


for _tier in RISK_TIERS:
    setattr(TierRulesForm, f"priority_{_tier}", RadioField(
        f"{TIER_LABELS[_tier]} patients", choices=forms.options((p, p) for p in PRIORITIES),
        validate_choice=False,
        validators=[InputRequired(f"Choose the priority of planned visits for "
                                  f"{strata.TIER_WORDS[_tier]} patients")]))


def _network(network_id: int) -> Network:
    """:raise NotFound: no such network."""
    return strata.get_network(get_session(), network_id)


def _can_change() -> bool:
    rule = PERMISSIONS[("web.tier_rules_save", "POST")]
    return isinstance(rule, frozenset) and current_actor().role in rule


def _form_for(rules: strata.TierRules) -> TierRulesForm:
    form = TierRulesForm(formdata=None, hybrid_tiers=strata.ordered(rules.hybrid_tiers),
                         coordinated_tiers=strata.ordered(rules.coordinated_tiers),
                         urgent_any_tier="yes" if rules.urgent_any_tier else "no")
    for tier in RISK_TIERS:
        getattr(form, f"priority_{tier}").data = str(rules.planned_priority[tier])
    return form


def _render(network: Network, form: TierRulesForm, *, errors: list[dict[str, str]] | None = None,
            status: int = 200) -> ResponseReturnValue:
    rules = strata.rules_from(network.tier_rules)
    cover = tier_cover.check(get_session(), network_id=network.id, now=now())
    return render_template(
        "networks/tier_rules.html", network=network, rules=strata.in_words(rules),
        customised=set((network.tier_rules or {}).keys()), form=form, tiers=RISK_TIERS,
        tier_labels=TIER_LABELS, can_change=_can_change(), errors=errors or [], cover=cover,
        gap_rows=_gap_rows(cover), may_open=current_actor().covers(network.id),
        tier_words=strata.TIER_WORDS), status


def _gap_rows(cover: tier_cover.TierCover) -> list[dict[str, Any]]:
    """The gaps grouped by skill and tiers, longest first: hours in all, on how many days,
    and each stretch ("Tue 08:00 to Tue 22:00")."""
    groups: dict[tuple[str, tuple[str, ...]], list[Any]] = {}
    for gap in cover.gaps:
        groups.setdefault((gap.skill, gap.tiers), []).append(gap)
    rows = []
    for (skill, tiers), gaps in groups.items():
        minutes = sum(g.minutes for g in gaps)
        rows.append({
            "skill": skill.replace("_", " ").capitalize(),
            "tiers": strata.tier_list(frozenset(tiers)),
            "hours": f"{minutes / 60:.1f}".removesuffix(".0"),
            "days": len({local(g.start).date() for g in gaps}),
            "times": [f"{clock(g.start, cover.start)} to {clock(g.end, cover.start)}"
                      for g in gaps],
            "minutes": minutes})
    return sorted(rows, key=lambda r: (-r["minutes"], r["skill"]))


@bp.get("/tier-rules")
def tier_rules_index() -> ResponseReturnValue:
    """Every network's rules in words, each with a link to its page, and how many booked
    visits its rules leave with nobody on the roster (H-232-C2)."""
    session = get_session()
    networks = session.scalars(sa.select(Network).order_by(Network.name)).all()
    rows = [(n, strata.in_words(strata.rules_from(n.tier_rules)), bool(n.tier_rules),
             len(tier_cover.check(session, network_id=n.id, now=now()).at_risk))
            for n in networks]
    return render_template("networks/tier_rules_index.html", rows=rows)


@bp.get("/networks/<int:network_id>/tier-rules")
def tier_rules_page(network_id: int) -> ResponseReturnValue:
    """One network's rules in words; for a manager, the form to change them."""
    network = _network(network_id)
    return _render(network, _form_for(strata.rules_from(network.tier_rules)))


def _changes(form: TierRulesForm) -> dict[str, Any]:
    """What differs from the seeds' defaults (the rest is left to follow them)."""
    defaults = strata.DEFAULT_RULES.as_dict()
    asked: dict[str, Any] = {
        "hybrid_tiers": [t for t in RISK_TIERS if t in (form.hybrid_tiers.data or [])],
        "coordinated_tiers": [t for t in RISK_TIERS if t in (form.coordinated_tiers.data or [])],
        "urgent_any_tier": form.urgent_any_tier.data == "yes",
    }
    bad = [t for t in (*(form.hybrid_tiers.data or []), *(form.coordinated_tiers.data or []))
           if t not in RISK_TIERS]
    if bad:  # a tier no checkbox offers: let the service name the field
        asked["hybrid_tiers"] = list(form.hybrid_tiers.data or [])
        asked["coordinated_tiers"] = list(form.coordinated_tiers.data or [])
    priority: dict[str, Any] = {}
    for tier in RISK_TIERS:
        raw = getattr(form, f"priority_{tier}").data
        priority[tier] = int(raw) if str(raw).isdigit() else raw
    asked["planned_priority"] = priority
    return {k: v for k, v in asked.items() if v != defaults[k]}


@bp.post("/networks/<int:network_id>/tier-rules")
def tier_rules_save(network_id: int) -> ResponseReturnValue:
    """Save a manager's change through the service (validated, audited); errors by field."""
    network = _network(network_id)
    form = TierRulesForm()
    if not form.validate():
        return _render(network, form, errors=forms.error_list(form), status=422)
    session = get_session()
    try:
        strata.set_rules(session, network_id=network.id, data=_changes(form),
                         actor=current_actor(), now=now())
    except InvalidInput as exc:
        session.rollback()
        _put_errors(form, exc.errors)
        return _render(_network(network_id), form, errors=forms.error_list(form), status=422)
    session.commit()
    message = f"Tier rules for {network.name} saved; the planner uses them from its next run"
    warning = tier_cover.summary(tier_cover.check(session, network_id=network.id, now=now()))
    flash(f"{message}. Warning: {warning}: see below" if warning else message)
    return redirect(url_for("web.tier_rules_page", network_id=network.id), code=303)


def _put_errors(form: TierRulesForm, errors: dict[str, list[str]]) -> None:
    """The service's errors on their fields; a priority's ("moderate: must be ...") on that
    tier's radio group."""
    for key, messages in errors.items():
        if key == "planned_priority":
            for message in messages:
                tier, _, why = message.partition(": ")
                field = getattr(form, f"priority_{tier}", None)
                if field is not None:
                    field.errors = [*field.errors, f"Priority for {strata.TIER_WORDS[tier]} "
                                                   f"patients {why}"]
            continue
        field = getattr(form, key, None)
        if field is not None:
            label = field.label.text
            field.errors = [*field.errors, *(f"{label}: {m}" for m in messages)]
