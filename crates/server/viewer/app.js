// arco viewer: a map of a dataset's tiles with dimension sliders, a colormap
// and range, a colour bar, and the time series at a clicked point.
//
// Plain ES module, no build step. It talks to the arco server it was loaded
// from (the server root is the folder above this file, so a path prefix in
// front of /viewer works too):
//   GET /datasets                                  collections and variables
//   GET /collections/{id}/info?variable=V          grid, bounds, dimensions
//   GET /collections/{id}/tiles/WebMercatorQuad/{z}/{x}/{y}.png|.npy?...
//   GET /colorMaps, /colorMaps/{name}              colormap names, RGBA tables
//   GET /collections/{id}/timeseries?variable=V&lon=&lat=&sel=...
// The state lives in the address: #id=ID&variable=V&t=3&cmap=viridis&range=250,310
// (t is the index along "time"; any other dimension is NAME=index).

const assetUrl = (path) => new URL(path, import.meta.url).href;
const ROOT = new URL("../", import.meta.url);
const TMS = "WebMercatorQuad";
const MAX_LAT = 85.0511287798066;
const RESERVED_KEYS = new Set(["id", "variable", "t", "cmap", "range"]);

const $ = (sel) => document.querySelector(sel);
const el = (tag, props = {}, ...children) => {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
};

// ---------------------------------------------------------------- loading

function loadCss(path) {
  return new Promise((resolve, reject) => {
    const link = el("link", { rel: "stylesheet", href: assetUrl(path) });
    link.onload = resolve;
    link.onerror = () => reject(new Error(`could not load ${link.href}`));
    document.head.append(link);
  });
}

function loadScript(path) {
  return new Promise((resolve, reject) => {
    const script = el("script", { src: assetUrl(path) });
    script.onload = resolve;
    script.onerror = () => reject(new Error(`could not load ${script.src}`));
    document.head.append(script);
  });
}

/** A URL under the server root with repeated query parameters ([key, value] pairs). */
function apiUrl(path, params = []) {
  const url = new URL(path, ROOT);
  for (const [k, v] of params) url.searchParams.append(k, v);
  return url.href;
}

/** GET JSON; a 4xx/5xx becomes an Error carrying the server's `description`. */
async function getJson(url, what) {
  let response;
  try {
    response = await fetch(url, { headers: { Accept: "application/json" } });
  } catch (e) {
    throw new Error(`${what}: the server did not answer (${e.message}).`);
  }
  if (!response.ok) throw new Error(`${what}: ${await describeFailure(response)}`);
  return response.json();
}

async function describeFailure(response) {
  let detail = response.statusText;
  try {
    const body = await response.json();
    detail = body.description || body.message || JSON.stringify(body);
  } catch {
    // not JSON: keep the status text
  }
  return `${response.status} ${detail}`;
}

// ---------------------------------------------------------------- errors

const errorBox = $("#error");
function showError(message) {
  errorBox.hidden = false;
  errorBox.textContent = message;
}
function clearError() {
  errorBox.hidden = true;
  errorBox.textContent = "";
}

// ---------------------------------------------------------------- formatting

function fmt(v) {
  if (v === null || v === undefined || Number.isNaN(v)) return "—";
  const a = Math.abs(v);
  if (a !== 0 && (a >= 1e6 || a < 1e-3)) return v.toExponential(3);
  return String(Number(v.toPrecision(5)));
}

function dimLabel(dim, value) {
  if (dim.kind === "time" && typeof value === "string") {
    return value.replace("T", " ").replace(/:00(\.0+)?Z$/, " UTC").replace(/Z$/, " UTC");
  }
  const text = typeof value === "number" ? fmt(value) : String(value);
  // CF's "1" (dimensionless) and "… since …" are not worth showing.
  const units = dim.units && dim.units !== "1" && !/ since /.test(dim.units) ? dim.units : "";
  return units && dim.kind !== "index" ? `${text} ${units}` : text;
}

