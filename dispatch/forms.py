"""The web pages' forms (Flask-WTF, so each carries its CSRF token) and their translation to
the referral JSON the API takes.

WTForms checks what a browser can get wrong (a word in a number box, a missing name); the
rest - ranges, codes, NHS numbers - is checked by the same schema and triage parser the API
uses, and their errors are put back on the fields here, so the page and the API can never
disagree about what is valid.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Any

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    Field,
    HiddenField,
    IntegerField,
    PasswordField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional

try:  # wtforms 3.3 deprecates (value, label) tuples in favour of SelectChoice
    from wtforms import SelectChoice
except ImportError:  # pragma: no cover - older wtforms
    SelectChoice = None

from dispatch.models.vocab import REFERRAL_SOURCES
from dispatch.services.care_plan_access import MAX_OVERRIDE_TEXT, OVERRIDE_PURPOSES
from triage import CFS_NAMES, CONSCIOUSNESS_LEVELS, NEEDS, RED_FLAGS, UCR_NEEDS

SOURCE_LABELS = {
    "111": "NHS 111", "out_of_hours": "GP out-of-hours service", "999": "999 ambulance service",
    "gp": "GP practice", "hospital_discharge": "Hospital discharge team",
    "social_care": "Social care", "self_or_carer": "The person or their carer",
}
CONSCIOUSNESS_LABELS = {
    "alert": "Alert", "new_confusion": "New confusion", "voice": "Responds to voice",
    "pain": "Responds to pain", "unresponsive": "Unresponsive",
}
OTHER_NEEDS = tuple(code for code in NEEDS if code not in UCR_NEEDS)
OBSERVATION_FIELDS = ("respiration_rate", "spo2", "spo2_scale", "on_oxygen", "systolic_bp",
                      "pulse", "consciousness", "temperature")
PATIENT_FIELDS = ("nhs_number", "given_name", "family_name", "address", "postcode", "phone")
# Short names used in error messages ("Pulse must be between 0 and 300, got 400").
FIELD_NAMES = {
    "respiration_rate": "Respiration rate", "spo2": "SpO2", "spo2_scale": "SpO2 scale",
    "on_oxygen": "Air or oxygen", "systolic_bp": "Systolic blood pressure", "pulse": "Pulse",
    "consciousness": "Consciousness", "temperature": "Temperature", "frailty": "Frailty",
    "needs": "Needs", "red_flags": "Red flags", "source": "Source",
    "referrer_name": "Referrer's name", "referrer_role": "Referrer's role",
    "referrer_organisation": "Referrer's organisation", "notes": "Notes",
    "pathways_disposition": "NHS Pathways disposition", "received_at": "Time of the call",
    "nhs_number": "NHS number", "given_name": "Given name", "family_name": "Family name",
    "dob_day": "Date of birth", "address": "Address", "postcode": "Postcode", "phone": "Phone",
    "patient_id": "Patient", "reason": "Reason", "start_day": "Start date",
    "start_time": "Start time", "approver_name": "Approving clinician's name",
    "approver_role": "Approving clinician's role", "confirm": "Confirmation",
}
# Where an error from the schema, triage or a service belongs on the page.
ERROR_FIELDS = {
    "referrer.name": "referrer_name", "referrer.role": "referrer_role",
    "referrer.organisation": "referrer_organisation", "patient": "nhs_number",
    "patient.date_of_birth": "dob_day", "pathways_timeframe_minutes": "pathways_disposition",
    "start": "start_day", "override_reason": "reason", "override_purpose": "purpose",
    **{f"observations.{name}": name for name in OBSERVATION_FIELDS},
    **{f"patient.{name}": name for name in PATIENT_FIELDS},
}


def options(pairs: Iterable[tuple[str, str]]) -> list[Any]:
    """Choices for a select, radios or checkboxes field, in the installed wtforms' shape."""
    if SelectChoice is None:
        return list(pairs)
    return [SelectChoice(value, label) for value, label in pairs]


