"""Which registered patient a referral is about, never matched silently on a disagreement.

Hazard H-001: a referral whose NHS number belongs to a registered patient whose family name,
date of birth or postcode disagree was matched to that patient (and got their care plan).
Now:

- by NHS number: the registered patient, unless a given family name, date of birth or
  postcode differs (case, spaces and postcode spacing ignored) -> :class:`PatientMismatch`
  naming only the fields, never the stored values; the caller resends with
  ``confirm_patient_id`` (audited) or corrects the details;
- without an NHS number: the one registered patient with the same family name, date of birth
  and postcode (and given name, if given). Somebody with the same name and date of birth but
  another postcode or given name is asked about too (confirm them, or say ``new_patient``);
- an NHS number nobody has yet, with the family name and date of birth of a patient
  registered without one (H-030): asked about; confirmed, the number is recorded on them;
- nobody similar: a new patient, without an NHS number if none was given (flagged for
  tracing).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy import orm as so

from dispatch.errors import Conflict, InvalidInput
from dispatch.models import Patient
from dispatch.nhs_numbers import InvalidNhsNumber, normalise_nhs_number
from dispatch.services.patients import register_patient
from dispatch.services.referral_commands import PatientDetails

# Compared for an NHS-number match (issue 13); a given name differs too often (Joe, Joseph).
NHS_MATCH_FIELDS = ("family_name", "date_of_birth", "postcode")
# Compared for a match on name and date of birth alone.
DEMOGRAPHIC_FIELDS = ("given_name", "postcode")


class PatientMismatch(Conflict):
    """The details given disagree with the registered patient they would match (409).

    ``fields`` names what differs (never the stored values); ``patient_ids`` are the registered
    patients the caller may confirm with ``confirm_patient_id``.
    """

    code = "patient_mismatch"

    def __init__(self, message: str, *, fields: list[str], patient_ids: list[int],
                 untraced: bool = False) -> None:
        super().__init__(message)
        self.fields = fields
        self.patient_ids = patient_ids
        #: The NHS number given is nobody's yet, and the patients named were registered
        #: without one (H-030): confirming records the number on them.
        self.untraced = untraced


@dataclass(frozen=True)
class PatientMatch:
    patient: Patient
    created: bool
    # "id", "nhs_number", "demographics", "confirmed", "traced" (an NHS number recorded on a
    # patient registered without one, H-030) or "created"
    matched_by: str
    differing: tuple[str, ...] = ()  # fields the caller confirmed despite a difference


def same_text(a: str | None, b: str | None) -> bool:
    """Names compared as people read them: case and runs of spaces do not count."""
    return " ".join((a or "").split()).casefold() == " ".join((b or "").split()).casefold()


def same_postcode(a: str | None, b: str | None) -> bool:
    """"w12 7rq" is "W127RQ" is "W12  7RQ"."""
    return "".join((a or "").split()).upper() == "".join((b or "").split()).upper()


def differing_fields(patient: Patient, details: PatientDetails,
                     names: tuple[str, ...] = NHS_MATCH_FIELDS) -> list[str]:
    """The fields of ``names`` the caller gave that disagree with ``patient``."""
    found = []
    for name in names:
        given = getattr(details, name)
        if given in (None, ""):
            continue  # not given is not a disagreement
        stored = getattr(patient, name)
        if name == "date_of_birth":
            same = given == stored
        elif name == "postcode":
            same = same_postcode(given, stored)
        else:
            same = same_text(given, stored)
        if not same:
            found.append(name)
    return found


def match_or_create(
    session: so.Session, *, patient_id: int | None, details: PatientDetails | None,
    confirm_patient_id: int | None, new_patient: bool, now: datetime,
) -> PatientMatch:
    """The referral's patient: by id, by NHS number, by name + date of birth + postcode, or new.

    Raises
    ------
    PatientMismatch
        The details disagree with the patient they would match and the caller has not
        confirmed that patient.
    InvalidInput
        Unknown id, invalid NHS number, or too few details to register a patient.
    """
    details = details or PatientDetails()
    if patient_id is not None:
        patient = session.get(Patient, patient_id)
        if patient is None:
            raise InvalidInput("unknown patient", errors={"patient_id": ["no such patient"]})
        return _checked(patient, details, confirm_patient_id, "id", NHS_MATCH_FIELDS)
    nhs = _nhs_number(details)
    if nhs:
        found = session.scalar(sa.select(Patient).where(Patient.nhs_number == nhs))
        if found is not None:
            return _checked(found, details, confirm_patient_id, "nhs_number", NHS_MATCH_FIELDS)
        traced = _untraced_alike(session, details, nhs, confirm_patient_id, new_patient)
        if traced is not None:
            return traced
        return PatientMatch(register_patient(session, details, nhs, now), True, "created")
    matched = _by_demographics(session, details, confirm_patient_id, new_patient)
    if matched is not None:
        return matched
    return PatientMatch(register_patient(session, details, None, now), True, "created")


def _untraced_alike(
    session: so.Session, details: PatientDetails, nhs: str, confirm_patient_id: int | None,
    new_patient: bool,
) -> PatientMatch | None:
    """An NHS number nobody has yet, given with the name and date of birth of a patient
    registered without one (H-030): the same person, found again now the number is known?

    Confirmed (``confirm_patient_id``): the number is recorded on that patient (``traced``).
    ``new_patient``: somebody else; register them. Otherwise ask (409 naming the patients).
    """
    if not details.family_name or details.date_of_birth is None:
        return None
    family = " ".join(details.family_name.split()).lower()
    alike = [p for p in session.scalars(sa.select(Patient).where(
        Patient.nhs_number.is_(None), sa.func.lower(Patient.family_name) == family,
        Patient.date_of_birth == details.date_of_birth).order_by(Patient.id).limit(20))
        if same_text(p.family_name, details.family_name)]
    for patient in alike:
        if patient.id == confirm_patient_id:
            patient.nhs_number, patient.nhs_number_status = nhs, "present"
            session.flush()
            return PatientMatch(patient, False, "traced",
                                tuple(differing_fields(patient, details, DEMOGRAPHIC_FIELDS)))
    if not alike or new_patient:
        return None
    raise PatientMismatch(
        "A patient registered without an NHS number has the same name and date of birth; "
        "check with the caller, then resend with confirm_patient_id to record this NHS number "
        "on them, or send new_patient: true if it is somebody else",
        fields=[], patient_ids=[p.id for p in alike], untraced=True)


def _nhs_number(details: PatientDetails) -> str | None:
    if not details.nhs_number:
        return None
    try:
        return normalise_nhs_number(details.nhs_number)
    except InvalidNhsNumber as exc:
        raise InvalidInput("invalid patient", errors={"patient.nhs_number": [str(exc)]}) from exc


def _checked(patient: Patient, details: PatientDetails, confirm_patient_id: int | None,
             matched_by: str, names: tuple[str, ...]) -> PatientMatch:
    differing = differing_fields(patient, details, names)
    if not differing:
        return PatientMatch(patient, False, matched_by)
    if confirm_patient_id == patient.id:
        return PatientMatch(patient, False, "confirmed", tuple(differing))
    raise PatientMismatch(_mismatch_message(matched_by, differing),
                          fields=differing, patient_ids=[patient.id])


def _mismatch_message(matched_by: str, differing: list[str]) -> str:
    what = {"nhs_number": "The NHS number belongs to a registered patient",
            "id": "The registered patient chosen",
            "demographics": "A registered patient with the same name and date of birth"
            }[matched_by]
    fields = ", ".join(name.replace("_", " ") for name in differing)
    advice = ("check with the caller, then resend with confirm_patient_id if it is the same "
              "person, or correct the details")
    if matched_by == "demographics":
        advice += ", or send new_patient: true if it is somebody else"
    return f"{what} whose {fields} differ; {advice}"


def _by_demographics(
    session: so.Session, details: PatientDetails, confirm_patient_id: int | None,
    new_patient: bool,
) -> PatientMatch | None:
    """Without an NHS number: the patient with the same name and date of birth, or ask."""
    if not details.family_name or details.date_of_birth is None:
        return None  # registering will say what is missing
    family = " ".join(details.family_name.split()).lower()
    candidates = list(session.scalars(sa.select(Patient).where(
        sa.func.lower(Patient.family_name) == family,
        Patient.date_of_birth == details.date_of_birth,
    ).order_by(Patient.id).limit(20)))
    candidates = [p for p in candidates if same_text(p.family_name, details.family_name)]
    for patient in candidates:
        if patient.id == confirm_patient_id:
            differing = differing_fields(patient, details, DEMOGRAPHIC_FIELDS)
            return PatientMatch(patient, False, "confirmed" if differing else "demographics",
                                tuple(differing))
    if not candidates or new_patient or not details.postcode:
        return None  # nobody alike, somebody else, or registering will ask for the postcode
    same = [p for p in candidates if not differing_fields(p, details, DEMOGRAPHIC_FIELDS)]
    if len(same) == 1:
        return PatientMatch(same[0], False, "demographics")
    # Same name and birthday but another postcode or given name, or two exactly alike: ask.
    differing = sorted({f for p in candidates
                        for f in differing_fields(p, details, DEMOGRAPHIC_FIELDS)})
    message = (_mismatch_message("demographics", differing) if differing else
               "Several registered patients have this name, date of birth and postcode; "
               "resend with confirm_patient_id naming the right one")
    raise PatientMismatch(message, fields=differing, patient_ids=[p.id for p in candidates])
