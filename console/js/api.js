// HTTP to the Hypercare API with the signed-in token, or (signed in with the region's identity provider) with
// the session cookie: then every write echoes the hc_csrf cookie in X-CSRF-Token (double submit).

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

const CSRF_COOKIE = "hc_csrf";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The CSRF token of a session signed in with the identity provider ("" without one). */
export function csrfToken() {
  for (const part of document.cookie.split(";")) {
    const [name, ...value] = part.trim().split("=");
    if (name === CSRF_COOKIE) return decodeURIComponent(value.join("="));
  }
  return "";
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
  else if (!SAFE_METHODS.has(method.toUpperCase())) headers["X-CSRF-Token"] = csrfToken();
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal,
  });
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (!response.ok) throw new ApiError(response.status, detailOf(data, response.status), data);
  return data;
}

/** Sign-in with the region's identity provider: is it configured? (false when the server cannot say) */
export async function oidcConfigured() {
  try { return Boolean((await api("/api/v1/auth/config", { token: "" })).oidc); } catch { return false; }
}

/** Ends the identity-provider session on the server (best effort: the cookies go with it), then sends the
 * browser to the provider's own sign-out when it has one (it returns to the console afterwards). */
export async function logoutSession() {
  let answer = null;
  try { answer = await api("/auth/logout", { method: "POST", token: "" }); } catch { /* offline: ends on expiry */ }
  if (answer && typeof answer.provider_logout_url === "string" && /^https?:\/\//.test(answer.provider_logout_url)) {
    window.location.assign(answer.provider_logout_url);
  }
}

/** POST events; resolves to {accepted, rejected}; a fully rejected batch (422, or 403 when every item was refused
 * for its sender: role, scope, actor) is returned with its reasons, not thrown. */
export async function postEvents(events, token = getToken()) {
  try {
    return await api("/api/v1/events", { method: "POST", body: events, token });
  } catch (error) {
    const batch = error instanceof ApiError && (error.status === 422 || error.status === 403);
    if (batch && error.body && Array.isArray(error.body.rejected)) {
      return error.body;
    }
    throw error;
  }
}
