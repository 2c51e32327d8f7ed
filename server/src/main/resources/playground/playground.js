// The playground: one submit at a time, followed over the status stream. Plain JavaScript, no
// build step, no library. Every address is relative to the page, so it is the API of whatever
// host and path prefix served it. The key is sent only in the Authorization header: EventSource
// cannot send a header, so the stream is read with fetch() and a ReadableStream instead, and the
// key never appears in a URL (URLs end up in logs).
"use strict";

const MAX_PROMPT = 2500;      // code points, as the server counts them
const MAX_REFS = 3;
const RECENT_MAX = 20;
const STORE_KEY = "genqueue.apiKey";
const STORE_RECENT = "genqueue.recent";

const $ = (id) => document.getElementById(id);

/** Where a 422 detail's loc points: the id of the control it is shown beside. */
const FIELD_OF_LOC = {
  "body.prompt": "prompt",
  "body.image_urls": "ref-files",
  "body.aspect_ratio": "aspect-ratio",
  "body.image_size": "aspect-ratio",
  "body.resolution": "resolution",
  "body.num_images": "num-images",
  "body.output_format": "output-format",
  "body.response_modalities": "text",
  "header.x-fal-queue-priority": "priority",
};
/** The error element beside each control. */
const ERROR_OF_FIELD = {
  "api-key": "api-key-error", "model": "model-error", "prompt": "prompt-error", "ref-files": "ref-error",
  "aspect-ratio": "aspect-ratio-error", "resolution": "resolution-error", "num-images": "num-images-error",
  "output-format": "output-format-error", "text": "text-error", "priority": "priority-error",
};

const state = {
  tiered: false,       // whether the chosen model has several size tiers (image_sizes)
  ratios: [],          // [{aspect_ratio, image_size, resolution}] of the chosen model (its output_sizes), from GET /v1/models
  models: [],
  refs: [],            // [{url, name}] in the order they are sent
  shown: null,         // the request on screen: {model, id, abort, startedAt, timer, done}
};

// ---------------------------------------------------------------- storage

function readJson(name, fallback) {
  try {
    const value = JSON.parse(localStorage.getItem(name));
    return value === null ? fallback : value;
  } catch (e) {
    return fallback;
  }
}

function recent() {
  const list = readJson(STORE_RECENT, []);
  return Array.isArray(list) ? list.filter((r) => r && typeof r.id === "string" && typeof r.model === "string") : [];
}

function remember(entry) {
  const list = [entry].concat(recent().filter((r) => r.id !== entry.id)).slice(0, RECENT_MAX);
  localStorage.setItem(STORE_RECENT, JSON.stringify(list));
  renderRecent();
}

// ---------------------------------------------------------------- HTTP

function headers(extra) {
  const h = Object.assign({}, extra);
  const key = $("api-key").value.trim();
  if (key) {
    h["Authorization"] = "Bearer " + key;
  }
  return h;
}

function requestPath(model, id) {
  return "v1/queue/" + encodeURIComponent(model) + "/requests/" + encodeURIComponent(id);
}

/** The answer's JSON, or null when it has none. */
async function jsonOf(response) {
  try {
    return await response.json();
  } catch (e) {
    return null;
  }
}

/** A person's sentence for an error answer: its detail (a string or the 422 list). */
function detailOf(status, body) {
  if (body && typeof body.detail === "string") {
    return body.detail;
  }
  if (body && Array.isArray(body.detail)) {
    return body.detail.map((v) => v.msg).join("; ");
  }
  if (body && typeof body.status === "string") {
    return body.status;
  }
  return "The server answered " + status + ".";
}

// ---------------------------------------------------------------- errors beside their controls

function clearErrors() {
  for (const [field, errorId] of Object.entries(ERROR_OF_FIELD)) {
    const el = $(errorId);
    el.textContent = "";
    el.hidden = true;
    $(field).removeAttribute("aria-invalid");
  }
  $("form-error").textContent = "";
  $("form-error").hidden = true;
}

function showError(field, message) {
  const el = field ? $(ERROR_OF_FIELD[field]) : $("form-error");
  el.textContent = el.textContent ? el.textContent + " " + message : message;
  el.hidden = false;
  if (field) {
    $(field).setAttribute("aria-invalid", "true");
  }
}

/** Each violation of a 422 beside the control its loc names; the first such control gets the focus. */
function showViolations(detail) {
  let first = null;
  for (const v of detail) {
    const loc = Array.isArray(v.loc) ? v.loc : [];
    const field = FIELD_OF_LOC[loc.slice(0, 2).join(".")] || null;
    let message = String(v.msg);
    if (loc[1] === "image_urls" && typeof loc[2] === "number") {
      message = "Image " + (loc[2] + 1) + ": " + message;
    }
    showError(field, message);
    first = first || field;
  }
  if (first) {
    $(first).focus();
  }
}

