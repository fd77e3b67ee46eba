// A file from a device the patient already owns (Apple Health export.xml, FIT, Polar, Elite HRV,
// HRV4Training, Kubios RR text) sent to POST /v1/patients/{id}/imports, on the patient's page and the
// therapist's "Login, straps and consent" tab; says in plain words what was stored, or why nothing was.

import { ApiError, upload } from "../api.js";
import { formatDateTime, fromLocalInput } from "../dates.js";
import { announce, h, mount } from "../dom.js";

const SOURCE_NAMES = {
  apple_health: "Apple Health",
  fit: "a FIT file (Garmin, Wahoo)",
  polar: "Polar",
  elite_hrv: "Elite HRV",
  hrv4training: "HRV4Training",
  kubios: "Kubios RR text",
};

function summary(r, tz) {
  const from = SOURCE_NAMES[r.source] || r.source;
  if (!r.accepted) {
    return `Nothing new: all ${r.beats.toLocaleString()} beats of this ${from} file were already stored.`;
  }
  const span = r.first && r.last ? ` from ${formatDateTime(r.first, tz)} to ${formatDateTime(r.last, tz)}` : "";
  const dup = r.duplicates ? ` ${r.duplicates.toLocaleString()} were already stored.` : "";
  return `Stored ${r.accepted.toLocaleString()} of ${r.beats.toLocaleString()} beats from ${from}${span}. They are labelled as imported and compared with other imports of that kind only.${dup}`;
}

/** The import card; `idPrefix` keeps its element ids unique on a page. */
export function importSection(patient, { idPrefix = "import", title = "Import from another device", intro, zoneOwner = "your" } = {}) {
  const tz = patient.timezone || "UTC";
  const id = (name) => `${idPrefix}-${name}`;
  const fileError = h("p", { class: "field-error", id: id("file-error"), hidden: true });
  const file = h("input", { type: "file", id: id("file"), name: "file", "aria-describedby": `${id("file-help")} ${id("file-error")}` });
  const start = h("input", { type: "datetime-local", id: id("start"), name: "start", step: "1", "aria-describedby": id("start-help") });
  const result = h("div", { id: id("result"), "aria-live": "polite" });
  const button = h("button", { type: "submit", class: "primary", id: id("submit"), text: "Import the file" });

  async function onSubmit(event) {
    event.preventDefault();
    fileError.hidden = true;
    mount(result);
    const chosen = file.files && file.files[0];
    if (!chosen) {
      fileError.textContent = "Choose a file to import.";
      fileError.hidden = false;
      file.focus();
      return;
    }
    const data = new FormData();
    data.append("file", chosen, chosen.name);
    if (start.value) data.append("start", fromLocalInput(start.value, tz));
    button.disabled = true;
    button.textContent = "Importing…";
    try {
      const r = await upload(`/v1/patients/${patient.id}/imports`, data);
      mount(result, h("p", { class: "notice notice-ok", id: id("done"), text: summary(r, tz) }));
      announce("The file was imported.", "ok");
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      fileError.textContent = `Nothing was stored: ${err.message}`;
      fileError.hidden = false;
      file.focus();
    } finally {
      button.disabled = false;
      button.textContent = "Import the file";
    }
  }

  return h("section", { class: "card import", id: idPrefix, "aria-labelledby": id("title") },
    h("h2", { id: id("title"), text: title }),
    h("p", { class: "muted", text: intro || "Beat-to-beat data you already have can be added here. Nothing is stored twice; a file that cannot be read stores nothing." }),
    h("form", { class: "form", id: id("form"), novalidate: true, on: { submit: onSubmit } },
      h("div", { class: "field" },
        h("label", { for: id("file"), text: "File" }),
        h("p", { class: "hint", id: id("file-help"), text: "Apple Health export.xml, a FIT file (Garmin, Wahoo), a Polar, Elite HRV or HRV4Training RR export, or Kubios RR text." }),
        file, fileError),
      h("div", { class: "field" },
        h("label", { for: id("start"), text: "Start of the recording (optional)" }),
        h("p", { class: "hint", id: id("start-help"), text: `Only for files without times of their own (Kubios RR text); ${zoneOwner} time zone: ${tz}.` }),
        start),
      h("div", { class: "form-buttons" }, button)),
    result);
}
