// Known issues: fetched for everyone, refreshed periodically, shown as a banner on every view.

import { api } from "./api.js";
import { latest } from "./latest.js";

const REFRESH_MS = 30000;

export class KnownIssues extends EventTarget {
  constructor() {
    super();
    this.items = [];
    this.timer = null;
    // The timer and every write refresh the list: a list fetched before a write must not replace the one after.
    this.load = latest();
  }

  start() {
    this.refresh();
    this.timer = setInterval(() => { if (!this.load.pending) this.refresh(); }, REFRESH_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.load.cancel();
    this.items = [];
  }

  async refresh() {
    try {
      const body = await this.load((signal) => api("/api/v1/known-issues", { signal }));
      this.items = body.items || [];
      this.dispatchEvent(new Event("change"));
    } catch { /* keep the last list; the banner is not critical */ }
  }

  active() {
    return this.items.filter((issue) => issue.status !== "resolved");
  }

  byId(id) {
    return this.items.find((issue) => issue.id === id) || null;
  }
}
