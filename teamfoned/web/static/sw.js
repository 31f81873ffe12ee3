// The web app's service worker: the shell from the cache, the status page from the network,
// and the last status page seen when the network is away (the page then says it is offline).
"use strict";
const CACHE = "teamfoned-v1";
const SHELL = ["/app/static/app.css", "/app/static/app.js", "/app/static/icon.svg"];
const STATUS = "/app/status";
// Signing out or being deleted leaves nothing of the member in this browser's cache.
const FORGET = ["/app/signed-out", "/app/deleted"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin) return;
  if (FORGET.includes(url.pathname)) {
    event.waitUntil(caches.delete(CACHE));
    return;
  }
  if (event.request.mode === "navigate" && url.pathname === STATUS) {
    event.respondWith(fetch(event.request).then((response) => {
      if (response.ok) {
        const copy = response.clone();
        event.waitUntil(caches.open(CACHE).then((cache) => cache.put(STATUS, copy)));
      }
      return response;
    }).catch(() => caches.match(STATUS).then((cached) => cached || Response.error())));
    return;
  }
  if (SHELL.includes(url.pathname)) {
    event.respondWith(caches.match(event.request).then((cached) => cached || fetch(event.request)));
  }
});
