// Sign-in: with the region's identity provider when the server has one (GET /api/v1/auth/config → /auth/login,
// back with a session cookie), else by pasting a token, checked with GET /api/v1/me and kept in localStorage.

import { api, ApiError, oidcConfigured } from "../api.js";
import { h } from "../dom.js";
import { t } from "../i18n.js";

export function renderSignIn(root, { onSignedIn, message }) {
  const input = h("input", {
    id: "token", name: "token", type: "password", autocomplete: "off", spellcheck: "false", required: true,
    class: "input--wide",
  });
  const error = h("p", { class: "form-error", role: "alert" }, message || "");
  const form = h("form", { class: "signin card", novalidate: true },
    h("h1", {}, t("signin.title")),
    h("p", {}, t("signin.intro")),
    h("div", { class: "field" }, h("label", { for: "token" }, t("signin.token")), input),
    error,
    h("button", { type: "submit", class: "button button--primary button--large" }, t("signin.submit")));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    const token = input.value.trim();
    if (!token) { error.textContent = t("signin.bad"); return; }
    try {
      const me = await api("/api/v1/sign-in", { method: "POST", token });  // noted once in the audit log
      onSignedIn(token, me);
    } catch (failure) {
      error.textContent = failure instanceof ApiError ? t("signin.bad") : t("signin.network");
    }
  });
  root.replaceChildren(h("div", { class: "signin-wrap" }, form));
  input.focus();
  oidcConfigured().then((oidc) => {
    if (!oidc || !form.isConnected) return;
    // The identity provider is the way in; a pasted token remains for the few who hold one.
    const provider = h("div", { class: "signin card" },
      h("h1", {}, t("signin.title")),
      h("p", {}, t("signin.oidc.intro")),
      message ? h("p", { class: "form-error", role: "alert" }, message) : null,
      h("a", { href: "/auth/login", class: "button button--primary button--large", id: "signin-oidc" }, t("signin.oidc")));
    const more = h("details", { class: "signin-token" }, h("summary", {}, t("signin.oidc.token")), form);
    form.querySelector("h1")?.remove();
    error.textContent = "";
    root.replaceChildren(h("div", { class: "signin-wrap" }, provider, more));
    provider.querySelector("a").focus();
  });
}
