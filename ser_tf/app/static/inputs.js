// The three ways audio comes in: files uploaded, a recording made in the browser, a live
// stream. Each ends with the recording in the main view (`display`).

import { api } from "./api.js";
import { drawLive } from "./charts.js";
import { $, el, fail, percent, say, swatch } from "./dom.js";
import { startRecording, startStream } from "./record.js";

const LIVE_UPDATES_SHOWN = 40;  // 20 s of the live chart at two updates a second
let info = null;
let display = null;

// info: /api/info's answer; show: shows a recording in the main view.
export function wireInputs(serverInfo, show) {
  info = serverInfo;
  display = show;
  wireUpload();
  wireRecord();
  wireStream();
}

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
