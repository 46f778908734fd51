"""Tests for routing.travel: the offline estimate and the OSRM table client (fake server)."""

from __future__ import annotations

import json
import math
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from geopy.distance import great_circle

import routing.travel as travel
from routing.osrm import OsrmTravelTime
from routing.providers import make_provider
from routing.travel import (
    DEFAULT_ALLOWANCE_S,
    DEFAULT_CIRCUITY,
    DEFAULT_SPEED_KMH,
    GeodesicTravelTime,
    TravelTimeProvider,
    great_circle_metres,
)
from routing.travel_errors import (
    OsrmConnectionError,
    OsrmError,
    OsrmTimeoutError,
    UnknownTravelModeError,
)

# District centroids in the three boroughs (W12, W6, SW6, W8, W2, SW1A), as (lat, lon).
POINTS = [
    (51.5095, -0.23984),
    (51.49246, -0.23109),
    (51.47743, -0.20039),
    (51.50041, -0.1954),
    (51.51427, -0.18966),
    (51.50197, -0.13386),
]


def test_great_circle_metres_matches_geopy_within_half_percent() -> None:
    """Our vectorised haversine agrees with geopy's per-pair great_circle."""
    metres = great_circle_metres(POINTS[:3], POINTS[3:])

    for i, origin in enumerate(POINTS[:3]):
        for j, dest in enumerate(POINTS[3:]):
            expected = great_circle(origin, dest).meters
            assert metres[i, j] == pytest.approx(expected, rel=0.005)


def test_geodesic_matrix_shape_and_integer_seconds() -> None:
    """Rows are origins, columns destinations, values whole seconds."""
    matrix = GeodesicTravelTime().matrix(POINTS[:2], POINTS, "car")

    assert matrix.shape == (2, len(POINTS))
    assert np.issubdtype(matrix.dtype, np.integer)


def test_geodesic_matrix_symmetric_with_zero_diagonal() -> None:
    """Same origins and destinations give a symmetric matrix; staying put costs nothing."""
    matrix = GeodesicTravelTime().matrix(POINTS, POINTS, "car")

    assert np.array_equal(matrix, matrix.T)
    assert np.all(np.diag(matrix) == 0)
    assert np.all(matrix[~np.eye(len(POINTS), dtype=bool)] > 0)


def test_geodesic_matrix_monotonic_in_distance() -> None:
    """Farther destinations along a line never take less time."""
    origin = (51.5, -0.2)
    line = [(51.5 + 0.002 * step, -0.2) for step in range(1, 40)]

    times = GeodesicTravelTime().matrix([origin], line, "car")[0]

    assert np.all(np.diff(times) > 0)


@pytest.mark.parametrize("mode", ["car", "bicycle", "walk", "public_transport"])
def test_geodesic_matrix_formula_per_mode(mode: str) -> None:
    """seconds = ceil(distance x circuity / speed + allowance), checked with geopy's distance."""
    origin, dest = POINTS[0], POINTS[5]
    metres = great_circle(origin, dest).meters
    expected = (
        metres * DEFAULT_CIRCUITY[mode] / (DEFAULT_SPEED_KMH[mode] / 3.6)
        + DEFAULT_ALLOWANCE_S[mode]
    )

    seconds = int(GeodesicTravelTime().matrix([origin], [dest], mode)[0, 0])

    assert abs(seconds - math.ceil(expected)) <= 1


def test_geodesic_matrix_allowance_only_for_real_trips() -> None:
    """Parking is added to any trip of non-zero length, never to staying at the same place."""
    here = (51.5, -0.2)
    next_door = (51.50001, -0.2)

    matrix = GeodesicTravelTime().matrix([here], [here, next_door], "car")

    assert matrix[0, 0] == 0
    assert DEFAULT_ALLOWANCE_S["car"] < matrix[0, 1] <= DEFAULT_ALLOWANCE_S["car"] + 2


def test_geodesic_matrix_rounds_up_once() -> None:
    """A trip of a fraction of a second costs one whole second, not zero."""
    provider = GeodesicTravelTime(allowances_s={"walk": 0.0})

    matrix = provider.matrix([(51.5, -0.2)], [(51.5000001, -0.2)], "walk")

    assert matrix[0, 0] == 1


def test_geodesic_settings_override_defaults() -> None:
    """Doubling the car speed halves the moving part of the trip."""
    slow = GeodesicTravelTime().travel_seconds(POINTS[:1], POINTS[5:], "car")
    fast = GeodesicTravelTime(speeds_kmh={"car": DEFAULT_SPEED_KMH["car"] * 2})

    assert fast.travel_seconds(POINTS[:1], POINTS[5:], "car") == pytest.approx(slow / 2)


def test_geodesic_walk_slower_than_bicycle() -> None:
    """Mode speeds are used: walking a few kilometres takes longer than cycling."""
    provider = GeodesicTravelTime()

    walk = provider.matrix(POINTS[:1], POINTS[5:], "walk")
    cycle = provider.matrix(POINTS[:1], POINTS[5:], "bicycle")

    assert walk[0, 0] > cycle[0, 0]