/** [lo, hi] widened to 4 significant digits of the larger end (9297.0039, 16296.003 -> 9290, 16300). */
function niceRange([lo, hi]) {
  const big = Math.max(Math.abs(lo), Math.abs(hi));
  if (!(big > 0)) return lo === hi ? [lo - 1, hi + 1] : [lo, hi];
  const step = 10 ** (Math.floor(Math.log10(big)) - 3);
  const round = (x) => Number(x.toPrecision(12));
  const out = [round(Math.floor(lo / step + 1e-9) * step), round(Math.ceil(hi / step - 1e-9) * step)];
  return out[0] === out[1] ? [out[0] - step, out[1] + step].map(round) : out;
}

function dimKey(name) {
  if (name === "time") return "t";
  return RESERVED_KEYS.has(name) ? `dim.${name}` : name;
}

// ---------------------------------------------------------------- state

const state = {
  datasets: [],
  colormaps: [],
  id: null,
  variable: null,
  info: null,
  idx: {}, // dimension name -> index
  cmap: "viridis",
  range: null, // [min, max] or null (then no rescale)
  point: null, // L.LatLng of the plotted series
};

function parseHash() {
  const p = new URLSearchParams(location.hash.replace(/^#/, ""));
  const range = (p.get("range") || "").split(",").map(Number);
  return {
    id: p.get("id"),
    variable: p.get("variable"),
    cmap: p.get("cmap"),
    range: range.length === 2 && range.every(Number.isFinite) && range[0] !== range[1] ? range : null,
    params: p,
  };
}

function writeHash() {
  const parts = [];
  const put = (k, v) => parts.push(`${encodeURIComponent(k)}=${encodeURIComponent(v).replace(/%2C/gi, ",")}`);
  if (state.id) put("id", state.id);
  if (state.variable) put("variable", state.variable);
  for (const dim of extraDims()) put(dimKey(dim.name), state.idx[dim.name] ?? 0);
  if (state.cmap) put("cmap", state.cmap);
  if (state.range) put("range", `${state.range[0]},${state.range[1]}`);
  const hash = `#${parts.join("&")}`;
  if (location.hash !== hash) history.replaceState(null, "", hash);
}

/** The non-horizontal dimensions of the current variable, each with values. */
function extraDims() {
  return (state.info?.dimensions || []).filter((d) => Array.isArray(d.values) && d.values.length > 0);
}

function seriesDim() {
  const dims = extraDims();
  return dims.find((d) => d.kind === "time") || dims.find((d) => d.name === "time") || dims[0] || null;
}

function selParams(exceptName = null) {
  const out = [];
  for (const dim of extraDims()) {
    if (dim.name === exceptName) continue;
    out.push(["sel", `${dim.name}=${dim.values[state.idx[dim.name] ?? 0]}`]);
  }
  return out;
}

// ---------------------------------------------------------------- map

let map;
let boundsOutline = null;
let dataLayers = []; // oldest first; the newest is the current view
let reportedTileError = null;
let marker = null;

function mapBounds(b) {
  // EPSG:4326 [w, s, e, n] -> Leaflet bounds within -180..180, ±85.05.
  let [w, s, e, n] = b;
  if (e - w >= 359 || (w < 180 && e > 180)) {
    w = -180;
    e = 180;
  } else if (w >= 180) {
    w -= 360;
    e -= 360;
  }
  s = Math.max(s, -MAX_LAT);
  n = Math.min(n, MAX_LAT);
  return L.latLngBounds([s, w], [n, e]);
}

const Graticule = () =>
  L.GridLayer.extend({
    createTile(coords) {
      const size = this.getTileSize();
      const tile = el("canvas", { width: size.x, height: size.y });
      const ctx = tile.getContext("2d");
      const z = coords.z;
      const steps = [45, 30, 20, 10, 5, 5, 2, 1, 1, 0.5, 0.25, 0.1, 0.05];
      const step = steps[Math.min(z, steps.length - 1)];
      const x0 = coords.x * size.x;
      const y0 = coords.y * size.y;
      const nw = this._map.unproject([x0, y0], z);
      const se = this._map.unproject([x0 + size.x, y0 + size.y], z);
      ctx.strokeStyle = "rgba(40, 55, 70, 0.30)";
      ctx.lineWidth = 1;
      ctx.beginPath();
      for (let lon = Math.ceil(nw.lng / step) * step; lon <= se.lng; lon += step) {
        const x = Math.round(this._map.project([0, lon], z).x - x0) + 0.5;
        ctx.moveTo(x, 0);
        ctx.lineTo(x, size.y);
      }
      for (let lat = Math.ceil(se.lat / step) * step; lat <= nw.lat; lat += step) {
        const y = Math.round(this._map.project([lat, 0], z).y - y0) + 0.5;
        ctx.moveTo(0, y);
        ctx.lineTo(size.x, y);
      }
      ctx.stroke();
      return tile;
    },
  });

function createMap() {
  map = L.map("map", { worldCopyJump: true, minZoom: 0, maxZoom: 14, zoomSnap: 0.5 });
  map.attributionControl.setPrefix(false);
  map.createPane("graticule");
  map.getPane("graticule").style.zIndex = 450;
  map.getPane("graticule").style.pointerEvents = "none";
  new (Graticule())({ pane: "graticule", tileSize: 256 }).addTo(map);
  L.control.scale({ imperial: false }).addTo(map);
  const Position = L.Control.extend({
    onAdd() {
      const box = L.DomUtil.create("div", "leaflet-control-attribution");
      box.textContent = "lon —, lat —";
      map.on("mousemove", (e) => {
        const ll = e.latlng.wrap();
        box.textContent = `lon ${ll.lng.toFixed(3)}°, lat ${ll.lat.toFixed(3)}°`;
      });
      return box;
    },
  });
  new Position({ position: "bottomleft" }).addTo(map);
  map.setView([20, 0], 1);
  map.on("click", (e) => plotPoint(e.latlng));
}

function tileUrl(format = "png") {
  const params = [["variable", state.variable], ...selParams()];
  if (state.range) params.push(["rescale", `${state.range[0]},${state.range[1]}`]);
  if (state.cmap) params.push(["colormap_name", state.cmap]);
  // Not through apiUrl: it would percent-encode the braces of the template.
  const path = `collections/${encodeURIComponent(state.id)}/tiles/${TMS}/{z}/{x}/{y}.${format}`;
  return `${ROOT.href}${path}?${new URLSearchParams(params)}`;
}

function updateTiles() {
  if (!state.info) return;
  writeHash();
  drawLegend();
  const url = tileUrl();
  const current = dataLayers[dataLayers.length - 1];
  if (current && current._url === url) return;
  const info = state.info;
  const mapEl = $("#map");
  const layer = L.tileLayer(url, {
    bounds: mapBounds(info.bounds),
    minZoom: 0,
    // Real tiles down to 4 zooms past the grid's own resolution (cells >= 16 px,
    // so nearest-neighbour cell edges sit within 1/16 of a cell), then scaled up.
    maxNativeZoom: Number.isFinite(info.maxzoom) ? Math.min(info.maxzoom + 4, 22) : 18,
    maxZoom: 22,
    className: "arco-data",
    tileSize: 256,
    keepBuffer: 1,
    attribution: `${state.id} · ${state.variable}`,
  });
  mapEl.dataset.tiles = "loading";
  layer.on("load", () => {
    // Keep the previous view until this one has loaded (no blank flash), then drop it.
    const i = dataLayers.indexOf(layer);
    if (i < 0) return;
    for (const old of dataLayers.splice(0, i)) map.removeLayer(old);
    if (dataLayers[dataLayers.length - 1] === layer) mapEl.dataset.tiles = "loaded";
  });
  layer.on("tileerror", (e) => {
    if (reportedTileError === url) return;
    reportedTileError = url;
    explainTileError(e.tile.src);
  });
  layer.addTo(map);
  dataLayers.push(layer);
}

async function explainTileError(src) {
  try {
    const response = await fetch(src);
    if (!response.ok) showError(`Tiles: ${await describeFailure(response)}`);
  } catch (e) {
    showError(`Tiles: the server did not answer (${e.message}).`);
  }
}

// ---------------------------------------------------------------- legend

const colormapCache = new Map();

async function colormapTable(name) {
  if (!colormapCache.has(name)) {
    colormapCache.set(
      name,
      getJson(apiUrl(`colorMaps/${encodeURIComponent(name)}`), `Colormap ${name}`).then((doc) => {
        // titiler's form {"0": [r, g, b, a], ...}, or a list of [r, g, b, a].
        const entries = Array.isArray(doc) ? doc.map((c, i) => [i, c]) : Object.entries(doc).map(([k, c]) => [Number(k), c]);
        return entries.filter(([k, c]) => Number.isFinite(k) && Array.isArray(c)).sort((a, b) => a[0] - b[0]).map(([, c]) => c);
      }).catch((e) => {
        colormapCache.delete(name); // try again next time
        throw e;
      }),
    );
  }
  return colormapCache.get(name);
}

async function drawLegend() {
  const canvas = $("#colorbar");
  const ctx = canvas.getContext("2d");
  const units = state.info?.units || "";
  $("#tick-min").textContent = state.range ? fmt(state.range[0]) : "";
  $("#tick-mid").textContent = state.range ? fmt((state.range[0] + state.range[1]) / 2) : "";
  $("#tick-max").textContent = state.range ? fmt(state.range[1]) : "";
  $("#legend-units").textContent = state.range ? units : "No range set: the server's default scaling is used.";
  const name = state.cmap;
  let table;
  try {
    table = await colormapTable(name);
  } catch (e) {
    showError(e.message);
    return;
  }
  if (name !== state.cmap || table.length === 0) return;
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  for (let x = 0; x < canvas.width; x++) {
    const c = table[Math.round((x / (canvas.width - 1)) * (table.length - 1))];
    ctx.fillStyle = `rgba(${c[0]}, ${c[1]}, ${c[2]}, ${(c[3] ?? 255) / 255})`;
    ctx.fillRect(x, 0, 1, canvas.height);
  }
}

// ---------------------------------------------------------------- range from the data

/** Parse a .npy (v1-3, little-endian or byte data) into {shape, data}. */
function parseNpy(buffer) {
  const bytes = new Uint8Array(buffer);
  const magic = String.fromCharCode(...bytes.slice(1, 6));
  if (bytes[0] !== 0x93 || magic !== "NUMPY") throw new Error("not a .npy file");
  const view = new DataView(buffer);
  const major = bytes[6];
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.slice(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const shape = (/'shape':\s*\(([^)]*)\)/.exec(header)?.[1] || "").split(",").map((s) => s.trim()).filter(Boolean).map(Number);
  const offset = start + headerLen;
  const types = {
    "<f4": Float32Array, "<f8": Float64Array, "|u1": Uint8Array, "|i1": Int8Array,
    "<u2": Uint16Array, "<i2": Int16Array, "<u4": Uint32Array, "<i4": Int32Array,
  };
  const Type = types[descr];
  if (!Type) throw new Error(`unsupported .npy dtype ${descr}`);
  const count = shape.reduce((a, b) => a * b, 1);
  const data = new Type(buffer.slice(offset, offset + count * Type.BYTES_PER_ELEMENT));
  return { shape, data };
}

/** Set min/max from the 2nd and 98th percentiles of the current slice (a low-zoom .npy tile). */
async function fitRange() {
  const info = state.info;
  if (!info) return;
  const z = Math.max(0, Number.isFinite(info.minzoom) ? info.minzoom : 0);
  const bounds = mapBounds(info.bounds);
  const c = bounds.getCenter();
  const n = 2 ** z;
  const x = Math.min(n - 1, Math.floor(((c.lng + 180) / 360) * n));
  const latRad = (c.lat * Math.PI) / 180;
  const y = Math.min(n - 1, Math.floor(((1 - Math.log(Math.tan(latRad) + 1 / Math.cos(latRad)) / Math.PI) / 2) * n));
  const url = tileUrl("npy").replace("{z}", z).replace("{x}", x).replace("{y}", y);
  let response;
  try {
    response = await fetch(url);
  } catch (e) {
    showError(`Range: the server did not answer (${e.message}).`);
    return;
  }
  if (!response.ok) {
    showError(`Range from the data: ${await describeFailure(response)}`);
    return;
  }
  const { shape, data } = parseNpy(await response.arrayBuffer());
  const plane = shape.length === 3 ? shape[1] * shape[2] : data.length;
  const bands = shape.length === 3 ? shape[0] : 1;
  const mask = bands > 1 ? data.subarray((bands - 1) * plane) : null;
  const values = [];
  for (let i = 0; i < plane; i++) {
    if (mask && !mask[i]) continue;
    if (Number.isFinite(data[i])) values.push(data[i]);
  }
  if (values.length === 0) {
    showError("Range from the data: the overview tile has no valid values here; type min and max by hand.");
    return;
  }
  values.sort((a, b) => a - b);
  const q = (p) => values[Math.min(values.length - 1, Math.floor(p * (values.length - 1)))];
  let lo = q(0.02);
  let hi = q(0.98);
  if (lo === hi) {
    lo = values[0];
    hi = values[values.length - 1];
  }
  if (lo === hi) hi = lo + 1;
  setRange([Number(lo.toPrecision(4)), Number(hi.toPrecision(4))]);
}

function setRange(range) {
  state.range = range;
  $("#vmin").value = range ? range[0] : "";
  $("#vmax").value = range ? range[1] : "";
  updateTiles();
}

// ---------------------------------------------------------------- controls

function fillSelect(select, options, value) {
  select.replaceChildren(...options.map(([v, text]) => el("option", { value: v, textContent: text })));
  if (value !== undefined && options.some(([v]) => v === value)) select.value = value;
  select.disabled = options.length === 0;
}

function mapVariables(id) {
  const ds = state.datasets.find((d) => d.id === id);
  return (ds?.variables || []).filter((v) => v.map);
}

function buildDimensionControls() {
  const box = $("#dims");
  box.replaceChildren();
  const dims = extraDims();
  for (const dim of dims) {
    const size = dim.values.length;
    const idx = Math.min(Math.max(0, state.idx[dim.name] ?? 0), size - 1);
    state.idx[dim.name] = idx;
    const slider = el("input", { type: "range", min: 0, max: size - 1, step: 1, value: idx, disabled: size < 2 });
    slider.setAttribute("aria-label", dim.name);
    const out = el("output");
    const count = el("span", { className: "muted" });
    const show = () => {
      const i = Number(slider.value);
      out.textContent = dimLabel(dim, dim.values[i]);
      count.textContent = ` ${i + 1}/${size}`;
    };
    let timer = null;
    const commit = () => {
      clearTimeout(timer);
      const i = Number(slider.value);
      if (state.idx[dim.name] === i) return;
      state.idx[dim.name] = i;
      updateTiles();
      if (dim === seriesDim()) chart?.redraw(false, false);
      else if (state.point) plotPoint(state.point);
    };
    slider.addEventListener("input", () => {
      show();
      clearTimeout(timer);
      timer = setTimeout(commit, 150);
    });
    slider.addEventListener("change", commit);
    const step = (d) => () => {
      slider.value = Math.min(size - 1, Math.max(0, Number(slider.value) + d));
      show();
      commit();
    };
    const prev = el("button", { type: "button", textContent: "‹", title: `previous ${dim.name}`, disabled: size < 2 });
    const next = el("button", { type: "button", textContent: "›", title: `next ${dim.name}`, disabled: size < 2 });
    prev.addEventListener("click", step(-1));
    next.addEventListener("click", step(1));
    const label = el("label", { textContent: dim.name });
    const row = el("div", { className: "dim-row" }, prev, slider, next);
    if (dim === seriesDim() && size > 1) {
      // Play: step along this dimension, each step once the previous tiles have loaded.
      const play = el("button", { type: "button", textContent: "▶", title: `play through ${dim.name}` });
      let playing = null;
      const stop = () => {
        clearInterval(playing);
        playing = null;
        play.textContent = "▶";
      };
      play.addEventListener("click", () => {
        if (playing) return stop();
        play.textContent = "❚❚";
        playing = setInterval(() => {
          if (!document.body.contains(play)) return stop();
          if ($("#map").dataset.tiles !== "loaded") return;
          slider.value = (Number(slider.value) + 1) % size;
          show();
          commit();
        }, 1000);
      });
      row.append(play);
    }
    box.append(el("div", { className: "dim", id: `dim-${dim.name}` }, label, row, el("div", {}, out, count)));
    show();
  }
  box.hidden = dims.length === 0;
}

async function selectCollection(id, wanted = {}) {
  state.id = id;
  const vars = mapVariables(id);
  fillSelect($("#variable"), vars.map((v) => [v.name, v.long_name && v.long_name !== v.name ? `${v.name} — ${v.long_name}` : v.name]), wanted.variable);
  const variable = vars.some((v) => v.name === wanted.variable) ? wanted.variable : vars[0]?.name;
  if (!variable) {
    showError(`Collection ${id} has no variable on a horizontal grid to map.`);
    return;
  }
  await selectVariable(variable, wanted);
}

async function selectVariable(variable, wanted = {}) {
  const previous = state.info;
  state.variable = variable;
  let info;
  try {
    info = await getJson(apiUrl(`collections/${encodeURIComponent(state.id)}/info`, [["variable", variable]]), `Variable ${variable} of ${state.id}`);
  } catch (e) {
    state.info = null;
    showError(e.message);
    return;
  }
  if (state.variable !== variable) return; // a later choice won
  clearError();
  state.info = info;
  const p = wanted.params;
  state.idx = {};
  for (const dim of extraDims()) {
    const fromHash = p ? Number.parseInt(p.get(dimKey(dim.name)) ?? "", 10) : NaN;
    state.idx[dim.name] = Number.isFinite(fromHash) ? fromHash : 0;
  }
  buildDimensionControls();
  const units = info.units ? ` [${info.units}]` : "";
  const shape = (info.dims || []).map((d, i) => `${d}=${info.shape?.[i] ?? "?"}`).join(", ");
  $("#var-info").textContent = `${info.long_name || info.variable}${units} · ${info.dtype || ""} · ${shape}`;
  const sameBounds = previous && JSON.stringify(previous.bounds) === JSON.stringify(info.bounds);
  if (!sameBounds) {
    const b = mapBounds(info.bounds);
    map.fitBounds(b, { padding: [10, 10] });
    if (boundsOutline) map.removeLayer(boundsOutline);
    boundsOutline = L.rectangle(b, { color: "#1f6feb", weight: 1, fill: false, dashArray: "4 3", interactive: false }).addTo(map);
  }
  clearSeries();
  const validRange = Array.isArray(info.valid_range) && info.valid_range.every(Number.isFinite) ? niceRange(info.valid_range) : null;
  const range = wanted.range || validRange;
  if (range) {
    setRange(range);
  } else {
    setRange(null);
    fitRange();
  }
}

// ---------------------------------------------------------------- time series

let chart = null;

function clearSeries() {
  state.point = null;
  if (marker) map.removeLayer(marker);
  marker = null;
  chart?.destroy();
  chart = null;
  const box = $("#chart");
  box.replaceChildren();
  delete box.dataset.points;
  delete box.dataset.state;
  $("#chart-title").textContent = "Click the map to plot the series at that point.";
  $("#chart-close").hidden = true;
}

async function plotPoint(latlng) {
  if (!state.info) return;
  const ll = latlng.wrap();
  state.point = ll;
  if (!marker) marker = L.circleMarker(ll, { radius: 6, color: "#fff", weight: 2, fillColor: "#d62728", fillOpacity: 1 }).addTo(map);
  marker.setLatLng(ll);
  const along = seriesDim();
  const params = [["variable", state.variable], ["lon", ll.lng.toFixed(5)], ["lat", ll.lat.toFixed(5)], ...selParams(along?.name)];
  const box = $("#chart");
  box.dataset.state = "loading";
  $("#chart-title").textContent = `Loading the series at ${ll.lng.toFixed(3)}°, ${ll.lat.toFixed(3)}°…`;
  $("#chart-close").hidden = false;
  let ts;
  try {
    ts = await getJson(apiUrl(`collections/${encodeURIComponent(state.id)}/timeseries`, params), "Time series");
  } catch (e) {
    chart?.destroy();
    chart = null;
    box.replaceChildren();
    delete box.dataset.points;
    box.dataset.state = "error";
    $("#chart-title").textContent = `No series at ${ll.lng.toFixed(3)}°, ${ll.lat.toFixed(3)}° (see the message on the left).`;
    showError(e.message);
    return;
  }
  if (state.point !== ll) return; // a later click won
  clearError();
  drawSeries(ts, along);
}

function drawSeries(ts, along) {
  const labels = ts.index || [];
  const values = (ts.values || []).map((v) => (v === null || v === undefined || Number.isNaN(v) ? null : v));
  const isTime = labels.length > 0 && labels.every((l) => typeof l === "string" && !Number.isNaN(Date.parse(l)));
  const xs = labels.map((l, i) => (isTime ? Date.parse(l) / 1000 : typeof l === "number" ? l : i));
  const order = xs.map((_, i) => i).sort((a, b) => xs[a] - xs[b]);
  const data = [order.map((i) => xs[i]), order.map((i) => values[i])];
  const units = ts.units || state.info?.units || "";
  const name = state.info?.long_name || state.variable;
  const where = ts.grid && Number.isFinite(ts.grid.lon)
    ? `${fmt(ts.lon)}°, ${fmt(ts.lat)}° (grid ${fmt(ts.grid.lon)}°, ${fmt(ts.grid.lat)}°)`
    : `${fmt(ts.lon ?? state.point.lng)}°, ${fmt(ts.lat ?? state.point.lat)}°`;
  const fixed = selParams(along?.name).map(([, s]) => s).join(", ");
  $("#chart-title").textContent = `${name} at ${where}${fixed ? ` · ${fixed}` : ""}`;
  const box = $("#chart");
  chart?.destroy();
  box.replaceChildren();
  if (data[0].length === 1) {
    // One value (no time axis, or a single step): say it rather than plot a dot.
    const at = labels[0] === null || labels[0] === undefined ? "" : ` at ${along ? dimLabel(along, labels[0]) : labels[0]}`;
    box.append(el("div", { className: "single-value" }, el("strong", { textContent: `${fmt(data[1][0])}${units ? " " + units : ""}` }), `${at}`));
    box.dataset.points = "1";
    box.dataset.state = "drawn";
    return;
  }
  const size = () => ({ width: Math.max(200, box.clientWidth), height: Math.max(120, box.clientHeight) });
  const dimName = ts.dimension || along?.name || "index";
  const opts = {
    ...size(),
    legend: { show: true, live: true },
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: isTime } },
    // Labels are UTC (ISO "…Z"): show them in UTC, not the browser's zone.
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    series: [
      { label: dimName, value: (u, v) => (v == null ? "—" : isTime ? new Date(v * 1000).toISOString().replace("T", " ").replace(/:00\.000Z$/, " UTC") : fmt(v)) },
      {
        label: units ? `${state.variable} [${units}]` : state.variable,
        stroke: "#1f6feb",
        width: 1.5,
        spanGaps: false,
        points: { show: data[0].length <= 200, size: 5, fill: "#1f6feb" },
        value: (u, v) => (v == null ? "—" : `${fmt(v)}${units ? " " + units : ""}`),
      },
    ],
    axes: [{ label: dimName, labelSize: 18 }, { label: units || state.variable, labelSize: 18, size: 60 }],
    hooks: {
      draw: [
        (u) => {
          // The slice shown on the map: a vertical line at its position.
          const dim = seriesDim();
          if (!dim || dim.name !== along?.name) return;
          const i = state.idx[dim.name] ?? 0;
          if (i >= xs.length) return;
          const x = u.valToPos(xs[i], "x", true);
          const ctx = u.ctx;
          ctx.save();
          ctx.strokeStyle = "rgba(214, 39, 40, 0.7)";
          ctx.setLineDash([4, 3]);
          ctx.lineWidth = 1;
          ctx.beginPath();
          ctx.moveTo(x, u.bbox.top);
          ctx.lineTo(x, u.bbox.top + u.bbox.height);
          ctx.stroke();
          ctx.restore();
        },
      ],
    },
  };
  // uPlot's legend sits under the plot: leave it room.
  opts.height = Math.max(100, opts.height - 30);
  chart = new uPlot(opts, data, box);
  box.dataset.points = String(data[0].length);
  box.dataset.state = "drawn";
}

