// The command console: region → administration → site → unit, live from the WebSocket model.

import { acknowledgeAlert, alertItem, openAssignDialog, sortAlerts } from "../alerts.js";
import { api } from "../api.js";
import { columnChart, trendWindow } from "../charts.js";
import { h, replaceKeepingFocus, toast } from "../dom.js";
import { EventRefused, newEvent, newId, sendEvent } from "../events.js";
import {
  formatNumber, formatPercent, formatTime, reasonTexts, staffRole, stockholmLocalNow, stockholmLocalToIso, t,
} from "../i18n.js";
import { latest } from "../latest.js";
import { idOf } from "../live.js";
import { can } from "../permissions.js";
import {
  badge, describeError, field, knownIssueItem, openFormDialog, openNewKnownIssueDialog,
  setKnownIssueStatus,
} from "../ui.js";
import { WavePanel } from "./waves.js";

const RENDER_EVERY_MS = 250;
const TREND_HOURS = 6;
const TREND_BUCKET_MINUTES = 15;
const TREND_REFRESH_MS = 60000;
const ALERTS_SHOWN = 25;
// Alert ages ("12 min ago") move on even when nothing else changes.
const AGE_REFRESH_MS = 30000;
const SERIES = ["tickets_opened", "tickets_resolved", "logins", "login_failures"];
const CHILD_KIND = { region: "administration", administration: "site", site: "unit" };
// Worst first: red, yellow, not assessed ("ej bedömt": too little volume to judge), green.
const STATUS_RANK = { red: 0, yellow: 1, not_assessed: 2, green: 3 };
const FAILRATE = "access.login_failure_rate_15m";
const CHANGES_REFRESH_MS = 30000;
// The header strip's key figures, in this order; the server computes them (hypercare/situation/key_figures.py), with
// one function per figure, for the report when it is made and for now: the console only shows them.
const KEY_FIGURES = ["tickets_open", "login_failure_rate", "permission_denied", "units_red", "units_yellow", "diversions_active"];
const ARROWS = { up: "↑", down: "↓", same: "", unknown: "" };

// Trends survive drill-down (one fetch a minute, not one per click); a unit's own series is fetched with its id.
const trendsCache = { data: null, at: 0, unit: null };
// The change since the last published report, and the tables' red/yellow filter, kept across re-renders.
const changesCache = { data: null, at: 0 };
const tableFilter = { redYellow: false };

export class ConsoleView {
  constructor({ live, known, me }) {
    this.live = live;
    this.known = known;
    this.me = me;
    this.canDecide = can(me.role, "decide");
    this.canWriteKnown = can(me.role, "writeKnownIssues");
    this.alertHandlers = can(me.role, "handleAlerts")
      ? { acknowledge: (alert) => acknowledgeAlert(alert), assign: (alert) => openAssignDialog(alert) }
      : null;
    this.trends = null;
    this.trendsFailed = false;
    this.changes = changesCache.data;
    this.changesFailed = false;
    this.changesLoad = latest();
    // Each drill-down mounts a new view: its trend load is dropped on unmount (no late render into the next
    // view, no older answer in the shared cache), and overlapping loads of one view keep the newest answer.
    this.trendsLoad = latest();
    this.timer = null;
    this.lastRender = 0;
    this.waves = new WavePanel(() => this.schedule());  // wave/area filter, timeline, comparison (views/waves.js)
    this.onChange = () => { this.live.subscribe(this.scopes()); this.schedule(); };
  }

  /** What this view shows: the region and its administrations, the EDs (diversions), the node drilled into
   * (an administration or a site with its children; a unit with its site, once the unit says which). */
  scopes() {
    const scopes = ["region", "emergency_departments"];
    if (this.kind !== "region" && this.id) scopes.push(this.id);
    const site = this.kind === "unit" ? this.live.units.get(this.id)?.site_id : null;
    if (site) scopes.push(site);
    return scopes;
  }

  mount(root, route) {
    this.root = root;
    this.kind = route.kind || "region";
    this.id = route.id || null;
    this.live.subscribe(this.scopes());
    this.live.addEventListener("change", this.onChange);
    this.known.addEventListener("change", this.onChange);
    this.trendUnit = this.kind === "unit" ? this.id : null;
    if (trendsCache.unit === this.trendUnit) this.trends = trendsCache.data;
    this.trendTimer = setInterval(() => { if (!this.trendsLoad.pending) this.loadTrends(); }, TREND_REFRESH_MS);
    this.ageTimer = setInterval(() => this.schedule(), AGE_REFRESH_MS);
    if (!this.trends || Date.now() - trendsCache.at > TREND_REFRESH_MS / 2) this.loadTrends();
    if (this.kind === "region") {
      this.changesTimer = setInterval(() => { if (!this.changesLoad.pending) this.loadChanges(); }, CHANGES_REFRESH_MS);
      if (!this.changes || Date.now() - changesCache.at > CHANGES_REFRESH_MS / 2) this.loadChanges();
    }
    this.waves.start();
    this.render();
  }

