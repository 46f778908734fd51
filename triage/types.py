"""Plain, frozen data that goes into and comes out of triage.

Every constructor validates its data, so a ``TriageInput`` or a ``Disposition`` that exists
is one the rules can trust. Input checks raise ``TriageInputError`` (a ``ValueError``) with
every bad field at once, keyed by field name; the same checks back the JSON parser, so the
two can never disagree about what is valid.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from triage.errors import TriageInputError
from triage.frailty import check_frailty
from triage.needs import NEEDS
from triage.red_flags import RED_FLAGS
from triage.specs import COMMUNITY_CATEGORIES, SKILLS, NeedSpec, RedFlagSpec

__all__ = [
    "AGE_RANGE",
    "ADULT_SERVICE_AGE",
    "CATEGORIES",
    "CATEGORY_LABELS",
    "COMMUNITY_CATEGORIES",
    "CONSCIOUSNESS_LEVELS",
    "Disposition",
    "Finding",
    "INPUT_CHECKS",
    "NEWS2_BANDS",
    "NEWS2_PARAMETERS",
    "NO_DEADLINE_CATEGORIES",
    "NeedSpec",
    "News2Score",
    "OBSERVATION_CHECKS",
    "OBSERVATION_RANGES",
    "Observations",
    "PATHWAYS_CODE_PATTERN",
    "PATHWAYS_TIMEFRAME_RANGE",
    "PRIORITY_BY_CATEGORY",
    "RED_FLAG_ANSWERS",
    "RISK_TIERS",
    "RedFlagSpec",
    "SKILLS",
    "SPO2_SCALES",
    "TriageInput",
    "URGENCY_ORDER",
    "URGENCY_RANK",
    "age_on",
    "code_tuple",
]

# Every category a disposition can have. ``out_of_scope`` (issue 13, H-004) was added last so
# the five community categories keep their order and their priorities 1-5.
CATEGORIES: tuple[str, ...] = (
    "emergency_999", "urgent_2h", "response_24h", "planned", "signpost", "out_of_scope",
)
# Categories with no visit and so no deadline.
NO_DEADLINE_CATEGORIES: tuple[str, ...] = ("signpost", "out_of_scope")
# Which finding wins when rules disagree, most urgent first. ``out_of_scope`` outranks every
# community category (a child never gets an adult visit or a signpost) but not 999.
URGENCY_ORDER: tuple[str, ...] = (
    "emergency_999", "out_of_scope", "urgent_2h", "response_24h", "planned", "signpost",
)
URGENCY_RANK: Mapping[str, int] = MappingProxyType({c: i for i, c in enumerate(URGENCY_ORDER)})
# 1 (emergency) to 5 (signpost). ``out_of_scope`` is 2: the hand-over to the children's
# pathway has to happen while the caller is on the line, but it is not a 999 call.
PRIORITY_BY_CATEGORY: Mapping[str, int] = MappingProxyType(
    {"emergency_999": 1, "urgent_2h": 2, "response_24h": 3, "planned": 4, "signpost": 5,
     "out_of_scope": 2}
)
CATEGORY_LABELS: Mapping[str, str] = MappingProxyType(
    {
        "emergency_999": "Emergency: call 999 / emergency department",
        "urgent_2h": "Urgent community response within 2 hours",
        "response_24h": "Community response within 24 hours",
        "planned": "Planned visit",
        "signpost": "Signpost: advice or another service, no visit",
        "out_of_scope": "Out of scope: not for urgent community response (children's pathway)",
    }
)
# Each red-flag question is answered yes, no or not asked (issue 13, H-003).
RED_FLAG_ANSWERS: tuple[str, ...] = ("yes", "no", "not_asked")

CONSCIOUSNESS_LEVELS: tuple[str, ...] = ("alert", "new_confusion", "voice", "pain", "unresponsive")
RISK_TIERS: tuple[str, ...] = ("very_high", "high", "moderate", "low", "very_low")
SPO2_SCALES: tuple[int, ...] = (1, 2)
NEWS2_BANDS: tuple[str, ...] = ("low", "low_medium", "medium", "high")
# Parameter names follow the input keys, so "missing" can be matched to the form fields.
NEWS2_PARAMETERS: tuple[str, ...] = (
    "respiration_rate",
    "spo2",
    "on_oxygen",
    "systolic_bp",
    "pulse",
    "consciousness",
    "temperature",
)
NEWS2_MAX_TOTAL = 20
NEWS2_MAX_PART = 3
PRIORITY_RANGE = (1, 5)

# Plausibility limits, not clinical bands: values outside are typing errors, not patients.
OBSERVATION_RANGES: Mapping[str, tuple[float, float]] = MappingProxyType(
    {
        "respiration_rate": (0, 80),
        "spo2": (0, 100),
        "systolic_bp": (0, 300),
        "pulse": (0, 300),
        "temperature": (25.0, 45.0),
    }
)
AGE_RANGE = (0, 130)
# Urgent community response is an adult service: under 18 goes to the children's pathway.
ADULT_SERVICE_AGE = 18
# Pathways timeframes run from minutes to days; two weeks is a generous ceiling.
PATHWAYS_TIMEFRAME_RANGE = (1, 14 * 24 * 60)
# NHS Pathways disposition codes look like Dx05, Dx011, Dx0121.
PATHWAYS_CODE_PATTERN = re.compile(r"^Dx\d{2,5}$", re.IGNORECASE)

Check = Callable[[Any], "str | None"]


def _whole_number(lo: int, hi: int) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int):
            return f"must be a whole number, got {value!r}"
        if not lo <= value <= hi:
            return f"must be between {lo} and {hi}, got {value}"
        return None

    return check


def _number(lo: float, hi: float) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | float):
            return f"must be a number, got {value!r}"
        if not math.isfinite(value):
            return f"must be a finite number, got {value}"
        if not lo <= value <= hi:
            return f"must be between {lo} and {hi}, got {value}"
        return None

    return check


def _one_of(allowed: tuple[Any, ...]) -> Check:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or value not in allowed:
            choices = ", ".join(repr(a) for a in allowed)
            return f"must be one of {choices}, got {value!r}"
        return None

    return check


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else f"must be true or false, got {value!r}"


def _pathways_code(value: Any) -> str | None:
    if not isinstance(value, str) or not PATHWAYS_CODE_PATTERN.match(value):
        return f"must be an NHS Pathways disposition code like 'Dx05', got {value!r}"
    return None


def _int_range(name: str) -> Check:
    lo, hi = OBSERVATION_RANGES[name]
    return _whole_number(int(lo), int(hi))


# One checker per optional field; None always means "not recorded" and is never checked.
OBSERVATION_CHECKS: Mapping[str, Check] = MappingProxyType(
    {
        "respiration_rate": _int_range("respiration_rate"),
        "spo2": _int_range("spo2"),
        "spo2_scale": _one_of(SPO2_SCALES),
        "on_oxygen": _boolean,
        "systolic_bp": _int_range("systolic_bp"),
        "pulse": _int_range("pulse"),
        "consciousness": _one_of(CONSCIOUSNESS_LEVELS),
        "temperature": _number(*OBSERVATION_RANGES["temperature"]),
    }
)
INPUT_CHECKS: Mapping[str, Check] = MappingProxyType(
    {
        "frailty": check_frailty,
        "risk_tier": _one_of(RISK_TIERS),
        "pathways_disposition": _pathways_code,
        "pathways_timeframe_minutes": _whole_number(*PATHWAYS_TIMEFRAME_RANGE),
        "age": _whole_number(*AGE_RANGE),
    }
)


def _collect(obj: object, checks: Mapping[str, Check]) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for name, check in checks.items():
        value = getattr(obj, name)
        message = None if value is None else check(value)
        if message is not None:
            errors[name] = [message]
    return errors


@dataclass(frozen=True)
class Observations:
    """NEWS2 observations; every one optional because a caller may have only some.

    ``spo2_scale`` 2 is for confirmed hypercapnic respiratory failure only, chosen by a
    clinician (RCP 2017); it defaults to 1 so scale 2 is used only when flagged.
    """

    respiration_rate: int | None = None
    spo2: int | None = None
    spo2_scale: int = 1
    on_oxygen: bool | None = None
    systolic_bp: int | None = None
    pulse: int | None = None
    consciousness: str | None = None
    temperature: float | None = None

    def __post_init__(self) -> None:
        if self.spo2_scale is None:  # a JSON null means "not flagged": scale 1
            object.__setattr__(self, "spo2_scale", 1)
        errors = _collect(self, OBSERVATION_CHECKS)
        if errors:
            raise TriageInputError(errors)


@dataclass(frozen=True)
class News2Score:
    """A NEWS2 aggregate with its parts, so the score can be recorded and explained.

    ``total`` is the sum of the parameters that were recorded; ``missing`` lists those that
    were not (never guessed), so an incomplete total is a minimum, not the full score.
    ``conservative`` lists recorded parameters whose score depended on something not recorded
    and were given the highest score they could have (scale-2 SpO2 with oxygen not stated).
    """

    total: int
    parts: Mapping[str, int]
    missing: tuple[str, ...]
    band: str
    any_single_three: bool
    scale: int = 1
    conservative: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "parts", MappingProxyType(dict(self.parts)))
        object.__setattr__(self, "missing", tuple(self.missing))
        object.__setattr__(self, "conservative", tuple(self.conservative))
        if any(p not in self.parts for p in self.conservative):
            raise ValueError("a conservatively scored NEWS2 parameter must be among the parts")
        unknown = [p for p in (*self.parts, *self.missing) if p not in NEWS2_PARAMETERS]
        if unknown:
            raise ValueError(f"unknown NEWS2 parameter(s): {', '.join(unknown)}")
        if set(self.parts) & set(self.missing):
            raise ValueError("a NEWS2 parameter cannot be both scored and missing")
        if any(not 0 <= s <= NEWS2_MAX_PART for s in self.parts.values()):
            raise ValueError(f"each NEWS2 part must be between 0 and {NEWS2_MAX_PART}")
        if self.total != sum(self.parts.values()) or not 0 <= self.total <= NEWS2_MAX_TOTAL:
            raise ValueError("NEWS2 total must be the sum of its parts (0-20)")
        if self.band not in NEWS2_BANDS:
            raise ValueError(f"NEWS2 band must be one of {', '.join(NEWS2_BANDS)}")
        if self.any_single_three != any(s == NEWS2_MAX_PART for s in self.parts.values()):
            raise ValueError("any_single_three must match the parts")
        if self.scale not in SPO2_SCALES:
            raise ValueError("SpO2 scale must be 1 or 2")

    @property
    def complete(self) -> bool:
        """True when all seven parameters were recorded, so the total is the full score."""
        return not self.missing


@dataclass(frozen=True)
class TriageInput:
    """Everything triage needs about one referral, already checked.

    ``received_at`` must be timezone-aware: the two-hour clock and the 08:00-20:00 urgent
    community response hours are meaningless on a naive time.

    Red flags (issue 13, H-003) come two ways, both kept: ``red_flags`` lists the questions
    answered yes (the original contract), and ``red_flag_answers`` maps a red-flag code to
    ``"yes"``, ``"no"`` or ``"not_asked"``. After construction ``red_flag_answers`` holds every
    explicit answer with each listed flag as ``"yes"``, and ``red_flags`` every yes answer; a
    question in neither was not asked. A flag listed as yes but answered otherwise is an error.

    ``age`` is in whole years; ``date_of_birth`` gives it on the London date the referral was
    received (both given must agree). Either decides the children's rules (H-004).
    """

    received_at: datetime
    needs: tuple[str, ...] = ()
    red_flags: tuple[str, ...] = ()
    observations: Observations = field(default_factory=Observations)
    frailty: int | None = None
    risk_tier: str | None = None
    pathways_disposition: str | None = None
    pathways_timeframe_minutes: int | None = None
    age: int | None = None
    red_flag_answers: Mapping[str, str] = field(default_factory=dict)
    date_of_birth: date | None = None

    def __post_init__(self) -> None:
        errors = _collect(self, INPUT_CHECKS)
        received_ok = (
            isinstance(self.received_at, datetime) and self.received_at.utcoffset() is not None
        )
        if not received_ok:
            errors["received_at"] = ["must be a date-time with a time zone"]
        if not isinstance(self.observations, Observations):
            errors["observations"] = ["must be an Observations instance"]
        for name, known in _known_codes().items():
            codes, problems = code_tuple(getattr(self, name), known, name[:-1].replace("_", " "))
            object.__setattr__(self, name, codes)
            if problems:
                errors[name] = problems
        self._merge_answers(errors)
        if received_ok and "age" not in errors:
            self._age_from_birth(errors)
        if errors:
            raise TriageInputError(errors)
        if self.pathways_disposition is not None:
            code = _normalise_dx(self.pathways_disposition)
            object.__setattr__(self, "pathways_disposition", code)

    def _merge_answers(self, errors: dict[str, list[str]]) -> None:
        answers = self.red_flag_answers
        if answers is None:
            answers = {}
        if not isinstance(answers, Mapping):
            errors["red_flag_answers"] = [
                f"must be an object of red flag code to yes, no or not_asked, got {answers!r}"
            ]
            answers = {}
        merged: dict[str, str] = {}
        choices = ", ".join(RED_FLAG_ANSWERS)
        for code, answer in answers.items():
            key = f"red_flag_answers.{code}"
            if code not in RED_FLAGS:
                errors[key] = [f"unknown red flag code {code!r}"]
            elif answer not in RED_FLAG_ANSWERS:
                errors[key] = [f"must be one of {choices}, got {answer!r}"]
            elif code in self.red_flags and answer != "yes":
                errors[key] = [f"is {answer!r} but {code} is listed in red_flags (a yes)"]
            else:
                merged[code] = answer
        for code in self.red_flags:
            merged[code] = "yes"
        yes = tuple(c for c, a in merged.items() if a == "yes" and c not in self.red_flags)
        object.__setattr__(self, "red_flags", (*self.red_flags, *yes))
        ordered = {c: merged[c] for c in RED_FLAGS if c in merged}
        object.__setattr__(self, "red_flag_answers", MappingProxyType(ordered))

    def _age_from_birth(self, errors: dict[str, list[str]]) -> None:
        born = self.date_of_birth
        if born is None:
            return
        if isinstance(born, datetime) or not isinstance(born, date):
            errors["date_of_birth"] = [f"must be a date (YYYY-MM-DD), got {born!r}"]
            return
        day = _london_date(self.received_at)
        if born > day:
            errors["date_of_birth"] = [f"is after the day the referral was received ({day})"]
            return
        years = age_on(born, day)
        if self.age is not None and self.age != years:
            errors["age"] = [f"is {self.age} but date_of_birth {born} gives {years} on {day}"]
            return
        object.__setattr__(self, "age", years)

    @property
    def screened(self) -> bool:
        """True when at least one red-flag question was answered yes or no."""
        return any(a in ("yes", "no") for a in self.red_flag_answers.values())

    @property
    def not_asked(self) -> tuple[str, ...]:
        """Red-flag codes not answered yes or no (absent or ``not_asked``), catalogue order."""
        return tuple(
            c for c in RED_FLAGS if self.red_flag_answers.get(c, "not_asked") == "not_asked"
        )


def age_on(born: date, day: date) -> int:
    """Whole years of age on ``day`` (a birthday on 29 February counts from 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def _london_date(moment: datetime) -> date:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo("Europe/London")).date()


