// The floor-walker tablet view: two taps to check in, big buttons, works offline (outbox for what the walker does,
// the last picture kept on the device for what the walker sees, always with its age).

import { h, replaceKeepingFocus, toast } from "../dom.js";
import { newEvent, SOURCES } from "../events.js";
import { CATEGORIES, formatNumber, formatTime, reasonTexts, t } from "../i18n.js";
import { LastPicture } from "../lastpicture.js";
import { badge } from "../ui.js";

const RECENT_KEY = "hc.tablet.recent";
const CHECKED_IN_KEY = "hc.tablet.checkedIn";  // + "." + walker_id: each walker's own, on a shared tablet
const ESCALATED_KEY = "hc.tablet.escalated";
const RECENT_MAX = 6;
const NEARBY_MAX = 6;
const RENDER_EVERY_MS = 400;
const KEEP_EVERY_MS = 1000;  // the last picture is written to the device at most once a second (and when the net goes)
const AGE_EVERY_MS = 15000;  // ages ("12 min sedan") move on while nothing else changes
const LOADING_PATIENCE_MS = 8000;  // "Laddar…" at most this long; then, without data, "Ingen data offline"
const STALE_AFTER_MIN = 2;  // like the connection pill: data older than this is shown with its age
const SENT_SHOWN_MS = 15000;

try { localStorage.removeItem("hc.tablet.names"); } catch { /* the names of recent units now live in the picture */ }

function load(key, fallback) {
  try { return JSON.parse(localStorage.getItem(key)) ?? fallback; } catch { return fallback; }
}
function save(key, value) {
  try { localStorage.setItem(key, JSON.stringify(value)); } catch { /* private mode */ }
}
function fold(text) {
  return (text || "").normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
}

/** Whole minutes from ``iso`` to now (0 when the device clock is behind). */
function ageMinutes(iso) {
  const ms = new Date(iso).getTime();
  return Number.isNaN(ms) ? null : Math.max(0, Math.floor((Date.now() - ms) / 60000));
}

/** "nyss", "12 min sedan", "3 h 5 min sedan". */
function ageText(minutes) {
  if (minutes < 1) return t("tablet.age.now");
  if (minutes < 60) return t("tablet.age.minutes", { n: minutes });
  return t("tablet.age.hours", { h: Math.floor(minutes / 60), m: minutes % 60 });
}

function visitText(walkers) {
  const minutes = walkers?.minutes_since_last_visit;
  return minutes === null || minutes === undefined ? t("fig.lastvisit.never") : t("minutes", { n: formatNumber(minutes) });
}

export class TabletView {
  constructor({ live, me, outbox }) {
    this.live = live;
    this.me = me;
    this.outbox = outbox;
    this.picture = new LastPicture(me.name);
    this.checkedInKey = `${CHECKED_IN_KEY}.${me.walker_id}`;
    this.query = "";
    this.timer = null;
    this.keepTimer = null;
    this.lastRender = 0;
    this.mountedAt = Date.now();
    this.sent = 0;
    this.sentAt = 0;
    this.onChange = () => { this.live.subscribe(this.scopes()); this.scheduleKeep(); this.schedule(); };
    // The network goes: keep the picture as it stands (the live model still holds it), then show it as offline.
    this.onOffline = () => { this.keep(); this.schedule(); };
    this.onSent = (event) => {
      this.sent = (Date.now() - this.sentAt < SENT_SHOWN_MS ? this.sent : 0) + (event.detail?.accepted ?? 0);
      this.sentAt = Date.now();
      this.schedule();
    };
  }

  /** Its unit and the nearby ones (the unit's site, from the live picture or the kept one); else every unit. */
  scopes() {
    if (!this.unitId) return ["all"];
    const site = this.live.units.get(this.unitId)?.site_id ?? this.picture.unit(this.unitId)?.site_id;
    return site ? [this.unitId, site] : [this.unitId];
  }