  unmount() {
    this.live.removeEventListener("change", this.onChange);
    this.known.removeEventListener("change", this.onChange);
    clearInterval(this.trendTimer);
    clearInterval(this.ageTimer);
    clearInterval(this.changesTimer);
    clearTimeout(this.timer);
    this.trendsLoad.cancel();
    this.changesLoad.cancel();
    this.waves.stop();
  }

  schedule() {
    if (this.timer) return;
    const wait = Math.max(0, RENDER_EVERY_MS - (Date.now() - this.lastRender));
    this.timer = setTimeout(() => { this.timer = null; this.render(); }, wait);
  }

  async loadTrends() {
    try {
      const params = { hours: TREND_HOURS, bucket_minutes: TREND_BUCKET_MINUTES };
      if (this.trendUnit) params.unit_id = this.trendUnit;
      this.trends = await this.trendsLoad((signal) => api("/api/v1/trends", { params, signal }));
      trendsCache.data = this.trends;
      trendsCache.unit = this.trendUnit;
      trendsCache.at = Date.now();
      this.trendsFailed = false;
    } catch {
      this.trendsFailed = true;
    }
    this.schedule();
  }

  async loadChanges() {
    try {
      this.changes = await this.changesLoad((signal) => api("/api/v1/reports/changes", { signal }));
      changesCache.data = this.changes;
      changesCache.at = Date.now();
      this.changesFailed = false;
    } catch {
      this.changesFailed = true;
    }
    this.schedule();
  }

  render() {
    this.lastRender = Date.now();
    if (!this.live.ready) {
      replaceKeepingFocus(this.root, h("p", { class: "loading" }, t("loading")));
      return;
    }
    const node = this.kind === "region" ? this.live.region : this.live.node(this.kind, this.id);
    const main = node ? this.renderNode(this.kind, node) : h("section", { class: "panel" }, h("p", {}, t("unknown.node")));
    replaceKeepingFocus(this.root,
      h("div", { class: "console-grid" },
        h("div", { class: "console-main" }, main),
        h("aside", { class: "console-side", "aria-label": t("console.side") },
          this.renderAlerts(), this.renderDiversions(), this.renderKnownIssues())));
  }

  // -- the selected node ---------------------------------------------------------------------

  renderNode(kind, node) {
    const path = this.live.path(kind, idOf(kind, node));
    const breadcrumb = h("nav", { class: "breadcrumb", "aria-label": t("console.breadcrumb") },
      h("ol", {}, path.map(([k, obj], i) => h("li", {},
        i === path.length - 1
          ? h("span", { "aria-current": "page" }, obj?.name ?? "")
          : h("a", { href: hrefOf(k, obj), dataset: { key: `crumb-${k}` } }, obj?.name ?? "")))));
    const reasons = reasonTexts(node.health);
    const byHealth = node.units_by_health;
    return h("section", { class: "panel node", "aria-labelledby": "node-title" },
      path.length > 1 ? breadcrumb : null,
      h("header", { class: "node-head" },
        h("div", {},
          h("p", { class: "eyebrow" }, t(`level.${kind}`)),
          h("h1", { id: "node-title" }, node.name)),
        h("div", { class: "node-status" },
          badge(node.health?.status, { large: true }),
          byHealth ? h("p", { class: "muted" }, t("console.units.by.health", byHealth)) : null,
          h("p", { class: "muted small" }, t("console.updated", { time: formatTime(this.live.asOf, { seconds: true }) })))),
      kind === "region" ? this.renderChanges() : null,
      h("div", { class: "reasons" },
        h("h2", { class: "visually-hidden" }, t("console.reasons")),
        reasons.length
          ? h("ul", { class: "reason-list" }, reasons.map((text, i) =>
            h("li", { class: `reason reason--${node.health.reason_codes?.[i]?.level || node.health.status}` }, text)))
          : h("p", { class: "muted" }, t("console.no.reasons")),
        notAssessedList(node.health)),
      this.renderNodeAlerts(kind, node),
      this.renderFigures(kind, node),
      this.renderTrends(kind, node),
      kind === "region" ? this.waves.overview() : null,
      kind === "unit" ? this.renderUnitDetails(node) : this.renderChildren(kind, node));
  }

