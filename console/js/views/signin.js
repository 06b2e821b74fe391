// Sign-in: paste a token; it is checked with GET /api/v1/me and kept in localStorage.

import { api, ApiError } from "../api.js";
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
      const me = await api("/api/v1/me", { token });
      onSignedIn(token, me);
    } catch (failure) {
      error.textContent = failure instanceof ApiError ? t("signin.bad") : t("signin.network");
    }
  });
  root.replaceChildren(h("div", { class: "signin-wrap" }, form));
  input.focus();
}