// ---------------------------------------------------------------- start

function wireControls() {
  $("#collection").addEventListener("change", (e) => selectCollection(e.target.value, { cmap: state.cmap }));
  $("#variable").addEventListener("change", (e) => selectVariable(e.target.value));
  $("#cmap").addEventListener("change", (e) => {
    state.cmap = e.target.value;
    updateTiles();
  });
  const rangeChanged = () => {
    const lo = Number.parseFloat($("#vmin").value);
    const hi = Number.parseFloat($("#vmax").value);
    if (Number.isFinite(lo) && Number.isFinite(hi) && lo !== hi) {
      clearError();
      setRange([lo, hi]);
    } else if ($("#vmin").value === "" && $("#vmax").value === "") {
      setRange(null);
    } else {
      showError("Range: type two different numbers for min and max (min > max reverses the colormap).");
    }
  };
  $("#vmin").addEventListener("change", rangeChanged);
  $("#vmax").addEventListener("change", rangeChanged);
  $("#fit").addEventListener("click", () => fitRange());
  $("#chart-close").addEventListener("click", clearSeries);
  new ResizeObserver(() => {
    const box = $("#chart");
    if (chart) chart.setSize({ width: Math.max(200, box.clientWidth), height: Math.max(100, box.clientHeight - 30) });
  }).observe($("#chart"));
  window.addEventListener("hashchange", () => applyHash());
}

