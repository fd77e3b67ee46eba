// Printable session report for the patient's file: baseline, the session, the three periods, notes.

import { get } from "../api.js";
import { dataTable, fmt, h, mount } from "../dom.js";
import {
  PERIODS, addDays, formatDateTime, journalBetween, localDay, medicineSessions,
} from "../model.js";
import { loadTimeline } from "./patients.js";
import { loadIntegration, sessionCard } from "./timeline.js";

const BASELINE_MAX_DAYS = 60;

export async function renderReport(main, { patientId, sessionId }, current, isCurrent) {
  const patient = await get(`/v1/patients/${patientId}`);
  const tz = patient.timezone || "UTC";
  const sessions = (await get(`/v1/patients/${patientId}/sessions`)) || [];
  const raw = sessions.find((s) => s.id === sessionId);
  if (!raw) {
    mount(main, h("h1", { text: "Session not found" }), h("p", { class: "notice notice-error", id: "forbidden", text: "This session does not exist or is not yours to see." }));
    return;
  }
  const sessionDay = localDay(Date.parse(raw.started_at), tz);
  const timeline = await loadTimeline(patientId, addDays(sessionDay, -BASELINE_MAX_DAYS), addDays(sessionDay, PERIODS[2].last));
  const medicine = medicineSessions(timeline.sessions, tz).find((m) => m.id === sessionId);
  if (!isCurrent()) return;
  const name = patient.display_name || patient.pseudonym;
  const integration = await loadIntegration(patientId, sessionId);
  // The analysis may cut a period short (e.g. at the next medicine session): use its dates.
  const notes = PERIODS.map((p, i) => {
    const computed = integration.periods[i] || {};
    const first = computed.firstDay || addDays(sessionDay, p.first);
    const last = computed.lastDay || addDays(sessionDay, p.last);
    return {
      period: p, first, last,
      entries: journalBetween(timeline.journal, tz, first, last).sort((a, b) => a.at.localeCompare(b.at)),
    };
  });
  const b = integration.baseline;
  mount(main,
    h("p", { class: "no-print" },
      h("a", { href: `#/patients/${patientId}`, text: "← back to timeline" }), " ",
      h("button", { type: "button", class: "primary", id: "print", text: "Print report", on: { click: () => window.print() } })),
    h("article", { class: "report", id: "session-report" },
      h("header", {},
        h("h1", { text: `Session report: ${name}` }),
        h("p", { text: `Pseudonym ${patient.pseudonym || "–"} · time zone ${tz} · printed ${formatDateTime(Date.now(), tz)}` })),
      h("h2", { text: "Session" }),
      h("p", { text: `${raw.kind === "medicine" ? "Medicine session" : raw.kind} on ${formatDateTime(raw.started_at, tz)}${raw.note ? `: ${raw.note}` : ""}` }),
      medicine && medicine.integration ? h("p", { text: `Integration appointment: ${formatDateTime(medicine.integration.startedAt, tz)}` })
        : h("p", { class: "flag", text: "⚠ No integration appointment within 3 days of this session." }),
      h("h2", { text: "Baseline" }),
      h("p", { text: b.insufficient
        ? `Insufficient data for a baseline${b.reason && b.reason !== "insufficient data" ? ` (${b.reason})` : ""}.`
        : `ln RMSSD ${fmt(b.mean)} ± ${fmt(b.sd)} (SD)${b.nDays !== null ? `, ${b.nDays} valid days` : ""}${b.firstDay ? ` (searched ${b.firstDay} to ${b.lastDay})` : ""}; normal band ${fmt(b.low ?? (b.mean - 0.5 * b.sd))} to ${fmt(b.high ?? (b.mean + 0.5 * b.sd))}.` }),
      h("h2", { text: "Change against baseline" }),
      medicine ? sessionCard(patientId, medicine, integration, tz, { reportLink: false }) : null,
      h("h2", { text: "Journal notes in these periods" }),
      notes.map(({ period, first, last, entries }) => h("section", { class: "report-period" },
        h("h3", { text: `${period.label} (${first} to ${last})` }),
        entries.length
          ? dataTable(`Notes, ${period.label}`, ["When", "Text", "Tags", "Mood", "Body"],
            entries.map((j) => [formatDateTime(j.at, tz), j.text, j.tags.join(", "), j.mood ?? "–", j.body ?? "–"]))
          : h("p", { class: "muted", text: "No notes." }))),
      h("p", { class: "small muted", text: "ln RMSSD = natural log of the root mean square of successive RR differences. Intervals are 95 % confidence intervals of the difference in means; small shifts within the band are normal day-to-day variation. Somatrace is not a medical device and gives no diagnosis." })));
}