def test_geodesic_unknown_mode_rejected() -> None:
    """A travel mode without a speed is an error, never a silent default."""
    with pytest.raises(UnknownTravelModeError, match="unknown travel mode 'horse'"):
        GeodesicTravelTime().matrix(POINTS, POINTS, "horse")


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"speeds_kmh": {"car": 0.0}}, "must be above 0"),
        ({"circuity": {"walk": 0.9}}, "must be at least 1"),
        ({"allowances_s": {"car": -1.0}}, "must be at least 0"),
        ({"speeds_kmh": {"car": float("nan")}}, "must be finite"),
    ],
)
def test_geodesic_invalid_settings_rejected(
    settings: dict[str, dict[str, float]], message: str
) -> None:
    """Out-of-range settings fail at construction with an exact message."""
    with pytest.raises(ValueError, match=message):
        GeodesicTravelTime(**settings)


@pytest.mark.parametrize("bad", [[(95.0, 0.0)], [(51.5, float("nan"))], [(51.5, -0.2, 3.0)]])
def test_geodesic_invalid_points_rejected(bad: list[tuple[float, ...]]) -> None:
    """Malformed coordinates are refused rather than producing nonsense times."""
    with pytest.raises(ValueError, match="origins"):
        GeodesicTravelTime().matrix(bad, POINTS, "car")  # type: ignore[arg-type]


def test_geodesic_empty_origins_gives_empty_rows() -> None:
    """No origins is a valid (empty) matrix, not an error."""
    assert GeodesicTravelTime().matrix([], POINTS, "car").shape == (0, len(POINTS))


def test_geodesic_blocks_give_same_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """Computing in small row blocks (memory bound) changes nothing."""
    whole = GeodesicTravelTime().matrix(POINTS, POINTS, "car")
    monkeypatch.setattr(travel, "_CHUNK_CELLS", len(POINTS))

    assert np.array_equal(GeodesicTravelTime().matrix(POINTS, POINTS, "car"), whole)


def test_make_provider_offline_by_default() -> None:
    """Without an OSRM URL the offline estimate is used, with the given settings."""
    provider = make_provider(None, speeds_kmh={"car": 30.0})

    assert isinstance(provider, GeodesicTravelTime)
    assert isinstance(provider, TravelTimeProvider)
    assert provider.speeds_kmh["car"] == 30.0


def test_make_provider_osrm_when_url_set() -> None:
    """An OSRM URL selects the OSRM client, keeping offline settings for its fallback."""
    provider = make_provider("http://osrm.internal:5000", timeout_s=3.0, speeds_kmh={"walk": 4.0})

    assert isinstance(provider, OsrmTravelTime)
    assert provider.timeout_s == 3.0
    assert isinstance(provider.fallback, GeodesicTravelTime)
    assert provider.fallback.speeds_kmh["walk"] == 4.0


# --- OSRM against a local fake server ------------------------------------------------------

FAKE_SPEED_MS = 8.0


def _fake_duration(a: tuple[float, float], b: tuple[float, float]) -> float:
    """The fake server's road time: straight-line metres at 8 m/s, to 0.1 s like OSRM."""
    return round(great_circle(a, b).meters / FAKE_SPEED_MS, 1)


@dataclass
class FakeOsrm:
    """Behaviour switches and a log of what the client asked."""

    url: str = ""
    behaviour: str = "ok"
    max_coordinates: int = 1000
    requests: list[str] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)


class _OsrmHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        fake: FakeOsrm = self.server.fake  # type: ignore[attr-defined]
        fake.requests.append(self.path)
        if fake.behaviour == "slow":
            fake.release.wait(5)
            return
        parts = urlsplit(self.path)
        coords_text = parts.path.split("/")[-1]
        points = [
            (float(lat), float(lon)) for lon, lat in (c.split(",") for c in coords_text.split(";"))
        ]
        if len(points) > fake.max_coordinates or fake.behaviour == "error":
            self._send(400, {"code": "TooBig", "message": "Too many table coordinates"})
            return
        query = parse_qs(parts.query)
        sources = [int(i) for i in query["sources"][0].split(";")]
        destinations = [int(i) for i in query["destinations"][0].split(";")]
        durations: list[list[float | None]] = [
            [_fake_duration(points[s], points[d]) for d in destinations] for s in sources
        ]
        if fake.behaviour == "null":
            durations[0][-1] = None
        if fake.behaviour == "garbage":
            self._send(200, {"code": "Ok", "durations": [[1.0]]})
            return
        self._send(200, {"code": "Ok", "durations": durations})

    def _send(self, status: int, payload: object) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002
        """Keep test output quiet."""