async function applyHash() {
  const wanted = parseHash();
  if (wanted.cmap && state.colormaps.includes(wanted.cmap)) {
    state.cmap = wanted.cmap;
    $("#cmap").value = wanted.cmap;
  }
  const withMaps = state.datasets.filter((d) => mapVariables(d.id).length > 0);
  const id = withMaps.some((d) => d.id === wanted.id) ? wanted.id : withMaps[0]?.id;
  if (wanted.id && id !== wanted.id) showError(`There is no collection "${wanted.id}" with a map variable here; showing ${id}.`);
  if (!id) return;
  $("#collection").value = id;
  if (id === state.id && wanted.variable === state.variable && state.info) {
    // Same variable: only the slices, colormap or range changed.
    for (const dim of extraDims()) {
      const i = Number.parseInt(wanted.params.get(dimKey(dim.name)) ?? "", 10);
      if (Number.isFinite(i)) state.idx[dim.name] = i;
    }
    buildDimensionControls();
    if (wanted.range) setRange(wanted.range);
    else updateTiles();
    return;
  }
  if (id !== state.id) await selectCollection(id, wanted);
  else {
    $("#variable").value = wanted.variable;
    await selectVariable(mapVariables(id).some((v) => v.name === wanted.variable) ? wanted.variable : mapVariables(id)[0]?.name, wanted);
  }
}

