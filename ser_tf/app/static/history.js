// The history: past recordings (filtered), each emotion's share per day or week, the period report.

import { api, withToken } from "./api.js";
import { drawTrend } from "./charts.js";
import { $, el, fail, percent, seconds, swatch, when } from "./dom.js";

// Monday of the week holding `date` (reports name a week by its first day), as YYYY-MM-DD.
export function periodStart(period, date = new Date()) {
  const day = new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), date.getUTCDate()));
  if (period === "week") day.setUTCDate(day.getUTCDate() - ((day.getUTCDay() + 6) % 7));
  return day.toISOString().slice(0, 10);
}

function filters() {
  const form = $("#history-filters");
  return {
    since: form.since.value, until: form.until.value, label: form.label.value, source: form.source.value,
  };
}

// Each load takes a ticket; an answer that arrives after a newer request was made is dropped,
// so quickly changed filters never end with an older list on screen.
let latestTicket = 0;

export async function loadHistory(info, openRecording) {
  const ticket = ++latestTicket;
  try {
    const { recordings, total } = await api("/recordings", { query: { ...filters(), limit: 200 } });
    if (ticket !== latestTicket) return;
    const body = $("#history-table tbody");
    body.replaceChildren(...recordings.map((r) => {
      const row = el("tr", { "data-recording-id": r.id, tabindex: 0, title: "open this recording" },
        el("td", {}, when(r.uploaded_at)),
        el("td", {}, r.name),
        el("td", {}, r.source),
        el("td", { class: "num" }, seconds(r.duration)),
        el("td", {}, swatch(info.colours[r.label]), r.label),
        el("td", { class: "num" }, percent(r.confidence)),
        el("td", { class: "num" }, percent(r.silence_share)),
        el("td", { class: "num" }, r.alert_count ? `⚑ ${r.alert_count}` : ""));
      const open = () => openRecording(r.id);
      row.addEventListener("click", open);
      row.addEventListener("keydown", (event) => event.key === "Enter" && open());
      return row;
    }));
    $("#history-count").textContent = recordings.length < total
      ? `${recordings.length} of ${total} recordings` : `${total} recording${total === 1 ? "" : "s"}`;
  } catch (err) {
    fail(err);
  }
  await loadTrend(info, ticket);
}

export async function loadTrend(info, ticket = ++latestTicket) {
  const period = $("#trend-period").value;
  const start = periodStart(period);
  const link = $("#period-report-link");
  link.href = withToken(`/api/reports/${period}/${start}/index.html`);
  link.textContent = `Report for this ${period} (from ${start})`;
  try {
    const { since, until } = filters();
    const { rows } = await api("/trends", { query: { period, since, until } });
    if (ticket !== latestTicket) return;
    const canvas = $("#trend-chart");
    drawTrend(canvas, rows, info.model.classes, info.colours);
    canvas.dataset.rows = rows.length;
    canvas.setAttribute("aria-label", rows.map((row) => `${row.start}: ` + info.model.classes
      .map((name) => `${name} ${percent(row.shares[name] || 0)}`).join(", ")).join("; ") || "no data");
  } catch (err) {
    fail(err);
  }
}
