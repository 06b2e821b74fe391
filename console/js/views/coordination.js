// The coordination group's page: stop criteria (go/no-go) with the numbers behind them, reporting duties
// with time left, and the risk register with what is missing. Chiefs and admins record continue/pause/
// roll-back here; the gateway stamps the decision with the criteria as they stand at that moment. They also
// open and close reporting duties and record risks: each is an event through the ingest API, like any other.

import { api } from "../api.js";
import { h, replaceKeepingFocus, statusIcon, toast } from "../dom.js";
import { newEvent, newId, sendEvent } from "../events.js";
import { formatNumber, formatPercent, formatTime, t } from "../i18n.js";
import { latest } from "../latest.js";
import { can } from "../permissions.js";
import { describeError, field, openFormDialog } from "../ui.js";

const REFRESH_MS = 30000;
// A live change (new events) refreshes at most this often; the figures come from the event store.
const LIVE_REFRESH_MS = 10000;
const ROLLOUT = ["continue", "pause", "rollback"];

const STATE_COLOUR = { within: "green", exceeded: "red", not_assessed: "not_assessed" };

/** The server's state, or (an evaluation frozen before it had one) derived from met and judged. */
function stateOf(item) {
  if (item.state) return item.state;
  if (!item.met) return "exceeded";
  return item.judged === false ? "not_assessed" : "within";
}

/**
 * Within the limit / exceeded – stop / not assessed, as icon + text (never colour alone). Never "uppfyllt":
 * in go-live usage "stoppkriteriet är uppfyllt" means stop, so the old wording read backwards.
 */
function stateBadge(state) {
  const colour = STATE_COLOUR[state] || "not_assessed";
  return h("span", { class: ["badge", `badge--${colour}`], dataset: { state } },
    statusIcon(colour), h("span", { class: "badge-text" }, t(`stop.state.${state}`)));
}

function overallBadge(overall) {
  const colour = overall === "met" ? "green" : "red";
  return h("span", { class: ["badge", `badge--${colour}`], dataset: { state: overall } },
    statusIcon(colour), h("span", { class: "badge-text" }, t(`stop.overall.${overall}`)));
}

/** The criterion's name in the chosen language (the rules file's title is Swedish). */
function criterionTitle(item) {
  const key = `stop.criterion.${item.id}`;
  const text = t(key);
  return text === key ? item.title : text;
}

function formatValue(item, value) {
  if (item.unit === "andel") return formatPercent(value);
  if (item.unit === "timmar") return t("stop.hours", { n: formatNumber(value, 1) });
  return formatNumber(value);
}

export function timeLeft(minutes) {
  if (minutes === null || minutes === undefined) return t("duties.no.deadline");
  const abs = Math.abs(minutes);
  const text = abs >= 60 ? t("duration.hm", { h: Math.floor(abs / 60), m: abs % 60 }) : t("duration.m", { m: abs });
  return minutes <= 0 ? t("duties.overdue", { time: text }) : t("duties.left", { time: text });
}

export class CoordinationView {
  constructor({ live, me }) {
    this.live = live;
    this.me = me;
    this.canDecide = can(me.role, "decide");
    this.data = { criteria: null, duties: null, risks: null };
    this.errors = {};
    // Loads overlap (live changes, the timer, a save): per panel, the newest answer wins.
    this.loads = { criteria: latest(), duties: latest(), risks: latest() };
    this.saved = null;
    this.lastLoad = 0;
    this.onChange = () => { if (Date.now() - this.lastLoad > LIVE_REFRESH_MS) this.refresh(); };
  }

  mount(root) {
    this.root = root;
    this.live.addEventListener("change", this.onChange);
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
    this.render();
    this.load();
  }

  unmount() {
    this.live.removeEventListener("change", this.onChange);
    clearInterval(this.timer);
    clearTimeout(this.saved);
    for (const load of Object.values(this.loads)) load.cancel();
  }

  /** A background reload (timer, live change): not while one is still in flight (see latest.js). */
  refresh() {
    if (!Object.values(this.loads).some((load) => load.pending)) this.load();
  }

