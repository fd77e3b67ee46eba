// Therapist: one patient's questionnaires (#/patients/<id>/questionnaires): open safety alerts with their
// acknowledgement, what is due, change per medicine session, every response, answers given in clinic,
// and the patient's protocol.

import { get, post, put } from "../api.js";
import { formatDateTime } from "../dates.js";
import { announce, h, mount } from "../dom.js";
import {
  answerForm, dueItem, loadInstruments, scoreBadge, shortTitle, sortDue,
} from "../questionnaires.js";
import { changeTable } from "../symptoms.js";
import { patientHeader } from "./patient_tabs.js";

function refresh() {
  window.dispatchEvent(new HashChangeEvent("hashchange"));
}

/** When an alert's answers were given, and when it was raised if that was later (answers entered afterwards). */
function alertWhen(alert, responses, tz) {
  const answered = responses.find((r) => r.id === alert.response_id);
  if (!answered) return formatDateTime(alert.raised_at, tz);
  const late = Date.parse(alert.raised_at) - Date.parse(answered.at) > 60 * 60 * 1000;
  return `answered ${formatDateTime(answered.at, tz)}${late ? `, entered ${formatDateTime(alert.raised_at, tz)}` : ""}`;
}

function alertCard(patient, alert, instruments, tz, responses) {
  const note = h("textarea", { id: `ack-note-${alert.id}`, rows: "3", required: true, maxlength: "4000",
    "aria-describedby": `ack-hint-${alert.id}` });
  const error = h("p", { class: "field-error", role: "alert", hidden: true });
  const form = h("form", { class: "form ack-form", novalidate: true, dataset: { alertId: alert.id } },
    h("label", { for: note.id, text: "What did you do?" }),
    h("p", { class: "hint", id: `ack-hint-${alert.id}`, text: "For example: called the patient at 14:10, safe, safety plan reviewed. Your note is kept in the audit log." }),
    note, error,
    h("div", { class: "form-buttons" }, h("button", { type: "submit", class: "primary", id: `ack-${alert.id}`, text: "Acknowledge" })));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!note.value.trim()) {
      error.textContent = "Please write what you did.";
      error.hidden = false;
      note.setAttribute("aria-invalid", "true");
      note.focus();
      return;
    }
    try {
      await post(`/v1/patients/${patient.id}/safety-alerts/${alert.id}/acknowledge`, { note: note.value });
      announce("The alert was acknowledged.", "ok");
      refresh();
    } catch (err) {
      error.textContent = err.message;
      error.hidden = false;
    }
  });
  return h("div", { class: "alert-card", dataset: { alertId: alert.id } },
    h("p", {}, h("strong", { text: `${shortTitle(instruments, alert.instrument)}, ${alertWhen(alert, responses, tz)}: ` }),
      alert.rules.map((r) => r.label).join("; ")),
    form);
}

function acknowledgedList(alerts, instruments, tz, responses) {
  if (!alerts.length) return null;
  return h("details", { class: "numbers", id: "acknowledged-alerts" }, h("summary", { text: `Acknowledged alerts (${alerts.length})` }),
    h("ul", {}, alerts.map((a) => h("li", {},
      `${shortTitle(instruments, a.instrument)}, ${alertWhen(a, responses, tz)}, acknowledged ${formatDateTime(a.acknowledged_at, tz)}: `,
      h("q", { text: a.note })))));
}

