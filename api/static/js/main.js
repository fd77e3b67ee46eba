// Entry point: hash router, the navigation of each role, and the one place page errors are shown.
// Every role has its pages here: therapist (patients and their care), patient (their own page), admin
// (users, assignments, audit log), researcher (cohort and export); invite and password links are public.

import { ApiError, get, logout, session } from "./api.js";
import { announce, h, mount } from "./dom.js";
import { renderLogin } from "./views/login.js";
import { renderLink } from "./views/link.js";
import { renderPatientList } from "./views/patients.js";
import { renderNewPatient } from "./views/patient_new.js";
import { renderTimeline } from "./views/timeline.js";
import { renderDay } from "./views/day.js";
import { renderReport } from "./views/report.js";
import { renderSessions, renderSessionForm } from "./views/patient_sessions.js";
import { renderAccess } from "./views/patient_access.js";
import { renderPatientHome, renderJournalEdit } from "./views/me.js";
import { renderUsers } from "./views/admin_users.js";
import { renderAssignments } from "./views/admin_assignments.js";
import { renderAudit } from "./views/admin_audit.js";
import { renderMail } from "./views/admin_mail.js";
import { renderAnswer } from "./views/me_questionnaires.js";
import { renderPatientQuestionnaires } from "./views/patient_questionnaires.js";
import { renderResearch } from "./views/research.js";
import { NAV, homeFor } from "./roles.js";
import { forgetOfflineData, registerServiceWorker } from "./pwa.js";
import { watchBackground } from "./background.js";

const UUID = "([0-9a-f-]{36})";
const DAY = "(\\d{4}-\\d{2}-\\d{2})";
const TOKEN = "([A-Za-z0-9_-]{20,200})";
const re = (text) => new RegExp(`^${text}$`);

/**
 * The pages. `roles` may see a page (none: public); `keys` name the captured groups; `title` names it
 * for the window title. Add a page here and, when a role should find it in the top bar, in roles.js.
 */
const routes = [
  { pattern: re("#/login"), view: renderLogin, public: true, title: "Sign in" },
  { pattern: re(`#/invite/${TOKEN}`), view: renderLink, public: true, keys: ["token"], title: "Your invitation", kind: "invite" },
  { pattern: re(`#/password/${TOKEN}`), view: renderLink, public: true, keys: ["token"], title: "Set a password", kind: "password" },
  // therapist
  { pattern: re("#/patients"), view: renderPatientList, roles: ["therapist"], title: "Patients" },
  { pattern: re("#/patients/new"), view: renderNewPatient, roles: ["therapist"], title: "Add a patient" },
  { pattern: re(`#/patients/${UUID}`), view: renderTimeline, roles: ["therapist"], keys: ["patientId"], title: "Patient" },
  { pattern: re(`#/patients/${UUID}/sessions`), view: renderSessions, roles: ["therapist"], keys: ["patientId"], title: "Sessions" },
  { pattern: re(`#/patients/${UUID}/sessions/new/(medicine|integration|other)`), view: renderSessionForm,
    roles: ["therapist"], keys: ["patientId", "kind"], title: "New session" },
  { pattern: re(`#/patients/${UUID}/sessions/${UUID}/edit`), view: renderSessionForm, roles: ["therapist"],
    keys: ["patientId", "sessionId"], title: "Edit session" },
  { pattern: re(`#/patients/${UUID}/access`), view: renderAccess, roles: ["therapist"], keys: ["patientId"], title: "Login, straps and consent" },
  { pattern: re(`#/patients/${UUID}/questionnaires`), view: renderPatientQuestionnaires, roles: ["therapist"], keys: ["patientId"], title: "Questionnaires" },
  { pattern: re(`#/patients/${UUID}/day/${DAY}`), view: renderDay, roles: ["therapist", "patient"], keys: ["patientId", "day"], title: "Day" },
  { pattern: re(`#/patients/${UUID}/sessions/${UUID}/report`), view: renderReport, roles: ["therapist"],
    keys: ["patientId", "sessionId"], title: "Session report" },
  // patient
  { pattern: re("#/me"), view: renderPatientHome, roles: ["patient"], title: "My page" },
  { pattern: re(`#/me/journal/${UUID}`), view: renderJournalEdit, roles: ["patient"], keys: ["entryId"], title: "Edit a journal note" },
  { pattern: re("#/me/questionnaires/([a-z][a-z0-9_-]{1,31})"), view: renderAnswer, roles: ["patient"], keys: ["instrument"], title: "Questionnaire" },
  // admin
  { pattern: re("#/admin/users"), view: renderUsers, roles: ["admin"], title: "Users" },
  { pattern: re("#/admin/assignments"), view: renderAssignments, roles: ["admin"], title: "Assignments" },
  { pattern: re("#/admin/audit"), view: renderAudit, roles: ["admin"], title: "Audit log" },
  { pattern: re("#/admin/mail"), view: renderMail, roles: ["admin"], title: "E-mail" },
  // researcher
  { pattern: re("#/research"), view: renderResearch, roles: ["researcher"], title: "Cohort and export" },
];