def _known_codes() -> dict[str, Iterable[str]]:
    return {"needs": NEEDS, "red_flags": RED_FLAGS}


def code_tuple(codes: Any, known: Iterable[str], noun: str) -> tuple[tuple[str, ...], list[str]]:
    """Turn a list of codes into a de-duplicated tuple and say which ones are not known."""
    if codes is None:
        return (), []
    if isinstance(codes, str) or not isinstance(codes, Iterable):
        return (), [f"must be a list of {noun} codes, got {codes!r}"]
    unique: list[Any] = []
    for code in codes:  # not dict.fromkeys: a bad entry may be unhashable (a list, a dict)
        if code not in unique:
            unique.append(code)
    known_set = set(known)
    problems = [
        f"unknown {noun} code {c!r}" if isinstance(c, str) else f"must be a string, got {c!r}"
        for c in unique
        if not isinstance(c, str) or c not in known_set
    ]
    return tuple(unique), problems


def _normalise_dx(code: str) -> str:
    return "Dx" + code[2:]


@dataclass(frozen=True)
class Finding:
    """What one rule concluded: a category it asks for (None: information only) and why."""

    category: str | None
    reason: str
    clinical: bool = False

    def __post_init__(self) -> None:
        if self.category is not None and self.category not in CATEGORIES:
            raise ValueError(f"unknown category {self.category!r}")