async function start() {
  await Promise.all([
    loadCss("style.css"),
    loadCss("vendor/leaflet.css"),
    loadCss("vendor/uPlot.min.css"),
    loadScript("vendor/leaflet.js"),
    loadScript("vendor/uPlot.iife.min.js"),
  ]);
  createMap();
  wireControls();
  const [datasets, colormaps] = await Promise.all([
    getJson(apiUrl("datasets"), "Datasets"),
    getJson(apiUrl("colorMaps"), "Colormaps").catch((e) => {
      showError(e.message);
      return [];
    }),
  ]);
  const names = Array.isArray(colormaps) ? colormaps : colormaps.colorMaps || colormaps.colormaps || [];
  state.colormaps = [...names].sort((a, b) => a.endsWith("_r") - b.endsWith("_r") || a.localeCompare(b));
  if (!state.colormaps.includes(state.cmap)) state.cmap = state.colormaps[0] || null;
  fillSelect($("#cmap"), state.colormaps.map((n) => [n, n]), state.cmap);
  state.datasets = datasets.datasets || [];
  const withMaps = state.datasets.filter((d) => mapVariables(d.id).length > 0);
  fillSelect($("#collection"), withMaps.map((d) => [d.id, d.title && d.title !== d.id ? `${d.title} (${d.id})` : d.id]));
  if (withMaps.length === 0) {
    showError("No dataset served here has a variable on a horizontal grid to map.");
    document.body.dataset.ready = "true";
    return;
  }
  await applyHash();
  document.body.dataset.ready = "true";
}

window.arcoViewer = { state };
start().catch((e) => {
  showError(`The viewer could not start: ${e.message}`);
  document.body.dataset.ready = "true";
});
