// The "Larm" list of the command console: the gateway's alerts, live from the WebSocket model.
// Roles that may handle alerts (permissions.js) acknowledge and assign them; the API refuses everyone else anyway.
// Everyone who sees an alert may open its notifications (GET /api/v1/alerts/{id}): who was told, through which
// channel, and whether it arrived (delivered, pending with attempts and the last error, dead).
// Everything is built with h(): alert texts, names, assignees and recipients are always text nodes.

import { api } from "./api.js";
import { clear, h, statusIcon, toast } from "./dom.js";
import { formatTime, getLang, t } from "./i18n.js";
import { describeError, field, openFormDialog } from "./ui.js";

const SEVERITY_ORDER = { critical: 0, warning: 1, info: 2 };
const LEVEL_ORDER = { program: 0, multi: 1, team: 2 };
const SEVERITY_ICON = { critical: "red", warning: "yellow", info: "info" };

/** Unacknowledged first, then the most severe, the highest level, the newest. */
export function sortAlerts(alerts) {
  return [...alerts].sort((a, b) =>
    (a.status === "open" ? 0 : 1) - (b.status === "open" ? 0 : 1)
    || (SEVERITY_ORDER[a.severity] ?? 3) - (SEVERITY_ORDER[b.severity] ?? 3)
    || (LEVEL_ORDER[a.level] ?? 3) - (LEVEL_ORDER[b.level] ?? 3)
    || String(b.raised_at).localeCompare(String(a.raised_at))
    || b.id - a.id);
}

/** Critical, warning or info as icon + text (never colour alone). */
export function severityBadge(severity) {
  const value = SEVERITY_ORDER[severity] === undefined ? "info" : severity;
  return h("span", { class: ["badge", `badge--${SEVERITY_ICON[value]}`], dataset: { severity: value } },
    statusIcon(SEVERITY_ICON[value]), h("span", { class: "badge-text" }, t(`severity.${value}`)));
}

const pct = (v) => `${Math.round(v * 100)}%`;
// English renderings by kind (the Swedish message comes from the gateway).
const MESSAGES_EN = {
  login_failure_rate: (a) => `Login failures ${pct(a.value)} in the last 15 min (limit ${pct(a.threshold)})`,
  ticket_open_too_long: (a) => `Ticket open for ${a.value} min (limit ${a.threshold} min)`,
  patient_safety_ticket: (a) => `${a.value} open tickets with a patient-safety risk`,
  unvisited_with_open_tickets: (a) => `No floor-walker visit for ${a.value} min despite open tickets (limit ${a.threshold / 60} h)`,
  ed_waiting_over_capacity: (a) => `Waiting patients at ${pct(a.value)} of the ED's capacity`,
  ed_status_missing: (a) => `No ED status report for ${a.value} min (limit ${a.threshold} min)`,
  // The reasons are the rules file's own (Swedish) texts; the head says what the alarm is.
  health_red: (a) => `Red status: ${String(a.message).replace(/^Röd status: /, "")}`,
};

export function alertText(alert) {
  const english = getLang() === "en" ? MESSAGES_EN[alert.kind] : null;
  return english && alert.value !== null ? english(alert) : alert.message;
}

function minutesSince(iso) {
  return Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 60000));
}

/** One alert as a list item; ``href`` links its node, ``handlers`` only for roles that may handle alerts. */
export function alertItem(alert, { href, handlers }) {
  const meta = [
    t(`alert.level.${alert.level}`),
    t("minutes.ago", { n: minutesSince(alert.raised_at) }),
    alert.acknowledged_by ? t("alert.acknowledged.by", { name: alert.acknowledged_by }) : null,
    alert.assigned_to ? t("alert.assigned.to", { name: alert.assigned_to }) : null,
  ].filter(Boolean);
  const actions = h("div", { class: "alert-actions" },
    handlers && alert.status === "open" ? h("button", {
      type: "button", class: "button button--small button--primary",
      dataset: { key: `ack-${alert.id}`, action: "ack-alert" }, onclick: () => handlers.acknowledge(alert),
    }, t("alert.acknowledge")) : null,
    handlers ? h("button", {
      type: "button", class: "button button--small",
      dataset: { key: `assign-${alert.id}`, action: "assign-alert" }, onclick: () => handlers.assign(alert),
    }, t("alert.assign")) : null,
    h("button", {
      type: "button", class: "button button--small",
      dataset: { key: `notifications-${alert.id}`, action: "alert-notifications" },
      onclick: () => openNotificationsDialog(alert),
    }, t("alerts.notifications.open")));
  return h("li", {
    class: ["alert", `alert--${alert.severity}`, `alert--${alert.status}`],
    dataset: { alertId: String(alert.id), status: alert.status, nodeId: alert.node_id, rule: alert.rule },
  },
  severityBadge(alert.severity),
  h("div", { class: "alert-body" },
    href ? h("a", { href, dataset: { key: `alert-${alert.id}` } }, alert.node_name) : h("strong", {}, alert.node_name),
    h("span", { class: "alert-text" }, alertText(alert)),
    h("span", { class: "alert-meta muted small" }, meta.join(" · ")),
    actions),
  h("time", { datetime: alert.raised_at, class: "muted small" }, formatTime(alert.raised_at)));
}

