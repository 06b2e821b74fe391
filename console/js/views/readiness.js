// Readiness before go-live: a wave's go/no-go gate and the units that block it, with the reasons per unit.
// Read from GET /api/v1/waves (the waves and their gates) and GET /api/v1/readiness?wave= (the units); the
// assessments come from readiness.assessed events and the spreadsheet import, never from this page.

import { api } from "../api.js";
import { h, replaceKeepingFocus } from "../dom.js";
import { formatNumber, formatTime, t } from "../i18n.js";
import { latest } from "../latest.js";
import { badge, describeError } from "../ui.js";

const REFRESH_MS = 60000;
// The wave shown first: the next one being made ready, else the first planned, else the first of all.
const FIRST = ["readiness", "planned", "paused", "live", "exited"];

export class ReadinessView {
  constructor() {
    this.waves = null;
    this.wave = null;
    this.view = null;
    this.error = null;
    this.loads = { waves: latest(), wave: latest() };
  }

  mount(root) {
    this.root = root;
    this.timer = setInterval(() => this.load(), REFRESH_MS);
    this.render();
    this.load();
  }

  unmount() {
    clearInterval(this.timer);
    for (const load of Object.values(this.loads)) load.cancel();
  }

  async load() {
    try {
      this.waves = (await this.loads.waves((signal) => api("/api/v1/waves", { signal }))).waves;
      if (!this.wave || !this.waves.some((w) => w.wave_id === this.wave)) {
        const ranked = [...this.waves].sort((a, b) => FIRST.indexOf(a.status) - FIRST.indexOf(b.status));
        this.wave = ranked.length ? ranked[0].wave_id : null;
      }
      if (this.wave) {
        const wave = this.wave;
        this.view = await this.loads.wave((signal) => api("/api/v1/readiness", { params: { wave }, signal }));
      }
      this.error = null;
    } catch (error) {
      if (error?.name === "AbortError") return;
      this.error = describeError(error);
    }
    this.render();
  }

  choose(waveId) {
    this.wave = waveId;
    this.view = null;
    this.render();
    this.load();
  }

  render() {
    const picker = this.waves ? h("label", { class: "field readiness-wave" }, h("span", {}, t("readiness.wave")),
      h("select", { onchange: (e) => this.choose(e.target.value) }, this.waves.map((w) =>
        h("option", { value: w.wave_id, selected: w.wave_id === this.wave }, `${w.name} (${t(`wave.status.${w.status}`)})`)))) : null;
    replaceKeepingFocus(this.root, h("section", { class: "panel readiness", "aria-labelledby": "readiness-title" },
      h("div", { class: "panel-head" }, h("h1", { id: "readiness-title" }, t("readiness.title")), picker),
      this.error ? h("p", { class: "form-error", role: "alert" }, this.error)
        : !this.view ? h("p", { class: "muted" }, t("loading")) : this.renderWave(this.view)));
  }

  renderWave(view) {
    const gate = view.waves[0];
    if (!gate) return h("p", { class: "muted" }, t("readiness.no.units"));
    const units = new Map(view.units.map((u) => [u.unit_id, u]));
    const blocking = gate.blocking_unit_ids.map((id) => units.get(id)).filter(Boolean);
    const yellow = view.units.filter((u) => u.status === "yellow");
    return h("div", {},
      h("p", { class: "readiness-gate", dataset: { status: gate.status } }, t("readiness.gate"), " ", badge(gate.status, { large: true }), " ",
        h("span", { class: "readiness-counts" }, t("readiness.counts", gate.units)), " ",
        h("span", { class: "muted small" }, t("stop.as.of", { time: formatTime(view.as_of, { seconds: true }) }))),
      h("h2", {}, t("readiness.blocking", { n: gate.blocking_unit_ids.length + gate.blocking_elsewhere })),
      blocking.length ? h("ul", { class: "readiness-units readiness-blocking" }, blocking.map((u) => this.unitItem(u)))
        : h("p", { class: "muted" }, t("readiness.none.blocking")),
      gate.blocking_elsewhere ? h("p", { class: "muted small" }, t("readiness.elsewhere", { n: gate.blocking_elsewhere })) : null,
      yellow.length ? h("h2", {}, t("readiness.yellow", { n: yellow.length })) : null,
      yellow.length ? h("ul", { class: "readiness-units readiness-yellow" }, yellow.map((u) => this.unitItem(u))) : null);
  }

  unitItem(unit) {
    const reasons = unit.items.filter((item) => item.reason);
    const checklist = new Map((this.view?.checklist || []).map((entry) => [entry.item_id, entry]));
    return h("li", { class: "readiness-unit", dataset: { unitId: unit.unit_id, status: unit.status } },
      badge(unit.status), " ", h("strong", {}, unit.name),
      h("ul", { class: "small" }, reasons.map((item) => h("li", {}, reasonText(item, checklist.get(item.item_id)),
        item.assessor ? h("span", { class: "muted" }, ` — ${item.assessor}`) : null))));
  }
}

/**
 * An item's reason in the chosen language, from its value and the checklist's thresholds (services/readiness/
 * evaluate.py words the same in Swedish); the item's title is the region's checklist's own. The server's text when
 * the checklist does not name the item.
 */
function reasonText(item, entry) {
  if (item.value === null || item.value === undefined) return t("readiness.reason.unassessed", { title: item.title });
  if (!entry) return item.reason;
  if (entry.kind === "check") return t("readiness.reason.notdone", { title: item.title });
  const share = formatNumber(Number(item.value), 1);
  return item.status === "yellow"
    ? t("readiness.reason.yellow", { title: item.title, share, limit: formatNumber(entry.green_from ?? 0, 1) })
    : t("readiness.reason.red", { title: item.title, share, limit: formatNumber(entry.yellow_from ?? 0, 1) });
}