  /** The header strip: each key figure now, with an arrow and the change since the last published report. */
  renderChanges() {
    const changes = this.changes;
    const head = (text) => h("p", { class: "change-head" }, text);
    let body;
    if (!changes) {
      body = head(this.changesFailed ? t("changes.failed") : t("loading"));
    } else if (changes.reason === "no_published_report") {
      body = head(t("changes.none"));
    } else if (changes.reason) {
      body = head(t("changes.nofigures", { id: changes.report.id }));
    } else {
      const report = changes.report;
      const byKey = new Map(changes.figures.map((f) => [f.key, f]));
      body = [
        head(t("changes.since", {
          id: report.id, time: formatTime(report.published_at, { date: true }),
        })),
        h("ul", { class: "change-list" }, KEY_FIGURES.filter((key) => byKey.has(key)).map((key) => {
          const f = { ...byKey.get(key) };
          const percent = key === "login_failure_rate";
          // A rate's change is shown in whole percentage points: one that rounds to 0 is no change.
          if (percent && f.delta !== null && Math.round(f.delta * 100) === 0) f.direction = "same";
          const value = percent ? formatPercent(f.now) : formatNumber(f.now);
          const delta = f.delta === null ? t("changes.unknown")
            : percent ? t("changes.points", { n: signed(Math.round(f.delta * 100)) }) : signed(f.delta);
          const arrow = ARROWS[f.direction] ?? "";
          return h("li", { class: ["change", `change--${f.direction}`], dataset: { figure: key, direction: f.direction } },
            h("span", { class: "change-label" }, t(`changes.figure.${key}`)),
            h("span", { class: "change-value" }, value),
            h("span", { class: "change-delta", title: t("changes.before", { value: percent ? formatPercent(f.before) : formatNumber(f.before) }) },
              arrow ? [h("span", { class: "change-arrow", "aria-hidden": "true" }, arrow), " "] : null, delta));
        })),
      ];
    }
    return h("section", { class: "change-strip", "aria-label": t("changes.title"), dataset: { changes: changes?.reason ?? (changes ? "compared" : "") } }, body);
  }

  renderFigures(kind, node) {
    const tickets = node.tickets || {};
    const access = node.access || {};
    const walkers = node.floorwalkers || {};
    const ed = node.ed || {};
    const p = tickets.open_by_priority || {};
    const diverting = kind === "unit" ? Boolean(ed.diversion) : (ed.active_diversions || []).length > 0;
    const edStatus = ed.status;
    const failrate = notAssessed(node.health, FAILRATE);
    const rollup = kind !== "unit";
    const tiles = [
      tile("tickets.open", t("fig.open"), formatNumber(tickets.open),
        t("fig.open.sub", { p1: p["1"] ?? 0, p2: p["2"] ?? 0, p3: p["3"] ?? 0, p4: p["4"] ?? 0 }),
        (p["1"] ?? 0) > 0 ? "warn" : null),
      tile("tickets.patient_safety_open", t("fig.safety"), formatNumber(tickets.patient_safety_open), t("fig.safety.sub"),
        tickets.patient_safety_open > 0 ? "alert" : null),
      failrate
        ? tile(FAILRATE, t("fig.failrate"), t("status.not_assessed"),
          t("fig.notassessed.sub", {
            failures: formatNumber(access.login_failures_15m), n: formatNumber(failrate.n), min: formatNumber(failrate.min),
          }), "grey")
        : tile(FAILRATE, t("fig.failrate"), formatPercent(access.login_failure_rate_15m),
          t("fig.failrate.sub", { failures: formatNumber(access.login_failures_15m), logins: formatNumber(access.logins_15m) })),
      tile("access.permission_denied_1h", t("fig.denied"), formatNumber(access.permission_denied_1h), t("fig.denied.sub")),
      tile("floorwalkers.on_unit", t("fig.fw"), formatNumber(walkers.on_unit),
        h("span", {},
          h("span", { dataset: { onBreak: String(walkers.on_break ?? 0) } },
            t("fig.fw.break", { n: formatNumber(walkers.on_break ?? 0) })),
          " · ", t("fig.fw.sub", { escalations: formatNumber(walkers.open_escalations) }))),
      rollup ? this.coverageTile(walkers)
        : tile("floorwalkers.minutes_since_last_visit", t("fig.lastvisit"),
          walkers.minutes_since_last_visit === null || walkers.minutes_since_last_visit === undefined
            ? t("fig.lastvisit.never") : t("minutes", { n: formatNumber(walkers.minutes_since_last_visit) }),
          walkers.minutes_since_last_visit === null && walkers.minutes_without_visit !== null
            && walkers.minutes_without_visit !== undefined
            ? t("fig.lastvisit.since.golive", { duration: formatDuration(walkers.minutes_without_visit) })
            : t("fig.lastvisit.sub")),
      tile("ed.status", t("fig.ed"),
        diverting ? t("fig.ed.diverting") : edStatus ? `${formatNumber(edStatus.patients_waiting)} / ${formatNumber(edStatus.capacity)}` : t("fig.ed.none"),
        edStatus ? t("fig.ed.sub", {
          waiting: formatNumber(edStatus.patients_waiting), inside: formatNumber(edStatus.patients_in_department),
          capacity: formatNumber(edStatus.capacity),
        }) : "", diverting ? "warn" : null),
    ];
    return h("section", { class: "figures", "aria-label": t("console.figures") }, tiles);
  }

