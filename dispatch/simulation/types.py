"""Plain data of a simulated day: its settings, the demand and what happened to each visit."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:  # `dispatch --help` imports this module: keep the demo package unloaded
    from dispatch.demo.staffing import Staffing

POLICIES: Final = ("optimised", "nearest")


@dataclass(frozen=True, slots=True)
class FieldSettings:
    """How staff behave in the field (probabilities and spreads; see ``dispatch.simulation.field``).

    Parameters
    ----------
    accept, decline
        Probability that an offer is accepted or declined; the rest are never answered.
    reply_median_minutes
        Median delay before a worker answers an offer (log-normal).
    travel_sigma, duration_sigma
        Log-normal spread of actual travel and visit times around the model's figure.
    sick_per_shift
        Probability that a worker goes off sick during a shift.
    """

    accept: float = 0.85
    decline: float = 0.07
    reply_median_minutes: float = 3.0
    reply_sigma: float = 0.6
    travel_sigma: float = 0.2
    duration_sigma: float = 0.25
    sick_per_shift: float = 0.02

    def __post_init__(self) -> None:
        if not (self.accept >= 0 and self.decline >= 0 and self.accept + self.decline <= 1):
            raise ValueError("accept and decline must be probabilities that sum to at most 1")
        if self.reply_median_minutes <= 0:
            raise ValueError("reply_median_minutes must be above 0")
        if min(self.travel_sigma, self.duration_sigma, self.reply_sigma) < 0:
            raise ValueError("sigmas must be >= 0")
        if not 0 <= self.sick_per_shift <= 1:
            raise ValueError("sick_per_shift must be between 0 and 1")


#: Visits on the books at the start of a simulated day (the CLI's default): district nursing
#: and home care calls (``demand.HOME_CARE_SHARE``). 44 a network a day keeps the demo team
#: (``dispatch.demo.staffing.DEFAULT_TEAM``) busy 60-65 % of its rostered time with the
#: referrals on top (issue 17's band is 60-75 %); it was 60, when the team was idle 70 %.
DEFAULT_BOOKED: Final = 440
#: The optimised policy's offer lead, minutes (``SimulationConfig.offer_lead_minutes``).
DEFAULT_OFFER_LEAD_MINUTES: Final = 90
#: Production's ``PLACE_RESCUE_SECONDS`` default (a test keeps them equal).
DEFAULT_RESCUE_SECONDS: Final = 3.0


@dataclass(frozen=True, slots=True)
class SimulationConfig:
    """Everything a run depends on; two runs with equal configs give equal results.

    ``referrals`` is the expected number arriving between ``arrivals_from`` and
    ``arrivals_until`` (Europe/London) for the whole tri-borough; ``booked`` visits are on the
    books at the start of the day. The clock runs from ``day_start`` to ``day_end``.
    """

    seed: int
    day: date
    policy: str = "optimised"
    patients: int = 20_000
    #: ``round(demand.default_daily_referrals())``, the CLI's default too (a test keeps them
    #: equal; the benchmark once played 120 while ``dispatch simulate`` played 121).
    referrals: float = 121.0
    booked: int = DEFAULT_BOOKED
    day_start: time = time(6, 0)
    arrivals_from: time = time(7, 0)
    arrivals_until: time = time(22, 0)
    day_end: time = time(23, 59)
    place_seconds: float = 0.5
    reoptimise_seconds: float = 1.0
    reoptimise_solutions: int = 60
    #: A 2-hour visit the placer cannot insert is rescued by re-optimising its network for up
    #: to this long (production's ``PLACE_RESCUE_SECONDS``, issue 18), capped at
    #: ``reoptimise_solutions`` accepted solutions; 0: no rescue (the figures before).
    rescue_seconds: float = DEFAULT_RESCUE_SECONDS
    reoptimise_every_minutes: int = 30
    #: The optimised policy texts an offer only for work planned to start within this many
    #: minutes (and for every 2-hour visit); later work is booked provisionally and stays
    #: movable, so an urgent referral can take its slot (``pipeline.Options.offer_lead``).
    #: None: every planned visit is offered at once, as before issue 17's calibration.
    offer_lead_minutes: int | None = DEFAULT_OFFER_LEAD_MINUTES
    watch_every_minutes: int = 5
    tick_every_minutes: int = 5
    #: Staff travel by their roster's mode (walk, bicycle, public transport, car), planner and
    #: field alike; False: everyone by car (the figures before issue 15).
    staff_travel_modes: bool = False
    #: Share of day-response referrals that are two-person hoist transfers (double-handed
    #: visits, issue 15); 0 leaves the day as it was.
    double_handed: float = 0.0
    field: FieldSettings = field(default_factory=FieldSettings)
    #: Workers per network and shift pattern (None: the calibrated demo teams).
    staffing: Staffing | None = None
    #: Play only the demand of these networks (codes); None: every network. The capacity
    #: planner uses it to size one network without simulating the others' work.
    networks: tuple[str, ...] | None = None
    #: Overall shares of the arrivals' categories (``dispatch.simulation.mix``: a what-if for
    #: demand); None: the default mix of each risk stratum.
    mix: tuple[tuple[str, float], ...] | None = None

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"policy must be one of {', '.join(POLICIES)}, got {self.policy!r}")
        if self.patients < 100:
            raise ValueError(f"patients must be at least 100, got {self.patients}")
        if not 0.0 <= self.double_handed <= 1.0:
            raise ValueError("double_handed must be a share between 0 and 1")
        if self.referrals < 0 or self.booked < 0:
            raise ValueError("referrals and booked must be >= 0")
        if self.mix is not None and (
                any(not 0 <= share <= 1 for _, share in self.mix)
                or abs(sum(share for _, share in self.mix) - 1) > 0.01):
            raise ValueError("mix shares must each be 0-1 and add up to 1")
        if not self.day_start <= self.arrivals_from <= self.arrivals_until <= self.day_end:
            raise ValueError("times must satisfy day_start <= arrivals_from <= arrivals_until "
                             "<= day_end")


@dataclass(frozen=True, slots=True)
class ReferralSpec:
    """One referral the simulator will log: when, for whom and the answers given."""

    index: int
    at: datetime
    patient_id: int
    source: str
    needs: tuple[str, ...] = ()
    red_flags: tuple[str, ...] = ()
    observations: dict[str, Any] = field(default_factory=dict)
    booked: bool = False
    #: A booked call's window opens here (its deadline is the disposition's): the start
    #: booked with ``dispatch.services.bookings.book_later_start`` once the referral is logged.
    start_from: datetime | None = None

    def payload(self) -> dict[str, Any]:
        """The ``POST /api/referrals`` body for this referral."""
        body: dict[str, Any] = {
            "source": self.source,
            "referrer": {"name": "Simulated referrer", "role": "call handler",
                         "organisation": "simulation"},
            "received_at": self.at.isoformat(),
            "patient_id": self.patient_id,
            "needs": list(self.needs),
        }
        if self.red_flags:
            body["red_flags"] = list(self.red_flags)
        if self.observations:
            body["observations"] = dict(self.observations)
        return body


@dataclass
class VisitLog:
    """What the simulator saw happen to one visit (causes of lateness come from here)."""

    declines: int = 0
    no_answers: int = 0
    sick_unassigned: int = 0
    first_offered: datetime | None = None
    travel_seconds: float = 0.0
    planned_on_time: bool = True


@dataclass
class WorkerLog:
    """Busy time of one worker's shift (travel and time on site), for utilisation."""

    staff_id: int
    shift_id: int
    label: str
    shift_seconds: float
    travel_seconds: float = 0.0
    visit_seconds: float = 0.0
    visits: int = 0
    network_id: int | None = None
    #: The worker's role (district_nurse, hybrid_worker, ...), for utilisation by role.
    role: str = ""
    #: Seconds on shift and seconds busy (travelling or on site) in each London hour.
    rostered_by_hour: dict[int, float] = field(default_factory=dict)
    busy_by_hour: dict[int, float] = field(default_factory=dict)
