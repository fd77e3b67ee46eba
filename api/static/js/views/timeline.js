// One patient's timeline: daily ln RMSSD drawn by quality with its 7-day mean and normal band, HR and
// stress index, sessions and plasticity windows, journal pins, integration flags and per-session cards
// (each period's state, verdict, quality and the smallest change its days could show).

import { get } from "../api.js";
import { dailyTrendChart, dailyVitalsChart } from "../charts.js";
import { dataTable, details, fmt, h, mount, signed } from "../dom.js";
import {
  INTEGRATION_WITHIN_DAYS, addDays, fillDays, formatDateTime, formatDay, localDay, medicineSessions,
  normalizeIntegration, poorDays,
} from "../model.js";
import { formatDayRange } from "../dates.js";
import { loadSymptoms, symptomCardSection, symptomPanel } from "../symptoms.js";
import { patientHeader } from "./patient_tabs.js";
import { loadTimeline } from "./patients.js";

export const RANGES = [28, 42, 90, 180, 365];
const DEFAULT_RANGE_DAYS = 90;
/** Days shown before the first data point of the range. */
const AXIS_LEAD_DAYS = 2;

function rangeFromHash() {
  const value = Number(sessionStorage.getItem("somatrace.range_days"));
  return RANGES.includes(value) ? value : DEFAULT_RANGE_DAYS;
}

export async function loadIntegration(patientId, sessionId) {
  return normalizeIntegration((await get(`/v1/patients/${patientId}/sessions/${sessionId}/integration`)) || {});
}

/** The detail panel for a journal pin (hover, focus or tap): every note the pin groups. */
function pinDetails(panel, entries, tz) {
  mount(panel,
    h("h3", { text: entries.length === 1 ? "Journal note" : `${entries.length} journal notes` }),
    entries.map((entry) => h("div", { class: "pin-entry" },
      h("p", { class: "muted small", text: formatDateTime(entry.at, tz) }),
      h("p", { class: "journal-text", text: entry.text || "(no text)" }),
      entry.tags.length ? h("p", {}, entry.tags.map((t) => h("span", { class: "tag", text: t }))) : null,
      h("p", { class: "muted small", text: `Mood ${entry.mood ?? "–"} / 10 · Body ${entry.body ?? "–"} / 10` }))));
  panel.hidden = false;
}

const pct = (share) => (share === null || share === undefined ? "–" : `${Math.round(share * 100)} %`);

/**
 * "11 of 11 days valid (needs 6) · 2 fair · artifacts 1 %": what a period or baseline rests on; a period
 * not begun has no valid days yet, only the days it will have and how many a verdict needs.
 */
export function daysText(nDays, nPossible, needed, nFair, artifactShare, state = null) {
  if (!nPossible) return "no days in this period";
  if (state === "not_reached") return `${nPossible} days ahead (a verdict needs ${needed} valid)`;
  const parts = [`${nDays} of ${nPossible} days valid${needed ? ` (needs ${needed})` : ""}`];
  if (nDays) parts.push(`${nFair} fair${nFair ? ` (${pct(nFair / nDays)})` : ""}`);
  if (artifactShare !== null && artifactShare !== undefined) parts.push(`artifacts ${pct(artifactShare)}`);
  return parts.join(" · ");
}

/** The verdict cell's words for each state: never a number that is not a verdict. */
export function verdictWords(period) {
  switch (period.state) {
    case "verdict":
      if (period.flagged) return `${period.direction === "lower" ? "▼ lower" : "▲ higher"} than baseline`;
      return `no change shown: with these ${period.nDays} days a change smaller than ±${fmt(period.mdc)} cannot be seen`;
    case "in_progress":
      return `under way: ${period.reason ? period.reason.replace(/^under way: /, "") : ""}`;
    case "not_reached":
      return period.reason || "not begun";
    default:
      return period.reason || "cannot tell yet";
  }
}

