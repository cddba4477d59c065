// fast-style's page: a photo through POST /api/stylize, or the webcam through the WebSocket /api/live.
// Every URL is the page's own relative one (api/styles, not /api/styles): behind a reverse proxy that serves it
// under a path (/style/ -> the server), the absolute ones had gone to the proxy's own root.
"use strict";

const $ = (id) => document.getElementById(id);
let maxUpload = 20 * 1024 * 1024;
let maxSize = 2048;  // the longest side of a result: larger photos are scaled down here before they are sent
let maxPixels = 40e6;  // the most pixels an upload may have: more are scaled down here too
const fastOf = {};  // style name -> the name of its fast variant, where it has one

function say(text, info = false) {
  $("message").textContent = text;
  $("message").className = info ? "info" : "";
}

function chosenStyle() {
  const name = $("style").value;
  return $("fast").checked && fastOf[name] ? fastOf[name] : name;
}

function showFastChoice() {
  $("fast-choice").hidden = !fastOf[$("style").value];
}

function options() {
  return {
    style: chosenStyle(),
    strength: parseFloat($("strength").value),
    preserve_color: $("preserve-color").checked,
  };
}

const UNREACHABLE = "Cannot reach the server: is fast-style-serve still running?";

let stylesAsked = 0;  // the readings of the list begun: only the newest one's answer is shown

async function loadStyles(first = true) {
  // again when the page's window is focused, and when the server says it has no such style: a server started
  // again (with other --models, other limits) had been offered the list of the one before until a reload
  const asked = ++stylesAsked;
  try {
    const reply = await fetch("api/styles", { cache: "no-store" });
    const body = await reply.json();
    if (asked !== stylesAsked) return;  // an earlier reading answered late: it put the old server's list back
    maxUpload = body.max_upload_bytes;
    maxSize = body.max_size;
    maxPixels = body.max_pixels;
    const chosen = $("style").value;  // kept chosen where it is still offered
    for (const name of Object.keys(fastOf)) delete fastOf[name];
    const offered = [];
    for (const s of body.styles) {
      if (s.fast) fastOf[s.name] = s.fast;
      if (s.fast_variant_of) continue;  // offered by the "Fast model" box of its style
      const label = s.artist ? `${s.name} (${s.title}, ${s.artist})` : s.name;
      offered.push(new Option(label, s.name, false, s.name === chosen));
    }
    $("style").replaceChildren(...offered);
    showFastChoice();
    if (!body.styles.length) say("This server has no styles.");
    else if ($("message").textContent === UNREACHABLE) say("");  // (it stayed once the server was back)
  } catch (e) {
    if (first && asked === stylesAsked) say(UNREACHABLE);
  }
}
window.addEventListener("focus", () => loadStyles(false));

// ---- photo mode ----
let lastFile = null;
let inFlight = null; // the request under way: a newer choice aborts it (the server then skips it if it still waits)
let askedFor = null;  // the options (JSON) of the result shown, or of the request under way
const urls = {};  // the object URL each image shows, released when it is replaced (each held a whole picture)

function showBlob(id, blob) {
  if (urls[id]) URL.revokeObjectURL(urls[id]);
  urls[id] = blob ? URL.createObjectURL(blob) : null;
  if (blob) $(id).src = urls[id]; else $(id).removeAttribute("src");
  return urls[id];
}

// a photo this browser cannot draw (HEIC in most): said under its empty frame, as the server reads it all the same
$("original").addEventListener("error", () => {
  if ($("original").getAttribute("src")) $("original-caption").textContent = "Photo (this browser cannot show it)";
});
$("original").addEventListener("load", () => { $("original-caption").textContent = "Photo"; });

function showOriginal(file) {  // the photo chosen, or an empty frame (a refused file's: no earlier name left)
  showBlob("original", file);
  $("original").alt = file ? file.name : "";
  $("original-caption").textContent = "Photo";
}

function clearResult() {
  showBlob("result", null);
  $("result").alt = "";
  askedFor = null;
  $("download").hidden = true;
  $("elapsed").textContent = "";
}

