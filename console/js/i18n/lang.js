// The chosen language: Swedish first, English on request, kept in localStorage.

const STORAGE_KEY = "hc.lang";

let lang = (() => {
  try { return localStorage.getItem(STORAGE_KEY) === "en" ? "en" : "sv"; } catch { return "sv"; }
})();
const listeners = new Set();

export function getLang() { return lang; }

export function setLang(next) {
  lang = next === "en" ? "en" : "sv";
  try { localStorage.setItem(STORAGE_KEY, lang); } catch { /* private mode */ }
  document.documentElement.lang = lang;
  for (const listener of listeners) listener(lang);
}

export function onLangChange(listener) { listeners.add(listener); }

/** The locale numbers and times are written in. */
export function locale() { return lang === "en" ? "en-GB" : "sv-SE"; }
