// Beat-time reconstruction: turns timestamp-less RR lists from notifications into beat times.
// The page's twin of collector/beats.py (firmware_notes/beat-time-reconstruction.md): one
// continuous beat clock per strap, slewed toward the wall clock, never reordered; gaps are
// recorded, never filled. tests/data/beat_clock_vectors.json holds the Python clock's output and
// this clock must reproduce it exactly. Parsing is hrm.js, strap filters quirks.js.

import { ticksToMs } from "./hrm.js";
import { GENERIC, effectiveContact, filterRr } from "./quirks.js";

export const DEFAULT_GAIN_LATE = 0.02;
export const DEFAULT_GAIN_EARLY = 0.2;
export const DEFAULT_MAX_SLEW = 0.02;
export const DEFAULT_JUMP_MS = 2500.0;

/** Python's round(): nearest integer, ties to even (the beat clock must round like collector/beats.py). */
export function roundHalfEven(x) {
  const f = Math.floor(x);
  const d = x - f;
  if (d > 0.5) return f + 1;
  if (d < 0.5) return f;
  return f % 2 === 0 ? f : f + 1;
}

function sum(values) {
  let total = 0;
  for (const v of values) total += v;
  return total;
}

export class BeatClock {
  /**
   * @param {object} profile strap profile from quirks.js
   * @param {object} options resumeAfterMs (last stored beat, epoch ms), gainLate, gainEarly, maxSlew, jumpMs
   */
  constructor(profile = GENERIC, {
    resumeAfterMs = null, gainLate = DEFAULT_GAIN_LATE, gainEarly = DEFAULT_GAIN_EARLY,
    maxSlew = DEFAULT_MAX_SLEW, jumpMs = DEFAULT_JUMP_MS,
  } = {}) {
    this.profile = profile;
    this.gainLate = gainLate;
    this.gainEarly = gainEarly;
    this.maxSlew = maxSlew;
    this.jumpMs = jumpMs;
    this.lastPosMs = resumeAfterMs === null ? null : Number(resumeAfterMs);
    this.lastBeatMs = resumeAfterMs;
    this.needsAnchor = true;
    this.connected = false;
    this.connectWallS = null;
    this.lastErrorMs = 0.0;
  }

  /** Start of a connection at wallS (epoch s); the next notification re-anchors. */
  onConnect(wallS, profile = null) {
    if (profile) this.profile = profile;
    this.connected = true;
    this.connectWallS = wallS;
    this.needsAnchor = true;
  }

  /** The link dropped: beats until the next anchor are unknown (a gap). */
  onDisconnect(_wallS) {
    this.connected = false;
    this.needsAnchor = true;
  }

  /**
   * Place the RR values of one parsed notification that arrived at wallS (epoch s).
   * Returns {beats: [{tMs, rrTicks}], gaps: [{startMs, endMs}], dropped, contact}.
   */
  onNotification(m, wallS) {
    if (!this.connected) this.onConnect(wallS);
    const sinceConnectS = wallS - (this.connectWallS !== null ? this.connectWallS : wallS);
    const filtered = filterRr(this.profile, m.rrTicks);
    const out = { beats: [], gaps: [], dropped: filtered.dropped, contact: effectiveContact(this.profile, m, sinceConnectS) };
    if (!filtered.rrTicks.length) return out;
    const rrMs = filtered.rrTicks.map(ticksToMs);
    const spanMs = sum(rrMs);
    const arrivalMs = wallS * 1000.0;

    let gapFromMs = null;
    let positions;
    if (this.needsAnchor || this.lastPosMs === null) {
      gapFromMs = this.lastBeatMs;
      positions = this.anchor(arrivalMs, rrMs);
    } else {
      const errorMs = arrivalMs - (this.lastPosMs + spanMs);
      this.lastErrorMs = errorMs;
      if (errorMs > this.jumpMs) {
        gapFromMs = this.lastBeatMs;
        positions = this.anchor(arrivalMs, rrMs);
      } else {
        const limit = this.maxSlew * spanMs;
        const gain = errorMs >= 0 ? this.gainLate : this.gainEarly;
        const correction = Math.max(-limit, Math.min(limit, gain * errorMs));
        const scale = 1.0 + correction / spanMs;
        positions = [];
        let pos = this.lastPosMs;
        for (const r of rrMs) {
          pos += r * scale;
          positions.push(pos);
        }
      }
    }
    this.needsAnchor = false;
    let lastT = this.lastBeatMs;
    filtered.rrTicks.forEach((ticks, i) => {
      let tMs = roundHalfEven(positions[i]);
      if (lastT !== null && tMs <= lastT) tMs = lastT + 1;
      out.beats.push({ tMs, rrTicks: ticks });
      lastT = tMs;
    });
    if (gapFromMs !== null) out.gaps.push({ startMs: gapFromMs, endMs: out.beats[0].tMs });
    this.lastPosMs = positions[positions.length - 1];
    this.lastBeatMs = lastT;
    return out;
  }

  anchor(arrivalMs, rrMs) {
    let start = arrivalMs - sum(rrMs);
    if (this.lastPosMs !== null && start < this.lastPosMs) start = this.lastPosMs;
    this.lastErrorMs = 0.0;
    const positions = [];
    let pos = start;
    for (const r of rrMs) {
      pos += r;
      positions.push(pos);
    }
    return positions;
  }
}
