// Known issues: fetched for everyone, refreshed periodically, shown as a banner on every view.

import { api } from "./api.js";

const REFRESH_MS = 30000;

export class KnownIssues extends EventTarget {
  constructor() {
    super();
    this.items = [];
    this.timer = null;
  }

  start() {
    this.refresh();
    this.timer = setInterval(() => this.refresh(), REFRESH_MS);
  }

  stop() {
    clearInterval(this.timer);
    this.items = [];
  }

  async refresh() {
    try {
      const body = await api("/api/v1/known-issues");
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
