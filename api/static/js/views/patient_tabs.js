// The therapist's pages of one patient, as tabs under the patient's name: trend (timeline), sessions,
// and login, straps and consent. Add a page of one patient here (e.g. questionnaires, issue 12).

import { h } from "../dom.js";

/** [key, label, path suffix after #/patients/<id>]. */
export const PATIENT_TABS = [
  ["trend", "Trend", ""],
  ["sessions", "Sessions", "/sessions"],
  ["questionnaires", "Questionnaires", "/questionnaires"],
  ["access", "Login, straps and consent", "/access"],
];

/** The tab bar for `patient` with `active` marked as the current page. */
export function patientTabs(patient, active) {
  return h("nav", { class: "tabs", "aria-label": `Pages of ${patient.display_name || patient.pseudonym}` },
    h("ul", {}, PATIENT_TABS.map(([key, label, suffix]) => h("li", {},
      h("a", { href: `#/patients/${patient.id}${suffix}`, text: label, id: `tab-${key}`,
        "aria-current": key === active ? "page" : null })))));
}

/** Breadcrumb, name and pseudonym, and the tabs: the head of every page of one patient. */
export function patientHeader(patient, active, crumb = null) {
  const name = patient.display_name || patient.pseudonym;
  return [
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" },
      h("a", { href: "#/patients", text: "Patients" }), " › ",
      crumb ? [h("a", { href: `#/patients/${patient.id}`, text: name }), " › ", h("span", { text: crumb })]
        : h("span", { text: name })),
    h("h1", { id: "patient-name", text: name }),
    h("p", { class: "muted", text: `${patient.pseudonym || ""} · time zone ${patient.timezone || "UTC"}` }),
    patientTabs(patient, active),
  ];
}
