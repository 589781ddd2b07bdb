// The main view of one recording: the overall label, the waveform over the emotion timeline
// with a hover read-out and the alerts marked, the shares of voiced time, the fired alerts, links.

import { api, withToken } from "./api.js";
import { drawTimeline } from "./charts.js";
import { $, el, fail, percent, say, seconds, swatch, when } from "./dom.js";

let shown = null;  // {recording, geometry} of the recording on screen, for the hover and redraws

export function showRecording(recording, colours) {
  const section = $("#recording");
  section.hidden = false;
  section.dataset.recordingId = recording.id;

  $("#overall-label").textContent = recording.label;
  $("#overall-label").style.color = colours[recording.label] || "";
  $("#overall-confidence").textContent = `${percent(recording.confidence)} confidence`;
  $("#recording-name").textContent = recording.name;
  $("#recording-meta").textContent =
    `${seconds(recording.duration)} · ${recording.source} · ${when(recording.uploaded_at)} · ${recording.basis}`;

  const links = $("#recording-links");
  links.replaceChildren(...[
    el("a", { id: "report-link", href: withToken(`/api/recordings/${recording.id}/report/index.html`), target: "_blank" }, "Report"),
    recording.has_audio ? el("a", { id: "audio-link", href: withToken(`/api/recordings/${recording.id}/audio`), target: "_blank" }, "Audio") : null,
    el("button", { id: "delete-button", type: "button", class: "quiet" }, "Delete"),
  ].filter(Boolean));
  $("#delete-button").addEventListener("click", async () => {
    if (!confirm(`Delete “${recording.name}” and its alerts?`)) return;
    try {
      await api(`/recordings/${recording.id}`, { method: "DELETE" });
      section.hidden = true;
      shown = null;
      const listed = $(`#uploaded [data-recording-id="${recording.id}"]`);
      if (listed) listed.closest("li").remove();
      say(`Deleted “${recording.name}”.`);
    } catch (err) {
      fail(err);
    }
  });

  shown = { recording, colours };
  redraw();
  showShares(recording, colours);
  showAlerts(recording);
}

// Drawn again on resize: the canvas follows its box's width.
export function redraw() {
  if (!shown || $("#recording").hidden) return;
  const { recording, colours } = shown;
  shown.geometry = drawTimeline($("#timeline canvas"), recording, colours);
  const box = $("#timeline");
  box.querySelectorAll(".alert-marker").forEach((m) => m.remove());
  for (const alert of recording.alerts) {
    if (alert.start == null) continue;  // share rules hold for the whole recording: listed only
    const left = (100 * alert.start) / shown.geometry.duration;
    const width = (100 * (alert.end - alert.start)) / shown.geometry.duration;
    box.append(el("div", {
      class: "alert-marker", "data-alert-id": alert.id, title: `${alert.rule}: ${seconds(alert.start)}–${seconds(alert.end)}`,
      style: { left: `${left}%`, width: `${Math.max(width, 0.5)}%` },
    }, el("span", {}, `⚑ ${alert.emotion}`)));
  }
}

function showShares(recording, colours) {
  const classes = recording.model.classes;
  const rows = classes.map((name) => {
    const share = recording.shares[name] || 0;
    return el("div", { class: "share", "data-emotion": name },
      el("span", { class: "share-name" }, swatch(colours[name]), name),
      el("span", { class: "share-bar" }, el("span", { style: { width: `${100 * share}%`, background: colours[name] } })),
      el("span", { class: "share-value" }, percent(share)));
  });
  $("#shares").replaceChildren(
    el("h3", {}, `Share of voiced time (${seconds(recording.voiced_seconds)})`), ...rows,
    el("p", { id: "silence-share", class: "muted" },
      swatch(colours.silence), `silence: ${percent(recording.silence_share)} of the recording`));
}

function showAlerts(recording) {
  const list = $("#recording-alerts");
  if (!recording.alerts.length) {
    list.replaceChildren(el("li", { class: "muted" }, "No alert rule fired."));
    return;
  }
  list.replaceChildren(...recording.alerts.map((alert) => el("li", { class: "fired", "data-alert-id": alert.id },
    el("strong", {}, alert.rule),
    alert.start == null ? ` — share ${percent(alert.value)}` : ` — ${seconds(alert.start)} to ${seconds(alert.end)}, peak ${percent(alert.value)}`,
    alert.webhook ? el("span", { class: "muted" }, ` (webhook ${alert.webhook})`) : null)));
}

// The hover read-out: time, the window's label and its probabilities at the pointer.
export function wireHover() {
  const canvas = $("#timeline canvas");
  const tip = $("#timeline-hover");
  canvas.addEventListener("mousemove", (event) => {
    if (!shown || !shown.geometry) return;
    const { recording, colours, geometry } = shown;
    const rect = canvas.getBoundingClientRect();
    const t = ((event.clientX - rect.left) / rect.width) * geometry.duration;
    const index = geometry.bounds.findIndex(([a, b]) => t >= a && t <= b);
    if (index < 0) { tip.hidden = true; return; }
    const w = recording.timeline[index];
    const probabilities = w.probabilities
      ? recording.model.classes.map((name) => el("div", {}, swatch(colours[name]), `${name} ${percent(w.probabilities[name])}`))
      : [el("div", { class: "muted" }, "no voice here")];
    tip.replaceChildren(el("div", {}, el("strong", {}, `${seconds(t)} · ${w.label}`),
      w.confidence != null ? ` ${percent(w.confidence)}` : ""), ...probabilities);
    tip.hidden = false;
    const x = event.clientX - rect.left;
    tip.style.left = `${Math.min(x + 12, rect.width - tip.offsetWidth - 4)}px`;
  });
  canvas.addEventListener("mouseleave", () => { tip.hidden = true; });
}
