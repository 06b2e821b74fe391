// Service worker: keeps the app shell so the tablet view opens without a network.
// Network first (a deploy is seen at once), the cached copy when the network is gone.
// API calls and the WebSocket are never intercepted: the outbox in IndexedDB handles offline writes.

const CACHE = "hypercare-shell-v9";
const SHELL = [
  "./",
  "index.html",
  "manifest.webmanifest",
  "css/app.css",
  "icons/icon.svg",
  "icons/icon-192.png",
  "icons/icon-512.png",
  "js/alerts.js",
  "js/app.js",
  "js/api.js",
  "js/charts.js",
  "js/dom.js",
  "js/events.js",
  "js/i18n.js",
  "js/i18n/en.js",
  "js/i18n/format.js",
  "js/i18n/lang.js",
  "js/i18n/sv.js",
  "js/known.js",
  "js/lastpicture.js",
  "js/latest.js",
  "js/live.js",
  "js/outbox.js",
  "js/permissions.js",
  "js/ui.js",
  "js/wall.js",
  "js/views/agent.js",
  "js/views/audit.js",
  "js/views/console.js",
  "js/views/coordination.js",
  "js/views/decisions.js",
  "js/views/readiness.js",
  "js/views/report.js",
  "js/views/signin.js",
  "js/views/tablet.js",
  "js/views/waves.js",
];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  const scope = new URL(self.registration.scope);
  if (url.origin !== scope.origin || !url.pathname.startsWith(scope.pathname)) return;
  event.respondWith(
    fetch(request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(request, copy));
        }
        return response;
      })
      .catch(() => caches.match(request, { ignoreSearch: true })
        .then((cached) => cached || (request.mode === "navigate" ? caches.match("./") : undefined))
        .then((cached) => cached || Response.error())),
  );
});
