// The page's wiring: the token, the header, the three views, and the ways audio comes in
// (upload, recording in the browser, live stream).

import { api, ApiError, setToken } from "./api.js";
import { loadAlerts, wireRuleForm } from "./alerts.js";
import { drawLive } from "./charts.js";
import { $, el, fail, percent, say, swatch } from "./dom.js";
import { loadHistory, loadTrend } from "./history.js";
import { startRecording, startStream } from "./record.js";
import { redraw, showRecording, wireHover } from "./recording.js";

const LIVE_UPDATES_SHOWN = 40;  // 20 s of the live chart at two updates a second
let info = null;

// ---- token and header -------------------------------------------------------------------

async function loadInfo() {
  try {
    return await api("/info");
  } catch (err) {
    if (err instanceof ApiError && (err.status === 401 || err.status === 403)) {
      setToken("");
      return askForToken(err.status === 403 ? "That token was refused; try again." : "");
    }
    throw err;
  }
}

function askForToken(problem) {
  const form = $("#token-form");
  form.hidden = false;
  $("#token-problem").textContent = problem;
  $("#token-input").focus();
  return new Promise((resolve) => {
    form.addEventListener("submit", async function submitted(event) {
      event.preventDefault();
      setToken($("#token-input").value.trim());
      try {
        const answer = await api("/info");
        form.removeEventListener("submit", submitted);
        form.hidden = true;
        resolve(answer);
      } catch (err) {
        setToken("");
        $("#token-problem").textContent = err.message;
      }
    });
  });
}

function showHeader() {
  const { model } = info;
  $("#model-info").replaceChildren(
    el("span", { id: "model-arch" }, model.arch),
    el("span", { id: "model-classes" }, model.classes.join(" · ")),
    el("span", { id: "model-path", class: "muted", title: model.path }, model.path.split("/").slice(-2).join("/")),
    el("span", { id: "database", class: "muted" }, `database: ${info.database}`));
  const warning = $("#demo-warning");
  warning.hidden = !model.demo;
  warning.textContent = model.demo ? model.warning || "This is a demo model: its labels are not to be trusted." : "";
  document.querySelectorAll(".legend").forEach((legend) => legend.replaceChildren(
    ...[...model.classes, "silence"].map((name) => el("span", { class: "legend-item" }, swatch(info.colours[name]), name))));
  $("#limits").textContent = `Up to ${(info.limits.max_upload_bytes / 1e6).toFixed(0)} MB and `
    + `${Math.round(info.limits.max_duration_s)} s per file; WAV, FLAC, OGG or MP3.`;
  const label = $("#history-filters").label;
  label.replaceChildren(el("option", { value: "" }, "any"),
    ...[...model.classes, "silence"].map((name) => el("option", { value: name }, name)));
}

// ---- views ------------------------------------------------------------------------------

function showView(name) {
  document.querySelectorAll("[data-view-panel]").forEach((panel) => { panel.hidden = panel.dataset.viewPanel !== name; });
  document.querySelectorAll("nav [data-view]").forEach((button) =>
    button.setAttribute("aria-current", button.dataset.view === name ? "page" : "false"));
  if (name === "analyse") redraw();
  if (name === "history") loadHistory(info, openRecording);
  if (name === "alerts") loadAlerts(openRecording);
}

function display(recording) {
  showRecording(recording, info.colours);
}

async function openRecording(id) {
  showView("analyse");
  try {
    display(await api(`/recordings/${id}`));
    $("#recording").scrollIntoView({ behavior: "smooth", block: "start" });
  } catch (err) {
    fail(err);
  }
}

// ---- audio in ---------------------------------------------------------------------------

const keepAudio = () => $("#store-audio").checked;

async function send(files, source) {
  const form = new FormData();
  for (const [file, name] of files) form.append("files", file, name);
  form.append("source", source);
  form.append("store_audio", keepAudio() ? "true" : "false");
  let answer;
  try {
    answer = await api("/recordings", { method: "POST", form });
  } catch (err) {
    showKept([]);
    showRefused(err.body && err.body.refused);
    throw err;
  }
  showRefused(answer.refused);
  const kept = answer.recordings;
  showKept(kept);
  if (kept.length) display(kept[0]);
  say(`Analysed ${kept.length} file${kept.length === 1 ? "" : "s"}${answer.refused.length ? `, ${answer.refused.length} refused` : ""}.`);
  return kept;
}

