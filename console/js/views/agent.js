// The service-agent view: live ticket flow with filters, hot spots, a unit's history, known issues.

import { api } from "../api.js";
import { h, replaceKeepingFocus } from "../dom.js";
import { CATEGORIES, formatNumber, formatTime, staffRole, t } from "../i18n.js";
import { latest } from "../latest.js";
import { can } from "../permissions.js";
import {
  badge, describeError, knownIssueItem, openLinkDialog, openNewKnownIssueDialog,
  setKnownIssueStatus,
} from "../ui.js";

const FLOW_LIMIT = 100;
const POLL_MS = 15000;
const LIVE_REFRESH_MS = 1500;

export class AgentView {
  constructor({ live, known, me }) {
    this.live = live;
    this.known = known;
    this.me = me;
    this.canWriteKnown = can(me.role, "writeKnownIssues");
    this.filters = { administration_id: "", site_id: "", unit_id: "", category: "", priority: "" };
    this.tickets = null;
    this.ticketsError = null;
    this.hotspots = null;
    this.historyUnit = null;
    this.history = null;
    // Filters, live changes and the poll all reload the flow; clicks pick a unit's history: the newest wins.
    this.flowLoad = latest();
    this.historyLoad = latest();
    this.refreshTimer = null;
    this.onLive = (event) => {
      if (event.detail && !event.detail.snapshot && !(event.detail.message?.units || []).length) return;
      this.soon();
    };
    this.onKnown = () => this.renderSide();
    this.onModel = () => this.syncFilterOptions();
  }

  mount(root) {
    this.root = root;
    root.replaceChildren(h("div", { class: "agent-grid" },
      h("section", { class: "panel flow", "aria-labelledby": "flow-title" },
        h("div", { class: "panel-head" }, h("h1", { id: "flow-title" }, t("agent.flow"))),
        this.buildFilters(),
        h("div", { id: "flow-body", class: "table-wrap table-wrap--tall", dataset: { scrollKey: "flow" } })),
      h("aside", { class: "agent-side", id: "agent-side" })));
    this.flowBody = root.querySelector("#flow-body");
    this.side = root.querySelector("#agent-side");
    this.live.addEventListener("change", this.onLive);
    this.live.addEventListener("change", this.onModel);
    this.known.addEventListener("change", this.onKnown);
    this.poll = setInterval(() => { if (!this.loading()) this.refresh(); }, POLL_MS);
    this.syncFilterOptions();
    this.refresh();
  }

  unmount() {
    this.live.removeEventListener("change", this.onLive);
    this.live.removeEventListener("change", this.onModel);
    this.known.removeEventListener("change", this.onKnown);
    clearInterval(this.poll);
    clearTimeout(this.refreshTimer);
    this.flowLoad.cancel();
    this.historyLoad.cancel();
  }

