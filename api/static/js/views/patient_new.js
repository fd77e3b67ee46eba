// Therapist: add a patient (name, time zone); the next step is the patient's login and strap.

import { post } from "../api.js";
import { announce, h, mount } from "../dom.js";
import { buildForm } from "../forms.js";

/** The browser's own zone, the likeliest zone of a new patient. */
export function browserZone() {
  try {
    return Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";
  } catch {
    return "UTC";
  }
}

export async function renderNewPatient(main, _params, _current, isCurrent) {
  const form = await buildForm({
    form: "patient",
    id: "patient-form",
    submit: "Add the patient",
    fields: [
      { name: "display_name", autocomplete: "off", help: "How you refer to the patient; only you and other therapists of the patient see it. Researchers see a pseudonym." },
      { name: "timezone", value: browserZone() },
    ],
    onSubmit: async (data) => {
      const patient = await post("/v1/patients", { display_name: data.display_name, timezone: data.timezone });
      announce(`${patient.display_name} was added (pseudonym ${patient.pseudonym}). Next: invite them to set up their login.`, "ok");
      window.location.hash = `#/patients/${patient.id}/access`;
    },
    cancel: { label: "Cancel", onClick: () => { window.location.hash = "#/patients"; } },
  });
  if (!isCurrent()) return;
  mount(main,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/patients", text: "Patients" }), " › ", h("span", { text: "Add a patient" })),
    h("h1", { id: "new-patient-title", text: "Add a patient" }),
    h("div", { class: "card narrow" }, form.el));
  form.control("display_name").focus();
}