def whole(label: str, lo: int, hi: int, *, required: bool = False,
          id: str | None = None) -> IntegerField:  # noqa: A002 - WTForms' own argument name
    """A whole-number box with NHS-style messages."""
    first = InputRequired(f"Enter the {label}") if required else Optional()
    name = label[:1].upper() + label[1:]
    return IntegerField(label, validators=[first, NumberRange(
        lo, hi, f"{name} must be between {lo} and {hi}")], id=id,
        invalid_value_message=f"Enter the {label} as a whole number")


class SignInForm(FlaskForm):
    username = StringField("Username", validators=[DataRequired("Enter your username"),
                                                   Length(max=80)])
    password = PasswordField("Password", validators=[DataRequired("Enter your password"),
                                                     Length(max=200)])
    next = HiddenField()


class SignOutForm(FlaskForm):
    """Nothing but the CSRF token: signing out is a POST another site must not forge."""


class DateParts:
    """Helpers for the NHS day / month / year date input."""

    @staticmethod
    def read(day: Field, month: Field, year: Field, *, what: str) -> date | None:
        """The date, or None with an error put on ``day`` (the summary links to it)."""
        parts = (day.data, month.data, year.data)
        if all(p is None for p in parts) and not any(f.errors for f in (day, month, year)):
            return None
        try:
            return date(int(year.data), int(month.data), int(day.data))
        except (TypeError, ValueError):
            day.errors = [*day.errors, f"{what} must be a real date, like 2 3 1941"]
            return None


class FindPatientForm(FlaskForm):
    """Step 1: find the patient by NHS number, or name and date of birth (and the postcode,
    if the caller knows it).

    The fields keep their posted names but have ids of their own (``find-...``): the page
    shows this form above the register-a-patient form, whose fields share the names.
    """

    nhs_number = StringField("NHS number", validators=[Optional(), Length(max=20)],
                             id="find-nhs-number")
    family_name = StringField("Name", validators=[Optional(), Length(max=80)],
                              id="find-name")
    dob_day = whole("day of birth", 1, 31, id="find-dob-day")
    dob_month = whole("month of birth", 1, 12, id="find-dob-month")
    dob_year = whole("year of birth", 1880, 2100, id="find-dob-year")
    postcode = StringField("Postcode", validators=[Optional(), Length(max=10)],
                           id="find-postcode")

    def search_terms(self) -> dict[str, Any] | None:
        """The terms for ``find_patients``, or None with errors on the fields."""
        if (self.nhs_number.data or "").strip():
            return {"nhs_number": self.nhs_number.data}
        given = [self.family_name.data, self.postcode.data, self.dob_day.data,
                 self.dob_month.data, self.dob_year.data]
        if not any(given) and not any(f.errors for f in self):
            self.nhs_number.errors = [
                "Enter an NHS number, or the name and date of birth"]
            return None
        dob = DateParts.read(self.dob_day, self.dob_month, self.dob_year, what="Date of birth")
        if dob is None and not self.dob_day.errors:
            self.dob_day.errors = ["Enter the date of birth"]
        if not (self.family_name.data or "").strip():
            self.family_name.errors = [*self.family_name.errors, "Enter the name"]
        if any(f.errors for f in self):
            return None
        terms: dict[str, Any] = {"name": self.family_name.data, "date_of_birth": dob}
        if (self.postcode.data or "").strip():
            terms["postcode"] = self.postcode.data
        return terms


class CarePlanOverrideForm(FlaskForm):
    """Read a care plan without recorded consent: only in an emergency, with a purpose from the
    list and a reason (``dispatch.services.care_plan_access``)."""

    patient_id = IntegerField(validators=[InputRequired()])
    purpose = RadioField("Purpose", choices=options(OVERRIDE_PURPOSES.items()), validators=[
        InputRequired("Choose the purpose of the emergency access")])
    reason = TextAreaField("What is the emergency?", validators=[
        DataRequired("Enter what the emergency is"), Length(max=MAX_OVERRIDE_TEXT)])