// ---------------------------------------------------------------- the form

async function loadModels() {
  const select = $("model");
  try {
    const response = await fetch("v1/models");
    const body = await jsonOf(response);
    if (!response.ok || !body || !Array.isArray(body.models)) {
      throw new Error(detailOf(response.status, body));
    }
    state.models = body.models;
  } catch (e) {
    showError("model", "Could not load the models: " + e.message);
    return;
  }
  select.replaceChildren(...state.models.map((m) => new Option(m.healthy ? m.id : m.id + " (unhealthy)", m.id)));
  modelChanged();
}

function modelChanged() {
  const model = state.models.find((m) => m.id === $("model").value);
  // every size of the model (each ratio at each of its tiers); a resolution implies its ratio and tier
  state.ratios = model && Array.isArray(model.output_sizes) ? model.output_sizes
    : model && Array.isArray(model.aspect_ratios) ? model.aspect_ratios : [];
  state.tiered = Boolean(model && Array.isArray(model.image_sizes) && model.image_sizes.length > 1); // name the tier only if there are several
  const ratio = $("aspect-ratio");
  const kept = ratio.value;
  const names = [...new Set(state.ratios.map((r) => r.aspect_ratio))];
  ratio.replaceChildren(new Option("Auto", ""), ...names.map((r) => new Option(r, r)));
  ratio.value = names.includes(kept) ? kept : "";
  ratioChanged();
}

/** Resolution offers only what agrees with the ratio: the ratio's one size, or with no ratio any (it implies its ratio). */
function ratioChanged() {
  const ratio = $("aspect-ratio").value;
  const select = $("resolution");
  const kept = select.value;
  const agreeing = ratio ? state.ratios.filter((r) => r.aspect_ratio === ratio) : state.ratios;
  select.replaceChildren(new Option(ratio ? "From the ratio" : "Any", ""),
    ...agreeing.map((r) => new Option(r.resolution + " (" + r.aspect_ratio + (state.tiered ? ", " + r.image_size : "") + ")",
      r.resolution)));
  select.value = agreeing.some((r) => r.resolution === kept) ? kept : "";
}

function countPrompt() {
  const n = Array.from($("prompt").value).length; // code points, not UTF-16 units
  const counter = $("prompt-count");
  counter.textContent = n + " / " + MAX_PROMPT;
  counter.classList.toggle("over", n > MAX_PROMPT);
}

function addRef(url, name) {
  if (state.refs.length >= MAX_REFS) {
    showError("ref-files", "At most " + MAX_REFS + " reference images.");
    return;
  }
  state.refs.push({ url, name });
  renderRefs();
}

function renderRefs() {
  const list = $("ref-list");
  list.replaceChildren(...state.refs.map((ref, i) => {
    const item = document.createElement("li");
    let img;
    if (/^(https?:|data:image\/)/i.test(ref.url)) {
      img = document.createElement("img");
      img.src = ref.url;
      img.alt = "Reference image " + (i + 1) + ": " + ref.name;
    } else {
      // nothing to show (and the page's policy loads images only over http(s) and data:); the server says what is wrong
      img = document.createElement("span");
      img.className = "no-thumb";
      img.textContent = ref.name;
    }
    const remove = document.createElement("button");
    remove.type = "button";
    remove.textContent = "Remove";
    remove.setAttribute("aria-label", "Remove reference image " + (i + 1));
    remove.addEventListener("click", () => {
      state.refs.splice(i, 1);
      renderRefs();
      $("ref-files").focus();
    });
    item.append(img, remove);
    return item;
  }));
  const full = state.refs.length >= MAX_REFS;
  $("ref-files").disabled = full;
  $("ref-url").disabled = full;
  $("ref-add").disabled = full;
}