function periodRow(period) {
  const q = period.quality;
  const caveat = q.caveat ? h("div", { class: "caveat", text: `⚠ ${q.caveat}` }) : null;
  const days = h("td", { class: "days" },
    h("div", { text: daysText(period.nDays, period.nPossible, period.neededDays, q.nFair, q.artifactShare, period.state) }),
    period.nPossible ? h("div", { class: "muted small", text: formatDayRange(period.firstDay, period.lastDay) }) : null);
  const change = period.state === "verdict"
    ? h("td", { class: "num change" },
      h("span", { class: "diff", text: signed(period.diff) }),
      h("div", { class: "small" },
        h("span", { class: "ci", text: `${signed(period.ciLow)} to ${signed(period.ciHigh)}` }),
        h("span", { class: "muted", text: ` (${fmt(period.ciLevel * 100, 1)} % interval)` })),
      h("div", { class: "muted small mdc", text: `smallest visible change ±${fmt(period.mdc)}` }))
    : h("td", { class: "num change muted", text: "–" });
  const verdict = h("td", { class: `verdict state-${period.state}${period.flagged ? " flagged" : ""}` },
    h("span", { class: "state-label", text: verdictWords(period) }), caveat);
  return h("tr", { dataset: { period: period.key, state: period.state } },
    h("th", { scope: "row", text: period.label }), days, change, verdict);
}

/** "Baseline: 26 of 28 days valid (needs 10) · 3 fair · artifacts 1 % — level 4.02, SD 0.21". */
export function baselineText(base) {
  if (!base.ok) return `Baseline: cannot tell yet (${base.reason || "no baseline"})`;
  return `Baseline ${formatDayRange(base.firstDay, base.lastDay)}: ${daysText(base.nDays, base.nPossible, base.neededDays, base.nFair, base.artifactShare)}`
    + ` — level ${fmt(base.mean)} ± ${fmt(base.sd)} (day-to-day SD)${base.provisional ? ", still growing" : ""}`;
}

/** How the periods are judged, in one sentence for the card and the report. */
export function familyText(integration) {
  const alpha = Math.round((integration.family.alpha || 0.05) * 100);
  return `Each period is judged against the baseline level and its slow trend. The three periods are one family: `
    + `Holm-adjusted so that a person without change is flagged in any of them at most ${alpha} % of the time `
    + "(no period is primary). Today never counts; poor-signal days are left out.";
}