#: What a date box's error says: the UK way to write a date (the browser's date picker shows
#: dd/mm/yyyy in en-GB and sends ISO; both are read).
DATE_EXAMPLE = "1/12/2026"
BAD_DATE = f"Enter a real date, like {DATE_EXAMPLE}"


def read_date(text: str) -> date:
    """A date typed the UK way ("1/12/2026", "01/12/2026", "1-12-2026") or sent by a date
    picker ("2026-12-01"). :raise ValueError: anything else, or no such day."""
    text = text.strip()
    parts = text.replace("-", "/").replace(".", "/").split("/")
    if len(parts) == 3 and all(p.isdigit() for p in parts):
        if len(parts[0]) == 4:  # ISO: year first
            return date(int(parts[0]), int(parts[1]), int(parts[2]))
        if len(parts[2]) == 4:
            return date(int(parts[2]), int(parts[1]), int(parts[0]))
    raise ValueError(f"not a date: {text!r}")


def new_form_token() -> str:
    """The hidden token that makes a double submit one referral (the idempotency key)."""
    return secrets.token_urlsafe(24)


class ReferralForm(FlaskForm):
    """Step 2: the referral. Either ``patient_id`` (found) or the new patient's details."""

    form_token = HiddenField()
    received_at = HiddenField()
    patient_id = IntegerField(validators=[Optional()])
    # After a patient mismatch (H-001): "same:<id>" (confirm that registered patient), "new"
    # (somebody else: register them) or "" (the details were corrected).
    patient_decision = StringField(validators=[Optional(), Length(max=20)])
    # H-031: the registered patient whose open referral the handler was shown before logging
    # (a registration on the form that matched them); logging again with it confirms.
    duplicate_seen = HiddenField(validators=[Optional(), Length(max=20)])
    nhs_number = StringField("NHS number", validators=[Optional(), Length(max=20)])
    given_name = StringField("Given name", validators=[Optional(), Length(max=80)])
    family_name = StringField("Family name", validators=[Optional(), Length(max=80)])
    dob_day = whole("day of birth", 1, 31)
    dob_month = whole("month of birth", 1, 12)
    dob_year = whole("year of birth", 1880, 2100)
    address = StringField("Address", validators=[Optional(), Length(max=200)])
    postcode = StringField("Postcode", validators=[Optional(), Length(max=10)])
    phone = StringField("Phone", validators=[Optional(), Length(max=16)])

    source = SelectField("Where is the referral from?", default="111",
                         choices=options((s, SOURCE_LABELS[s]) for s in REFERRAL_SOURCES))
    referrer_name = StringField("Referrer's name", validators=[
        DataRequired("Enter the referrer's name"), Length(max=120)])
    referrer_role = StringField("Referrer's role", validators=[Optional(), Length(max=80)])
    referrer_organisation = StringField("Organisation", validators=[Optional(), Length(max=120)])
    needs = SelectMultipleField("Needs", choices=options((c, n.label) for c, n in NEEDS.items()))
    respiration_rate = whole("respiration rate", 0, 80)
    spo2 = whole("SpO2", 0, 100)
    spo2_scale = RadioField("SpO2 scale", default="1", choices=options([
        ("1", "Scale 1"), ("2", "Scale 2: confirmed hypercapnic respiratory failure")]))
    on_oxygen = RadioField("Air or oxygen", default="", choices=options([
        ("", "Not recorded"), ("air", "Air"), ("oxygen", "Oxygen")]))
    systolic_bp = whole("systolic blood pressure", 0, 300)
    pulse = whole("pulse", 0, 300)
    consciousness = SelectField("Consciousness (ACVPU)", default="", choices=options([
        ("", "Not recorded"), *((c, CONSCIOUSNESS_LABELS[c]) for c in CONSCIOUSNESS_LEVELS)]))
    temperature = StringField("Temperature", validators=[Optional(), Length(max=6)])
    frailty = SelectField("Clinical Frailty Scale", default="", choices=options([
        ("", "Not known: use the register's score"),
        *((str(k), f"{k} - {v}") for k, v in CFS_NAMES.items())]))
    pathways_disposition = StringField("NHS Pathways disposition code",
                                       validators=[Optional(), Length(max=8)])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=2000)])

    def prepare(self, *, now: datetime, patient_id: int | None) -> None:
        """Fill the hidden fields a fresh form needs: its token, the call time, the patient."""
        self.form_token.data = self.form_token.data or new_form_token()
        self.received_at.data = self.received_at.data or now.astimezone(UTC).isoformat()
        if patient_id is not None:
            self.patient_id.data = patient_id

    def payload(self) -> dict[str, Any] | None:
        """The ``POST /api/referrals`` body, or None with errors on the fields."""
        body: dict[str, Any] = {
            "source": self.source.data,
            "referrer": _without_blanks({"name": self.referrer_name.data,
                                         "role": self.referrer_role.data,
                                         "organisation": self.referrer_organisation.data}),
            "received_at": self.received_at.data or None,
            "needs": list(self.needs.data or []),
            "red_flag_answers": self.red_flag_answers(),
            "observations": self._observations(),
            "frailty": int(self.frailty.data) if self.frailty.data else None,
            "pathways_disposition": (self.pathways_disposition.data or "").strip() or None,
            "notes": (self.notes.data or "").strip() or None,
        }
        if self.patient_id.data:
            body["patient_id"] = self.patient_id.data
        else:
            body["patient"] = self._patient()
        decision = (self.patient_decision.data or "").strip()
        if decision == "new":
            body["new_patient"] = True
        elif decision.startswith("same:") and decision[5:].isdigit() and decision[5:].isascii():
            body["confirm_patient_id"] = int(decision[5:])
        body = {k: v for k, v in body.items() if v not in (None, {}, "")}
        return None if any(f.errors for f in self) else body

    def red_flag_fields(self) -> list[Any]:
        """The red-flag questions, one radio group each, in the catalogue's order."""
        return [getattr(self, red_flag_field_name(code)) for code in RED_FLAGS]

    def red_flag_answers(self) -> dict[str, str]:
        """Each red-flag question's answer (yes / no / not_asked), as triage takes them."""
        return {code: field.data for code, field in zip(RED_FLAGS, self.red_flag_fields(),
                                                        strict=True) if field.data}

    def _observations(self) -> dict[str, Any]:
        obs: dict[str, Any] = {name: getattr(self, name).data for name in
                               ("respiration_rate", "spo2", "systolic_bp", "pulse")}
        if self.spo2.data is not None:
            obs["spo2_scale"] = int(self.spo2_scale.data or 1)
        if self.on_oxygen.data:
            obs["on_oxygen"] = self.on_oxygen.data == "oxygen"
        obs["consciousness"] = self.consciousness.data or None
        obs["temperature"] = self._temperature()
        return {k: v for k, v in obs.items() if v is not None}

    def _temperature(self) -> float | None:
        raw = (self.temperature.data or "").strip()
        if not raw:
            return None
        try:
            return float(raw)
        except ValueError:
            self.temperature.errors = [*self.temperature.errors,
                                       "Enter the temperature as a number, like 37.5"]
            return None

    def _patient(self) -> dict[str, Any]:
        dob = DateParts.read(self.dob_day, self.dob_month, self.dob_year, what="Date of birth")
        details = {name: (getattr(self, name).data or "").strip() for name in PATIENT_FIELDS}
        details["date_of_birth"] = dob.isoformat() if dob else None
        return _without_blanks(details)


