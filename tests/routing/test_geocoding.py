"""Tests for routing.geocoding: the offline district geocoder, Nominatim set-up, errors."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from importlib import resources

import pytest
from geopy.geocoders import Nominatim
from geopy.location import Location

from routing.geocoding import (
    OfflinePostcodeGeocoder,
    load_outcodes,
    locate,
    locate_postcode,
    make_geocoder,
    outward_code,
)
from routing.travel_errors import GeocoderUnavailableError, UnknownLocationError
from tests.fakes.nominatim_server import running_nominatim

# Rough bounding box of Greater London, to catch swapped or garbled coordinates.
LONDON_LAT = (51.28, 51.70)
LONDON_LON = (-0.52, 0.34)

# Districts of Hammersmith & Fulham, Kensington & Chelsea and Westminster.
TRI_BOROUGH_DISTRICTS = ["W12", "W6", "SW6", "W14", "W8", "W11", "SW3", "SW10", "W1", "W2", "SW1A"]


def _shipped_rows() -> dict[str, tuple[float, float]]:
    """Read the shipped CSV independently of the module under test."""
    text = resources.files("routing").joinpath("data/london_outcodes.csv").read_text("utf-8")
    return {
        row["outcode"]: (float(row["lat"]), float(row["lon"]))
        for row in csv.DictReader(text.splitlines())
    }


@pytest.fixture(scope="module")
def geocoder() -> OfflinePostcodeGeocoder:
    return OfflinePostcodeGeocoder()


@pytest.mark.parametrize("district", TRI_BOROUGH_DISTRICTS)
def test_offline_geocode_tri_borough_district_gives_centroid(
    geocoder: OfflinePostcodeGeocoder, district: str
) -> None:
    """Every district of the three boroughs resolves to its shipped centroid, in London."""
    expected = _shipped_rows()[district]

    location = geocoder.geocode(district)

    assert isinstance(location, Location)
    assert (location.latitude, location.longitude) == expected
    assert LONDON_LAT[0] < location.latitude < LONDON_LAT[1]
    assert LONDON_LON[0] < location.longitude < LONDON_LON[1]
    assert location.raw["outcode"] == district


@pytest.mark.parametrize("query", ["W12 8QT", "w12 8qt", "W128QT", "  W12   8QT "])
def test_offline_geocode_full_postcode_gives_district_centroid(
    geocoder: OfflinePostcodeGeocoder, query: str
) -> None:
    """A full postcode in any spelling resolves to its district's centroid."""
    location = geocoder.geocode(query)

    assert isinstance(location, Location)
    assert (location.latitude, location.longitude) == _shipped_rows()["W12"]


@pytest.mark.parametrize(
    ("postcode", "district"),
    [
        ("SW1A 1AA", "SW1A"),
        ("W1A 1AA", "W1A"),
        ("W1 1AA", "W1"),
        ("W11 1AA", "W11"),
        ("E1 4AA", "E1"),
    ],
)
def test_outward_code_splits_ambiguous_looking_postcodes(postcode: str, district: str) -> None:
    """The inward code is always digit-letter-letter, so the outward code is unambiguous."""
    assert outward_code(postcode) == district
    assert outward_code(postcode.replace(" ", "")) == district


@pytest.mark.parametrize("query", ["ZZ9 9ZZ", "AB10 1AA", "not a postcode", "", "12345"])
def test_offline_geocode_unknown_returns_none(
    geocoder: OfflinePostcodeGeocoder, query: str
) -> None:
    """Unknown or malformed postcodes give None, geopy's 'no result'."""
    assert geocoder.geocode(query) is None


def test_locate_unknown_postcode_raises(geocoder: OfflinePostcodeGeocoder) -> None:
    """locate turns 'no result' into our own error so callers cannot forget to check."""
    with pytest.raises(UnknownLocationError, match="ZZ9 9ZZ"):
        locate(geocoder, "ZZ9 9ZZ")


def test_offline_geocode_exactly_one_false_gives_list(geocoder: OfflinePostcodeGeocoder) -> None:
    """The geopy contract: exactly_one=False returns a list."""
    result = geocoder.geocode("SW6", exactly_one=False)

    assert isinstance(result, list)
    assert [item.raw["outcode"] for item in result] == ["SW6"]


