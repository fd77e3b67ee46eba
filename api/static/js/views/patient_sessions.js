// Therapist: one patient's medicine sessions and appointments — list, record, schedule (with the 2–3 day
// integration suggestion), edit and delete. Every change is audited and recomputes the patient's verdicts.

import { del, get, post, put } from "../api.js";
import { addDays, dayIn, formatDateTime, formatDay, formatTime, fromLocalInput } from "../dates.js";
import { announce, confirmButton, h, mount } from "../dom.js";
import { buildForm, loadForms } from "../forms.js";
import { patientHeader } from "./patient_tabs.js";

/** An integration appointment is suggested this many days after the medicine session (DESIGN.md). */
export const INTEGRATION_SUGGESTED_DAYS = [2, 3];
/** Default time of day of a new session or appointment (patient's local time). */
const DEFAULT_HOUR = "10:00";

const KIND_TITLES = {
  medicine: "Record a medicine session",
  integration: "Schedule an integration appointment",
  other: "Add another appointment",
};
const KIND_NAMES = { medicine: "Medicine session", integration: "Integration appointment", other: "Appointment" };

function choiceLabel(rules, field, value) {
  const rule = rules.forms.session.fields[field];
  const found = (rule.choices || []).find((c) => c.value === value);
  return found ? found.label : value;
}

/** "Ketamine · Intramuscular (IM) · 0.5 mg/kg · clinic room", or what is missing. */
export function medicineDetails(rules, s) {
  if (s.kind !== "medicine") return "";
  if (!s.medicine) return "medicine and route not recorded";
  return [
    choiceLabel(rules, "medicine", s.medicine),
    s.route ? choiceLabel(rules, "route", s.route) : "route not recorded",
    s.dose !== null && s.dose !== undefined ? `${s.dose} ${s.dose_unit}` : null,
    s.setting,
  ].filter(Boolean).join(" · ");
}

/** For each medicine session: the first integration appointment within 3 calendar days after it. */
function integrationFor(sessions, medicine, tz) {
  const day = dayIn(medicine.started_at, tz);
  const last = addDays(day, INTEGRATION_SUGGESTED_DAYS[1]);
  return sessions.filter((s) => s.kind === "integration" && s.started_at >= medicine.started_at)
    .find((s) => dayIn(s.started_at, tz) <= last) || null;
}

/** The medicine session an integration appointment would follow now: the latest one still without. */
function pendingMedicine(sessions, tz) {
  const medicine = sessions.filter((s) => s.kind === "medicine").sort((a, b) => b.started_at.localeCompare(a.started_at));
  return medicine.find((m) => !integrationFor(sessions, m, tz)) || medicine[0] || null;
}

function sessionRow(rules, patient, s, sessions, tz, refresh) {
  let follow = null;
  if (s.kind === "medicine") {
    const integration = integrationFor(sessions, s, tz);
    const day = dayIn(s.started_at, tz);
    follow = integration
      ? h("p", { class: "muted small", text: `Integration appointment ${formatDateTime(integration.started_at, tz)}` })
      : h("p", { class: "flag" }, `⚠ No integration appointment within 3 days; suggested ${formatDay(addDays(day, 2))} or ${formatDay(addDays(day, 3))}. `,
        h("a", { href: `#/patients/${patient.id}/sessions/new/integration`, text: "Schedule it" }));
  }
  return h("tr", { dataset: { sessionId: s.id, kind: s.kind } },
    h("th", { scope: "row" }, h("time", { datetime: s.started_at, text: formatDateTime(s.started_at, tz) }),
      s.ended_at ? h("div", { class: "muted small", text: `until ${dayIn(s.ended_at, tz) === dayIn(s.started_at, tz)
        ? formatTime(s.ended_at, tz) : formatDateTime(s.ended_at, tz)}` }) : null),
    h("td", { "data-label": "Kind" }, h("span", { class: `kind kind-${s.kind}`, text: KIND_NAMES[s.kind] }), follow),
    h("td", { "data-label": "Medicine", text: medicineDetails(rules, s) || "–" }),
    h("td", { class: "note-cell", "data-label": "Note", text: s.note || "–" }),
    h("td", { class: "actions", "data-label": "Actions" },
      h("a", { href: `#/patients/${patient.id}/sessions/${s.id}/edit`, class: "button-link small", text: "Edit",
        "aria-label": `Edit the ${KIND_NAMES[s.kind].toLowerCase()} of ${formatDateTime(s.started_at, tz)}` }),
      " ",
      confirmButton("Delete", "Delete it? The patient's verdicts are recomputed without it.", "Yes, delete", async () => {
        await del(`/v1/patients/${patient.id}/sessions/${s.id}`);
        announce(`${KIND_NAMES[s.kind]} deleted; the patient's verdicts are being recomputed.`, "ok");
        refresh();
      }, { "aria-label": `Delete the ${KIND_NAMES[s.kind].toLowerCase()} of ${formatDateTime(s.started_at, tz)}` })));
}

