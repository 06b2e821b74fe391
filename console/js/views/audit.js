// The audit log (granskningslogg), admins only: who wrote what, signed in or out, or was refused, and how it
// went; filters by time, principal, action and outcome; CSV export (formula-safe on the server).

import { api, getToken } from "../api.js";
import { h, replaceKeepingFocus } from "../dom.js";
import { formatTime, stockholmLocalToIso, t } from "../i18n.js";
import { latest } from "../latest.js";
import { describeError, field } from "../ui.js";

const OUTCOMES = ["success", "partial", "rejected", "unauthenticated", "forbidden", "refused", "error"];

export class AuditView {
  constructor({ me }) {
    this.me = me;
    this.query = { from: "", to: "", principal: "", action: "", outcome: "" };
    this.page = null;
    this.error = null;
    this.search = latest();
  }

  mount(root) {
    this.root = root;
    const input = (name, type = "text") => {
      const el = h("input", { name, type, class: "input", value: this.query[name] });
      el.addEventListener("change", () => { this.query[name] = el.value; this.refresh(); });
      return el;
    };
    const outcome = h("select", { name: "outcome", class: "input" }, h("option", { value: "" }, t("audit.all.outcomes")),
      OUTCOMES.map((value) => h("option", { value }, t(`audit.outcome.${value}`))));
    outcome.addEventListener("change", () => { this.query.outcome = outcome.value; this.refresh(); });
    root.replaceChildren(h("section", { class: "panel audit", "aria-labelledby": "audit-title" },
      h("div", { class: "panel-head" },
        h("h1", { id: "audit-title" }, t("audit.title")),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "button", onclick: () => this.exportCsv() }, t("audit.csv")))),
      h("form", { class: "filters", role: "search", onsubmit: (e) => { e.preventDefault(); this.refresh(); } },
        field(t("audit.from"), input("from", "date")),
        field(t("audit.to"), input("to", "date")),
        field(t("audit.principal"), input("principal")),
        field(t("audit.action"), input("action")),
        field(t("audit.outcome"), outcome)),
      h("div", { id: "audit-body", "aria-live": "polite" })));
    this.body = root.querySelector("#audit-body");
    this.refresh();
  }

  unmount() {
    this.search.cancel();
  }

  params() {
    const day = (value, days = 0) => {
      if (!value) return undefined;
      const start = stockholmLocalToIso(`${value}T00:00`);
      return new Date(Date.parse(start) + days * 86400000).toISOString();
    };
    return { from: day(this.query.from), to: day(this.query.to, 1), principal: this.query.principal,
      action: this.query.action, outcome: this.query.outcome, limit: 500 };
  }

  async refresh() {
    try {
      const params = this.params();
      this.page = await this.search((signal) => api("/api/v1/audit", { params, signal }));
      this.error = null;
    } catch (error) {
      this.error = describeError(error);
    }
    this.render();
  }

  render() {
    if (this.error) { replaceKeepingFocus(this.body, h("p", { class: "form-error", role: "alert" }, this.error)); return; }
    if (!this.page) { replaceKeepingFocus(this.body, h("p", {}, t("loading"))); return; }
    if (!this.page.items.length) { replaceKeepingFocus(this.body, h("p", {}, t("audit.none"))); return; }
    const counts = (item) => (item.accepted === null || item.accepted === undefined ? ""
      : t("audit.counts", { accepted: item.accepted, rejected: item.rejected ?? 0 }));
    replaceKeepingFocus(this.body, h("div", {},
      h("p", { class: "small" }, t("audit.total", { shown: this.page.items.length, total: this.page.total })),
      h("div", { class: "table-wrap table-wrap--tall" },
        h("table", { class: "table audit-table" },
          h("thead", {}, h("tr", {},
            ["time", "principal", "role", "action", "object", "outcome", "status", "client", "request"]
              .map((key) => h("th", { scope: "col" }, t(`audit.col.${key}`))))),
          h("tbody", {}, this.page.items.map((item) => h("tr", { dataset: { outcome: item.outcome } },
            h("td", {}, formatTime(item.at, { date: true })),
            h("td", {}, item.principal || "–"),
            h("td", {}, item.role ? t(`role.${item.role}`) : "–"),
            h("td", {}, item.action),
            h("td", {}, item.object || ""),
            h("td", {}, t(`audit.outcome.${item.outcome}`), counts(item) ? ` (${counts(item)})` : ""),
            h("td", { class: "num" }, item.status ?? ""),
            h("td", {}, item.client || ""),
            h("td", { class: "small" }, item.request_id))))))));
  }

  async exportCsv() {
    const url = new URL("/api/v1/audit", window.location.origin);
    for (const [key, value] of Object.entries({ ...this.params(), limit: 5000, format: "csv" })) {
      if (value) url.searchParams.set(key, value);
    }
    const response = await fetch(url, { headers: { Authorization: `Bearer ${getToken()}` } });
    const link = h("a", { href: URL.createObjectURL(await response.blob()), download: "granskningslogg.csv" });
    document.body.append(link);
    link.click();
    link.remove();
  }
}
