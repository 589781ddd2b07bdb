// The JSON API: every fetch carries the token (if one was given), and an error answer
// ({"detail": ...}) becomes an Error whose message a person can read.

const TOKEN_KEY = "ser_tf.token";

export function token() {
  return sessionStorage.getItem(TOKEN_KEY) || "";
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

// Links and WebSockets cannot send a header: the server also reads ?token=.
export function withToken(path) {
  const value = token();
  if (!value) return path;
  return path + (path.includes("?") ? "&" : "?") + "token=" + encodeURIComponent(value);
}

export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

function readable(detail) {
  if (typeof detail === "string") return detail;
  // FastAPI's validation errors: [{"loc": [...], "msg": ...}, ...]
  if (Array.isArray(detail)) return detail.map((d) => `${(d.loc || []).slice(1).join(".")}: ${d.msg}`).join("; ");
  return JSON.stringify(detail);
}

export async function api(path, { method = "GET", json, form, query } = {}) {
  const headers = {};
  if (token()) headers.Authorization = "Bearer " + token();
  let body;
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (form) {
    body = form;
  }
  let url = "/api" + path;
  if (query) {
    const params = new URLSearchParams(Object.entries(query).filter(([, v]) => v !== "" && v != null));
    if ([...params].length) url += "?" + params;
  }
  let response;
  try {
    response = await fetch(url, { method, headers, body });
  } catch (err) {
    throw new ApiError(0, `the server did not answer (${err.message})`);
  }
  const text = await response.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!response.ok) {
    const message = data && data.detail !== undefined ? readable(data.detail) : `HTTP ${response.status} ${text.slice(0, 200)}`;
    throw new ApiError(response.status, message, data);
  }
  return data;
}
