// HTTP to the Hypercare API with the signed-in token.

const TOKEN_KEY = "hc.token";

// The token lives in sessionStorage (this tab, until it closes), never in localStorage; a token an older
// console left in localStorage is removed on load.
try { localStorage.removeItem(TOKEN_KEY); } catch { /* private mode */ }

export function getToken() {
  try { return sessionStorage.getItem(TOKEN_KEY) || ""; } catch { return ""; }
}

export function setToken(token) {
  try {
    if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY);
  } catch { /* private mode: the token lives only as long as the page */ }
}

export class ApiError extends Error {
  constructor(status, detail, body) {
    super(detail || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

function detailOf(body, status) {
  if (body && typeof body.detail === "string") return body.detail;
  if (body && Array.isArray(body.detail)) return body.detail.map((d) => d.msg || String(d)).join("; ");
  if (body && Array.isArray(body.rejected) && body.rejected.length) return body.rejected.map((r) => r.reason).join("; ");
  return `HTTP ${status}`;
}

/** JSON request; throws ApiError (HTTP status), TypeError (network) or, once ``signal`` aborts, its AbortError. */
export async function api(path, { method = "GET", body, params, token = getToken(), signal } = {}) {
  const url = new URL(path, window.location.origin);
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
  }
  const headers = { Accept: "application/json" };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal,
  });
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (!response.ok) throw new ApiError(response.status, detailOf(data, response.status), data);
  return data;
}

/** POST events; resolves to {accepted, rejected}; a fully rejected batch (422) is returned, not thrown. */
export async function postEvents(events, token = getToken()) {
  try {
    return await api("/api/v1/events", { method: "POST", body: events, token });
  } catch (error) {
    if (error instanceof ApiError && error.status === 422 && error.body && Array.isArray(error.body.rejected)) {
      return error.body;
    }
    throw error;
  }
}
