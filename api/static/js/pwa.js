// Installable and offline (issue 13): registers the service worker (/sw.js), hands it the assets this
// page loaded before it took control, asks it to send queued writes when the network returns, and says
// in the status line what was kept on this device.

import { session } from "./api.js";
import { announce } from "./dom.js";

/** Wait after a write's own message before saying it was only saved on this device, ms. */
const QUEUED_NOTICE_DELAY_MS = 300;

function loadedUrls() {
  const entries = performance.getEntriesByType("resource").map((e) => e.name);
  return [window.location.origin + "/", ...entries];
}

/** Resolves once the router has rendered the first page (body[data-ready] set). */
function rendered() {
  if (document.body.dataset.ready !== undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const observer = new MutationObserver(() => {
      if (document.body.dataset.ready !== undefined) { observer.disconnect(); resolve(); }
    });
    observer.observe(document.body, { attributes: true, attributeFilter: ["data-ready"] });
  });
}

export async function registerServiceWorker() {
  if (!("serviceWorker" in navigator)) return null;
  const hadController = Boolean(navigator.serviceWorker.controller);
  navigator.serviceWorker.addEventListener("message", (event) => {
    const msg = event.data || {};
    if (msg.type === "offline-ready") {
      document.body.dataset.offlineReady = "1"; // what this page loaded is kept for offline use
    } else if (msg.type === "queued") {
      setTimeout(() => announce("You are offline: this was saved on this device and will be sent when the connection is back.", "warn"), QUEUED_NOTICE_DELAY_MS);
    } else if (msg.type === "queued-sent") {
      announce(`Back online: ${msg.count === 1 ? "1 change made offline was" : `${msg.count} changes made offline were`} sent.`, "ok");
    } else if (msg.type === "queued-refused") {
      announce(`A change made offline was refused by the server (${msg.status}); please make it again.`, "error");
    }
  });
  window.addEventListener("online", () => {
    if (navigator.serviceWorker.controller) navigator.serviceWorker.controller.postMessage({ type: "online" });
  });
  try {
    const registration = await navigator.serviceWorker.register("/sw.js", { scope: "/" });
    const ready = await navigator.serviceWorker.ready;
    if (hadController) document.body.dataset.offlineReady = "1";
    if (!hadController && ready.active) {
      // what the first visit loaded went past the worker: hand it the list (and the session, for the
      // API reads) so that the page also opens offline
      await rendered();
      const current = session();
      ready.active.postMessage({ type: "cache", urls: loadedUrls(), token: current ? current.token : null });
    }
    return registration;
  } catch {
    return null; // e.g. a private window: the app works, only not offline
  }
}

/** Ask the worker to forget cached API answers (at sign-out). */
export function forgetOfflineData() {
  if ("serviceWorker" in navigator && navigator.serviceWorker.controller) {
    navigator.serviceWorker.controller.postMessage({ type: "signed-out" });
  }
}
