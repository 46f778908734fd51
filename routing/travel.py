"""Travel-time matrices: the provider protocol and the offline estimate.

The OSRM client is :mod:`routing.osrm`; :func:`routing.providers.make_provider` picks one of
the two from the settings. This module imports neither.

The scheduler needs one integer number of seconds for every (from, to) pair before it solves.
Providers fill the whole matrix at once, with numpy, never pair by pair in Python.

Default estimate (:class:`GeodesicTravelTime`), per pair::

    seconds = ceil(great_circle_m * circuity / speed + allowance)   if great_circle_m > 0
    seconds = 0                                                       otherwise

The constants and their sources:

- **Great-circle distance**: haversine on a sphere of the IUGG mean Earth radius
  R1 = 6371.0088 km (Moritz, *Geodetic Reference System 1980*, J. Geodesy 2000). Within London
  the sphere differs from the WGS84 ellipsoid by well under 0.5 %.
- **Circuity** (road distance / straight-line distance) 1.35 for every mode. Newell (1980)
  found about 1.2 for random points in an urban network; Giacomin & Levinson, "Road network
  circuity in metropolitan areas", Environment and Planning B 42(6), 2015, show short urban
  trips are more circuitous than long ones; a 2023 study of 300 European cities (Environment
  and Planning B, doi:10.1177/23998083231168870) reports an average radial detour of 1.343.
  Ballou, Rahardja & Sakai, "Selected country circuity factors for road travel distance
  estimation", Transportation Research A 36(9), 2002, give national factors of the same order.
  Community visits are short trips in a dense, river-crossed network, so we use 1.35.
- **Car speed** 18 km/h: TfL *Travel in London* report 8 (2015), table 4.9, average weekday
  traffic speeds in inner London of 16.9 (PM peak) to 20.3 km/h (inter-peak) in 2014/15;
  central London is slower (12.6-14.1 km/h), outer London faster (27-34 km/h).
- **Bicycle** 15 km/h: a typical urban cycling speed including junction delay, about the
  speed usually quoted for London cycle commuting; cyclists are less affected by congestion.
- **Walking** 4.8 km/h: the walk speed TfL's PTAL method (*Assessing transport connectivity
  in London*, 2015) assumes.
- **Public transport** 12 km/h door to door, below London's average bus operating speed of
  roughly 15 km/h to allow for indirect routes and changes, plus a 10-minute allowance for the
  walk to the stop and the wait (PTAL's average waiting time is half the headway plus 2 minutes
  for buses).
- **Car parking allowance** 5 minutes per trip: a planning assumption, not a measured figure.
  Finding a space near a home visit in inner London is a known time cost for community nurses;
  the allowance is configurable and should be calibrated against recorded arrival times.
  Bicycles get 1 minute (locking up); walking none.

Allowances apply only to trips of non-zero length, so staying at the same place costs 0.
Rounding up to whole seconds happens once, in :func:`whole_seconds`, for every provider.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import Any, Final, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from routing.travel_errors import (
    UnknownTravelModeError,
)

#: A point as (latitude, longitude) in WGS84 degrees.
LatLon = tuple[float, float]

#: Points given to a provider: (lat, lon) pairs, or an (n, 2) float array of them.
Points = Sequence[LatLon] | npt.NDArray[np.floating[Any]]

#: IUGG mean Earth radius R1 in metres (see module docstring).
EARTH_MEAN_RADIUS_M: Final = 6_371_008.8

#: Travel modes, the same codes as ``rosters.types.TRAVEL_MODES``.
TRAVEL_MODES: Final[tuple[str, ...]] = ("car", "bicycle", "walk", "public_transport")

_KMH_TO_MS: Final = 1000.0 / 3600.0
_MINUTE_S: Final = 60.0

DEFAULT_CIRCUITY: Final = MappingProxyType(
    {"car": 1.35, "bicycle": 1.35, "walk": 1.35, "public_transport": 1.35}
)
DEFAULT_SPEED_KMH: Final = MappingProxyType(
    {"car": 18.0, "bicycle": 15.0, "walk": 4.8, "public_transport": 12.0}
)
DEFAULT_ALLOWANCE_S: Final = MappingProxyType(
    {
        "car": 5 * _MINUTE_S,
        "bicycle": 1 * _MINUTE_S,
        "walk": 0.0,
        "public_transport": 10 * _MINUTE_S,
    }
)

# Largest number of matrix cells computed in one numpy step; bounds temporary memory to a
# few tens of megabytes whatever the matrix size.
_CHUNK_CELLS: Final = 2_000_000

IntMatrix = npt.NDArray[np.int64]
FloatMatrix = npt.NDArray[np.float64]


@runtime_checkable
class TravelTimeProvider(Protocol):
    """Anything that can fill a travel-time matrix."""

    def matrix(self, origins: Points, destinations: Points, mode: str = "car") -> IntMatrix:
        """Return whole seconds from each origin (rows) to each destination (columns)."""
        ...


def as_points(points: Points | npt.ArrayLike, name: str = "points") -> FloatMatrix:
    """Return ``points`` as a float array of shape (n, 2), checking ranges.

    Raises
    ------
    ValueError
        If the shape is not (n, 2), or a latitude or longitude is not finite or out of range.
    """
    array = np.asarray(points, dtype=float)
    if array.size == 0:
        return np.empty((0, 2))
    if array.ndim != 2 or array.shape[1] != 2:
        raise ValueError(f"{name} must be a sequence of (lat, lon) pairs")
    lat, lon = array[:, 0], array[:, 1]
    if not (
        np.all(np.isfinite(array)) and np.all(np.abs(lat) <= 90) and np.all(np.abs(lon) <= 180)
    ):
        raise ValueError(f"{name} has a latitude or longitude that is not finite or out of range")
    return array


def great_circle_metres(
    origins: Points | npt.ArrayLike, destinations: Points | npt.ArrayLike
) -> FloatMatrix:
    """Return haversine distances in metres between every origin and destination.

    Vectorised with numpy, in row blocks so memory stays bounded. The result is exactly
    symmetric (when origins and destinations are the same points) and exactly zero between
    identical points.
    """
    origin = np.radians(as_points(origins, "origins")) / 2.0
    dest = np.radians(as_points(destinations, "destinations")) / 2.0
    out = np.empty((len(origin), len(dest)))
    if out.size == 0:
        return out
    # sin((a - b) / 2) = sin(a/2)cos(b/2) - cos(a/2)sin(b/2): trigonometry on the n + m
    # points only, then products over the matrix; exactly 0 for identical points and exactly
    # antisymmetric, so the squared terms are symmetric.
    o_sin, o_cos = np.sin(origin), np.cos(origin)
    d_sin, d_cos = np.sin(dest), np.cos(dest)
    o_cos_lat = np.cos(2.0 * origin[:, 0])
    d_cos_lat = np.cos(2.0 * dest[:, 0])
    rows = max(1, _CHUNK_CELLS // len(dest))
    for first in range(0, len(origin), rows):
        block = slice(first, first + rows)
        half_dlat = o_sin[block, 0][:, None] * d_cos[:, 0]
        half_dlat -= o_cos[block, 0][:, None] * d_sin[:, 0]
        half_dlon = o_sin[block, 1][:, None] * d_cos[:, 1]
        half_dlon -= o_cos[block, 1][:, None] * d_sin[:, 1]
        half_dlat *= half_dlat
        half_dlon *= half_dlon
        half_dlon *= np.multiply.outer(o_cos_lat[block], d_cos_lat)
        half_dlat += half_dlon
        np.clip(half_dlat, 0.0, 1.0, out=half_dlat)
        np.sqrt(half_dlat, out=half_dlat)
        np.arcsin(half_dlat, out=half_dlat)
        out[block] = half_dlat
    out *= 2.0 * EARTH_MEAN_RADIUS_M
    return out
    lat2, lon2 = dest[:, 0][None, :], dest[:, 1][None, :]
    cos_lat2 = np.cos(lat2)
    rows = max(1, _CHUNK_CELLS // len(dest))
    for first in range(0, len(origin), rows):
        lat1 = origin[first : first + rows, 0][:, None]
        lon1 = origin[first : first + rows, 1][:, None]
        half_dlat = np.sin(np.abs(lat2 - lat1) / 2.0)
        half_dlon = np.sin(np.abs(lon2 - lon1) / 2.0)
        a = half_dlat * half_dlat + np.cos(lat1) * cos_lat2 * (half_dlon * half_dlon)
        np.clip(a, 0.0, 1.0, out=a)
        out[first : first + rows] = (2.0 * EARTH_MEAN_RADIUS_M) * np.arcsin(np.sqrt(a))
    return out


def whole_seconds(travel_s: FloatMatrix, allowance_s: float) -> IntMatrix:
    """Add the per-trip allowance to non-zero trips and round up to whole seconds, once.

    The one place where travel times become integers (house style: round once).
    """
    moving = travel_s > 0
    total = np.where(moving, travel_s + allowance_s, 0.0)
    return np.ceil(total).astype(np.int64)


def merged_settings(
    name: str, defaults: Mapping[str, float], overrides: Mapping[str, float] | None
) -> dict[str, float]:
    merged = dict(defaults)
    merged.update(overrides or {})
    for mode, value in merged.items():
        if not np.isfinite(value):
            raise ValueError(f"{name}[{mode!r}] must be finite, got {value}")
    return merged


class GeodesicTravelTime:
    """Offline travel times: great-circle distance x circuity / speed + allowance.

    Parameters
    ----------
    circuity
        Road-distance / straight-line-distance factor per mode, at least 1 (defaults
        :data:`DEFAULT_CIRCUITY`; overrides are merged over the defaults).
    speeds_kmh
        Average door-to-door speed per mode in km/h, above 0 (:data:`DEFAULT_SPEED_KMH`).
    allowances_s
        Fixed seconds added to every non-zero trip per mode, at least 0, e.g. parking
        (:data:`DEFAULT_ALLOWANCE_S`).

    Raises
    ------
    ValueError
        If a setting is out of range.
    """

    def __init__(
        self,
        *,
        circuity: Mapping[str, float] | None = None,
        speeds_kmh: Mapping[str, float] | None = None,
        allowances_s: Mapping[str, float] | None = None,
    ) -> None:
        self.circuity = merged_settings("circuity", DEFAULT_CIRCUITY, circuity)
        self.speeds_kmh = merged_settings("speeds_kmh", DEFAULT_SPEED_KMH, speeds_kmh)
        self.allowances_s = merged_settings("allowances_s", DEFAULT_ALLOWANCE_S, allowances_s)
        for mode, factor in self.circuity.items():
            if factor < 1.0:
                raise ValueError(f"circuity[{mode!r}] must be at least 1, got {factor}")
        for mode, speed in self.speeds_kmh.items():
            if speed <= 0.0:
                raise ValueError(f"speeds_kmh[{mode!r}] must be above 0, got {speed}")
        for mode, allowance in self.allowances_s.items():
            if allowance < 0.0:
                raise ValueError(f"allowances_s[{mode!r}] must be at least 0, got {allowance}")

    @property
    def modes(self) -> tuple[str, ...]:
        """Modes this provider has a speed, a circuity and an allowance for."""
        return tuple(
            mode for mode in self.speeds_kmh if mode in self.circuity and mode in self.allowances_s
        )

    def travel_seconds(
        self, origins: Points, destinations: Points, mode: str = "car"
    ) -> FloatMatrix:
        """Return unrounded moving time in seconds (no allowance) for every pair."""
        if mode not in self.modes:
            raise UnknownTravelModeError(
                f"unknown travel mode {mode!r}; expected one of {', '.join(self.modes)}"
            )
        metres = great_circle_metres(origins, destinations)
        speed_ms = self.speeds_kmh[mode] * _KMH_TO_MS
        metres *= self.circuity[mode] / speed_ms
        return metres

    def matrix(self, origins: Points, destinations: Points, mode: str = "car") -> IntMatrix:
        """Return whole seconds from each origin to each destination for ``mode``.

        Raises
        ------
        UnknownTravelModeError
            If the mode has no speed (a ``ValueError``).
        ValueError
            If a point is malformed or out of range.
        """
        moving = self.travel_seconds(origins, destinations, mode)
        return whole_seconds(moving, self.allowances_s[mode])


__all__ = [
    "DEFAULT_ALLOWANCE_S",
    "DEFAULT_CIRCUITY",
    "DEFAULT_SPEED_KMH",
    "EARTH_MEAN_RADIUS_M",
    "TRAVEL_MODES",
    "GeodesicTravelTime",
    "LatLon",
    "TravelTimeProvider",
    "as_points",
    "great_circle_metres",
    "whole_seconds",
]
