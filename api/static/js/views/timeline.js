// One patient's timeline: daily ln RMSSD with rolling mean and baseline band, HR and stress index,
// sessions and plasticity windows, journal pins, integration flags and per-session cards.

import { get } from "../api.js";
import { dailyTrendChart, dailyVitalsChart } from "../charts.js";
import { dataTable, details, fmt, h, mount, signed } from "../dom.js";
import {
  INTEGRATION_WITHIN_DAYS, addDays, fillDays, formatDateTime, formatDay, localDay, medicineSessions,
  normalizeIntegration,
} from "../model.js";
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

function periodRow(period) {
  if (period.insufficient) {
    return h("tr", { dataset: { period: period.key } },
      h("th", { scope: "row", text: period.label }),
      h("td", { colspan: 4, class: "insufficient", text: `insufficient data${period.reason && period.reason !== "insufficient data" ? ` (${period.reason})` : ""}` }));
  }
  const ci = period.ciLow !== null && period.ciHigh !== null ? `${signed(period.ciLow)} to ${signed(period.ciHigh)}` : "–";
  return h("tr", { dataset: { period: period.key } },
    h("th", { scope: "row", text: period.label }),
    h("td", { class: "num diff", text: signed(period.diff) }),
    h("td", { class: "num ci", text: ci }),
    h("td", { class: "num", text: period.effect !== null ? fmt(period.effect, 2) : "–" }),
    h("td", { class: "num", text: period.nDays !== null ? String(period.nDays) : "–" }));
}

/** A per-session card: change of ln RMSSD against baseline in days 1–3, 4–14, 15–28 with 95 % CI. */
export function sessionCard(patientId, medicine, integration, tz, { reportLink = true } = {}) {
  const base = integration.baseline;
  return h("article", { class: "card session-card", dataset: { sessionId: medicine.id } },
    h("h3", { text: `Medicine session ${formatDateTime(medicine.startedAt, tz)}` }),
    medicine.missingIntegration
      ? h("p", { class: "flag", text: `⚠ No integration appointment within ${INTEGRATION_WITHIN_DAYS} days` })
      : h("p", { class: "muted", text: `Integration: ${formatDateTime(medicine.integration.startedAt, tz)}` }),
    h("p", { class: "muted small", text: base.insufficient
      ? `Baseline: insufficient data${base.reason && base.reason !== "insufficient data" ? ` (${base.reason})` : ""}`
      : `Baseline ln RMSSD ${fmt(base.mean)} ± ${fmt(base.sd)} SD${base.nDays !== null ? ` over ${base.nDays} days` : ""}` }),
    h("table", { class: "data-table periods" },
      h("caption", { class: "visually-hidden", text: "Change of ln RMSSD against baseline" }),
      h("thead", {}, h("tr", {}, ["Period", "Δ ln RMSSD", "95 % CI", "Effect size", "Days"].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, integration.periods.map(periodRow))),
    reportLink ? h("p", {}, h("a", { href: `#/patients/${patientId}/sessions/${medicine.id}/report`, class: "report-link", text: "Printable session report" })) : null);
}

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
    h("p", { class: "legend-note muted small" },
      "Blue points: daily ln RMSSD (morning reading, else night median). Red line: 7-day mean. Green band: baseline mean ± 0.5 SD. ",
      "Orange shading: days 1–14 after a medicine session (lighter to day 28). Empty stretches are days without wear. ",
      "✎ pins: journal entries (hover, focus or tap). Click a day to see its 5-minute windows."),
    trend, pinPanel);
  if (!simplified) {
    section.append(h("h2", { text: "Resting heart rate and stress index" }), dailyVitalsChart(days));
  }
  const withData = days.filter((d) => !d.missing);
  section.append(details("Numbers for these charts (table)", dataTable(
    `Daily values, ${firstDay} to ${today} (${tz})`,
    ["Day", "ln RMSSD", "7-day mean", "Band", "Resting HR", "Stress index", "Wear (h)", "Source", "Quality"],
    withData.map((d) => [
      h("a", { href: `${patientBase}/day/${d.day}`, text: d.day }),
      fmt(d.lnRmssd), fmt(d.rolling7d),
      d.bandLow !== null ? `${fmt(d.bandLow)}–${fmt(d.bandHigh)}` : "–",
      fmt(d.restingHr, 0), fmt(d.stressIndex, 0), fmt(d.wearHours, 1), d.source, d.quality,
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
      : sessionCard(patient.id, m, integration, tz, { reportLink: true }));
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
