// Plain words for the patient's own page, from the same facts the therapist's tables show: the server's
// grade of each day, whether it counts, the badge (7-day mean against the band) and the period states.

/** Days the "recent readings" summary looks back over (the rolling mean's window). */
export const RECENT_DAYS = 7;

/** Where a 7-day mean sits against the usual range, in words for the patient. */
export const POSITION_WORDS = {
  above: "higher than your usual range",
  within: "within your usual range",
  below: "lower than your usual range",
  unknown: "not comparable yet",
};

/**
 * How one day counts for the patient: "good" or "fair" (a usable reading), "unusable" (poor signal or too
 * short), "other" (recorded, but not the kind of reading that counts), "none", or "today".
 */
export function dayKind(row, todayDay = null) {
  if (!row) return "none";
  if (todayDay && row.day >= todayDay) return "today";
  if (row.counted) return row.grade === "good" ? "good" : "fair";
  if (row.grade === "poor") return "unusable";
  if (row.lnRmssd !== null && (row.grade === "good" || row.grade === "fair")) return "other";
  if (row.grade === "insufficient" && (row.wearHours > 0 || row.lnRmssd !== null)) return "unusable";
  return "none";
}

/** Counts of the kinds of the RECENT_DAYS complete days before `todayDay`. */
export function recentCounts(rows, todayDay) {
  const byDay = new Map(rows.map((d) => [d.day, d]));
  const counts = { good: 0, fair: 0, unusable: 0, other: 0, none: 0 };
  for (let i = RECENT_DAYS; i >= 1; i -= 1) {
    counts[dayKind(byDay.get(shiftDay(todayDay, -i)) || null, todayDay)] += 1;
  }
  return counts;
}

/** "5 days with a clear signal, 1 with some disturbance, 1 without a reading" (zero counts left out). */
export function qualitySentence(counts) {
  const parts = [];
  const days = (n) => (n === 1 ? "1 day" : `${n} days`);
  if (counts.good) parts.push(`${days(counts.good)} with a clear signal`);
  if (counts.fair) parts.push(`${days(counts.fair)} with some disturbance in the signal`);
  if (counts.unusable) parts.push(`${days(counts.unusable)} too disturbed or too short to use`);
  if (counts.other) parts.push(`${days(counts.other)} without a morning reading`);
  if (counts.none) parts.push(`${days(counts.none)} without a reading`);
  return parts.length ? `${parts.join(", ")}.` : "No days yet.";
}

/**
 * One period after a medicine session in words, from its state (as the therapist's session card has it):
 * a change the model is sure of, no clear change, still running, not begun, no days (the next session
 * came first), or cannot tell yet (and whether the usual range or the period lacks readings).
 */
export function periodWords(period) {
  if (period.state === "verdict") {
    if (period.flagged && period.direction === "higher") return "higher than before the session";
    if (period.flagged && period.direction === "lower") return "lower than before the session";
    return "no clear change from before the session";
  }
  if (period.state === "in_progress") return "still being measured";
  if (period.state === "not_reached") return "not begun yet";
  if (!period.nPossible) return "no days: your next medicine session came first";
  if ((period.reason || "").includes("baseline")) {
    return "cannot tell yet: your usual range needs more usable readings from before your first session";
  }
  return "cannot tell yet: too few usable readings";
}

function shiftDay(day, n) {
  const [y, m, d] = day.split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d + n)).toISOString().slice(0, 10);
}
