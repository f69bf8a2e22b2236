"""Write packing_cases.jsonl: xarray's mask-and-scale results for random
variables, for arco's cf tests.

Run with xarray 2026.9.0 and numpy 2.4.6:
    python make_packing_cases.py > packing_cases.jsonl
Each line: {"dtype", "attrs": [[name, dtype, values] | [name, "text", text]],
"values", "out_dtype", "out"}; floating point numbers are written as the hex of
their IEEE bits (float32 or float64 as the dtype says), integers as numbers.
"""
import json
import random
import warnings

import numpy as np
import xarray as xr

warnings.simplefilter("ignore")
rng = random.Random(31337)
INTS = ["i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8"]
FLOATS = ["f4", "f8"]


def enc(x, dt):
    dt = np.dtype(dt)
    if dt.kind == "f":
        return np.array(x, dtype=dt).view(f"u{dt.itemsize}").item().__format__("x")
    return int(x)


def rand_value(dt):
    dt = np.dtype(dt)
    if dt.kind == "f":
        return rng.choice([rng.uniform(-1e6, 1e6), float(rng.randint(-300, 300)), 1e20, -9999.0, np.nan])
    info = np.iinfo(dt)
    return rng.choice([rng.randint(int(info.min), int(info.max)), rng.randint(-3, 300) if info.min < 0 else rng.randint(0, 300),
                       int(info.max), int(info.min), int(info.max) - 1])


def case():
    dtype = rng.choice(INTS + FLOATS)
    values = [rand_value(dtype) for _ in range(rng.randint(1, 8))]
    arr = np.array(values).astype(dtype) if np.dtype(dtype).kind == "f" else np.array([np.array(v).astype(dtype) for v in values], dtype=dtype)
    attrs = {}
    rec = []
    if rng.random() < 0.6:
        fdt = dtype if rng.random() < 0.8 else rng.choice(INTS + FLOATS)
        fv = rng.choice(list(arr)) if rng.random() < 0.7 else rand_value(fdt)
        fv = np.array(fv).astype(fdt)
        attrs["_FillValue"] = fv[()]
        rec.append(["_FillValue", fdt, [enc(fv, fdt)]])
    if rng.random() < 0.3:
        mdt = dtype if rng.random() < 0.6 else rng.choice(INTS + FLOATS)
        mv = np.array([rand_value(mdt) if rng.random() < 0.5 else rng.choice(list(arr)) for _ in range(rng.randint(1, 2))]).astype(mdt)
        attrs["missing_value"] = mv if len(mv) > 1 else mv[0]
        rec.append(["missing_value", mdt, [enc(x, mdt) for x in mv]])
    for name in ["scale_factor", "add_offset"]:
        if rng.random() < 0.45:
            sdt = rng.choice(["f4", "f8", "f8", "f4", "i2"])
            sv = np.array(rng.choice([0.01, 0.5, 2.0, 273.15, -1.5, 1e-3, 3.0])).astype(sdt)
            attrs[name] = sv[()]
            rec.append([name, sdt, [enc(sv, sdt)]])
    if rng.random() < 0.2:
        u = rng.choice(["true", "false"])
        attrs["_Unsigned"] = u
        rec.append(["_Unsigned", "text", u])
    ds = xr.Dataset({"v": ("x", arr, attrs)})
    out = xr.decode_cf(ds)["v"].values
    return {
        "dtype": dtype,
        "attrs": rec,
        "values": [enc(x, dtype) for x in arr],
        "out_dtype": out.dtype.name,
        "out": [enc(x, out.dtype) for x in out],
    }


lines = []
while len(lines) < 800:
    try:
        lines.append(json.dumps(case()))
    except Exception:
        continue
print("\n".join(lines))