const ME_KEY = "somatrace.me";

/** The signed-in account (name, email) for the top bar; fetched once per sign-in. */
async function account(current) {
  const cached = JSON.parse(sessionStorage.getItem(ME_KEY) || "null");
  if (cached && cached.id === current.userId) return cached;
  try {
    const me = await get("/v1/users/me");
    sessionStorage.setItem(ME_KEY, JSON.stringify(me));
    return me;
  } catch {
    return null;
  }
}

function renderNav(current, hash) {
  const nav = document.getElementById("nav");
  if (!current) { mount(nav); return; }
  const links = (NAV[current.role] || []).map(([label, href]) => {
    const active = hash === href || hash.startsWith(`${href}/`);
    return h("a", { href, text: label, "aria-current": active ? "page" : null });
  });
  const who = h("span", { class: "who", id: "who", text: current.role });
  account(current).then((me) => {
    if (me && who.isConnected) who.textContent = `${me.display_name || me.email} · ${current.role}`;
  });
  mount(nav, links, who,
    h("button", { type: "button", class: "link-button", id: "logout", text: "Sign out",
      on: { click: () => { logout(); forgetOfflineData(); sessionStorage.removeItem(ME_KEY); window.location.hash = "#/login"; } } }));
}

let renderToken = 0;
let lastHash = null;

async function route() {
  const current = session();
  const hash = window.location.hash || "";
  const main = document.getElementById("main");
  renderNav(current, hash);
  if (hash !== lastHash) announce("");
  lastHash = hash;
  if (hash === "" || hash === "#" || hash === "#/") {
    window.location.replace(homeFor(current));
    return;
  }
  const match = routes.map((r) => ({ r, m: hash.match(r.pattern) })).find((x) => x.m);
  if (!match) {
    document.title = "Page not found · Somatrace";
    mount(main, h("h1", { text: "Page not found" }), h("p", {}, h("a", { href: homeFor(current), text: "Go to your start page" })));
    document.body.dataset.ready = hash;
    return;
  }
  if (!match.r.public && !current) {
    sessionStorage.setItem("somatrace.after_login", hash);
    window.location.replace("#/login");
    return;
  }
  const params = {};
  (match.r.keys || []).forEach((key, i) => { params[key] = match.m[i + 1]; });
  if (match.r.kind) params.kind = params.kind || match.r.kind;
  if (current && current.role === "patient" && params.patientId && !match.r.roles.includes("patient")) {
    const me = await account(current);
    if (me && me.patient_id === params.patientId) {
      window.location.replace("#/me"); // the patient's own view of the same facts, in plain words
      return;
    }
  }
  if (match.r.roles && !match.r.roles.includes(current.role)) {
    showForbidden(main, current);
    return;
  }
  document.title = `${match.r.title} · Somatrace`;
  const token = ++renderToken;
  mount(main, h("p", { class: "muted", text: "Loading…" }));
  main.setAttribute("aria-busy", "true");
  try {
    await match.r.view(main, params, current, () => token === renderToken);
  } catch (err) {
    if (token !== renderToken) return;
    if (err instanceof ApiError && err.status === 401 && !match.r.public) {
      window.location.replace("#/login");
      return;
    }
    if (err instanceof ApiError && (err.status === 403 || err.status === 404)) {
      showForbidden(main, current, err);
      return;
    }
    mount(main, h("h1", { text: "Something went wrong" }),
      h("p", { class: "notice notice-error", text: err instanceof Error ? err.message : String(err) }));
  } finally {
    if (token === renderToken) {
      main.removeAttribute("aria-busy");
      document.body.dataset.ready = hash;
    }
  }
}

function showForbidden(main, current, err) {
  document.title = "Not available · Somatrace";
  mount(main,
    h("h1", { text: "Not available" }),
    h("p", { class: "notice notice-error", id: "forbidden",
      text: err && err.status === 404 ? "This page does not exist or is not yours to see."
        : "You do not have access to this page." }),
    h("p", {}, h("a", { href: homeFor(current), text: "Go to your start page" })));
  document.body.dataset.ready = window.location.hash;
}

window.addEventListener("hashchange", route);
watchBackground();
route();
registerServiceWorker();
