// Strap quirks and the wire contract's RR bounds: which RR values are real beats, when the
// contact bit is trusted. The page's twin of collector/quirks.py (same profiles, same filters,
// checked by tests/data/beat_clock_vectors.json); beat timing is clock.js.

import { RR_TICKS_PER_S, ticksToMs } from "./hrm.js";

/** Shortest RR interval that is a beat (ms): 300 bpm (wire/bounds.py RR_MIN_MS). */
export const RR_MIN_MS = 200.0;
/** Longest RR interval that is a beat (ms): 20 bpm (wire/bounds.py RR_MAX_MS). */
export const RR_MAX_MS = 3000.0;
export const RR_MIN_TICKS = Math.ceil((RR_MIN_MS * RR_TICKS_PER_S) / 1000);
export const RR_MAX_TICKS = Math.floor((RR_MAX_MS * RR_TICKS_PER_S) / 1000);
/** Garmin HRM-Dual's trailing bogus RR values are at or below this (firmware_notes/garmin-hrm-dual-pro.md). */
export const HRM_DUAL_BOGUS_RR_MAX_MS = 150.0;

function profile(key, displayName, extra = {}) {
  return Object.freeze({
    key, displayName, contactSettleS: 0, dropTrailingShortRr: false, rrSource: "ecg", ...extra,
  });
}

export const GENERIC = profile("generic", "Generic Heart Rate Service strap");
export const POLAR_H10 = profile("polar-h10", "Polar H10", { contactSettleS: 2.0 });
export const POLAR_H9 = profile("polar-h9", "Polar H9", { contactSettleS: 2.0 });
export const GARMIN_HRM_DUAL = profile("garmin-hrm-dual-pro", "Garmin HRM-Dual", { dropTrailingShortRr: true });
export const GARMIN_HRM_PRO = profile("garmin-hrm-dual-pro", "Garmin HRM-Pro");
export const WAHOO_TICKR = profile("wahoo-tickr", "Wahoo TICKR");
export const COOSPO = profile("coospo-h808s-h6", "Coospo H808S / H6");
export const MOVESENSE = profile("movesense", "Movesense");
export const OPTICAL = profile("optical-sensors", "Optical sensor (Polar OH1 / Verity Sense)", { rrSource: "optical" });

const MATCHERS = [
  [["verity", "oh1", "polar sense"], OPTICAL],
  [["h10"], POLAR_H10],
  [["h9"], POLAR_H9],
  [["hrm-dual", "hrm dual", "hrmdual"], GARMIN_HRM_DUAL],
  [["hrm-pro", "hrm pro", "hrmpro"], GARMIN_HRM_PRO],
  [["tickr"], WAHOO_TICKR],
  [["coospo", "h808s", "h6m"], COOSPO],
  [["movesense"], MOVESENSE],
];

/** The strap profile from Device Information strings and the advertised name (else GENERIC). */
export function profileFor(manufacturer, model, name) {
  const haystack = [manufacturer, model, name].filter(Boolean).join(" ").toLowerCase();
  if (haystack.includes("coospo")) return COOSPO;
  for (const [needles, p] of MATCHERS) {
    if (needles.some((n) => haystack.includes(n))) return p;
  }
  return GENERIC;
}

export function isPlausibleRrMs(rrMs) {
  return RR_MIN_MS <= rrMs && rrMs <= RR_MAX_MS;
}

/** Keep the RR values of one notification that can be real beats: {rrTicks, dropped, reasons}. */
export function filterRr(p, rrTicks) {
  const values = [...rrTicks];
  const reasons = [];
  if (p.dropTrailingShortRr && values.length >= 2 && ticksToMs(values[values.length - 1]) <= HRM_DUAL_BOGUS_RR_MAX_MS) {
    reasons.push(`trailing bogus RR ${values[values.length - 1]} ticks (${p.displayName})`);
    values.pop();
  }
  const kept = [];
  for (const ticks of values) {
    if (isPlausibleRrMs(ticksToMs(ticks))) kept.push(ticks);
    else reasons.push(`impossible RR ${ticks} ticks (${ticksToMs(ticks).toFixed(1)} ms)`);
  }
  return { rrTicks: kept, dropped: reasons.length, reasons };
}

/** Sensor contact as the user should see it: null while the strap's bit is not yet trusted. */
export function effectiveContact(p, measurement, secondsSinceConnect) {
  if (secondsSinceConnect < p.contactSettleS) return null;
  return measurement.sensorContact;
}
