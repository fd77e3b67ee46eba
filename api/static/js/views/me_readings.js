// Patient page section: their recent readings against their usual range and the signal quality, in words,
// with a simple chart; no clinician statistics (those are on the therapist's pages).

import { get } from "../api.js";
import { plainTrendChart } from "../charts.js";
import { addDays, formatDay, today } from "../dates.js";
import { add, dataTable, details, h } from "../dom.js";
import { fillDays, normalizeDaily } from "../model.js";
import { POSITION_WORDS, QUALITY_WORDS, RECENT_DAYS, dayKind, grade, qualitySentence, recentReadings } from "../plain.js";

/** Days of history the section draws at most, and days shown before the first reading. */
const SHOWN_DAYS = 42;
const AXIS_LEAD_DAYS = 2;

const KIND_WORDS = {
  good: QUALITY_WORDS.good,
  fair: "some disturbance",
  unusable: "too disturbed or too short to use",
  none: QUALITY_WORDS.none,
};

function positionOfDay(row) {
  if (!row || row.rolling7d === null || row.bandLow === null || row.bandHigh === null) return "unknown";
  if (row.rolling7d > row.bandHigh) return "above";
  if (row.rolling7d < row.bandLow) return "below";
  return "within";
}

export async function readingsSection({ patient }) {
  const tz = patient.timezone || "UTC";
  const todayDay = today(tz);
  const first = addDays(todayDay, -(SHOWN_DAYS - 1));
  const rows = ((await get(`/v1/patients/${patient.id}/daily`, {
    start: `${first}T00:00:00Z`, end: `${addDays(todayDay, 1)}T00:00:00Z`,
  })) || []).map(normalizeDaily).sort((a, b) => a.day.localeCompare(b.day));
  const summary = recentReadings(rows, todayDay);
  const section = h("section", { class: "card wide readings", id: "readings", "aria-labelledby": "readings-title" },
    h("h2", { id: "readings-title", text: "Your recent readings" }));
  if (!rows.some((r) => r.lnRmssd !== null)) {
    section.append(h("p", { id: "readings-summary", text: "No readings yet. Once your strap has sent a morning reading, this page compares your recent readings with your usual range." }));
    return section;
  }
  const lead = summary.position === "unknown"
    ? summary.baselineReady
      ? `There are too few readings in the last ${RECENT_DAYS} days to compare them with your usual range.`
      : "Your usual range comes from your readings before your first medicine session, and there are not enough of them yet to know it."
    : `Over the last ${RECENT_DAYS} days, your readings were ${POSITION_WORDS[summary.position]}.`;
  add(section,
    h("p", { class: `readings-lead position-${summary.position}`, id: "readings-summary", text: lead }),
    h("p", { id: "readings-quality", text: `Signal over the last ${RECENT_DAYS} days: ${qualitySentence(summary.counts)}` }),
    summary.counts.fair + summary.counts.unusable >= 3
      ? h("p", { class: "notice notice-warn", id: "readings-signal-tip", text: "Several readings had a disturbed signal. Wetting the strap's electrodes, wearing it snugly and keeping still for the five minutes usually helps." })
      : null,
    h("p", { class: "muted small", text: "Each morning reading measures how much your heartbeat varies while you rest. Higher usually goes with rest and recovery, lower with stress, illness, alcohol or a short night. Readings go up and down from day to day, so the average of the last 7 days is compared with your usual range. This is not a diagnosis; talk about it with your therapist." }));
  // The chart starts shortly before the first reading, not at an empty stretch.
  const firstReading = rows.find((r) => r.lnRmssd !== null || r.wearHours > 0);
  const chartFirst = firstReading ? [addDays(firstReading.day, -AXIS_LEAD_DAYS), first].sort()[1] : first;
  const days = fillDays(rows.filter((r) => r.day >= chartFirst), chartFirst, todayDay);
  const chart = plainTrendChart({ days });
  chart.id = "readings-chart";
  section.append(chart,
    h("p", { class: "muted small chart-key", text: "Higher on the chart means more at rest. The line is your 7-day average, the green band your usual range, the dots single mornings." }),
    details("Your readings day by day (table)", dataTable(
    "Your readings day by day",
    ["Day", "Last 7 days compared with your usual range", "Signal"],
    [...rows].reverse().filter((r) => r.day < todayDay).map((r) => [
      formatDay(r.day), POSITION_WORDS[positionOfDay(r)], KIND_WORDS[dayKind(r)] || QUALITY_WORDS[grade(r.quality)],
    ]), { id: "readings-table" })));
  return section;
}