@dataclass(frozen=True)
class Disposition:
    """The triage answer a call handler reads back and the scheduler acts on.

    ``deadline`` is when care must start (None for signposting and out of scope: no visit);
    ``earliest_start`` is when a visit may start (None when there is no visit).
    ``out_of_hours`` says an urgent referral outside 08:00-20:00 goes to the out-of-hours
    nursing service; ``ucr_hours_note`` says in words what happens outside those hours.
    ``safety_netting`` is what the call handler reads back last: what to do if things get worse
    (999 for the signs named, 111 otherwise; for 999, what to do while waiting).
    """

    category: str
    deadline: datetime | None
    earliest_start: datetime | None
    priority: int
    skills: tuple[str, ...]
    visit_duration_minutes: int
    news2: News2Score | None
    reasons: tuple[str, ...]
    safety_netting: str
    out_of_hours: bool = False
    ucr_hours_note: str | None = None
    #: Staff the visit needs at once (2: a two-person transfer; the service books two
    #: workers for the same time, issue 15).
    staff: int = 1

    def __post_init__(self) -> None:
        if self.staff not in (1, 2):
            raise ValueError("staff must be 1 or 2")
        if self.category not in CATEGORIES:
            raise ValueError(f"category must be one of {', '.join(CATEGORIES)}")
        if not PRIORITY_RANGE[0] <= self.priority <= PRIORITY_RANGE[1]:
            raise ValueError("priority must be between 1 and 5")
        for name in ("deadline", "earliest_start"):
            moment = getattr(self, name)
            if moment is not None and moment.utcoffset() is None:
                raise ValueError(f"{name} must be timezone-aware")
        if (self.deadline is None) != (self.category in NO_DEADLINE_CATEGORIES):
            raise ValueError("only a signpost or out_of_scope disposition has no deadline")
        unknown = [s for s in self.skills if s not in SKILLS]
        if unknown:
            raise ValueError(f"unknown skill(s): {', '.join(unknown)}")
        if self.visit_duration_minutes < 0:
            raise ValueError("visit_duration_minutes must not be negative")
        if not self.reasons:
            raise ValueError("a disposition must give at least one reason")
        if not isinstance(self.safety_netting, str) or not self.safety_netting.strip():
            raise ValueError("a disposition must carry safety-netting advice")
        object.__setattr__(self, "skills", tuple(self.skills))
        object.__setattr__(self, "reasons", tuple(self.reasons))
