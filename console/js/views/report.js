// The daily situation report (lägesrapport): the report of a day as the API serves it (published, else the
// draft or approved one, else a preview computed now), downloads as HTML, PDF and Markdown, and the
// draft → approved → published workflow for chiefs and admins. Every value is a text node (h()).

import { api, getToken } from "../api.js";
import { columnChart } from "../charts.js";
import { h, replaceKeepingFocus, toast } from "../dom.js";
import { formatNumber, formatTime, stockholmLocalNow, t } from "../i18n.js";
import { latest } from "../latest.js";
import { can } from "../permissions.js";
import { describeError, field, openFormDialog } from "../ui.js";

const FORMATS = [["html", "report.download.html"], ["pdf", "report.download.pdf"], ["md", "report.download.md"]];

/** A value as the report prints it (content formats: services/reports/figures.py). */
function formatCell(value, fmt) {
  if (value === null || value === undefined || value === "") return fmt === "text" ? "" : "–";
  if (fmt === "int") return formatNumber(value);
  if (fmt === "percent") return `${formatNumber(value * 100, 1)} %`;
  if (fmt === "hours") return formatNumber(value, 1);
  if (fmt === "decimal") return formatNumber(value, 2);
  if (fmt === "datetime") return formatTime(value, { date: true });
  return String(value);
}

/** Source id → footnote number, in reading order (the same numbering as the rendered report). */
function footnotes(content) {
  const order = new Map();
  const note = (src) => { if (src && !order.has(src)) order.set(src, order.size + 1); };
  for (const section of content.sections) {
    for (const item of section.figures || []) note(item.src);
    for (const table of section.tables || []) {
      note(table.src);
      for (const column of table.columns) note(column.src);
      for (const row of [...table.rows, ...(table.total ? [table.total] : [])]) {
        for (const value of Object.values(row)) if (value && typeof value === "object") note(value.src);
      }
    }
    for (const chart of section.charts || []) note(chart.src);
  }
  return order;
}

export class ReportView {
  constructor({ me }) {
    this.me = me;
    this.day = stockholmLocalNow().slice(0, 10);
    this.shown = null;  // {report, content}
    this.list = null;
    this.error = null;
    this.busy = false;
    // The newest load wins: a slower, older answer never replaces what was asked for later.
    this.showing = latest();  // the report shown (a day's, one from the list, the answer of a workflow step)
    this.listing = latest();  // the list of saved reports
  }

  mount(root) {
    this.root = root;
    this.render();
    this.loadDay();
  }

  unmount() {
    this.showing.cancel();
    this.listing.cancel();
  }

  /** Show the report ``fetcher(signal)`` answers with ({report, content}), or a newer one asked for since. */
  async show(fetcher) {
    this.shown = await this.showing(fetcher);
  }

  async loadDay() {
    const params = { date: this.day };
    await this.run(() => this.show((signal) => api("/api/v1/reports/daily", { params, signal })));
  }

  async open(id) {
    await this.run(() => this.show((signal) => api(`/api/v1/reports/${id}`, { signal })));
  }

  /** Runs ``action`` (an API call), then reloads the list and renders; errors are shown, not thrown. */
  async run(action) {
    this.busy = true;
    this.render();
    try {
      await action();
      this.error = null;
    } catch (error) {
      this.error = describeError(error);
    }
    try {
      this.list = (await this.listing((signal) => api("/api/v1/reports", { params: { limit: 30 }, signal }))).items;
    } catch (error) {
      this.error = this.error || describeError(error);
    }
    this.busy = false;
    this.render();
  }

  render() {
    const dateInput = h("input", { type: "date", name: "date", class: "input", value: this.day, dataset: { key: "report-date" } });
    dateInput.addEventListener("change", () => { if (dateInput.value) { this.day = dateInput.value; this.loadDay(); } });
    replaceKeepingFocus(this.root, h("div", { class: "report-page" },
      h("section", { class: "panel report-head", "aria-labelledby": "report-title" },
        h("div", { class: "panel-head" },
          h("h1", { id: "report-title" }, t("report.title")),
          h("form", { class: "filters", onsubmit: (e) => { e.preventDefault(); this.loadDay(); } },
            field(t("report.date"), dateInput),
            h("button", { type: "submit", class: "button", dataset: { key: "report-show" } }, t("report.show")))),
        this.error ? h("p", { class: "form-error", role: "alert" }, this.error) : null,
        this.shown ? this.renderStatus(this.shown.report) : h("p", { class: "muted" }, t("loading"))),
      this.shown ? this.renderContent(this.shown.content) : null,
      this.renderList()));
  }

