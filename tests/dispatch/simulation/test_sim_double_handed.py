"""The simulated day with double-handed visits (issue 15): a share of day-response
referrals become hoist transfers, every other draw of the day unchanged."""

from __future__ import annotations

from datetime import date, time

from dispatch.simulation.demand import DAY_NEEDS, PatientInfo, generate_day
from dispatch.simulation.types import ReferralSpec


def _day(share: float) -> list[ReferralSpec]:
    patients = [PatientInfo(k, ("very_high", "high", "moderate")[k % 3], 6, ())
                for k in range(1, 400)]
    return generate_day(seed=3, day=date(2026, 12, 1), patients=patients, referrals=120,
                        booked=20, arrivals_from=time(7), arrivals_until=time(22),
                        day_start=time(6), double_handed=share)


def test_double_handed_share_turns_only_day_needs_into_hoist_transfers() -> None:
    """Same referrals, times and patients; some day-response needs become hoist transfers,
    nothing else changes; share 0 is the day as before."""
    plain, mixed = _day(0.0), _day(0.5)
    assert len(plain) == len(mixed)
    changed = [(a, b) for a, b in zip(plain, mixed, strict=True) if a != b]
    assert changed
    for before, after in changed:
        assert after.needs == ("hoist_transfer",) and before.needs[0] in DAY_NEEDS
        assert (before.at, before.patient_id, before.source) == (
            after.at, after.patient_id, after.source)
    assert all(not s.booked for _, s in changed)