  async load() {
    this.lastLoad = Date.now();
    const fetches = {
      criteria: (signal) => api("/api/v1/stop-criteria", { signal }),
      duties: (signal) => api("/api/v1/duties", { params: { status: "open" }, signal }),
      risks: (signal) => api("/api/v1/risks", { signal }),
    };
    await Promise.all(Object.entries(fetches).map(async ([name, fetcher]) => {
      try {
        this.data[name] = await this.loads[name](fetcher);
        delete this.errors[name];
      } catch (error) {
        this.errors[name] = describeError(error);
      }
    }));
    this.render();
  }

  render() {
    replaceKeepingFocus(this.root, h("div", { class: "coordination" },
      this.renderCriteria(), this.renderDuties(), this.renderRisks()));
  }

  body(name, loaded) {
    if (this.errors[name]) return h("p", { class: "form-error", role: "alert" }, this.errors[name]);
    if (!this.data[name]) return h("p", { class: "muted" }, t("loading"));
    return loaded(this.data[name]);
  }

  // -- stop criteria ---------------------------------------------------------------------------

  renderCriteria() {
    const doc = this.data.criteria;
    return h("section", { class: "panel stop-criteria", "aria-labelledby": "stop-title" },
      h("div", { class: "panel-head" },
        h("h1", { id: "stop-title" }, t("stop.title")),
        doc ? h("p", { class: "stop-overall", dataset: { overall: doc.overall } },
          overallBadge(doc.overall), " ", h("span", { class: "muted small" }, t("stop.as.of", { time: formatTime(doc.as_of, { seconds: true }) }))) : null),
      this.body("criteria", (data) => h("div", {},
        h("table", { class: "table stop-table" },
          h("caption", { class: "visually-hidden" }, t("stop.title")),
          h("thead", {}, h("tr", {},
            h("th", { scope: "col" }, t("stop.criterion")), h("th", { scope: "col" }, t("stop.value")),
            h("th", { scope: "col" }, t("stop.limit")), h("th", { scope: "col" }, t("stop.status")))),
          h("tbody", {}, data.criteria.map((item) => this.criterionRow(item)))),
        this.canDecide
          ? h("div", { class: "actions rollout-actions" }, h("span", { class: "muted" }, t("stop.decide")),
            ROLLOUT.map((choice) => h("button", {
              type: "button", class: ["button", choice === "continue" ? "button--primary" : "button--danger"],
              dataset: { rollout: choice }, onclick: () => this.openDecision(choice),
            }, t(`rollout.${choice}`))))
          : null)));
  }

  criterionRow(item) {
    const failing = item.breakdown.filter((b) => !b.met);
    const details = item.breakdown.length
      ? h("ul", { class: "breakdown" }, (failing.length ? failing : item.breakdown.filter((b) => b.judged)).map((b) =>
        h("li", {}, `${b.name}: ${formatValue(item, b.value)}`,
          b.logins !== undefined ? ` (${t("stop.failures.of", { failures: b.failures, logins: b.logins })})` : "",
          " ", stateBadge(stateOf(b)))))
      : null;
    return h("tr", { dataset: { criterion: item.id, met: String(item.met), state: stateOf(item) } },
      h("th", { scope: "row" }, criterionTitle(item), details,
        h("details", { class: "source" }, h("summary", {}, t("stop.source")), h("p", { class: "small" }, item.source))),
      h("td", { class: "num" }, formatValue(item, item.value),
        item.logins !== undefined ? h("div", { class: "muted small" }, t("stop.failures.of", { failures: item.failures, logins: item.logins })) : null),
      h("td", { class: "num" }, formatValue(item, item.limit)),
      h("td", {}, stateBadge(stateOf(item)),
        stateOf(item) === "not_assessed" && item.min_logins
          ? h("div", { class: "muted small" }, t("stop.min.logins", { n: formatNumber(item.min_logins) })) : null));
  }