  soon() {
    if (this.refreshTimer) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = null;
      // A live change waits for a load in flight rather than cutting it off (see latest.js).
      if (this.loading()) this.soon(); else this.refresh();
    }, LIVE_REFRESH_MS);
  }

  loading() {
    return this.flowLoad.pending || this.historyLoad.pending;
  }

  // -- filters -------------------------------------------------------------------------------

  buildFilters() {
    const select = (name, label) => {
      const id = `filter-${name}`;
      const el = h("select", { id, name, dataset: { filter: name } }, h("option", { value: "" }, t("agent.filter.all")));
      el.addEventListener("change", () => {
        this.filters[name] = el.value;
        if (name === "administration_id") { this.filters.site_id = ""; this.filters.unit_id = ""; }
        if (name === "site_id") this.filters.unit_id = "";
        this.syncFilterOptions();
        this.refresh();
      });
      return h("div", { class: "field field--inline" }, h("label", { for: id }, label), el);
    };
    this.filterEls = h("form", { class: "filters", "aria-label": t("agent.filters"), onsubmit: (e) => e.preventDefault() },
      select("administration_id", t("agent.filter.administration")),
      select("site_id", t("agent.filter.site")),
      select("unit_id", t("agent.filter.unit")),
      select("category", t("agent.filter.category")),
      select("priority", t("agent.filter.priority")));
    return this.filterEls;
  }

  syncFilterOptions() {
    if (!this.filterEls || !this.live.ready) return;
    const options = {
      administration_id: [...this.live.administrations.values()].map((a) => [a.administration_id, a.name]),
      site_id: [...this.live.sites.values()]
        .filter((s) => !this.filters.administration_id || s.administration_id === this.filters.administration_id)
        .map((s) => [s.site_id, s.name]),
      unit_id: [...this.live.units.values()]
        .filter((u) => (!this.filters.administration_id || u.administration_id === this.filters.administration_id)
          && (!this.filters.site_id || u.site_id === this.filters.site_id))
        .map((u) => [u.unit_id, u.name]),
      category: CATEGORIES.map((c) => [c, t(`cat.${c}`)]),
      priority: ["1", "2", "3", "4"].map((p) => [p, p]),
    };
    for (const [name, pairs] of Object.entries(options)) {
      const el = this.filterEls.querySelector(`[data-filter="${name}"]`);
      const signature = JSON.stringify(pairs);
      if (el.dataset.signature === signature) continue;
      el.dataset.signature = signature;
      el.replaceChildren(h("option", { value: "" }, t("agent.filter.all")),
        pairs.map(([value, label]) => h("option", { value }, label)));
      el.value = this.filters[name];
    }
  }

  // -- data ----------------------------------------------------------------------------------

  async refresh() {
    const params = { limit: FLOW_LIMIT, ...this.filters };
    const [tickets, hotspots] = await this.flowLoad((signal) => Promise.allSettled([
      api("/api/v1/tickets", { params, signal }),
      api("/api/v1/tickets/hotspots", { params: { minutes: 60, limit: 8 }, signal }),
    ]));
    if (tickets.status === "fulfilled") { this.tickets = tickets.value.items; this.ticketsError = null; }
    else this.ticketsError = describeError(tickets.reason);
    if (hotspots.status === "fulfilled") this.hotspots = hotspots.value.items;
    if (this.historyUnit) await this.loadHistory(this.historyUnit, { quiet: true });
    this.renderFlow();
    this.renderSide();
  }

  async loadHistory(unitId, { quiet = false } = {}) {
    this.historyUnit = unitId;
    const path = `/api/v1/units/${encodeURIComponent(unitId)}/events`;
    try {
      this.history = await this.historyLoad((signal) => api(path, { params: { limit: 30 }, signal }));
    } catch (error) {
      this.history = { error: describeError(error), items: [] };
    }
    if (!quiet) this.renderSide();
  }

  // -- rendering -----------------------------------------------------------------------------

  renderFlow() {
    if (this.tickets === null) {
      replaceKeepingFocus(this.flowBody, h("p", { class: "muted" }, this.ticketsError || t("loading")));
      return;
    }
    const rows = this.tickets.map((item) => {
      const ticket = item.ticket || {};
      const priority = item.payload.priority ?? ticket.priority;
      const summary = item.payload.summary ?? ticket.summary ?? "";
      const status = item.type === "ticket.updated" ? item.payload.status : null;
      const issues = (item.known_issue_ids || []).map((id) => h("span", { class: "pill", title: this.known.byId(id)?.title ?? "" }, `KI-${id}`));
      return h("tr", { dataset: { eventId: item.event_id, ticketId: item.ticket_id } },
        h("td", { class: "nowrap" }, formatTime(item.occurred_at, { seconds: true })),
        h("td", {}, h("span", { class: `pill pill--event-${item.type.split(".")[1]}` }, t(`event.${item.type}`)),
          status ? h("span", { class: "muted small" }, ` ${t(`ticket.status.${status}`)}`) : null),
        h("td", { class: "nowrap" }, item.ticket_id),
        h("td", {}, h("button", {
          type: "button", class: "link-button", dataset: { key: `hist-${item.event_id}` },
          "aria-label": t("agent.show.history", { name: item.unit_name }), onclick: () => this.loadHistory(item.unit_id),
        }, item.unit_name)),
        h("td", {}, ticket.category ? t(`cat.${ticket.category}`) : "–"),
        h("td", { class: "num" }, priority ? h("span", { class: `prio prio--${priority}` }, `P${priority}`) : "–"),
        h("td", { class: "summary" },
          ticket.patient_safety ? h("span", { class: "pill pill--alert" }, t("patient.safety")) : null,
          h("span", { class: "summary-text" }, summary)),
        h("td", { class: "nowrap" }, issues,
          this.canWriteKnown && ticket.status !== "resolved" ? h("button", {
            type: "button", class: "button button--small", dataset: { key: `link-${item.event_id}` },
            onclick: () => openLinkDialog(this.known, item.ticket_id, () => this.refresh()),
          }, t("known.link")) : null));
    });
    replaceKeepingFocus(this.flowBody,
      rows.length ? h("table", { class: "table table--flow" },
        h("thead", {}, h("tr", {}, ["time", "event", "ticket", "unit", "category", "priority", "summary", "known"].map((c) =>
          h("th", { scope: "col", class: c === "priority" ? "num" : "" }, t(`agent.col.${c}`))))),
        h("tbody", {}, rows))
        : h("p", { class: "muted" }, t("agent.none")),
      this.ticketsError ? h("p", { class: "form-error", role: "alert" }, this.ticketsError) : null);
  }

  renderSide() {
    if (!this.side) return;
    const writer = this.canWriteKnown;
    const hot = this.hotspots || [];
    const historyName = this.history?.name ?? this.historyUnit;
    replaceKeepingFocus(this.side,
      h("section", { class: "panel", "aria-labelledby": "hot-title" },
        h("h2", { id: "hot-title" }, t("agent.hotspots")),
        hot.length ? h("ol", { class: "hot-list" }, hot.map((spot) => h("li", { dataset: { unitId: spot.unit_id } },
          h("button", { type: "button", class: "link-button", dataset: { key: `hot-${spot.unit_id}` },
            onclick: () => this.loadHistory(spot.unit_id) }, spot.unit_name),
          h("span", { class: "hot-growth" }, t("agent.hotspot.line", spot)),
          badge(this.live.units.get(spot.unit_id)?.health?.status))))
          : h("p", { class: "muted" }, this.hotspots === null ? t("loading") : t("agent.hotspots.none"))),
      h("section", { class: "panel", "aria-labelledby": "history-title" },
        h("h2", { id: "history-title" }, this.historyUnit ? t("agent.history.of", { name: historyName }) : t("agent.history")),
        !this.historyUnit ? h("p", { class: "muted" }, t("agent.history.pick"))
          : this.history?.error ? h("p", { class: "form-error" }, this.history.error)
            : h("ol", { class: "history-list", dataset: { scrollKey: "history" } }, (this.history?.items || []).map((item) =>
              h("li", {},
                h("time", { class: "muted small nowrap" }, formatTime(item.occurred_at, { date: true })),
                h("span", { class: "pill" }, t(`event.${item.type}`)),
                h("span", {}, describeEvent(item)))))),
      h("section", { class: "panel", "aria-labelledby": "agent-known-title" },
        h("div", { class: "panel-head" },
          h("h2", { id: "agent-known-title" }, t("known.title")),
          writer ? h("button", { type: "button", class: "button", dataset: { key: "agent-new-known" },
            onclick: () => openNewKnownIssueDialog(this.known) }, t("known.new")) : null),
        this.known.items.length ? h("ul", { class: "known-list" }, this.known.items.map((issue) => knownIssueItem(issue, {
          onStatus: writer ? (i, s) => setKnownIssueStatus(this.known, i, s) : null,
        }))) : h("p", { class: "muted" }, t("known.none"))));
  }
}

