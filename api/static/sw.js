// Somatrace's service worker (served at /sw.js, scope /): the app opens offline and the patient's
// journal notes and questionnaire answers made offline are kept and sent when the network returns.
// - pages and assets (/, /static/...): network first, the last copy when offline (assets are always
//   revalidated online, so an upgrade shows at once);
// - API reads (GET /v1/...): network first, the last answer when offline (for the same query, else
//   for the same path; cleared at sign-out);
// - journal and questionnaire writes that fail for want of a network: queued in IndexedDB, answered
//   202 {"queued": true}, and sent in order when the network returns (online message, Background Sync,
//   the next successful request). Beat uploads are not queued here: the page's own outbox keeps them.

// PRECACHE (every asset under /static/) and BUILD (an id of their content) are prepended by the server.
const SHELL_CACHE = `somatrace-shell-${BUILD}`;
const DATA_CACHE = "somatrace-data-v1";
const SHELL = ["/", ...PRECACHE];
/** Writes queued offline: the patient's journal and questionnaire answers. */
const QUEUED_WRITES = [
  /^\/v1\/patients\/[^/]+\/journal(\/[^/]+)?$/,
  /^\/v1\/patients\/[^/]+\/responses$/,
];
/** API paths never read again on the page's behalf (sign-in, uploads, large downloads); any other
 * path is read with GET, which changes nothing (a write-only path answers 405 and is not kept). */
const NOT_PREFETCHED = [/^\/v1\/auth\//, /^\/v1\/exports/, /^\/v1\/ingest\//, /^\/v1\/links\//];
const QUEUE_DB = "somatrace-sw";
const SYNC_TAG = "somatrace-queued-writes";

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL_CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith("somatrace-shell-") && name !== SHELL_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
    await replay();
  })());
});

self.addEventListener("message", (event) => {
  const msg = event.data || {};
  if (msg.type === "cache" && Array.isArray(msg.urls)) {
    event.waitUntil(cacheLoaded(msg.urls, msg.token).then(() => {
      if (event.source) event.source.postMessage({ type: "offline-ready" });
    }));
  } else if (msg.type === "online") {
    event.waitUntil(replay());
  } else if (msg.type === "signed-out") {
    event.waitUntil(caches.delete(DATA_CACHE));
  }
});

/** Read again, with the page's session, the API answers the page loaded before this worker
 * controlled it, so that the page also opens offline (assets are precached at install). */
async function cacheLoaded(urls, token) {
  if (!token) return;
  const data = await caches.open(DATA_CACHE);
  const seen = new Set();
  for (const u of urls) {
    const url = new URL(u);
    if (url.origin !== self.location.origin || seen.has(url.href)) continue;
    seen.add(url.href);
    if (!url.pathname.startsWith("/v1/") || NOT_PREFETCHED.some((re) => re.test(url.pathname))) continue;
    try {
      const response = await fetch(url.href, { headers: { Authorization: `Bearer ${token}`, Accept: "application/json" } });
      if (response.ok) await data.put(url.href, response);
    } catch {
      return; // offline again
    }
  }
}

self.addEventListener("sync", (event) => {
  if (event.tag === SYNC_TAG) event.waitUntil(replay());
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "GET") {
    if (url.pathname === "/" || url.pathname.startsWith("/static/")) {
      event.respondWith(networkFirst(request, SHELL_CACHE, url.pathname === "/" ? "/" : null));
    } else if (url.pathname.startsWith("/v1/") && !url.pathname.startsWith("/v1/exports")) {
      event.respondWith(networkFirst(request, DATA_CACHE, null));
    }
    return;
  }
  if (QUEUED_WRITES.some((re) => re.test(url.pathname))) event.respondWith(writeOrQueue(request));
});

async function networkFirst(request, cacheName, key) {
  const cache = await caches.open(cacheName);
  try {
    const response = await fetch(request);
    if (response.ok) cache.put(key || request, response.clone()).catch(() => null);
    replaySoon();
    return response;
  } catch (err) {
    // the same request, else (API lists whose query moves with the clock, e.g. "notes of the last
    // year from now") the last answer for the same path
    const cached = await cache.match(key || request, { ignoreVary: true })
      || (cacheName === DATA_CACHE ? await cache.match(request, { ignoreVary: true, ignoreSearch: true }) : undefined);
    if (cached) return cached;
    if (request.mode === "navigate") {
      const shell = await caches.match("/");
      if (shell) return shell;
    }
    return offlineAnswer(503, "offline", "You are offline and this was not saved on this device before.");
  }
}

function offlineAnswer(status, code, message, extra = {}) {
  return new Response(JSON.stringify({ error: { code, message, fields: {} }, ...extra }), {
    status, headers: { "Content-Type": "application/json", "X-Somatrace-Offline": "1" },
  });
}

async function writeOrQueue(request) {
  const body = await request.clone().text();
  try {
    const response = await fetch(request);
    replaySoon();
    return response;
  } catch (err) {
    const item = {
      url: request.url,
      method: request.method,
      headers: {
        "Content-Type": request.headers.get("Content-Type") || "application/json",
        Authorization: request.headers.get("Authorization") || "",
        Accept: "application/json",
      },
      body,
      queuedMs: Date.now(),
    };
    await queueOp("readwrite", (store) => store.add(item));
    if (self.registration.sync) self.registration.sync.register(SYNC_TAG).catch(() => null);
    notify({ type: "queued", url: request.url });
    return new Response(JSON.stringify({ queued: true, queued_at: new Date(item.queuedMs).toISOString() }), {
      status: 202, headers: { "Content-Type": "application/json", "X-Somatrace-Queued": "1" },
    });
  }
}

function openQueue() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(QUEUE_DB, 1);
    req.onupgradeneeded = () => {
      req.result.createObjectStore("queue", { keyPath: "seq", autoIncrement: true });
      req.result.createObjectStore("refused", { keyPath: "seq" });
    };
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function queueOp(mode, fn, storeName = "queue") {
  const db = await openQueue();
  return new Promise((resolve, reject) => {
    const tx = db.transaction([storeName], mode);
    const req = fn(tx.objectStore(storeName), tx);
    tx.oncomplete = () => resolve(req ? req.result : undefined);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error);
  });
}

async function notify(message) {
  for (const client of await self.clients.matchAll({ includeUncontrolled: true })) client.postMessage(message);
}

let replaying = null;
let replayTimer = null;
function replaySoon() {
  if (replayTimer || replaying) return;
  replayTimer = setTimeout(() => { replayTimer = null; replay(); }, 0);
}

/** Send the queued writes in order; stop at the first network failure (the rest waits). */
function replay() {
  if (replaying) return replaying;
  replaying = (async () => {
    const items = await queueOp("readonly", (store) => store.getAll());
    let sent = 0;
    for (const item of items) {
      let response;
      try {
        response = await fetch(item.url, { method: item.method, headers: item.headers, body: item.body });
      } catch {
        break; // still offline
      }
      if (response.status >= 500 || response.status === 429) break;
      if (!response.ok) {
        // refused by the server (e.g. signed out meanwhile): kept aside, never silently dropped
        const text = await response.text().catch(() => "");
        await queueOp("readwrite", (store) => store.put({ ...item, status: response.status, answer: text.slice(0, 500) }), "refused");
        notify({ type: "queued-refused", url: item.url, status: response.status });
      } else {
        sent += 1;
      }
      await queueOp("readwrite", (store) => store.delete(item.seq));
    }
    if (sent) notify({ type: "queued-sent", count: sent });
  })().finally(() => { replaying = null; });
  return replaying;
}
