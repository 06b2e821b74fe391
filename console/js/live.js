// The live situation: one WebSocket, a local model keyed by id, and the connection state.
// The socket authenticates by its first message, {"type": "auth", "token": …}.
//
// The server sends a snapshot, then deltas with consecutive seq numbers carrying whole objects.
// A gap in seq means something was missed: we ask for {"type": "resync"} and ignore deltas until
// the new snapshot arrives. A lost connection is retried with exponential backoff and jitter.
// Alerts come along: every active one in the snapshot's "alerts", then changed ones in a delta's
// "alerts" (a resolved alert arrives with status "resolved" and is dropped from the model).
//
// Subscriptions: the console says what is on screen (subscribe(scopes): "region", "all",
// "emergency_departments", administration, site or unit ids), in the first message and again whenever it
// changes. The server then sends that picture only: a snapshot's "picture" ({region, administrations: {id: …},
// sites, units}), and deltas (and the "subscribed" answer to a change) carrying a JSON Merge Patch (RFC 7386)
// of it in "patch": changed fields only, a whole object when one appears, null when one (or a field) goes.
// A missing field reads as null (a merge patch cannot set null).

const PING_EVERY_MS = 20000;
const SILENCE_LIMIT_MS = 45000;
const BACKOFF_MIN_MS = 500;
const BACKOFF_MAX_MS = 15000;
const POLICY_VIOLATION = 1008;

export class LiveSituation extends EventTarget {
  constructor(tokenProvider) {
    super();
    this.tokenProvider = tokenProvider;
    this.state = "connecting";  // connecting | live | reconnecting | offline
    this.seq = null;
    this.awaitingSnapshot = true;
    this.region = null;
    this.administrations = new Map();  // id -> object (with site_ids)
    this.sites = new Map();  // id -> object (with unit_ids)
    this.units = new Map();
    this.alerts = new Map();  // id -> active (open or acknowledged) alert
    this.asOf = null;
    this.confirmedAt = null;  // when the server last said this picture is current (a pong at our seq)
    this.ready = false;
    this.attempt = 0;
    this.socket = null;
    this.stopped = false;
    this.lastMessageAt = 0;
    this.scopes = null;  // what the views show (null: never subscribed, the whole picture of the token's scope)
    this.timers = [];
    window.addEventListener("online", () => this.reconnectNow());
    window.addEventListener("offline", () => this.setState("offline"));
  }

  start() {
    this.stopped = false;
    this.connect();
    this.timers.push(setInterval(() => this.heartbeat(), PING_EVERY_MS / 2));
  }

  stop() {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    clearTimeout(this.retryTimer);
    if (this.socket) this.socket.close(1000, "signed out");
    this.socket = null;
  }

  setState(state) {
    if (state === this.state) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", { detail: state }));
  }

  connect() {
    if (this.stopped) return;
    if (!navigator.onLine) { this.setState("offline"); this.scheduleRetry(); return; }
    const scheme = window.location.protocol === "https:" ? "wss:" : "ws:";
    // The token goes in the first message, never in the URL (URLs end up in access logs and proxies). Without
    // a token (signed in with the identity provider) the session cookie goes with the handshake and the first
    // message tells the server no token follows.
    const token = this.tokenProvider();
    const url = `${scheme}//${window.location.host}/ws/situation`;
    let socket;
    try { socket = new WebSocket(url); } catch { this.scheduleRetry(); return; }
    this.socket = socket;
    this.awaitingSnapshot = true;
    socket.addEventListener("open", () => {
      this.lastMessageAt = Date.now();
      const hello = token ? { type: "auth", token } : { type: "hello" };
      socket.send(JSON.stringify(this.scopes ? { ...hello, scopes: this.scopes } : hello));
    });
    socket.addEventListener("message", (event) => {
      if (socket !== this.socket) return;
      this.lastMessageAt = Date.now();
      let message;
      try { message = JSON.parse(event.data); } catch { return; }
      this.receive(message);
    });
    socket.addEventListener("close", (event) => {
      if (socket !== this.socket) return;
      this.socket = null;
      if (event.code === POLICY_VIOLATION) {
        this.dispatchEvent(new CustomEvent("unauthorized", { detail: event.reason }));
        this.setState("offline");
        return;
      }
      this.scheduleRetry();
    });
  }