function megabytes(bytes) {  // as the server writes its limit (3 significant digits): 0.3 MB, not "0 MB"
  return `${Number((bytes / 1048576).toPrecision(3))} MB`;
}

async function scaledDown(file) {
  // a photo larger than any result (a 48 MP phone photo: refused at 40 MP, or over the upload limit) is sent at
  // the result's size, and within the pixel limit; one within them but over the upload limit (a large PNG under a
  // small --max-upload-mb) as a JPEG, smaller still where that is over it too. One the browser cannot decode (HEIC
  // in most) is sent as it is (`asIs`). `transparent`: whether it is transparent somewhere, so that its result
  // comes back as a PNG with its transparency
  let bitmap = null;
  try {
    bitmap = await createImageBitmap(file);
    // (the pixel limit too: under --max-megapixels 2, a 12 MP photo sent at 2048x1536 was refused as over it)
    const [w, h] = [bitmap.width, bitmap.height];
    let scale = Math.min(1, maxSize / Math.max(w, h), Math.sqrt(maxPixels / (w * h)));
    const canvas = document.createElement("canvas");
    const context = canvas.getContext("2d");
    const draw = () => {
      const round = Math.round(w * scale) * Math.round(h * scale) > maxPixels ? Math.floor : Math.round;
      canvas.width = Math.max(1, round(w * scale));
      canvas.height = Math.max(1, round(h * scale));
      context.imageSmoothingQuality = "high";
      context.drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    };
    draw();
    const pixels = file.type === "image/jpeg" ? null : context.getImageData(0, 0, canvas.width, canvas.height).data;
    let transparent = false;
    for (let i = 3; pixels && i < pixels.length && !transparent; i += 4) transparent = pixels[i] < 255;
    if (scale >= 1 && file.size <= maxUpload) return { upload: file, transparent, asIs: false };
    // JPEG, unless the photo is transparent somewhere (PNG keeps its alpha; for an opaque photo it came out
    // larger than the file it replaced, even over the upload limit)
    const encoded = () => new Promise((done) => canvas.toBlob(done, transparent ? "image/png" : "image/jpeg", 0.95));
    let blob = await encoded();
    // (the file itself only where the server takes it: a flat drawing over the pixel limit, smaller as a PNG than
    // scaled down as a JPEG, had been sent as it was, and refused)
    const takes = file.size <= maxUpload && w * h <= maxPixels;
    if (!blob || (blob.size > file.size && takes)) return { upload: file, transparent, asIs: false };
    // still over the upload limit (a transparent PNG, a photo of fine detail): smaller, until it is within it
    for (let tries = 0; blob && blob.size > maxUpload && tries < 8; tries++) {
      scale *= Math.min(0.9, Math.sqrt(maxUpload / blob.size));
      draw();
      blob = await encoded();
    }
    return { upload: blob || file, transparent, asIs: false };
  } catch (e) {
    return { upload: file, transparent: false, asIs: true };
  } finally {
    if (bitmap) bitmap.close();
  }
}

// what to do with a photo over a limit that this browser cannot scale down (HEIC in most)
const AS_JPEG = " This browser cannot scale this kind of photo down before sending it: save it as a JPEG first.";

function failed(message) {
  clearResult(); // no result of an earlier photo or style left beside the message
  say(message);
}