  /**
   * "X av Y enheter ej besökta" and the longest time without a visit, never-visited units included (counted from
   * their administration's go-live; "aldrig" when that is not in the org registry).
   */
  coverageTile(walkers) {
    const never = walkers.units_never_visited ?? 0;
    const total = walkers.units_total ?? 0;
    return tile("floorwalkers.units_never_visited", t("fig.coverage"),
      t("fig.coverage.value", { never: formatNumber(never), total: formatNumber(total) }),
      h("span", { dataset: { longest: String(walkers.longest_minutes_without_visit ?? "") } },
        longestUnknown(walkers) ? t("fig.coverage.longest.unknown")
          : t(never > 0 ? "fig.coverage.longest" : "fig.coverage.longest.visited", { duration: longestText(walkers) })),
      never > 0 ? "warn" : null);
  }

  /** The node's own active alarms with their reasons: a red node always shows why it is red. */
  renderNodeAlerts(kind, node) {
    const id = idOf(kind, node);
    const own = sortAlerts([...this.live.alerts.values()].filter((alert) =>
      alert.node_kind === kind && (kind === "region" || alert.node_id === id)));
    if (!own.length && node.health?.status !== "red") return null;
    return h("section", { class: "node-alerts", "aria-labelledby": "node-alerts-title" },
      h("h2", { id: "node-alerts-title" }, t("console.node.alerts"), " ",
        h("span", { class: "count" }, formatNumber(own.length))),
      own.length
        ? h("ol", { class: "alert-list" }, own.map((alert) => alertItem(alert, { href: null, handlers: this.alertHandlers })))
        : h("p", { class: "muted" }, t("console.node.alerts.pending")));
  }

  /** The node's trend: the region's, an administration's, a unit's own; a site shows its administration's (named). */
  renderTrends(kind, node) {
    const adminId = kind === "region" ? null : node.administration_id;
    let title = t("trends.title", { hours: TREND_HOURS });
    let body;
    const trends = this.trends && (kind !== "unit" || this.trends.unit?.unit_id === this.id) ? this.trends : null;
    if (!trends) {
      body = h("p", { class: "muted" }, this.trendsFailed ? t("trends.failed") : t("trends.loading"));
    } else {
      const series = kind === "unit" ? trends.unit
        : adminId ? trends.administrations.find((a) => a.administration_id === adminId) : trends.region;
      if (!series) {
        body = h("p", { class: "muted" }, t("trends.failed"));
      } else {
        // From go-live when that is later than the window's start (no chart of empty hours before it), and the
        // last bucket marked as still running.
        const window = trendWindow({
          starts: trends.buckets, bucketMinutes: trends.bucket_minutes, goLive: series.go_live_at, asOf: trends.as_of,
        });
        if (window.fromGoLive) title = t("trends.title.golive", { time: formatTime(series.go_live_at, { date: true }) });
        body = h("div", { class: "charts" }, SERIES.map((name) => columnChart({
          label: t(`trends.${name}`), values: series[name].slice(window.first), starts: window.starts,
          partial: window.partial,
          variant: name === "login_failures" ? "accent" : name === "tickets_resolved" ? "calm" : "neutral",
        })));
      }
    }
    const scope = kind === "site"
      ? h("p", { class: "muted small" }, t("trends.for", { name: this.live.node("administration", adminId)?.name ?? "" }))
      : null;
    return h("section", { class: "trends", "aria-labelledby": "trends-title" },
      h("h2", { id: "trends-title" }, title), scope, body);
  }

