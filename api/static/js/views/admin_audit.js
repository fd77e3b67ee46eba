// Admin: the audit log — who read or changed what, of which patient (by pseudonym), when and from where;
// filtered by patient, actor, action and days; newest first with older pages; CSV download of the filter.

import { download, get, saveBlob } from "../api.js";
import { addDays, formatDateTime, fromLocalInput } from "../dates.js";
import { h, mount } from "../dom.js";
import { buildForm } from "../forms.js";

/** Entries per page. */
const PAGE_ROWS = 50;
const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

function select(id, label, options, anyLabel) {
  const el = h("select", { id, name: id }, h("option", { value: "", text: anyLabel }),
    options.map((o) => h("option", { value: o.value, text: o.label })));
  return { el, field: h("div", { class: "field" }, h("label", { for: id, text: label }), el) };
}

function entryRow(e, tz) {
  return h("tr", { dataset: { auditId: String(e.id), action: e.action } },
    h("th", { scope: "row" }, h("time", { datetime: e.at, text: formatDateTime(e.at, tz) })),
    h("td", { "data-label": "Who" }, h("span", { text: e.actor || "(unknown)" }), h("div", { class: "muted small", text: e.actor_role })),
    h("td", { class: "summary", "data-label": "What" }, h("span", { text: e.summary }), h("div", { class: "muted small", text: e.action })),
    h("td", { class: "patient", "data-label": "Patient", text: e.patient_pseudonym || "–" }),
    h("td", { class: "muted small route", "data-label": "Route", text: e.resource }),
    h("td", { class: "muted small", "data-label": "From", text: e.client_addr || "–" }));
}

export async function renderAudit(main, _params, _current, isCurrent) {
  const tz = browserZone();
  const [users, patients, actions] = await Promise.all([
    get("/v1/users"), get("/v1/assignments/patients"), get("/v1/audit/actions"),
  ]);
  const patient = select("audit-patient", "Patient", (patients || []).map((p) => ({ value: p.pseudonym, label: p.pseudonym })), "any patient");
  const actor = select("audit-actor", "Who", (users || []).map((u) => ({ value: u.id, label: u.display_name ? `${u.display_name} (${u.email})` : u.email })), "anyone");
  const action = select("audit-action", "Action", (actions || []).map((a) => ({ value: a, label: a })), "any action");
  const results = h("div", { id: "audit-results", "aria-live": "polite" });
  const status = h("p", { class: "muted small", id: "audit-status" });
  let filters = {};

  function query(data) {
    return {
      pseudonym: patient.el.value || undefined,
      actor_id: actor.el.value || undefined,
      action: action.el.value || undefined,
      since: data.since ? fromLocalInput(`${data.since}T00:00`, tz) : undefined,
      until: data.until ? fromLocalInput(`${addDays(data.until, 1)}T00:00`, tz) : undefined,
    };
  }

  async function load(beforeId = null) {
    const rows = (await get("/v1/audit", { ...filters, before_id: beforeId ?? undefined, limit: PAGE_ROWS })) || [];
    let body = results.querySelector("tbody");
    if (beforeId === null || !body) {
      body = h("tbody", {});
      mount(results, rows.length
        ? h("div", { class: "table-scroll", tabindex: "0" }, h("table", { class: "data-table stack audit-table", id: "audit-list" },
          h("caption", { text: "Audit entries, newest first" }),
          h("thead", {}, h("tr", {}, ["When", "Who", "What", "Patient", "Route", "From"].map((t) => h("th", { scope: "col", text: t })))),
          body))
        : h("p", { class: "notice", id: "audit-empty", text: "No entries match these filters." }));
    }
    body.append(...rows.map((e) => entryRow(e, tz)));
    const shown = body.children.length;
    results.querySelector("#audit-more")?.remove();
    if (rows.length === PAGE_ROWS) {
      results.append(h("p", {}, h("button", { type: "button", id: "audit-more", text: "Show older entries",
        on: { click: () => load(rows[rows.length - 1].id) } })));
    }
    status.textContent = rows.length || shown ? `${shown} entr${shown === 1 ? "y" : "ies"} shown.` : "";
  }

  const downloadButton = h("button", { type: "button", id: "audit-csv", text: "Download as CSV" });
  downloadButton.addEventListener("click", async () => {
    downloadButton.disabled = true;
    try {
      const file = await download("/v1/audit/csv", { query: filters, accept: "text/csv",
        onProgress: ({ received }) => { status.textContent = `Downloading… ${Math.round(received / 1024)} kB`; } });
      saveBlob(file.blob, file.filename);
      status.textContent = `Downloaded ${file.filename} (${Math.max(1, Math.round(file.received / 1024))} kB).`;
    } catch (err) {
      status.textContent = `The download failed: ${err.message}`;
    } finally {
      downloadButton.disabled = false;
    }
  });

  const form = await buildForm({
    form: "audit_filter",
    id: "audit-filter",
    class: "filter-form",
    submit: "Show entries",
    fields: [{ name: "since" }, { name: "until" }],
    extra: h("div", { class: "filter-selects" }, patient.field, actor.field, action.field),
    onSubmit: async (data) => {
      filters = query(data);
      await load();
    },
  });
  await load();
  if (!isCurrent()) return;
  mount(main,
    h("h1", { text: "Audit log" }),
    h("p", { class: "muted", text: "Every read and change of a patient's data, every refusal, account change and export. Patients appear by pseudonym." }),
    h("section", { class: "card", "aria-label": "Filter" }, form.el),
    h("p", { class: "toolbar" }, status, downloadButton),
    results);
}
