// Sends the outbox (outbox.js) with the ingest contract until the server acknowledges: sealed batches
// to POST /v1/ingest/beats with this browser's device token (a re-sent batch id is answered as
// duplicates), then each finished reading to PUT /v1/ingest/readings/{id}, then its verdict is fetched
// with the patient's session. Retries with backoff, at once when the network returns.

import { session } from "../api.js";
import * as outbox from "./outbox.js";

const INGEST_PATH = "/v1/ingest/beats";
/** Backoff after a failed round, ms: doubled per failure from the first to the last. */
const BACKOFF_FIRST_MS = 2000;
const BACKOFF_MAX_MS = 60000;
/** Longest Retry-After honoured, ms. */
const RETRY_AFTER_MAX_MS = 300000;

/** A refusal that sending again will not cure (the batch or reading stays in the outbox). */
export class Refused extends Error {
  constructor(status, message) {
    super(message);
    this.name = "Refused";
    this.status = status;
  }
}

class Offline extends Error {
  constructor(message, retryAfterMs = null) {
    super(message);
    this.name = "Offline";
    this.retryAfterMs = retryAfterMs;
  }
}

async function send(method, path, token, body) {
  let response;
  try {
    response = await fetch(path, {
      method,
      headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json", Accept: "application/json" },
      body: JSON.stringify(body),
      cache: "no-store",
    });
  } catch (err) {
    throw new Offline(`no connection (${err.message})`);
  }
  const data = await response.json().catch(() => null);
  if (response.ok) return data;
  const message = (data && data.error && data.error.message) || `${response.status} ${response.statusText}`;
  if (response.status === 503 || response.status === 429 || response.status >= 500) {
    const after = Number(response.headers.get("Retry-After"));
    throw new Offline(message, Number.isFinite(after) && after > 0 ? Math.min(after * 1000, RETRY_AFTER_MAX_MS) : null);
  }
  throw new Refused(response.status, message);
}

