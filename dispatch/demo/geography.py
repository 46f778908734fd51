"""Where the synthetic tri-borough lives: postcode districts, networks, bases, coordinates.

Why hand-picked districts: postcode districts do not follow borough boundaries, so we list the
districts that are mostly inside Hammersmith & Fulham, Kensington & Chelsea and Westminster
and give each a rough share of residents (weights in thousands of people, from ward-level
census counts rounded hard). Districts whose centroid lies outside the boroughs (W4 in
Chiswick, NW1 in Camden) are left out so that a jittered address never lands in the wrong
borough. Coordinates are the district centroids of ``london_outcodes.csv`` (ONS postcode
directory, Open Government Licence v3.0; see ``routing/data``).
"""

from __future__ import annotations

import csv
import math
import random
from collections.abc import Mapping
from pathlib import Path
from typing import Final

from dispatch.demo.errors import OutcodesNotFound
from dispatch.demo.types import Outcode

OUTCODES_FILE: Final = "london_outcodes.csv"

#: Where the centroid file is looked for, in order: the copy shipped inside the ``routing``
#: package (a sibling of ``dispatch`` both in a checkout and in site-packages), then the
#: project's shared data folder.
OUTCODE_PATHS: Final[tuple[Path, ...]] = (
    Path(__file__).resolve().parents[2] / "routing" / "data" / OUTCODES_FILE,
    Path("/work/shared/data") / OUTCODES_FILE,
)

#: Residents per district, in thousands (a weight, not a census figure).
DISTRICT_WEIGHTS: Final[Mapping[str, int]] = {
    # Hammersmith & Fulham
    "W12": 55, "W6": 40, "W14": 35, "SW6": 70,
    # Kensington & Chelsea
    "W10": 30, "W11": 30, "W8": 30, "SW5": 15, "SW7": 12, "SW3": 20, "SW10": 19,
    # Westminster
    "W9": 35, "NW8": 25, "W2": 45,
    "W1H": 10, "W1U": 8, "W1G": 5, "W1K": 5, "W1J": 5, "W1W": 6, "W1F": 4, "W1D": 3,
    "WC2N": 1, "WC2H": 2, "WC2E": 1,
    "SW1P": 15, "SW1V": 22, "SW1W": 8, "SW1X": 6, "SW1E": 4, "SW1H": 2,
}  # fmt: skip

#: (code, name, borough, districts): about ten networks, each a few neighbouring districts.
NETWORK_LAYOUT: Final[tuple[tuple[str, str, str, tuple[str, ...]], ...]] = (
    ("HF-NORTH", "White City & Shepherd's Bush", "Hammersmith & Fulham", ("W12",)),
    ("HF-CENTRAL", "Hammersmith & West Kensington", "Hammersmith & Fulham", ("W6", "W14")),
    ("HF-SOUTH", "Fulham", "Hammersmith & Fulham", ("SW6",)),
    ("KC-NORTH", "North Kensington", "Kensington & Chelsea", ("W10", "W11")),
    ("KC-CENTRAL", "Kensington & Earl's Court", "Kensington & Chelsea", ("W8", "SW5", "SW7")),
    ("KC-SOUTH", "Chelsea", "Kensington & Chelsea", ("SW3", "SW10")),
    ("WM-NORTH", "Maida Vale & St John's Wood", "Westminster", ("W9", "NW8")),
    ("WM-WEST", "Bayswater & Paddington", "Westminster", ("W2",)),
    (
        "WM-CENTRAL",
        "Marylebone & West End",
        "Westminster",
        ("W1H", "W1U", "W1G", "W1K", "W1J", "W1W", "W1F", "W1D", "WC2N", "WC2H", "WC2E"),
    ),
    ("WM-SOUTH", "Pimlico, Victoria & Belgravia", "Westminster",
     ("SW1V", "SW1P", "SW1W", "SW1X", "SW1E", "SW1H")),
)  # fmt: skip

#: A network with at least this many thousand residents runs from two bases, else one.
TWO_BASES_FROM: Final = 55

#: Largest distance of a synthetic address from its district centroid, in metres.
ADDRESS_JITTER_M: Final = 400.0
BASE_JITTER_M: Final = 150.0

METRES_PER_DEGREE_LAT: Final = 111_320.0

# Letters used in the inward code's unit part (Royal Mail never uses C, I, K, M, O, V there).
_UNIT_LETTERS: Final = "ABDEFGHJLNPQRSTUWXYZ"


def outcodes_path() -> Path:
    """The first centroid file that exists (see :data:`OUTCODE_PATHS`).

    Raises
    ------
    OutcodesNotFound
        If none of the known places holds the file.
    """
    for path in OUTCODE_PATHS:
        if path.is_file():
            return path
    tried = ", ".join(str(path) for path in OUTCODE_PATHS)
    raise OutcodesNotFound(f"{OUTCODES_FILE} not found; looked in {tried}")


def load_outcodes(path: Path | None = None) -> dict[str, Outcode]:
    """Read district centroids (``outcode,area,lat,lon,n_postcodes``) keyed by outcode."""
    with (path or outcodes_path()).open(newline="", encoding="utf-8") as handle:
        return {
            row["outcode"]: Outcode(row["outcode"], float(row["lat"]), float(row["lon"]))
            for row in csv.DictReader(handle)
        }


def district_centroids(outcodes: Mapping[str, Outcode]) -> dict[str, Outcode]:
    """The centroids of every district in :data:`DISTRICT_WEIGHTS`.

    Raises
    ------
    OutcodesNotFound
        If the file lacks one of our districts (a truncated or wrong file).
    """
    missing = sorted(set(DISTRICT_WEIGHTS) - set(outcodes))
    if missing:
        raise OutcodesNotFound(f"{OUTCODES_FILE} lacks districts: {', '.join(missing)}")
    return {code: outcodes[code] for code in DISTRICT_WEIGHTS}


def network_weight(districts: tuple[str, ...]) -> int:
    """Residents (thousands) of a network: the sum of its districts' weights."""
    return sum(DISTRICT_WEIGHTS[d] for d in districts)


def jitter(rng: random.Random, lat: float, lon: float, radius_m: float) -> tuple[float, float]:
    """A point uniformly inside a disc of ``radius_m`` around ``(lat, lon)``, 5 decimals.

    Why uniform in the disc (sqrt of the radius draw): addresses should not bunch at the
    centroid, or every travel time inside a district would be near zero.
    """
    distance = radius_m * math.sqrt(rng.random())
    bearing = rng.random() * 2.0 * math.pi
    dlat = distance * math.cos(bearing) / METRES_PER_DEGREE_LAT
    dlon = distance * math.sin(bearing) / (METRES_PER_DEGREE_LAT * math.cos(math.radians(lat)))
    return round(lat + dlat, 5), round(lon + dlon, 5)


def synthetic_postcode(rng: random.Random, district: str) -> str:
    """A full-looking postcode in ``district``: sector digit and two unit letters."""
    sector = rng.randrange(10)
    unit = rng.choice(_UNIT_LETTERS) + rng.choice(_UNIT_LETTERS)
    return f"{district} {sector}{unit}"
