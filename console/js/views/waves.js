// Waves on the chiefs' overview: a wave and area filter kept in the URL query (?wave=…&area=…, so a reload or a
// shared link keeps it) that narrows the tables, the waves' timeline (planned against actual go-live, the status as
// the decision log moved it: paused, resumed, handed over) and the wave-to-wave comparison (GET
// /api/v1/waves/compare: per 100 users, aligned on the hours since each wave's go-live).

import { api } from "../api.js";
import { columnChart } from "../charts.js";
import { h } from "../dom.js";
import { formatNumber, formatPercent, formatTime, t } from "../i18n.js";
import { latest } from "../latest.js";

const REFRESH_MS = 60000;
const MEASURES = [
  "tickets_per_100_users", "login_failure_rate", "permission_denials_per_100_users", "assists_per_100_users",
];
const SPANS = ["72h", "14d"];
const STATUS_TONE = { live: "resolved", readiness: "warn", paused: "alert", exited: "report-approved", planned: "" };

/** The filter in the page's query string: {wave, area} ("" for all). */
export function readFilter() {
  const query = new URLSearchParams(window.location.search);
  return { wave: query.get("wave") || "", area: query.get("area") || "" };
}

function writeFilter(filter) {
  const url = new URL(window.location.href);
  for (const [key, value] of Object.entries(filter)) {
    if (value) url.searchParams.set(key, value); else url.searchParams.delete(key);
  }
  window.history.replaceState(window.history.state, "", url);
}

export class WavePanel {
  /** ``onChange`` is called when data arrive or the filter changes (the view renders again). */
  constructor(onChange) {
    this.onChange = onChange;
    this.waves = null;
    this.areas = [];
    this.comparison = null;
    this.failed = false;
    this.filter = readFilter();
    this.span = "72h";
    this.measure = MEASURES[0];
    this.loads = { waves: latest(), compare: latest() };
    // The selects are made once and moved from render to render, so an open list is not torn down by a live update.
    this.waveSelect = h("select", { name: "wave", id: "wave-filter", dataset: { key: "wave-filter" }, onchange: () => this.choose() });
    this.areaSelect = h("select", { name: "area", id: "area-filter", dataset: { key: "area-filter" }, onchange: () => this.choose() });
    this.measureSelect = h("select", {
      name: "measure", id: "compare-measure", dataset: { key: "compare-measure" },
      onchange: () => { this.measure = this.measureSelect.value; this.onChange(); },
    });
    this.spanSelect = h("select", {
      name: "span", id: "compare-span", dataset: { key: "compare-span" },
      onchange: () => { this.span = this.spanSelect.value; this.loadComparison(); },
    });
  }

  start() {
    this.filter = readFilter();
    this.load();
    this.timer = setInterval(() => this.load(), REFRESH_MS);
  }

  stop() {
    clearInterval(this.timer);
    for (const load of Object.values(this.loads)) load.cancel();
  }

  async load() {
    try {
      const body = await this.loads.waves((signal) => api("/api/v1/waves", { signal }));
      this.waves = body.waves;
      this.areas = body.areas;
      this.failed = false;
    } catch (error) {
      if (error?.name === "AbortError") return;
      this.failed = true;
    }
    await this.loadComparison();
  }

  async loadComparison() {
    try {
      const span = this.span;
      this.comparison = await this.loads.compare((signal) => api("/api/v1/waves/compare", { params: { span }, signal }));
    } catch (error) {
      if (error?.name === "AbortError") return;
      this.comparison = null;
      this.failed = true;
    }
    this.onChange();
  }

  choose() {
    this.filter = { wave: this.waveSelect.value, area: this.areaSelect.value };
    writeFilter(this.filter);
    this.onChange();
  }

  get active() {
    return Boolean(this.filter.wave || this.filter.area);
  }

  // -- the filter ----------------------------------------------------------------------------

