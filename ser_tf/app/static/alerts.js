// Alert rules (add, list, delete) and the alerts they fired.

import { api } from "./api.js";
import { $, el, fail, percent, say, seconds, when } from "./dom.js";

export function wireRuleForm(info, onChange) {
  const form = $("#rule-form");
  form.emotion.replaceChildren(...info.model.classes.map((name) => el("option", { value: name }, name)));
  const sustained = () => form.kind.value === "sustained";
  const showKind = () => {
    $("#rule-min-seconds-field").hidden = !sustained();
    $("#rule-threshold-label").textContent = sustained() ? "Probability at least (%)" : "Share of voiced time at least (%)";
  };
  form.kind.addEventListener("change", showKind);
  showKind();
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const rule = {
      kind: form.kind.value,
      emotion: form.emotion.value,
      threshold: Number(form.threshold.value) / 100,  // shown as a percentage, sent as 0..1
      min_seconds: sustained() ? Number(form.min_seconds.value) : 0,
      webhook_url: form.webhook_url.value.trim() || null,
    };
    try {
      const saved = await api("/rules", { method: "POST", json: rule });
      say(`Rule added: ${saved.name}`);
      await onChange();
    } catch (err) {
      fail(err);
    }
  });
}

export async function loadAlerts(openRecording) {
  try {
    const [{ rules }, { alerts }] = await Promise.all([api("/rules"), api("/alerts")]);
    $("#rules-list").replaceChildren(...(rules.length ? rules.map((rule) => {
      const remove = el("button", { type: "button", class: "quiet", "aria-label": `delete rule ${rule.name}` }, "Delete");
      remove.addEventListener("click", async () => {
        try {
          await api(`/rules/${rule.id}`, { method: "DELETE" });
          await loadAlerts(openRecording);
        } catch (err) {
          fail(err);
        }
      });
      return el("li", { "data-rule-id": rule.id }, el("span", {}, rule.name,
        rule.webhook_url ? el("span", { class: "muted" }, ` → ${rule.webhook_url}`) : null), remove);
    }) : [el("li", { class: "muted" }, "No rules yet.")]));

    $("#alerts-table tbody").replaceChildren(...alerts.map((alert) => {
      const open = el("a", { href: `#recording-${alert.recording_id}` }, alert.recording_name);
      open.addEventListener("click", (event) => { event.preventDefault(); openRecording(alert.recording_id); });
      return el("tr", { "data-alert-id": alert.id },
        el("td", {}, when(alert.fired_at)),
        el("td", {}, alert.rule),
        el("td", {}, open),
        el("td", {}, alert.start == null ? "whole recording" : `${seconds(alert.start)}–${seconds(alert.end)}`),
        el("td", { class: "num" }, percent(alert.value)),
        el("td", { class: "muted" }, alert.webhook || ""));
    }));
    $("#alerts-empty").hidden = alerts.length > 0;
  } catch (err) {
    fail(err);
  }
}
