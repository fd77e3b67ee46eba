// One guided morning reading in the browser: the strap's packets parsed (hrm.js), timed (clock.js),
// written to the outbox (outbox.js) before anything else, then shown live (heart rate, RMSSD of the
// last minute, sensor contact, time left). The verdict is the server's (analysis.reading), fetched by
// uploader.js once the beats are in. One reading per page (readingController()).

import { MalformedPacket, parseHeartRateMeasurement, ticksToMs } from "./hrm.js";
import { BeatClock } from "./clock.js";
import { profileFor } from "./quirks.js";
import * as outbox from "./outbox.js";
import { uploader } from "./uploader.js";

/** Length of the guided reading, s. */
export const READING_S = 300;
/** Live RMSSD is taken over the beats of the last this-many ms (display only, never stored). */
export const LIVE_RMSSD_SPAN_MS = 60000;
/** Fewest successive differences before a live RMSSD is shown. */
export const LIVE_RMSSD_MIN_PAIRS = 10;
/** How often the outbox is sealed and sent while recording, ms. */
export const SEND_EVERY_MS = 15000;

/** RMSSD (ms) of successive RR pairs not split by a gap; null with too few pairs. */
export function liveRmssd(beats, minPairs = LIVE_RMSSD_MIN_PAIRS) {
  let sum = 0;
  let n = 0;
  for (let i = 1; i < beats.length; i += 1) {
    if (beats[i].afterGap) continue;
    const d = ticksToMs(beats[i].rrTicks) - ticksToMs(beats[i - 1].rrTicks);
    sum += d * d;
    n += 1;
  }
  return n >= minPairs ? Math.sqrt(sum / n) : null;
}

class ReadingController extends EventTarget {
  constructor() {
    super();
    this.reset();
  }

  reset() {
    this.link = null;
    this.patientId = null;
    this.reading = null;
    this.clock = null;
    this.phase = "idle"; // idle | connecting | ready | recording | finished
    this.linkState = "closed";
    this.heartRateBpm = null;
    this.contact = null;
    this.recent = [];
    this.beatsWritten = 0;
    this.malformed = 0;
    this.error = null;
    this.writes = Promise.resolve();
    this.ticker = null;
    this.sender = null;
  }

  changed() {
    this.dispatchEvent(new Event("change"));
  }

  /** Use a chosen strap (StrapLink) for `patientId`: connect; live values show before the reading. */
  async attach(link, patientId) {
    if (this.link) this.link.close();
    this.link = link;
    this.patientId = patientId;
    this.phase = "connecting";
    this.error = null;
    link.addEventListener("state", (e) => this.onLinkState(e.detail));
    link.addEventListener("packet", (e) => this.onPacket(e.detail));
    link.addEventListener("error", (e) => { this.error = e.detail.message; this.changed(); });
    this.changed();
    try {
      await link.open();
    } catch (err) {
      this.phase = "idle";
      this.error = err.message;
      this.link = null;
      this.changed();
      throw err;
    }
  }

  onLinkState(state) {
    this.linkState = state;
    const now = Date.now();
    if (state === "connected") {
      if (this.phase === "connecting") this.phase = "ready";
      if (this.clock) this.clock.onConnect(now / 1000, profileFor(null, null, this.link.name));
    } else if (state === "reconnecting" && this.clock) {
      this.clock.onDisconnect(now / 1000);
      this.contact = null;
    }
    this.changed();
  }

  /** Start the still reading (the strap is connected). */
  async start() {
    if (this.phase !== "ready" && this.phase !== "finished") return;
    const startedMs = Date.now();
    this.reading = {
      id: crypto.randomUUID(), patientId: this.patientId, startedMs, endedMs: null,
      plannedS: READING_S, uploaded: false, verdict: null,
    };
    await outbox.putReading(this.reading);
    this.clock = new BeatClock(profileFor(null, null, this.link.name), { resumeAfterMs: await outbox.getMeta("lastBeatMs") });
    this.clock.onConnect(startedMs / 1000);
    this.recent = [];
    this.beatsWritten = 0;
    this.phase = "recording";
    clearInterval(this.ticker);
    this.ticker = setInterval(() => this.tick(), 1000);
    clearInterval(this.sender);
    this.sender = setInterval(() => { uploader().start(this.patientId); }, SEND_EVERY_MS);
    this.changed();
  }

  /** Seconds left of the reading (0 when done). */
  secondsLeft(nowMs = Date.now()) {
    if (!this.reading) return READING_S;
    return Math.max(0, Math.ceil((this.reading.startedMs + this.reading.plannedS * 1000 - nowMs) / 1000));
  }

  tick() {
    if (this.phase === "recording" && this.secondsLeft() === 0) this.finish();
    else this.changed();
  }

  onPacket({ value, wallMs }) {
    let m;
    try {
      m = parseHeartRateMeasurement(value);
    } catch (err) {
      if (!(err instanceof MalformedPacket)) throw err;
      this.malformed += 1;
      return;
    }
    const recording = this.phase === "recording"
      && wallMs < this.reading.startedMs + this.reading.plannedS * 1000;
    if (!recording) {
      this.heartRateBpm = m.heartRateBpm;
      this.contact = m.sensorContact;
      this.changed();
      return;
    }
    const out = this.clock.onNotification(m, wallMs / 1000);
    const readingId = this.reading.id;
    // the outbox first: only what is written is shown and counted
    this.writes = this.writes.then(() => outbox.addBeats(readingId, out.beats, out.gaps)).then(() => {
      this.beatsWritten += out.beats.length;
      this.heartRateBpm = m.heartRateBpm;
      this.contact = out.contact;
      for (const [i, b] of out.beats.entries()) this.recent.push({ ...b, afterGap: i === 0 && out.gaps.length > 0 });
      const since = wallMs - LIVE_RMSSD_SPAN_MS;
      while (this.recent.length && this.recent[0].tMs < since) this.recent.shift();
      this.changed();
    }, (err) => {
      this.error = `Could not save beats on this device: ${err.message}`;
      this.changed();
    });
  }

  get rmssdMs() {
    return liveRmssd(this.recent);
  }

  /** End the reading at its planned length: the reading is kept in the outbox and sent. */
  async finish() {
    if (this.phase !== "recording") return;
    clearInterval(this.ticker);
    clearInterval(this.sender);
    this.phase = "finished";
    await this.writes;
    this.reading.endedMs = this.reading.startedMs + this.reading.plannedS * 1000;
    await outbox.putReading(this.reading);
    if (this.link) this.link.close();
    this.link = null;
    this.changed();
    uploader().start(this.patientId);
  }

  /** Stop before the end: the beats so far stay in the outbox; no verdict is asked for. */
  async cancel() {
    clearInterval(this.ticker);
    clearInterval(this.sender);
    await this.writes;
    if (this.link) this.link.close();
    const patientId = this.patientId;
    this.reset();
    this.changed();
    if (patientId) uploader().start(patientId);
  }
}

let instance = null;
/** The page's one reading (kept across re-renders of the patient page). */
export function readingController() {
  if (!instance) instance = new ReadingController();
  return instance;
}
