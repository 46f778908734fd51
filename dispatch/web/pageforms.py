"""Forms of the field staff, board, package and audit pages (Flask-WTF: each carries its CSRF
token). The referral pages' forms are in :mod:`dispatch.forms`."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    HiddenField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, Regexp

from dispatch.forms import options
from dispatch.models.vocab import VISIT_OUTCOMES

OUTCOME_LABELS = {
    "visit_completed": "Visit completed: care given at home",
    "admitted_to_hospital": "Admitted to hospital",
    "escalated_to_gp": "Escalated to the GP",
    "no_access": "No access: could not get in",
}
DECLINE_REASONS = {
    "no_time": "Not enough time before the deadline",
    "too_far": "Too far away",
    "missing_skill": "I do not have the skills needed",
    "unwell": "I am unwell",
    "other": "Other (say why below)",
}
MIN_REASON = 3
VERSION = (InputRequired("Reload the page: the visit version is missing"),
           NumberRange(1, 2**31 - 1, "Reload the page: the visit version is not valid"))


def optional_int(value: object) -> int | None:
    """A select's value as an id; the "Choose..." placeholder is None."""
    return None if value in (None, "") else int(str(value))


class ActionForm(FlaskForm):
    """Accept or arrive: nothing but the CSRF token."""


class DeclineForm(FlaskForm):
    reason = SelectField("Why are you declining?", default="",
                         choices=options([("", "Choose a reason"), *DECLINE_REASONS.items()]),
                         validators=[DataRequired("Choose why you are declining")])
    details = StringField("Anything else the coordinator should know",
                          validators=[Optional(), Length(max=200)])

    def text(self) -> str:
        """The reason as recorded (and counted in the KPIs' declines by reason)."""
        label = DECLINE_REASONS.get(self.reason.data or "", "other")
        details = (self.details.data or "").strip()
        return f"{label}: {details}" if details else label


#: Simple observations a worker may record at the outcome: field -> (label, low, high).
OBSERVATIONS = {
    "respiration_rate": ("Respiration rate (breaths a minute)", 1, 80),
    "spo2": ("SpO2 (%)", 50, 100),
    "pulse": ("Pulse (beats a minute)", 20, 250),
    "systolic_bp": ("Systolic blood pressure (mmHg)", 40, 300),
    "temperature": ("Temperature (°C)", 30, 45),
}


def _observation(name: str) -> DecimalField:
    label, low, high = OBSERVATIONS[name]
    return DecimalField(label, places=None, validators=[Optional(), NumberRange(
        low, high, f"{label.split(' (')[0]} must be between {low} and {high}")],
        render_kw={"inputmode": "decimal"})


class CompleteForm(FlaskForm):
    """Done: the outcome, with optional notes and a few observations (issue 14)."""

    outcome = SelectField("Outcome", default="",
                          choices=options([("", "Choose the outcome"),
                                           *((o, OUTCOME_LABELS[o]) for o in VISIT_OUTCOMES)]),
                          validators=[DataRequired("Choose the outcome of the visit")])
    notes = TextAreaField("Notes (optional)", validators=[Optional(), Length(max=1000)])
    respiration_rate = _observation("respiration_rate")
    spo2 = _observation("spo2")
    pulse = _observation("pulse")
    systolic_bp = _observation("systolic_bp")
    temperature = _observation("temperature")

    def observations(self) -> dict[str, float]:
        """The observations given (numbers), by name."""
        return {name: float(getattr(self, name).data) for name in OBSERVATIONS
                if getattr(self, name).data is not None}


class AssignForm(FlaskForm):
    """Assign by hand: who, when (today, London time), pin; ``confirm`` after warnings."""

    staff_id = SelectField("Worker", coerce=optional_int, choices=[], validate_choice=False,
                           validators=[InputRequired("Choose a worker")])
    start_time = StringField("Start time (today, UK time)", validators=[
        DataRequired("Enter the start time, like 14:30"),
        Regexp(r"^([01]?\d|2[0-3]):[0-5]\d$", message="Enter the start time like 14:30")])
    pin = BooleanField("Pin to this worker (the planner will not move it)")
    version = IntegerField(validators=list(VERSION))
    confirm = HiddenField(default="")
    #: A candidate's exact start (ISO 8601, from the candidates list); overrides start_time.
    start = HiddenField(default="")


class UnassignForm(FlaskForm):
    reason = StringField("Reason for taking the visit off its worker", validators=[
        DataRequired("Give a reason"), Length(min=MIN_REASON, max=300,
                                              message="Give a reason of 3 to 300 characters")])
    keep_off = BooleanField("Keep this worker off the visit (the planner will not offer it "
                            "to them again)")
    version = IntegerField(validators=list(VERSION))


class JeopardyDecisionForm(FlaskForm):
    """One of the on-call coordinator's choices for a visit nobody can reach in time."""

    choice = HiddenField(validators=[DataRequired("Choose what to do")])
    staff_id = IntegerField(validators=[Optional(), NumberRange(1, 2**31 - 1)])
    late_minutes = IntegerField(validators=[Optional(), NumberRange(1, 12 * 60)])
    network_id = IntegerField(validators=[Optional(), NumberRange(1, 2**31 - 1)])
    note = StringField("Note (optional)", validators=[Optional(), Length(max=200)])


class CoverForm(FlaskForm):
    """A coordinator asks another network to cover a visit (issue 14); the service checks the
    network and the note and its errors go back on these fields."""

    version = IntegerField(validators=list(VERSION))
    network_id = RadioField("Network", coerce=int, validate_choice=False,
                            validators=[InputRequired("Choose the network you are asking to "
                                                      "cover")])
    note = TextAreaField("Note for the covering team", validators=[
        DataRequired("Enter a note for the covering team (why you are asking)"),
        Length(max=120, message="Note must be 120 characters or fewer")])


class PinForm(FlaskForm):
    pinned = HiddenField()
    version = IntegerField(validators=list(VERSION))


class DoubleHandedForm(FlaskForm):
    version = IntegerField(validators=list(VERSION))


class ApproveForm(FlaskForm):
    note = TextAreaField("Note (optional)", validators=[Optional(), Length(max=300)])


class RejectForm(FlaskForm):
    reason = TextAreaField("Reason for rejecting", validators=[
        DataRequired("Give a reason for rejecting the package"), Length(max=300)])


class CapacityPlanForm(FlaskForm):
    """The capacity planner's inputs (the API's, with the page's defaults)."""

    date = DateField("First simulated day", validators=[DataRequired("Enter a date")])
    seed = IntegerField("Seed", default=1, validators=[NumberRange(0, 2**31 - 1)])
    target = DecimalField("Target 2-hour compliance (%)", default=95, places=None,
                          validators=[NumberRange(1, 100, "Enter a target from 1 to 100")])
    network = SelectField("Network", default="")
    growth = DecimalField("Demand growth factor", default=1.0, places=None,
                          validators=[NumberRange(0.1, 5, "Enter a factor from 0.1 to 5")])
    mix = StringField("Referral mix (optional)",
                      validators=[Optional(), Length(max=200, message="Enter at most 200 "
                                                                      "characters")])
    days = IntegerField("Simulated days per staffing", default=3,
                        validators=[NumberRange(1, 3, "Enter 1 to 3 days")])