  renderChildren(kind, node) {
    const childKind = CHILD_KIND[kind];
    const all = worstFirst(this.live.children(kind, idOf(kind, node)));
    const inWave = this.waves.narrow(all);  // the wave/area filter (views/waves.js)
    const children = tableFilter.redYellow
      ? inWave.filter(([, child]) => ["red", "yellow"].includes(child.health?.status)) : inWave;
    const rows = children.map(([k, child]) => {
      const id = idOf(k, child);
      const tickets = child.tickets || {};
      const access = child.access || {};
      const walkers = child.floorwalkers || {};
      const ed = child.ed || {};
      const diverting = k === "unit" ? Boolean(ed.diversion) : (ed.active_diversions || []).length > 0;
      const failrate = notAssessed(child.health, FAILRATE);
      return h("tr", { dataset: { nodeId: id, status: child.health?.status ?? "" } },
        h("th", { scope: "row" }, h("a", { href: hrefOf(k, child), dataset: { key: `child-${id}` } }, child.name)),
        h("td", {}, badge(child.health?.status)),
        h("td", { class: "num" }, formatNumber(tickets.open)),
        h("td", { class: "num" }, formatNumber(tickets.open_by_priority?.["1"] ?? 0)),
        h("td", { class: ["num", failrate && "not-assessed"], dataset: { col: "failrate" } }, failrate
          ? t("console.failrate.notassessed", { n: formatNumber(failrate.n) })
          : formatPercent(access.login_failure_rate_15m)),
        h("td", { class: "num" }, formatNumber(access.permission_denied_1h)),
        h("td", { class: "num", dataset: { col: "fw" } }, formatNumber(walkers.on_unit),
          walkers.on_break ? h("span", { class: "muted small" }, ` ${t("console.fw.break", { n: formatNumber(walkers.on_break) })}`) : null),
        h("td", { class: "num", dataset: { col: "coverage" } }, k === "unit"
          ? unitVisitText(walkers)
          : t("console.coverage.cell", {
            never: formatNumber(walkers.units_never_visited ?? 0), total: formatNumber(walkers.units_total ?? 0),
            longest: longestText(walkers),
          })),
        h("td", {}, diverting ? h("span", { class: "pill pill--warn" }, t("fig.ed.diverting")) : ed.status
          ? `${formatNumber(ed.status.patients_waiting)}/${formatNumber(ed.status.capacity)}` : "–"));
    });
    const hiddenRows = inWave.length - children.length;
    const toggle = h("button", {
      type: "button", class: "button button--small filter-toggle", "aria-pressed": String(tableFilter.redYellow),
      dataset: { key: "filter-red-yellow", action: "filter-red-yellow" },
      onclick: () => { tableFilter.redYellow = !tableFilter.redYellow; this.render(); },
    }, t(tableFilter.redYellow ? "console.filter.all" : "console.filter.redyellow"));
    return h("section", { class: "children", "aria-labelledby": "children-title" },
      h("div", { class: "children-head" },
        h("h2", { id: "children-title" }, t(`console.children.${childKind}`)),
        hiddenRows ? h("p", { class: "muted small", dataset: { hiddenRows: String(hiddenRows) } },
          t("console.filter.hidden", { n: formatNumber(hiddenRows) })) : null,
        toggle),
      this.waves.filterBar(), this.waves.shownNote(inWave, all.length),
      h("div", { class: "table-wrap", dataset: { scrollKey: "children" } },
        h("table", { class: "table" },
          h("thead", {}, h("tr", {},
            ["name", "status", "open", "p1", "failrate", "denied", "fw", childKind === "unit" ? "lastvisit" : "coverage", "ed"].map((c) =>
              h("th", { scope: "col", class: ["name", "status", "ed"].includes(c) ? "" : "num" }, t(`console.col.${c}`))))),
          h("tbody", {}, rows.length ? rows : h("tr", {}, h("td", { colspan: 9, class: "muted" }, t("console.filter.none")))))));
  }

  renderUnitDetails(unit) {
    const categories = Object.entries(unit.tickets?.open_by_category || {});
    const roles = Object.entries(unit.access?.permission_denied_1h_by_role || {});
    const assists = Object.entries(unit.floorwalkers?.assists_by_category_1h || {});
    const list = (entries, label) => entries.length
      ? h("ul", { class: "kv" }, entries.map(([k, v]) => h("li", {}, h("span", {}, label(k)), h("strong", {}, formatNumber(v)))))
      : h("p", { class: "muted" }, "–");
    const tickets = unit.tickets || {};
    return h("section", { class: "unit-details" },
      h("div", { class: "detail" }, h("h2", {}, t("fig.open")), list(categories, (c) => t(`cat.${c}`)),
        h("p", { class: "muted small" }, t("unit.tickets.1h", {
          opened: formatNumber(tickets.opened_1h), resolved: formatNumber(tickets.resolved_1h),
        }))),
      h("div", { class: "detail" }, h("h2", {}, t("fig.denied")), list(roles, staffRole)),
      h("div", { class: "detail" }, h("h2", {}, t("unit.assists.1h")), list(assists, (c) => t(`cat.${c}`))));
  }

  // -- the side column -----------------------------------------------------------------------

