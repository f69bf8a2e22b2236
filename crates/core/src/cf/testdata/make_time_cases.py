"""Write time_cases.txt: CF time values decoded by xarray, for arco's cf tests.

Run with xarray 2026.9.0, numpy 2.4.6, pandas, cftime 1.6.6:
    python make_time_cases.py > time_cases.txt
Each line: calendar|units|dtype|value|expected ISO date (or NaT).
Each value is decoded alone (a one-element array), as xarray.decode_cf does.
"""
import random
import warnings

import numpy as np
import xarray as xr

warnings.simplefilter("ignore")
rng = random.Random(20240611)

CALENDARS = ["standard", "gregorian", "proleptic_gregorian", "noleap", "365_day",
             "all_leap", "366_day", "360_day", "julian"]
UNITS = ["days", "hours", "minutes", "seconds", "milliseconds", "microseconds"]


def iso(x):
    if isinstance(x, np.datetime64):
        if np.isnat(x):
            return "NaT"
        s = np.datetime_as_string(x, unit="ns")
        date, frac = s.split(".")
        frac = frac.rstrip("0")
        return date + ("." + frac if frac else "")
    y = x.year
    ys = f"-{-y:04d}" if y < 0 else f"{y:04d}"
    s = f"{ys}-{x.month:02d}-{x.day:02d}T{x.hour:02d}:{x.minute:02d}:{x.second:02d}"
    if x.microsecond:
        s += ("." + f"{x.microsecond:06d}").rstrip("0")
    return s


def reference():
    y = rng.choice([rng.randint(1, 3000), rng.randint(1850, 2100), 1970, 1900, 1582])
    m = rng.randint(1, 12)
    d = rng.randint(1, 28)
    style = rng.randint(0, 3)
    if style == 0:
        return f"{y:04d}-{m:02d}-{d:02d}"
    if style == 1:
        return f"{y:04d}-{m:02d}-{d:02d} {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:{rng.randint(0, 59):02d}"
    if style == 2:
        return f"{y}-{m}-{d} {rng.randint(0, 23)}:{rng.randint(0, 59)}:{rng.randint(0, 59)}.{rng.randint(0, 9)}"
    return f"{y:04d}-{m:02d}-{d:02d}T{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}:00Z"


def value(unit, dtype):
    span = {"days": 400_000, "hours": 9_000_000, "minutes": 500_000_000,
            "seconds": 3e10, "milliseconds": 3e13, "microseconds": 3e16}[unit]
    span = rng.choice([span, span / 1000, 10])
    v = rng.uniform(-span, span)
    if dtype == "i8":
        return int(v)
    if dtype == "f4":
        return float(np.float32(v))
    return v if rng.random() < 0.7 else float(round(v))


def main():
    out = []
    while len(out) < 600:
        cal = rng.choice(CALENDARS)
        unit = rng.choice(UNITS)
        units = f"{unit} since {reference()}"
        dtype = rng.choice(["f8", "f8", "i8", "f4"])
        v = value(unit, dtype)
        ds = xr.Dataset({"t": ("x", np.array([v], dtype=dtype), {"units": units, "calendar": cal})})
        try:
            got = xr.decode_cf(ds)["t"].values[0]
        except Exception:
            continue
        out.append(f"{cal}|{units}|{dtype}|{v!r}|{iso(got)}")
    print("\n".join(out))


main()
