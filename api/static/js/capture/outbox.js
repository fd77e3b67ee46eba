// The browser collector's outbox in IndexedDB: every beat is written here before it is shown or sent,
// sealed into batches with a fixed id (the same id on every retry), and deleted only once the server
// has acknowledged it. Readings wait here until their beats are in. The page's twin of the collector's
// spool (collector/spool.py); sending is uploader.js.

const DB_NAME = "somatrace-capture";
const DB_VERSION = 1;
/** Most beats per sealed batch (wire/batch.py MAX_BEATS_PER_BATCH). */
export const MAX_BEATS_PER_BATCH = 10000;
/** Most gaps per sealed batch (wire/batch.py MAX_GAPS_PER_BATCH). */
export const MAX_GAPS_PER_BATCH = 1000;

/** The outbox could not be opened or written (private mode, storage full): nothing is recorded then. */
export class OutboxError extends Error {
  constructor(message) {
    super(message);
    this.name = "OutboxError";
  }
}

function promised(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(new OutboxError(String(req.error && req.error.message || req.error)));
  });
}

function done(tx) {
  return new Promise((resolve, reject) => {
    tx.oncomplete = () => resolve();
    tx.onabort = () => reject(new OutboxError(String(tx.error && tx.error.message || "transaction aborted")));
    tx.onerror = () => reject(new OutboxError(String(tx.error && tx.error.message || "transaction failed")));
  });
}

function openDb() {
  if (typeof indexedDB === "undefined") return Promise.reject(new OutboxError("this browser has no IndexedDB"));
  const req = indexedDB.open(DB_NAME, DB_VERSION);
  req.onupgradeneeded = () => {
    const db = req.result;
    // beats as they arrive, one record per notification: {readingId, beats: [[tMs, rrTicks]], gaps: [[s, e]]}
    db.createObjectStore("pending", { autoIncrement: true });
    // sealed batches awaiting acknowledgement: the wire document plus its reading and when it was sealed
    db.createObjectStore("batches", { keyPath: "seq", autoIncrement: true }).createIndex("batch_id", "doc.batch_id", { unique: true });
    // readings: {id, patientId, startedMs, endedMs|null, plannedS, uploaded, verdict}
    db.createObjectStore("readings", { keyPath: "id" });
    // the device token and the last beat written: {key, value}
    db.createObjectStore("meta", { keyPath: "key" });
  };
  return promised(req);
}

let dbPromise = null;
function db() {
  if (!dbPromise) dbPromise = openDb().catch((err) => { dbPromise = null; throw err; });
  return dbPromise;
}

async function run(stores, mode, body) {
  const conn = await db();
  const tx = conn.transaction(stores, mode);
  const finished = done(tx);
  const result = await body(tx);
  await finished;
  return result;
}

export async function getMeta(key) {
  return run(["meta"], "readonly", async (tx) => {
    const row = await promised(tx.objectStore("meta").get(key));
    return row ? row.value : null;
  });
}

export async function setMeta(key, value) {
  return run(["meta"], "readwrite", async (tx) => {
    if (value === null || value === undefined) tx.objectStore("meta").delete(key);
    else tx.objectStore("meta").put({ key, value });
  });
}

/** Write one notification's beats and gaps (and the last beat's time) in one transaction. */
export async function addBeats(readingId, beats, gaps) {
  if (!beats.length && !gaps.length) return;
  await run(["pending", "meta"], "readwrite", async (tx) => {
    tx.objectStore("pending").add({
      readingId,
      beats: beats.map((b) => [b.tMs, b.rrTicks]),
      gaps: gaps.map((g) => [g.startMs, g.endMs]),
    });
    if (beats.length) tx.objectStore("meta").put({ key: "lastBeatMs", value: beats[beats.length - 1].tMs });
  });
}

/**
 * Move everything pending into sealed batches (at most MAX_BEATS_PER_BATCH beats each), in one
 * transaction: a beat is pending or in a batch, never both, never neither. Returns the batches made.
 */
export async function seal(strap = null) {
  return run(["pending", "batches"], "readwrite", async (tx) => {
    const pending = tx.objectStore("pending");
    const [keys, rows] = await Promise.all([promised(pending.getAllKeys()), promised(pending.getAll())]);
    if (!rows.length) return 0;
    let made = 0;
    let current = null;
    const flush = () => {
      if (current && (current.doc.beats.length || current.doc.gaps.length)) {
        tx.objectStore("batches").add(current);
        made += 1;
      }
      current = null;
    };
    for (const row of rows) {
      if (current && (current.readingId !== row.readingId
        || current.doc.beats.length + row.beats.length > MAX_BEATS_PER_BATCH
        || current.doc.gaps.length + row.gaps.length > MAX_GAPS_PER_BATCH)) flush();
      if (!current) {
        current = {
          readingId: row.readingId,
          sealedMs: Date.now(),
          doc: { batch_id: crypto.randomUUID(), beats: [], gaps: [], strap },
        };
      }
      for (const [t, r] of row.beats) current.doc.beats.push({ t_ms: t, rr_ticks: r });
      for (const [s, e] of row.gaps) current.doc.gaps.push({ start_ms: s, end_ms: e });
    }
    flush();
    pending.delete(IDBKeyRange.bound(keys[0], keys[keys.length - 1]));
    return made;
  });
}

/** Sealed batches in the order they were sealed. */
export async function batches() {
  return run(["batches"], "readonly", (tx) => promised(tx.objectStore("batches").getAll()));
}

/** The server acknowledged the batch: forget it. */
export async function acknowledge(seq) {
  await run(["batches"], "readwrite", async (tx) => { tx.objectStore("batches").delete(seq); });
}

/** Beats not yet acknowledged, pending and sealed, per reading id: {count, byReading}. */
export async function unsentBeats() {
  return run(["pending", "batches"], "readonly", async (tx) => {
    const [pending, sealed] = await Promise.all([
      promised(tx.objectStore("pending").getAll()), promised(tx.objectStore("batches").getAll())]);
    const byReading = {};
    let count = 0;
    for (const p of pending) { byReading[p.readingId] = (byReading[p.readingId] || 0) + p.beats.length; count += p.beats.length; }
    for (const b of sealed) { byReading[b.readingId] = (byReading[b.readingId] || 0) + b.doc.beats.length; count += b.doc.beats.length; }
    return { count, byReading };
  });
}

export async function putReading(reading) {
  await run(["readings"], "readwrite", async (tx) => { tx.objectStore("readings").put(reading); });
}

export async function getReading(id) {
  return run(["readings"], "readonly", (tx) => promised(tx.objectStore("readings").get(id)));
}

/** Every reading kept on this device, newest first. */
export async function readings() {
  const all = await run(["readings"], "readonly", (tx) => promised(tx.objectStore("readings").getAll()));
  return all.sort((a, b) => b.startedMs - a.startedMs);
}