function readFile(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

async function filesChosen() {
  const input = $("ref-files");
  for (const file of Array.from(input.files)) {
    if (state.refs.length >= MAX_REFS) {
      showError("ref-files", "At most " + MAX_REFS + " reference images; " + file.name + " was left out.");
      continue;
    }
    try {
      addRef(await readFile(file), file.name);
    } catch (e) {
      showError("ref-files", "Could not read " + file.name + ".");
    }
  }
  input.value = "";
}

function urlAdded() {
  const input = $("ref-url");
  const url = input.value.trim();
  if (url) {
    addRef(url, url);
    input.value = "";
  }
}

function requestBody() {
  const body = { prompt: $("prompt").value };
  if (state.refs.length) {
    body.image_urls = state.refs.map((r) => r.url);
  }
  if ($("aspect-ratio").value) {
    body.aspect_ratio = $("aspect-ratio").value;
  }
  if ($("resolution").value) {
    body.resolution = $("resolution").value;
  }
  body.num_images = Number($("num-images").value);
  body.output_format = $("output-format").value;
  body.response_modalities = $("text").checked ? ["Text", "Image"] : ["Image"];
  return body;
}

async function generate(event) {
  event.preventDefault();
  clearErrors();
  const model = $("model").value;
  if (!model) {
    showError("model", "No model to submit to.");
    return;
  }
  const button = $("generate");
  button.disabled = true;
  try {
    const response = await fetch("v1/queue/" + encodeURIComponent(model), {
      method: "POST",
      headers: headers({ "Content-Type": "application/json", "X-Fal-Queue-Priority": $("priority").value }),
      body: JSON.stringify(requestBody()),
    });
    const body = await jsonOf(response);
    if (response.status === 422 && body && Array.isArray(body.detail)) {
      showViolations(body.detail);
    } else if (response.status === 401) {
      showError("api-key", detailOf(response.status, body));
      $("api-key").focus();
    } else if (!response.ok || !body || typeof body.request_id !== "string") {
      const retry = response.headers.get("Retry-After");
      showError(null, detailOf(response.status, body) + (retry ? " (try again in " + retry + " s)" : ""));
    } else {
      const prompt = Array.from($("prompt").value).slice(0, 80).join(""); // whole code points
      remember({ id: body.request_id, model, prompt, at: new Date().toISOString() });
      show(model, body.request_id);
    }
  } catch (e) {
    showError(null, "The server could not be reached: " + e.message);
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- one request on screen

/** Shows the request and follows it until it is done; whatever was shown before stops. */
function show(model, id) {
  stopShown();
  const shown = { model, id, abort: new AbortController(), startedAt: null, timer: null, done: false };
  state.shown = shown;
  $("request").hidden = false;
  $("request-id").textContent = id;
  $("status").textContent = "Connecting…";
  $("logs").replaceChildren();
  $("failure").hidden = true;
  $("images").replaceChildren();
  $("description").hidden = true;
  $("cancel").hidden = false;
  $("cancel").disabled = false;
  follow(shown);
}

function stopShown() {
  const shown = state.shown;
  if (shown) {
    shown.done = true;
    shown.abort.abort();
    clearInterval(shown.timer);
  }
}

/** Reads the status stream; when it breaks off before the end, reads it again after a pause. */
async function follow(shown) {
  let pause = 500;
  while (!shown.done) {
    try {
      const response = await fetch(requestPath(shown.model, shown.id) + "/status/stream?logs=1", {
        headers: headers({ Accept: "text/event-stream" }),
        signal: shown.abort.signal,
      });
      if (!response.ok) {
        const body = await jsonOf(response);
        finish(shown);
        $("status").textContent = detailOf(response.status, body);
        return;
      }
      await readEvents(response.body, (status) => statusChanged(shown, status));
    } catch (e) {
      if (shown.done) {
        return;
      }
    }
    if (!shown.done) {
      $("status").textContent = "Connection lost; reconnecting…";
      await new Promise((resolve) => setTimeout(resolve, pause));
      pause = Math.min(pause * 2, 8000);
    }
  }
}

/** Server-sent events from a byte stream: each event's data lines, joined, parsed as JSON. */
async function readEvents(stream, onStatus) {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) {
      return;
    }
    buffer = (buffer + value).replace(/\r\n?/g, "\n");
    let end;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      const data = event.split("\n").filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, "")).join("\n");
      if (data) {
        onStatus(JSON.parse(data));
      }
    }
  }
}

function statusChanged(shown, status) {
  if (shown !== state.shown || shown.done) {
    return;
  }
  renderLogs(status.logs);
  if (status.status === "IN_QUEUE") {
    // back in the queue after an attempt (a retry, a lost lease): the next attempt's clock starts afresh
    clearInterval(shown.timer);
    shown.startedAt = null;
    const ahead = status.queue_position;
    $("status").textContent = ahead === 0 ? "In queue: next to start" : "In queue: position " + ahead
      + " (" + ahead + " ahead)";
  } else if (status.status === "IN_PROGRESS") {
    if (shown.startedAt === null) {
      const first = Array.isArray(status.logs) && status.logs.length ? Date.parse(status.logs[0].timestamp) : NaN;
      shown.startedAt = Number.isNaN(first) ? Date.now() : Math.min(first, Date.now());
      shown.timer = setInterval(() => running(shown), 1000);
    }
    running(shown);
  } else if (status.status === "COMPLETED") {
    finish(shown);
    if (status.error || status.error_type) {
      $("status").textContent = status.error_type === "cancelled" ? "Cancelled" : "Failed";
      $("failure-error").textContent = status.error || "";
      $("failure-type").textContent = status.error_type || "";
      $("failure").hidden = false;
    } else {
      const took = status.metrics && typeof status.metrics.inference_time === "number"
        ? " in " + status.metrics.inference_time.toFixed(1) + " s" : "";
      $("status").textContent = "Completed" + took;
      loadResult(shown);
    }
  }
}

