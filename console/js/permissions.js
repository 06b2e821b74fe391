// What each role is offered in the console: its views and what it may do there, in one table.
// The gateway enforces every one of these (services/auth/roles.py and the routers); this table only decides
// which views, buttons and forms the UI shows, so that nobody is offered an action the server would refuse.

/** Every capability the console asks about, with what it offers. */
export const CAPABILITIES = Object.freeze({
  readSituation: "the live situation picture (WebSocket) and the read-only REST views",
  decide: "ED diversions, go/no-go decisions, the decision log, reporting duties and risks (decision events)",
  handleAlerts: "acknowledge and assign alerts",
  writeKnownIssues: "create known issues, change their status, link tickets to them",
  releaseReports: "create, refresh, approve and publish situation reports",
  checkIn: "the floor-walker tablet: check-in, check-out, assists and escalations through the offline outbox",
  readAudit: "the audit log: writes, sign-ins and sign-outs, refusals (GET /api/v1/audit, admins)",
});

const freeze = ({ views, can }) => Object.freeze({ views: Object.freeze(views), can: Object.freeze(new Set(can)) });

/** Role → the views it sees (the first is its home) and its capabilities. */
export const ROLES = Object.freeze({
  admin: freeze({
    views: ["console", "coordination", "readiness", "decisions", "report", "agent", "tablet", "audit"],
    can: ["readSituation", "decide", "handleAlerts", "writeKnownIssues", "releaseReports", "checkIn", "readAudit"],
  }),
  chief: freeze({
    views: ["console", "coordination", "readiness", "decisions", "report", "agent"],
    can: ["readSituation", "decide", "handleAlerts", "writeKnownIssues", "releaseReports"],
  }),
  agent: freeze({
    views: ["agent", "console", "decisions"],
    can: ["readSituation", "writeKnownIssues"],
  }),
  viewer: freeze({
    views: ["console", "coordination", "readiness", "decisions", "report"],
    can: ["readSituation"],
  }),
  floorwalker: freeze({
    views: ["tablet"],
    can: ["readSituation", "checkIn"],
  }),
  // Event sources (integrations) only write through the API; the console has nothing for them.
  source: freeze({ views: [], can: [] }),
});

const NOBODY = freeze({ views: [], can: [] });

// What a view cannot work without: the live model for all but the report, the outbox for the tablet.
const VIEW_NEEDS = {
  console: ["readSituation"], coordination: ["readSituation"], readiness: ["readSituation"], decisions: ["readSituation"],
  agent: ["readSituation"],
  report: [], tablet: ["readSituation", "checkIn"], audit: ["readAudit"],
};
for (const [role, { views, can: granted }] of Object.entries(ROLES)) {
  for (const view of views) {
    const missing = (VIEW_NEEDS[view] ?? [`known view ${view}`]).filter((need) => !granted.has(need));
    if (missing.length) throw new Error(`permissions: role ${role} sees ${view} but lacks ${missing.join(", ")}`);
  }
  for (const capability of granted) {
    if (!Object.hasOwn(CAPABILITIES, capability)) throw new Error(`permissions: role ${role}: unknown ${capability}`);
  }
}

function entry(role) {
  return Object.hasOwn(ROLES, role) ? ROLES[role] : NOBODY;
}

/** Whether ``role`` is offered ``capability``; an unknown role may do nothing, an unknown capability is a bug. */
export function can(role, capability) {
  if (!Object.hasOwn(CAPABILITIES, capability)) throw new Error(`unknown capability ${JSON.stringify(capability)}`);
  return entry(role).can.has(capability);
}

/** The views ``role`` sees, its home first (empty for an unknown role). */
export function viewsFor(role) {
  return entry(role).views;
}

/** The view ``role`` lands on, or null when it has none. */
export function homeView(role) {
  return entry(role).views[0] ?? null;
}
