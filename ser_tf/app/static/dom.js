// Small DOM helpers shared by the views.

export const $ = (selector, root = document) => root.querySelector(selector);

// el("td", {class: "num", "data-id": 3}, "text", child, ...): an element with attributes and children.
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value == null) continue;
    if (name === "style" && typeof value === "object") Object.assign(node.style, value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  node.append(...children.filter((c) => c != null && c !== false));
  return node;
}

export const percent = (value) => `${Math.round(100 * value)} %`;
export const seconds = (value) => `${value.toFixed(1)} s`;

// "2026-11-30T14:55:03Z" in the reader's own time zone.
export const when = (iso) => new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });

export function swatch(colour) {
  return el("span", { class: "swatch", style: { background: colour } });
}

let messageTimer = null;

// The one message area: errors stay until dismissed or replaced; notices fade after a while.
export function say(text, { error = false } = {}) {
  const box = $("#message");
  clearTimeout(messageTimer);
  box.textContent = text;
  box.className = error ? "message error" : "message";
  box.hidden = !text;
  if (text && !error) messageTimer = setTimeout(() => { box.hidden = true; }, 6000);
}

export const fail = (err) => say(err.message || String(err), { error: true });
