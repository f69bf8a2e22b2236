// viewer_check.mjs — arco's map viewer (/viewer) in headless Chromium.
//
// Usage: node tests/browser/viewer_check.mjs SERVER_URL OUT_DIR
// (scripts/viewer_check.sh starts `arco serve` and calls this.)
//
// Checks, in order; the first failure exits non-zero with a message saying
// what was expected and what was seen (screenshots are in OUT_DIR):
//   1. /viewer loads with no JS error, every request stays on the server
//      (no CDN, no tile servers), the pickers are filled, and the map tiles
//      load; the map area is not blank (colours counted in a screenshot).
//   2. The pickers switch to a variable with a time axis (found through
//      /datasets and /info); tile URLs carry variable, sel= for every extra
//      dimension, rescale and colormap_name; one slider per dimension.
//   3. Moving the time slider changes every tile URL to the new time label,
//      the new tiles load and the map's pixels change; the address keeps t=.
//   4. A click on the map draws the time series: one point per time step, a
//      non-blank chart canvas with the series colour, a marker on the map.
//   5. Another colormap reloads the tiles and redraws the colour bar.
//   6. Opening the page's own address in a new tab reproduces the view.
//   7. After switching to a regional dataset, a click outside its grid gets a
//      4xx JSON answer whose description is shown in the page.
import { chromium } from "playwright-core";
import { mkdtempSync, mkdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";

const [serverArg, outDir] = process.argv.slice(2);
if (!serverArg || !outDir) {
  console.error("usage: node tests/browser/viewer_check.mjs SERVER_URL OUT_DIR");
  process.exit(2);
}
const server = serverArg.endsWith("/") ? serverArg : `${serverArg}/`;
const origin = new URL(server).origin;
mkdirSync(outDir, { recursive: true });
const WAIT = { timeout: 120_000 };
const BACKGROUND = [0xe8, 0xed, 0xf2]; // #map background in style.css

class CheckFailed extends Error {}
function check(cond, message) {
  if (!cond) throw new CheckFailed(message);
}
function ok(message) {
  console.log(`   ok: ${message}`);
}

// ---------------------------------------------------------------- PNG decoding (8-bit RGB/RGBA, what Chromium writes)

function decodePng(buf) {
  check(buf.readUInt32BE(0) === 0x89504e47, "screenshot is not a PNG");
  let pos = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat = [];
  while (pos < buf.length) {
    const len = buf.readUInt32BE(pos);
    const type = buf.toString("ascii", pos + 4, pos + 8);
    const data = buf.subarray(pos + 8, pos + 8 + len);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      check(data[8] === 8 && data[12] === 0, `unsupported PNG (bit depth ${data[8]}, interlace ${data[12]})`);
      colorType = data[9];
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    pos += 12 + len;
  }
  const channels = { 2: 3, 6: 4 }[colorType];
  check(channels, `unsupported PNG colour type ${colorType}`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const out = Buffer.alloc(width * height * 4);
  let prev = Buffer.alloc(stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)];
    const line = Buffer.from(raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1)));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? line[i - channels] : 0;
      const b = prev[i];
      const c = i >= channels ? prev[i - channels] : 0;
      let add = 0;
      if (filter === 1) add = a;
      else if (filter === 2) add = b;
      else if (filter === 3) add = (a + b) >> 1;
      else if (filter === 4) {
        const p = a + b - c;
        const pa = Math.abs(p - a);
        const pb = Math.abs(p - b);
        const pc = Math.abs(p - c);
        add = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      line[i] = (line[i] + add) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      const o = (y * width + x) * 4;
      out[o] = line[x * channels];
      out[o + 1] = line[x * channels + 1];
      out[o + 2] = line[x * channels + 2];
      out[o + 3] = channels === 4 ? line[x * channels + 3] : 255;
    }
    prev = line;
  }
  return { width, height, rgba: out };
}

