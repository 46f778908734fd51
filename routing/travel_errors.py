"""Errors raised by geocoding and travel-time providers.

Why our own classes: geopy, urllib and OSRM each fail in their own way; the rest of the service
handles these few classes only (house style: wrap third-party exceptions at the boundary).
"""

from __future__ import annotations


class TravelError(Exception):
    """Base class for geocoding and travel-time errors."""


class UnknownTravelModeError(TravelError, ValueError):
    """A travel mode the provider has no speed or profile for."""


class GeocodingError(TravelError):
    """A place could not be turned into coordinates."""


class UnknownLocationError(GeocodingError, LookupError):
    """The geocoder has no result for the query (e.g. a postcode outside the table)."""


class GeocoderUnavailableError(GeocodingError):
    """The geocoding service failed, timed out or refused the request."""


class TravelTimeError(TravelError):
    """A travel-time matrix could not be computed."""


class OsrmError(TravelTimeError):
    """The OSRM server answered with an error, or an answer we cannot read."""


class OsrmTimeoutError(OsrmError):
    """The OSRM server did not answer within the timeout."""


class OsrmConnectionError(OsrmError):
    """The OSRM server could not be reached."""