async function stylizePhoto(file) {
  if (!file) return;
  if (file !== lastFile) clearResult();
  lastFile = file;
  // a newer choice replaces the request under way, even one refused below (its answer had filled the result)
  if (inFlight) { inFlight.abort(); inFlight = null; }
  // a file the browser knows to be no picture (a text, a video) is not sent; the server says of the rest whether it
  // reads it, as fast-style-stylize would (a browser leaves the type of many pictures empty: HEIC, TGA...)
  if (file.type && !file.type.startsWith("image/")) {
    showOriginal(null);
    failed(`${file.name} is not a picture: choose a photo.`);
    return;
  }
  const o = options();
  askedFor = JSON.stringify(o);
  const request = new AbortController();
  inFlight = request;
  showOriginal(file);
  const { upload, transparent, asIs } = await scaledDown(file);
  if (inFlight !== request) return;  // a newer choice came meanwhile
  if (upload.size > maxUpload) {
    inFlight = null;
    showOriginal(null);
    // (one the browser cannot scale down, a HEIC, had been told the limit alone: the page shrinks all others)
    failed(`${file.name} is over this server's upload limit of ${megabytes(maxUpload)}.${asIs ? AS_JPEG : ""}`);
    return;
  }
  const form = new FormData();
  form.append("image", upload, file.name);
  form.append("style", o.style);
  form.append("strength", o.strength);
  form.append("preserve_color", o.preserve_color);
  // a transparent photo's result keeps its transparency; one this browser cannot draw (a TIFF, a HEIC) is left to the
  // server, which answers PNG where it is transparent (its result had come back on white in a JPEG, unsaid)
  if (!asIs) form.append("format", transparent ? "png" : "jpeg");
  say("Stylizing...", true);
  const started = performance.now();
  try {
    const reply = await fetch("api/stylize", { method: "POST", body: form, signal: request.signal });
    if (!reply.ok) {
      let detail = reply.statusText;
      try { detail = (await reply.json()).detail; } catch (e) { /* not JSON */ }
      if (typeof detail !== "string") detail = JSON.stringify(detail);
      if (reply.status === 413 && asIs) {  // not scaled down here: say how to get it accepted
        detail += AS_JPEG;
      }
      failed(detail);  // (503: busy, or stopping, in the server's words)
      if (reply.status === 404) loadStyles(false);  // an unknown style: the server's own list, now
      return;
    }
    const result = await reply.blob();
    const url = showBlob("result", result);
    $("result").alt = `${file.name} stylized as ${o.style}`;
    $("download").href = url;
    $("download").download = file.name.replace(/\.[^.]*$/, "") + `_${o.style}.${result.type === "image/png" ? "png" : "jpg"}`;
    $("download").hidden = false;
    $("elapsed").textContent = `${Math.round(performance.now() - started)} ms`;
    say("");
  } catch (e) {
    if (e.name === "AbortError") return; // replaced by a newer request, which says what happened
    failed(UNREACHABLE);
  } finally {
    if (inFlight === request) inFlight = null;
  }
}

$("file").addEventListener("change", () => {
  const file = $("file").files[0];
  $("file").value = "";  // the same file chosen again (a retry after "busy") is a change too
  stylizePhoto(file);
});
const drop = $("drop");
drop.addEventListener("keydown", (e) => {  // the drop area is the keyboard's way to the file chooser
  if (e.key === "Enter" || e.key === " ") { e.preventDefault(); $("file").click(); }
});
// a photo dropped beside the drop area: the browser had opened it in place of the page
for (const type of ["dragover", "drop"]) document.addEventListener(type, (e) => e.preventDefault());
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  stylizePhoto(e.dataTransfer.files[0]);
});
$("style").addEventListener("change", showFastChoice);

function photoShown() {
  return !$("photo-mode").hidden;
}

function optionsChanged() {  // the photo is stylized again only where it is shown (back in the Photo tab: then)
  if (lastFile && photoShown()) stylizePhoto(lastFile);
  sendOptions();
}
for (const id of ["style", "preserve-color", "fast", "strength"]) $(id).addEventListener("change", optionsChanged);
$("strength").addEventListener("input", () => { $("strength-value").textContent = parseFloat($("strength").value).toFixed(2); });

// ---- live mode: at most two frames in flight (the next one waits at the server while one is stylized, so the
// server never idles for the round trip), so a slow server lowers the frame rate instead of queueing frames ----
const IN_FLIGHT = 2;
let live = null;

function sendOptions() {
  if (!live || live.socket.readyState !== WebSocket.OPEN) return;
  const [w, h] = $("resolution").value.split("x").map(Number);
  live.socket.send(JSON.stringify({ ...options(), max_size: Math.max(w, h) }));
}

