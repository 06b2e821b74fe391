// Offline outbox for the floor-walker tablet: every action is stored in IndexedDB with its
// event_id before anything is sent, and sent when the network allows. Resending is safe because
// event_id is the server's idempotency key; an item leaves the outbox only once the server has
// answered for it (accepted, or rejected with a reason, which is kept to show).

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
  constructor(tokenProvider) {
    super();
    this.tokenProvider = tokenProvider;
    this.dbPromise = openDb();
    this.flushing = null;
    this.pending = 0;
    this.refused = 0;
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
    window.removeEventListener("online", this.onOnline);
    clearInterval(this.timer);
  }

  async store(name, mode) {
    const db = await this.dbPromise;
    return db.transaction(name, mode).objectStore(name);
  }

  async count() {
    this.pending = await request((await this.store(OUTBOX, "readonly")).count());
    this.refused = await request((await this.store(REFUSED, "readonly")).count());
    this.dispatchEvent(new Event("change"));
    return this.pending;
  }

  /** Keep ``event`` durably, then try to send everything queued. */
  async enqueue(event) {
    const item = { event_id: event.event_id, event, queued_at: Date.now(), attempts: 0 };
    await request((await this.store(OUTBOX, "readwrite")).put(item));
    await this.count();
    this.flush();
    return item;
  }

  async items() {
    const all = await request((await this.store(OUTBOX, "readonly")).getAll());
    return all.sort((a, b) => a.queued_at - b.queued_at);
  }

  flush() {
    if (!this.flushing) {
      this.flushing = this.flushOnce().finally(() => { this.flushing = null; });
    }
    return this.flushing;
  }

  async flushOnce() {
    for (;;) {
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
    await request((await this.store(REFUSED, "readwrite")).clear());
    await this.count();
  }
}
