// Patient page section: their recent readings against their usual range and the signal quality, in plain
// words, with a simple chart. The facts are the therapist's (the server's badge, band and day grades of
// GET /timeline); only the words differ, and no clinician statistics are shown.

import { get } from "../api.js";
import { plainTrendChart } from "../charts.js";
import { addDays, formatDate, formatDay, today } from "../dates.js";
import { add, dataTable, details, h } from "../dom.js";
import { fillDays, normalizeTimeline } from "../model.js";
import { POSITION_WORDS, RECENT_DAYS, dayKind, qualitySentence, recentCounts } from "../plain.js";

/** Days of history the section draws at most, and days shown before the first reading. */
const SHOWN_DAYS = 42;
const AXIS_LEAD_DAYS = 2;

const KIND_WORDS = {
  good: "clear signal",
  fair: "some disturbance in the signal",
  unusable: "too disturbed to use",
  other: "not a morning reading",
  none: "no reading",
  today: "today: still being recorded",
};

/** The lead sentence: the badge in words, or why there is none yet. */
export function leadSentence(band, badge) {
  if (!band.ok) {
    const missing = Math.max(0, band.neededDays - band.nDays);
    return band.provisional || missing > 0
      ? `Your usual range comes from your morning readings before your first medicine session. It needs ${band.neededDays} of them; ${band.nDays === 0 ? "none is" : `${band.nDays} ${band.nDays === 1 ? "is" : "are"}`} usable so far.`
      : "Your usual range cannot be worked out from your readings yet.";
  }
  if (!badge.position) {
    return `There are too few usable readings in the last ${RECENT_DAYS} days to compare them with your usual range.`;
  }
  return `Over the last ${RECENT_DAYS} days, your readings were ${POSITION_WORDS[badge.position]}.`;
}

/** How the usual range was found, in words (from the server's band). */
function rangeSentence(band) {
  if (!band.ok) return null;
  const times = band.level ? Math.round(band.level * 10) : 9;
  return `Your usual range comes from ${band.nDays} mornings before your first medicine session: back then, the average of 7 mornings stayed inside it ${times} times out of 10.${band.provisional ? " It is still being learned: your first medicine session is ahead." : ""}`;
}

export async function readingsSection({ patient }) {
  const tz = patient.timezone || "UTC";
  const localToday = today(tz);
  const timeline = normalizeTimeline((await get(`/v1/patients/${patient.id}/timeline`, {
    start: `${addDays(localToday, -SHOWN_DAYS)}T00:00:00Z`, end: `${addDays(localToday, 2)}T00:00:00Z`,
  })) || {});
  const todayDay = timeline.today || localToday;
  const first = addDays(todayDay, -(SHOWN_DAYS - 1));
  const rows = timeline.daily.filter((r) => r.day >= first && r.day <= todayDay).sort((a, b) => a.day.localeCompare(b.day));
  const section = h("section", { class: "card wide readings", id: "readings", "aria-labelledby": "readings-title" },
    h("h2", { id: "readings-title", text: "Your recent readings" }));
  if (!rows.some((r) => r.lnRmssd !== null)) {
    add(section, h("p", { id: "readings-summary", text: "No readings yet. Once your strap has sent a morning reading, this page compares your recent readings with your usual range." }));
    return section;
  }
  const counts = recentCounts(rows, todayDay);
  add(section,
    h("p", { class: `readings-lead position-${timeline.badge.position || "unknown"}`, id: "readings-summary",
      text: leadSentence(timeline.band, timeline.badge) }),
    h("p", { id: "readings-quality", text: `Signal over the last ${RECENT_DAYS} days: ${qualitySentence(counts)}` }),
    counts.fair + counts.unusable >= 3
      ? h("p", { class: "notice notice-warn", id: "readings-signal-tip", text: "Several readings had a disturbed signal. Wetting the strap's electrodes, wearing it snugly and keeping still for the five minutes usually helps." })
      : null,
    h("p", { class: "muted small", text: "Each morning reading measures how much your heartbeat varies while you rest. Higher usually goes with rest and recovery, lower with stress, illness, alcohol or a short night. Readings go up and down from day to day, so the average of the last 7 days is compared with your usual range. This is not a diagnosis; talk about it with your therapist." }),
    rangeSentence(timeline.band) ? h("p", { class: "muted small", id: "readings-range", text: rangeSentence(timeline.band) }) : null);
  // The chart starts shortly before the first reading, not at an empty stretch.
  const firstReading = rows.find((r) => r.lnRmssd !== null || r.wearHours > 0);
  const chartFirst = firstReading ? [addDays(firstReading.day, -AXIS_LEAD_DAYS), first].sort()[1] : first;
  const days = fillDays(rows.filter((r) => r.day >= chartFirst), chartFirst, todayDay);
  const chart = plainTrendChart({ days });
  chart.id = "readings-chart";
  add(section, chart,
    h("p", { class: "muted small chart-key", text: "Higher on the chart means more at rest. The line is your 7-day average, the green band your usual range, the dots single mornings (hollow: some disturbance; days too disturbed to use are left out)." }),
    details("Your readings day by day (table)", dataTable(
      "Your readings day by day",
      ["Day", "Last 7 days compared with your usual range", "Signal"],
      [...rows].reverse().map((r) => [
        formatDay(r.day),
        r.bandPosition ? POSITION_WORDS[r.bandPosition] : POSITION_WORDS.unknown,
        KIND_WORDS[dayKind(r, todayDay)],
      ]), { id: "readings-table", stack: true })),
    h("p", { class: "muted small", text: `Days are counted in your time zone (${tz}); today, ${formatDate(todayDay)}, counts once it is over.` }));
  return section;
}
