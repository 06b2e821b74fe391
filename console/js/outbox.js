// Offline outbox for the floor-walker tablet: every action is stored in IndexedDB with its
// event_id before anything is sent, and sent when the network allows. Resending is safe because
// event_id is the server's idempotency key; an item leaves the outbox only once the server has
// answered for it (accepted, or rejected with a reason, which is kept to show).
//
// Each item is bound to the principal that queued it (its name from GET /api/v1/me): an outbox sends only
// its own principal's items, with its own token. After a sign-out and another person's sign-in on the same
// tablet, the first person's items stay in IndexedDB, shown as waiting for them, and are sent when they
// sign in again; they are never sent under someone else's token.

import { ApiError, postEvents } from "./api.js";

const DB_NAME = "hypercare-tablet";
const DB_VERSION = 1;
const OUTBOX = "outbox";
const REFUSED = "refused";
const RETRY_MS = 10000;
const BATCH = 100;

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB_NAME, DB_VERSION);
    req.onupgradeneeded = () => {
      const db = req.result;
      if (!db.objectStoreNames.contains(OUTBOX)) db.createObjectStore(OUTBOX, { keyPath: "event_id" });
      if (!db.objectStoreNames.contains(REFUSED)) db.createObjectStore(REFUSED, { keyPath: "event_id" });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export class Outbox extends EventTarget {
  constructor(tokenProvider, me) {
    super();
    this.tokenProvider = tokenProvider;
    this.owner = me.name;
    this.walkerId = me.walker_id;
    this.dbPromise = openDb();
    this.flushing = null;
    this.stopped = false;
    this.pending = 0;
    this.refused = 0;
    this.others = [];  // [name, count] of items queued by other principals on this device
    this.lastError = null;
    this.timer = null;
    this.onOnline = () => this.flush();
  }

  start() {
    window.addEventListener("online", this.onOnline);
    this.timer = setInterval(() => this.flush(), RETRY_MS);
    this.count().then(() => this.flush());
  }

  stop() {
    this.stopped = true;
    window.removeEventListener("online", this.onOnline);
    clearInterval(this.timer);
  }

  async store(name, mode) {
    const db = await this.dbPromise;
    return db.transaction(name, mode).objectStore(name);
  }

  /** Whether this outbox's principal queued ``item`` (an item from before owners: its event's walker). */
  owns(item) {
    if (item.owner !== undefined) return item.owner === this.owner;
    return Boolean(this.walkerId) && item.event?.walker_id === this.walkerId;
  }

  async count() {
    const queued = await request((await this.store(OUTBOX, "readonly")).getAll());
    const refused = await request((await this.store(REFUSED, "readonly")).getAll());
    this.pending = queued.filter((item) => this.owns(item)).length;
    this.refused = refused.filter((item) => this.owns(item)).length;
    const others = new Map();
    for (const item of queued) {
      if (this.owns(item)) continue;
      const name = item.owner ?? item.event?.walker_id ?? "?";
      others.set(name, (others.get(name) || 0) + 1);
    }
    this.others = [...others.entries()].sort(([a], [b]) => a.localeCompare(b));
    this.dispatchEvent(new Event("change"));
    return this.pending;
  }

  /** Keep ``event`` durably (bound to this principal), then try to send everything it queued. */
  async enqueue(event) {
    const item = { event_id: event.event_id, event, owner: this.owner, queued_at: Date.now(), attempts: 0 };
    await request((await this.store(OUTBOX, "readwrite")).put(item));
    await this.count();
    this.flush();
    return item;
  }

  /** This principal's queued items, oldest first. */
  async items() {
    const all = await request((await this.store(OUTBOX, "readonly")).getAll());
    return all.filter((item) => this.owns(item)).sort((a, b) => a.queued_at - b.queued_at);
  }

  flush() {
    if (!this.flushing) {
      this.flushing = this.flushOnce().finally(() => { this.flushing = null; });
    }
    return this.flushing;
  }

  async flushOnce() {
    for (;;) {
      if (this.stopped) break;  // signed out: nothing more goes out under this token
      const batch = (await this.items()).slice(0, BATCH);
      if (!batch.length) break;
      let result;
      try {
        result = await postEvents(batch.map((item) => item.event), this.tokenProvider());
      } catch (error) {
        // Network down, broker unavailable (503), token problem: keep everything, retry later.
        this.lastError = error instanceof ApiError ? error.status : "network";
        this.dispatchEvent(new Event("change"));
        return;
      }
      this.lastError = null;
      const refused = new Map((result.rejected || []).map((item) => [item.index, item.reason]));
      const db = await this.dbPromise;
      const tx = db.transaction([OUTBOX, REFUSED], "readwrite");
      batch.forEach((item, index) => {
        tx.objectStore(OUTBOX).delete(item.event_id);
        if (refused.has(index)) tx.objectStore(REFUSED).put({ ...item, reason: refused.get(index) });
      });
      await new Promise((resolve, reject) => { tx.oncomplete = resolve; tx.onerror = () => reject(tx.error); });
      await this.count();
      this.dispatchEvent(new CustomEvent("sent", { detail: { accepted: result.accepted, refused: refused.size } }));
      if (batch.length < BATCH) break;
    }
  }

  async clearRefused() {
    const store = await this.store(REFUSED, "readwrite");
    const mine = (await request(store.getAll())).filter((item) => this.owns(item));
    await Promise.all(mine.map((item) => request(store.delete(item.event_id))));
    await this.count();
  }
}
