// Questionnaires shared by the patient's and the therapist's pages: the instruments (loaded once), the
// crisis message and reading notice, severity badges, the due list, and the answer form (one question
// per screen or the whole form; answers kept in this tab if the page reloads).

import { get } from "./api.js";
import { formatDateTime, localizeDays } from "./dates.js";
import { h, mount } from "./dom.js";

let instrumentsPromise = null;
let crisisPromise = null;

/** The clinic's instruments by id (GET /v1/instruments), fetched once per page load. */
export function loadInstruments() {
  if (!instrumentsPromise) {
    instrumentsPromise = get("/v1/instruments").then((list) => new Map((list || []).map((i) => [i.id, i])))
      .catch((err) => { instrumentsPromise = null; throw err; });
  }
  return instrumentsPromise;
}

/** { crisis_message, reading_notice } (GET /v1/crisis-message, public). */
export function loadCrisisInfo() {
  if (!crisisPromise) {
    crisisPromise = get("/v1/crisis-message").catch((err) => { crisisPromise = null; throw err; });
  }
  return crisisPromise;
}

/** The short name of an instrument ("PHQ-9"), or its id when unknown. */
export function shortTitle(instruments, id) {
  const inst = instruments.get(id);
  return inst ? inst.short_title : id;
}

/** The plain words on the journal and questionnaire pages: not read right away, and what to do in a crisis. */
export function readingNotice(info, id = "reading-notice") {
  return h("div", { class: "notice notice-warn reading-notice", id, role: "note" },
    h("p", { text: info.reading_notice }),
    h("p", {}, h("strong", { text: "In a crisis: " }), info.crisis_message));
}

/** The crisis message shown at once after an answer that raised a safety alert (focus moves to it). */
export function crisisBox(message, id = "crisis-message") {
  return h("div", { class: "crisis", id, role: "alert", tabindex: "-1" },
    h("h2", { text: "Please read this now" }),
    h("p", { class: "crisis-text", text: message }),
    h("p", { text: "Your therapist has been told, but they may not see it right away: do not wait for them if you are in danger." }));
}

/** Severity band of `total` on `inst` (its published bands). */
export function bandOf(inst, total) {
  if (!inst || total === null || total === undefined) return null;
  return inst.bands.find((b) => total >= b.min && total <= b.max) || null;
}

/** Position of a band among the instrument's bands, 0 (lowest) to 1 (highest), for its colour. */
export function bandLevel(inst, band) {
  if (!inst || !band) return 0;
  const i = inst.bands.findIndex((b) => b.label === band.label);
  return inst.bands.length > 1 ? i / (inst.bands.length - 1) : 0;
}

/** "11 · moderate" as a badge coloured by the band's position (light to dark). */
export function scoreBadge(inst, total, severity) {
  const band = bandOf(inst, total);
  const level = Math.round(bandLevel(inst, band) * 4);
  return h("span", { class: `score score-l${level}` },
    h("span", { class: "value", text: String(total) }),
    h("span", { class: "score-band", text: ` ${severity || (band ? band.label : "")}` }));
}

const STATE_TEXT = { due: "due", overdue: "overdue", done: "done" };

/** Due and overdue points first (by due date), then done ones (newest first), as list items. */
export function sortDue(due) {
  const open = due.filter((d) => d.state !== "done").sort((a, b) => a.due_at.localeCompare(b.due_at));
  const done = due.filter((d) => d.state === "done").sort((a, b) => b.due_at.localeCompare(a.due_at));
  return { open, done };
}

/** One due item: instrument, why, since when, and (when open) an action built by `action(item)`. */
export function dueItem(item, instruments, tz, action) {
  return h("li", { class: `due-item due-${item.state}`, dataset: { instrument: item.instrument, state: item.state } },
    h("span", { class: `badge badge-${item.state}`, text: STATE_TEXT[item.state] || item.state }), " ",
    h("strong", { text: shortTitle(instruments, item.instrument) }), " ",
    h("span", { class: "muted small", text: `${localizeDays(item.reason)}; since ${formatDateTime(item.due_at, tz)}` }),
    action ? [" ", action(item)] : null);
}

// --- the answer form ------------------------------------------------------------------------------

const DRAFT_PREFIX = "somatrace.draft";

function draftKey(patientId, instrumentId) {
  return `${DRAFT_PREFIX}.${patientId}.${instrumentId}`;
}

