"""pyproj's answers for the arco-crs interop judge (tests/pyproj_judge.rs).

Reads JSON from stdin:
    {"cases": [{"name": str,
                "attrs": {CF grid-mapping attributes} | null,
                "epsg": int | null,
                "our_wkt": str | null,          # arco's WKT2 for the CRS
                "lonlat": [[lon, lat], ...],    # points to project
                "xy": [[x, y], ...]}]}          # points to unproject
and writes JSON to stdout, one object per case:
    {"name", "forward": [[x, y]], "inverse": [[lon, lat]],
     "our_wkt_forward": [[x, y]] | null, "our_wkt_error": str | null,
     "wkt2": str, "wkt1": str | null, "proj4": str | null}
Non-finite results (PROJ's "no answer") come back as null.

The CRS is pyproj.CRS.from_cf(attrs) (or CRS.from_epsg(epsg)); points go
between it and its own base geographic CRS (no datum shift), always in
(x, y) / (lon, lat) order.
"""

import json
import math
import sys
import warnings

from pyproj import CRS, Transformer


def finite(pairs):
    return [
        [a, b] if math.isfinite(a) and math.isfinite(b) else None for a, b in pairs
    ]


def base_of(crs):
    src = crs.source_crs
    return src if src is not None else crs.geodetic_crs


def run(crs, points, inverse=False):
    geo = base_of(crs)
    t = (
        Transformer.from_crs(crs, geo, always_xy=True)
        if inverse
        else Transformer.from_crs(geo, crs, always_xy=True)
    )
    if not points:
        return []
    xs, ys = zip(*points)
    out_x, out_y = t.transform(list(xs), list(ys), errcheck=False)
    return finite(zip(out_x, out_y))


def main():
    request = json.load(sys.stdin)
    results = []
    for case in request["cases"]:
        if case.get("attrs") is not None:
            crs = CRS.from_cf(case["attrs"])
        else:
            crs = CRS.from_epsg(case["epsg"])
        res = {
            "name": case["name"],
            "forward": run(crs, case["lonlat"]),
            "inverse": run(crs, case["xy"], inverse=True),
            "our_wkt_forward": None,
            "our_wkt_error": None,
            "wkt2": crs.to_wkt(),
            "wkt1": None,
            "proj4": None,
        }
        if case.get("our_wkt"):
            try:
                ours = CRS.from_wkt(case["our_wkt"])
                res["our_wkt_forward"] = run(ours, case["lonlat"])
            except Exception as e:  # report, the Rust side fails the test
                res["our_wkt_error"] = f"{type(e).__name__}: {e}"
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                res["wkt1"] = crs.to_wkt("WKT1_GDAL")
            except Exception:
                pass
            try:
                res["proj4"] = crs.to_proj4()
            except Exception:
                pass
        results.append(res)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