def test_offline_reverse_nearest_district(geocoder: OfflinePostcodeGeocoder) -> None:
    """A point a few metres from a centroid reverse-geocodes to that district (for SMS)."""
    lat, lon = _shipped_rows()["W11"]

    location = geocoder.reverse((lat + 0.0005, lon - 0.0005))

    assert isinstance(location, Location)
    assert location.raw["outcode"] == "W11"


def test_offline_geocoder_custom_table() -> None:
    """Another region's table can be supplied without touching the shipped file."""
    geocoder = OfflinePostcodeGeocoder({"m1": (53.48, -2.24)})

    assert locate(geocoder, "M1 1AE") == (53.48, -2.24)


def test_load_outcodes_whole_table_and_fresh_copy() -> None:
    """The whole shipped table loads, and callers cannot corrupt the cache."""
    table = load_outcodes()
    table.pop("W12")

    assert load_outcodes() == _shipped_rows()
    assert len(_shipped_rows()) == 352


def test_make_geocoder_default_is_offline() -> None:
    """Without a Nominatim URL the service geocodes offline."""
    assert isinstance(make_geocoder(None), OfflinePostcodeGeocoder)
    assert isinstance(make_geocoder(""), OfflinePostcodeGeocoder)


def test_make_geocoder_url_gives_nominatim_with_domain_and_scheme() -> None:
    """A URL selects geopy's Nominatim on that host, path and scheme."""
    geocoder = make_geocoder("http://nominatim.internal:8080/nominatim/")

    assert isinstance(geocoder, Nominatim)
    assert geocoder.scheme == "http"
    assert geocoder.domain == "nominatim.internal:8080/nominatim"


def test_make_geocoder_bad_url_rejected() -> None:
    """A URL without scheme or host is a configuration error caught at start-up."""
    with pytest.raises(ValueError, match="must be an http\\(s\\) URL"):
        make_geocoder("nominatim.internal")


@pytest.fixture()
def nominatim_url(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, list[str]]]:
    """A fake Nominatim that knows W12 (tests/fakes/nominatim_server.py)."""
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    with running_nominatim({"W12": (51.5095, -0.2398)}) as server:
        yield server.url, server.paths


def test_nominatim_fake_server_found(nominatim_url: tuple[str, list[str]]) -> None:
    """The Nominatim geocoder really queries the configured server's /search."""
    url, paths = nominatim_url
    geocoder = make_geocoder(url)

    assert locate(geocoder, "W12 8QT") == (51.5095, -0.2398)
    assert paths[0].startswith("/search?")


def test_nominatim_fake_server_not_found(nominatim_url: tuple[str, list[str]]) -> None:
    """An empty Nominatim answer becomes UnknownLocationError."""
    with pytest.raises(UnknownLocationError):
        locate(make_geocoder(nominatim_url[0]), "SW6 1AA")


def test_nominatim_fake_server_failure_wrapped(nominatim_url: tuple[str, list[str]]) -> None:
    """A geopy failure (503 here) is wrapped in our GeocoderUnavailableError."""
    with pytest.raises(GeocoderUnavailableError, match="geocoding 'fail' failed"):
        locate(make_geocoder(nominatim_url[0]), "fail")


def test_locate_postcode_nominatim_structured_uk_query(
    nominatim_url: tuple[str, list[str]],
) -> None:
    """A postcode goes to Nominatim as a structured postcode search limited to the UK, not
    as free text that could match a street or a postcode abroad."""
    url, paths = nominatim_url
    assert locate_postcode(make_geocoder(url), "W12 8QT") == (51.5095, -0.2398)
    assert "postalcode=W12+8QT" in paths[0] and "countrycodes=gb" in paths[0]
    assert "q=" not in paths[0]


def test_locate_postcode_offline_uses_the_district(geocoder: OfflinePostcodeGeocoder) -> None:
    """The offline geocoder takes the postcode itself (its district's centre)."""
    assert locate_postcode(geocoder, "W12 8QT") == locate(geocoder, "W12")
