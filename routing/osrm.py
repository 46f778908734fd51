"""The OSRM ``table`` travel-time provider (used when ``DISPATCH_OSRM_URL`` is set).

Builds on :mod:`routing.travel` (the provider protocol and the offline estimate, its fallback);
:func:`routing.providers.make_provider` chooses between the two.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from http.client import HTTPException
from types import MappingProxyType
from typing import Any, Final
from urllib.error import HTTPError, URLError
from urllib.parse import quote, urlencode, urlsplit
from urllib.request import Request, urlopen

import numpy as np

from routing.travel import (
    DEFAULT_ALLOWANCE_S,
    FloatMatrix,
    GeodesicTravelTime,
    IntMatrix,
    Points,
    TravelTimeProvider,
    as_points,
    merged_settings,
    whole_seconds,
)
from routing.travel_errors import (
    OsrmConnectionError,
    OsrmError,
    OsrmTimeoutError,
)

#: OSRM profile name per travel mode (the names of OSRM's stock profiles). Public transport
#: has no OSRM profile; it goes to the fallback provider.
DEFAULT_OSRM_PROFILES: Final = MappingProxyType(
    {"car": "driving", "bicycle": "cycling", "walk": "foot"}
)

#: Seconds to wait for one OSRM table request.
DEFAULT_OSRM_TIMEOUT_S: Final = 10.0

#: Most coordinates in one table request: the default of ``osrm-routed --max-table-size``.
DEFAULT_OSRM_MAX_TABLE_SIZE: Final = 100

#: Decimal places of coordinates sent to OSRM (6 places is about 0.1 m).
_COORDINATE_DECIMALS: Final = 6


class OsrmTravelTime:
    """Travel times from an OSRM server's ``table`` service.

    Requests ``GET {url}/table/v1/{profile}/{lon,lat;...}?sources=..&destinations=..
    &annotations=duration`` with urllib (no extra dependency), in blocks of at most
    ``max_table_size`` coordinates. OSRM durations are free-flow road times; the same per-trip
    allowances as the offline estimate (parking) are added, then rounded up once. Pairs OSRM
    cannot route (``null``) and modes it has no profile for get the fallback's estimate.

    Parameters
    ----------
    url
        Base URL of the server, e.g. ``http://localhost:5000``.
    timeout_s
        Seconds to wait for each request.
    profiles
        OSRM profile per mode, merged over :data:`DEFAULT_OSRM_PROFILES`.
    allowances_s
        Seconds added to each non-zero trip per mode, merged over :data:`DEFAULT_ALLOWANCE_S`.
    max_table_size
        Most coordinates (sources plus destinations) per request; match the server's
        ``--max-table-size``.
    fallback
        Provider for unroutable pairs and modes without a profile; by default
        :class:`GeodesicTravelTime`.

    Raises
    ------
    ValueError
        If the URL is not http(s) with a host, or a setting is out of range.
    """

    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = DEFAULT_OSRM_TIMEOUT_S,
        profiles: Mapping[str, str] | None = None,
        allowances_s: Mapping[str, float] | None = None,
        max_table_size: int = DEFAULT_OSRM_MAX_TABLE_SIZE,
        fallback: TravelTimeProvider | None = None,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"OSRM url {url!r} must be an http(s) URL with a host")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s must be above 0, got {timeout_s}")
        if max_table_size < 2:
            raise ValueError(f"max_table_size must be at least 2, got {max_table_size}")
        self.url = url.rstrip("/")
        self.timeout_s = timeout_s
        self.profiles = {**DEFAULT_OSRM_PROFILES, **(profiles or {})}
        self.allowances_s = merged_settings("allowances_s", DEFAULT_ALLOWANCE_S, allowances_s)
        self.max_table_size = max_table_size
        self.fallback = fallback if fallback is not None else GeodesicTravelTime()

    def matrix(self, origins: Points, destinations: Points, mode: str = "car") -> IntMatrix:
        """Return whole seconds from each origin to each destination for ``mode``.

        Raises
        ------
        OsrmTimeoutError, OsrmConnectionError, OsrmError
            If the server does not answer in time, cannot be reached, or answers an error.
        """
        profile = self.profiles.get(mode)
        if profile is None:
            return self.fallback.matrix(origins, destinations, mode)
        source = as_points(origins, "origins")
        dest = as_points(destinations, "destinations")
        seconds = self._durations(profile, source, dest)
        result = whole_seconds(np.nan_to_num(seconds, nan=0.0), self.allowances_s.get(mode, 0.0))
        unroutable = np.isnan(seconds)
        if unroutable.any():
            estimate = self.fallback.matrix(source, dest, mode)
            result[unroutable] = estimate[unroutable]
        return result

    def _durations(self, profile: str, source: FloatMatrix, dest: FloatMatrix) -> FloatMatrix:
        out = np.full((len(source), len(dest)), np.nan)
        if out.size == 0:
            return out
        rows = max(1, min(len(source), self.max_table_size // 2))
        cols = self.max_table_size - rows
        for first_row in range(0, len(source), rows):
            for first_col in range(0, len(dest), cols):
                block = self._table(
                    profile,
                    source[first_row : first_row + rows],
                    dest[first_col : first_col + cols],
                )
                out[first_row : first_row + rows, first_col : first_col + cols] = block
        return out

    def _table(self, profile: str, source: FloatMatrix, dest: FloatMatrix) -> FloatMatrix:
        points = np.vstack([source, dest])
        coords = ";".join(
            f"{lon:.{_COORDINATE_DECIMALS}f},{lat:.{_COORDINATE_DECIMALS}f}" for lat, lon in points
        )
        sources = ";".join(str(index) for index in range(len(source)))
        destinations = ";".join(str(index) for index in range(len(source), len(points)))
        query = urlencode(
            {"sources": sources, "destinations": destinations, "annotations": "duration"},
            safe=";",
        )
        body = self._fetch(f"{self.url}/table/v1/{quote(profile)}/{coords}?{query}")
        return _read_durations(body, (len(source), len(dest)))

    def _fetch(self, url: str) -> Any:
        request = Request(url, headers={"Accept": "application/json"})
        try:
            with urlopen(request, timeout=self.timeout_s) as response:
                return json.loads(response.read())
        except HTTPError as error:
            with error:
                detail = _error_message(error.read())
            raise OsrmError(f"OSRM answered HTTP {error.code}: {detail}") from error
        except TimeoutError as error:
            raise OsrmTimeoutError(f"OSRM did not answer within {self.timeout_s} s") from error
        except URLError as error:
            if isinstance(error.reason, TimeoutError):
                raise OsrmTimeoutError(f"OSRM did not answer within {self.timeout_s} s") from error
            raise OsrmConnectionError(f"cannot reach OSRM at {self.url}: {error.reason}") from error
        except (OSError, HTTPException) as error:
            raise OsrmConnectionError(
                f"connection to OSRM at {self.url} failed: {error}"
            ) from error
        except ValueError as error:
            raise OsrmError(f"unreadable answer from OSRM: {error}") from error


def _error_message(body: bytes) -> str:
    try:
        payload = json.loads(body)
        return f"{payload.get('code', '?')}: {payload.get('message', '')}"
    except (ValueError, AttributeError):
        return body[:200].decode("utf-8", "replace")


def _read_durations(body: Any, shape: tuple[int, int]) -> FloatMatrix:
    if not isinstance(body, dict):
        raise OsrmError("OSRM answer is not a JSON object")
    if body.get("code") != "Ok":
        raise OsrmError(f"OSRM error {body.get('code')}: {body.get('message', '')}")
    try:
        durations = np.array(body["durations"], dtype=float)  # null becomes nan
    except (KeyError, TypeError, ValueError) as error:
        raise OsrmError("OSRM answer has no readable durations") from error
    if durations.shape != shape:
        raise OsrmError(f"OSRM durations have shape {durations.shape}, expected {shape}")
    if np.any(durations[~np.isnan(durations)] < 0):
        raise OsrmError("OSRM durations contain a negative value")
    return durations