/** This browser's device token for `patientId`, asked for through the signed-in session when missing. */
export async function deviceToken(patientId, { create = true } = {}) {
  const stored = await outbox.getMeta("device");
  if (stored && stored.patientId === patientId) return stored;
  if (!create) return null;
  const current = session();
  if (!current) throw new Refused(401, "sign in to send your readings");
  const response = await fetch(`/v1/patients/${patientId}/browser-devices`, {
    method: "POST",
    headers: { Authorization: `Bearer ${current.token}`, "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ label: browserLabel() }),
  }).catch((err) => { throw new Offline(`no connection (${err.message})`); });
  const data = await response.json().catch(() => null);
  if (!response.ok) throw new Refused(response.status, (data && data.error && data.error.message) || "no device token");
  const device = { patientId, deviceId: data.device_id, token: data.token, label: data.label };
  await outbox.setMeta("device", device);
  return device;
}

function browserLabel() {
  const ua = navigator.userAgent || "";
  const browser = /Edg\//.test(ua) ? "Edge" : /Chrome\//.test(ua) ? "Chrome" : "Browser";
  const os = /Android/.test(ua) ? "Android" : /Windows/.test(ua) ? "Windows" : /Mac OS X/.test(ua) ? "macOS"
    : /CrOS/.test(ua) ? "ChromeOS" : /Linux/.test(ua) ? "Linux" : "";
  return os ? `${browser} on ${os}` : browser;
}

/** The verdict of a reading (GET with the patient's session), or null when not signed in. */
async function fetchVerdict(reading) {
  const current = session();
  if (!current) return null;
  let response;
  try {
    response = await fetch(`/v1/patients/${reading.patientId}/readings/${reading.id}`, {
      headers: { Authorization: `Bearer ${current.token}`, Accept: "application/json" }, cache: "no-store",
    });
  } catch (err) {
    throw new Offline(`no connection (${err.message})`);
  }
  if (!response.ok) {
    if (response.status >= 500) throw new Offline(`${response.status}`);
    return null;
  }
  return response.json();
}

/**
 * The one uploader of this page. `status` (read it, or listen to "change") holds {state: idle |
 * sending | waiting | refused, unsent, lastError, nextTryMs}.
 */
class Uploader extends EventTarget {
  constructor() {
    super();
    this.status = { state: "idle", unsent: 0, lastError: null, nextTryMs: null };
    this.running = null;
    this.again = false;
    this.failures = 0;
    this.timer = null;
    this.patientId = null;
    window.addEventListener("online", () => this.kick());
  }

  update(patch) {
    Object.assign(this.status, patch);
    this.dispatchEvent(new Event("change"));
  }

  /** Send what is waiting for `patientId` (remembered for later kicks). */
  start(patientId) {
    this.patientId = patientId;
    return this.kick();
  }

  /** Run one round now (or right after the current one). Resolves when the round ends. */
  kick() {
    if (!this.patientId) return Promise.resolve();
    if (this.running) {
      this.again = true;
      return this.running;
    }
    clearTimeout(this.timer);
    this.timer = null;
    this.running = this.round().finally(() => {
      this.running = null;
      if (this.again) {
        this.again = false;
        this.kick();
      }
    });
    return this.running;
  }

  async round() {
    const patientId = this.patientId;
    try {
      await outbox.seal();
      const waiting = await outbox.batches();
      const readings = (await outbox.readings()).filter((r) => r.patientId === patientId && r.endedMs !== null && !r.verdict);
      this.update({ unsent: (await outbox.unsentBeats()).count });
      if (!waiting.length && !readings.length) {
        this.failures = 0;
        this.update({ state: "idle", lastError: null, nextTryMs: null });
        return;
      }
      this.update({ state: "sending" });
      let device = await deviceToken(patientId);
      for (const batch of waiting) {
        try {
          await send("POST", INGEST_PATH, device.token, batch.doc);
        } catch (err) {
          if (err instanceof Refused && err.status === 401) {
            // revoked or unknown token: ask for a new one through the session and send again
            await outbox.setMeta("device", null);
            device = await deviceToken(patientId);
            await send("POST", INGEST_PATH, device.token, batch.doc);
          } else throw err;
        }
        await outbox.acknowledge(batch.seq);
        this.update({ unsent: Math.max(0, this.status.unsent - batch.doc.beats.length) });
      }
      for (const reading of readings) {
        const unsent = (await outbox.unsentBeats()).byReading[reading.id] || 0;
        if (unsent) continue; // its beats first (sealed next round)
        if (!reading.uploaded) {
          await send("PUT", `/v1/ingest/readings/${reading.id}`, device.token, {
            started_at: new Date(reading.startedMs).toISOString(),
            ended_at: new Date(reading.endedMs).toISOString(),
            planned_s: reading.plannedS,
          });
          reading.uploaded = true;
          await outbox.putReading(reading);
        }
        const verdict = await fetchVerdict(reading);
        if (verdict) {
          reading.verdict = verdict;
          await outbox.putReading(reading);
          this.dispatchEvent(new CustomEvent("verdict", { detail: reading }));
        }
      }
      this.failures = 0;
      const left = (await outbox.unsentBeats()).count;
      this.update({ state: "idle", unsent: left, lastError: null, nextTryMs: null });
    } catch (err) {
      this.failures += 1;
      const backoff = Math.min(BACKOFF_FIRST_MS * 2 ** (this.failures - 1), BACKOFF_MAX_MS);
      const waitMs = err instanceof Offline && err.retryAfterMs ? Math.max(backoff, err.retryAfterMs) : backoff;
      const refused = err instanceof Refused;
      this.update({ state: refused ? "refused" : "waiting", lastError: err.message, nextTryMs: Date.now() + waitMs });
      this.timer = setTimeout(() => this.kick(), waitMs);
    }
  }
}

let instance = null;
/** The page's uploader (one per page, so two sections never send the same batch at once). */
export function uploader() {
  if (!instance) instance = new Uploader();
  return instance;
}