  scheduleRetry() {
    if (this.stopped) return;
    if (navigator.onLine) this.setState(this.ready ? "reconnecting" : "connecting");
    else this.setState("offline");
    const base = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * 2 ** this.attempt);
    this.attempt += 1;
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => this.connect(), base / 2 + Math.random() * base / 2);
  }

  reconnectNow() {
    if (this.stopped) return;
    this.attempt = 0;
    if (this.socket && this.socket.readyState <= WebSocket.OPEN) return;
    clearTimeout(this.retryTimer);
    this.connect();
  }

  heartbeat() {
    const socket = this.socket;
    if (!socket || socket.readyState !== WebSocket.OPEN) return;
    if (Date.now() - this.lastMessageAt > SILENCE_LIMIT_MS) {
      socket.close(4000, "silent");  // close event schedules the reconnect
      this.socket = null;
      this.scheduleRetry();
      return;
    }
    socket.send(JSON.stringify({ type: "ping" }));
  }

  /** Show these scopes from now on (sent at once when connected, else in the next connection's first message). */
  subscribe(scopes) {
    const wanted = [...new Set(scopes)].sort();
    if (this.scopes && wanted.join("\n") === this.scopes.join("\n")) return;
    this.scopes = wanted;
    if (this.socket && this.socket.readyState === WebSocket.OPEN && this.ready) {
      this.socket.send(JSON.stringify({ type: "subscribe", scopes: wanted }));
    }
  }

  /** The later of the newest change and the server's last word that nothing has changed since (what is current). */
  get currentAt() {
    if (!this.asOf) return this.confirmedAt;
    if (!this.confirmedAt) return this.asOf;
    return new Date(this.confirmedAt) > new Date(this.asOf) ? this.confirmedAt : this.asOf;
  }

  receive(message) {
    if (message.type === "pong") {
      // Caught up (the server had nothing more for us) and we hold what it last sent: current as of its publish.
      if (message.as_of && this.ready && message.seq === this.seq) {
        this.confirmedAt = message.as_of;
        this.dispatchEvent(new CustomEvent("confirmed"));
      }
      return;
    }
    if (message.type === "error") {
      this.dispatchEvent(new CustomEvent("refused", { detail: message.detail }));
      return;
    }
    if (message.type === "snapshot") {
      if (message.picture) this.applyPicture(message.picture);
      else this.applySnapshot(message.situation);
      this.alerts.clear();
      this.applyAlerts(message.alerts || []);
      this.seq = message.seq;
      this.awaitingSnapshot = false;
      this.attempt = 0;
      this.ready = true;
      this.setState("live");
      this.dispatchEvent(new CustomEvent("change", { detail: { snapshot: true } }));
      // Connected before the views said what they show (or with a refused subscription): say it now.
      if (this.scopes && message.situation) this.socket?.send(JSON.stringify({ type: "subscribe", scopes: this.scopes }));
    } else if (message.type === "delta" || message.type === "subscribed") {
      if (this.awaitingSnapshot) return;
      if (this.seq === null || message.seq !== this.seq + 1) {
        this.resync();
        return;
      }
      this.seq = message.seq;
      if (message.patch) this.applyPatch(message.patch);
      else this.applyDelta(message);
      this.applyAlerts(message.alerts || []);
      this.dispatchEvent(new CustomEvent("change", { detail: { snapshot: false, message } }));
    }
  }

  resync() {
    this.awaitingSnapshot = true;
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ type: "resync" }));
    }
  }

  applySnapshot(situation) {
    this.administrations.clear();
    this.sites.clear();
    this.units.clear();
    for (const admin of situation.administrations || []) {
      const { sites = [], ...rest } = admin;
      this.administrations.set(admin.administration_id, { ...rest, site_ids: sites.map((site) => site.site_id) });
      for (const site of sites) {
        const { units = [], ...siteRest } = site;
        this.sites.set(site.site_id, { ...siteRest, unit_ids: units.map((unit) => unit.unit_id) });
        for (const unit of units) this.units.set(unit.unit_id, unit);
      }
    }
    this.region = situation.region;
    this.asOf = situation.as_of;
  }

  applyPicture(picture) {
    this.administrations = new Map(Object.entries(picture.administrations || {}));
    this.sites = new Map(Object.entries(picture.sites || {}));
    this.units = new Map(Object.entries(picture.units || {}));
    this.region = picture.region || null;
    const times = [this.region, ...this.units.values()].filter(Boolean).map((o) => o.as_of).filter(Boolean);
    this.asOf = times.length ? times.sort().at(-1) : null;
  }

  applyPatch(patch) {
    const maps = { administrations: this.administrations, sites: this.sites, units: this.units };
    const changed = [];
    for (const [kind, map] of Object.entries(maps)) {
      for (const [id, value] of Object.entries(patch[kind] || {})) {
        if (value === null) { map.delete(id); continue; }
        const merged = mergePatch(map.get(id), value);
        map.set(id, merged);
        changed.push(merged);
      }
    }
    if ("region" in patch) {
      this.region = patch.region === null ? null : mergePatch(this.region, patch.region);
      if (this.region) changed.push(this.region);
    }
    const times = changed.map((o) => o.as_of).filter(Boolean);
    if (times.length) this.asOf = [this.asOf, ...times].filter(Boolean).sort().at(-1);
  }

  applyDelta(message) {
    for (const unit of message.units || []) this.units.set(unit.unit_id, unit);
    for (const site of message.sites || []) this.sites.set(site.site_id, site);
    for (const admin of message.administrations || []) this.administrations.set(admin.administration_id, admin);
    if (message.region) this.region = message.region;
    const times = [message.region, ...(message.units || [])].filter(Boolean).map((o) => o.as_of).filter(Boolean);
    if (times.length) this.asOf = times.sort().at(-1);
  }

  applyAlerts(alerts) {
    for (const alert of alerts) {
      if (alert.status === "resolved") this.alerts.delete(alert.id);
      else this.alerts.set(alert.id, alert);
    }
  }

  // -- reading the model ------------------------------------------------------------------

  node(kind, id) {
    if (kind === "region") return this.region;
    if (kind === "administration") return this.administrations.get(id) || null;
    if (kind === "site") return this.sites.get(id) || null;
    if (kind === "unit") return this.units.get(id) || null;
    return null;
  }

  children(kind, id) {
    if (kind === "region") return [...this.administrations.values()].map((o) => ["administration", o]);
    if (kind === "administration") {
      return (this.administrations.get(id)?.site_ids || []).map((sid) => ["site", this.sites.get(sid)]).filter(([, o]) => o);
    }
    if (kind === "site") {
      return (this.sites.get(id)?.unit_ids || []).map((uid) => ["unit", this.units.get(uid)]).filter(([, o]) => o);
    }
    return [];
  }

  /** [kind, object] pairs from the region down to (and including) the node. */
  path(kind, id) {
    const path = [["region", this.region]];
    if (kind === "region") return path;
    let unit = null; let site = null; let admin = null;
    if (kind === "unit") { unit = this.units.get(id); site = unit && this.sites.get(unit.site_id); }
    if (kind === "site") site = this.sites.get(id);
    if (kind === "administration") admin = this.administrations.get(id);
    if (site) admin = this.administrations.get(site.administration_id);
    if (admin) path.push(["administration", admin]);
    if (site) path.push(["site", site]);
    if (unit) path.push(["unit", unit]);
    return path;
  }

  emergencyDepartments() {
    return [...this.units.values()].filter((unit) => unit.kind === "ed");
  }

  unitName(id) {
    return this.units.get(id)?.name || id;
  }
}

/** RFC 7386 MergePatch(target, patch): a new value (the target is not changed). */
export function mergePatch(target, patch) {
  if (patch === null || typeof patch !== "object" || Array.isArray(patch)) return patch;
  const result = target !== null && typeof target === "object" && !Array.isArray(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

export function idOf(kind, obj) {
  if (!obj) return null;
  if (kind === "region") return obj.region_id;
  if (kind === "administration") return obj.administration_id;
  if (kind === "site") return obj.site_id;
  return obj.unit_id;
}