/** Distinct colours and the share of pixels that are not the map background. */
function pixelStats(img) {
  const colours = new Set();
  let painted = 0;
  const n = img.width * img.height;
  for (let i = 0; i < n; i++) {
    const r = img.rgba[i * 4];
    const g = img.rgba[i * 4 + 1];
    const b = img.rgba[i * 4 + 2];
    colours.add((r << 16) | (g << 8) | b);
    if (Math.abs(r - BACKGROUND[0]) + Math.abs(g - BACKGROUND[1]) + Math.abs(b - BACKGROUND[2]) > 12) painted++;
  }
  return { distinct: colours.size, painted: painted / n };
}

function differingShare(a, b) {
  check(a.width === b.width && a.height === b.height, "screenshots of the map differ in size");
  let diff = 0;
  for (let i = 0; i < a.rgba.length; i += 4) {
    if (a.rgba[i] !== b.rgba[i] || a.rgba[i + 1] !== b.rgba[i + 1] || a.rgba[i + 2] !== b.rgba[i + 2]) diff++;
  }
  return diff / (a.width * a.height);
}

// ---------------------------------------------------------------- page helpers

const dataTiles = (page) =>
  page.$$eval("#map .arco-data img.leaflet-tile", (imgs) =>
    imgs.map((img) => ({ src: img.src, loaded: img.complete && img.naturalWidth > 0 })),
  );

async function waitForTiles(page, mustInclude) {
  await page.waitForFunction(
    (needle) => {
      const map = document.querySelector("#map");
      const imgs = [...document.querySelectorAll("#map .arco-data img.leaflet-tile")];
      return (
        map.dataset.tiles === "loaded" &&
        imgs.length > 0 &&
        imgs.every((img) => img.complete && img.naturalWidth > 0 && (!needle || img.src.includes(needle)))
      );
    },
    mustInclude ?? null,
    WAIT,
  );
}

/** Wait until Leaflet's tile fade-in and any zoom animation are over (before a screenshot). */
async function settled(page) {
  await page.waitForFunction(
    () =>
      !document.querySelector("#map.leaflet-zoom-anim") &&
      [...document.querySelectorAll("#map .arco-data img.leaflet-tile")].every((img) => getComputedStyle(img).opacity === "1"),
    null,
    WAIT,
  );
}

async function getJson(url) {
  const response = await fetch(url);
  if (!response.ok) throw new CheckFailed(`GET ${url} answered ${response.status}: ${await response.text()}`);
  return response.json();
}

async function errorText(page) {
  return page.$eval("#error", (box) => (box.hidden ? "" : box.textContent));
}

const hashParams = (page) => page.evaluate(() => Object.fromEntries(new URLSearchParams(location.hash.slice(1))));

async function shot(page, name, locator) {
  const path = join(outDir, name);
  const buf = locator ? await page.locator(locator).screenshot({ path }) : await page.screenshot({ path });
  return buf;
}

// ---------------------------------------------------------------- the check