  renderAlerts() {
    const alerts = sortAlerts(this.live.alerts.values());
    const shown = alerts.slice(0, ALERTS_SHOWN);
    return h("section", { class: "panel alerts", "aria-labelledby": "alerts-title" },
      h("h2", { id: "alerts-title" }, t("alerts.title"), " ", h("span", { class: "count" }, formatNumber(alerts.length))),
      shown.length
        ? h("ol", { class: "alert-list", dataset: { scrollKey: "alerts" } }, shown.map((alert) => {
          const href = alert.node_kind === "region" ? "#/console" : `#/console/${alert.node_kind}/${encodeURIComponent(alert.node_id)}`;
          return alertItem(alert, { href: alert.node_id ? href : null, handlers: this.alertHandlers });
        }))
        : h("p", { class: "muted" }, t("alerts.none")),
      alerts.length > shown.length ? h("p", { class: "muted small" }, t("alerts.more", { n: alerts.length - shown.length })) : null);
  }

  renderDiversions() {
    const diversions = this.live.region?.ed?.active_diversions || [];
    return h("section", { class: "panel diversions", "aria-labelledby": "diversions-title" },
      h("div", { class: "panel-head" },
        h("h2", { id: "diversions-title" }, t("diversions.title")),
        this.canDecide ? h("button", {
          type: "button", class: "button button--primary", dataset: { key: "declare", action: "declare-diversion" },
          onclick: () => this.openDeclare(),
        }, t("diversions.declare")) : null),
      diversions.length
        ? h("ul", { class: "diversion-list" }, diversions.map((d) => h("li", {
          class: "diversion", dataset: { diversionId: d.diversion_id, unitId: d.unit_id },
        },
          h("div", { class: "diversion-head" },
            h("strong", {}, this.live.unitName(d.unit_id)),
            h("span", { class: "pill pill--warn" }, t(`scope.${d.scope}`) || d.scope)),
          h("p", {}, t("diversions.to", { units: d.to_unit_ids.map((id) => this.live.unitName(id)).join(", ") })),
          h("p", { class: "diversion-reason" }, d.reason || ""),
          h("p", { class: "diversion-running", dataset: { running: "" } },
            t("diversions.running", { duration: formatDuration(minutesSince(d.since)) })),
          d.review_overdue ? h("p", { class: "diversion-overdue", role: "status", dataset: { overdue: "" } },
            t("diversions.overdue"),
            d.overdue_minutes ? ` (${t("diversions.overdue.by", { duration: formatDuration(d.overdue_minutes) })})` : "")
            : null,
          h("p", { class: "muted small" },
            t("diversions.since", { time: formatTime(d.since, { date: true }) }),
            d.expected_end ? ` · ${t("diversions.expected", { time: formatTime(d.expected_end, { date: true }) })}` : "",
            " · ", t("diversions.by", { name: d.decided_by || "–" })),
          this.canDecide ? h("button", {
            type: "button", class: "button button--danger", dataset: { key: `end-${d.diversion_id}`, action: "end-diversion" },
            onclick: () => this.openEnd(d),
          }, t("diversions.end")) : null)))
        : h("p", { class: "muted" }, t("diversions.none")));
  }

  renderKnownIssues() {
    const items = this.known.active();
    const writer = this.canWriteKnown;
    return h("section", { class: "panel known", "aria-labelledby": "known-title" },
      h("div", { class: "panel-head" },
        h("h2", { id: "known-title" }, t("known.title")),
        writer ? h("button", { type: "button", class: "button", dataset: { key: "new-known" },
          onclick: () => openNewKnownIssueDialog(this.known) }, t("known.new")) : null),
      items.length
        ? h("ul", { class: "known-list" }, items.map((issue) => knownIssueItem(issue, {
          onStatus: writer ? (i, s) => setKnownIssueStatus(this.known, i, s) : null,
        })))
        : h("p", { class: "muted" }, t("known.none")));
  }

  // -- decisions -----------------------------------------------------------------------------

