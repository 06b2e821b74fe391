// DOM building without HTML strings: every piece of data becomes a text node (textContent).

const SVG_NS = "http://www.w3.org/2000/svg";

/**
 * h("div", {class: "x", onclick: fn, "aria-label": "…"}, child, "text", [more])
 * Strings and numbers are always text nodes; there is no way to pass markup.
 */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  applyAttrs(el, attrs);
  append(el, children);
  return el;
}

export function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value !== null && value !== undefined && value !== false) el.setAttribute(key, String(value));
  }
  append(el, children);
  return el;
}

function applyAttrs(el, attrs) {
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") {
      el.addEventListener(key.slice(2), value);
    } else if (key === "class") {
      el.className = Array.isArray(value) ? value.filter(Boolean).join(" ") : value;
    } else if (key === "dataset") {
      Object.assign(el.dataset, value);
    } else if (key === "value" || key === "checked" || key === "selected" || key === "disabled") {
      el[key] = value;
    } else if (key === "text") {
      el.textContent = String(value);
    } else {
      el.setAttribute(key, value === true ? "" : String(value));
    }
  }
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el) {
  while (el.firstChild) el.removeChild(el.firstChild);
  return el;
}

/** Replace ``container``'s children, keeping keyboard focus and scroll positions on keyed elements. */
export function replaceKeepingFocus(container, ...children) {
  const active = document.activeElement;
  const key = active && container.contains(active) ? active.dataset.key : undefined;
  const scrolled = new Map();
  for (const el of container.querySelectorAll("[data-scroll-key]")) scrolled.set(el.dataset.scrollKey, el.scrollTop);
  clear(container);
  append(container, children);
  for (const el of container.querySelectorAll("[data-scroll-key]")) {
    if (scrolled.has(el.dataset.scrollKey)) el.scrollTop = scrolled.get(el.dataset.scrollKey);
  }
  if (key) {
    const again = container.querySelector(`[data-key="${CSS.escape(key)}"]`);
    if (again) again.focus({ preventScroll: true });
  }
}

/**
 * A status icon: check in a circle (green), exclamation in a triangle (yellow), cross in an octagon (red),
 * "i" in a rounded square (info: alerts of the lowest severity), a dash in a dotted circle (not_assessed: too
 * little volume to judge; grey, never green).
 */
export function statusIcon(status) {
  const shapes = {
    green: [s("circle", { cx: 12, cy: 12, r: 10 }), s("path", { d: "M7 12.5l3.2 3.2L17 9", class: "mark" })],
    yellow: [s("path", { d: "M12 2.5L22.5 21h-21z" }), s("path", { d: "M12 9v5.5M12 17.2v.6", class: "mark" })],
    red: [s("path", { d: "M8 2h8l6 6v8l-6 6H8l-6-6V8z" }), s("path", { d: "M8.5 8.5l7 7M15.5 8.5l-7 7", class: "mark" })],
    info: [s("rect", { x: 2, y: 2, width: 20, height: 20, rx: 5 }), s("path", { d: "M12 10.5v6.5M12 7v.6", class: "mark" })],
    not_assessed: [s("circle", { cx: 12, cy: 12, r: 10 }), s("path", { d: "M7 12h10", class: "mark" })],
  };
  return s("svg", { class: "status-icon", viewBox: "0 0 24 24", "aria-hidden": "true", focusable: "false" },
    shapes[status] || shapes.green);
}

let toastTimer;
export function toast(message, kind = "info") {
  const el = document.getElementById("toast");
  if (!el) return;
  el.className = `toast toast--${kind} toast--shown`;
  el.textContent = message;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.className = "toast"; el.textContent = ""; }, 6000);
}
