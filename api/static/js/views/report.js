// Printable session report for the patient's file: the session, the baseline and the quality of its days,
// the three periods (state, verdict, quality), how change was judged, and the journal notes of each period.

import { get } from "../api.js";
import { dataTable, fmt, h, mount } from "../dom.js";
import { addDays, formatDateTime, journalBetween, localDay, medicineSessions } from "../model.js";
import { formatDate, formatDayRange } from "../dates.js";
import { loadTimeline } from "./patients.js";
import { loadSymptoms, symptomReportSection } from "../symptoms.js";
import { baselineText, familyText, loadIntegration, sessionCard } from "./timeline.js";

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
  const integration = await loadIntegration(patientId, sessionId);
  // The server's periods say which days they cover (cut before the next medicine session).
  const periods = integration.periods;
  const base = integration.baseline;
  const lastDay = periods.length ? periods[periods.length - 1].lastDay : sessionDay;
  const timeline = await loadTimeline(patientId, base.firstDay || addDays(sessionDay, -1), lastDay > sessionDay ? lastDay : sessionDay);
  const medicine = medicineSessions(timeline.sessions, tz).find((m) => m.id === sessionId);
  const symptoms = await loadSymptoms(patientId, sessionDay, lastDay > sessionDay ? lastDay : sessionDay);
  if (!isCurrent()) return;
  const name = patient.display_name || patient.pseudonym;
  const notes = periods.map((p) => ({
    period: p,
    entries: journalBetween(timeline.journal, tz, p.firstDay, p.lastDay).sort((a, b) => a.at.localeCompare(b.at)),
  }));
  const model = integration.model;
  mount(main,
    h("p", { class: "no-print" },
      h("a", { href: `#/patients/${patientId}`, text: "← back to timeline" }), " ",
      h("button", { type: "button", class: "primary", id: "print", text: "Print report", on: { click: () => window.print() } })),
    h("article", { class: "report", id: "session-report" },
      h("header", {},
        h("h1", { text: `Session report: ${name}` }),
        h("p", { text: `Pseudonym ${patient.pseudonym || "–"} · time zone ${tz} · judged on ${integration.today ? formatDate(integration.today) : "–"} · printed ${formatDateTime(Date.now(), tz)}` })),
      h("h2", { text: "Session" }),
      h("p", { text: `${raw.kind === "medicine" ? "Medicine session" : raw.kind} on ${formatDateTime(raw.started_at, tz)}${raw.note ? `: ${raw.note}` : ""}` }),
      medicine && medicine.integration ? h("p", { text: `Integration appointment: ${formatDateTime(medicine.integration.startedAt, tz)}` })
        : h("p", { class: "flag", text: "⚠ No integration appointment within 3 days of this session." }),
      h("h2", { text: "Baseline" }),
      h("p", { id: "report-baseline", text: baselineText(base) }),
      base.ok ? h("p", { class: "small", id: "report-band", text: `Normal band: ${base.definition}.` }) : null,
      h("h2", { text: "Change against baseline" }),
      medicine ? sessionCard(patientId, medicine, integration, tz, { reportLink: false, familyNote: false }) : null,
      h("h2", { text: "How change is judged" }),
      h("p", { class: "small", text: familyText(integration) }),
      model ? h("p", { class: "small", id: "report-model", text: `Model: ${model.method}; ${model.nObs} days, day-to-day autocorrelation ${fmt(model.rho)}, SD ${fmt(model.sd)}, trend ${fmt(model.trendPerDay * 28, 2)} ln ms per 4 weeks.` }) : null,
      h("p", { class: "small", text: "A period under way or not begun gets no number. \"Cannot tell yet\" means too few valid days; "
        + "\"no change shown\" means the days could not show a change smaller than the stated smallest visible change (80 % power)." }),
      symptomReportSection(symptoms.change.find((c) => c.session_id === sessionId), symptoms.instruments, tz),
      h("h2", { text: "Journal notes in these periods" }),
      notes.map(({ period, entries }) => h("section", { class: "report-period" },
        h("h3", { text: period.nPossible ? `${period.label} (${formatDayRange(period.firstDay, period.lastDay)})` : `${period.label} (no days: the next medicine session came first)` }),
        !period.nPossible ? null : entries.length
          ? dataTable(`Notes, ${period.label}`, ["When", "Text", "Tags", "Mood", "Body"],
            entries.map((j) => [formatDateTime(j.at, tz), j.text, j.tags.join(", "), j.mood ?? "–", j.body ?? "–"]), { stack: true })
          : h("p", { class: "muted", text: "No notes." }))),
      h("p", { class: "small muted", text: "ln RMSSD = natural log of the root mean square of successive RR differences. Somatrace is not a medical device and gives no diagnosis." })));
}