  openDeclare() {
    const eds = this.live.emergencyDepartments().sort((a, b) => a.name.localeCompare(b.name, "sv"));
    const preselect = this.kind === "unit" && eds.some((ed) => ed.unit_id === this.id) ? this.id : eds[0]?.unit_id;
    const edSelect = h("select", { name: "ed", required: true },
      eds.map((ed) => h("option", { value: ed.unit_id, selected: ed.unit_id === preselect }, ed.name)));
    const scope = h("select", { name: "scope" },
      ["ambulance", "walk_in", "all"].map((s) => h("option", { value: s }, t(`scope.${s}`))));
    const receiving = h("fieldset", { class: "choices choices--columns" },
      h("legend", {}, t("form.receiving")),
      eds.map((ed) => this.receivingChoice(ed)));
    const syncReceiving = () => {
      for (const label of receiving.querySelectorAll("label")) {
        const own = label.dataset.unitId === edSelect.value;
        label.hidden = own;
        if (own) label.querySelector("input").checked = false;
      }
    };
    edSelect.addEventListener("change", syncReceiving);
    syncReceiving();
    const reason = h("textarea", { name: "reason", rows: 3, maxlength: 500, required: true });
    const expected = h("input", { type: "datetime-local", name: "expected_end", min: stockholmLocalNow() });
    // Shown when the server refuses a diversion that would send patients back and forth (an ED that is itself
    // diverting, services/ingest/diversions.py): a reason to divert anyway goes with the event and into the log.
    const override = h("textarea", { name: "override_reason", rows: 2, maxlength: 500 });
    const overrideField = field(t("form.override"), override, t("form.override.hint"));
    overrideField.classList.add("override-field");
    overrideField.hidden = true;
    openFormDialog({
      title: t("form.declare.title"),
      fields: [field(t("form.ed"), edSelect), field(t("form.scope"), scope), receiving,
        field(t("form.reason"), reason), field(t("form.expected"), expected), overrideField],
      submitLabel: t("form.submit.declare"),
      onSubmit: async () => {
        const to = [...receiving.querySelectorAll("input:checked")].map((input) => input.value);
        if (!to.length) throw new Error(t("form.pick.receiving"));
        if (!reason.value.trim()) throw new Error(t("form.required", { field: t("form.reason") }));
        const event = newEvent("ed.diversion_started", edSelect.value, {
          diversion_id: newId("div"), to_unit_ids: to, scope: scope.value, reason: reason.value.trim(),
          decided_by: this.me.name,
        });
        const end = stockholmLocalToIso(expected.value);
        if (end) event.expected_end = end;
        if (!overrideField.hidden) {
          if (!override.value.trim()) throw new Error(t("form.required", { field: t("form.override") }));
          event.override_reason = override.value.trim();
        }
        try {
          await sendEvent(event);
        } catch (error) {
          if (error instanceof EventRefused && error.reasons.some((r) => r.includes("override_reason"))) {
            overrideField.hidden = false;
            override.focus();
            throw new Error(t("decision.refused.circular", { reason: error.message }));
          }
          throw this.refusal(error);
        }
        toast(t("decision.sent"));
      },
    });
  }

  openEnd(diversion) {
    const reason = h("textarea", { name: "reason", rows: 2, maxlength: 500 });
    openFormDialog({
      title: t("form.end.title", { ed: this.live.unitName(diversion.unit_id) }),
      fields: [field(t("form.end.reason"), reason)],
      submitLabel: t("form.submit.end"),
      danger: true,
      onSubmit: async () => {
        const event = newEvent("ed.diversion_ended", diversion.unit_id, {
          diversion_id: diversion.diversion_id, decided_by: this.me.name,
        });
        if (reason.value.trim()) event.reason = reason.value.trim();
        await this.decide(event);
      },
    });
  }

  /** One receiving ED in the diversion form: its name, status, load and report age, and whether it diverts. */
  receivingChoice(ed) {
    const status = ed.ed?.status;
    const own = ed.ed?.active_diversions || (ed.ed?.diversion ? [ed.ed.diversion] : []);
    const to = [...new Set(own.flatMap((d) => d.to_unit_ids || []))];
    const health = ed.health?.status;
    return h("label", { class: "choice choice--ed", dataset: { unitId: ed.unit_id, diverting: own.length ? "true" : "false" } },
      h("input", { type: "checkbox", name: "to_unit_ids", value: ed.unit_id }),
      h("span", { class: "choice-body" },
        h("span", { class: "choice-name" }, ed.name),
        health ? badge(health) : null,
        own.length ? h("span", { class: "pill pill--alert", dataset: { itselfDiverting: "" } },
          t("form.receiving.diverting", { units: to.map((id) => this.live.unitName(id)).join(", ") })) : null,
        h("span", { class: "choice-status muted small" }, status
          ? t("form.receiving.load", {
            waiting: formatNumber(status.patients_waiting), inside: formatNumber(status.patients_in_department),
            capacity: formatNumber(status.capacity),
            age: formatDuration(status.minutes_since_report ?? minutesSince(status.reported_at)),
          })
          : t("form.receiving.noreport"))));
  }

  refusal(error) {
    if (error instanceof EventRefused) return new Error(t("decision.refused", { reason: error.message }));
    return new Error(describeError(error));
  }

  async decide(event) {
    try {
      await sendEvent(event);
    } catch (error) {
      throw this.refusal(error);
    }
    toast(t("decision.sent"));
  }
}

/** The health's entry for a figure below its minimum volume, or null. */
function notAssessed(health, metric) {
  return (health?.not_assessed || []).find((item) => item.metric === metric) || null;
}