export async function renderSessions(main, { patientId }, _current, isCurrent) {
  const [patient, sessions, rules] = await Promise.all([
    get(`/v1/patients/${patientId}`),
    get(`/v1/patients/${patientId}/sessions`),
    loadForms(),
  ]);
  if (!isCurrent()) return;
  const tz = patient.timezone || "UTC";
  const list = [...(sessions || [])].sort((a, b) => b.started_at.localeCompare(a.started_at));
  const refresh = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
  const base = `#/patients/${patient.id}/sessions/new`;
  mount(main,
    patientHeader(patient, "sessions"),
    h("p", { class: "actions-bar" },
      h("a", { href: `${base}/medicine`, class: "button-link primary", id: "new-medicine", text: "Record a medicine session" }), " ",
      h("a", { href: `${base}/integration`, class: "button-link", id: "new-integration", text: "Schedule an integration appointment" }), " ",
      h("a", { href: `${base}/other`, class: "button-link", id: "new-other", text: "Other appointment" })),
    h("p", { class: "muted small", text: `Times in the patient's time zone (${tz}). Changing or deleting a medicine session recomputes the baseline and the periods after it.` }),
    list.length
      ? h("div", { class: "table-scroll", tabindex: "0" }, h("table", { class: "data-table stack sessions-table", id: "sessions-list" },
        h("caption", { text: `${list.length} sessions and appointments, newest first` }),
        h("thead", {}, h("tr", {}, ["When", "Kind", "Medicine", "Note", "Actions"].map((t) => h("th", { scope: "col", text: t })))),
        h("tbody", {}, list.map((s) => sessionRow(rules, patient, s, list, tz, refresh)))))
      : h("div", { class: "card empty-state", id: "no-sessions" },
        h("p", { text: "No sessions yet. Record the medicine sessions as they happen and schedule an integration appointment two to three days after each." })));
}

function defaultStart(tz, day = null) {
  const d = day || dayIn(Date.now(), tz);
  return fromLocalInput(`${d}T${DEFAULT_HOUR}`, tz);
}

function suggestion(form, patient, medicine, tz) {
  if (!medicine) return null;
  const day = dayIn(medicine.started_at, tz);
  const use = (n) => {
    const input = form.control("started_at");
    const time = input.value ? input.value.slice(11, 16) : DEFAULT_HOUR;
    input.value = `${addDays(day, n)}T${time}`;
    input.focus();
    announce(`Start set to ${formatDay(addDays(day, n))}.`);
  };
  return h("div", { class: "notice suggestion", id: "integration-suggestion" },
    h("p", { text: `Integration is best held 2 to 3 days after the medicine session of ${formatDateTime(medicine.started_at, tz)}: on ${formatDay(addDays(day, 2))} or ${formatDay(addDays(day, 3))}.` }),
    h("p", {}, INTEGRATION_SUGGESTED_DAYS.map((n) => [h("button", { type: "button", class: "small", id: `suggest-day-${n}`,
      text: `Use ${formatDay(addDays(day, n))}`, on: { click: () => use(n) } }), " "])));
}

export async function renderSessionForm(main, { patientId, kind, sessionId }, _current, isCurrent) {
  const [patient, sessions] = await Promise.all([
    get(`/v1/patients/${patientId}`),
    get(`/v1/patients/${patientId}/sessions`),
  ]);
  const tz = patient.timezone || "UTC";
  const existing = sessionId ? (sessions || []).find((s) => s.id === sessionId) : null;
  if (sessionId && !existing) {
    mount(main, h("h1", { text: "Session not found" }), h("p", { class: "notice notice-error", id: "forbidden", text: "This session does not exist or was deleted." }));
    return;
  }
  const sessionKind = existing ? existing.kind : kind;
  const pending = sessionKind === "integration" && !existing ? pendingMedicine(sessions || [], tz) : null;
  const start = existing ? existing.started_at
    : pending ? defaultStart(tz, addDays(dayIn(pending.started_at, tz), INTEGRATION_SUGGESTED_DAYS[0])) : defaultStart(tz);
  const v = existing || {};
  const fields = [
    { name: "kind", control: "hidden", value: sessionKind },
    { name: "started_at", value: start, help: `Date and time in the patient's time zone (${tz}).` },
    { name: "ended_at", value: v.ended_at ?? null },
  ];
  if (sessionKind === "medicine") {
    fields.push(
      { name: "medicine", value: v.medicine ?? null },
      { name: "route", value: v.route ?? null },
      { name: "dose", value: v.dose ?? null, help: "Optional; with its unit." },
      { name: "dose_unit", value: v.dose_unit ?? null },
      { name: "setting", value: v.setting ?? "" },
    );
  }
  fields.push({ name: "note", control: "textarea", rows: "3", value: v.note ?? "" });
  const back = `#/patients/${patient.id}/sessions`;
  const form = await buildForm({
    form: "session",
    id: "session-form",
    class: `session-form session-${sessionKind}`,
    submit: existing ? "Save changes" : sessionKind === "medicine" ? "Record the session" : "Schedule it",
    tz,
    fields,
    onSubmit: async (data) => {
      const body = { ...data };
      if (sessionKind !== "medicine") {
        for (const name of ["medicine", "route", "dose", "dose_unit", "setting"]) body[name] = null;
      }
      if (existing) await put(`/v1/patients/${patient.id}/sessions/${existing.id}`, body);
      else await post(`/v1/patients/${patient.id}/sessions`, body);
      announce(`${KIND_NAMES[sessionKind]} ${existing ? "changed" : "saved"}${sessionKind === "medicine" || (existing && existing.kind === "medicine") ? "; the patient's verdicts are being recomputed" : ""}.`, "ok");
      window.location.hash = back;
    },
    cancel: { label: "Cancel", onClick: () => { window.location.hash = back; } },
  });
  if (!isCurrent()) return;
  const title = existing ? `Edit: ${KIND_NAMES[sessionKind].toLowerCase()} of ${formatDateTime(existing.started_at, tz)}` : KIND_TITLES[sessionKind];
  mount(main,
    patientHeader(patient, "sessions", existing ? "Edit" : KIND_NAMES[sessionKind]),
    h("h2", { id: "session-form-title", text: title }),
    h("div", { class: "card narrow" }, pending ? suggestion(form, patient, pending, tz) : null, form.el));
  form.control("started_at").focus();
}