  mount(root, route) {
    this.root = root;
    this.unitId = route.id || null;
    this.live.subscribe(this.scopes());
    if (this.unitId) this.remember(this.unitId);
    this.root.replaceChildren(
      h("div", { class: "tablet" },
        h("div", { class: "tablet-status", id: "tablet-status" },
          h("div", { class: "queue-bar", role: "status", "aria-live": "polite", id: "queue-status" }),
          h("p", { class: "freshness", role: "status", id: "freshness", hidden: true })),
        h("div", { id: "tablet-body" })));
    this.queueEl = this.root.querySelector("#queue-status");
    this.freshnessEl = this.root.querySelector("#freshness");
    this.body = this.root.querySelector("#tablet-body");
    this.live.addEventListener("change", this.onChange);
    this.live.addEventListener("state", this.onChange);
    this.live.addEventListener("confirmed", this.onChange);
    this.outbox.addEventListener("change", this.onChange);
    this.outbox.addEventListener("sent", this.onSent);
    window.addEventListener("online", this.onChange);
    window.addEventListener("offline", this.onOffline);
    this.ageTimer = setInterval(() => this.schedule(), AGE_EVERY_MS);
    this.patienceTimer = setTimeout(() => this.schedule(), LOADING_PATIENCE_MS);
    if (!this.unitId) this.renderPicker();
    this.render();
  }

  unmount() {
    this.live.removeEventListener("change", this.onChange);
    this.live.removeEventListener("state", this.onChange);
    this.live.removeEventListener("confirmed", this.onChange);
    this.outbox.removeEventListener("change", this.onChange);
    this.outbox.removeEventListener("sent", this.onSent);
    window.removeEventListener("online", this.onChange);
    window.removeEventListener("offline", this.onOffline);
    clearTimeout(this.timer);
    clearInterval(this.ageTimer);
    clearTimeout(this.patienceTimer);
    if (this.keepTimer) { clearTimeout(this.keepTimer); this.keep(); }
    this.unmounted = true;
  }

  schedule() {
    if (this.timer || this.unmounted) return;
    const wait = Math.max(0, RENDER_EVERY_MS - (Date.now() - this.lastRender));
    this.timer = setTimeout(() => { this.timer = null; this.render(); }, wait);
  }

  remember(unitId) {
    const recent = load(RECENT_KEY, []).filter((id) => id !== unitId);
    recent.unshift(unitId);
    save(RECENT_KEY, recent.slice(0, RECENT_MAX));
  }

  // -- the picture: live when there is one, else the one kept on the device ------------------

  /** Keep the live picture of the recent units and their sites on the device. */
  keep() {
    this.keepTimer = null;
    if (this.live.ready) this.picture.keep(load(RECENT_KEY, []), this.live);
  }

  scheduleKeep() {
    if (!this.keepTimer && this.live.ready) this.keepTimer = setTimeout(() => this.keep(), KEEP_EVERY_MS);
  }

  /** {unit, at} of a unit: the live model's (current at its time), else the kept one (at its time), else null. */
  unitData(id) {
    const unit = this.live.ready ? this.live.units.get(id) : null;
    if (unit) return { unit, at: this.live.currentAt };
    const kept = this.picture.unit(id);
    return kept ? { unit: kept, at: kept.at } : null;
  }

  siteData(id) {
    return (this.live.ready ? this.live.sites.get(id) : null) ?? this.picture.site(id);
  }

  /** Whether data may still come: online, and not long since the view opened. */
  waiting() {
    return navigator.onLine && this.live.state !== "offline" && Date.now() - this.mountedAt < LOADING_PATIENCE_MS;
  }

  /** In place of data that is not there: "Laddar…" while it may come, then "Ingen data offline" (or, live, none). */
  noData() {
    if (this.waiting()) return h("p", { class: "muted", dataset: { nodata: "loading" } }, t("loading"));
    if (navigator.onLine && this.live.state === "live") {
      return h("div", { class: "nodata", dataset: { nodata: "none" } }, h("p", { class: "nodata-title" }, t("tablet.nodata.live")));
    }
    return h("div", { class: "nodata", dataset: { nodata: "offline" } },
      h("p", { class: "nodata-title" }, t("tablet.nodata")),
      h("p", { class: "muted small" }, t("tablet.nodata.hint")));
  }