/** "Ej bedömt" figures with their n, under the reasons: why a node is grey. */
function notAssessedList(health) {
  const items = health?.not_assessed || [];
  if (!items.length) return null;
  return h("ul", { class: "not-assessed-list" }, items.map((item) => h("li", {
    class: "reason reason--not_assessed", dataset: { rule: item.rule },
  }, t("health.notassessed", {
    figure: figureName(item.metric), n: formatNumber(item.n), min: formatNumber(item.min),
    volume: t(`volume.${item.volume_metric}`),
  }))));
}

function figureName(metric) {
  const key = `figure.${metric}`;
  const text = t(key);
  return text === key ? metric : text;
}

/**
 * Children worst first: status (red, yellow, not assessed, green); ties by the worst figure: open priority-1
 * tickets, patient-safety tickets, the login failure rate (where assessed), permission denials, open tickets; then
 * the longest without a visit.
 */
function worstFirst(children) {
  const figures = ([, child]) => {
    const tickets = child.tickets || {};
    const access = child.access || {};
    const rate = notAssessed(child.health, FAILRATE) ? -1 : access.login_failure_rate_15m ?? -1;
    return [tickets.open_by_priority?.["1"] ?? 0, tickets.patient_safety_open ?? 0, rate,
      access.permission_denied_1h ?? 0, tickets.open ?? 0];
  };
  const byFigures = (a, b) => {
    const fa = figures(a);
    const fb = figures(b);
    for (let i = 0; i < fa.length; i += 1) if (fa[i] !== fb[i]) return fb[i] - fa[i];
    return 0;
  };
  const withoutVisit = ([k, child]) => {
    const walkers = child.floorwalkers || {};
    const minutes = k === "unit" ? walkers.minutes_without_visit : walkers.longest_minutes_without_visit;
    const never = k === "unit" ? walkers.minutes_since_last_visit === null : (walkers.units_never_visited ?? 0) > 0;
    // Never visited with an unknown go-live counts as the longest of all.
    return minutes === null || minutes === undefined ? (never ? Infinity : -1) : minutes;
  };
  return [...children].sort((a, b) =>
    (STATUS_RANK[a[1].health?.status] ?? 2) - (STATUS_RANK[b[1].health?.status] ?? 2)
    || byFigures(a, b)
    || withoutVisit(b) - withoutVisit(a)
    || String(a[1].name).localeCompare(String(b[1].name), "sv"));
}

/** A never-visited unit below has no known go-live: the longest time without a visit has no bound. */
function longestUnknown(walkers) {
  const longest = walkers.longest_minutes_without_visit;
  return (longest === null || longest === undefined) && (walkers.units_never_visited ?? 0) > 0;
}

/** The longest time without a visit of a roll-up, never-visited units included. */
function longestText(walkers) {
  const longest = walkers.longest_minutes_without_visit;
  if (longest !== null && longest !== undefined) return formatDuration(longest);
  return longestUnknown(walkers) ? t("fig.coverage.unknown") : "–";
}

function unitVisitText(walkers) {
  if (walkers.minutes_since_last_visit !== null && walkers.minutes_since_last_visit !== undefined) {
    return t("minutes", { n: formatNumber(walkers.minutes_since_last_visit) });
  }
  return walkers.minutes_without_visit !== null && walkers.minutes_without_visit !== undefined
    ? t("console.never.since", { duration: formatDuration(walkers.minutes_without_visit) })
    : t("fig.lastvisit.never");
}

/** +3, −2, ±0 */
function signed(n) {
  return n > 0 ? `+${formatNumber(n)}` : n < 0 ? `−${formatNumber(-n)}` : `±${formatNumber(0)}`;
}

function minutesSince(iso) {
  return iso ? Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 60000)) : 0;
}

/** 200 → "3 h 20 min", 45 → "45 min". */
export function formatDuration(minutes) {
  const m = Math.max(0, Math.floor(minutes || 0));
  if (m < 60) return t("duration.minutes", { m });
  return t("duration.hours", { h: Math.floor(m / 60), m: m % 60 });
}

function tile(metric, label, value, sub, tone) {
  const wordy = !/^[\d\s%/.,:\u00a0\u202f-]+(min)?$/.test(value);
  return h("div", { class: ["tile", tone && `tile--${tone}`, wordy && "tile--wordy"], dataset: { tile: metric } },
    h("p", { class: "tile-label" }, label),
    h("p", { class: "tile-value", dataset: { metric } }, ...withUnit(value)),
    sub ? h("p", { class: "tile-sub" }, sub) : null);
}

/** "330 min" → 330 and a smaller "min", kept on one line. */
function withUnit(value) {
  const match = /^(.+) (min)$/.exec(value);
  return match ? [match[1], " ", h("span", { class: "unit" }, match[2])] : [value];
}

export function hrefOf(kind, obj) {
  if (kind === "region") return "#/console";
  return `#/console/${kind}/${encodeURIComponent(idOf(kind, obj))}`;
}