// With several files at once, each gets a button that brings it into the main view.
function showKept(kept) {
  const list = $("#uploaded");
  list.hidden = kept.length < 2;
  list.replaceChildren(...kept.map((recording) => {
    const open = el("button", { type: "button", class: "quiet", "data-recording-id": recording.id },
      swatch(info.colours[recording.label]), `${recording.name} · ${recording.label}`);
    open.addEventListener("click", () => display(recording));
    return el("li", {}, open);
  }));
}

function showRefused(refused) {
  const list = $("#refused");
  list.hidden = !(refused && refused.length);
  list.replaceChildren(...(refused || []).map((r) =>
    el("li", { "data-name": r.name }, el("strong", {}, r.name), ` — ${r.error}`)));
}

function busy(button, text) {
  const label = button.textContent;
  button.disabled = true;
  button.textContent = text;
  return () => { button.disabled = false; button.textContent = label; };
}

function wireUpload() {
  $("#upload-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const files = [...$("#upload-files").files];
    if (!files.length) return say("Choose one or more audio files first.", { error: true });
    const done = busy($("#upload-button"), "Analysing…");
    try {
      await send(files.map((f) => [f, f.name]), "upload");
      $("#upload-files").value = "";
    } catch (err) {
      fail(err);
    } finally {
      done();
    }
  });
}

function wireRecord() {
  const button = $("#record-button");
  let recording = null;
  button.addEventListener("click", async () => {
    try {
      if (!recording) {
        recording = await startRecording();
        button.textContent = "Stop and analyse";
        button.classList.add("active");
        $("#record-status").textContent = "Recording…";
        return;
      }
      const current = recording;
      recording = null;
      button.classList.remove("active");
      const done = busy(button, "Analysing…");
      try {
        const wav = await current.stop();
        $("#record-status").textContent = "";
        const stamp = new Date().toISOString().slice(0, 19).replace("T", " ");
        await send([[wav, `recording ${stamp}.wav`]], "record");
      } finally {
        done();
        button.textContent = "Record";
      }
    } catch (err) {
      recording = null;
      $("#record-status").textContent = "";
      fail(err);
    }
  });
}

function wireStream() {
  const button = $("#stream-button");
  let stream = null;
  let updates = [];
  const reset = () => {
    stream = null;
    button.textContent = "Start live";
    button.classList.remove("active");
    button.disabled = false;
  };
  const showUpdate = (update) => {
    updates = [...updates, update].slice(-LIVE_UPDATES_SHOWN);
    const label = $("#live-label");
    label.textContent = update.label;
    label.style.color = info.colours[update.label] || "";
    $("#live-confidence").textContent = update.confidence == null ? "" : percent(update.confidence);
    const count = $("#live-count");
    count.dataset.count = Number(count.dataset.count || 0) + 1;
    count.textContent = `${update.audio_s.toFixed(1)} s heard · ${count.dataset.count} updates`;
    drawLive($("#live-chart"), updates, info.model.classes, info.colours, LIVE_UPDATES_SHOWN);
  };
  button.addEventListener("click", async () => {
    if (stream) {
      stream.stop();
      busy(button, "Saving…");
      return;
    }
    updates = [];
    $("#live-count").dataset.count = 0;
    $("#live-count").textContent = "connecting…";
    $("#live-label").textContent = "…";
    $("#live-confidence").textContent = "";
    $("#live-panel").hidden = false;
    try {
      stream = await startStream({
        name: null, storeAudio: keepAudio(),
        onReady: () => { $("#live-count").textContent = "listening…"; },
        onUpdate: showUpdate,
        onSaved: (recording) => { reset(); display(recording); say(`Saved the stream as “${recording.name}”.`); },
        onError: (detail) => { reset(); say(detail, { error: true }); },
      });
      button.textContent = "Stop live";
      button.classList.add("active");
    } catch (err) {
      reset();
      fail(err);
    }
  });
}

// ---- start ------------------------------------------------------------------------------

async function main() {
  document.querySelectorAll("nav [data-view]").forEach((button) =>
    button.addEventListener("click", () => showView(button.dataset.view)));
  $("#message").addEventListener("click", () => { $("#message").hidden = true; });
  try {
    info = await loadInfo();
  } catch (err) {
    fail(err);
    return;
  }
  showHeader();
  wireUpload();
  wireRecord();
  wireStream();
  wireHover();
  wireRuleForm(info, () => loadAlerts(openRecording));
  $("#history-filters").addEventListener("submit", (event) => { event.preventDefault(); loadHistory(info, openRecording); });
  $("#trend-period").addEventListener("change", () => loadTrend(info));
  let resizing = null;
  window.addEventListener("resize", () => { clearTimeout(resizing); resizing = setTimeout(redraw, 150); });
  document.body.dataset.ready = "true";
  showView("analyse");
}

main();