  render() {
    this.lastRender = Date.now();
    this.renderQueue();
    const at = this.unitId ? this.renderUnit() : this.renderUnitList();
    this.renderFreshness(at);
  }

  /** Under the queue bar: how old the picture on screen is, whenever it is not live and current. */
  renderFreshness(at) {
    const el = this.freshnessEl;
    const connected = navigator.onLine && this.live.state === "live";
    const age = at ? ageMinutes(at) : null;
    const state = !navigator.onLine || this.live.state === "offline" ? "offline" : connected ? "stale" : "connecting";
    if (!at || age === null || (connected && age < STALE_AFTER_MIN)) {
      el.hidden = true;
      el.replaceChildren();
      delete el.dataset.state;
      return;
    }
    el.hidden = false;
    el.className = `freshness freshness--${state}`;
    el.dataset.state = state;
    el.dataset.ageMinutes = String(age);
    el.textContent = t(`tablet.freshness.${state}`, { age: ageText(age) });
  }

  renderQueue() {
    const { pending, refused, others } = this.outbox;
    const offline = !navigator.onLine;
    const sent = Date.now() - this.sentAt < SENT_SHOWN_MS ? this.sent : 0;
    this.queueEl.className = ["queue-bar", pending ? "queue-bar--pending" : "", offline ? "queue-bar--offline" : ""].join(" ");
    this.queueEl.replaceChildren(...[
      h("span", { class: "queue-count", dataset: { queued: String(pending) } },
        pending ? t(pending === 1 ? "tablet.queue.saved.one" : "tablet.queue.saved", { n: pending }) : t("tablet.queue.empty")),
      sent ? h("span", { class: "queue-sent", dataset: { sent: String(sent) } }, t("tablet.queue.sent", { n: sent })) : null,
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

  /** The units to pick from (the live picture's, else the kept recent and nearby ones); returns the data's time. */
  renderUnitList() {
    const lists = this.body.querySelector("#unit-lists");
    if (!lists) return null;
    const kept = !this.live.ready;
    const units = kept ? this.picture.units() : [...this.live.units.values()];
    if (!units.length) { replaceKeepingFocus(lists, this.noData()); return null; }
    const at = kept ? units.map((unit) => unit.at).sort()[0] : this.live.currentAt;
    const recent = load(RECENT_KEY, []).map((id) => this.unitData(id)?.unit).filter(Boolean);
    const query = fold(this.query.trim());
    const siteName = (siteId) => this.siteData(siteId)?.name ?? siteId;
    const matches = units
      .filter((unit) => !query || fold(unit.name).includes(query) || fold(unit.unit_id).includes(query)
        || fold(siteName(unit.site_id)).includes(query));
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
        h("h2", { id: "all-title" }, t(kept ? "tablet.kept" : "tablet.all")),
        kept ? h("p", { class: "muted small" }, t("tablet.kept.hint")) : null,
        matches.length ? [...bySite].map(([siteId, siteUnits]) => h("div", { class: "site-group" },
          h("h3", {}, siteName(siteId)),
          h("div", { class: "unit-grid" }, siteUnits.map((unit) => unitButton(unit, "all")))))
          : h("p", {}, t("tablet.no.match"))));
    return at;
  }

  // -- on a unit -----------------------------------------------------------------------------

  /** The unit card, assists, escalation, then the nearby units; returns the time of the unit's data. */
  renderUnit() {
    const data = this.unitData(this.unitId);
    const unit = data?.unit ?? null;
    const name = unit?.name ?? this.unitId;
    const checkedIn = load(this.checkedInKey, null) === this.unitId;
    const escalated = Boolean(load(ESCALATED_KEY, {})[this.unitId]);
    const walkers = unit?.floorwalkers || {};
    const site = unit ? this.siteData(unit.site_id) : null;
    const note = this.body.querySelector("#escalation-note");
    const noteValue = note ? note.value : "";
    const header = h("section", { class: "panel unit-card", "aria-labelledby": "unit-title" },
      h("div", { class: "unit-card-head" },
        h("div", { class: "unit-card-name" },
          h("p", { class: "eyebrow" }, site?.name ?? ""),
          h("h1", { id: "unit-title" }, name)),
        unit ? badge(unit.health?.status, { large: true }) : null),
      unit ? [
        this.renderDataAge(data.at),
        this.renderReasons(unit.health),
        h("dl", { class: "facts" },
          h("div", {}, h("dt", {}, t("fig.fw")), h("dd", { dataset: { metric: "floorwalkers.on_unit" } }, formatNumber(walkers.on_unit))),
          h("div", {}, h("dt", {}, t("fig.lastvisit")), h("dd", {}, visitText(walkers))),
          h("div", {}, h("dt", {}, t("fig.open")), h("dd", {}, formatNumber(unit.tickets?.open))),
          h("div", {}, h("dt", {}, t("fig.escalations")), h("dd", {}, formatNumber(walkers.open_escalations)))),
      ] : this.noData(),
      h("p", { class: checkedIn ? "state state--in" : "state" }, checkedIn ? t("tablet.checked.in") : t("tablet.not.checked.in")),
      h("div", { class: "big-actions" },
        checkedIn
          ? h("button", { type: "button", class: "button button--huge", dataset: { key: "checkout", action: "checkout" },
            onclick: () => this.checkout() }, t("tablet.checkout"))
          : h("button", { type: "button", class: "button button--huge button--primary", dataset: { key: "checkin", action: "checkin" },
            onclick: () => this.checkin() }, t("tablet.checkin")),
        h("a", { href: "#/tablet", class: "button button--huge", dataset: { key: "change" } }, t("tablet.change"))),
      h("p", { class: "muted small" }, t("tablet.walker", { id: this.me.walker_id })));
    const assists = h("section", { class: "panel", id: "assists", "aria-labelledby": "assist-title" },
      h("h2", { id: "assist-title" }, t("tablet.assist")),
      h("p", { class: "muted" }, t("tablet.assist.hint")),
      h("div", { class: "category-grid" }, CATEGORIES.map((category) => h("button", {
        type: "button", class: "button button--category", dataset: { key: `assist-${category}`, category },
        onclick: () => this.assist(category),
      }, t(`cat.${category}`)))));
    const noteInput = h("textarea", { id: "escalation-note", rows: 2, maxlength: 500, class: "input--wide" });
    noteInput.value = noteValue;
    const escalation = h("section", { class: "panel", id: "escalation", "aria-labelledby": "escalate-title" },
      h("h2", { id: "escalate-title" }, t("tablet.escalate")),
      escalated ? h("p", { class: "state state--warn" }, t("tablet.escalate.open")) : null,
      h("div", { class: "field" }, h("label", { for: "escalation-note" }, t("tablet.escalate.note")), noteInput),
      h("div", { class: "big-actions" },
        h("button", { type: "button", class: "button button--huge button--warn", dataset: { key: "escalate", action: "escalate" },
          onclick: () => this.escalate() }, t("tablet.escalate.send")),
        escalated ? h("button", { type: "button", class: "button button--huge", dataset: { key: "escalate-clear" },
          onclick: () => this.clearEscalation() }, t("tablet.escalate.clear")) : null));
    // Two columns on a wide screen, one on a phone; either way read in this order.
    replaceKeepingFocus(this.body, h("div", { class: "tablet-grid" },
      h("div", { class: "tablet-col" }, header, assists),
      h("div", { class: "tablet-col" }, escalation, this.renderNearby(unit))));
    return data?.at ?? null;
  }

  renderDataAge(at) {
    const age = at ? ageMinutes(at) : null;
    if (age === null) return null;
    return h("p", { class: "data-age muted", dataset: { ageMinutes: String(age) } },
      t("tablet.data.age", { time: formatTime(at), age: ageText(age) }));
  }

  /** Why the unit has its status: the reasons (red first), and the figures not assessed for too little volume. */
  renderReasons(health) {
    const reasons = reasonTexts(health);
    const notAssessed = health?.not_assessed || [];
    return h("div", { class: "reasons", dataset: { reasons: String(reasons.length) } },
      h("h2", { class: "visually-hidden" }, t("tablet.reasons")),
      reasons.length
        ? h("ul", { class: "reason-list" }, reasons.map((text, i) =>
          h("li", { class: `reason reason--${health.reason_codes?.[i]?.level || health.status}` }, text)))
        : notAssessed.length ? null : h("p", { class: "muted" }, t("tablet.reasons.none")),
      notAssessed.length ? h("ul", { class: "reason-list" }, notAssessed.map((item) => h("li", {
        class: "reason reason--not_assessed", dataset: { rule: item.rule },
      }, t("health.notassessed", {
        figure: t(`figure.${item.metric}`), n: formatNumber(item.n), min: formatNumber(item.min),
        volume: t(`volume.${item.volume_metric}`),
      })))) : null);
  }

  /** The site's other units nobody is on, longest without a visit first; "all visited" only when every one is known. */
  renderNearby(unit) {
    const site = unit ? this.siteData(unit.site_id) : null;
    const section = (...children) => h("section", { class: "panel", id: "nearby", "aria-labelledby": "nearby-title" },
      h("h2", { id: "nearby-title" }, t("tablet.nearby")), ...children);
    if (!site) return section(this.noData());
    const known = [];
    let missing = 0;
    for (const id of (site.unit_ids || []).filter((other) => other !== this.unitId)) {
      const data = this.unitData(id);
      if (data) known.push(data.unit); else missing += 1;
    }
    const minutes = (u) => u.floorwalkers?.minutes_since_last_visit;
    const others = known.filter((u) => !(u.floorwalkers?.on_unit > 0));
    others.sort((a, b) => (minutes(b) ?? Infinity) - (minutes(a) ?? Infinity) || a.name.localeCompare(b.name, "sv"));
    const stale = others.filter((u) => minutes(u) === null || minutes(u) === undefined || minutes(u) >= 60).slice(0, NEARBY_MAX);
    return section(
      stale.length ? h("ul", { class: "nearby-list" }, stale.map((u) => h("li", {},
        h("a", { href: `#/tablet/${encodeURIComponent(u.unit_id)}`, class: "unit-button", dataset: { key: `near-${u.unit_id}` },
          "aria-label": t("tablet.go", { name: u.name }) },
          h("span", { class: "unit-button-name" }, u.name),
          h("span", { class: "muted" }, visitText(u.floorwalkers)),
          badge(u.health?.status))))) : null,
      missing ? (stale.length ? h("p", { class: "muted small", dataset: { nodata: "partial" } },
        t("tablet.nearby.missing", { n: missing })) : this.noData())
        : stale.length ? null : h("p", { class: "muted" }, t("tablet.nearby.none")));
  }

  // -- actions: each is an event in the outbox -----------------------------------------------

  /** The event is made (and its event_id fixed) here, once; the outbox resends it unchanged. */
  event(type, fields) {
    return newEvent(type, this.unitId, { walker_id: this.me.walker_id, ...fields }, { source: SOURCES.tablet });
  }

  escalatedHere() {
    return Boolean(load(ESCALATED_KEY, {})[this.unitId]);
  }

  /** Keep the event in the outbox and say honestly where it is: on the tablet only, or sent. */
  async queue(event, what) {
    try {
      await this.outbox.enqueue(event);
    } catch (error) {
      toast(t("error.generic", { reason: String(error) }), "error");
      if (!this.unmounted) this.render();
      return;
    }
    if (!this.unmounted) this.render();
    if (!navigator.onLine) {
      toast(t("tablet.saved.offline", { what }));
      return;
    }
    toast(t("tablet.saved", { what }));
    const waiting = async () => (await this.outbox.items()).some((item) => item.event_id === event.event_id);
    await this.outbox.flush();
    // A flush already under way when the event was queued may have ended before it: one more, unless it failed.
    if (await waiting() && this.outbox.lastError === null) await this.outbox.flush();
    toast(await waiting() ? t("tablet.saved.offline", { what }) : t("tablet.sent", { what }));
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
