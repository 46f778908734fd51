"""Administrators: the users' page (who has which role and, for coordinators, which networks)
and changing the networks a coordinator runs, as ``dispatch user networks`` does. Accounts are
created with ``dispatch user add`` (it prints the API token once, which a page should not)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import BooleanField, SelectMultipleField

from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.errors import InvalidInput, NotFound
from dispatch.models import User
from dispatch.request_clock import now
from dispatch.services import network_scope
from dispatch.services.users import change_networks, read_users
from dispatch.web.common import bp

PURPOSE = "account administration"


class NetworksForm(FlaskForm):
    """The networks a coordinator runs, or every network (a hub coordinator)."""

    networks = SelectMultipleField("Networks", coerce=int, choices=[], validate_choice=False)
    all_networks = BooleanField("Every network (a hub coordinator)")


@bp.get("/admin/users")
def users_page() -> ResponseReturnValue:
    """Every account: role, state and, for coordinators, the networks they run."""
    session = get_session()
    names = network_scope.network_names(session)
    rows = []
    for summary in read_users(session, actor=current_actor(), now=now(), purpose=PURPOSE,
                              request_id=request_id()):
        networks = summary.networks
        if networks == "all":
            text = "Every network (hub)"
        elif networks and networks != "none":
            text = ", ".join(names.get(int(i), i) for i in networks.split(","))
        else:
            text = "None" if networks == "none" else ""
        rows.append((summary, text))
    session.commit()
    return render_template("admin/users.html", rows=rows)


def _user(user_id: int) -> User:
    user = get_session().get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} not found")
    return user


def _render(user: User, form: NetworksForm, errors: list[dict[str, str]] | None = None,
            status: int = 200) -> ResponseReturnValue:
    names = network_scope.network_names(get_session())
    return render_template("admin/user_networks.html", user=user, form=form,
                           networks=sorted(names.items(), key=lambda kv: kv[1]),
                           errors=errors or []), status


@bp.get("/admin/users/<int:user_id>/networks")
def user_networks_page(user_id: int) -> ResponseReturnValue:
    """The networks a coordinator sees and acts on, to change."""
    user = _user(user_id)
    form = NetworksForm(formdata=None, all_networks=user.all_networks,
                        networks=network_scope.listed_networks(get_session(), user.id))
    return _render(user, form)


@bp.post("/admin/users/<int:user_id>/networks")
def user_networks_save(user_id: int) -> ResponseReturnValue:
    """Save a coordinator's networks (audited); a coordinator left with none is refused."""
    session = get_session()
    user = _user(user_id)
    form = NetworksForm()
    if not form.validate():
        return _render(user, form, [{"text": "Reload the page and try again"}], 400)
    chosen = [int(i) for i in form.networks.data or []]
    try:
        change_networks(session, user=user, network_ids=chosen,
                        all_networks=bool(form.all_networks.data), actor=current_actor(),
                        now=now(), purpose=PURPOSE, request_id=request_id())
    except InvalidInput as exc:
        session.rollback()
        message = next(iter((exc.errors or {}).values()), [exc.message])[0]
        return _render(_user(user_id), form, [{"text": message[0].upper() + message[1:],
                                               "href": "#networks"}], 422)
    session.commit()
    flash(f"Saved the networks of {user.display_name}")
    return redirect(url_for("web.users_page"), code=303)