/** The saved draft of this form in this tab (answers, question shown, mode), or null. */
export function loadDraft(patientId, instrumentId, items) {
  try {
    const raw = JSON.parse(sessionStorage.getItem(draftKey(patientId, instrumentId)) || "null");
    if (!raw || !Array.isArray(raw.answers) || raw.answers.length !== items) return null;
    return raw;
  } catch {
    return null;
  }
}

export function clearDraft(patientId, instrumentId) {
  sessionStorage.removeItem(draftKey(patientId, instrumentId));
}

function saveDraft(patientId, instrumentId, state) {
  sessionStorage.setItem(draftKey(patientId, instrumentId), JSON.stringify({ ...state, savedAt: Date.now() }));
}

/**
 * The answer form of `inst` for `patientId`. `onSubmit(answers)` is awaited (it throws an ApiError to
 * show); `extra` are more fields above the questions (e.g. the date of a form given in clinic).
 * Mode "one" shows one question at a time with Back / Next; "all" shows every question. The choice
 * and every answer are kept in sessionStorage until the form is sent.
 */
export function answerForm(inst, patientId, { onSubmit, extra = null, submitLabel = "Send my answers", defaultMode = null }) {
  const n = inst.items.length;
  const draft = loadDraft(patientId, inst.id, n);
  const phone = window.matchMedia("(max-width: 600px)").matches;
  const state = {
    answers: draft ? draft.answers : new Array(n).fill(null),
    index: draft ? Math.min(draft.index || 0, n - 1) : 0,
    mode: draft ? draft.mode : (defaultMode || (phone ? "one" : "all")),
  };
  const form = h("form", { class: "questionnaire", id: `form-${inst.id}`, novalidate: true, dataset: { instrument: inst.id } });
  const restored = draft && draft.answers.some((a) => a !== null)
    ? h("p", { class: "notice notice-ok", id: "draft-restored", text: "Your answers so far were kept." }) : null;
  const progress = h("p", { class: "progress muted", id: "question-progress", "aria-live": "polite" });
  const errorBox = h("div", { class: "notice notice-error", id: "answer-errors", role: "alert", hidden: true });
  const modeButton = h("button", { type: "button", class: "link-button", id: "toggle-mode" });
  const persist = () => saveDraft(patientId, inst.id, state);

  const fieldsets = inst.items.map((item, i) => {
    const legend = h("legend", {}, h("span", { class: "item-number", text: `${item.number}. ` }), item.text);
    const options = item.options.map((opt) => {
      const id = `q-${inst.id}-${i}-${opt.value}`;
      const input = h("input", { type: "radio", name: `item-${i}`, id, value: String(opt.value),
        checked: state.answers[i] === opt.value,
        on: { change: () => { state.answers[i] = opt.value; persist(); clearItemError(i); updateNav(); } } });
      return h("div", { class: "option" }, input, h("label", { for: id, text: opt.label }));
    });
    return h("fieldset", { class: "question", id: `question-${i + 1}`, dataset: { item: String(i + 1) } },
      legend, h("div", { class: "options" }, options),
      h("p", { class: "field-error", id: `question-${i + 1}-error`, hidden: true }));
  });

  function clearItemError(i) {
    const el = fieldsets[i].querySelector(".field-error");
    el.hidden = true;
    fieldsets[i].removeAttribute("aria-invalid");
  }

  const back = h("button", { type: "button", id: "question-back", text: "Back",
    on: { click: () => { state.index = Math.max(0, state.index - 1); persist(); show(true); } } });
  const next = h("button", { type: "button", class: "primary", id: "question-next", text: "Next",
    on: { click: () => { if (state.answers[state.index] === null) { markMissing([state.index]); return; }
      state.index = Math.min(n - 1, state.index + 1); persist(); show(true); } } });
  const submit = h("button", { type: "submit", class: "primary", id: "send-answers", text: submitLabel });
  const nav = h("div", { class: "form-buttons question-nav" }, back, next);
  const buttons = h("div", { class: "form-buttons" }, submit);

  function updateNav() {
    const answered = state.answers.filter((a) => a !== null).length;
    if (state.mode === "one") {
      progress.textContent = `Question ${state.index + 1} of ${n} · ${answered} answered`;
      back.disabled = state.index === 0;
      next.hidden = state.index === n - 1;
      buttons.hidden = state.index !== n - 1;
    } else {
      progress.textContent = `${answered} of ${n} answered`;
      buttons.hidden = false;
    }
  }

  function show(focus) {
    const one = state.mode === "one";
    fieldsets.forEach((fs, i) => { fs.hidden = one && i !== state.index; });
    nav.hidden = !one;
    modeButton.textContent = one ? "Show all questions on one page" : "Show one question at a time";
    updateNav();
    if (focus && one) {
      const checked = fieldsets[state.index].querySelector("input:checked") || fieldsets[state.index].querySelector("input");
      checked.focus();
    }
  }

  function markMissing(indices) {
    for (const i of indices) {
      const fs = fieldsets[i];
      const el = fs.querySelector(".field-error");
      el.textContent = "Please choose one answer.";
      el.hidden = false;
      fs.setAttribute("aria-invalid", "true");
    }
  }

  modeButton.addEventListener("click", () => { state.mode = state.mode === "one" ? "all" : "one"; persist(); show(false); });

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    errorBox.hidden = true;
    const missing = state.answers.map((a, i) => (a === null ? i : null)).filter((i) => i !== null);
    if (missing.length) {
      markMissing(missing);
      mount(errorBox, h("p", { text: `Please answer ${missing.length === 1 ? "question" : "questions"} ${missing.map((i) => i + 1).join(", ")}.` }),
        h("ul", {}, missing.map((i) => h("li", {}, h("a", { href: `#question-${i + 1}`, text: `Question ${i + 1}`,
          on: { click: (e) => { e.preventDefault(); state.index = i; show(true); fieldsets[i].querySelector("input").focus(); } } })))));
      errorBox.hidden = false;
      errorBox.focus();
      return;
    }
    submit.disabled = true;
    try {
      await onSubmit([...state.answers]);
      clearDraft(patientId, inst.id);
    } catch (err) {
      const items = (err.fields && err.fields.errors) || [];
      mount(errorBox, h("p", { text: err.message || "Your answers could not be sent." }),
        items.length ? h("ul", {}, items.map((e) => h("li", { text: e.item ? `Question ${e.item}: ${e.msg}` : e.msg }))) : null,
        h("p", { text: "Your answers are kept on this page; please try again." }));
      errorBox.hidden = false;
      errorBox.setAttribute("tabindex", "-1");
      errorBox.focus();
    } finally {
      submit.disabled = false;
    }
  });

  mount(form,
    h("p", { class: "instructions", text: inst.instructions }),
    inst.stem ? h("p", { class: "stem", text: inst.stem }) : null,
    restored,
    extra,
    h("p", {}, modeButton),
    progress,
    errorBox,
    fieldsets,
    nav,
    buttons);
  show(false);
  return form;
}

