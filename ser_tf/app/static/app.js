// The page's wiring: the token, the header and the three views (the ways audio comes in
// are in inputs.js).

import { api, ApiError, setToken } from "./api.js";
import { loadAlerts, wireRuleForm } from "./alerts.js";
import { $, el, fail, swatch } from "./dom.js";
import { loadHistory, loadTrend } from "./history.js";
import { wireInputs } from "./inputs.js";
import { redraw, showRecording, wireHover } from "./recording.js";

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
  // MB as the server counts them (--max-upload-mb: 1 MB = 1024 * 1024 bytes)
  $("#limits").textContent = `Up to ${(info.limits.max_upload_bytes / 1048576).toFixed(0)} MB and `
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
  wireInputs(info, display);
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
