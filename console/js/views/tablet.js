// The floor-walker tablet view: two taps to check in, big buttons, works offline (outbox).

import { h, replaceKeepingFocus, toast } from "../dom.js";
import { newEvent, SOURCES } from "../events.js";
import { CATEGORIES, formatNumber, t } from "../i18n.js";
import { badge } from "../ui.js";

const RECENT_KEY = "hc.tablet.recent";
const CHECKED_IN_KEY = "hc.tablet.checkedIn";  // + "." + walker_id: each walker's own, on a shared tablet
const ESCALATED_KEY = "hc.tablet.escalated";
const NAMES_KEY = "hc.tablet.names";  // unit names of recent units, for a start without network
const RECENT_MAX = 6;
const NEARBY_MAX = 6;
const RENDER_EVERY_MS = 400;

function load(key, fallback) {
  try { return JSON.parse(localStorage.getItem(key)) ?? fallback; } catch { return fallback; }
}
function save(key, value) {
  try { localStorage.setItem(key, JSON.stringify(value)); } catch { /* private mode */ }
}
function fold(text) {
  return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

export class TabletView {
  constructor({ live, me, outbox }) {
    this.live = live;
    this.me = me;
    this.outbox = outbox;
    this.checkedInKey = `${CHECKED_IN_KEY}.${me.walker_id}`;
    this.query = "";
    this.timer = null;
    this.lastRender = 0;
    this.onChange = () => { this.live.subscribe(this.scopes()); this.schedule(); };
  }

  /** Its unit and the nearby ones (the unit's site, once the unit says which); the picker searches every unit. */
  scopes() {
    if (!this.unitId) return ["all"];
    const site = this.live.units.get(this.unitId)?.site_id;
    return site ? [this.unitId, site] : [this.unitId];
  }

  mount(root, route) {
    this.root = root;
    this.unitId = route.id || null;
    this.live.subscribe(this.scopes());
    if (this.unitId) this.remember(this.unitId);
    this.root.replaceChildren(
      h("div", { class: "tablet" },
        h("div", { class: "queue-bar", role: "status", "aria-live": "polite", id: "queue-status" }),
        h("div", { id: "tablet-body" })));
    this.queueEl = this.root.querySelector("#queue-status");
    this.body = this.root.querySelector("#tablet-body");
    this.live.addEventListener("change", this.onChange);
    this.live.addEventListener("state", this.onChange);
    this.outbox.addEventListener("change", this.onChange);
    window.addEventListener("online", this.onChange);
    window.addEventListener("offline", this.onChange);
    if (!this.unitId) this.renderPicker();
    this.render();
  }

  unmount() {
    this.live.removeEventListener("change", this.onChange);
    this.live.removeEventListener("state", this.onChange);
    this.outbox.removeEventListener("change", this.onChange);
    window.removeEventListener("online", this.onChange);
    window.removeEventListener("offline", this.onChange);
    clearTimeout(this.timer);
  }

  schedule() {
    if (this.timer) return;
    const wait = Math.max(0, RENDER_EVERY_MS - (Date.now() - this.lastRender));
    this.timer = setTimeout(() => { this.timer = null; this.render(); }, wait);
  }

  remember(unitId) {
    const recent = load(RECENT_KEY, []).filter((id) => id !== unitId);
    recent.unshift(unitId);
    save(RECENT_KEY, recent.slice(0, RECENT_MAX));
  }

  render() {
    this.lastRender = Date.now();
    this.renderQueue();
    if (this.unitId) this.renderUnit();
    else this.renderUnitList();
  }

  renderQueue() {
    const { pending, refused, others } = this.outbox;
    const offline = !navigator.onLine;
    this.queueEl.className = ["queue-bar", pending ? "queue-bar--pending" : "", offline ? "queue-bar--offline" : ""].join(" ");
    this.queueEl.replaceChildren(...[
      h("span", { class: "queue-count", dataset: { queued: String(pending) } },
        pending ? t("tablet.queue", { n: pending }) : t("tablet.queue.empty")),
      offline ? h("span", {}, t("tablet.queue.offline")) : null,
      ...others.map(([name, n]) => h("span", { class: "queue-others", dataset: { waitingFor: name } },
        t("tablet.queue.others", { n, name }))),
      refused ? h("span", { class: "queue-refused" }, t("tablet.queue.failed", { n: refused }),
        " ", h("button", { type: "button", class: "button button--small", onclick: () => this.outbox.clearRefused() }, t("close"))) : null,
    ].filter(Boolean));
  }

  // -- picking a unit --------------------------------------------------------------------------

  renderPicker() {
    const search = h("input", {
      type: "search", id: "unit-search", class: "input--large input--wide", autocomplete: "off",
      value: this.query, placeholder: t("tablet.search"),
    });
    search.addEventListener("input", () => { this.query = search.value; this.renderUnitList(); });
    this.body.replaceChildren(
      h("section", { class: "panel picker", "aria-labelledby": "picker-title" },
        h("h1", { id: "picker-title" }, t("tablet.pick")),
        h("div", { class: "field" }, h("label", { for: "unit-search" }, t("tablet.search")), search),
        h("div", { id: "unit-lists" })));
  }

  renderUnitList() {
    const lists = this.body.querySelector("#unit-lists");
    if (!lists) return;
    if (!this.live.ready) { replaceKeepingFocus(lists, h("p", {}, t("loading"))); return; }
    const recent = load(RECENT_KEY, []).map((id) => this.live.units.get(id)).filter(Boolean);
    const query = fold(this.query.trim());
    const matches = [...this.live.units.values()]
      .filter((unit) => !query || fold(unit.name).includes(query) || fold(unit.unit_id).includes(query)
        || fold(this.live.sites.get(unit.site_id)?.name).includes(query));
    const bySite = new Map();
    for (const unit of matches) {
      if (!bySite.has(unit.site_id)) bySite.set(unit.site_id, []);
      bySite.get(unit.site_id).push(unit);
    }
    const unitButton = (unit, prefix) => h("a", {
      href: `#/tablet/${encodeURIComponent(unit.unit_id)}`, class: "unit-button", dataset: { key: `${prefix}-${unit.unit_id}` },
    }, h("span", { class: "unit-button-name" }, unit.name), badge(unit.health?.status));
    replaceKeepingFocus(lists,
      !query && recent.length ? h("section", { "aria-labelledby": "recent-title" },
        h("h2", { id: "recent-title" }, t("tablet.recent")),
        h("div", { class: "unit-grid" }, recent.map((unit) => unitButton(unit, "recent")))) : null,
      h("section", { "aria-labelledby": "all-title" },
        h("h2", { id: "all-title" }, t("tablet.all")),
        matches.length ? [...bySite].map(([siteId, units]) => h("div", { class: "site-group" },
          h("h3", {}, this.live.sites.get(siteId)?.name ?? siteId),
          h("div", { class: "unit-grid" }, units.map((unit) => unitButton(unit, "all")))))
          : h("p", {}, t("tablet.no.match"))));
  }

  // -- on a unit -----------------------------------------------------------------------------

  renderUnit() {
    const unit = this.live.units.get(this.unitId);
    const names = load(NAMES_KEY, {});
    if (unit && names[this.unitId] !== unit.name) {
      const recent = new Set(load(RECENT_KEY, []));
      save(NAMES_KEY, Object.fromEntries(Object.entries({ ...names, [this.unitId]: unit.name })
        .filter(([id]) => recent.has(id) || id === this.unitId)));
    }
    const name = unit?.name ?? names[this.unitId] ?? this.unitId;
    const checkedIn = load(this.checkedInKey, null) === this.unitId;
    const escalated = Boolean(load(ESCALATED_KEY, {})[this.unitId]);
    const walkers = unit?.floorwalkers || {};
    const site = unit ? this.live.sites.get(unit.site_id) : null;
    const lastVisit = walkers.minutes_since_last_visit;
    const note = this.body.querySelector("#escalation-note");
    const noteValue = note ? note.value : "";
    const header = h("section", { class: "panel unit-card", "aria-labelledby": "unit-title" },
      h("div", { class: "unit-card-head" },
        h("div", {},
          h("p", { class: "eyebrow" }, site?.name ?? ""),
          h("h1", { id: "unit-title" }, name)),
        unit ? badge(unit.health?.status, { large: true }) : null),
      h("dl", { class: "facts" },
        h("div", {}, h("dt", {}, t("fig.fw")), h("dd", { dataset: { metric: "floorwalkers.on_unit" } }, formatNumber(walkers.on_unit))),
        h("div", {}, h("dt", {}, t("fig.lastvisit")), h("dd", {}, lastVisit === null || lastVisit === undefined
          ? t("fig.lastvisit.never") : t("minutes", { n: lastVisit }))),
        h("div", {}, h("dt", {}, t("fig.open")), h("dd", {}, formatNumber(unit?.tickets?.open))),
        h("div", {}, h("dt", {}, t("fig.escalations")), h("dd", {}, formatNumber(walkers.open_escalations)))),
      h("p", { class: checkedIn ? "state state--in" : "state" }, checkedIn ? t("tablet.checked.in") : t("tablet.not.checked.in")),
      h("div", { class: "big-actions" },
        checkedIn
          ? h("button", { type: "button", class: "button button--huge", dataset: { key: "checkout", action: "checkout" },
            onclick: () => this.checkout() }, t("tablet.checkout"))
          : h("button", { type: "button", class: "button button--huge button--primary", dataset: { key: "checkin", action: "checkin" },
            onclick: () => this.checkin() }, t("tablet.checkin")),
        h("a", { href: "#/tablet", class: "button button--huge", dataset: { key: "change" } }, t("tablet.change"))),
      h("p", { class: "muted small" }, t("tablet.walker", { id: this.me.walker_id })));
    const assists = h("section", { class: "panel", "aria-labelledby": "assist-title" },
      h("h2", { id: "assist-title" }, t("tablet.assist")),
      h("p", { class: "muted" }, t("tablet.assist.hint")),
      h("div", { class: "category-grid" }, CATEGORIES.map((category) => h("button", {
        type: "button", class: "button button--category", dataset: { key: `assist-${category}`, category },
        onclick: () => this.assist(category),
      }, t(`cat.${category}`)))));
    const noteInput = h("textarea", { id: "escalation-note", rows: 2, maxlength: 500, class: "input--wide" });
    noteInput.value = noteValue;
    const escalation = h("section", { class: "panel", "aria-labelledby": "escalate-title" },
      h("h2", { id: "escalate-title" }, t("tablet.escalate")),
      escalated ? h("p", { class: "state state--warn" }, t("tablet.escalate.open")) : null,
      h("div", { class: "field" }, h("label", { for: "escalation-note" }, t("tablet.escalate.note")), noteInput),
      h("div", { class: "big-actions" },
        h("button", { type: "button", class: "button button--huge button--warn", dataset: { key: "escalate", action: "escalate" },
          onclick: () => this.escalate() }, t("tablet.escalate.send")),
        escalated ? h("button", { type: "button", class: "button button--huge", dataset: { key: "escalate-clear" },
          onclick: () => this.clearEscalation() }, t("tablet.escalate.clear")) : null));
    replaceKeepingFocus(this.body, h("div", { class: "tablet-grid" },
      h("div", { class: "tablet-col" }, header, this.renderNearby(unit)),
      h("div", { class: "tablet-col" }, assists, escalation)));
  }

  renderNearby(unit) {
    const site = unit ? this.live.sites.get(unit.site_id) : null;
    const others = (site?.unit_ids || []).filter((id) => id !== this.unitId).map((id) => this.live.units.get(id)).filter(Boolean)
      .filter((u) => !(u.floorwalkers?.on_unit > 0));
    const minutes = (u) => u.floorwalkers?.minutes_since_last_visit;
    others.sort((a, b) => (minutes(b) ?? Infinity) - (minutes(a) ?? Infinity) || a.name.localeCompare(b.name, "sv"));
    const stale = others.filter((u) => minutes(u) === null || minutes(u) === undefined || minutes(u) >= 60).slice(0, NEARBY_MAX);
    return h("section", { class: "panel", "aria-labelledby": "nearby-title" },
      h("h2", { id: "nearby-title" }, t("tablet.nearby")),
      stale.length ? h("ul", { class: "nearby-list" }, stale.map((u) => h("li", {},
        h("a", { href: `#/tablet/${encodeURIComponent(u.unit_id)}`, class: "unit-button", dataset: { key: `near-${u.unit_id}` },
          "aria-label": t("tablet.go", { name: u.name }) },
          h("span", { class: "unit-button-name" }, u.name),
          h("span", { class: "muted" }, minutes(u) === null || minutes(u) === undefined ? t("fig.lastvisit.never") : t("minutes", { n: minutes(u) })),
          badge(u.health?.status)))))
        : h("p", { class: "muted" }, t("tablet.nearby.none")));
  }

  // -- actions: each is an event in the outbox -----------------------------------------------

  /** The event is made (and its event_id fixed) here, once; the outbox resends it unchanged. */
  event(type, fields) {
    return newEvent(type, this.unitId, { walker_id: this.me.walker_id, ...fields }, { source: SOURCES.tablet });
  }

  escalatedHere() {
    return Boolean(load(ESCALATED_KEY, {})[this.unitId]);
  }

  async queue(event, what) {
    try {
      await this.outbox.enqueue(event);
      toast(t("tablet.saved", { what }));
    } catch (error) {
      toast(t("error.generic", { reason: String(error) }), "error");
    }
    this.render();
  }

  checkin() {
    save(this.checkedInKey, this.unitId);
    // The latest check-in carries the escalation flag, so keep it while the escalation is open.
    return this.queue(this.event("floorwalker.checkin", {
      status: "on_unit", assists: 0, needs_escalation: this.escalatedHere(),
    }), t("action.checkin"));
  }

  checkout() {
    save(this.checkedInKey, null);
    return this.queue(this.event("floorwalker.checkout", {}), t("action.checkout"));
  }

  assist(category) {
    save(this.checkedInKey, this.unitId);
    return this.queue(this.event("floorwalker.checkin", {
      status: "assisting", assists: 1, categories: [category], needs_escalation: this.escalatedHere(),
    }), t("action.assist", { category: t(`cat.${category}`) }));
  }

  escalate() {
    const note = this.body.querySelector("#escalation-note");
    const text = note ? note.value.trim() : "";
    const flags = load(ESCALATED_KEY, {});
    flags[this.unitId] = true;
    save(ESCALATED_KEY, flags);
    save(this.checkedInKey, this.unitId);
    const fields = { status: "on_unit", assists: 0, needs_escalation: true };
    if (text) fields.note = text.slice(0, 500);
    if (note) note.value = "";
    return this.queue(this.event("floorwalker.checkin", fields), t("action.escalate"));
  }

  clearEscalation() {
    const flags = load(ESCALATED_KEY, {});
    delete flags[this.unitId];
    save(ESCALATED_KEY, flags);
    save(this.checkedInKey, this.unitId);
    return this.queue(this.event("floorwalker.checkin", { status: "on_unit", assists: 0, needs_escalation: false }),
      t("action.escalate.clear"));
  }
}
