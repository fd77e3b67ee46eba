// Admin: which therapist sees which patient. Patients appear by pseudonym only (the admin sees no
// patient data); assigning a colleague gives them the patient's pages, removing it takes them away.

import { del, get, post } from "../api.js";
import { announce, confirmButton, dataTable, h, mount } from "../dom.js";
import { buildForm } from "../forms.js";

const therapistName = (t) => (t.display_name ? `${t.display_name} (${t.email})` : t.email);

export async function renderAssignments(main, _params, _current, isCurrent) {
  const [therapists, patients] = await Promise.all([get("/v1/users", { role: "therapist" }), get("/v1/assignments/patients")]);
  const active = (therapists || []).filter((t) => !t.disabled_at);
  const byId = new Map((therapists || []).map((t) => [t.id, t]));
  const refresh = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
  const form = await buildForm({
    form: "assignment",
    id: "assignment-form",
    submit: "Assign",
    fields: [
      { name: "patient_id", options: (patients || []).map((p) => ({ value: p.patient_id, label: p.pseudonym })), placeholder: "Choose a patient…" },
      { name: "therapist_id", options: active.map((t) => ({ value: t.id, label: therapistName(t) })), placeholder: "Choose a therapist…" },
    ],
    onSubmit: async (data) => {
      await post("/v1/assignments", { therapist_id: data.therapist_id, patient_id: data.patient_id });
      announce("The therapist now sees this patient.", "ok");
      refresh();
    },
  });
  const rows = (patients || []).map((p) => ({ attrs: { dataset: { patientId: p.patient_id } }, cells: [
    p.pseudonym,
    p.has_account ? "yes" : "not yet",
    p.therapist_ids.length
      ? h("ul", { class: "plain-list" }, p.therapist_ids.map((tid) => {
        const t = byId.get(tid);
        const label = t ? therapistName(t) : tid;
        return h("li", {}, h("span", { text: `${label}${t && t.disabled_at ? " (deactivated)" : ""} ` }),
          confirmButton("Remove", `Remove ${label}'s access to ${p.pseudonym}?`, "Yes, remove", async () => {
            await del(`/v1/assignments/${tid}/${p.patient_id}`);
            announce(`${label} no longer sees ${p.pseudonym}.`, "ok");
            refresh();
          }, { "aria-label": `Remove ${label} from ${p.pseudonym}` }));
      }))
      : h("span", { class: "flag", text: "⚠ no therapist" })] }));
  if (!isCurrent()) return;
  mount(main,
    h("h1", { text: "Assignments" }),
    h("p", { class: "muted", text: "A therapist sees the patients assigned to them, and a therapist who adds a patient is assigned at once. Patients are shown by pseudonym only." }),
    h("div", { class: "admin-grid" },
      h("section", { class: "card", "aria-labelledby": "assign-title" },
        h("h2", { id: "assign-title", text: "Assign a therapist" }),
        patients && patients.length && active.length ? form.el
          : h("p", { class: "muted", id: "assign-empty", text: !active.length ? "There is no active therapist account yet: create one on the Users page." : "There are no patients yet: therapists add them." })),
      h("section", { class: "card", "aria-labelledby": "assigned-title" },
        h("h2", { id: "assigned-title", text: "Patients and their therapists" }),
        rows.length
          ? dataTable(`${rows.length} patient${rows.length === 1 ? "" : "s"}`, ["Patient", "Login", "Therapists"], rows,
            { id: "assignment-list", stack: true })
          : h("p", { class: "muted", text: "No patients yet." }))));
}
