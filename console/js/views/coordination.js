// The coordination group's page: stop criteria (go/no-go) with the numbers behind them, reporting duties
// with time left, and the risk register with what is missing. Chiefs and admins record continue/pause/
// roll-back here; the gateway stamps the decision with the criteria as they stand at that moment.

import { api } from "../api.js";
import { h, replaceKeepingFocus, statusIcon, toast } from "../dom.js";
import { formatNumber, formatPercent, formatTime, t } from "../i18n.js";
import { describeError, field, openFormDialog } from "../ui.js";

const REFRESH_MS = 30000;
// A live change (new events) refreshes at most this often; the figures come from the event store.
const LIVE_REFRESH_MS = 10000;
const ROLLOUT = ["continue", "pause", "rollback"];

const canDecide = (role) => role === "chief" || role === "admin";

/** Met / not met as icon + text (never colour alone). */
function metBadge(met, { judged = true } = {}) {
  const status = met ? "green" : "red";
  return h("span", { class: ["badge", `badge--${status}`], dataset: { met: String(met) } },
    statusIcon(status), h("span", { class: "badge-text" }, t(met ? (judged ? "stop.met" : "stop.not.judged") : "stop.not.met")));
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
    this.data = { criteria: null, duties: null, risks: null };
    this.errors = {};
    this.lastLoad = 0;
    this.onChange = () => { if (Date.now() - this.lastLoad > LIVE_REFRESH_MS) this.load(); };
  }

  mount(root) {
    this.root = root;
    this.live.addEventListener("change", this.onChange);
    this.timer = setInterval(() => this.load(), REFRESH_MS);
    this.render();
    this.load();
  }

  unmount() {
    this.live.removeEventListener("change", this.onChange);
    clearInterval(this.timer);
  }

  async load() {
    this.lastLoad = Date.now();
    const fetches = {
      criteria: () => api("/api/v1/stop-criteria"),
      duties: () => api("/api/v1/duties", { params: { status: "open" } }),
      risks: () => api("/api/v1/risks"),
    };
    await Promise.all(Object.entries(fetches).map(async ([name, fetcher]) => {
      try {
        this.data[name] = await fetcher();
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
          metBadge(doc.overall === "met"), " ", h("span", { class: "muted small" }, t("stop.as.of", { time: formatTime(doc.as_of, { seconds: true }) }))) : null),
      this.body("criteria", (data) => h("div", {},
        h("table", { class: "table stop-table" },
          h("caption", { class: "visually-hidden" }, t("stop.title")),
          h("thead", {}, h("tr", {},
            h("th", { scope: "col" }, t("stop.criterion")), h("th", { scope: "col" }, t("stop.value")),
            h("th", { scope: "col" }, t("stop.limit")), h("th", { scope: "col" }, t("stop.status")))),
          h("tbody", {}, data.criteria.map((item) => this.criterionRow(item)))),
        canDecide(this.me.role)
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
          " ", metBadge(b.met, { judged: b.judged }))))
      : null;
    return h("tr", { dataset: { criterion: item.id, met: String(item.met) } },
      h("th", { scope: "row" }, item.title, details,
        h("details", { class: "source" }, h("summary", {}, t("stop.source")), h("p", { class: "small" }, item.source))),
      h("td", { class: "num" }, formatValue(item, item.value),
        item.logins !== undefined ? h("div", { class: "muted small" }, t("stop.failures.of", { failures: item.failures, logins: item.logins })) : null),
      h("td", { class: "num" }, formatValue(item, item.limit)),
      h("td", {}, metBadge(item.met, { judged: item.judged })));
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
        this.data.criteria = result.stop_criteria;
        this.render();
      },
    });
  }

  // -- reporting duties ------------------------------------------------------------------------

  renderDuties() {
    return h("section", { class: "panel duties", "aria-labelledby": "duties-title" },
      h("h2", { id: "duties-title" }, t("duties.title"),
        this.data.duties ? h("span", { class: "count" }, " ", formatNumber(this.data.duties.count)) : null),
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
          duty.description ? h("p", {}, duty.description) : null)))
        : h("p", { class: "muted" }, t("duties.none"))));
  }

  // -- risk register ---------------------------------------------------------------------------

  renderRisks() {
    return h("section", { class: "panel risks", "aria-labelledby": "risks-title" },
      h("h2", { id: "risks-title" }, t("risks.title"),
        this.data.risks ? h("span", { class: "count" }, " ", t("risks.flagged", { n: this.data.risks.flagged })) : null),
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
              : null)))
          : h("p", { class: "muted" }, t("risks.none"));
      }));
  }
}
