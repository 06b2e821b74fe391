// The last picture the floor-walker tablet saw, kept on the device (localStorage) for a start without network:
// the walker's recent units and the other units of their sites (nearby), each with what the tablet shows (name,
// site, health with its reasons, floor-walker figures, open tickets) and ``at``, the time the picture was current
// when it was kept (the server's clock: the live model's current time), so its age is shown, never hidden.
//
// One picture per principal (its name from GET /api/v1/me): on a shared tablet a walker sees only what their own
// token was shown. Bounded: recent units (6) and their sites' units; everything else is dropped on each save.

const KEY = "hc.tablet.picture";
const VERSION = 1;

function read(key) {
  try {
    const data = JSON.parse(localStorage.getItem(key));
    if (data && data.v === VERSION && data.units && data.sites) return data;
  } catch { /* unreadable: start empty */ }
  return { v: VERSION, units: {}, sites: {} };
}

function pick(obj, keys) {
  if (!obj || typeof obj !== "object") return obj ?? null;
  return Object.fromEntries(keys.filter((key) => key in obj).map((key) => [key, obj[key]]));
}

/** What the tablet shows of a unit of the live picture (nothing else is kept). */
export function trimUnit(unit) {
  return {
    unit_id: unit.unit_id,
    name: unit.name,
    site_id: unit.site_id,
    health: pick(unit.health, ["status", "reasons", "reason_codes", "not_assessed"]),
    floorwalkers: pick(unit.floorwalkers,
      ["on_unit", "on_break", "open_escalations", "minutes_since_last_visit", "minutes_without_visit"]),
    tickets: pick(unit.tickets, ["open"]),
  };
}

export class LastPicture {
  constructor(owner) {
    this.key = `${KEY}.${owner}`;
    this.data = read(this.key);
  }

  /** The kept unit (with its ``at``), or null. */
  unit(id) {
    return this.data.units[id] ?? null;
  }

  /** The kept site ({site_id, name, unit_ids}), or null. */
  site(id) {
    return this.data.sites[id] ?? null;
  }

  units() {
    return Object.values(this.data.units);
  }

  get empty() {
    return !Object.keys(this.data.units).length;
  }

  /**
   * Keep the units of ``live`` (a LiveSituation with data) among ``recentIds`` and their sites' units, as current at
   * the live model's current time; units not in the live model now keep what was kept before, with their own time.
   */
  keep(recentIds, live) {
    const at = live.currentAt || new Date().toISOString();
    const units = { ...this.data.units };
    const sites = { ...this.data.sites };
    const siteIds = new Set();
    for (const id of recentIds) {
      const unit = live.units.get(id);
      if (unit) units[id] = { ...trimUnit(unit), at };
      const siteId = unit?.site_id ?? units[id]?.site_id;
      if (siteId) siteIds.add(siteId);
    }
    const wanted = new Set(recentIds);
    for (const siteId of siteIds) {
      const site = live.sites.get(siteId);
      if (site) sites[siteId] = { site_id: siteId, name: site.name, unit_ids: [...(site.unit_ids || [])] };
      for (const unitId of sites[siteId]?.unit_ids || []) {
        wanted.add(unitId);
        const unit = live.units.get(unitId);
        if (unit) units[unitId] = { ...trimUnit(unit), at };
      }
    }
    this.data = {
      v: VERSION,
      units: Object.fromEntries(Object.entries(units).filter(([id]) => wanted.has(id))),
      sites: Object.fromEntries(Object.entries(sites).filter(([id]) => siteIds.has(id))),
    };
    try { localStorage.setItem(this.key, JSON.stringify(this.data)); } catch { /* full or private mode */ }
  }
}