/** A code as a word of the chosen language; an unknown code as it came. */
function code(kind, value) {
  const text = t(`${kind}.${value}`);
  return text === `${kind}.${value}` ? value : text;
}

/** One line of text about an event (payload fields as text only). */
function describeEvent(item) {
  const p = item.payload || {};
  switch (item.type) {
    case "ticket.opened": return `${p.ticket_id} · P${p.priority} · ${t(`cat.${p.category}`)} · ${p.summary || ""}`;
    case "ticket.updated": return `${p.ticket_id} · ${t(`ticket.status.${p.status}`)}${p.priority ? ` · P${p.priority}` : ""}`;
    case "ticket.resolved": return `${p.ticket_id}${p.resolution_code ? ` · ${p.resolution_code}` : ""}`;
    case "access.login": return `${p.user_ref} · ${t(`history.outcome.${p.outcome}`)}${p.reason ? ` (${code("loginreason", p.reason)})` : ""}`;
    case "access.permission_denied": return `${p.user_ref} · ${staffRole(p.role)} · ${p.module}`;
    case "floorwalker.checkin": return `${p.walker_id} · ${code("walkerstatus", p.status)}${p.assists ? ` · ${p.assists}` : ""}${p.needs_escalation ? " · !" : ""}${p.note ? ` · ${p.note}` : ""}`;
    case "floorwalker.checkout": return `${p.walker_id}`;
    case "ed.status": return `${formatNumber(p.patients_waiting)} / ${formatNumber(p.patients_in_department)} / ${formatNumber(p.capacity)}`;
    case "ed.diversion_started": return `${t(`scope.${p.scope}`)} · ${p.reason || ""}`;
    case "ed.diversion_ended": return `${p.decided_by || ""}${p.reason ? ` · ${p.reason}` : ""}`;
    default: return "";
  }
}
