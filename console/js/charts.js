// Small trend charts drawn as inline SVG: one column per time bucket, no library.

import { s, h } from "./dom.js";
import { formatNumber, formatTime, t } from "./i18n.js";

/**
/**
 * Which buckets a chart shows: from the bucket holding ``goLive`` when that is later than the window's start (no
 * chart of empty hours before go-live), and whether the last bucket is still running at ``asOf`` (a partial bar
 * that would look like a drop).
 */
export function trendWindow({ starts, bucketMinutes, goLive, asOf }) {
  const bucketMs = bucketMinutes * 60000;
  let first = 0;
  const live = goLive ? new Date(goLive).getTime() : NaN;
  if (Number.isFinite(live) && starts.length && live > new Date(starts[0]).getTime()) {
    const at = starts.findIndex((start) => new Date(start).getTime() + bucketMs > live);
    first = at < 0 ? starts.length - 1 : at;
  }
  const last = starts.length ? new Date(starts[starts.length - 1]).getTime() : NaN;
  const now = asOf ? new Date(asOf).getTime() : Date.now();
  return { first, starts: starts.slice(first), fromGoLive: first > 0, partial: Number.isFinite(last) && last + bucketMs > now };
}

/**
 * A labelled column chart of ``values`` (one per bucket starting at ``starts``); ``partial``: the last bucket is
 * still running (drawn lighter with a dashed outline and labelled). Optional: ``labels`` (a text per bucket instead
 * of its start time), ``max`` (a scale shared by charts side by side) and ``caption`` (the figure in the caption
 * instead of the total since the first bucket).
 */
export function columnChart({
  label, values, starts, variant = "neutral", partial = false, labels = null, max: scale = null, caption = null,
}) {
  const width = 240;
  const height = 64;
  const max = Math.max(1e-9, scale ?? Math.max(1, ...values));
  const total = values.reduce((a, b) => a + b, 0);
  const at = (i) => (labels ? labels[i] : formatTime(starts[i]));
  const last = values.length ? values[values.length - 1] : 0;
  const gap = values.length > 40 ? 0.5 : 1.5;
  const barWidth = values.length ? (width - gap * (values.length - 1)) / values.length : width;
  const bars = values.map((value, i) => {
    const isLast = i === values.length - 1;
    // A running bucket with nothing yet still shows where it is (a thin outline).
    const barHeight = value === 0 ? (isLast && partial ? 1.5 : 0) : Math.max(1.5, (value / max) * (height - 4));
    return s("rect", {
      x: (i * (barWidth + gap)).toFixed(2), y: (height - barHeight).toFixed(2),
      width: barWidth.toFixed(2), height: barHeight.toFixed(2), rx: 1,
      class: isLast ? (partial ? "bar bar--last bar--partial" : "bar bar--last") : "bar",
    }, s("title", {}, `${at(i)}: ${labels ? formatNumber(value, 2) : value}${isLast && partial ? ` (${t("trends.partial")})` : ""}`));
  });
  const summary = t("trends.summary", {
    label, total: formatNumber(total), last: formatNumber(last), max: formatNumber(Math.max(0, ...values)),
  });
  return h("figure", { class: `chart chart--${variant}`, dataset: { partial: String(partial) } },
    h("figcaption", {},
      h("span", { class: "chart-label" }, label),
      caption !== null
        ? h("span", { class: "chart-total" }, h("span", { class: "chart-value" }, caption))
        : h("span", { class: "chart-total" },
          h("span", { class: "chart-value", dataset: { total: String(total) } }, formatNumber(total)),
          h("span", { class: "chart-total-label" }, t("trends.total.since", { time: formatTime(starts[0]) })))),
    s("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img", "aria-label": summary },
      s("line", { x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5, class: "baseline" }),
      bars),
    h("div", { class: "chart-axis", "aria-hidden": "true" },
      h("span", {}, at(0)),
      h("span", {}, t("trends.max", { n: formatNumber(Math.max(0, ...values), labels ? 2 : 0) })),
      h("span", { class: partial ? "chart-partial" : null },
        partial ? t("trends.partial.at", { time: at(values.length - 1) }) : at(values.length - 1))));
}