  /** The wave and area selects (a compact pair over the table). */
  filterBar() {
    fill(this.waveSelect, [["", t("waves.filter.all.waves")], ...(this.waves || []).map((w) => [w.wave_id, w.name])],
      this.filter.wave);
    fill(this.areaSelect, [["", t("waves.filter.all.areas")], ...this.areas.map((a) => [a.area_id, a.name])],
      this.filter.area);
    return h("div", { class: "wave-filter", role: "group", "aria-label": t("waves.filter.label") },
      h("label", { for: "wave-filter" }, t("waves.filter.wave")), this.waveSelect,
      h("label", { for: "area-filter" }, t("waves.filter.area")), this.areaSelect);
  }

  /** ``children`` ([kind, object] pairs of one level) in the chosen wave and area; all of them without a filter. */
  narrow(children) {
    if (!this.active || !this.waves) return children;  // until the waves are in, nothing is hidden
    const wave = (this.waves || []).find((w) => w.wave_id === this.filter.wave);
    const area = this.areas.find((a) => a.area_id === this.filter.area);
    return children.filter(([kind, child]) => {
      if (kind === "unit") {
        return (!this.filter.wave || child.wave_id === this.filter.wave)
          && (!this.filter.area || child.area === this.filter.area);
      }
      const key = kind === "administration" ? "administration_ids" : "site_ids";
      const id = kind === "administration" ? child.administration_id : child.site_id;
      return (!this.filter.wave || Boolean(wave?.[key]?.includes(id)))
        && (!this.filter.area || Boolean(area?.[key]?.includes(id)));
    });
  }

  /** "Showing 3 of 12 · 1 red, 1 yellow …": what the filter left (the counts of the rows shown). */
  shownNote(shown, total) {
    if (!this.active) return null;
    const count = (status) => shown.filter(([, child]) => (child.health?.status || "not_assessed") === status).length;
    return h("p", { class: "muted small wave-filter-note", role: "status", dataset: { shown: String(shown.length) } },
      t("waves.filter.shown", { shown: formatNumber(shown.length), total: formatNumber(total) }), " · ",
      t("waves.filter.counts", {
        red: formatNumber(count("red")), yellow: formatNumber(count("yellow")),
        grey: formatNumber(count("not_assessed")), green: formatNumber(count("green")),
      }));
  }

  // -- the overview: timeline and comparison ---------------------------------------------------

  overview() {
    if (!this.waves) {
      return h("section", { class: "waves" }, h("p", { class: "muted" }, this.failed ? t("waves.failed") : t("waves.loading")));
    }
    return h("section", { class: "waves", "aria-labelledby": "waves-title" },
      h("h2", { id: "waves-title" }, t("waves.timeline.title")), this.timeline(), this.compare());
  }

  timeline() {
    const moments = this.waves.flatMap((w) => [w.planned_go_live, w.actual_go_live]).filter(Boolean)
      .map((iso) => new Date(iso).getTime());
    const first = Math.min(...moments);
    const last = Math.max(...moments);
    const place = (iso) => (moments.length && last > first ? ((new Date(iso).getTime() - first) / (last - first)) * 100 : 50);
    return h("ol", { class: "wave-timeline" }, this.waves.map((wave) => {
      const planned = wave.planned_go_live;
      const actual = wave.actual_go_live;
      const notes = [];
      if (wave.rollout) {
        notes.push(t(`waves.rollout.${wave.rollout.state}`, { time: formatTime(wave.rollout.decided_at, { date: true }) }));
      }
      if (wave.handover) {
        notes.push(t(`waves.handover.${wave.handover.decision}`, { time: formatTime(wave.handover.decided_at, { date: true }) }));
      }
      return h("li", { class: "wave-row", dataset: { waveId: wave.wave_id, status: wave.status } },
        h("div", { class: "wave-name" },
          h("strong", {}, wave.name), " ",
          h("span", { class: ["pill", STATUS_TONE[wave.status] && `pill--${STATUS_TONE[wave.status]}`] },
            t(`wave.status.${wave.status}`))),
        h("div", { class: "wave-track", "aria-hidden": "true" },
          planned ? mark("planned", place(planned)) : null,
          actual ? mark("actual", place(actual)) : null),
        h("p", { class: "wave-times muted small" },
          planned ? t("waves.timeline.planned", { time: formatTime(planned, { date: true }) }) : t("waves.timeline.unscheduled"),
          " · ",
          actual ? t("waves.timeline.actual", { time: formatTime(actual, { date: true }) }) : t("waves.timeline.notyet"),
          planned && actual ? ` (${deviation(planned, actual)})` : "",
          notes.length ? ` · ${notes.join(" · ")}` : ""));
    }));
  }