/** A per-session card: each period's state, days and quality, and the change against baseline. */
export function sessionCard(patientId, medicine, integration, tz, { reportLink = true, familyNote = true, symptoms = null } = {}) {
  const base = integration.baseline;
  const caveats = integration.periods.filter((p) => p.quality.caveat);
  return h("article", { class: "card session-card", dataset: { sessionId: medicine.id } },
    h("h3", { text: `Medicine session ${formatDateTime(medicine.startedAt, tz)}` }),
    medicine.missingIntegration
      ? h("p", { class: "flag", text: `⚠ No integration appointment within ${INTEGRATION_WITHIN_DAYS} days` })
      : h("p", { class: "muted", text: `Integration: ${formatDateTime(medicine.integration.startedAt, tz)}` }),
    h("p", { class: "small baseline-line", text: baselineText(base) }),
    caveats.length ? h("p", { class: "notice notice-warn caveat-note", role: "note",
      text: `⚠ Read with care: ${caveats.map((p) => `${p.label.toLowerCase()}: ${p.quality.caveat}`).join("; ")}.` }) : null,
    h("div", { class: "table-scroll", tabindex: "0" }, h("table", { class: "data-table periods" },
      h("caption", { class: "visually-hidden", text: "Change of ln RMSSD against baseline, per period" }),
      h("thead", {}, h("tr", {}, ["Period", "Days and quality", "Δ ln RMSSD", "Verdict"].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, integration.periods.map(periodRow)))),
    symptoms,
    familyNote ? h("p", { class: "muted small family-note", text: familyText(integration) }) : null,
    reportLink ? h("p", {}, h("a", { href: `#/patients/${patientId}/sessions/${medicine.id}/report`, class: "report-link", text: "Printable session report" })) : null);
}

/** The legend under the chart: point shapes, line, band (its definition comes from the server). */
function legendNote(timeline) {
  const band = timeline.band;
  return h("div", { class: "legend-note muted small", id: "trend-legend" },
    h("p", {},
      h("span", { class: "point-key point-good", "aria-hidden": "true", text: "●" }), " good quality  ",
      h("span", { class: "point-key point-fair", "aria-hidden": "true", text: "○" }), " fair quality  ",
      h("span", { class: "point-key point-other", "aria-hidden": "true", text: "◌" }), " not counted (today, or measured another way)",
      ". Poor-signal days are left out and listed below. Red line: 7-day mean of the days that count."),
    h("p", { id: "band-definition", text: band.ok
      ? `Green band: ${band.definition}. Baseline ${formatDayRange(band.firstDay, band.lastDay)}, ${band.nDays} of ${band.nPossible} days valid.`
      : `No band yet: ${band.reason || "no baseline"}.` }),
    h("p", { text: "Orange shading: days 1–14 after a medicine session (lighter to day 28). Empty stretches are days without wear. "
      + "✎ pins: journal entries (hover, focus or tap). Click a day to see its 5-minute windows." }));
}

/** Poor-signal days in the range: not drawn and not counted, so they are named here. */
function poorDaysNote(days, patientBase) {
  const poor = poorDays(days.filter((d) => !d.missing));
  if (!poor.length) return h("p", { class: "muted small", id: "poor-days", text: "No poor-signal days in this range." });
  return h("p", { class: "small", id: "poor-days" },
    `Poor-signal days, left out (${poor.length}): `,
    poor.map((d, i) => [i ? ", " : "", h("a", { href: `${patientBase}/day/${d.day}`, text: formatDay(d.day) })]));
}

const countsText = (d) => (d.counted ? "yes" : `no: ${d.exclusion || "no value"}`);

/**
 * Build the timeline section (charts, flags, tables) for a patient into a fragment.
 * `simplified` drops the vitals chart and the research-style cards for the patient's own view.
 */
export async function buildTimeline(patient, { simplified = false, isCurrent = () => true } = {}) {
  const tz = patient.timezone || "UTC";
  const rangeDays = rangeFromHash();
  const today = localDay(Date.now(), tz);
  const rangeStart = addDays(today, -(rangeDays - 1));
  const timeline = await loadTimeline(patient.id, rangeStart, today);
  if (!isCurrent()) return null;
  // Start the axis shortly before the first data or session in the range, not at an empty stretch.
  const known = [
    ...timeline.daily.filter((d) => d.wearHours > 0 || d.lnRmssd !== null).map((d) => d.day),
    ...timeline.sessions.map((s) => localDay(Date.parse(s.startedAt), tz)),
    ...timeline.journal.map((j) => localDay(Date.parse(j.at), tz)),
  ].filter((d) => d >= rangeStart).sort();
  const firstDay = known.length ? [addDays(known[0], -AXIS_LEAD_DAYS), rangeStart].sort()[1] : rangeStart;
  const days = fillDays(timeline.daily.filter((d) => d.day >= firstDay && d.day <= today), firstDay, today);
  const medicine = medicineSessions(timeline.sessions, tz);
  const integrations = timeline.sessions.filter((s) => s.kind === "integration");

  const section = h("section", { class: "timeline", "aria-label": "Timeline" });
  section.timeline = timeline;
  const rangeSelect = h("select", { id: "range", "aria-label": "Time range" },
    RANGES.map((n) => h("option", { value: String(n), selected: n === rangeDays, text: `last ${n} days` })));
  rangeSelect.addEventListener("change", () => {
    sessionStorage.setItem("somatrace.range_days", rangeSelect.value);
    window.dispatchEvent(new HashChangeEvent("hashchange"));
  });
  section.append(h("div", { class: "toolbar" },
    h("a", { href: `#/patients/${patient.id}/day/${today}`, id: "today-link", text: "Today (5-min windows, live beats)" }),
    h("label", { for: "range", text: "Show " }), rangeSelect));

  const missing = medicine.filter((m) => m.missingIntegration);
  if (missing.length && !simplified) {
    section.append(h("div", { class: "notice notice-warn", id: "integration-flags", role: "note" },
      missing.map((m) => h("p", { class: "flag", text: `⚠ No integration appointment within ${INTEGRATION_WITHIN_DAYS} days of the medicine session on ${formatDay(m.day)}${m.nextIntegration ? ` (the next one is ${m.nextIntegration.afterCalendarDays} days later)` : ""}.` }))));
  }

  const pinPanel = h("aside", { class: "pin-details card", id: "pin-details", "aria-live": "polite", hidden: true });
  const patientBase = `#/patients/${patient.id}`;
  const trend = dailyTrendChart({
    days, medicine, integrations, journal: timeline.journal, tz, simplified,
    onDay: (day) => { window.location.hash = `${patientBase}/day/${day}`; },
    onPin: (entries) => pinDetails(pinPanel, entries, tz),
  });
  trend.id = "daily-chart";
  section.append(
    h("h2", { text: "Daily regulation (ln RMSSD)" }),
    trend, legendNote(timeline), poorDaysNote(days, patientBase), pinPanel);
  // questionnaires beside physiology (therapist's view): the symptom panel on the same days
  const symptoms = simplified ? null : await loadSymptoms(patient.id, firstDay, today);
  if (!isCurrent()) return null;
  if (!simplified) {
    section.append(h("h2", { text: "Resting heart rate and stress index" }), dailyVitalsChart(days));
    section.append(symptomPanel({ days, responses: symptoms.responses, journal: timeline.journal,
      instruments: symptoms.instruments, medicine, tz }));
  }
  const withData = days.filter((d) => !d.missing);
  section.append(details("Numbers for these charts (table)", dataTable(
    `Daily values, ${formatDayRange(firstDay, today)} (${tz})`,
    ["Day", "Quality", "Counts", "ln RMSSD", "7-day mean (days)", "Band", "Resting HR", "Stress index", "Wear (h)", "Source"],
    withData.map((d) => [
      h("a", { href: `${patientBase}/day/${d.day}`, text: formatDay(d.day) }),
      h("span", { class: `grade grade-${d.grade}`, text: [d.grade, ...d.qualityNotes].join(": ") }),
      countsText(d),
      fmt(d.lnRmssd),
      d.rolling7d !== null ? `${fmt(d.rolling7d)} (${d.rollingDays} of 7, ${d.rollingFairDays} fair)` : "–",
      d.bandLow !== null ? `${fmt(d.bandLow)}–${fmt(d.bandHigh)} ${d.bandPosition || ""}`.trim() : "–",
      fmt(d.restingHr, 0), fmt(d.stressIndex, 1), fmt(d.wearHours, 1), d.source,
    ]), { id: "daily-table" })));

  const cards = h("div", { class: "cards", id: "session-cards" });
  section.append(h("h2", { text: "Medicine sessions: change against baseline" }), cards);
  if (!medicine.length) cards.append(h("p", { class: "muted", text: "No medicine session recorded yet." }));
  const results = await Promise.all(medicine.map(async (m) => {
    try {
      return { m, integration: await loadIntegration(patient.id, m.id) };
    } catch (err) {
      return { m, error: err.message };
    }
  }));
  for (const { m, integration, error } of results) {
    cards.append(error
      ? h("article", { class: "card session-card" }, h("h3", { text: `Medicine session ${formatDateTime(m.startedAt, tz)}` }), h("p", { class: "notice-error", text: error }))
      : sessionCard(patient.id, m, integration, tz, { reportLink: true,
        symptoms: symptoms ? symptomCardSection(symptoms.change.find((c) => c.session_id === m.id), symptoms.instruments, tz) : null }));
  }

  const sessionsSorted = [...timeline.sessions].sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  section.append(details("Sessions and appointments (table)", dataTable("Sessions", ["When", "Kind", "Note"],
    sessionsSorted.map((s) => [formatDateTime(s.startedAt, tz), s.kind, s.note || ""]), { id: "sessions-table" })));
  const journalSorted = [...timeline.journal].sort((a, b) => b.at.localeCompare(a.at));
  section.append(details("Journal entries (table)", dataTable("Journal", ["When", "Text", "Tags", "Mood", "Body"],
    journalSorted.map((j) => [formatDateTime(j.at, tz), j.text, j.tags.join(", "), j.mood ?? "–", j.body ?? "–"]), { id: "journal-table" })));
  return section;
}

export async function renderTimeline(main, { patientId }, current, isCurrent) {
  const patient = await get(`/v1/patients/${patientId}`);
  if (!isCurrent()) return;
  const section = await buildTimeline(patient, { simplified: current.role === "patient", isCurrent });
  if (!section) return;
  mount(main, patientHeader(patient, "trend"), section);
}
