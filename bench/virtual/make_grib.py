#!/usr/bin/env python3
"""make_grib.py — the GRIB2 input of bench/virtual case (d), written by ecCodes.

    .peers-venv/bin/python bench/virtual/make_grib.py OUT.grib2 NSTEPS

10 parameters on the 500 hPa level (t u v q r z w vo d pv) × NSTEPS forecast
steps (0, 3, 6, ... hours) on a 0.5° global regular lat/lon grid (720 × 361),
simple packing with 16 bits per value: 10 × NSTEPS messages. Run as its own
process (bench/virtual/run.py does) because it uses the eccodes wheel's
ecCodes (FINDLIBS_DISABLE_PACKAGE=no, as tests/data/fixtures/make_grib_fixtures.py
does) and must keep pyproj out of the process.
"""

from __future__ import annotations

import os
import sys

os.environ["FINDLIBS_DISABLE_PACKAGE"] = "no"

import eccodes  # noqa: E402
import numpy as np  # noqa: E402

PARAMS = ["t", "u", "v", "q", "r", "z", "w", "vo", "d", "pv"]
NI, NJ, D = 720, 361, 0.5


def main() -> int:
    out, nsteps = sys.argv[1], int(sys.argv[2])
    j, i = np.mgrid[0:NJ, 0:NI]
    base = np.sin(i / NI * 6.283) * np.cos(j / NJ * 3.1416)
    rng = np.random.default_rng(0)
    noise = rng.normal(0, 0.01, (NJ, NI))
    tmp = out + ".tmp"
    with open(tmp, "wb") as f:
        for p, name in enumerate(PARAMS):
            h = eccodes.codes_grib_new_from_samples("regular_ll_pl_grib2")
            for k, v in [("Ni", NI), ("Nj", NJ),
                         ("iDirectionIncrementInDegrees", D), ("jDirectionIncrementInDegrees", D),
                         ("latitudeOfFirstGridPointInDegrees", 90.0),
                         ("latitudeOfLastGridPointInDegrees", -90.0),
                         ("longitudeOfFirstGridPointInDegrees", 0.0),
                         ("longitudeOfLastGridPointInDegrees", 359.5),
                         ("typeOfLevel", "isobaricInHPa"), ("level", 500),
                         ("dataDate", 20240101), ("dataTime", 0),
                         ("shortName", name), ("bitsPerValue", 16)]:
                eccodes.codes_set(h, k, v)
            for s in range(nsteps):
                eccodes.codes_set(h, "step", 3 * s)
                vals = 100.0 * (p + 1) + 10.0 * base * np.cos(s / 7.0) + noise
                eccodes.codes_set_values(h, vals.ravel())
                eccodes.codes_write(h, f)
            eccodes.codes_release(h)
    os.replace(tmp, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