const profile = mkdtempSync(join(tmpdir(), "arco-viewer-chromium-"));
let context;
let phase = "load";
const consoleErrors = [];
const foreignRequests = [];
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.ARCO_CHROMIUM || "/usr/bin/chromium",
    headless: true,
    viewport: { width: 1280, height: 820 },
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
  const watch = (page) => {
    page.on("console", (msg) => {
      if (msg.type() === "error") consoleErrors.push({ phase, text: msg.text() });
    });
    page.on("pageerror", (err) => consoleErrors.push({ phase, text: `uncaught: ${err.message}` }));
    page.on("request", (req) => {
      const url = req.url();
      if (!url.startsWith(`${origin}/`) && !url.startsWith("data:")) foreignRequests.push(url);
    });
  };
  const page = context.pages()[0] ?? (await context.newPage());
  watch(page);

  console.log(`== 1. ${server}viewer loads and draws its tiles`);
  await page.goto(`${server}viewer`, { waitUntil: "load" });
  await page.waitForSelector("body[data-ready=true]", WAIT);
  const startError = await errorText(page);
  check(!startError, `the page shows an error after loading: ${startError}`);
  const collections = await page.$$eval("#collection option", (os) => os.map((o) => o.value));
  check(collections.length > 0, "the collection picker is empty: /datasets listed no dataset with a map variable");
  check((await page.$$eval("#variable option", (os) => os.length)) > 0, "the variable picker is empty");
  await waitForTiles(page);
  const startHash = await hashParams(page);
  check(startHash.id && startHash.variable, `the address does not name the view: ${page.url()}`);
  ok(`collections ${JSON.stringify(collections)}; ${(await dataTiles(page)).length} tiles loaded for ${startHash.id}/${startHash.variable}`);
  await settled(page);
  const start = pixelStats(decodePng(await shot(page, "01-start.png", "#map")));
  check(start.painted > 0.2, `the map is mostly background: ${(start.painted * 100).toFixed(1)}% painted pixels (want > 20%); see 01-start.png`);
  check(start.distinct > 16, `the map has only ${start.distinct} distinct colours (want > 16); see 01-start.png`);
  ok(`map not blank: ${(start.painted * 100).toFixed(1)}% painted pixels, ${start.distinct} distinct colours`);

  console.log("== 2. the pickers switch to a variable with a time axis; tile URLs carry the view");
  phase = "pickers";
  // What the server offers: a variable with >= 2 time steps (for the slider
  // and the chart) and a regional one (to click outside its grid).
  const offered = [];
  for (const ds of (await getJson(`${server}datasets`)).datasets) {
    for (const v of ds.variables.filter((v) => v.map)) {
      const info = await getJson(`${server}collections/${encodeURIComponent(ds.id)}/info?variable=${encodeURIComponent(v.name)}`);
      offered.push({ id: ds.id, variable: v.name, info });
    }
  }
  const timeOf = (o) => (o.info.dimensions || []).find((d) => d.name === "time" && d.values.length >= 2);
  const target = offered.find(timeOf);
  check(target, `no map variable with >= 2 time steps is served: ${JSON.stringify(offered.map((o) => [o.id, o.variable]))}`);
  const time = timeOf(target);
  const t0 = time.values[0];
  const sel0 = `sel=${encodeURIComponent(`time=${t0}`)}`;
  if (startHash.id !== target.id) await page.selectOption("#collection", target.id);
  await page.waitForFunction((v) => [...document.querySelectorAll("#variable option")].some((o) => o.value === v), target.variable, WAIT);
  if ((await page.$eval("#variable", (s) => s.value)) !== target.variable) await page.selectOption("#variable", target.variable);
  await waitForTiles(page, `/collections/${encodeURIComponent(target.id)}/`);
  await waitForTiles(page, sel0);
  const hash0 = await hashParams(page);
  check(hash0.id === target.id && hash0.variable === target.variable, `the address did not follow the pickers: ${page.url()}`);
  check(hash0.t === "0", `the time slider did not start at the first step: t=${hash0.t}`);
  const tiles0 = await dataTiles(page);
  for (const { src } of tiles0) {
    const q = new URL(src).searchParams;
    check(new URL(src).pathname.includes("/tiles/WebMercatorQuad/"), `tile URL is not a WebMercatorQuad tile: ${src}`);
    check(q.get("variable") === target.variable, `tile URL lacks variable=${target.variable}: ${src}`);
    check(q.getAll("sel").includes(`time=${t0}`), `tile URL lacks sel=time=${t0}: ${src}`);
    check(q.get("colormap_name"), `tile URL lacks colormap_name: ${src}`);
    check(/^-?[\d.e+-]+,-?[\d.e+-]+$/.test(q.get("rescale") || ""), `tile URL lacks rescale=min,max: ${src}`);
  }
  const others = (target.info.dimensions || []).filter((d) => d.name !== "time").map((d) => d.name);
  for (const name of others) {
    check(await page.$(`#dim-${name} input[type=range]`), `no slider for the dimension ${name}`);
    check(new URL(tiles0[0].src).searchParams.getAll("sel").some((s) => s.startsWith(`${name}=`)), `tile URLs lack sel=${name}=…`);
  }
  await settled(page);
  const map0 = decodePng(await shot(page, "02-map.png", "#map"));
  const stats0 = pixelStats(map0);
  check(stats0.painted > 0.2 && stats0.distinct > 16, `the map of ${target.id}/${target.variable} is blank (${(stats0.painted * 100).toFixed(1)}% painted, ${stats0.distinct} colours); see 02-map.png`);
  ok(`${target.id}/${target.variable}: ${tiles0.length} tiles with variable, sel=time=${t0}${others.map((n) => `, sel=${n}=…`).join("")}, rescale=${new URL(tiles0[0].src).searchParams.get("rescale")}, colormap_name; sliders for time${others.map((n) => `, ${n}`).join("")}`);

  console.log("== 3. the time slider changes the tiles");
  phase = "time";
  const ti = Math.min(2, time.values.length - 1);
  const t1 = time.values[ti];
  await page.locator("#dim-time input[type=range]").fill(String(ti));
  const needle = `sel=${encodeURIComponent(`time=${t1}`)}`;
  await waitForTiles(page, needle);
  const tiles1 = await dataTiles(page);
  const old = new Set(tiles0.map((t) => t.src));
  check(tiles1.every((t) => !old.has(t.src)), "some tile URLs did not change with the time slider");
  check(tiles1.every((t) => !t.src.includes(encodeURIComponent(`time=${t0}`))), "tiles of the previous time step are still on the map");
  const label = await page.$eval("#dim-time output", (o) => o.textContent);
  const hash1 = await hashParams(page);
  check(hash1.t === String(ti), `the address has t=${hash1.t}, want t=${ti}`);
  await settled(page);
  const map1 = decodePng(await shot(page, "03-map-time.png", "#map"));
  const changed = differingShare(map0, map1);
  check(changed > 0.01, `the map looks the same after the time step changed (${(changed * 100).toFixed(2)}% pixels differ); see 02-map.png and 03-map-time.png`);
  ok(`time ${t0} -> ${t1} (label "${label}"): ${tiles1.length} new tile URLs loaded, ${(changed * 100).toFixed(1)}% of the map's pixels changed, address t=${ti}`);

  console.log("== 4. a click on the map draws the time series");
  phase = "click";
  const box = await page.locator("#map").boundingBox();
  await page.mouse.click(box.x + box.width * 0.5, box.y + box.height * 0.5);
  await page.waitForSelector("#chart[data-state=drawn], #chart[data-state=error]", WAIT);
  const chartError = await errorText(page);
  check((await page.$eval("#chart", (c) => c.dataset.state)) === "drawn", `the chart was not drawn: ${chartError}`);
  const points = Number(await page.$eval("#chart", (c) => c.dataset.points));
  check(points === time.values.length, `the series has ${points} points, want ${time.values.length} (one per time step)`);
  const canvas = await page.$eval("#chart canvas", (c) => {
    const data = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
    let ink = 0;
    let series = 0;
    for (let i = 0; i < data.length; i += 4) {
      if (data[i + 3] > 0) ink++;
      // the series stroke, #1f6feb
      if (data[i + 3] > 128 && Math.abs(data[i] - 0x1f) < 40 && Math.abs(data[i + 1] - 0x6f) < 40 && Math.abs(data[i + 2] - 0xeb) < 40) series++;
    }
    return { ink, series, width: c.width, height: c.height };
  });
  check(canvas.ink > 500, `the chart canvas is nearly blank (${canvas.ink} painted pixels)`);
  check(canvas.series > 20, `the chart canvas has no series line (${canvas.series} pixels of the series colour)`);
  const markers = await page.$$eval("#map path.leaflet-interactive", (ps) => ps.length);
  check(markers === 1, `want one marker on the map at the clicked point, found ${markers}`);
  const title = await page.$eval("#chart-title", (t) => t.textContent);
  await shot(page, "04-chart.png");
  ok(`${points} points drawn (${canvas.series} series pixels on a ${canvas.width}x${canvas.height} canvas), marker placed; "${title}"`);

  console.log("== 5. another colormap reloads the tiles and the colour bar");
  phase = "colormap";
  const cmaps = await page.$$eval("#cmap option", (os) => os.map((o) => o.value));
  const cmap0 = await page.$eval("#cmap", (s) => s.value);
  const cmap1 = ["magma", "greys", "plasma", ...cmaps].find((c) => c !== cmap0 && cmaps.includes(c));
  check(cmap1, `only one colormap is offered: ${JSON.stringify(cmaps)}`);
  const bar0 = await page.$eval("#colorbar", (c) => c.toDataURL());
  await page.selectOption("#cmap", cmap1);
  await waitForTiles(page, `colormap_name=${cmap1}`);
  await page.waitForFunction((before) => document.querySelector("#colorbar").toDataURL() !== before, bar0, WAIT);
  check((await hashParams(page)).cmap === cmap1, "the address did not keep the colormap");
  ok(`${cmap0} -> ${cmap1}: tiles reloaded, colour bar redrawn`);

  console.log("== 6. the address reproduces the view");
  phase = "link";
  const link = page.url();
  const srcsHere = (await dataTiles(page)).map((t) => t.src).sort();
  const second = await context.newPage();
  watch(second);
  await second.setViewportSize({ width: 1280, height: 820 });
  await second.goto(link, { waitUntil: "load" });
  await second.waitForSelector("body[data-ready=true]", WAIT);
  await waitForTiles(second, `colormap_name=${cmap1}`);
  const srcsThere = (await dataTiles(second)).map((t) => t.src);
  const sliderThere = await second.$eval("#dim-time input[type=range]", (s) => s.value);
  check(sliderThere === String(ti), `the time slider reopened at ${sliderThere}, want ${ti}`);
  check(srcsThere.every((s) => s.includes(needle) && s.includes(`colormap_name=${cmap1}`)), "the reopened page shows other tiles than the link named");
  check(srcsThere.some((s) => srcsHere.includes(s)), "the reopened page shares no tile with the original view");
  await second.close();
  ok(`${link.slice(link.indexOf("#"))} reopens at t=${ti} with ${cmap1}`);

  console.log("== 7. a click outside a regional grid shows the server's error in the page");
  phase = "error";
  const regional = offered.find((o) => o.id !== target.id && Array.isArray(o.info.bounds) && o.info.bounds[2] - o.info.bounds[0] < 300);
  check(regional, `no regional dataset is served (need one besides ${target.id} to click outside its grid)`);
  await page.selectOption("#collection", regional.id);
  await waitForTiles(page, `/collections/${encodeURIComponent(regional.id)}/`);
  check((await hashParams(page)).id === regional.id, "the address did not follow the collection picker");
  // fitBounds leaves >= 10 px of padding: a pixel 4 px inside the map's
  // top-right corner is outside the data (and clear of the map's controls).
  const answer = page.waitForResponse((r) => r.url().includes("/timeseries?"), WAIT);
  await page.mouse.click(box.x + box.width - 4, box.y + 4);
  const response = await answer;
  check(response.status() >= 400 && response.status() < 500, `a point outside ${regional.id}'s grid answered ${response.status()}, want a 4xx`);
  const description = (await response.json()).description;
  check(description, "the 4xx answer has no description");
  await page.waitForSelector("#chart[data-state=error]", WAIT);
  const shown = await errorText(page);
  check(shown.includes(description), `the page does not show the server's error description "${description}"; it shows: "${shown}"`);
  await shot(page, "05-error.png");
  ok(`${regional.id}: ${response.status()} shown: "${shown}"`);

  const unexpected = consoleErrors.filter(
    (e) => !(e.phase === "error" && /status of 4\d\d/.test(e.text)),
  );
  check(unexpected.length === 0, `JavaScript console errors:\n${unexpected.map((e) => `  [${e.phase}] ${e.text}`).join("\n")}`);
  ok("no JavaScript console errors");
  check(foreignRequests.length === 0, `the page asked for resources off the server: ${foreignRequests.join(", ")}`);
  ok(`every request stayed on ${origin}`);
  console.log(`viewer check passed; screenshots in ${outDir}`);
} catch (e) {
  const page = context?.pages()[0];
  if (page) await page.screenshot({ path: join(outDir, "failure.png") }).catch(() => {});
  if (consoleErrors.length) console.error(`console errors so far:\n${consoleErrors.map((c) => `  [${c.phase}] ${c.text}`).join("\n")}`);
  console.error(e instanceof CheckFailed ? `viewer check FAILED (${phase}): ${e.message}` : `viewer check FAILED (${phase}): ${e.stack || e}`);
  process.exitCode = 1;
} finally {
  await context?.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
}
