"""What an SMS says, and the guard that it says nothing it must not.

Information governance (CLINICAL.md): a text to staff carries a short visit reference, the time
window, the postcode district and a link to the visit page behind sign-in, and never a name, a
date of birth, a diagnosis or a full address. Texts are built here from those few plain values
only, so a patient record cannot leak in by accident; :func:`check_ig` is a second line of
defence run on every stored outbound text. Pure: no Flask, no database, no clock (``now`` is
passed in). Times are shown in Europe/London.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import date, datetime, timedelta

from dispatch.config import LONDON
from dispatch.sms.errors import InformationGovernanceError

CATEGORY_LABELS = {"urgent_2h": "urgent 2h", "response_24h": "24h", "planned": "planned"}

# A UK postcode: outward code (area letters, district digit(s), optional letter) and inward
# code (a digit and two letters). Only the outward code, the district, may appear in a text.
_POSTCODE = r"[A-Z]{1,2}[0-9][A-Z0-9]?\s*[0-9][A-Z]{2}"
FULL_POSTCODE = re.compile(rf"(?<![A-Z0-9]){_POSTCODE}(?![A-Z0-9])", re.IGNORECASE)
_COMPACT_POSTCODE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?[0-9][A-Z]{2}")
# Ten digits, optionally grouped 3-3-4 as NHS numbers are written ("943 476 5919").
NHS_NUMBER_LIKE = re.compile(r"(?<!\d)\d{3}[ -]?\d{3}[ -]?\d{4}(?!\d)")
# A calendar date such as a date of birth ("02/03/1941", "2-3-41").
DATE_LIKE = re.compile(r"(?<!\d)\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}(?!\d)")
# Clinical words that must never travel by SMS, whatever the patient record says.
DIAGNOSIS_WORDS = (
    "dementia", "delirium", "confusion", "infection", "uti", "sepsis", "pneumonia", "copd",
    "diabetes", "diabetic", "hypoglycaemia", "cancer", "tumour", "palliative", "end of life",
    "stroke", "fracture", "fall", "falls", "catheter", "incontinence", "wound", "ulcer",
    "overdose", "self-harm", "suicide", "depression", "psychosis", "schizophrenia", "hiv",
    "hepatitis", "safeguarding", "dnacpr", "frailty", "news2",
)
# Words of our own fixed templates. A patient called "Visit" or "Reply" must not block every
# offer: the templates hold no record data, so a forbidden term equal to one of these words
# cannot have leaked from a record.
TEMPLATE_WORDS = frozenset(
    {
        "visit", "urgent", "planned", "reply", "accept", "decline", "arrived", "done", "details",
        "help", "today", "tomorrow", "thanks", "thank", "you", "is", "yours", "no", "longer",
        "needed", "from", "reassigned", "withdrawn", "cancelled", "do", "not", "attend", "on",
        "arrival", "when", "finished", "completed", "at", "recorded", "dispatch", "alert", "risk",
        "deadline", "act", "now", "worker", "opted", "out", "of", "sms", "call", "them", "time",
        "changed", "sorry", "we", "did", "understand", "that", "please", "include", "the",
        "reference", "e", "g", "found", "check", "and", "try", "again", "nothing", "was", "this",
        "number", "registered", "with", "rapid", "response", "service", "escalation",
        "escalations", "more", "assigned", "offer", "accepted", "failed", "board",
    }
)
MIN_FORBIDDEN_LENGTH = 2


def postcode_district(postcode: str) -> str:
    """The outward code ("W12") of a postcode ("w12 7rq"). :raise ValueError: not a postcode."""
    compact = re.sub(r"\s+", "", postcode or "").upper()
    if not _COMPACT_POSTCODE.fullmatch(compact):
        raise ValueError(f"not a UK postcode: {postcode!r}")
    return compact[:-3]


def _district_or_link(postcode: str) -> str:
    """The district; a malformed postcode must neither block an offer nor leak whole."""
    try:
        return postcode_district(postcode)
    except ValueError:
        return "area on visit page"


def visit_link(base_url: str, reference: str) -> str:
    """The visit page (behind sign-in) for ``reference``."""
    return f"{base_url.rstrip('/')}/visits/{reference}"


def _day(moment: datetime, now: datetime) -> str:
    local, today = moment.astimezone(LONDON).date(), now.astimezone(LONDON).date()
    if local == today:
        return "today"
    if local == today + timedelta(days=1):
        return "tomorrow"
    return local.strftime("%a %d %b").replace(" 0", " ")


def clock(moment: datetime) -> str:
    """``HH:MM`` in London time."""
    return moment.astimezone(LONDON).strftime("%H:%M")


def window_text(start: datetime, end: datetime, now: datetime) -> str:
    """"10:40-11:25 today" (London time; the day relative to ``now``)."""
    return f"{clock(start)}-{clock(end)} {_day(start, now)}"


def offer_text(
    *, reference: str, category: str, postcode: str, start: datetime, end: datetime,
    now: datetime, base_url: str, retimed: bool = False, two_staff: bool = False,
    with_staff: str | None = None,
) -> str:
    """The offer to the assigned worker: what, where (district only), when, how to answer.

    A double-handed visit (``two_staff``) says so, with the other worker's staff code once
    known (a staff code, never a patient detail)."""
    label = CATEGORY_LABELS.get(category, category.replace("_", " "))
    head = f"Visit {reference} time changed" if retimed else f"Visit {reference}"
    if two_staff:
        label += f", 2 staff with {with_staff}" if with_staff else ", 2 staff"
    return (
        f"{head}: {label}, {_district_or_link(postcode)}, {window_text(start, end, now)}. "
        f"Reply ACCEPT {reference} or DECLINE {reference} <reason>. "
        f"Details: {visit_link(base_url, reference)}"
    )


def reassigned_away_text(*, reference: str) -> str:
    return (f"Visit {reference} is no longer needed from you; it has been reassigned. "
            "No reply needed.")


def withdrawn_text(*, reference: str) -> str:
    return f"Visit {reference} has been withdrawn from you. No reply needed."


def cancelled_text(*, reference: str) -> str:
    return f"Visit {reference} is cancelled. Do not attend. No reply needed."


def escalation_text(
    *, reference: str, cause: str, deadline: datetime, network: str, now: datetime, base_url: str
) -> str:
    """To the network's on-call coordinator: which visit, why, by when. No patient data."""
    return (
        f"DISPATCH ALERT {network}: visit {reference} at risk - {cause}. "
        f"Deadline {clock(deadline)} {_day(deadline, now)}. "
        f"Act now: {visit_link(base_url, reference)}"
    )