function running(shown) {
  if (state.shown === shown && !shown.done && shown.startedAt !== null) {
    const seconds = Math.max(0, Math.round((Date.now() - shown.startedAt) / 1000));
    $("status").textContent = "Running: " + seconds + " s";
  }
}

function finish(shown) {
  shown.done = true;
  clearInterval(shown.timer);
  $("cancel").hidden = true;
}

function renderLogs(logs) {
  if (!Array.isArray(logs)) {
    return;
  }
  $("logs").replaceChildren(...logs.map((entry) => {
    const item = document.createElement("li");
    item.className = "log-" + String(entry.level).toLowerCase();
    item.textContent = entry.message;
    return item;
  }));
}

async function cancel() {
  const shown = state.shown;
  if (!shown || shown.done) {
    return;
  }
  $("cancel").disabled = true;
  try {
    const response = await fetch(requestPath(shown.model, shown.id) + "/cancel", { method: "PUT", headers: headers() });
    const body = await jsonOf(response);
    if (shown.done) {
      return; // the stream brought the end first: it says how it ended
    }
    if (response.status === 202) {
      $("status").textContent = "Cancellation requested…";
    } else if (!(body && body.status === "ALREADY_COMPLETED")) {
      $("status").textContent = detailOf(response.status, body);
      $("cancel").disabled = false;
    }
  } catch (e) {
    if (!shown.done) {
      $("status").textContent = "The server could not be reached: " + e.message;
      $("cancel").disabled = false;
    }
  }
}

async function loadResult(shown) {
  let response;
  let body;
  try {
    response = await fetch(requestPath(shown.model, shown.id) + "/response", { headers: headers() });
    body = await jsonOf(response);
  } catch (e) {
    $("status").textContent = "The result could not be fetched: " + e.message;
    return;
  }
  if (state.shown !== shown) {
    return;
  }
  if (!response.ok || !body || !Array.isArray(body.images)) {
    $("status").textContent = detailOf(response.status, body);
    return;
  }
  $("images").replaceChildren(...body.images.map((image, i) => {
    const figure = document.createElement("figure");
    const img = document.createElement("img");
    img.src = image.url;
    img.width = image.width;
    img.height = image.height;
    img.alt = "Generated image " + (i + 1);
    const caption = document.createElement("figcaption");
    const size = document.createElement("span");
    size.className = "size";
    size.textContent = image.width + " × " + image.height + " px, " + image.content_type + ", "
      + Math.max(1, Math.round(image.file_size / 1024)) + " KiB";
    const link = document.createElement("a");
    link.href = image.url;
    link.download = image.file_name || "";
    link.textContent = "Download image " + (i + 1);
    caption.append(size, " ", link);
    figure.append(img, caption);
    return figure;
  }));
  const text = $("description");
  text.textContent = body.description || "";
  text.hidden = !body.description;
}

// ---------------------------------------------------------------- recent requests

function renderRecent() {
  const list = recent();
  $("recent-empty").hidden = list.length > 0;
  $("recent-list").replaceChildren(...list.map((entry) => {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    const prompt = document.createElement("span");
    prompt.className = "recent-prompt";
    prompt.textContent = entry.prompt || "(no prompt)";
    const id = document.createElement("code");
    id.textContent = entry.id;
    const when = document.createElement("time");
    when.dateTime = entry.at || "";
    when.textContent = entry.at ? new Date(entry.at).toLocaleString() : "";
    button.append(prompt, " ", id, " ", when);
    button.addEventListener("click", () => {
      show(entry.model, entry.id);
      $("request-heading").scrollIntoView();
    });
    item.append(button);
    return item;
  }));
}

// ---------------------------------------------------------------- start

function start() {
  const key = $("api-key");
  key.value = localStorage.getItem(STORE_KEY) || "";
  key.addEventListener("input", () => localStorage.setItem(STORE_KEY, key.value.trim()));
  $("prompt").addEventListener("input", countPrompt);
  $("model").addEventListener("change", modelChanged);
  $("aspect-ratio").addEventListener("change", ratioChanged);
  $("ref-files").addEventListener("change", filesChosen);
  $("ref-add").addEventListener("click", urlAdded);
  $("ref-url").addEventListener("keydown", (e) => {
    if (e.key === "Enter") {
      e.preventDefault(); // Enter adds the URL rather than submitting the form
      urlAdded();
    }
  });
  $("form").addEventListener("submit", generate);
  $("cancel").addEventListener("click", cancel);
  countPrompt();
  renderRecent();
  loadModels();
}

start();