let starting = null;  // a camera asked for, not yet given: Stop or leaving the tab meanwhile cancels it

async function startLive() {
  if (live || starting) return;
  if (!navigator.mediaDevices) {  // a page from another machine over plain http: the browser offers no camera
    say("The camera works only on a secure page: open it on this machine (localhost), or serve it over https.");
    return;
  }
  const asked = {};
  starting = asked;
  enableStop(true);  // at once: a second click had opened a second camera that Stop never closed
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: chosenCamera(), audio: false });
  } catch (e) {
    if (starting === asked) {
      starting = null;
      enableStop(false);
      say(`No camera: ${e.message}. Allow camera access for this page, or use the Photo tab.`);
    }
    return;
  }
  if (starting !== asked) {  // stopped, or the tab left, while the browser asked for permission
    stream.getTracks().forEach((t) => t.stop());
    return;
  }
  starting = null;
  const path = new URL("api/live", document.baseURI).pathname;  // (under the page's own path, as its <base> says)
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}${path}`);
  socket.binaryType = "blob";
  const state = { socket, stream, opened: false, frames: 0, dropped: 0, sent: [], times: [] };
  live = state;
  for (const id of ["frames", "dropped"]) $(id).textContent = "0";
  $("fps").textContent = "0.0";
  $("latency").textContent = "-";
  $("camera").srcObject = stream;
  listCameras();  // (their names are known once a camera is allowed)
  const grab = document.createElement("canvas");
  const show = $("live").getContext("2d");

  function next() {
    if (live !== state || socket.readyState !== WebSocket.OPEN) return;
    const video = $("camera");
    if (!video.videoWidth) { setTimeout(next, 50); return; }
    // the camera's own shape (a phone upright: 3:4, a 16:9 webcam), its longer side the resolution's: frames
    // had been stretched to 4:3
    const [w, h] = $("resolution").value.split("x").map(Number);
    const scale = Math.max(w, h) / Math.max(video.videoWidth, video.videoHeight);
    grab.width = Math.max(1, Math.round(video.videoWidth * scale));
    grab.height = Math.max(1, Math.round(video.videoHeight * scale));
    grab.getContext("2d").drawImage(video, 0, 0, grab.width, grab.height);
    grab.toBlob((blob) => {
      if (live !== state || socket.readyState !== WebSocket.OPEN || state.sent.length >= IN_FLIGHT) return;
      state.sent.push(performance.now());
      socket.send(blob);
    }, "image/jpeg", 0.8);
  }

  socket.onopen = () => {  // IN_FLIGHT frames start the loop; each answer then sends one more
    if (live !== state) { socket.close(); return; }
    state.opened = true;
    sendOptions();
    say("", true);
    for (let i = 0; i < IN_FLIGHT; i++) setTimeout(next, 30 * i);
  };
  socket.onmessage = async (event) => {
    if (typeof event.data === "string") {
      const reply = JSON.parse(event.data);
      if (reply.busy) { state.sent.shift(); state.dropped += 1; $("dropped").textContent = state.dropped; setTimeout(next, 100); }
      else if (reply.error && reply.options) {  // refused options: the frames go on
        say(reply.error);
        // the style list read again (a style the server no longer has, after a start with other --models, had
        // been offered on, every frame refused): where the style shown changes with it, that one is sent
        const sent = chosenStyle();
        loadStyles(false).then(() => { if (live === state && chosenStyle() !== sent) sendOptions(); });
      }
      else if (reply.error) { state.sent.shift(); say(reply.error); setTimeout(next, 500); }
      return;
    }
    const sentAt = state.sent.shift();
    const now = performance.now();
    next();  // the next frame is on its way before this one is decoded and drawn
    const bitmap = await createImageBitmap(event.data);
    $("live").width = bitmap.width;
    $("live").height = bitmap.height;
    show.drawImage(bitmap, 0, 0);
    state.frames += 1;
    state.times.push(now);
    while (state.times.length && now - state.times[0] > 2000) state.times.shift();
    const span = (state.times[state.times.length - 1] - state.times[0]) / 1000;
    $("frames").textContent = state.frames;
    $("fps").textContent = span > 0 ? ((state.times.length - 1) / span).toFixed(1) : "0.0";
    $("latency").textContent = Math.round(now - sentAt);
  };
  socket.onclose = (event) => {
    if (live !== state) return;
    // (a refused page, a reverse proxy's that the server does not know, fails as a stopped server: its terminal
    // says which)
    if (!state.opened) {
      say("The live view could not connect: is fast-style-serve still running? If so, its terminal says why.");
    } else if (event.code === 1012) say("The server stopped: start it again, then press Start camera.");
    else say(`The live connection closed${event.reason ? `: ${event.reason}` : "."}`);
    stopLive();
  };
}

// ---- the camera: a phone's front and back ones, a laptop's and a USB webcam; the list shows where there are two ----
function chosenCamera() {
  const id = $("camera-device").value;
  return id ? { deviceId: { exact: id } } : true;
}

async function listCameras() {
  const cameras = (await navigator.mediaDevices.enumerateDevices()).filter((d) => d.kind === "videoinput");
  const track = live && live.stream.getVideoTracks()[0];
  const current = track ? track.getSettings().deviceId : $("camera-device").value;
  $("camera-device").replaceChildren(
    ...cameras.map((c, i) => new Option(c.label || `Camera ${i + 1}`, c.deviceId, false, c.deviceId === current)),
  );
  $("camera-choice").hidden = cameras.length < 2;
}

let switching = null;  // the camera asked for last: an earlier answer that comes later is not used

$("camera-device").addEventListener("change", async () => {
  if (!live) return;  // the next start opens it
  const state = live;
  const asked = {};
  switching = asked;
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: chosenCamera(), audio: false });
  } catch (e) {
    if (switching === asked) say(`That camera cannot be opened: ${e.message}`);
    return;
  }
  if (live !== state || switching !== asked) { stream.getTracks().forEach((t) => t.stop()); return; }
  state.stream.getTracks().forEach((t) => t.stop());  // the frames go on from the new one
  state.stream = stream;
  $("camera").srcObject = stream;
});

function enableStop(on) {
  // the button pressed is disabled: the keyboard's focus goes to the one enabled (it fell to the page's start)
  const focused = document.activeElement === $("start") || document.activeElement === $("stop");
  $("start").disabled = on;
  $("stop").disabled = !on;
  if (focused) $(on ? "stop" : "start").focus();
}

function stopLive() {
  starting = null;
  enableStop(false);
  if (!live) return;
  const state = live;
  live = null;
  state.stream.getTracks().forEach((t) => t.stop());
  state.socket.close();  // (also while it still connects: it had opened later and stayed open)
}

$("start").addEventListener("click", startLive);
$("stop").addEventListener("click", stopLive);
$("resolution").addEventListener("change", sendOptions);

let fastTouched = false;  // live mode starts with the fast model unless the person chose otherwise
$("fast").addEventListener("change", () => { fastTouched = true; });

function showTab(name) {
  if (!fastTouched) $("fast").checked = name === "live";
  $("photo-mode").hidden = name !== "photo";
  $("live-mode").hidden = name !== "live";
  $("tab-photo").classList.toggle("active", name === "photo");
  $("tab-live").classList.toggle("active", name === "live");
  if (name !== "live") stopLive();
  // back in the Photo tab: its result redone where the options changed meanwhile (or the Live tab's Fast box)
  const stale = askedFor !== null && askedFor !== JSON.stringify(options());
  if (name === "photo" && lastFile && stale) stylizePhoto(lastFile);
}
$("tab-photo").addEventListener("click", () => showTab("photo"));
$("tab-live").addEventListener("click", () => showTab("live"));

document.addEventListener("visibilitychange", () => {  // a hidden page does not keep the camera on
  if (document.hidden && (live || starting)) { stopLive(); say("The camera stopped while the page was hidden.", true); }
});

loadStyles();
