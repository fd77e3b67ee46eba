// Therapist: one patient's login (invite them with a one-time link, or a link to set a new password),
// their straps (pair for them, revoke), their research consent as they chose it, and their details.

import { del, get, patch, post } from "../api.js";
import { formatDateTime } from "../dates.js";
import { add, announce, confirmButton, dataTable, h, mount } from "../dom.js";
import { buildForm } from "../forms.js";
import { pairingPanel } from "../pairing.js";
import { linkPanel } from "../share.js";
import { strapList } from "./me_strap.js";
import { importSection } from "./import_form.js";
import { patientHeader } from "./patient_tabs.js";

const INVITE_STATES = {
  open: "waiting to be accepted",
  accepted: "accepted",
  withdrawn: "withdrawn",
  expired: "expired",
};

async function loginSection(patient, login, invites, refresh) {
  const tz = patient.timezone || "UTC";
  const result = h("div", { "aria-live": "polite", id: "login-result" });
  const section = h("section", { class: "card", id: "login", "aria-labelledby": "login-title" },
    h("h2", { id: "login-title", text: "Login" }));
  if (login.has_login) {
    add(section,
      h("p", { id: "login-state" }, "Signs in as ", h("strong", { text: login.email }),
        login.created_at ? ` (since ${formatDateTime(login.created_at, tz)})` : "", "."),
      login.disabled_at ? h("p", { class: "notice notice-warn", text: "This login is deactivated; the clinic's administrator can reactivate it." }) : null,
      h("p", { class: "muted small", text: "If the patient forgot their password, make a link with which they set a new one. You never see their password." }),
      login.disabled_at ? null : h("button", { type: "button", id: "password-link", text: "Make a link to set a new password", on: { click: async (ev) => {
        ev.target.disabled = true;
        try {
          const link = await post(`/v1/patients/${patient.id}/account/password-link`);
          mount(result, linkPanel(link, { id: "reset-link", tz, intro: "Give this link to the patient." }));
        } catch (err) {
          mount(result, h("p", { class: "notice notice-error", role: "alert", text: err.message }));
        } finally {
          ev.target.disabled = false;
        }
      } } }),
      result);
    return section;
  }
  const form = await buildForm({
    form: "invite",
    id: "invite-form",
    submit: "Make an invitation link",
    fields: [{ name: "email", autocomplete: "off" }],
    onSubmit: async (data) => {
      const created = await post(`/v1/patients/${patient.id}/invites`, { email: data.email });
      mount(result, linkPanel(created.link, { id: "invite-link", tz,
        intro: `Give this invitation to ${patient.display_name} (for example by email to ${created.email}); with it they choose their own password.` }));
      announce("The invitation link was made.", "ok");
      renderInvites();
    },
  });
  const invitesHost = h("div", { id: "invites" });
  function renderInvites(list = null) {
    const show = (items) => mount(invitesHost, items.length
      ? dataTable("Invitations", ["Email", "Made", "Valid until", "State", "Withdraw"], items.map((i) => ({
        attrs: { dataset: { inviteId: i.id, state: i.state } },
        cells: [
          i.email,
          formatDateTime(i.created_at, tz),
          formatDateTime(i.expires_at, tz),
          INVITE_STATES[i.state] || i.state,
          i.state === "open" ? confirmButton("Withdraw", "Withdraw this invitation?", "Yes, withdraw", async () => {
            await del(`/v1/patients/${patient.id}/invites/${i.id}`);
            announce("The invitation was withdrawn; its link no longer works.", "ok");
            refresh();
          }, { "aria-label": `Withdraw the invitation to ${i.email}` }) : "–",
        ],
      })), { id: "invite-list", stack: true })
      : null);
    if (list) show(list);
    else get(`/v1/patients/${patient.id}/invites`).then(show);
  }
  renderInvites(invites);
  add(section,
    h("p", { id: "login-state", text: "No login yet. Invite the patient: you get a one-time link to give them, with which they choose their own password. The link works once and expires." }),
    form.el, result, invitesHost);
  return section;
}

async function strapsSection(patient, devices, refresh) {
  const tz = patient.timezone || "UTC";
  const result = h("div", { "aria-live": "polite" });
  const form = await buildForm({
    form: "device",
    id: "device-form",
    submit: "Make a pairing code",
    fields: [{ name: "label", value: "Chest strap", autocomplete: "off" }],
    onSubmit: async (data) => {
      const device = await post(`/v1/patients/${patient.id}/devices`, { label: data.label.trim() || null });
      mount(result, pairingPanel(device.token, "the patient's"));
      announce("A pairing code was made; it is shown once.", "ok");
    },
  });
  return h("section", { class: "card", id: "straps", "aria-labelledby": "straps-title" },
    h("h2", { id: "straps-title", text: "Straps" }),
    strapList(devices, tz, {
      idPrefix: "patient-device",
      revokeLabel: "Revoke",
      onRevoke: async (d) => {
        await del(`/v1/devices/${d.id}`);
        announce("The strap was revoked; its uploads are refused from now on.", "ok");
        refresh();
      },
    }),
    h("h3", { text: "Pair a strap for the patient" }),
    h("p", { class: "muted small", text: "The patient can also do this on their own page." }),
    form.el, result);
}

function consentSection(patient) {
  const tz = patient.timezone || "UTC";
  const state = patient.research_consent
    ? `Shares pseudonymised readings for research${patient.journal_text_consent ? ", with the words of journal notes" : " (not the words of journal notes)"}.`
    : "Does not share anything for research.";
  return h("section", { class: "card", id: "consent-state", "aria-labelledby": "consent-title" },
    h("h2", { id: "consent-title", text: "Research consent" }),
    h("p", { id: "consent-summary", text: state }),
    h("p", { class: "muted small", text: `${patient.consent_updated_at ? `Last changed by the patient ${formatDateTime(patient.consent_updated_at, tz)}. ` : "The patient has not chosen yet. "}Only the patient can change this, on their own page. Researchers see them under a separate research code, never as ${patient.pseudonym} or by name.` }));
}

async function detailsSection(patient) {
  const form = await buildForm({
    form: "patient",
    id: "details-form",
    submit: "Save details",
    fields: [
      { name: "display_name", value: patient.display_name, autocomplete: "off" },
      { name: "timezone", value: patient.timezone },
    ],
    onSubmit: async (data) => {
      await patch(`/v1/patients/${patient.id}`, { display_name: data.display_name, timezone: data.timezone });
      announce("The details were saved.", "ok");
      window.dispatchEvent(new HashChangeEvent("hashchange"));
    },
  });
  return h("section", { class: "card", id: "details", "aria-labelledby": "details-title" },
    h("h2", { id: "details-title", text: "Details" }), form.el);
}

export async function renderAccess(main, { patientId }, _current, isCurrent) {
  const [patient, login, invites, devices] = await Promise.all([
    get(`/v1/patients/${patientId}`),
    get(`/v1/patients/${patientId}/account`),
    get(`/v1/patients/${patientId}/invites`),
    get(`/v1/patients/${patientId}/devices`),
  ]);
  const refresh = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
  const sections = await Promise.all([
    loginSection(patient, login, invites || [], refresh),
    strapsSection(patient, devices || [], refresh),
    consentSection(patient),
    importSection(patient, { idPrefix: "import", title: "Import a file from the patient's device", zoneOwner: "the patient's" }),
    detailsSection(patient),
  ]);
  if (!isCurrent()) return;
  mount(main, patientHeader(patient, "access"), h("div", { class: "access-grid" }, sections));
}
