// Patient page section: their next appointment, and what their readings did after each medicine session,
// period by period, in words (the states of the therapist's session cards; no statistics).

import { get } from "../api.js";
import { dayIn, formatDateTime, formatDay, formatDayRange } from "../dates.js";
import { h } from "../dom.js";
import { normalizeIntegration } from "../model.js";
import { periodWords } from "../plain.js";

/** Medicine sessions described, newest first. */
const SHOWN_SESSIONS = 3;
const KIND_NAMES = { medicine: "medicine session", integration: "integration appointment", other: "appointment" };

function periodItem(period) {
  const when = period.nPossible && period.firstDay && period.lastDay ? ` (${formatDayRange(period.firstDay, period.lastDay)})` : "";
  return h("li", { dataset: { period: period.key, state: period.state } },
    h("strong", { text: `${period.label}${when}: ` }), periodWords(period),
    period.state === "verdict" && period.quality.caveat ? h("span", { class: "muted small", text: " — many of these readings had some disturbance, so take it lightly." }) : null);
}

export async function sessionsSection({ patient }) {
  const tz = patient.timezone || "UTC";
  const sessions = ((await get(`/v1/patients/${patient.id}/sessions`)) || [])
    .sort((a, b) => a.started_at.localeCompare(b.started_at));
  const now = new Date().toISOString();
  const next = sessions.find((s) => s.started_at > now) || null;
  const medicine = sessions.filter((s) => s.kind === "medicine" && s.started_at <= now).reverse().slice(0, SHOWN_SESSIONS);
  const results = await Promise.all(medicine.map(async (s) => {
    try {
      return { s, integration: normalizeIntegration((await get(`/v1/patients/${patient.id}/sessions/${s.id}/integration`)) || {}) };
    } catch {
      return { s, integration: null };
    }
  }));
  return h("section", { class: "card sessions", id: "my-sessions", "aria-labelledby": "my-sessions-title" },
    h("h2", { id: "my-sessions-title", text: "Your sessions" }),
    h("p", { id: "next-appointment", text: next
      ? `Next: ${KIND_NAMES[next.kind]} on ${formatDateTime(next.started_at, tz)}.`
      : "No appointment is planned yet." }),
    medicine.length
      ? results.map(({ s, integration }) => h("div", { class: "my-session", dataset: { sessionId: s.id } },
        h("h3", { text: `After your medicine session on ${formatDay(dayIn(s.started_at, tz))}` }),
        integration && integration.periods.length
          ? h("ul", { class: "period-words" }, integration.periods.map(periodItem))
          : h("p", { class: "muted", text: "Nothing to say yet." })))
      : h("p", { class: "muted", text: "No medicine session recorded yet." }),
    h("p", { class: "muted small", text: "Each period is compared with your readings before the session. “No clear change” is a common and fine answer; small shifts take time to show." }));
}

