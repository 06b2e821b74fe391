// Hypercare console: sign-in, role-based views, header (connection state, language), routing.

import { api, ApiError, csrfToken, getToken, logoutSession, setToken } from "./api.js";
import { h, statusIcon, toast } from "./dom.js";
import { formatTime, getLang, onLangChange, setLang, t } from "./i18n.js";
import { KnownIssues } from "./known.js";
import { LiveSituation } from "./live.js";
import { Outbox } from "./outbox.js";
import { can, homeView, viewsFor } from "./permissions.js";
import { renderSignIn } from "./views/signin.js";
import { nextStop, wallSettings, wallStops } from "./wall.js";

const STALE_AFTER_MS = 2 * 60 * 1000;  // "Uppdaterad" older than this: the pill turns amber even on a live socket
const STALE_CHECK_MS = 5000;
const ME_KEY = "hc.me";  // sessionStorage, like the token: {token, me} of this tab's sign-in, for an offline start
// Each view's module is fetched when the view is first shown (a same-origin import(): CSP 'self' allows it), so a
// floor walker's tablet never downloads the chief's views. The service worker precaches them all for offline use.
const VIEWS = {
  console: ["./views/console.js", "ConsoleView"], tablet: ["./views/tablet.js", "TabletView"],
  agent: ["./views/agent.js", "AgentView"], decisions: ["./views/decisions.js", "DecisionsView"],
  coordination: ["./views/coordination.js", "CoordinationView"], readiness: ["./views/readiness.js", "ReadinessView"],
  report: ["./views/report.js", "ReportView"], audit: ["./views/audit.js", "AuditView"],
};
const viewClasses = new Map();  // name -> Promise of the view's class; a failed load is forgotten and tried again

let session = null;  // {token, me, live, known, outbox}; token "" when signed in with the identity provider (cookie)
let current = null;  // {name, view}
let routing = 0;  // the latest route() call; an earlier one whose module arrives later does not mount
let signInMessage = "";

function loadView(name) {
  if (!viewClasses.has(name)) {
    const [path, exported] = VIEWS[name];
    viewClasses.set(name, import(path).then((module) => module[exported]).catch((error) => {
      viewClasses.delete(name);
      throw error;
    }));
  }
  return viewClasses.get(name);
}

const main = () => document.getElementById("main");

