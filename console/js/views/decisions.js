// The decision log (beslutslogg): search, read, export as CSV; chiefs and admins record and correct decisions.
// A decision is a `decision.recorded` event through the ingest API; entries are never edited, only corrected.

import { api, getToken } from "../api.js";
import { h, replaceKeepingFocus } from "../dom.js";
import { newEvent, newId, sendEvent } from "../events.js";
import { formatTime, stockholmLocalToIso, t } from "../i18n.js";
import { latest } from "../latest.js";
import { can } from "../permissions.js";
import { describeError, field, openFormDialog } from "../ui.js";

export class DecisionsView {
  constructor({ live, me }) {
    this.live = live;
    this.me = me;
    this.canDecide = can(me.role, "decide");
    this.query = { q: "", from: "", to: "", unit_id: "", owner: "" };
    this.items = null;
    this.error = null;
    this.search = latest();  // the newest search wins (Enter fires both change and submit, filters change fast)
    this.timers = new Set();
  }

  mount(root) {
    this.root = root;
    const input = (name, type = "text") => {
      const el = h("input", { name, type, class: "input", value: this.query[name] });
      el.addEventListener("change", () => { this.query[name] = el.value; this.refresh(); });
      return el;
    };
    const unit = h("select", { name: "unit_id", class: "input" }, h("option", { value: "" }, t("decisions.all.units")),
      [...this.live.units.values()].sort((a, b) => a.name.localeCompare(b.name, "sv"))
        .map((u) => h("option", { value: u.unit_id }, u.name)));
    unit.addEventListener("change", () => { this.query.unit_id = unit.value; this.refresh(); });
    root.replaceChildren(h("section", { class: "panel decisions", "aria-labelledby": "decisions-title" },
      h("div", { class: "panel-head" },
        h("h1", { id: "decisions-title" }, t("decisions.title")),
        h("div", { class: "actions" },
          h("button", { type: "button", class: "button", onclick: () => this.exportCsv() }, t("decisions.csv")),
          this.canDecide
            ? h("button", { type: "button", class: "button button--primary", onclick: () => this.openNew() }, t("decisions.new"))
            : null)),
      h("form", { class: "filters", role: "search", onsubmit: (e) => { e.preventDefault(); this.refresh(); } },
        field(t("decisions.search"), input("q", "search")),
        field(t("decisions.from"), input("from", "date")),
        field(t("decisions.to"), input("to", "date")),
        field(t("decisions.unit"), unit),
        field(t("decisions.owner"), input("owner"))),
      h("div", { id: "decisions-body", "aria-live": "polite" })));
    this.body = root.querySelector("#decisions-body");
    this.refresh();
  }

  unmount() {
    this.search.cancel();
    for (const timer of this.timers) clearTimeout(timer);
  }

  later(fn, ms) {
    const timer = setTimeout(() => { this.timers.delete(timer); fn(); }, ms);
    this.timers.add(timer);
  }

  params() {
    const day = (value, days = 0) => {
      if (!value) return undefined;
      const start = stockholmLocalToIso(`${value}T00:00`);
      return new Date(Date.parse(start) + days * 86400000).toISOString();
    };
    return { q: this.query.q, from: day(this.query.from), to: day(this.query.to, 1), unit_id: this.query.unit_id,
      owner: this.query.owner, limit: 500 };
  }

  async refresh() {
    try {
      const params = this.params();
      const data = await this.search((signal) => api("/api/v1/decisions", { params, signal }));
      this.items = data.items;
      this.error = null;
    } catch (error) {
      this.error = describeError(error);
    }
    this.render();
  }

  render() {
    if (this.error) { replaceKeepingFocus(this.body, h("p", { class: "form-error", role: "alert" }, this.error)); return; }
    if (!this.items) { replaceKeepingFocus(this.body, h("p", {}, t("decisions.loading"))); return; }
    if (!this.items.length) { replaceKeepingFocus(this.body, h("p", {}, t("decisions.none"))); return; }
    replaceKeepingFocus(this.body, h("ol", { class: "decision-list" }, this.items.map((item) => this.entry(item))));
  }

  /** A diversion's title and decision in the chosen language (the server words them in Swedish for the log);
   * a recorded decision's as its author wrote them. */
  wording(item) {
    const to = (item.affected_unit_ids || []).slice(1).map((id) => this.live.unitName(id)).join(", ");
    if (item.type === "ed.diversion_started") {
      const scope = item.diversion_scope ? t(`scope.${item.diversion_scope}`) : "";
      return {
        title: t("decisions.diversion.started", { from: item.unit_name, to }),
        decision: t("decisions.diversion.decision", { scope: scope.toLowerCase(), to }),
      };
    }
    if (item.type === "ed.diversion_ended") {
      return { title: t("decisions.diversion.ended", { from: item.unit_name }), decision: t("decisions.diversion.end") };
    }
    return { title: item.title, decision: item.decision };
  }