function responsesTable(responses, instruments, tz) {
  if (!responses.length) return h("p", { class: "muted", id: "no-responses", text: "No answers yet." });
  return h("div", { class: "table-scroll", tabindex: "0" }, h("table", { class: "data-table stack", id: "responses-table" },
    h("caption", { text: `${responses.length} answered questionnaires, newest first` }),
    h("thead", {}, h("tr", {}, ["When", "Questionnaire", "Total", "Entered", "Answers"].map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, [...responses].reverse().map((r) => h("tr", { dataset: { responseId: r.id }, class: r.safety_alert ? "row-alert" : null },
      h("th", { scope: "row", text: formatDateTime(r.at, tz) }),
      h("td", { "data-label": "Questionnaire", text: shortTitle(instruments, r.instrument) }),
      h("td", { "data-label": "Total" }, scoreBadge(instruments.get(r.instrument), r.total, r.severity), r.safety_alert ? h("span", { class: "badge badge-alert", text: " safety alert" }) : null),
      h("td", { "data-label": "Entered", text: r.source === "clinic" ? "in clinic" : "by the patient" }),
      h("td", { class: "answers", "data-label": "Answers", text: r.answers.join(" ") }))))));
}

function clinicEntry(patient, instruments, tz) {
  const select = h("select", { id: "clinic-instrument" },
    [...instruments.values()].map((i) => h("option", { value: i.id, text: i.title })));
  const host = h("div", { id: "clinic-form-host" });
  const when = () => h("div", { class: "field" },
    h("label", { for: "clinic-at", text: "Answered on" }),
    h("p", { class: "hint", id: "clinic-at-hint", text: `Date and time the patient gave these answers (${tz}).` }),
    h("input", { type: "datetime-local", id: "clinic-at", required: true, "aria-describedby": "clinic-at-hint" }));
  const build = () => {
    const inst = instruments.get(select.value);
    mount(host, answerForm(inst, `clinic-${patient.id}`, {
      defaultMode: "all",
      submitLabel: "Save the answers given in clinic",
      extra: when(),
      onSubmit: async (answers) => {
        const raw = host.querySelector("#clinic-at").value;
        const body = { instrument: inst.id, answers };
        if (raw) body.at = zonedIso(raw, tz);
        const result = await post(`/v1/patients/${patient.id}/responses`, body);
        announce(`Saved: ${inst.short_title} ${result.total} (${result.severity})${result.safety_alert ? " — this raised a safety alert" : ""}.`,
          result.safety_alert ? "error" : "ok");
        refresh();
      },
    }));
  };
  select.addEventListener("change", build);
  build();
  return h("details", { class: "card", id: "clinic-entry" },
    h("summary", { text: "Enter answers given in clinic" }),
    h("label", { for: "clinic-instrument", text: "Questionnaire" }), select, host);
}

/** "YYYY-MM-DDTHH:MM" read as a wall-clock time in zone `tz` → ISO instant with offset. */
export function zonedIso(local, tz) {
  const [date, time] = local.split("T");
  const [y, m, d] = date.split("-").map(Number);
  const [hh, mm] = time.split(":").map(Number);
  const guess = Date.UTC(y, m - 1, d, hh, mm);
  const offset = (instant) => {
    const parts = new Intl.DateTimeFormat("en-US", { timeZone: tz, hourCycle: "h23", year: "numeric", month: "2-digit",
      day: "2-digit", hour: "2-digit", minute: "2-digit" }).formatToParts(new Date(instant));
    const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
    return Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute) - instant;
  };
  const first = guess - offset(guess);
  return new Date(guess - offset(first)).toISOString();
}

function instrumentChecks(prefix, instruments, chosen) {
  return h("span", { class: "instrument-checks" }, [...instruments.values()].map((i) => {
    const id = `${prefix}-${i.id}`;
    return h("span", { class: "inline-check" },
      h("input", { type: "checkbox", id, value: i.id, checked: chosen.includes(i.id) }),
      h("label", { for: id, text: i.short_title }));
  }));
}