def _without_blanks(values: Mapping[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "")}


class BookingForm(FlaskForm):
    """Book a later start for a visit; past the deadline it needs a reason and may need an
    approving clinician (see ``dispatch.services.bookings``)."""

    start_day = StringField("Date", validators=[DataRequired("Enter the date"), Length(max=10)])
    start_time = StringField("Time", validators=[DataRequired("Enter the time, like 15:00"),
                                                 Length(max=5)])
    reason = TextAreaField("Reason", validators=[Optional(), Length(max=300)])
    confirm = BooleanField("I understand the visit will start after its deadline")
    approver_name = StringField("Approving clinician's name", validators=[Optional(),
                                                                          Length(max=120)])
    approver_role = StringField("Approving clinician's role", validators=[Optional(),
                                                                          Length(max=80)])


class SlotChoiceForm(FlaskForm):
    """One of the offered times (``dispatch.services.slots``): the window's start, ISO 8601;
    booked through the same safeguards as a typed start."""

    slot = StringField("Time to offer", validators=[DataRequired("Choose a time"),
                                                    Length(max=40)])


def put_errors(form: FlaskForm, errors: Mapping[str, Any]) -> list[str]:
    """Attach errors from the schema, triage or a service to the form's fields.

    Returns the messages that belong to no field (shown in the summary without a link).
    """
    unplaced = []
    for key, messages in flatten_errors(errors):
        name = ERROR_FIELDS.get(key, key)
        field = getattr(form, name, None)
        text = [_sentence(FIELD_NAMES.get(name, name.replace("_", " ")), m) for m in messages]
        if isinstance(field, Field):
            field.errors = [*field.errors, *text]
        else:
            unplaced.extend(text)
    return unplaced


