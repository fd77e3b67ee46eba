// Therapist: the list of assigned patients with last sync, wear, the latest 7-day mean against the band
// (quality first: how many of the 7 days count and how many were fair), flags, sessions.

import { get } from "../api.js";
import { fmt, h, mount } from "../dom.js";
import { addDays, formatDateTime, formatDay, localDay, normalizeTimeline, patientSummary } from "../model.js";
import { alertBadge, alertBanner, questionnaireFlags } from "../questionnaires.js";

const SUMMARY_DAYS = 35;

export async function loadTimeline(patientId, firstDay, lastDay) {
  const data = await get(`/v1/patients/${patientId}/timeline`, {
    start: `${firstDay}T00:00:00Z`,
    end: `${addDays(lastDay, 1)}T00:00:00Z`,
  });
  return normalizeTimeline(data || {});
}

const BADGE_LABELS = { above: "▲ above band", within: "● within band", below: "▼ below band" };

/** Quality before the value: "5 of 7 days · 1 fair", then the 7-day mean and its badge. */
function positionBadge(summary) {
  const { badge, band } = summary;
  if (!summary.latest) return h("span", { class: "badge badge-none", text: "no data" });
  if (badge.value === null) {
    return h("span", { class: "badge-cell" },
      h("span", { class: "badge badge-none", text: "no 7-day mean" }),
      h("span", { class: "muted small", text: ` (${badge.reason || "too few valid days"})` }));
  }
  const quality = h("span", { class: `badge-quality${badge.fairDays * 2 > badge.days ? " mostly-fair" : ""}`,
    text: `${badge.days} of 7 days${badge.fairDays ? ` · ${badge.fairDays} fair` : ""}` });
  const position = badge.position
    ? h("span", { class: `badge badge-${badge.position}`, text: BADGE_LABELS[badge.position] })
    : h("span", { class: "badge badge-unknown", text: band.ok ? "no band" : "no band yet" });
  return h("span", { class: "badge-cell" },
    quality, " ", h("span", { class: "value", text: fmt(badge.value, 2) }), " ", position,
    h("span", { class: "muted small", text: ` (week to ${formatDay(badge.day)})` }));
}

export async function renderPatientList(main, _params, _current, isCurrent) {
  const patients = (await get("/v1/patients")) || [];
  if (!isCurrent()) return;
  const heading = h("div", { class: "page-head" }, h("h1", { text: "Your patients" }),
    h("a", { href: "#/patients/new", class: "button-link primary", id: "add-patient", text: "Add a patient" }));
  if (!patients.length) {
    mount(main, heading, h("div", { class: "card empty-state", id: "no-patients" },
      h("p", { text: "No patients are assigned to you yet." }),
      h("p", { text: "Add a patient, then invite them to set up their login, record their medicine sessions and pair their chest strap." }),
      h("p", {}, h("a", { href: "#/patients/new", class: "button-link primary", text: "Add your first patient" }))));
    return;
  }
  const rows = await Promise.all(patients.map(async (p) => {
    const tz = p.timezone || "UTC";
    const today = localDay(Date.now(), tz);
    try {
      const timeline = await loadTimeline(p.id, addDays(today, -SUMMARY_DAYS), today);
      return { p, tz, summary: patientSummary(timeline, tz, today) };
    } catch (err) {
      return { p, tz, error: err.message };
    }
  }));
  if (!isCurrent()) return;
  const table = h("table", { class: "patients data-table", id: "patient-list" },
    h("caption", { text: `${patients.length} assigned patients` }),
    h("thead", {}, h("tr", {}, ["Patient", "Last sync", "Wear (7 days)", "Days valid · 7-day ln RMSSD", "Flags", "Last session", "Next session"]
      .map((t) => h("th", { scope: "col", text: t })))),
    h("tbody", {}, rows.map(({ p, tz, summary, error }) => {
      const login = p.has_account ? null : p.invite_state === "open" ? "invited, no login yet" : "no login yet";
      const name = h("th", { scope: "row" },
        h("a", { href: `#/patients/${p.id}`, class: "patient-link", dataset: { patientId: p.id }, text: p.display_name || p.pseudonym }),
        h("div", { class: "muted small", text: [p.pseudonym, login].filter(Boolean).join(" · ") }),
        alertBadge(p));
      if (error) return h("tr", {}, name, h("td", { colspan: 6, class: "notice-error", text: error }));
      const lastSync = p.last_sync_at || p.last_seen_at || p.last_upload_at;
      const flags = [...summary.flags, ...questionnaireFlags(p)];
      return h("tr", { dataset: { patientId: p.id }, class: p.open_safety_alerts ? "row-alert" : null },
        name,
        h("td", { text: lastSync ? formatDateTime(lastSync, tz) : summary.lastDataDay ? `data on ${formatDay(summary.lastDataDay)}` : "never" }),
        h("td", { text: `${fmt(summary.wearHours7d, 1)} h` }),
        h("td", {}, positionBadge(summary)),
        h("td", {}, flags.length
          ? h("ul", { class: "flags" }, flags.map((f) => h("li", { class: "flag", text: `⚠ ${f}` })))
          : h("span", { class: "muted", text: "none" })),
        h("td", { text: summary.lastSession ? `${summary.lastSession.kind}, ${formatDateTime(summary.lastSession.startedAt, tz)}` : "–" }),
        h("td", { text: summary.nextSession ? `${summary.nextSession.kind}, ${formatDateTime(summary.nextSession.startedAt, tz)}` : "–" }));
    })));
  mount(main, heading, alertBanner(patients),
    h("p", { class: "muted", text: "How many of the last 7 complete days count (and how many of those were only fair quality), then their mean ln RMSSD against the patient's own band: where 90 % of a stable person's 7-day means fall. Flags mark data quality, missing integration appointments and questionnaires due, never a diagnosis." }),
    h("div", { class: "table-scroll", tabindex: "0" }, table));
}
