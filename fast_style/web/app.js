// fast-style's page: a photo through POST /api/stylize, or the webcam through the WebSocket /api/live.
"use strict";

const $ = (id) => document.getElementById(id);
let maxUpload = 20 * 1024 * 1024;
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

async function loadStyles() {
  try {
    const reply = await fetch("/api/styles");
    const body = await reply.json();
    maxUpload = body.max_upload_bytes;
    for (const s of body.styles) {
      if (s.fast) fastOf[s.name] = s.fast;
      if (s.fast_variant_of) continue;  // offered by the "Fast model" box of its style
      const option = document.createElement("option");
      option.value = s.name;
      option.textContent = s.artist ? `${s.name} (${s.title}, ${s.artist})` : s.name;
      $("style").append(option);
    }
    showFastChoice();
    if (!body.styles.length) say("This server has no styles.");
  } catch (e) {
    say("Cannot reach the server: is fast-style-serve still running?");
  }
}

// ---- photo mode ----
let lastFile = null;
let inFlight = null; // the request under way: a newer choice aborts it (the server then skips it if it still waits)

function clearResult() {
  $("result").removeAttribute("src");
  $("download").hidden = true;
  $("elapsed").textContent = "";
}

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
  // HEIC: some browsers leave a .heic file's type empty, so its name decides
  const accepted = ["image/jpeg", "image/png", "image/webp", "image/avif", "image/heic", "image/heif", "image/gif",
    "image/bmp", "image/x-ms-bmp"];  // (some browsers name BMP so)
  if (!accepted.includes(file.type) && !/\.(heic|heif|avif)$/i.test(file.name)) {
    $("original").removeAttribute("src");
    failed(`${file.name}: only JPEG, PNG, WebP, AVIF, HEIC, GIF and BMP pictures are accepted.`);
    return;
  }
  if (file.size > maxUpload) {
    $("original").removeAttribute("src");
    failed(`${file.name} is over this server's upload limit of ${(maxUpload / 1048576).toFixed(0)} MB.`);
    return;
  }
  $("original").src = URL.createObjectURL(file);
  const form = new FormData();
  form.append("image", file);
  const o = options();
  form.append("style", o.style);
  form.append("strength", o.strength);
  form.append("preserve_color", o.preserve_color);
  say("Stylizing...", true);
  const started = performance.now();
  const request = new AbortController();
  inFlight = request;
  try {
    const reply = await fetch("/api/stylize", { method: "POST", body: form, signal: request.signal });
    if (!reply.ok) {
      let detail = reply.statusText;
      try { detail = (await reply.json()).detail; } catch (e) { /* not JSON */ }
      if (typeof detail !== "string") detail = JSON.stringify(detail);
      failed(reply.status === 503 ? "The server is busy: try again in a moment." : detail);
      return;
    }
    const url = URL.createObjectURL(await reply.blob());
    $("result").src = url;
    $("download").href = url;
    $("download").download = file.name.replace(/\.[^.]*$/, "") + `_${o.style}.jpg`;
    $("download").hidden = false;
    $("elapsed").textContent = `${Math.round(performance.now() - started)} ms`;
    say("");
  } catch (e) {
    if (e.name === "AbortError") return; // replaced by a newer request, which says what happened
    failed("Cannot reach the server: is fast-style-serve still running?");
  } finally {
    if (inFlight === request) inFlight = null;
  }
}

$("file").addEventListener("change", () => stylizePhoto($("file").files[0]));
const drop = $("drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => {
  e.preventDefault();
  drop.classList.remove("over");
  stylizePhoto(e.dataTransfer.files[0]);
});
$("style").addEventListener("change", showFastChoice);
for (const id of ["style", "preserve-color", "fast"]) {
  $(id).addEventListener("change", () => { if (lastFile && !live) stylizePhoto(lastFile); sendOptions(); });
}
$("strength").addEventListener("input", () => { $("strength-value").textContent = parseFloat($("strength").value).toFixed(2); });
$("strength").addEventListener("change", () => { if (lastFile && !live) stylizePhoto(lastFile); sendOptions(); });

// ---- live mode: at most two frames in flight (the next one waits at the server while one is stylized, so the
// server never idles for the round trip), so a slow server lowers the frame rate instead of queueing frames ----
const IN_FLIGHT = 2;
let live = null;

function sendOptions() {
  if (!live || live.socket.readyState !== WebSocket.OPEN) return;
  const [w, h] = $("resolution").value.split("x").map(Number);
  live.socket.send(JSON.stringify({ ...options(), max_size: Math.max(w, h) }));
}

async function startLive() {
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({ video: true, audio: false });
  } catch (e) {
    say(`No camera: ${e.message}. Allow camera access for this page, or use the Photo tab.`);
    return;
  }
  const socket = new WebSocket(`${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/api/live`);
  socket.binaryType = "blob";
  const state = { socket, stream, frames: 0, dropped: 0, sent: [], times: [] };
  live = state;
  $("camera").srcObject = stream;
  $("start").disabled = true;
  $("stop").disabled = false;
  const grab = document.createElement("canvas");
  const show = $("live").getContext("2d");

  function next() {
    if (live !== state || socket.readyState !== WebSocket.OPEN) return;
    const video = $("camera");
    if (!video.videoWidth) { setTimeout(next, 50); return; }
    const [w, h] = $("resolution").value.split("x").map(Number);
    grab.width = w;
    grab.height = h;
    grab.getContext("2d").drawImage(video, 0, 0, w, h);
    grab.toBlob((blob) => {
      if (live !== state || socket.readyState !== WebSocket.OPEN || state.sent.length >= IN_FLIGHT) return;
      state.sent.push(performance.now());
      socket.send(blob);
    }, "image/jpeg", 0.8);
  }

  socket.onopen = () => {  // IN_FLIGHT frames start the loop; each answer then sends one more
    sendOptions();
    say("", true);
    for (let i = 0; i < IN_FLIGHT; i++) setTimeout(next, 30 * i);
  };
  socket.onmessage = async (event) => {
    if (typeof event.data === "string") {
      const reply = JSON.parse(event.data);
      if (reply.busy) { state.sent.shift(); state.dropped += 1; $("dropped").textContent = state.dropped; setTimeout(next, 100); }
      else if (reply.error && reply.options) say(reply.error);  // refused options: the frames go on
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
  socket.onclose = () => { if (live === state) { say("The live connection closed."); stopLive(); } };
}

function stopLive() {
  if (!live) return;
  const state = live;
  live = null;
  state.stream.getTracks().forEach((t) => t.stop());
  if (state.socket.readyState === WebSocket.OPEN) state.socket.close();
  $("start").disabled = false;
  $("stop").disabled = true;
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
}
$("tab-photo").addEventListener("click", () => showTab("photo"));
$("tab-live").addEventListener("click", () => showTab("live"));

loadStyles();