export async function acknowledgeAlert(alert) {
  try {
    await api(`/api/v1/alerts/${alert.id}/acknowledge`, { method: "POST" });
    toast(t("alert.acknowledged"));
  } catch (error) {
    toast(t("error.generic", { reason: describeError(error) }), "error");
  }
}

export function openAssignDialog(alert) {
  const who = h("input", {
    type: "text", name: "assigned_to", maxlength: 200, required: true, autocomplete: "off", value: alert.assigned_to || "",
  });
  openFormDialog({
    title: t("alert.assign.title", { node: alert.node_name }),
    fields: [field(t("alert.assign.field"), who, t("alert.assign.hint"))],
    submitLabel: t("alert.assign.submit"),
    onSubmit: async () => {
      if (!who.value.trim()) throw new Error(t("form.required", { field: t("alert.assign.field") }));
      try {
        await api(`/api/v1/alerts/${alert.id}/assign`, { method: "POST", body: { assigned_to: who.value } });
      } catch (error) { throw new Error(describeError(error)); }
      toast(t("alert.assigned"));
    },
  });
}

// -- an alert's notifications ----------------------------------------------------------------------

const NOTIFICATION_REFRESH_MS = 2000;  // while the dialog is open: a pending delivery turns delivered or dead
const STATE_ICON = { delivered: "green", pending: "yellow", dead: "red" };

function notificationItem(item) {
  const state = STATE_ICON[item.state] ? item.state : "pending";
  const facts = [t("alerts.notifications.attempts", { n: item.attempts })];
  if (item.state === "delivered" && item.delivered_at) {
    facts.push(t("alerts.notifications.delivered.at", { time: formatTime(item.delivered_at, { seconds: true }) }));
  }
  if (item.state === "pending" && item.next_attempt_at) {
    facts.push(t("alerts.notifications.next", { time: formatTime(item.next_attempt_at, { seconds: true }) }));
  }
  return h("li", {
    class: ["notification", `notification--${state}`],
    dataset: { recipient: item.recipient, state, transition: item.transition, channel: item.channel },
  },
  h("span", { class: ["badge", `badge--${STATE_ICON[state]}`], dataset: { state } },
    statusIcon(STATE_ICON[state]), h("span", { class: "badge-text" }, t(`alerts.notifications.state.${state}`))),
  h("div", { class: "notification-body" },
    h("strong", { class: "notification-recipient" }, item.recipient),
    h("span", { class: "notification-what" }, [
      t(`alerts.notifications.channel.${item.channel}`),
      t(`alerts.notifications.transition.${item.transition}`),
      t(`alert.level.${item.level}`),
    ].join(" · ")),
    h("span", { class: "notification-meta muted small" }, facts.join(" · ")),
    item.last_error ? h("span", { class: "notification-error small" },
      t("alerts.notifications.error", { error: item.last_error })) : null),
  h("time", { datetime: item.created_at, class: "muted small" }, formatTime(item.created_at)));
}

function notificationList(detail) {
  const items = detail.notifications || [];
  if (!items.length) return h("p", { class: "muted" }, t("alerts.notifications.none"));
  const count = (state) => items.filter((item) => item.state === state).length;
  return [
    h("p", { class: "notification-summary" }, t("alerts.notifications.summary", {
      delivered: count("delivered"), pending: count("pending"), dead: count("dead"),
    })),
    h("ol", { class: "notification-list" }, items.map(notificationItem)),
  ];
}

/** The alert's notifications in the dialog, read again every few seconds while it stays open. */
export function openNotificationsDialog(alert) {
  const dialog = document.getElementById("dialog");
  const body = h("div", { class: "notifications", dataset: { alertId: String(alert.id) }, "aria-live": "polite" },
    h("p", { class: "muted" }, t("alerts.notifications.loading")));
  const close = h("button", { type: "button", class: "button", onclick: () => dialog.close() },
    t("alerts.notifications.close"));
  const panel = h("div", { class: "dialog-form" },
    h("h2", { id: "dialog-title" }, t("alerts.notifications.title", { node: alert.node_name })),
    body,
    h("div", { class: "dialog-actions" }, close));
  clear(dialog);
  dialog.setAttribute("aria-labelledby", "dialog-title");
  dialog.append(panel);
  dialog.showModal();
  close.focus();

  const showing = () => dialog.open && panel.isConnected;
  const refresh = async () => {
    if (!showing()) return;
    try {
      const detail = await api(`/api/v1/alerts/${alert.id}`);
      if (showing()) clear(body).append(...[notificationList(detail)].flat());
    } catch (error) {
      if (showing()) {
        clear(body).append(h("p", { class: "form-error", role: "alert" },
          t("alerts.notifications.failed", { reason: describeError(error) })));
      }
    }
    if (showing()) setTimeout(refresh, NOTIFICATION_REFRESH_MS);
  };
  refresh();
}
