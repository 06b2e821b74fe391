// Numbers, times and dates in the chosen language's locale. Times are always shown in Europe/Stockholm,
// whatever the device's own time zone, and typed times are read as Swedish wall-clock time.

import { locale } from "./lang.js";

export const TIME_ZONE = "Europe/Stockholm";

export function formatTime(iso, { seconds = false, date = false } = {}) {
  if (!iso) return "–";
  const value = new Date(iso);
  if (Number.isNaN(value.getTime())) return "–";
  const options = { timeZone: TIME_ZONE, hour: "2-digit", minute: "2-digit" };
  if (seconds) options.second = "2-digit";
  if (date) { options.day = "numeric"; options.month = "short"; }
  return new Intl.DateTimeFormat(locale(), options).format(value);
}

export function formatNumber(n, digits = 0) {
  if (n === null || n === undefined || Number.isNaN(n)) return "–";
  return new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(n);
}

export function formatPercent(rate) {
  if (rate === null || rate === undefined) return "–";
  return new Intl.NumberFormat(locale(), { style: "percent", maximumFractionDigits: 0 }).format(rate);
}

/** Parts of a moment in Europe/Stockholm. */
function stockholmParts(ms) {
  const parts = new Intl.DateTimeFormat("en-GB", {
    timeZone: TIME_ZONE, hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(ms));
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  return Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
}

/** "2024-11-12T14:30" typed as Swedish wall-clock time → an ISO instant in UTC. */
export function stockholmLocalToIso(local) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(local || "");
  if (!match) return null;
  const [, y, mo, d, h, mi] = match.map(Number);
  const wall = Date.UTC(y, mo - 1, d, h, mi);
  let guess = wall - (stockholmParts(wall) - wall);
  guess = wall - (stockholmParts(guess) - guess);  // second pass settles DST edges
  return new Date(guess).toISOString();
}

/** The current Swedish wall-clock time as a value for <input type="datetime-local">. */
export function stockholmLocalNow(offsetMinutes = 0) {
  const ms = stockholmParts(Date.now() + offsetMinutes * 60000);
  return new Date(ms).toISOString().slice(0, 16);
}
