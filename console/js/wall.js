// Wall mode (/console/?wall=1#/console): the meeting room's screen, read from three metres. Larger type and no
// controls (css/app.css, html.wall), and the console moves by itself: the region, then each administration, red
// first (then yellow, not assessed, green; ties in registry order), one stop per step (?cycle=SECONDS, default 20).

const RANK = { red: 0, yellow: 1, not_assessed: 2, green: 3 };
const DEFAULT_STEP_S = 20;
const MIN_STEP_S = 1;

/** The wall settings from the page's query: null when not in wall mode. */
export function wallSettings(search = window.location.search) {
  const params = new URLSearchParams(search);
  if (params.get("wall") !== "1") return null;
  const cycle = Number(params.get("cycle"));
  return { stepMs: 1000 * (Number.isFinite(cycle) && cycle >= MIN_STEP_S ? cycle : DEFAULT_STEP_S) };
}

/** The cycle's stops as routes: the region, then the administrations worst first. */
export function wallStops(administrations) {
  const ranked = [...administrations].map(([id, admin], index) => ({ id, rank: RANK[admin?.health?.status] ?? 2, index }));
  ranked.sort((a, b) => a.rank - b.rank || a.index - b.index);
  return ["#/console", ...ranked.map(({ id }) => `#/console/administration/${encodeURIComponent(id)}`)];
}

/** The stop after ``current`` (the first when ``current`` is not a stop). */
export function nextStop(stops, current) {
  const at = stops.indexOf(current);
  return stops[(at + 1) % stops.length];
}
