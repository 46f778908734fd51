"""Choosing the travel-time provider from the settings: OSRM when a URL is set, else the
offline estimate.

Above :mod:`routing.travel` (the protocol and the estimate) and :mod:`routing.osrm` (the OSRM
client, which builds on ``routing.travel``), so neither imports the other in a cycle.
"""

from __future__ import annotations

from typing import Any, Final

from routing.osrm import OsrmTravelTime
from routing.travel import GeodesicTravelTime, TravelTimeProvider

_GEODESIC_SETTINGS: Final = frozenset({"circuity", "speeds_kmh", "allowances_s"})


def make_provider(osrm_url: str | None = None, **settings: Any) -> TravelTimeProvider:
    """Return the configured travel-time provider.

    Parameters
    ----------
    osrm_url
        Base URL of an OSRM server (the service reads it from ``DISPATCH_OSRM_URL``). None or
        empty selects the offline :class:`GeodesicTravelTime`.
    **settings
        Keyword settings: ``circuity``, ``speeds_kmh``, ``allowances_s`` for the offline
        estimate (with OSRM they configure its fallback for modes OSRM has no profile for),
        and ``timeout_s``, ``profiles``, ``max_table_size`` for OSRM (``allowances_s`` too).

    Raises
    ------
    TypeError
        If a setting is not known to the chosen provider.
    """
    if not osrm_url:
        return GeodesicTravelTime(**settings)
    fallback_settings = {key: settings[key] for key in _GEODESIC_SETTINGS & settings.keys()}
    osrm_settings = {
        key: value for key, value in settings.items() if key not in ("circuity", "speeds_kmh")
    }
    fallback = GeodesicTravelTime(**fallback_settings)
    return OsrmTravelTime(osrm_url, fallback=fallback, **osrm_settings)