def flatten_errors(errors: Mapping[str, Any], prefix: str = "") -> Iterable[tuple[str, list[str]]]:
    """marshmallow's nested messages as ``("referrer.name", ["..."])`` pairs."""
    for key, value in errors.items():
        path = f"{prefix}{key}"
        if isinstance(value, Mapping):
            yield from flatten_errors(value, prefix=f"{path}.")
        else:
            yield path, [str(v) for v in (value if isinstance(value, list) else [value])]


IMPERATIVES = ("give", "enter", "confirm", "choose", "select", "check")


def _sentence(name: str, message: str) -> str:
    """"must be between 0 and 80" -> "Respiration rate must be between 0 and 80";
    "enter the name" -> "Enter the name"."""
    if message[:1].isupper():
        return message
    if message.split(" ", 1)[0] in IMPERATIVES:
        return message[:1].upper() + message[1:]
    return f"{name} {message}"


def error_list(form: FlaskForm, extra: Iterable[str] = ()) -> list[dict[str, str]]:
    """The error summary's items: each field's first error, linking to the field."""
    items = [{"text": str(m)} for m in extra]
    for field in form:
        if field.errors and field.type != "CSRFTokenField":
            items.append({"text": str(field.errors[0]), "href": f"#{field.id}"})
        elif field.errors:
            items.append({"text": "The form expired; please submit it again"})
    return items


RED_FLAG_CHOICES = (("yes", "Yes"), ("no", "No"), ("not_asked", "Not asked"))


def red_flag_field_name(code: str) -> str:
    """The form field of one red-flag question (``red_flag__chest_pain``)."""
    return f"red_flag__{code}"


# One required radio group per red-flag question (issue 13, H-003): the handler answers each
# yes, no or "not asked"; the form cannot be sent with one left blank, so a question skipped
# by accident is never read as "no". Added to the class after its body so the catalogue in
# triage/ stays the only list of questions.
for _code, _flag in RED_FLAGS.items():
    setattr(ReferralForm, red_flag_field_name(_code), RadioField(
        _flag.label, choices=options(RED_FLAG_CHOICES), validators=[InputRequired(
            f"Answer '{_flag.label}': yes, no or not asked")]))
