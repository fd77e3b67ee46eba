// The patient's own page: one card per section, in plain words, readable on a phone. Sections come from
// PATIENT_SECTIONS below; each is its own module.

import { h, mount } from "../dom.js";
import { ownPatient } from "./own_patient.js";
import { readingsSection } from "./me_readings.js";
import { recordSection } from "./me_record.js";
import { sessionsSection } from "./me_sessions.js";
import { journalSection, renderJournalEdit } from "./me_journal.js";
import { strapSection } from "./me_strap.js";
import { importSection } from "./import_form.js";
import { consentSection } from "./me_consent.js";
import { questionnairesSection, remindersSection } from "./me_questionnaires.js";

export { renderJournalEdit };

/**
 * The sections of the patient's page, top to bottom. Each is `async (ctx) => Node | null` with
 * ctx = { patient, current, isCurrent, refresh }; a section returns a `section.card` (add the class
 * `wide` to span both columns on a wide screen) and reloads the page with `ctx.refresh()` after a change.
 * Recording with this phone (issue 13) goes after the readings; questionnaires due (issue 12) after the
 * journal.
 */
export const PATIENT_SECTIONS = [
  questionnairesSection,
  readingsSection,
  recordSection,
  sessionsSection,
  journalSection,
  strapSection,
  ({ patient }) => importSection(patient, { intro: "Readings you already have from Apple Health, a Garmin, Wahoo or Polar device, Elite HRV, HRV4Training or Kubios can be added here. Nothing is stored twice; a file that cannot be read stores nothing." }),
  remindersSection,
  consentSection,
];

export async function renderPatientHome(main, _params, current, isCurrent) {
  const patient = await ownPatient();
  if (!isCurrent()) return;
  if (!patient) {
    mount(main, h("h1", { text: "My page" }), h("p", { class: "notice notice-error", text: "No patient record is linked to this account. Please ask your therapist." }));
    return;
  }
  const ctx = {
    patient,
    current,
    isCurrent,
    refresh: () => window.dispatchEvent(new HashChangeEvent("hashchange")),
  };
  const sections = await Promise.all(PATIENT_SECTIONS.map((section) => section(ctx)));
  if (!isCurrent()) return;
  mount(main,
    h("h1", { id: "patient-name", text: `Hello, ${patient.display_name || "there"}` }),
    h("div", { class: "me-sections" }, sections.filter(Boolean)));
}