#: A grouped escalation text lists at most this many items; the rest are counted and on the
#: board (a text of four SMS segments at most).
MAX_GROUPED_ITEMS = 12


def grouped_escalation_text(
    items: Sequence[tuple[str, str, datetime | None]], *, now: datetime, base_url: str,
    network: str = "",
) -> str:
    """To the on-call coordinator: every escalation since the last text, one line each
    (``what``: "visit 4821" or "worker S1"; ``cause``; deadline), most urgent first as given.
    References and causes only: no patient data. More than :data:`MAX_GROUPED_ITEMS` are
    counted, and all of them are on the board."""
    shown = [f"{what} {cause}" + (f", deadline {clock(due)} {_day(due, now)}" if due else "")
             for what, cause, due in items[:MAX_GROUPED_ITEMS]]
    more = len(items) - len(shown)
    alert = f"DISPATCH ALERT {network}".rstrip()
    head = f"{alert}: 1 escalation" if len(items) == 1 else (
        f"{alert}: {len(items)} escalations")
    tail = f"; and {more} more" if more else ""
    return f"{head}: " + "; ".join(shown) + f"{tail}. Act now: {base_url.rstrip('/')}/board"


def opt_out_alert_text(*, staff_code: str, network: str) -> str:
    """To the on-call coordinator: a worker replied STOP, so offers to them cannot arrive."""
    return (
        f"DISPATCH ALERT {network}: worker {staff_code} opted out of SMS (replied STOP). "
        "Offers to them will fail; call them."
    )


HELP_TEXT = (
    "Dispatch SMS: reply ACCEPT <ref>, DECLINE <ref> <reason>, ARRIVED <ref> or DONE <ref>, "
    "e.g. ACCEPT 4821. Visit details are on the visit page after sign-in."
)
NOT_REGISTERED_TEXT = "This number is not registered with the rapid-response dispatch service."
NOT_UNDERSTOOD_TEXT = "Sorry, we did not understand that. " + HELP_TEXT


def missing_reference_text(*, keyword: str) -> str:
    return f"Please include the visit reference, e.g. {keyword.upper()} 4821."


def unknown_visit_text(*, reference: str) -> str:
    return f"No visit {reference} found. Check the reference and try again."


