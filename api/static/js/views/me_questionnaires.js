// The patient's questionnaires: a section of their page (what is due, the crisis message while an alert
// is open, and the reading notice), the page that answers one questionnaire (#/me/questionnaires/<id>),
// and their e-mail reminder choices (another section).

import { get, post, put } from "../api.js";
import { announce, h, mount } from "../dom.js";
import {
  answerForm, crisisBox, dueItem, loadCrisisInfo, loadInstruments, readingNotice, shortTitle, sortDue,
} from "../questionnaires.js";
import { ownPatient } from "./own_patient.js";

/** Done questionnaires listed under the due ones. */
const LISTED_DONE = 5;

/** Patient page section: due and overdue questionnaires with a button each; what was answered lately. */
export async function questionnairesSection({ patient }) {
  const tz = patient.timezone || "UTC";
  const [due, instruments, info, alerts] = await Promise.all([
    get(`/v1/patients/${patient.id}/questionnaires/due`),
    loadInstruments(),
    loadCrisisInfo(),
    get(`/v1/patients/${patient.id}/safety-alerts`, { open: true }),
  ]);
  const { open, done } = sortDue(due || []);
  const answer = (item) => h("a", { href: `#/me/questionnaires/${item.instrument}`, class: "button-link primary small",
    id: `answer-${item.instrument}`, text: "Answer now", "aria-label": `Answer now: ${shortTitle(instruments, item.instrument)}` });
  const seen = new Set();
  const openOnce = open.filter((d) => (seen.has(d.instrument) ? false : seen.add(d.instrument)));
  return h("section", { class: "card wide", id: "questionnaires", "aria-labelledby": "questionnaires-title" },
    h("h2", { id: "questionnaires-title", text: "Questionnaires" }),
    (alerts || []).length ? h("div", { class: "crisis crisis-standing", id: "crisis-standing", role: "note" },
      h("p", {}, h("strong", { text: "One of your recent answers asked for your therapist's attention. " }),
        "They have been told. If you are in danger now:"),
      h("p", { class: "crisis-text", text: info.crisis_message })) : null,
    openOnce.length
      ? h("ul", { class: "due-list", id: "due-list" }, openOnce.map((item) => dueItem(item, instruments, tz, answer)))
      : h("p", { id: "nothing-due", text: "Nothing to answer right now. Thank you!" }),
    done.length ? h("details", { class: "numbers" }, h("summary", { text: "Answered lately" }),
      h("ul", { class: "due-list", id: "done-list" }, done.slice(0, LISTED_DONE).map((item) => dueItem(item, instruments, tz, null)))) : null,
    readingNotice(info));
}

/** #/me/questionnaires/<instrument>: answer one questionnaire; after sending, the crisis message if needed. */
export async function renderAnswer(main, params, _current, isCurrent) {
  const [patient, instruments, info] = await Promise.all([ownPatient(), loadInstruments(), loadCrisisInfo()]);
  if (!isCurrent()) return;
  const inst = instruments.get(params.instrument);
  if (!patient || !inst) {
    mount(main, h("h1", { text: "Questionnaire not found" }),
      h("p", {}, h("a", { href: "#/me", text: "Back to my page" })));
    return;
  }
  document.title = `${inst.short_title} · Somatrace`;
  const form = answerForm(inst, patient.id, {
    onSubmit: async (answers) => {
      const result = await post(`/v1/patients/${patient.id}/responses`, { instrument: inst.id, answers });
      showResult(main, inst, result, info);
    },
  });
  mount(main,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/me", text: "My page" }), " › ",
      h("span", { text: inst.short_title })),
    h("h1", { id: "questionnaire-title", text: inst.title }),
    readingNotice(info),
    h("div", { class: "card narrow" }, form),
    h("p", { class: "muted small", text: `${inst.licence}` }));
}