  renderStatus(report) {
    // Making and releasing a report is the region's: a scoped reader reads its cut copy only.
    const release = can(this.me.role, "releaseReports") && this.me.whole_region !== false;
    const button = (key, label, onclick, primary = false) => h("button", {
      type: "button", class: ["button", primary && "button--primary"], disabled: this.busy, dataset: { key, action: key }, onclick,
    }, label);
    const actions = [];
    if (release && report.status === "preview") {
      actions.push(button("create", t("report.create"), () => this.create("daily"), true));
    }
    if (release && (report.status === "draft" || report.status === "approved")) {
      actions.push(button("refresh", t("report.refresh"), () => this.refresh(report)));
    }
    if (release && report.status === "draft") actions.push(button("approve", t("report.approve"), () => this.transition(report, "approve"), true));
    if (release && report.status === "approved") actions.push(button("publish", t("report.publish"), () => this.confirmPublish(report), true));
    if (release) actions.push(button("since", t("report.since"), () => this.create("since_last_meeting")));
    const who = [
      report.created_by ? t("report.created", { name: report.created_by, time: formatTime(report.created_at, { date: true }) }) : null,
      report.approved_by ? t("report.approved", { name: report.approved_by, time: formatTime(report.approved_at, { date: true }) }) : null,
      report.published_by ? t("report.published", { name: report.published_by, time: formatTime(report.published_at, { date: true }) }) : null,
    ].filter(Boolean);
    return h("div", { class: "report-status", dataset: {
      status: report.status, reportId: report.id === null ? "" : String(report.id), day: report.day || "",
    } },
      h("p", {},
        h("span", { class: ["pill", `pill--report-${report.status}`] }, t(`report.status.${report.status}`)), " ",
        h("strong", {}, report.title), " · ",
        t("report.snapshot", { time: formatTime(report.snapshot_at, { date: true, seconds: true }) }),
        report.id !== null ? ` · ${t("report.number", { id: report.id })}` : ""),
      who.length ? h("p", { class: "muted small" }, who.join(" · ")) : null,
      h("p", { class: "muted small" }, t(`report.explain.${report.status}`)),
      h("div", { class: "actions" },
        actions,
        FORMATS.map(([fmt, key]) => h("button", {
          type: "button", class: "button", dataset: { key: `download-${fmt}`, download: fmt },
          onclick: () => this.download(report, fmt),
        }, t(key)))));
  }

  renderContent(content) {
    const notes = footnotes(content);
    const ref = (src) => (src && notes.has(src) ? h("sup", { class: "ref" }, `[${notes.get(src)}]`) : null);
    const texts = new Map(content.sources.map((source) => [source.id, source.text]));
    // The report's own text is Swedish (written and frozen so, services/reports/labels.py): marked lang="sv".
    return h("article", { class: "panel report-body", "aria-label": content.title },
      h("p", { class: "muted small" }, h("span", { lang: "sv" }, content.period.text), " · ",
        t("report.snapshot", { time: formatTime(content.as_of, { date: true, seconds: true }) })),
      content.note ? h("blockquote", { class: "report-note" }, h("strong", {}, t("report.note")), " ", h("span", { lang: "sv" }, content.note)) : null,
      content.sections.map((section, index) => h("section", { class: "report-section", lang: "sv", dataset: { section: section.key } },
        h("h2", {}, `${index + 1}. ${section.title}`),
        section.verdict ? h("p", { class: ["report-verdict", `report-verdict--${content.stop_criteria_overall}`] }, section.verdict) : null,
        section.figures && section.figures.length ? h("dl", { class: "report-figures" }, section.figures.map((item) =>
          h("div", { dataset: { figure: item.key } }, h("dt", {}, item.label, " ", ref(item.src)), h("dd", {}, formatCell(item.value, item.fmt))))) : null,
        (section.tables || []).map((table) => this.renderTable(table, ref)),
        section.charts && section.charts.length ? h("div", { class: "report-charts" }, section.charts.flatMap((chart) =>
          chart.series.map((series) => columnChart({ label: `${chart.title}: ${series.label}`, values: series.values, starts: chart.buckets })))) : null)),
      h("section", { class: "report-section" }, h("h2", {}, t("report.sources")),
        h("ol", { class: "report-sources", lang: "sv" }, [...notes.entries()].map(([src, n]) => h("li", { value: n }, texts.get(src) || src)))));
  }

  renderTable(table, ref) {
    const cell = (row, column, tag = "td") => {
      const value = row[column.key];
      const own = value && typeof value === "object" && "value" in value;
      const text = own ? formatCell(value.value, value.fmt || column.fmt) : formatCell(value, column.fmt);
      return h(tag, { class: column.fmt === "text" ? null : "num" }, text,
        own && value.src !== column.src ? [" ", ref(value.src)] : null);
    };
    return h("div", { class: "report-table", dataset: { table: table.key } },
      h("h3", {}, table.title, " ", ref(table.src)),
      table.rows.length
        ? h("div", { class: "table-wrap" }, h("table", { class: "table" },
          h("thead", {}, h("tr", {}, table.columns.map((column) =>
            h("th", { scope: "col", class: column.fmt === "text" ? null : "num" }, column.label, " ",
              column.src !== table.src ? ref(column.src) : null)))),
          h("tbody", {},
            table.rows.map((row) => h("tr", {}, table.columns.map((column) => cell(row, column)))),
            table.total ? h("tr", { class: "report-total" }, table.columns.map((column) => cell(table.total, column))) : null)))
        : h("p", { class: "muted" }, table.empty));
  }