  compare() {
    fill(this.measureSelect, MEASURES.map((m) => [m, t(`waves.compare.m.${m}`)]), this.measure);
    fill(this.spanSelect, SPANS.map((span) => [span, t(`waves.compare.span.${span}`)]), this.span);
    const head = h("div", { class: "panel-head" },
      h("h3", { id: "compare-title" }, t("waves.compare.title")),
      h("div", { class: "wave-filter" },
        h("label", { for: "compare-measure" }, t("waves.compare.measure")), this.measureSelect,
        h("label", { for: "compare-span" }, t("waves.compare.span")), this.spanSelect));
    const compared = (this.comparison?.waves || []).filter((w) => w.actual_go_live);
    if (!compared.length) {
      return h("div", { class: "wave-compare", "aria-labelledby": "compare-title" }, head,
        h("p", { class: "muted" }, this.comparison ? t("waves.compare.none") : t("waves.loading")));
    }
    const measure = this.measure;
    const rate = measure === "login_failure_rate";
    const series = compared.map((wave) => wave.buckets.map((b) => b.figures?.[measure] ?? 0));
    const max = Math.max(rate ? 0.01 : 1, ...series.flat());
    const unit = this.comparison.bucket_hours === 24 ? "day" : "hour";
    const charts = compared.map((wave, i) => {
      const begun = wave.buckets.filter((b) => b.figures);
      const latest = begun.length ? begun[begun.length - 1] : null;
      const latestValue = latest ? latest.figures[measure] : null;
      // The caption names its bucket ("timme 71: 0"): a bare number beside the bars read as the wave's total.
      const shown = rate ? formatPercent(latestValue) : formatNumber(latestValue, 2);
      const caption = latest ? `${t(`waves.compare.${unit}`, { n: latest.index })}: ${shown}` : shown;
      return h("div", { class: "wave-chart", dataset: { waveId: wave.wave_id } },
        columnChart({
          label: `${wave.name}`,
          values: series[i],
          starts: wave.buckets.map((b) => b.start),
          labels: wave.buckets.map((b) => t(`waves.compare.${unit}`, { n: b.index })),
          max,
          caption,
          variant: i % 2 ? "accent" : "neutral",
        }),
        h("p", { class: "muted small" },
          t("waves.compare.users", { users: formatNumber(wave.users), time: formatTime(wave.actual_go_live, { date: true }) })));
    });
    return h("div", { class: "wave-compare", "aria-labelledby": "compare-title" }, head,
      h("div", { class: "charts" }, charts));
  }
}

/** A marker on a wave's track (positioned through the CSSOM: the console's CSP allows no style attributes). */
function mark(kind, percent) {
  const el = h("span", { class: `wave-mark wave-mark--${kind}`, dataset: { mark: kind } });
  el.style.left = `${percent.toFixed(1)}%`;
  return el;
}

/** Planned vs actual: "45 min after plan", "on plan". */
function deviation(planned, actual) {
  const minutes = Math.round((new Date(actual).getTime() - new Date(planned).getTime()) / 60000);
  if (minutes === 0) return t("waves.timeline.ontime");
  const span = Math.abs(minutes) >= 120 ? t("waves.hours", { n: formatNumber(Math.abs(minutes) / 60, 1) })
    : t("waves.minutes", { n: formatNumber(Math.abs(minutes)) });
  return t(minutes > 0 ? "waves.timeline.late" : "waves.timeline.early", { duration: span });
}

/** Replace a select's options (keeping ``value`` chosen when it is one of them). */
function fill(select, options, value) {
  const same = select.options.length === options.length
    && options.every(([v, text], i) => select.options[i].value === v && select.options[i].textContent === text);
  if (!same) select.replaceChildren(...options.map(([v, text]) => h("option", { value: v }, text)));
  select.value = options.some(([v]) => v === value) ? value : "";
}
