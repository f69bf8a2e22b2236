"""Run stac-api-validator offline.

stac-api-validator checks every Item and Collection it fetches against the
STAC JSON schemas, which stac-validator downloads from schemas.stacspec.org
(and GeoJSON's from geojson.org). Machines without internet access cannot
reach them, so this wrapper points those URLs at the copies of the same
schemas that pystac ships (STAC 1.1.0 core, GeoJSON Feature and Geometry),
then runs the validator's command line unchanged:

    python offline_stac_api_validator.py --root-url http://127.0.0.1:8080 \
        --conformance core --conformance features ...

Schemas of STAC extensions (and PROJJSON, which datacube refers to) come
from the copies arco-catalog vendors (crates/catalog/schemas/); one not
vendored there is fetched as usual (and fails offline).
"""

import json
import os
import re
import sys

import pystac
import pystac.validation.stac_validator as pystac_validator
import stac_validator.utilities as utilities

SCHEMAS = os.path.join(os.path.dirname(pystac.__file__), "validation", "jsonschemas")
VENDORED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "catalog", "schemas")
EXTENSIONS = os.path.join(VENDORED, "extensions")
PROJJSON = re.compile(r"https://proj\.org/schemas/v([^/]+)/projjson\.schema\.json$")
EXTENSION_URL = re.compile(r"https://stac-extensions\.github\.io/([^/]+)/v([^/]+)/schema\.json$")
_original = utilities._map_extension_url_to_local


def _local(url: str) -> str:
    name = url.rsplit("/", 1)[-1]
    if url.startswith("https://schemas.stacspec.org/v1.1.0/"):
        path = os.path.join(SCHEMAS, "stac-spec", "v1.1.0", name)
        if os.path.exists(path):
            return path
    if url.startswith("https://geojson.org/schema/"):
        path = os.path.join(SCHEMAS, "geojson", name)
        if os.path.exists(path):
            return path
    m = EXTENSION_URL.match(url)
    if m:
        path = os.path.join(EXTENSIONS, f"{m.group(1)}-v{m.group(2)}.json")
        if os.path.exists(path):
            return os.path.normpath(path)
    m = PROJJSON.match(url)
    if m:
        path = os.path.join(VENDORED, "proj", f"projjson-v{m.group(1)}.json")
        if os.path.exists(path):
            return os.path.normpath(path)
    return _original(url)


utilities._map_extension_url_to_local = _local

# pystac (the validator's last check) keeps its own schema cache: add the
# vendored extension and PROJJSON schemas to it under their canonical URLs.
_original_cache = pystac_validator.get_local_schema_cache


def _cache():
    cache = _original_cache()
    if os.path.isdir(EXTENSIONS):
        for f in os.listdir(EXTENSIONS):
            m = re.match(r"(.+)-v(\d.*)\.json$", f)
            if m:
                with open(os.path.join(EXTENSIONS, f)) as fh:
                    cache[f"https://stac-extensions.github.io/{m.group(1)}/v{m.group(2)}/schema.json"] = json.load(fh)
    proj = os.path.join(VENDORED, "proj")
    if os.path.isdir(proj):
        for f in os.listdir(proj):
            m = re.match(r"projjson-v(.+)\.json$", f)
            if m:
                with open(os.path.join(proj, f)) as fh:
                    cache[f"https://proj.org/schemas/v{m.group(1)}/projjson.schema.json"] = json.load(fh)
    return cache


pystac_validator.get_local_schema_cache = _cache

if __name__ == "__main__":
    from stac_api_validator.__main__ import main

    sys.exit(main(prog_name="stac-api-validator"))