def refused_text(*, reference: str, reason: str) -> str:
    """A stale or foreign reply: say why (naming the visit), and that nothing changed."""
    reason = reason.strip().rstrip(".")
    if reference not in reason:
        reason = f"visit {reference}: {reason}"
    return f"{reason[:1].upper()}{reason[1:]}. Nothing was changed."


def accepted_text(*, reference: str, start: datetime | None, end: datetime | None,
                  now: datetime, partner: str | None = None,
                  partner_accepted: bool = False) -> str:
    """The answer to ACCEPT; for a double-handed visit, who the other worker is and whether
    they have accepted yet (``partner``: their staff code; a two-person transfer must not be
    started alone)."""
    when = f" ({window_text(start, end, now)})" if start and end else ""
    pair = ""
    if partner:
        state = "has accepted" if partner_accepted else "has not accepted yet"
        pair = f" 2 staff: {partner} {state}; do not start the transfer alone."
    return (f"Thanks, visit {reference} is yours{when}.{pair} "
            f"Reply ARRIVED {reference} on arrival.")


def replanned_text(*, reference: str, start: datetime, end: datetime, now: datetime) -> str:
    """An accepted visit's time moved (the day was re-planned round an urgent visit)."""
    return (f"Visit {reference} (yours) is now planned {window_text(start, end, now)}. "
            "No reply needed.")


def declined_text(*, reference: str) -> str:
    return f"Visit {reference} declined; it will be offered to someone else. Thank you."


def arrived_text(*, reference: str, at: datetime) -> str:
    return (f"Visit {reference}: arrival recorded at {clock(at)}. "
            f"Reply DONE {reference} when finished.")


def done_text(*, reference: str, at: datetime) -> str:
    return f"Visit {reference} completed at {clock(at)}. Thank you."


def forbidden_for_patient(
    *, given_name: str | None, family_name: str | None, date_of_birth: date | None,
    address: str | None, conditions: Iterable[str] = (), nhs_number: str | None = None,
) -> list[str]:
    """The strings of one patient's record that must never appear in a text about them."""
    terms = [t for t in (given_name, family_name, nhs_number) if t]
    if date_of_birth:
        d = date_of_birth
        terms += [d.isoformat(), d.strftime("%d/%m/%Y"), f"{d.day}/{d.month}/{d.year}",
                  f"{d.day} {d.strftime('%b')} {d.year}", f"{d.day} {d.strftime('%B')} {d.year}"]
    if address:
        first_line = address.split(",")[0].strip()
        street = re.sub(r"^\s*(flat\s+)?\d+[a-z]?\s+", "", first_line, flags=re.IGNORECASE)
        terms += [address.strip(), first_line, street]
    terms += [c.replace("_", " ") for c in conditions]
    return [t for t in dict.fromkeys(terms) if t]


def ig_problems(text: str, *, forbidden: Iterable[str] = ()) -> list[str]:
    """Everything in ``text`` that an SMS may not carry (an empty list when it is clean)."""
    problems = []
    if NHS_NUMBER_LIKE.search(text):
        problems.append("contains a 10-digit number (NHS number?)")
    if FULL_POSTCODE.search(text):
        problems.append("contains a full postcode (only the district is allowed)")
    if DATE_LIKE.search(text):
        problems.append("contains a date (date of birth?)")
    for word in DIAGNOSIS_WORDS:
        if _contains(text, word):
            problems.append(f"contains the clinical word {word!r}")
    for term in forbidden:
        term = term.strip()
        if len(term) < MIN_FORBIDDEN_LENGTH or term.lower() in TEMPLATE_WORDS:
            continue
        if _contains(text, term):
            problems.append(f"contains patient data {term!r}")
    return problems


def check_ig(text: str, *, forbidden: Iterable[str] = ()) -> None:
    """:raise InformationGovernanceError: ``text`` carries something an SMS may not."""
    problems = ig_problems(text, forbidden=forbidden)
    if problems:
        raise InformationGovernanceError(problems)


def contains_term(text: str, term: str) -> bool:
    """Whether ``term`` occurs in ``text`` as the IG check would find it."""
    return _contains(text, term)


def _contains(text: str, term: str) -> bool:
    """Whole-word, case-insensitive, whitespace-tolerant search for ``term``."""
    words = [re.escape(part) for part in term.split()]
    pattern = r"(?<!\w)" + r"\s+".join(words) + r"(?!\w)"
    return re.search(pattern, text, re.IGNORECASE) is not None