// --- the therapist's patient list -------------------------------------------------------------------

/** A patient's safety-alert badge for the patient list (a link to their questionnaires page), or null. */
export function alertBadge(patient) {
  const n = patient.open_safety_alerts || 0;
  if (!n) return null;
  return h("a", { href: `#/patients/${patient.id}/questionnaires`, class: "badge badge-alert alert-link",
    dataset: { alerts: String(n) }, text: `⚠ ${n === 1 ? "safety alert" : `${n} safety alerts`}: please act` });
}

/** The patient list's questionnaire flags ("2 questionnaires overdue"), as words. */
export function questionnaireFlags(patient) {
  const out = [];
  if (patient.questionnaires_overdue) out.push(`${patient.questionnaires_overdue} questionnaire${patient.questionnaires_overdue > 1 ? "s" : ""} overdue`);
  if (patient.questionnaires_due) out.push(`${patient.questionnaires_due} questionnaire${patient.questionnaires_due > 1 ? "s" : ""} due`);
  return out;
}

/** A banner above the patient list naming the patients with open safety alerts (null when none). */
export function alertBanner(patients) {
  const flagged = patients.filter((p) => p.open_safety_alerts);
  if (!flagged.length) return null;
  return h("div", { class: "notice notice-error alert-banner", id: "alert-banner", role: "alert" },
    h("p", {}, h("strong", { text: `Safety alert${flagged.length > 1 ? "s" : ""}: ` }),
      "an answer showed risk. Please contact the patient and acknowledge the alert with a note."),
    h("ul", {}, flagged.map((p) => h("li", {}, h("a", { href: `#/patients/${p.id}/questionnaires`, text: p.display_name || p.pseudonym })))));
}
