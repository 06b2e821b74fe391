// Small trend charts drawn as inline SVG: one column per time bucket, no library.

import { s, h } from "./dom.js";
import { formatNumber, formatTime, t } from "./i18n.js";

/**
 * A labelled column chart of ``values`` (one per bucket starting at ``starts``). Optional: ``labels`` (a text per
 * bucket instead of its start time), ``max`` (a scale shared by charts side by side) and ``caption`` (the figure
 * in the caption instead of the sum).
 */
export function columnChart({ label, values, starts, variant = "neutral", labels = null, max: scale = null, caption = null }) {
  const width = 240;
  const height = 64;
  const max = Math.max(1e-9, scale ?? Math.max(1, ...values));
  const total = values.reduce((a, b) => a + b, 0);
  const at = (i) => (labels ? labels[i] : formatTime(starts[i]));
  const last = values.length ? values[values.length - 1] : 0;
  const gap = values.length > 40 ? 0.5 : 1.5;
  const barWidth = values.length ? (width - gap * (values.length - 1)) / values.length : width;
  const bars = values.map((value, i) => {
    const barHeight = value === 0 ? 0 : Math.max(1.5, (value / max) * (height - 4));
    return s("rect", {
      x: (i * (barWidth + gap)).toFixed(2), y: (height - barHeight).toFixed(2),
      width: barWidth.toFixed(2), height: barHeight.toFixed(2), rx: 1,
      class: i === values.length - 1 ? "bar bar--last" : "bar",
    }, s("title", {}, `${at(i)}: ${labels ? formatNumber(value, 2) : value}`));
  });
  const summary = t("trends.summary", {
    label, total: formatNumber(total), last: formatNumber(last), max: formatNumber(Math.max(0, ...values)),
  });
  return h("figure", { class: `chart chart--${variant}` },
    h("figcaption", {},
      h("span", { class: "chart-label" }, label),
      h("span", { class: "chart-value" }, caption ?? formatNumber(total))),
    s("svg", { viewBox: `0 0 ${width} ${height}`, preserveAspectRatio: "none", role: "img", "aria-label": summary },
      s("line", { x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5, class: "baseline" }),
      bars),
    h("div", { class: "chart-axis", "aria-hidden": "true" },
      h("span", {}, at(0)),
      h("span", {}, `max ${formatNumber(Math.max(0, ...values), 2)}`),
      h("span", {}, at(values.length - 1))));
}