  openDecision(choice) {
    const input = (name, tag = "input") => h(tag, { name, class: "input", rows: tag === "textarea" ? 3 : undefined });
    openFormDialog({
      title: t(`rollout.${choice}.title`),
      submitLabel: t("stop.record"),
      danger: choice !== "continue",
      fields: [
        h("p", {}, t("stop.stamped")),
        field(t("decisions.field.decision"), input("decision", "textarea")),
        field(t("decisions.field.rationale"), input("rationale", "textarea")),
        field(t("decisions.field.mandate"), input("mandate")),
        field(t("decisions.field.owner"), input("owner")),
      ],
      onSubmit: async (form) => {
        const value = (name) => form.elements[name].value.trim();
        const result = await api("/api/v1/stop-criteria/decisions", {
          method: "POST",
          body: { rollout_decision: choice, decision: value("decision"), rationale: value("rationale"),
            mandate: value("mandate"), owner: value("owner") },
        });
        toast(t("stop.recorded", { id: result.decision_id }), "success");
        // The criteria stamped on the decision are the newest: a load still in flight must not replace them.
        this.data.criteria = await this.loads.criteria(async () => result.stop_criteria);
        this.render();
      },
    });
  }

  // -- reporting duties ------------------------------------------------------------------------

  renderDuties() {
    const decide = this.canDecide;
    return h("section", { class: "panel duties", "aria-labelledby": "duties-title" },
      h("div", { class: "panel-head" },
        h("h2", { id: "duties-title" }, t("duties.title"),
          this.data.duties ? h("span", { class: "count" }, " ", formatNumber(this.data.duties.count)) : null),
        decide && this.data.duties
          ? h("button", { type: "button", class: "button", onclick: () => this.openDuty() }, t("duties.new"))
          : null),
      this.body("duties", (data) => data.items.length
        ? h("ol", { class: "duty-list" }, data.items.map((duty) => h("li", {
          class: ["duty", duty.overdue && "duty--overdue"], dataset: { dutyId: duty.duty_id },
        },
          h("p", { class: "duty-head" },
            duty.overdue ? statusIcon("red") : statusIcon("yellow"), " ",
            h("strong", {}, duty.name), " · ", duty.authority || "",
            h("span", { class: "duty-left", dataset: { minutesLeft: String(duty.minutes_left) } }, " — ", timeLeft(duty.minutes_left))),
          h("p", { class: "muted small" }, t("duties.deadline", { time: formatTime(duty.deadline, { date: true }) }),
            " · ", t(`duties.trigger.${duty.trigger}`, { id: duty.trigger_id })),
          duty.description ? h("p", {}, duty.description) : null,
          decide
            ? h("button", { type: "button", class: "button button--small", dataset: { action: "fulfil-duty" },
              onclick: () => this.openFulfil(duty) }, t("duties.fulfil"))
            : null)))
        : h("p", { class: "muted" }, t("duties.none"))));
  }

  // -- risk register ---------------------------------------------------------------------------

  renderRisks() {
    const decide = this.canDecide;
    return h("section", { class: "panel risks", "aria-labelledby": "risks-title" },
      h("div", { class: "panel-head" },
        h("h2", { id: "risks-title" }, t("risks.title"),
          this.data.risks ? h("span", { class: "count" }, " ", t("risks.flagged", { n: this.data.risks.flagged })) : null),
        decide ? h("button", { type: "button", class: "button", onclick: () => this.openRisk(null) }, t("risks.new")) : null),
      this.body("risks", (data) => {
        const current = data.items.filter((risk) => risk.status !== "closed");
        return current.length
          ? h("ol", { class: "risk-list" }, current.map((risk) => h("li", { class: "risk", dataset: { riskId: risk.risk_id } },
            h("p", { class: "risk-head" }, h("strong", {}, risk.title), " · ", t(`risks.severity.${risk.severity}`),
              " · ", t(`risks.status.${risk.status}`)),
            h("p", { class: "small" }, t("risks.owner"), ": ", risk.owner || "—", " · ", t("risks.mitigation"), ": ",
              risk.mitigation || "—"),
            risk.flags.length
              ? h("p", { class: "risk-flags" }, risk.flags.map((flag) => h("span", { class: ["badge", "badge--yellow"], dataset: { flag } },
                statusIcon("yellow"), h("span", { class: "badge-text" }, t(`risks.flag.${flag}`)))))
              : null,
            decide
              ? h("button", { type: "button", class: "button button--small", dataset: { action: "update-risk" },
                onclick: () => this.openRisk(risk) }, t("risks.update"))
              : null)))
          : h("p", { class: "muted" }, t("risks.none"));
      }));
  }

