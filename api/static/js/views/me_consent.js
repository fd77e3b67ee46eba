// Patient page section: research consent as two switches (readings; also the text of journal notes) with
// what is shared and what is not. A change is saved at once and can be undone at any time.

import { get, put } from "../api.js";
import { formatDateTime } from "../dates.js";
import { announce, h } from "../dom.js";

function consentSwitch(id, label, checked, disabled) {
  const input = h("input", { type: "checkbox", role: "switch", id, checked, disabled, "aria-describedby": `${id}-state` });
  const state = h("span", { class: "switch-state", id: `${id}-state`, text: checked ? "On" : "Off" });
  return { input, state, el: h("div", { class: "switch-row" }, input, h("label", { for: id, text: label }), state) };
}

function sharedList() {
  return h("div", { class: "consent-explained" },
    h("h3", { text: "What researchers receive" }),
    h("ul", {},
      h("li", { text: "Your heartbeat intervals and the values computed from them (heart rate, heart-rate variability, signal quality)." }),
      h("li", { text: "The dates and kinds of your sessions and appointments, and the tags, mood and body scores of your journal notes." }),
      h("li", { text: "Your questionnaire answers and their scores (PHQ-9, GAD-7, PCL-5), with their dates." }),
      h("li", { text: "The words of your journal notes only if you turn on the second switch." })),
    h("h3", { text: "What they never receive" }),
    h("ul", {},
      h("li", { text: "Your name, email address, your therapist's name or anything else that names you: you appear under a research code (pseudonym) such as R-3F9A0C12B7DE, which nobody at the clinic sees." }),
      h("li", { text: "Your therapist's notes about sessions." })),
    h("p", { class: "muted small", text: "Researchers may also shift all your dates by a secret number of weeks. You can turn sharing off at any time: exports made afterwards leave you out; copies researchers already made cannot be called back. Your care does not depend on this choice." }));
}

export async function consentSection({ patient }) {
  const consent = await get(`/v1/patients/${patient.id}/consent`);
  const research = consentSwitch("consent-research", "Share my pseudonymised readings for research", consent.research, false);
  const journal = consentSwitch("consent-journal", "Also share the words of my journal notes", consent.journal_text, !consent.research);
  const updated = h("p", { class: "muted small", id: "consent-updated",
    text: consent.updated_at ? `Last changed ${formatDateTime(consent.updated_at, patient.timezone || "UTC")}.` : "You have not chosen yet: nothing is shared." });
  const error = h("p", { class: "field-error", role: "alert", hidden: true, id: "consent-error" });

  async function save(body, input) {
    research.input.disabled = true;
    journal.input.disabled = true;
    error.hidden = true;
    try {
      const now = await put(`/v1/patients/${patient.id}/consent`, body);
      research.input.checked = now.research;
      journal.input.checked = now.journal_text;
      research.state.textContent = now.research ? "On" : "Off";
      journal.state.textContent = now.journal_text ? "On" : "Off";
      updated.textContent = `Last changed ${formatDateTime(now.updated_at, patient.timezone || "UTC")}.`;
      announce(now.research
        ? `Saved: your pseudonymised readings are shared for research${now.journal_text ? ", with the words of your notes" : ""}.`
        : "Saved: nothing is shared for research.", "ok");
    } catch (err) {
      input.checked = !input.checked; // the switch shows what is stored
      error.textContent = `Not saved: ${err.message}`;
      error.hidden = false;
    } finally {
      research.input.disabled = false;
      journal.input.disabled = !research.input.checked;
    }
  }
  research.input.addEventListener("change", () => save({ research: research.input.checked, journal_text: research.input.checked && journal.input.checked }, research.input));
  journal.input.addEventListener("change", () => save({ research: true, journal_text: journal.input.checked }, journal.input));

  return h("section", { class: "card consent", id: "consent", "aria-labelledby": "consent-title" },
    h("h2", { id: "consent-title", text: "Research" }),
    h("p", { text: "Somatrace can share what your strap recorded with researchers studying how people change after ketamine-assisted therapy. It is your choice." }),
    research.el, journal.el, updated, error, sharedList());
}