function showResult(main, inst, result, info) {
  // answered offline (queued by the service worker): nobody has checked the answers yet, so the crisis
  // message is shown as it would be for an answer that shows risk
  const crisis = result.safety_alert || result.queued ? crisisBox(result.crisis_message || info.crisis_message) : null;
  mount(main,
    h("h1", { id: "questionnaire-title", text: inst.title }),
    crisis,
    h("div", { class: "card narrow", id: "answers-saved" },
      h("h2", { text: result.queued ? "Thank you: your answers were saved on this device" : "Thank you: your answers were saved" }),
      h("p", { text: result.queued
        ? "You are offline: they will be sent when the connection is back. Your therapist sees them then."
        : "Your therapist will see them beside your readings." }),
      h("p", {}, h("a", { href: "#/me", class: "button-link primary", id: "back-to-me", text: "Back to my page" }))),
    readingNotice(info));
  if (crisis) {
    crisis.focus();
  } else {
    announce("Your answers were saved.", "ok");
    main.querySelector("#answers-saved h2").setAttribute("tabindex", "-1");
    main.querySelector("#answers-saved h2").focus();
  }
}

// --- reminders ------------------------------------------------------------------------------------

function timeField(id, label, value, hint) {
  return h("div", { class: "field" },
    h("label", { for: id, text: label }),
    hint ? h("p", { class: "hint", id: `${id}-hint`, text: hint }) : null,
    h("input", { type: "time", id, value, required: true, "aria-describedby": hint ? `${id}-hint` : null }));
}

function check(id, label, checked, hint) {
  return h("div", { class: "field field-check" },
    h("input", { type: "checkbox", id, checked, "aria-describedby": `${id}-hint` }),
    h("label", { for: id, text: label }),
    h("p", { class: "hint", id: `${id}-hint`, text: hint }));
}

/** Patient page section: e-mail reminders (off until chosen) with quiet hours in the patient's zone. */
export async function remindersSection({ patient }) {
  const prefs = await get(`/v1/patients/${patient.id}/notifications`);
  const status = h("p", { class: "field-error", role: "alert", id: "reminders-error", hidden: true });
  const form = h("form", { class: "form", id: "reminders-form", novalidate: true },
    check("remind-questionnaires", "E-mail me when a questionnaire is waiting", prefs.questionnaire_reminders,
      "At most once for each questionnaire when it is due, and once more if it is late."),
    check("remind-morning", "E-mail me a reminder of my morning reading", prefs.morning_reminders,
      "Once a day at the time below, unless you already recorded today."),
    timeField("morning-at", "Morning reminder at", prefs.morning_at, null),
    h("fieldset", { class: "quiet" }, h("legend", { text: "Quiet hours: no e-mail between" }),
      timeField("quiet-start", "From", prefs.quiet_start, null),
      timeField("quiet-end", "Until", prefs.quiet_end, null)),
    h("p", { class: "hint", text: `Times are in your time zone (${prefs.timezone}). The e-mails only say that something is waiting and give a link to sign in: no answers, scores or names.` }),
    status,
    h("div", { class: "form-buttons" }, h("button", { type: "submit", class: "primary", id: "save-reminders", text: "Save reminder choices" })));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    status.hidden = true;
    const body = {
      questionnaire_reminders: form.querySelector("#remind-questionnaires").checked,
      morning_reminders: form.querySelector("#remind-morning").checked,
      morning_at: form.querySelector("#morning-at").value,
      quiet_start: form.querySelector("#quiet-start").value,
      quiet_end: form.querySelector("#quiet-end").value,
    };
    try {
      await put(`/v1/patients/${patient.id}/notifications`, body);
      announce("Your reminder choices were saved.", "ok");
    } catch (err) {
      status.textContent = err.message;
      status.hidden = false;
    }
  });
  const unavailable = !prefs.mail_configured
    ? h("p", { class: "notice", id: "mail-off", text: "This clinic has not set up e-mail yet, so no reminders are sent for now. Your choices are kept for when it does." })
    : null;
  return h("section", { class: "card", id: "reminders", "aria-labelledby": "reminders-title" },
    h("h2", { id: "reminders-title", text: "Reminders by e-mail" }), unavailable, form);
}
