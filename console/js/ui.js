// Shared pieces of the three views: status badges, modal forms, known issues.

import { api, ApiError } from "./api.js";
import { h, clear, statusIcon, toast } from "./dom.js";
import { formatTime, t } from "./i18n.js";

/** Green/yellow/red/grey ("ej bedömt": too little volume to judge) as icon + text (never colour alone). */
export function badge(status, { large = false } = {}) {
  const value = ["green", "yellow", "red", "not_assessed"].includes(status) ? status : "not_assessed";
  return h("span", { class: ["badge", `badge--${value}`, large && "badge--large"], dataset: { status: value } },
    statusIcon(value), h("span", { class: "badge-text" }, t(`status.${value}`)));
}

export function describeError(error) {
  if (error instanceof ApiError) return error.message;
  return t("error.network");
}

/**
 * A modal form in the page's one <dialog>. ``fields`` are elements (labels and inputs);
 * ``onSubmit(form)`` returns a promise; a thrown Error's message is shown in the dialog.
 */
export function openFormDialog({ title, fields, submitLabel, onSubmit, danger = false }) {
  const dialog = document.getElementById("dialog");
  const error = h("p", { class: "form-error", role: "alert" });
  const submit = h("button", { type: "submit", class: ["button", danger ? "button--danger" : "button--primary"] }, submitLabel);
  const cancel = h("button", { type: "button", class: "button", onclick: () => dialog.close() }, t("form.cancel"));
  const form = h("form", { class: "dialog-form", novalidate: true },
    h("h2", { id: "dialog-title" }, title),
    fields,
    error,
    h("div", { class: "dialog-actions" }, cancel, submit));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.textContent = "";
    submit.disabled = true;
    try {
      await onSubmit(form);
      dialog.close();
    } catch (failure) {
      error.textContent = failure && failure.message ? failure.message : String(failure);
    } finally {
      submit.disabled = false;
    }
  });
  clear(dialog);
  dialog.setAttribute("aria-labelledby", "dialog-title");
  dialog.append(form);
  dialog.showModal();
  const first = form.querySelector("input, select, textarea");
  if (first) first.focus();
  return dialog;
}

export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  return h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("p", { class: "hint" }, hint) : null);
}

export function knownStatusLabel(status) {
  return t(`known.status.${status}`);
}

/** One known issue as a list item: status, title, workaround, linked tickets (all as text). */
export function knownIssueItem(issue, { onStatus } = {}) {
  return h("li", { class: ["known-issue", `known-issue--${issue.status}`], dataset: { knownIssue: String(issue.id) } },
    h("div", { class: "known-issue-head" },
      h("span", { class: "pill" }, `KI-${issue.id}`),
      h("span", { class: `pill pill--${issue.status}` }, knownStatusLabel(issue.status)),
      h("strong", { class: "known-issue-title" }, issue.title)),
    issue.workaround ? h("p", { class: "known-issue-workaround" }, t("known.workaround", { text: issue.workaround })) : null,
    h("p", { class: "muted small" },
      t("known.tickets", { n: issue.ticket_count }), " · ", issue.created_by, " · ", formatTime(issue.created_at, { date: true })),
    onStatus ? h("div", { class: "known-issue-actions" },
      ["open", "workaround", "resolved"].filter((s) => s !== issue.status).map((s) =>
        h("button", { type: "button", class: "button button--small", dataset: { key: `ki-${issue.id}-${s}` },
          onclick: () => onStatus(issue, s) }, `${t("known.set.status")}: ${knownStatusLabel(s)}`))) : null);
}

export function openNewKnownIssueDialog(known) {
  const title = h("input", { type: "text", name: "title", maxlength: 200, required: true, autocomplete: "off" });
  const workaround = h("textarea", { name: "workaround", rows: 4, maxlength: 4000 });
  const status = h("select", { name: "status" },
    ["open", "workaround", "resolved"].map((s) => h("option", { value: s }, knownStatusLabel(s))));
  openFormDialog({
    title: t("known.new"),
    fields: [field(t("known.field.title"), title), field(t("known.field.workaround"), workaround),
      field(t("known.field.status"), status)],
    submitLabel: t("known.create"),
    onSubmit: async () => {
      if (!title.value.trim()) throw new Error(t("form.required", { field: t("known.field.title") }));
      try {
        await api("/api/v1/known-issues", {
          method: "POST", body: { title: title.value, workaround: workaround.value, status: status.value },
        });
      } catch (error) { throw new Error(describeError(error)); }
      toast(t("known.created"));
      await known.refresh();
    },
  });
}

export async function setKnownIssueStatus(known, issue, status) {
  try {
    await api(`/api/v1/known-issues/${issue.id}`, { method: "PATCH", body: { status } });
    await known.refresh();
  } catch (error) {
    toast(t("error.generic", { reason: describeError(error) }), "error");
  }
}

export function openLinkDialog(known, ticketId, onLinked) {
  const choices = known.items.filter((issue) => issue.status !== "resolved");
  const list = choices.length
    ? h("fieldset", { class: "choices" }, h("legend", {}, t("known.title")),
      choices.map((issue, i) => h("label", { class: "choice" },
        h("input", { type: "radio", name: "known_issue", value: String(issue.id), checked: i === 0 }),
        h("span", {}, `KI-${issue.id} · `, issue.title))))
    : h("p", {}, t("known.link.none"));
  openFormDialog({
    title: t("known.link.title", { ticket: ticketId }),
    fields: [list],
    submitLabel: t("known.link.submit"),
    onSubmit: async (form) => {
      const picked = form.querySelector("input[name=known_issue]:checked");
      if (!picked) throw new Error(t("known.link.none"));
      try {
        await api(`/api/v1/known-issues/${picked.value}/tickets`, { method: "POST", body: { ticket_id: ticketId } });
      } catch (error) { throw new Error(describeError(error)); }
      toast(t("known.linked"));
      await known.refresh();
      if (onLinked) onLinked();
    },
  });
}
