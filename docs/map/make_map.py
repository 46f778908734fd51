"""Make ``dispatch/static/map/london.geojson``: the 33 London boroughs and the tidal Thames.

Source: ``londonBoroughs.json`` in the npm package ``vega-datasets`` (3.2.1): the ONS/GLA
"Statistical GIS Boundary Files for London" (``London_Borough_Excluding_MHW``), simplified,
under the Open Government Licence v3.0 (see ``dispatch/static/map/README.md``). Run::

    npm pack vega-datasets@3.2.1 && tar xzf vega-datasets-3.2.1.tgz
    pip install 'shapely>=2'
    python docs/map/make_map.py package/data/londonBoroughs.json dispatch/static/map/london.geojson

Each borough is a polygon with its ``name`` and a ``label`` point (its centroid when that
lies inside it, else a point inside it), largest borough first (the order labels are placed
in). The boundaries exclude the land below mean high water, so the tidal Thames (Teddington
to Erith, with Bow Creek and Barking Creek) is the gap between the boroughs: closing the
boroughs' union by ``CLOSE_METRES`` and taking the union away leaves it; the largest piece is
kept. Coordinates are rounded to 4 decimals (~10 m). Not run by the service or the tests.
"""

from __future__ import annotations

import json
import math
import sys
from typing import Any

from shapely import affinity  # type: ignore[import-not-found]
from shapely.geometry import MultiPolygon, Polygon, mapping  # type: ignore[import-not-found]
from shapely.ops import unary_union  # type: ignore[import-not-found]

VERSION = "vega-datasets 3.2.1 (npm), data/londonBoroughs.json"
ATTRIBUTION = ("Contains National Statistics data © Crown copyright and database right 2015; "
               "contains Ordnance Survey data © Crown copyright and database right 2015")
LICENCE = "Open Government Licence v3.0"
# Wider than half the Thames's gap anywhere in the data, far narrower than any borough.
CLOSE_METRES = 650.0
METRES_PER_DEGREE = 111_320.0
LAT0 = 51.5  # x is scaled by cos(LAT0) so that buffers are round on the ground


def decode(topology: dict[str, Any]) -> dict[str, list[list[list[tuple[float, float]]]]]:
    """TopoJSON (quantised, delta-encoded arcs) to each borough's polygons' rings."""
    (sx, sy), (tx, ty) = topology["transform"]["scale"], topology["transform"]["translate"]
    arcs = []
    for arc in topology["arcs"]:
        x = y = 0
        points = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            points.append((x * sx + tx, y * sy + ty))
        arcs.append(points)

    def ring(indexes: list[int]) -> list[tuple[float, float]]:
        points: list[tuple[float, float]] = []
        for i in indexes:
            arc = arcs[i] if i >= 0 else arcs[~i][::-1]
            points.extend(arc if not points else arc[1:])
        return points

    boroughs = {}
    for geometry in topology["objects"]["boroughs"]["geometries"]:
        polygons = [geometry["arcs"]] if geometry["type"] == "Polygon" else geometry["arcs"]
        boroughs[geometry["id"]] = [[ring(r) for r in polygon] for polygon in polygons]
    return boroughs


def rounded(geometry: Polygon | MultiPolygon) -> dict[str, Any]:
    """GeoJSON geometry with coordinates rounded to 4 decimals."""
    def fix(value: Any) -> Any:
        if isinstance(value, (list, tuple)) and value and isinstance(value[0], float):
            return [round(value[0], 4), round(value[1], 4)]
        return [fix(v) for v in value]

    shape = mapping(geometry)
    return {"type": shape["type"], "coordinates": fix(shape["coordinates"])}


def thames(union: Polygon | MultiPolygon) -> Polygon:
    """The largest gap inside the boroughs' union closed by CLOSE_METRES."""
    k = math.cos(math.radians(LAT0))
    flat = affinity.scale(union, xfact=k, yfact=1.0, origin=(0, 0))
    d = CLOSE_METRES / METRES_PER_DEGREE
    closed = flat.buffer(d, join_style="mitre").buffer(-d, join_style="mitre")
    gaps = closed.difference(flat)
    largest = max(getattr(gaps, "geoms", [gaps]), key=lambda g: g.area)
    return affinity.scale(largest, xfact=1 / k, yfact=1.0, origin=(0, 0))


def main(source: str, target: str) -> None:
    """Read the TopoJSON at ``source``, write the GeoJSON to ``target``."""
    with open(source, encoding="utf-8") as handle:
        boroughs = decode(json.load(handle))
    shapes = {name: unary_union([Polygon(p[0], p[1:]).buffer(0) for p in polygons])
              for name, polygons in boroughs.items()}
    features = []
    for name, shape in sorted(shapes.items(), key=lambda item: -item[1].area):
        centre = shape.centroid if shape.contains(shape.centroid) else shape.representative_point()
        features.append({"type": "Feature", "geometry": rounded(shape), "properties": {
            "kind": "borough", "name": name,
            "label": [round(centre.x, 4), round(centre.y, 4)]}})
    river = thames(unary_union(list(shapes.values())))
    features.append({"type": "Feature", "geometry": rounded(river.simplify(0.0001)),
                     "properties": {"kind": "water", "name": "River Thames"}})
    document = {
        "type": "FeatureCollection",
        "name": "Greater London: the 33 boroughs (excluding the land below mean high water) "
                "and the tidal Thames between them",
        "attribution": ATTRIBUTION, "licence": LICENCE,
        "source": f"Statistical GIS Boundary Files for London (London Datastore, ONS/GLA), "
                  f"London_Borough_Excluding_MHW, as simplified in {VERSION}; the Thames is "
                  f"the gap between the boroughs; coordinates rounded to 4 decimals",
        "features": features,
    }
    with open(target, "w", encoding="utf-8") as handle:
        json.dump(document, handle, separators=(",", ":"), ensure_ascii=False)
        handle.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
