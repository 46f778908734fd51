"""Administrators: the users' page (who has which role and, for coordinators, which networks),
changing the networks a coordinator runs (as ``dispatch user networks`` does), adding a person
who signs in on the web, and disabling or enabling an account. API tokens are still made with
``dispatch user add`` (it prints the token once, which a page should not)."""

from __future__ import annotations

from flask import flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import InputRequired

from dispatch import forms
from dispatch.auth import current_actor, request_id
from dispatch.db import get_session
from dispatch.errors import Conflict, InvalidInput, NotFound
from dispatch.models import User
from dispatch.request_clock import now
from dispatch.services import accounts, network_scope
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


# --- adding a person, disabling and enabling ---------------------------------------------------

ROLE_LABELS = (("call_handler", "Call handler"), ("coordinator", "Care coordinator"),
               ("field_staff", "Field staff (nurse, hybrid worker, therapist, social worker)"),
               ("manager", "Manager"), ("admin", "Administrator"))


class NewUserForm(FlaskForm):
    """A person who signs in on the web (checked by ``dispatch.services.accounts``)."""

    username = StringField("Username", validators=[InputRequired("Enter a username")])
    display_name = StringField("Their name", validators=[InputRequired("Enter their name")])
    role = RadioField("Role", choices=forms.options(ROLE_LABELS),
                      validators=[InputRequired("Choose a role")])
    networks = SelectMultipleField("Networks", coerce=int, choices=[], validate_choice=False)
    all_networks = BooleanField("Every network (a hub coordinator)")
    staff_id = SelectField("Member of staff", choices=[], validate_choice=False)
    password = PasswordField("First password", validators=[
        InputRequired("Enter a first password")])


def _render_new(form: NewUserForm, status: int = 200) -> ResponseReturnValue:
    session = get_session()
    form.password.data = ""  # never sent back to the browser
    names = network_scope.network_names(session)
    form.staff_id.choices = forms.options(
        [("", "Choose a member of staff"),
         *((str(s.id), f"{s.name} ({s.role.replace('_', ' ')})")
           for s in accounts.unlinked_field_staff(session))])
    return render_template("admin/user_new.html", form=form,
                           networks=sorted(names.items(), key=lambda kv: kv[1]),
                           errors=forms.error_list(form),
                           min_password=accounts.MIN_PASSWORD), status


@bp.get("/admin/users/new")
def user_new_page() -> ResponseReturnValue:
    """The form to add a person: username, name, role, networks or staff, first password."""
    return _render_new(NewUserForm(formdata=None))


@bp.post("/admin/users/new")
def user_create() -> ResponseReturnValue:
    """Create the account (audited as ``user_created``); every problem is shown at once."""
    session, form = get_session(), NewUserForm()
    form.validate()
    staff = form.staff_id.data or ""
    request_ = accounts.AccountRequest(
        username=(form.username.data or "").strip(),
        display_name=" ".join((form.display_name.data or "").split()),
        role=form.role.data or "", password=form.password.data or "",
        network_ids=[int(i) for i in form.networks.data or []],
        all_networks=bool(form.all_networks.data),
        staff_id=int(staff) if staff.isdigit() and int(staff) < 2**31 else None)
    if "csrf_token" in form.errors:
        return _render_new(form, 400)
    try:
        user = accounts.create_account(session, request=request_, actor=current_actor(),
                                       now=now())
        if form.errors:  # the form's own words ("Enter a username") win; nothing is kept
            raise InvalidInput("invalid user", errors={})
    except (InvalidInput, Conflict) as exc:
        session.rollback()
        found = exc.errors if isinstance(exc, InvalidInput) else {"username": [exc.message]}
        for name, messages in (found or {}).items():
            field = getattr(form, {"network": "networks"}.get(name, name))
            if not field.errors:
                field.errors = [messages[0][:1].upper() + messages[0][1:]]
        return _render_new(form, 422)
    session.commit()
    flash(f"Added {user.display_name} ({user.username}, {ROLE_WORDS[user.role]}). Give them "
          "the first password in person or by phone, never by email or text.")
    return redirect(url_for("web.users_page"), code=303)


ROLE_WORDS = {role: label.split(" (")[0].lower() for role, label in ROLE_LABELS}


def _switch(user_id: int, active: bool) -> ResponseReturnValue:
    session = get_session()
    try:
        user = accounts.set_active(session, user_id=user_id, active=active,
                                   actor=current_actor(), now=now())
    except Conflict as exc:
        session.rollback()
        flash(exc.message[:1].upper() + exc.message[1:], "warning")
        return redirect(url_for("web.users_page"), code=303)
    session.commit()
    flash(f"Enabled {user.display_name}: they can sign in again (API tokens stay revoked)"
          if active else f"Disabled {user.display_name}: signed out everywhere and their API "
          "tokens revoked")
    return redirect(url_for("web.users_page"), code=303)


@bp.post("/admin/users/<int:user_id>/disable")
def user_disable(user_id: int) -> ResponseReturnValue:
    """Disable an account: no sign-in, every session ended, API tokens revoked (audited)."""
    return _switch(user_id, False)


@bp.post("/admin/users/<int:user_id>/enable")
def user_enable(user_id: int) -> ResponseReturnValue:
    """Enable a disabled account again (audited)."""
    return _switch(user_id, True)
