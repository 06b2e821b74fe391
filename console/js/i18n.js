// Texts in the chosen language (Swedish first, English on request) and the formatting the views use.
// The pieces live in i18n/: the two string tables (sv.js, en.js), the language choice (lang.js) and
// numbers, times and dates in Europe/Stockholm (format.js). Views import everything from here.

import { en, RULES_EN } from "./i18n/en.js";
import { getLang } from "./i18n/lang.js";
import { sv } from "./i18n/sv.js";

export {
  formatNumber, formatPercent, formatTime, stockholmLocalNow, stockholmLocalToIso, TIME_ZONE,
} from "./i18n/format.js";
export { getLang, onLangChange, setLang } from "./i18n/lang.js";

const dictionaries = { sv, en };

export const CATEGORIES = [
  "login", "permissions", "printing", "orders", "medication", "documentation",
  "scheduling", "lab", "radiology", "integration", "performance", "hardware", "other",
];

/** The text for ``key`` with ``{name}`` placeholders filled in (plain text, never HTML). */
export function t(key, params = {}) {
  const text = dictionaries[getLang()][key] ?? dictionaries.sv[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in params ? String(params[name]) : `{${name}}`));
}

/** A professional role code of a permission denial ("lakare") as a word ("Läkare", "Physician"); an unknown
 * code as it came. */
export function staffRole(code) {
  const key = `staffrole.${code}`;
  const text = t(key);
  return text === key ? code : text;
}

/** Health reasons in the chosen language: English from the reason codes when the rule is known. */
export function reasonTexts(health) {
  const reasons = health?.reasons ?? [];
  if (getLang() !== "en" || !Array.isArray(health?.reason_codes)) return reasons;
  return health.reason_codes.map((code, i) => (RULES_EN[code.rule] ? RULES_EN[code.rule](code.value) : reasons[i]));
}
