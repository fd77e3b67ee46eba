// Plain words for the patient's own page: where their recent readings sit against their usual range, and
// how good the signal was, from the same daily values (and the same 7-day rule) the therapist's tables use.

/** Days the "recent readings" summary looks back over (the rolling mean's window). */
export const RECENT_DAYS = 7;

/** Grade of a daily or window quality string ("fair: artifact share 16.7 % > 5 %" → "fair"). */
export function grade(quality) {
  const text = String(quality || "").trim();
  if (!text) return "none";
  const g = text.split(":")[0].trim();
  return ["good", "fair", "poor", "insufficient"].includes(g) ? g : "none";
}

/** What a grade means, in words for the patient. */
export const QUALITY_WORDS = {
  good: "clear signal",
  fair: "some disturbance in the signal (movement or a loose strap)",
  poor: "too disturbed to use",
  insufficient: "too short to use",
  none: "no reading",
};

/** Where a value sits against the usual range, in words for the patient. */
export const POSITION_WORDS = {
  above: "higher than your usual range",
  within: "within your usual range",
  below: "lower than your usual range",
  unknown: "not comparable yet",
};

/** How one day counts for the patient: "good", "fair", "unusable" (poor or too short) or "none". */
export function dayKind(row) {
  if (!row) return "none";
  const g = grade(row.quality);
  if (g === "none" || /no recording/.test(String(row.quality))) return "none";
  if (g === "poor" || g === "insufficient" || row.lnRmssd === null) return "unusable";
  return g === "good" ? "good" : "fair";
}

/**
 * Summary of the last RECENT_DAYS complete days before `todayDay` (today is still being recorded).
 * `days`: normalised daily rows (model.js normalizeDaily) sorted by day.
 * Returns {position, counts: {good, fair, unusable, none}, band, rolling, lastDay, baselineReady}.
 */
export function recentReadings(days, todayDay) {
  const byDay = new Map(days.map((d) => [d.day, d]));
  const counts = { good: 0, fair: 0, unusable: 0, none: 0 };
  const recent = [];
  for (let i = RECENT_DAYS; i >= 1; i -= 1) {
    const day = shiftDay(todayDay, -i);
    const row = byDay.get(day) || null;
    recent.push({ day, row });
    const kind = dayKind(row);
    counts[kind] += 1;
  }
  const last = [...recent].reverse().find((r) => r.row && r.row.rolling7d !== null) || null;
  const band = last && last.row.bandLow !== null && last.row.bandHigh !== null
    ? { low: last.row.bandLow, high: last.row.bandHigh } : null;
  let position = "unknown";
  if (last && band) {
    const v = last.row.rolling7d;
    position = v > band.high ? "above" : v < band.low ? "below" : "within";
  }
  return { position, counts, band, rolling: last ? last.row.rolling7d : null, lastDay: last ? last.day : null,
    baselineReady: days.some((d) => d.bandLow !== null && d.bandHigh !== null) };
}

/** "5 days with a clear signal, 1 with some disturbance, 1 without a reading" (zero counts left out). */
export function qualitySentence(counts) {
  const parts = [];
  const days = (n) => (n === 1 ? "1 day" : `${n} days`);
  if (counts.good) parts.push(`${days(counts.good)} with a clear signal`);
  if (counts.fair) parts.push(`${days(counts.fair)} with some disturbance in the signal`);
  if (counts.unusable) parts.push(`${days(counts.unusable)} too disturbed or too short to use`);
  if (counts.none) parts.push(`${days(counts.none)} without a reading`);
  return parts.length ? `${parts.join(", ")}.` : "No days yet.";
}

function shiftDay(day, n) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}