  entry(item) {
    const row = (label, value) => (value ? h("div", { class: "decision-row" }, h("dt", {}, label), h("dd", {}, value)) : null);
    const units = (item.affected_unit_ids || []).map((id) => this.live.unitName(id)).join(", ");
    const { title, decision } = this.wording(item);
    return h("li", { class: ["decision", item.corrected_by.length ? "decision--corrected" : null], dataset: { decisionId: item.decision_id } },
      h("div", { class: "decision-head" },
        h("h2", {}, title),
        h("span", { class: "decision-meta" }, `${item.decision_id} · ${formatTime(item.occurred_at, { date: true })}`)),
      item.corrected_by.length ? h("p", { class: "decision-flag" }, t("decisions.corrected.by", { ids: item.corrected_by.join(", ") })) : null,
      item.corrects ? h("p", { class: "decision-flag" }, t("decisions.corrects", { id: item.corrects })) : null,
      h("dl", {},
        row(t("decisions.field.decision"), decision),
        row(t("decisions.field.rationale"), item.rationale),
        row(t("decisions.field.mandate"), item.mandate),
        row(t("decisions.field.owner"), item.owner),
        row(t("decisions.field.decided.by"), item.decided_by),
        row(t("decisions.field.unit"), item.unit_name),
        row(t("decisions.field.affected"), units),
        row(t("decisions.field.follow.up"), item.follow_up_at ? formatTime(item.follow_up_at, { date: true }) : "")),
      this.canDecide && item.type === "decision.recorded"
        ? h("button", { type: "button", class: "button", onclick: () => this.openNew(item) }, t("decisions.correct"))
        : null);
  }

  async exportCsv() {
    const url = new URL("/api/v1/decisions", window.location.origin);
    for (const [key, value] of Object.entries({ ...this.params(), limit: 5000, format: "csv" })) {
      if (value) url.searchParams.set(key, value);
    }
    const response = await fetch(url, { headers: { Authorization: `Bearer ${getToken()}` } });
    const link = h("a", { href: URL.createObjectURL(await response.blob()), download: "beslutslogg.csv" });
    document.body.append(link);
    link.click();
    link.remove();
  }

  openNew(original = null) {
    const text = (name, value = "", rows = 0) => (rows
      ? h("textarea", { name, rows, class: "input input--wide" }, value)
      : h("input", { name, class: "input input--wide", value }));
    const scope = h("select", { name: "unit_id", class: "input input--wide" },
      h("option", { value: this.live.region?.region_id || "" }, this.live.region?.name || t("level.region")),
      [...this.live.units.values()].sort((a, b) => a.name.localeCompare(b.name, "sv"))
        .map((u) => h("option", { value: u.unit_id, selected: original?.unit_id === u.unit_id }, u.name)));
    openFormDialog({
      title: original ? t("decisions.correct.title", { id: original.decision_id }) : t("decisions.new"),
      submitLabel: t("decisions.save"),
      fields: [
        field(t("decisions.field.title"), text("title", original ? original.title : "")),
        field(t("decisions.field.decision"), text("decision", original ? original.decision : "", 3)),
        field(t("decisions.field.rationale"), text("rationale", original ? original.rationale : "", 3)),
        field(t("decisions.field.mandate"), text("mandate", original ? original.mandate : "")),
        field(t("decisions.field.owner"), text("owner", original ? original.owner : "")),
        field(t("decisions.field.unit"), scope),
        field(t("decisions.field.follow.up"), h("input", { name: "follow_up", type: "datetime-local", class: "input" })),
      ],
      onSubmit: async (form) => {
        const value = (name) => form.elements[name].value.trim();
        if (!value("title") || !value("decision")) throw new Error(t("decisions.required"));
        const followUp = value("follow_up") ? stockholmLocalToIso(value("follow_up")) : null;
        const event = newEvent("decision.recorded", value("unit_id"), {
          decision_id: newId("B"), title: value("title"), decision: value("decision"), rationale: value("rationale"),
          mandate: value("mandate"), owner: value("owner"), decided_by: this.me.name,
          affected_unit_ids: value("unit_id") && this.live.units.has(value("unit_id")) ? [value("unit_id")] : [],
          ...(followUp ? { follow_up_at: followUp } : {}),
          ...(original ? { corrects: original.decision_id } : {}),
        });
        await sendEvent(event);
        this.later(() => this.refresh(), 800);  // the worker stores it within a moment
      },
    });
  }
}
