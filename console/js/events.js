// Events the console posts to /api/v1/events, built in one place: the envelope (event_id, type, occurred_at,
// unit_id, source) and the type's own fields. The gateway validates both (hypercare/contract/events.py).
//
// event_id is the server's idempotency key. It is made once, when the user acts, and travels with the event:
// the tablet's outbox (outbox.js) keeps the whole event in IndexedDB under that id and resends it unchanged
// until the server has answered, so a resend can never become a second event.

import { postEvents } from "./api.js";

/** Where an event comes from (the envelope's ``source``). */
export const SOURCES = Object.freeze({ console: "console", tablet: "fw-tablet" });

// The id prefix by type family: the forms these ids have always had (the server treats ids as opaque).
const ID_PREFIX = { floorwalker: "fw", ed: "console", decision: "decision", duty: "duty", risk: "risk" };

// Letters only: random hex digits read as a personal identity number about once in 600 ids, and the server
// refuses an id that does (hypercare/contract/events.py, new_id there is the same form).
const ID_LETTERS = "abcdefghijklmnopqrstuvwxyz";

/** A unique id: ``<prefix>-`` and 20 random letters (94 bits; fits the contract's 64-character identifier). */
export function newId(prefix) {
  const bytes = new Uint32Array(20);
  crypto.getRandomValues(bytes);
  return `${prefix}-${Array.from(bytes, (n) => ID_LETTERS[n % ID_LETTERS.length]).join("")}`;
}

/**
 * A new event of ``type`` about ``unitId`` (a unit, or the region for region-wide records) with the type's
 * ``fields``, stamped now with a fresh event_id. ``source`` defaults to the console.
 */
export function newEvent(type, unitId, fields = {}, { source = SOURCES.console } = {}) {
  return {
    event_id: newId(ID_PREFIX[type.split(".")[0]] ?? "console"),
    type,
    occurred_at: new Date().toISOString(),
    unit_id: unitId,
    source,
    ...fields,
  };
}

/** The server refused an event; ``message`` is its reasons. */
export class EventRefused extends Error {
  constructor(reasons) {
    super(reasons.join("; "));
    this.name = "EventRefused";
    this.reasons = reasons;
  }
}

/**
 * Post one event at once (not through the outbox). Resolves when the server accepted it; throws
 * EventRefused when it was refused, and the API's error (ApiError, or TypeError for the network) otherwise.
 */
export async function sendEvent(event) {
  const result = await postEvents([event]);
  if (result.accepted !== 1) throw new EventRefused((result.rejected || []).map((r) => r.reason));
  return result;
}
