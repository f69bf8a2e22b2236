#!/usr/bin/env bash
# vendor.sh — refresh the viewer's third-party web libraries in vendor/.
#
# The viewer must work offline (no CDN), so the libraries it uses are copied
# from their npm packages, at exact versions, into vendor/ and committed:
#   - Leaflet (BSD-2-Clause): the map          -> vendor/leaflet.js, leaflet.css, images/
#   - uPlot   (MIT):          the time-series chart -> vendor/uPlot.iife.min.js, uPlot.min.css
# with each package's LICENSE beside them (LICENSE-leaflet.txt, LICENSE-uplot.txt).
#
# To update a library: change its version below, run this script
# (`bash crates/server/viewer/vendor.sh`), check the page (scripts/viewer_check.sh),
# and update the list of assets in crates/server/src/viewer.rs if file names
# changed (its unit tests fail until every file here is listed).
# Needs npm and a reachable npm registry; nothing else.
set -euo pipefail
LEAFLET_VERSION=1.9.4
UPLOT_VERSION=1.6.32

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
OUT=$HERE/vendor
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

cd "$TMP"
npm pack --silent "leaflet@$LEAFLET_VERSION" "uplot@$UPLOT_VERSION" > /dev/null
mkdir leaflet uplot
tar xzf "leaflet-$LEAFLET_VERSION.tgz" -C leaflet
tar xzf "uplot-$UPLOT_VERSION.tgz" -C uplot

rm -rf "$OUT"
mkdir -p "$OUT/images"
cp leaflet/package/dist/leaflet.js leaflet/package/dist/leaflet.css "$OUT/"
cp leaflet/package/dist/images/*.png "$OUT/images/"
cp leaflet/package/LICENSE "$OUT/LICENSE-leaflet.txt"
cp uplot/package/dist/uPlot.iife.min.js uplot/package/dist/uPlot.min.css "$OUT/"
cp uplot/package/LICENSE "$OUT/LICENSE-uplot.txt"
# The source-map comment would make browser dev tools ask for a file we do
# not ship; drop that one line (the library code is unchanged).
sed -i '/^\/\/# sourceMappingURL=/d' "$OUT/leaflet.js"

echo "vendored leaflet $LEAFLET_VERSION and uplot $UPLOT_VERSION into $OUT:"
(cd "$OUT" && find . -type f | sort | xargs ls -l | awk '{print "  " $5 "\t" $9}')
