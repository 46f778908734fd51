"""Geocoding through geopy: an offline postcode-district geocoder, or Nominatim.

Why offline by default: the service must work with no network (the demo, the tests, a
laptop on a ward). A visit only needs a location good to a few hundred metres to plan travel,
and the SMS to staff may carry only the postcode district anyway (information governance), so
the centroid of the postcode district is enough. ``routing/data/london_outcodes.csv`` holds
the centroids of the 352 London-area districts (mean of the ONS postcode coordinates; see
``routing/data/ATTRIBUTION.md`` for source and licence).

Where better accuracy is wanted, set a Nominatim URL and :func:`make_geocoder` returns geopy's
``Nominatim`` pointed at that server.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from collections.abc import Callable, Mapping
from importlib import resources
from typing import Any, Final
from urllib.parse import urlsplit

import numpy as np
from geopy.exc import GeopyError
from geopy.geocoders import Nominatim
from geopy.geocoders.base import DEFAULT_SENTINEL, Geocoder
from geopy.location import Location

from routing.travel import LatLon, great_circle_metres
from routing.travel_errors import GeocoderUnavailableError, UnknownLocationError

#: Package-relative location of the shipped district table.
OUTCODES_RESOURCE: Final = "data/london_outcodes.csv"

#: A UK postcode, spaces removed: outward code (area letters, district digit, optional
#: digit or letter), then optionally the inward code (sector digit, two unit letters).
POSTCODE: Final = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?)([0-9][A-Z]{2})?$")

#: User-Agent sent to Nominatim; its usage policy requires one that names the application.
DEFAULT_USER_AGENT: Final = "nhs-rapid-response-dispatch"

#: Seconds to wait for a Nominatim answer before giving up.
DEFAULT_GEOCODER_TIMEOUT_S: Final = 5.0


@functools.cache
def _outcode_table() -> Mapping[str, LatLon]:
    text = resources.files("routing").joinpath(OUTCODES_RESOURCE).read_text(encoding="utf-8")
    table: dict[str, LatLon] = {}
    for row in csv.DictReader(io.StringIO(text)):
        table[row["outcode"].strip().upper()] = (float(row["lat"]), float(row["lon"]))
    return table


def load_outcodes() -> dict[str, LatLon]:
    """Return the shipped postcode-district centroids as ``{"W12": (lat, lon), ...}``.

    The file is read once and cached; each call returns a fresh dict the caller may change.
    """
    return dict(_outcode_table())


def outward_code(query: str) -> str | None:
    """Return the postcode district of a full postcode or a district, or None.

    ``"W12 8QT"``, ``"w128qt"`` and ``"W12"`` all give ``"W12"``; ``"SW1A 1AA"`` gives
    ``"SW1A"``. Anything that is not shaped like a UK postcode gives None.
    """
    compact = re.sub(r"\s+", "", query).upper()
    match = POSTCODE.fullmatch(compact)
    return match.group(1) if match else None


class OfflinePostcodeGeocoder(Geocoder):
    """A geopy geocoder that answers from the postcode-district table, without a network.

    Parameters
    ----------
    outcodes
        District centroids to use instead of the shipped London table (for tests or other
        regions), as ``{"W12": (lat, lon)}``.
    """

    def __init__(self, outcodes: Mapping[str, LatLon] | None = None) -> None:
        super().__init__()
        table = _outcode_table() if outcodes is None else outcodes
        self._outcodes: dict[str, LatLon] = {key.upper(): value for key, value in table.items()}
        self._codes = list(self._outcodes)
        self._points = np.array([self._outcodes[code] for code in self._codes], dtype=float)

    def _location(self, outcode: str, query: str) -> Location:
        lat, lon = self._outcodes[outcode]
        raw = {"outcode": outcode, "query": query, "precision": "postcode_district"}
        return Location(f"{outcode}, United Kingdom", (lat, lon), raw)

    def geocode(
        self, query: str, *, exactly_one: bool = True, timeout: Any = DEFAULT_SENTINEL
    ) -> Location | list[Location] | None:
        """Return the centroid of the postcode district of ``query``, or None if unknown.

        Parameters
        ----------
        query
            A full postcode (``"W12 8QT"``) or a district (``"W12"``), any case or spacing.
        exactly_one
            geopy convention: a single Location if True, else a list of one.
        timeout
            Ignored (no network); accepted for geopy compatibility.
        """
        if not isinstance(query, str):
            return None
        outcode = outward_code(query)
        if outcode is None or outcode not in self._outcodes:
            return None
        location = self._location(outcode, query)
        return location if exactly_one else [location]

    def reverse(
        self, query: Any, *, exactly_one: bool = True, timeout: Any = DEFAULT_SENTINEL
    ) -> Location | list[Location] | None:
        """Return the district whose centroid is nearest to a ``(lat, lon)`` point.

        Why: an SMS may name only the postcode district of a visit, and a visit geocoded by
        another service still needs one. Returns None if the table is empty.
        """
        if not self._codes:
            return None
        point = (float(query[0]), float(query[1]))
        distances = great_circle_metres([point], self._points)[0]
        outcode = self._codes[int(np.argmin(distances))]
        location = self._location(outcode, f"{point[0]},{point[1]}")
        return location if exactly_one else [location]


def make_geocoder(
    nominatim_url: str | None = None,
    *,
    user_agent: str = DEFAULT_USER_AGENT,
    timeout_s: float = DEFAULT_GEOCODER_TIMEOUT_S,
) -> Geocoder:
    """Return the configured geocoder: Nominatim at ``nominatim_url``, else the offline one.

    Parameters
    ----------
    nominatim_url
        Base URL of a Nominatim server, e.g. ``https://nominatim.example.nhs.uk`` or
        ``http://localhost:8080/nominatim``. None or empty selects
        :class:`OfflinePostcodeGeocoder`.
    user_agent
        User-Agent for Nominatim (its usage policy requires an application name).
    timeout_s
        Seconds to wait for Nominatim.

    Raises
    ------
    ValueError
        If the URL is not an http(s) URL with a host.
    """
    if not nominatim_url:
        return OfflinePostcodeGeocoder()
    parts = urlsplit(nominatim_url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"nominatim_url {nominatim_url!r} must be an http(s) URL with a host")
    domain = parts.netloc + parts.path.rstrip("/")
    return Nominatim(domain=domain, scheme=parts.scheme, user_agent=user_agent, timeout=timeout_s)


def locate(geocoder: Geocoder, query: str) -> LatLon:
    """Geocode ``query`` to ``(lat, lon)``, turning geopy's outcomes into our errors.

    Raises
    ------
    UnknownLocationError
        If the geocoder has no result for the query.
    GeocoderUnavailableError
        If the geocoding service failed (timeout, refusal, bad answer).
    """
    return _located(query, lambda: geocoder.geocode(query, exactly_one=True))


def locate_postcode(geocoder: Geocoder, postcode: str) -> LatLon:
    """Geocode a UK postcode to ``(lat, lon)``, raising as :func:`locate` does.

    Nominatim gets a structured postcode query limited to the UK (a bare postcode as free
    text can match a street or a postcode abroad); other geocoders get the postcode itself.
    """
    if isinstance(geocoder, Nominatim):
        return _located(postcode, lambda: geocoder.geocode(
            {"postalcode": postcode}, exactly_one=True, country_codes="gb"))
    return locate(geocoder, postcode)


def _located(query: str, geocode: Callable[[], Any]) -> LatLon:
    try:
        location = geocode()
    except GeopyError as error:
        raise GeocoderUnavailableError(f"geocoding {query!r} failed: {error}") from error
    if location is None:
        raise UnknownLocationError(f"no location found for {query!r}")
    return (float(location.latitude), float(location.longitude))
