"""The status page: one self-contained HTML document (no external assets) that polls /api/cameras.

Tiles are built with textContent only (camera ids and errors are never parsed as HTML). Every refresh
reloads the thumbnails of the tiles on screen, one request per tile at a time; each tile records in
``data-picture`` the size of the picture it shows ("none" until one loads), which the browser test reads.
URLs are relative, so the page also works behind a path prefix (kubectl proxy, an ingress).
"""

from __future__ import annotations

import base64
import hashlib

REFRESH_MS = 2000

SCRIPT = """
"use strict";
const REFRESH_MS = __REFRESH_MS__;
const tiles = new Map();
const onScreen = new Set();
const watcher = "IntersectionObserver" in window ? new IntersectionObserver(entries => {
  for (const entry of entries) {
    const id = entry.target.dataset.camera;
    if (entry.isIntersecting) onScreen.add(id); else onScreen.delete(id);
  }
}) : null;

function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}
function ms(value) { return value === null || value === undefined ? "-" : value.toFixed(1) + " ms"; }

function makeTile(id) {
  const tile = element("section", "tile");
  tile.dataset.camera = id;
  tile.dataset.picture = "none";
  const picture = element("div", "picture");
  const img = element("img");
  img.alt = "latest picture of " + id;
  img.hidden = true;
  const placeholder = element("span", "", "no picture yet");
  picture.append(img, placeholder);
  img.addEventListener("load", () => {
    img.hidden = false; placeholder.hidden = true; tile.dataset.loading = "";
    tile.dataset.picture = img.naturalWidth + "x" + img.naturalHeight;
  });
  img.addEventListener("error", () => { tile.dataset.loading = ""; });
  const body = element("div", "body");
  const title = element("div", "title");
  title.append(element("span", "name", id), element("span", "state"));
  const figures = element("dl");
  const fields = {};
  for (const [key, label] of [["fps", "fps"], ["p50", "p50"], ["p99", "p99"], ["drops", "drops"],
                              ["resets", "resets"], ["frames", "frames"], ["behind", "behind"], ["where", "where"]]) {
    fields[key] = element("dd");
    figures.append(element("dt", "", label), fields[key]);
  }
  const error = element("div", "error");
  body.append(title, figures, error);
  tile.append(picture, body);
  document.getElementById("tiles").append(tile);
  if (watcher) watcher.observe(tile); else onScreen.add(id);
  const entry = {tile, img, placeholder, fields, error, state: title.lastChild};
  tiles.set(id, entry);
  return entry;
}

function refreshPicture(id, entry, force) {
  if (entry.tile.dataset.loading === "1" || !(force || onScreen.has(id))) return;
  entry.tile.dataset.loading = "1";
  entry.img.src = "cameras/" + encodeURIComponent(id) + "/latest.jpg?width=320&t=" + Date.now();
}

function update(camera) {
  const entry = tiles.get(camera.camera_id) || makeTile(camera.camera_id);
  const first = entry.tile.dataset.picture === "none";
  entry.tile.className = "tile " + camera.state;
  entry.state.textContent = camera.state.replace("_", " ");
  entry.fields.fps.textContent = camera.fps.toFixed(1);
  entry.fields.p50.textContent = ms(camera.latency_p50_ms);
  entry.fields.p99.textContent = ms(camera.latency_p99_ms);
  entry.fields.drops.textContent = camera.frames_dropped;
  entry.fields.resets.textContent = camera.connection_resets;
  entry.fields.frames.textContent = camera.frames_delivered;
  entry.fields.behind.textContent = camera.millis_behind_now === null ? "-" : camera.millis_behind_now + " ms";
  entry.fields.where.textContent = camera.where || "-";
  entry.error.textContent = camera.error || (camera.delivering ? "" : (camera.why || ""));
  refreshPicture(camera.camera_id, entry, first);
}

async function refresh() {
  try {
    const response = await fetch("api/cameras", {cache: "no-store"});
    if (!response.ok) throw new Error("api/cameras: HTTP " + response.status);
    const data = await response.json();
    const seen = new Set();
    for (const camera of data.cameras) { update(camera); seen.add(camera.camera_id); }
    for (const [id, entry] of tiles) {
      if (seen.has(id)) continue;
      if (watcher) watcher.unobserve(entry.tile);
      entry.tile.remove(); tiles.delete(id); onScreen.delete(id);
    }
    const delivering = data.cameras.filter(camera => camera.delivering).length;
    const summary = document.getElementById("summary");
    summary.className = "";
    summary.textContent = data.cameras.length + " cameras, " + delivering + " delivering";
    document.getElementById("updated").textContent = "updated " + new Date(data.time_ms).toLocaleTimeString();
  } catch (error) {
    const summary = document.getElementById("summary");
    summary.className = "lost";
    summary.textContent = "cannot reach the server (" + error.message + "); retrying";
  }
}

refresh();
setInterval(refresh, REFRESH_MS);
""".replace("__REFRESH_MS__", str(REFRESH_MS))
# The Content-Security-Policy allows this one script by its hash: nothing else can run on the page.
SCRIPT_SHA256 = base64.b64encode(hashlib.sha256(SCRIPT.encode()).digest()).decode()

STATUS_PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>kvs-parser cameras</title>
<style>
  body { font: 14px system-ui, sans-serif; margin: 0; background: #f3f4f6; color: #111827; }
  header { display: flex; gap: 1.5em; align-items: baseline; padding: .8em 1.2em;
           background: #111827; color: #f9fafb; }
  header h1 { font-size: 1.1em; margin: 0; }
  header .lost { color: #fca5a5; }
  main { display: grid; grid-template-columns: repeat(auto-fill, minmax(280px, 1fr)); gap: 1em; padding: 1em; }
  .tile { background: #fff; border-radius: 6px; box-shadow: 0 1px 3px #0002; overflow: hidden;
          border-top: 4px solid #9ca3af; }
  .tile.running { border-top-color: #16a34a; } .tile.starting, .tile.pending { border-top-color: #d97706; }
  .tile.failed, .tile.not_answering { border-top-color: #dc2626; } .tile.ended { border-top-color: #6b7280; }
  .picture { aspect-ratio: 16 / 9; background: #1f2937; display: flex; align-items: center; justify-content: center; }
  .picture img { width: 100%; height: 100%; object-fit: contain; }
  .picture span { color: #9ca3af; }
  .body { padding: .6em .8em; }
  .title { display: flex; justify-content: space-between; font-weight: 600; gap: .5em; }
  .state { font-size: .8em; text-transform: uppercase; color: #374151; }
  dl { display: grid; grid-template-columns: auto 1fr auto 1fr; gap: .15em .6em; margin: .5em 0 0; font-size: .9em; }
  dt { color: #6b7280; } dd { margin: 0; font-variant-numeric: tabular-nums; }
  .error { margin-top: .5em; color: #b91c1c; font-size: .9em; overflow-wrap: anywhere; }
</style>
</head>
<body>
<header><h1>kvs-parser</h1><span id="summary">loading&hellip;</span><span id="updated"></span></header>
<noscript><p>This page needs JavaScript; the same data is at <a href="api/cameras">api/cameras</a>.</p></noscript>
<main id="tiles"></main>
<script>""" + SCRIPT + """</script>
</body>
</html>
"""