  // -- recording duties and risks (chiefs and admins) --------------------------------------------

  async submit(type, unitId, fields) {
    await sendEvent(newEvent(type, unitId, fields));
    toast(t("coordination.saved"), "success");
    clearTimeout(this.saved);
    this.saved = setTimeout(() => this.load(), 800);  // the worker stores it within a moment
  }

  regionId() {
    return this.live.region?.region_id || "";
  }

  openDuty() {
    const kinds = Object.entries(this.data.duties.kinds || {});
    const kind = h("select", { name: "duty", class: "input" },
      kinds.map(([key, k]) => h("option", { value: key }, `${k.name} — ${k.authority} (${t("duties.hours", { n: k.deadline_hours })})`)));
    const trigger = h("select", { name: "trigger", class: "input" },
      h("option", { value: "ticket" }, t("duties.trigger.kind.ticket")),
      h("option", { value: "decision" }, t("duties.trigger.kind.decision")));
    openFormDialog({
      title: t("duties.new"),
      submitLabel: t("duties.open"),
      fields: [
        field(t("duties.kind"), kind),
        field(t("duties.trigger"), trigger),
        field(t("duties.trigger.id"), h("input", { name: "trigger_id", class: "input", required: true })),
        field(t("duties.description"), h("textarea", { name: "description", class: "input", rows: 3 })),
      ],
      onSubmit: async (form) => {
        const value = (name) => form.elements[name].value.trim();
        if (!value("trigger_id")) throw new Error(t("duties.trigger.required"));
        await this.submit("duty.opened", this.regionId(), {
          duty_id: newId("RP"), duty: value("duty"), trigger: value("trigger"), trigger_id: value("trigger_id"),
          description: value("description"), opened_by: this.me.name,
        });
      },
    });
  }

  openFulfil(duty) {
    openFormDialog({
      title: t("duties.fulfil.title", { name: duty.name }),
      submitLabel: t("duties.fulfil"),
      fields: [field(t("duties.reference"), h("input", { name: "reference", class: "input" }), t("duties.reference.hint"))],
      onSubmit: async (form) => {
        await this.submit("duty.fulfilled", duty.unit_id || this.regionId(), {
          duty_id: duty.duty_id, reference: form.elements.reference.value.trim(), fulfilled_by: this.me.name,
        });
      },
    });
  }

  openRisk(risk) {
    const input = (name, value = "") => h("input", { name, class: "input", value });
    const text = (name, value = "") => { const el = h("textarea", { name, class: "input", rows: 3 }); el.value = value; return el; };
    const choice = (name, values, current, label) => h("select", { name, class: "input" },
      values.map((v) => h("option", { value: v, selected: v === current }, t(`${label}.${v}`))));
    openFormDialog({
      title: risk ? t("risks.update.title", { title: risk.title }) : t("risks.new"),
      submitLabel: t("risks.save"),
      fields: [
        field(t("risks.field.title"), input("title", risk?.title)),
        field(t("risks.field.description"), text("description", risk?.description)),
        field(t("risks.owner"), input("owner", risk?.owner)),
        field(t("risks.mitigation"), text("mitigation", risk?.mitigation)),
        field(t("risks.field.severity"), choice("severity", ["low", "medium", "high"], risk?.severity || "medium", "risks.severity")),
        field(t("risks.field.status"), choice("status", ["open", "mitigating", "closed"], risk?.status || "open", "risks.status")),
      ],
      onSubmit: async (form) => {
        const value = (name) => form.elements[name].value.trim();
        if (!value("title")) throw new Error(t("risks.title.required"));
        await this.submit("risk.recorded", risk?.unit_id || this.regionId(), {
          risk_id: risk ? risk.risk_id : newId("R"), title: value("title"), description: value("description"),
          owner: value("owner"), mitigation: value("mitigation"), severity: value("severity"), status: value("status"),
          linked_alert_ids: risk?.linked_alert_ids || [], linked_decision_ids: risk?.linked_decision_ids || [],
          recorded_by: this.me.name,
        });
      },
    });
  }
}