function protocolEditor(patient, state, instruments) {
  const p = state.protocol;
  const defaults = p.instruments;
  const rows = [];
  const row = (key, label, when, chosen) => {
    rows.push({ key, el: instrumentChecks(`proto-${key}`, instruments, chosen) });
    return h("tr", { dataset: { point: key } }, h("th", { scope: "row", text: label }), h("td", { text: when }),
      h("td", {}, rows[rows.length - 1].el));
  };
  const picked = (key) => [...rows.find((r) => r.key === key).el.querySelectorAll("input:checked")].map((x) => x.value);
  const template = h("select", { id: "proto-template" }, state.templates.map((t) =>
    h("option", { value: t.id, text: t.title, selected: t.id === state.template })));
  const table = h("table", { class: "data-table", id: "protocol-table" },
    h("caption", { text: "Which questionnaires are due when (days are the patient's local days; day 1 is the day after a medicine session)" }),
    h("thead", {}, h("tr", {}, ["Point", "When", "Questionnaires"].map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {},
      p.baseline ? row("baseline", "baseline", `in the ${p.baseline.window_days} days before the first medicine session`, p.baseline.instruments || defaults) : null,
      p.after_session.map((pt, i) => row(`s${i}`, pt.label, pt.from_day === pt.to_day ? `day ${pt.from_day}` : `days ${pt.from_day}–${pt.to_day}`,
        pt.instruments || defaults)),
      p.monthly ? row("monthly", "monthly", `every ${p.monthly.every_days} days after the last point, ${p.monthly.answer_within_days} days to answer`,
        p.monthly.instruments || defaults) : null));
  const error = h("p", { class: "field-error", role: "alert", hidden: true, id: "protocol-error" });
  const save = async (reset) => {
    error.hidden = true;
    const body = { template: template.value };
    if (!reset && template.value === state.template) {
      body.protocol = {
        ...p,
        baseline: p.baseline ? { ...p.baseline, instruments: picked("baseline") } : null,
        after_session: p.after_session.map((pt, i) => ({ ...pt, instruments: picked(`s${i}`) })),
        monthly: p.monthly ? { ...p.monthly, instruments: picked("monthly") } : null,
      };
    }
    try {
      await put(`/v1/patients/${patient.id}/questionnaires/protocol`, body);
      announce("The questionnaire protocol was saved.", "ok");
      refresh();
    } catch (err) {
      const items = (err.fields && err.fields.errors) || [];
      error.textContent = [err.message, ...items.map((e) => e.msg)].join(" ");
      error.hidden = false;
    }
  };
  return h("section", { class: "card", id: "protocol", "aria-labelledby": "protocol-title" },
    h("h2", { id: "protocol-title", text: "Protocol" }),
    h("p", { id: "protocol-source", text: state.customized ? "Changed for this patient from the clinic's template." : "The clinic's template, unchanged." }),
    h("label", { for: "proto-template", text: "Template" }), template,
    h("div", { class: "table-scroll", tabindex: "0" }, table),
    error,
    h("div", { class: "form-buttons" },
      h("button", { type: "button", class: "primary", id: "save-protocol", text: "Save protocol", on: { click: () => save(false) } }),
      state.customized ? h("button", { type: "button", id: "reset-protocol", text: "Use the template as it is", on: { click: () => save(true) } }) : null));
}

export async function renderPatientQuestionnaires(main, params, _current, isCurrent) {
  const id = params.patientId;
  const [patient, instruments, alerts, due, responses, change, protocol] = await Promise.all([
    get(`/v1/patients/${id}`),
    loadInstruments(),
    get(`/v1/patients/${id}/safety-alerts`),
    get(`/v1/patients/${id}/questionnaires/due`),
    get(`/v1/patients/${id}/responses`),
    get(`/v1/patients/${id}/questionnaires/change`),
    get(`/v1/patients/${id}/questionnaires/protocol`),
  ]);
  if (!isCurrent()) return;
  const tz = patient.timezone || "UTC";
  const open = alerts.filter((a) => !a.acknowledged_at);
  const { open: openDue, done } = sortDue(due);
  mount(main,
    patientHeader(patient, "questionnaires"),
    open.length ? h("section", { class: "card alert-section", id: "open-alerts", role: "region", "aria-labelledby": "open-alerts-title" },
      h("h2", { id: "open-alerts-title", text: `Safety alert${open.length > 1 ? "s" : ""}: please contact the patient` }),
      open.map((a) => alertCard(patient, a, instruments, tz, responses))) : null,
    acknowledgedList(alerts.filter((a) => a.acknowledged_at), instruments, tz, responses),
    h("section", { class: "card", id: "due", "aria-labelledby": "due-title" },
      h("h2", { id: "due-title", text: "Due now" }),
      openDue.length ? h("ul", { class: "due-list", id: "therapist-due-list" }, openDue.map((d) => dueItem(d, instruments, tz, null)))
        : h("p", { text: "Nothing is due." }),
      h("p", { class: "muted small", text: `${done.length} scheduled questionnaires answered so far.` })),
    h("section", { class: "card", id: "change", "aria-labelledby": "change-title" },
      h("h2", { id: "change-title", text: "Change per medicine session" }),
      change.length ? change.map((s) => changeTable(s, instruments, tz)) : h("p", { class: "muted", text: "No medicine session recorded yet." })),
    h("section", { class: "card", id: "responses", "aria-labelledby": "responses-title" },
      h("h2", { id: "responses-title", text: "All answers" }), responsesTable(responses, instruments, tz)),
    clinicEntry(patient, instruments, tz),
    protocolEditor(patient, protocol, instruments));
}