function parseRoute() {
  const parts = window.location.hash.replace(/^#\/?/, "").split("/").filter(Boolean).map(decodeURIComponent);
  const [name = "", a, b] = parts;
  if (name === "console") return { name, kind: a || "region", id: b || null };
  if (name === "tablet") return { name, id: a || null };
  return { name };
}

const REGION_VIEWS = new Set(["audit"]);  // the report is cut to a scoped reader's subtree by the server

function allowedViews() {
  if (!session) return [];
  // The situation report and the audit log are the whole region's: not offered to a principal scoped below it.
  const views = viewsFor(session.me.role);
  return session.me.whole_region === false ? views.filter((view) => !REGION_VIEWS.has(view)) : views;
}

async function route({ focus = true } = {}) {
  const call = ++routing;
  if (current) { current.view.unmount(); current = null; }
  renderHeader();
  if (!session) {
    document.body.dataset.view = "signin";
    renderSignIn(main(), { onSignedIn: signIn, message: signInMessage });
    return;
  }
  const views = allowedViews();
  if (!views.length) {
    startLive();
    document.body.dataset.view = "none";
    main().replaceChildren(h("div", { class: "signin-wrap" }, h("div", { class: "card" }, h("p", {}, t("signin.source")))));
    return;
  }
  const wanted = parseRoute();
  if (!views.includes(wanted.name)) {
    window.location.replace(`#/${views[0]}`);
    return;  // hashchange routes again
  }
  if (!viewClasses.has(wanted.name)) main().replaceChildren(h("p", { class: "muted", role: "status" }, t("loading")));
  let View;
  try {
    View = await loadView(wanted.name);
  } catch (error) {
    if (call !== routing) return;
    main().replaceChildren(h("p", { role: "alert" }, t("error.generic", { reason: error.message })));
    startLive();
    return;
  }
  if (call !== routing) return;  // the route changed while the module loaded
  document.body.dataset.view = wanted.name;
  const view = new View(session);
  current = { name: wanted.name, view };
  // Views that show only part of the picture subscribe to it when they mount; the others read all of it.
  if (!view.scopes) session.live?.subscribe(["all"]);
  view.mount(main(), wanted);
  startLive();
  renderHeader();
  if (focus) main().focus({ preventScroll: true });
}

function renderHeader() {
  const nav = document.getElementById("nav");
  const name = parseRoute().name;
  nav.setAttribute("aria-label", t("nav.label"));
  nav.replaceChildren(h("ul", {}, allowedViews().map((view) => h("li", {},
    h("a", { href: `#/${view}`, "aria-current": view === name ? "page" : null }, t(`nav.${view}`))))));
  const lang = document.getElementById("lang");
  lang.textContent = t("lang.toggle");
  lang.title = t("lang.toggle.label");
  lang.lang = getLang() === "sv" ? "en" : "sv";
  const who = document.getElementById("who");
  const signout = document.getElementById("signout");
  if (session) {
    who.textContent = t("signed.in.as", { name: session.me.name, role: t(`role.${session.me.role}`) });
    signout.hidden = false;
    signout.textContent = t("signout");
    signout.title = who.textContent;  // the name shows here where the header has no room for it
  } else {
    who.textContent = "";
    signout.hidden = true;
    signout.removeAttribute("title");
  }
  document.querySelector(".skip-link").textContent = t("skip");
  renderConnection();
  renderBanner();
}

function renderConnection() {
  const el = document.getElementById("conn");
  if (!session || !session.live) { el.hidden = true; el.textContent = ""; return; }
  el.hidden = false;
  const asOf = session.live.currentAt;
  // A socket can be open while the picture has stopped moving: the latest update time (what "Uppdaterad" shows:
  // the newest change, or the server's later word on a ping that nothing changed since) older than two minutes
  // makes the pill amber, with that time in it.
  const stale = session.live.state === "live" && asOf && Date.now() - new Date(asOf).getTime() > STALE_AFTER_MS;
  const state = stale ? "stale" : session.live.state;
  const icon = state === "live" ? "green" : state === "offline" ? "red" : "yellow";
  const text = stale ? t("conn.stale", { time: formatTime(asOf, { seconds: true }) }) : t(`conn.${state}`);
  el.className = `conn conn--${state}`;
  el.dataset.state = state;
  // The short form (the state alone) where the header is narrow; the full text stays for screen readers.
  el.replaceChildren(statusIcon(icon), h("span", { class: "conn-full" }, t("conn.label", { state: text })),
    h("span", { class: "conn-short", "aria-hidden": "true" }, text));
}

function renderBanner() {
  const el = document.getElementById("banner");
  const issues = session ? session.known.active() : [];
  if (!issues.length) { el.hidden = true; el.replaceChildren(); return; }
  const wasOpen = el.querySelector("details")?.open || false;
  el.hidden = false;
  el.replaceChildren(h("details", { class: "banner", open: wasOpen },
    h("summary", {},
      h("span", { class: "banner-title" }, statusIcon("yellow"), h("span", {}, t("known.banner", { n: issues.length }))),
      h("span", { class: "banner-titles" }, issues.map((issue) => `KI-${issue.id} ${issue.title}`).join("  ·  "))),
    h("ul", {}, issues.map((issue) => h("li", {},
      h("strong", {}, `KI-${issue.id} `, issue.title),
      issue.workaround ? h("span", { class: "banner-workaround" }, ` — ${issue.workaround}`) : null)))));
}

// The socket opens once the first view has mounted: its first message then carries that view's subscription, and
// the server never sends the whole picture to a console that shows a part of it (the view's module loads first).
function startLive() {
  if (!session?.live || session.liveStarted) return;
  session.liveStarted = true;
  session.live.start();
}

function startSession(token, me) {
  const live = can(me.role, "readSituation") ? new LiveSituation(() => token) : null;
  const known = new KnownIssues();
  const outbox = can(me.role, "checkIn") ? new Outbox(() => token, me) : null;
  session = { token, me, live, known, outbox, liveStarted: false };
  if (live) session.staleTimer = setInterval(renderConnection, STALE_CHECK_MS);  // the update time ages unseen
  const wall = wallSettings();
  if (live && wall) {
    session.wallTimer = setInterval(() => {
      if (current?.name !== "console") return;  // the wall cycles the command console only
      window.location.hash = nextStop(wallStops(live.administrations), window.location.hash || "#/console");
    }, wall.stepMs);
  }
  if (live) {
    live.addEventListener("state", renderConnection);
    live.addEventListener("change", renderConnection);
    live.addEventListener("confirmed", renderConnection);  // a quiet region stays "current" while the server says so
    live.addEventListener("unauthorized", () => signOut(t("signin.bad")));
    // A subscription the server refused (a node outside the token's scope): the reason, the picture unchanged.
    live.addEventListener("refused", (event) => toast(t("error.generic", { reason: event.detail }), "error"));
  }
  known.addEventListener("change", renderBanner);
  known.start();
  if (outbox) outbox.start();
}

function signIn(token, me, { focus = true } = {}) {
  setToken(token);
  try { sessionStorage.setItem(ME_KEY, JSON.stringify({ token, me })); } catch { /* private mode */ }
  signInMessage = "";
  startSession(token, me);
  if (window.location.hash.startsWith("#/signin") || !window.location.hash) {
    window.history.replaceState(null, "", `#/${homeView(me.role) || ""}`);  // no hashchange
  }
  route({ focus });
}

function signOut(message = "") {
  if (current) { current.view.unmount(); current = null; }
  if (session) {
    clearInterval(session.staleTimer);
    clearInterval(session.wallTimer);
    session.live?.stop();
    session.known.stop();
    session.outbox?.stop();
    if (!session.token) logoutSession();  // identity-provider session: end it on the server
  }
  session = null;
  if (getToken()) api("/api/v1/sign-out", { method: "POST" }).catch(() => { /* noted in the audit log when online */ });
  setToken("");
  try { sessionStorage.removeItem(ME_KEY); } catch { /* ignore */ }
  signInMessage = message;
  window.location.hash = "#/signin";
  route();
}

async function boot() {
  try { localStorage.removeItem(ME_KEY); } catch { /* an older console kept the token there too */ }
  document.documentElement.lang = getLang();
  document.documentElement.classList.toggle("wall", Boolean(wallSettings()));
  document.getElementById("lang").addEventListener("click", () => setLang(getLang() === "sv" ? "en" : "sv"));
  document.getElementById("signout").addEventListener("click", () => signOut());
  onLangChange(() => route({ focus: false }));
  window.addEventListener("hashchange", () => route());
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("sw.js", { scope: "./" }).catch(() => { /* the console works without it */ });
  }
  const token = getToken();
  if (!token && csrfToken()) {
    // Signed in with the region's identity provider (its session sets hc_csrf beside the httpOnly session cookie).
    try {
      signIn("", await api("/api/v1/me", { token: "" }), { focus: false });
      return;
    } catch (error) {
      if (!(error instanceof ApiError)) {
        let cached = null;
        try { cached = JSON.parse(localStorage.getItem(ME_KEY)); } catch { cached = null; }
        if (cached && cached.token === "" && cached.me) startSession("", cached.me);
      }
    }
  } else if (token) {
    try {
      signIn(token, await api("/api/v1/me", { token }), { focus: false });
      return;
    } catch (error) {
      if (error instanceof ApiError && error.status === 401) {
        setToken("");
        signInMessage = t("signin.bad");
      } else {
        // Offline start (a tablet on a ward): use the identity remembered at the last sign-in.
        let cached = null;
        try { cached = JSON.parse(sessionStorage.getItem(ME_KEY)); } catch { cached = null; }
        if (cached && cached.token === token && cached.me) {
          startSession(token, cached.me);
        }
      }
    }
  }
  route({ focus: false });
}

boot();