@pytest.fixture()
def fake_osrm(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeOsrm]:
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OsrmHandler)
    server.daemon_threads = True
    fake = FakeOsrm(url=f"http://127.0.0.1:{server.server_port}")
    server.fake = fake  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield fake
    fake.release.set()
    server.shutdown()
    server.server_close()
    thread.join()


def _expected_osrm(
    origins: list[tuple[float, float]], dests: list[tuple[float, float]]
) -> np.ndarray:
    allowance = DEFAULT_ALLOWANCE_S["car"]
    return np.array(
        [
            [math.ceil(_fake_duration(o, d) + allowance) if o != d else 0 for d in dests]
            for o in origins
        ]
    )


def test_osrm_matrix_success(fake_osrm: FakeOsrm) -> None:
    """Durations come from the table service, plus parking, rounded up once."""
    provider = OsrmTravelTime(fake_osrm.url, timeout_s=2.0)

    matrix = provider.matrix(POINTS[:2], POINTS, "car")

    assert np.array_equal(matrix, _expected_osrm(POINTS[:2], POINTS))
    (path,) = fake_osrm.requests
    assert path.startswith("/table/v1/driving/")
    assert "annotations=duration" in path


def test_osrm_matrix_split_into_blocks_of_max_table_size(fake_osrm: FakeOsrm) -> None:
    """Large matrices go in several requests within the server's table size limit."""
    fake_osrm.max_coordinates = 4
    provider = OsrmTravelTime(fake_osrm.url, timeout_s=2.0, max_table_size=4)

    matrix = provider.matrix(POINTS, POINTS, "car")

    assert np.array_equal(matrix, _expected_osrm(POINTS, POINTS))
    assert len(fake_osrm.requests) == 9


def test_osrm_error_answer_raises(fake_osrm: FakeOsrm) -> None:
    """An OSRM error (HTTP 400 with a code) becomes OsrmError carrying that code."""
    fake_osrm.behaviour = "error"

    with pytest.raises(OsrmError, match="HTTP 400: TooBig"):
        OsrmTravelTime(fake_osrm.url, timeout_s=2.0).matrix(POINTS, POINTS, "car")


def test_osrm_wrong_shape_answer_raises(fake_osrm: FakeOsrm) -> None:
    """An answer whose durations do not match the request is refused, not misused."""
    fake_osrm.behaviour = "garbage"

    with pytest.raises(OsrmError, match="expected \\(2, 6\\)"):
        OsrmTravelTime(fake_osrm.url, timeout_s=2.0).matrix(POINTS[:2], POINTS, "car")


def test_osrm_timeout_raises_quickly(fake_osrm: FakeOsrm) -> None:
    """A server that does not answer gives OsrmTimeoutError after the timeout, not a hang.

    No stopwatch (a busy machine must not fail it): the fake holds the request until it is
    released (5 s at most) and then hangs up without an answer, so only the client's own
    0.2 s timeout can produce OsrmTimeoutError (a hang-up is a connection error)."""
    fake_osrm.behaviour = "slow"

    with pytest.raises(OsrmTimeoutError, match="within 0.2 s"):
        OsrmTravelTime(fake_osrm.url, timeout_s=0.2).matrix(POINTS, POINTS, "car")

    assert len(fake_osrm.requests) == 1


def test_osrm_unreachable_raises_connection_error() -> None:
    """Nothing listening on the port gives OsrmConnectionError."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(OsrmConnectionError, match="cannot reach OSRM"):
        OsrmTravelTime(f"http://127.0.0.1:{port}", timeout_s=1.0).matrix(POINTS, POINTS, "car")


def test_osrm_unroutable_pair_uses_fallback(fake_osrm: FakeOsrm) -> None:
    """A null duration (no route) takes the offline estimate instead of failing the plan."""
    fake_osrm.behaviour = "null"
    fallback = GeodesicTravelTime()

    matrix = OsrmTravelTime(fake_osrm.url, timeout_s=2.0, fallback=fallback).matrix(
        POINTS[:2], POINTS, "car"
    )

    expected = _expected_osrm(POINTS[:2], POINTS)
    expected[0, -1] = fallback.matrix(POINTS[:1], POINTS[-1:], "car")[0, 0]
    assert np.array_equal(matrix, expected)


def test_osrm_mode_without_profile_uses_fallback(fake_osrm: FakeOsrm) -> None:
    """Public transport has no OSRM profile, so the fallback answers and no request is sent."""
    fallback = GeodesicTravelTime()

    matrix = OsrmTravelTime(fake_osrm.url, fallback=fallback).matrix(
        POINTS, POINTS, "public_transport"
    )

    assert np.array_equal(matrix, fallback.matrix(POINTS, POINTS, "public_transport"))
    assert fake_osrm.requests == []


def test_osrm_bad_url_rejected() -> None:
    """A URL without scheme or host fails at start-up, not at the first plan."""
    with pytest.raises(ValueError, match="must be an http\\(s\\) URL"):
        OsrmTravelTime("localhost:5000")
