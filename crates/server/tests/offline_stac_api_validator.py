"""Run stac-api-validator offline.

stac-api-validator checks every Item and Collection it fetches against the
STAC JSON schemas, which stac-validator downloads from schemas.stacspec.org
(and GeoJSON's from geojson.org). Machines without internet access cannot
reach them, so this wrapper points those URLs at the copies of the same
schemas that pystac ships (STAC 1.1.0 core, GeoJSON Feature and Geometry),
then runs the validator's command line unchanged:

    python offline_stac_api_validator.py --root-url http://127.0.0.1:8080 \
        --conformance core --conformance features ...

Schemas of STAC extensions are not bundled: catalogs checked this way should
declare no stac_extensions.
"""

import os
import sys

import pystac
import stac_validator.utilities as utilities

SCHEMAS = os.path.join(os.path.dirname(pystac.__file__), "validation", "jsonschemas")
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
    return _original(url)


utilities._map_extension_url_to_local = _local

if __name__ == "__main__":
    from stac_api_validator.__main__ import main

    sys.exit(main(prog_name="stac-api-validator"))
