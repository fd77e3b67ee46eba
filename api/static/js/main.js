// Entry point: hash router, navigation by role, and the one place page errors are shown.

import { ApiError, logout, session } from "./api.js";
import { announce, h, mount } from "./dom.js";
import { renderLogin } from "./views/login.js";
import { renderPatientList } from "./views/patients.js";
import { renderTimeline } from "./views/timeline.js";
import { renderDay } from "./views/day.js";
import { renderReport } from "./views/report.js";
import { renderPatientHome } from "./views/me.js";

const routes = [
  { pattern: /^#\/login$/, view: renderLogin, public: true },
  { pattern: /^#\/patients$/, view: renderPatientList, roles: ["therapist"] },
  { pattern: /^#\/patients\/([0-9a-f-]{36})$/, view: renderTimeline, roles: ["therapist", "patient"], keys: ["patientId"] },
  { pattern: /^#\/patients\/([0-9a-f-]{36})\/day\/(\d{4}-\d{2}-\d{2})$/, view: renderDay,
    roles: ["therapist", "patient"], keys: ["patientId", "day"] },
  { pattern: /^#\/patients\/([0-9a-f-]{36})\/sessions\/([0-9a-f-]{36})\/report$/, view: renderReport,
    roles: ["therapist", "patient"], keys: ["patientId", "sessionId"] },
  { pattern: /^#\/me$/, view: renderPatientHome, roles: ["patient"] },
];

function homeFor(current) {
  if (!current) return "#/login";
  if (current.role === "therapist") return "#/patients";
  if (current.role === "patient") return "#/me";
  return "#/login";
}

function renderNav(current) {
  const nav = document.getElementById("nav");
  if (!current) { mount(nav); return; }
  const links = [];
  if (current.role === "therapist") links.push(h("a", { href: "#/patients", text: "Patients" }));
  if (current.role === "patient") links.push(h("a", { href: "#/me", text: "My page" }));
  links.push(h("span", { class: "who", text: current.role }));
  links.push(h("button", { type: "button", class: "link-button", id: "logout", text: "Sign out",
    on: { click: () => { logout(); window.location.hash = "#/login"; } } }));
  mount(nav, links);
}

let renderToken = 0;
let lastHash = null;

async function route() {
  const current = session();
  const hash = window.location.hash || "";
  const main = document.getElementById("main");
  renderNav(current);
  if (hash !== lastHash) announce("");
  lastHash = hash;
  if (hash === "" || hash === "#" || hash === "#/") {
    window.location.replace(homeFor(current));
    return;
  }
  const match = routes.map((r) => ({ r, m: hash.match(r.pattern) })).find((x) => x.m);
  if (!match) {
    mount(main, h("h1", { text: "Page not found" }), h("p", {}, h("a", { href: homeFor(current), text: "Go to your start page" })));
    return;
  }
  if (!match.r.public && !current) {
    sessionStorage.setItem("somatrace.after_login", hash);
    window.location.replace("#/login");
    return;
  }
  if (match.r.roles && !match.r.roles.includes(current.role)) {
    showForbidden(main, current);
    return;
  }
  const params = {};
  (match.r.keys || []).forEach((key, i) => { params[key] = match.m[i + 1]; });
  if (current && current.role === "patient" && params.patientId && current.patientId && params.patientId !== current.patientId) {
    showForbidden(main, current);
    return;
  }
  const token = ++renderToken;
  mount(main, h("p", { class: "muted", text: "Loading…" }));
  main.setAttribute("aria-busy", "true");
  try {
    await match.r.view(main, params, current, () => token === renderToken);
  } catch (err) {
    if (token !== renderToken) return;
    if (err instanceof ApiError && err.status === 401) {
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
  mount(main,
    h("h1", { text: "Not available" }),
    h("p", { class: "notice notice-error", id: "forbidden",
      text: err && err.status === 404 ? "This page does not exist or is not yours to see."
        : "You do not have access to this page." }),
    h("p", {}, h("a", { href: homeFor(current), text: "Go to your start page" })));
  document.body.dataset.ready = window.location.hash;
}

window.addEventListener("hashchange", route);
route();