  renderList() {
    return h("section", { class: "panel report-list", "aria-labelledby": "report-list-title" },
      h("h2", { id: "report-list-title" }, t("report.list")),
      !this.list ? h("p", { class: "muted" }, t("loading"))
        : !this.list.length ? h("p", { class: "muted" }, t("report.list.none"))
          : h("div", { class: "table-wrap" }, h("table", { class: "table" },
            h("thead", {}, h("tr", {},
              [t("report.col.day"), t("report.col.kind"), t("report.col.status"), t("report.col.snapshot"), t("report.col.by"), ""]
                .map((label) => h("th", { scope: "col" }, label)))),
            h("tbody", {}, this.list.map((item) => h("tr", { dataset: { reportId: String(item.id) } },
              h("td", {}, item.day), h("td", {}, t(`report.kind.${item.kind}`)),
              h("td", {}, t(`report.status.${item.status}`)),
              h("td", {}, formatTime(item.snapshot_at, { date: true })),
              h("td", {}, item.published_by || item.approved_by || item.created_by || ""),
              h("td", {}, h("button", { type: "button", class: "button button--small", dataset: { key: `open-${item.id}` },
                onclick: () => this.open(item.id) }, t("report.open")))))))));
  }

  create(kind) {
    const note = h("textarea", { name: "note", rows: 4, class: "input input--wide", maxlength: 4000 });
    openFormDialog({
      title: kind === "daily" ? t("report.create.title", { day: this.day }) : t("report.since.title"),
      submitLabel: t("report.create.submit"),
      fields: [h("p", {}, t("report.create.help")), field(t("report.note"), note)],
      onSubmit: async () => {
        const body = kind === "daily" ? { kind, date: this.day, note: note.value } : { kind, note: note.value };
        const created = await api("/api/v1/reports", { method: "POST", body });
        await this.show(() => created);
        toast(t("report.created.toast", { id: created.report.id }), "success");
        await this.run(async () => {});
      },
    });
  }

  refresh(report) {
    const note = h("textarea", { name: "note", rows: 4, class: "input input--wide", maxlength: 4000 },
      this.shown?.content?.note || "");
    openFormDialog({
      title: t("report.refresh.title", { id: report.id }),
      submitLabel: t("report.refresh"),
      fields: [h("p", {}, t("report.refresh.help")), field(t("report.note"), note)],
      onSubmit: async () => {
        const refreshed = await api(`/api/v1/reports/${report.id}/refresh`, { method: "POST", body: { note: note.value } });
        await this.show(() => refreshed);
        await this.run(async () => {});
      },
    });
  }

  confirmPublish(report) {
    openFormDialog({
      title: t("report.publish.title", { id: report.id }),
      submitLabel: t("report.publish"),
      fields: [h("p", {}, t("report.publish.help"))],
      onSubmit: async () => { await this.transition(report, "publish", { thrown: true }); },
    });
  }

  async transition(report, action, { thrown = false } = {}) {
    const call = async () => {
      await api(`/api/v1/reports/${report.id}/${action}`, { method: "POST" });
      await this.show((signal) => api(`/api/v1/reports/${report.id}`, { signal }));
    };
    if (thrown) {
      await call();  // inside a dialog: the dialog shows the error
      await this.run(async () => {});
    } else {
      await this.run(call);
    }
    if (!this.error) toast(t(`report.${action}.done`, { id: report.id }), "success");
  }

  /** Fetch a rendering with the token and hand it to the browser as a file. */
  async download(report, fmt) {
    const url = report.id !== null
      ? new URL(`/api/v1/reports/${report.id}`, window.location.origin)
      : new URL("/api/v1/reports/daily", window.location.origin);
    if (report.id === null) url.searchParams.set("date", report.day);
    url.searchParams.set("format", fmt);
    try {
      const response = await fetch(url, { headers: { Authorization: `Bearer ${getToken()}` } });
      if (!response.ok) throw new Error(`HTTP ${response.status}`);
      const blob = await response.blob();
      const name = `lagesbild-${report.day}${report.kind === "daily" ? "" : "-sedan-forra-motet"}.${fmt}`;
      const link = h("a", { href: URL.createObjectURL(blob), download: name });
      document.body.append(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    } catch (error) {
      toast(t("error.generic", { reason: error.message }), "error");
    }
  }
}
