// Researcher: the consented cohort (pseudonyms, days of data, date ranges — never names) and the export
// form (format, days, date shift, which patients): it first asks the API what the export would hold and
// says why when it would be empty, then downloads the zip with its progress.

import { download, get, saveBlob } from "../api.js";
import { formatDateTime, formatDayRange, today } from "../dates.js";
import { announce, dataTable, h, mount } from "../dom.js";
import { buildForm } from "../forms.js";

const browserZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

function megabytes(bytes) {
  return bytes >= 1048576 ? `${(bytes / 1048576).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} kB`;
}

function cohortTable(cohort, tz) {
  const headers = ["Pseudonym", "Days with data", "Days with a daily value", "Recorded", "Journal text", "Consent given", "Include"];
  return dataTable(`${cohort.length} patient${cohort.length === 1 ? "" : "s"} with research consent`, headers,
    cohort.map((p) => ({
      attrs: { dataset: { pseudonym: p.pseudonym } },
      cells: [
        h("span", { class: "pseudonym", text: p.pseudonym }),
        String(p.days_with_data),
        String(p.days_with_value),
        p.first_day ? formatDayRange(p.first_day, p.last_day) : "no recordings yet",
        p.journal_text ? "included" : "not included",
        p.consent_updated_at ? formatDateTime(p.consent_updated_at, tz) : "–",
        h("input", { type: "checkbox", class: "include", id: `include-${p.pseudonym}`, value: p.pseudonym, checked: true,
          "aria-label": `Include ${p.pseudonym} in the export` }),
      ],
    })), { id: "cohort-list", stack: true });
}

export async function renderResearch(main, _params, _current, isCurrent) {
  const tz = browserZone();
  const cohort = (await get("/v1/cohort")) || [];
  const firstDay = cohort.map((p) => p.first_day).filter(Boolean).sort()[0] || today("UTC");
  const lastDay = cohort.map((p) => p.last_day).filter(Boolean).sort().reverse()[0] || today("UTC");
  const outcome = h("div", { id: "export-outcome", "aria-live": "polite" });
  const progress = h("progress", { id: "export-progress", hidden: true, "aria-label": "Export download" });
  const tableHost = h("div", { id: "cohort" }, cohort.length ? cohortTable(cohort, tz)
    : h("p", { class: "notice", id: "cohort-empty", text: "No patient has given research consent yet. Patients choose this on their own page; until then there is nothing to export." }));

  function chosen() {
    const boxes = [...tableHost.querySelectorAll("input.include")];
    const picked = boxes.filter((b) => b.checked).map((b) => b.value);
    return picked.length === boxes.length ? null : picked;
  }

  const form = await buildForm({
    form: "export",
    id: "export-form",
    class: "narrow",
    submit: "Check and download",
    fields: [
      { name: "format", value: "csv" },
      { name: "start", value: firstDay, help: "Days in UTC." },
      { name: "end", value: lastDay },
      { name: "date_shift", value: false, help: "Shift each patient's dates by a secret whole number of weeks (the weekday is kept)." },
    ],
    onSubmit: async (data) => {
      const picked = chosen();
      if (picked && !picked.length) {
        mount(outcome, h("p", { class: "notice notice-error", role: "alert", id: "export-message", text: "Tick at least one patient, or all of them." }));
        return;
      }
      mount(outcome, h("p", { class: "muted", text: "Checking what the export would hold…" }));
      const refused = (err) => mount(outcome, h("p", { class: "notice notice-error", role: "alert", id: "export-message",
        text: `The export was refused: ${err.message}${err.status === 429 ? " Please wait a minute and try again." : ""}` }));
      let preview;
      try {
        preview = await get("/v1/cohort/preview", {
          format: data.format, start: data.start, end: data.end, date_shift: data.date_shift ? "true" : "false",
          patients: picked ? picked.join(",") : undefined,
        });
      } catch (err) {
        if (err.fields && Array.isArray(err.fields.errors) && err.fields.errors.length) {
          mount(outcome);
          throw err; // the form shows each field's message
        }
        refused(err);
        return;
      }
      if (preview.empty) {
        mount(outcome, h("p", { class: "notice notice-warn", role: "alert", id: "export-message", text: `Nothing to export: ${preview.message}` }));
        return;
      }
      const message = h("p", { class: "notice", id: "export-message", text: `${preview.message} Downloading…` });
      progress.hidden = false;
      progress.removeAttribute("value");
      mount(outcome, message, progress);
      try {
        const file = await download("/v1/exports", {
          query: preview.query,
          accept: "application/zip",
          onProgress: ({ received, total }) => {
            if (total) { progress.max = total; progress.value = received; }
            message.textContent = `${preview.message} Downloading… ${megabytes(received)}${total ? ` of ${megabytes(total)}` : ""}`;
          },
        });
        saveBlob(file.blob, file.filename);
        progress.max = 1;
        progress.value = 1;
        const patients = file.headers.get("X-Somatrace-Export-Patients");
        mount(outcome, h("p", { class: "notice notice-ok", id: "export-message",
          text: `Downloaded ${file.filename} (${megabytes(file.received)}, ${patients} patient${patients === "1" ? "" : "s"}). Its data_dictionary.md describes every column.` }));
        announce("The export was downloaded.", "ok");
      } catch (err) {
        refused(err);
      } finally {
        progress.hidden = true;
      }
    },
  });
  if (!isCurrent()) return;
  mount(main,
    h("h1", { text: "Cohort and export" }),
    h("p", { class: "muted", text: "Only patients who gave research consent appear, under their pseudonym; names, emails and therapists never leave the clinic. Every export is audited." }),
    h("section", { class: "card", "aria-labelledby": "cohort-title" }, h("h2", { id: "cohort-title", text: "Consented cohort" }), tableHost),
    h("section", { class: "card", "aria-labelledby": "export-title" },
      h("h2", { id: "export-title", text: "Export" }),
      form.el, outcome));
}
