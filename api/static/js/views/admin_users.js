// Admin: accounts. Create a therapist, researcher or admin (they set their own password with a one-time
// link), deactivate (ends their sessions at once) or reactivate, and make a link to set a new password.

import { del, get, post } from "../api.js";
import { formatDateTime } from "../dates.js";
import { announce, confirmButton, dataTable, h, mount } from "../dom.js";
import { buildForm } from "../forms.js";
import { linkPanel } from "../share.js";

const ROLE_NAMES = { admin: "Admin", therapist: "Therapist", researcher: "Researcher", patient: "Patient" };
const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

function state(u) {
  if (u.disabled_at) return `deactivated ${formatDateTime(u.disabled_at, browserZone())}`;
  if (!u.password_set) return "waiting for the first sign-in";
  return "active";
}

function userRow(u, current, pseudonyms, onChange) {
  const tz = browserZone();
  const result = h("div", { class: "row-result", "aria-live": "polite" });
  const name = u.display_name || (u.role === "patient" && pseudonyms.get(u.patient_id)) || "–";
  const actions = [];
  if (!u.disabled_at) {
    actions.push(h("button", { type: "button", class: "small", text: "Password link",
      "aria-label": `Password link for ${u.email}`,
      on: { click: async (ev) => {
        ev.target.disabled = true;
        try {
          const link = await post(`/v1/users/${u.id}/password-link`);
          mount(result, linkPanel(link, { tz, id: `link-${u.id}`, intro: `Give this link to ${u.display_name || u.email}.` }));
        } catch (err) {
          mount(result, h("p", { class: "field-error", role: "alert", text: err.message }));
        } finally {
          ev.target.disabled = false;
        }
      } } }));
  }
  if (u.id === current.userId) {
    actions.push(h("span", { class: "muted small", text: "you" }));
  } else if (u.disabled_at) {
    actions.push(h("button", { type: "button", class: "small", text: "Reactivate", "aria-label": `Reactivate ${u.email}`,
      on: { click: async () => { await post(`/v1/users/${u.id}/reactivate`); announce(`${u.email} can sign in again.`, "ok"); onChange(); } } }));
  } else {
    actions.push(confirmButton("Deactivate", `Deactivate ${u.email}? They are signed out at once.`, "Yes, deactivate", async () => {
      await del(`/v1/users/${u.id}`);
      announce(`${u.email} was deactivated and signed out everywhere.`, "ok");
      onChange();
    }, { "aria-label": `Deactivate ${u.email}` }));
  }
  return {
    attrs: { dataset: { userId: u.id, role: u.role } },
    cells: [
      name,
      h("span", { class: "email", text: u.email }),
      u.role === "patient" && pseudonyms.get(u.patient_id) ? `Patient (${pseudonyms.get(u.patient_id)})` : ROLE_NAMES[u.role],
      h("span", { class: "state", text: state(u) }),
      u.role === "therapist" ? String(u.patients) : "–",
      h("div", { class: "actions" }, actions, result),
    ],
  };
}

export async function renderUsers(main, _params, current, isCurrent) {
  const listHost = h("div", { id: "users" });
  const created = h("div", { "aria-live": "polite", id: "created-result" });
  const roleFilter = h("select", { id: "role-filter" },
    [["", "Everyone"], ["therapist", "Therapists"], ["researcher", "Researchers"], ["admin", "Admins"], ["patient", "Patients"]]
      .map(([value, label]) => h("option", { value, text: label })));

  async function renderList() {
    const [users, patients] = await Promise.all([get("/v1/users"), get("/v1/assignments/patients")]);
    const pseudonyms = new Map((patients || []).map((p) => [p.patient_id, p.pseudonym]));
    const shown = (users || []).filter((u) => !roleFilter.value || u.role === roleFilter.value);
    mount(listHost, dataTable(`${shown.length} account${shown.length === 1 ? "" : "s"}`,
      ["Name", "Email", "Role", "State", "Patients", "Actions"],
      shown.map((u) => userRow(u, current, pseudonyms, renderList)), { id: "user-list", class: "users-table", stack: true }));
  }
  roleFilter.addEventListener("change", renderList);

  const form = await buildForm({
    form: "account",
    id: "account-form",
    submit: "Create the account",
    fields: [
      { name: "display_name", autocomplete: "off" },
      { name: "email", autocomplete: "off" },
      { name: "role", value: "therapist" },
    ],
    onSubmit: async (data) => {
      const user = await post("/v1/users", { email: data.email, display_name: data.display_name, role: data.role });
      mount(created, linkPanel(user.setup_link, { id: "setup-link", tz: browserZone(),
        intro: `${ROLE_NAMES[user.role]} account for ${user.email} created. Give this link to ${user.display_name || "them"}: with it they choose their own password.` }));
      announce(`The ${user.role} account ${user.email} was created.`, "ok");
      await renderList();
    },
  });
  await renderList();
  if (!isCurrent()) return;
  mount(main,
    h("h1", { text: "Users" }),
    h("div", { class: "admin-grid" },
      h("section", { class: "card", "aria-labelledby": "new-account-title" },
        h("h2", { id: "new-account-title", text: "New account" }),
        h("p", { class: "muted small", text: "Patients get their login from their therapist's invitation." }),
        form.el, created),
      h("section", { class: "card", "aria-labelledby": "accounts-title" },
        h("h2", { id: "accounts-title", text: "Accounts" }),
        h("p", { class: "toolbar" }, h("label", { for: "role-filter", text: "Show" }), roleFilter),
        listHost)));
}
