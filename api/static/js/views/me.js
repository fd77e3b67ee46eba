// The patient's own page: simplified timeline, quick journal form, strap pairing and upload status.

import { ApiError, get, post } from "../api.js";
import { announce, dataTable, h, mount } from "../dom.js";
import { formatDateTime, formatDay } from "../model.js";
import { buildTimeline } from "./timeline.js";

function scale(id, label) {
  const output = h("output", { for: id, id: `${id}-out`, text: "not set" });
  const input = h("input", { type: "range", id, name: id, min: "0", max: "10", step: "1", value: "5", "aria-describedby": `${id}-out` });
  input.dataset.touched = "false";
  input.addEventListener("input", () => { input.dataset.touched = "true"; output.textContent = `${input.value} / 10`; });
  const clear = h("button", { type: "button", class: "link-button small", text: "clear",
    on: { click: () => { input.dataset.touched = "false"; input.value = "5"; output.textContent = "not set"; } } });
  return { input, el: h("div", { class: "scale" }, h("label", { for: id, text: label }), input, output, clear) };
}

function journalForm(patient, onSaved) {
  const text = h("textarea", { id: "journal-text", name: "text", rows: "3", maxlength: "5000", required: true,
    placeholder: "How are you, in body and mind?" });
  const tags = h("input", { id: "journal-tags", name: "tags", type: "text", autocomplete: "off",
    placeholder: "e.g. sleep, walk, anxious", "aria-describedby": "journal-tags-help" });
  const mood = scale("journal-mood", "Mood (0 low – 10 high)");
  const body = scale("journal-body", "Body (0 tense – 10 at ease)");
  const error = h("p", { class: "notice notice-error", role: "alert", hidden: true, id: "journal-error" });
  const submit = h("button", { type: "submit", class: "primary", id: "journal-submit", text: "Save note" });
  const form = h("form", { class: "card journal-form", id: "journal-form" },
    h("h2", { text: "Journal" }),
    h("label", { for: "journal-text", text: "Note" }), text,
    h("label", { for: "journal-tags", text: "Tags" }), tags,
    h("p", { class: "muted small", id: "journal-tags-help", text: "Separate tags with commas." }),
    mood.el, body.el, submit, error);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    const payload = {
      at: new Date().toISOString(),
      text: text.value.trim(),
      tags: tags.value.split(",").map((t) => t.trim()).filter(Boolean),
    };
    if (mood.input.dataset.touched === "true") payload.mood = Number(mood.input.value);
    if (body.input.dataset.touched === "true") payload.body = Number(body.input.value);
    submit.disabled = true;
    try {
      await post(`/v1/patients/${patient.id}/journal`, payload);
      form.reset();
      for (const s of [mood, body]) { s.input.dataset.touched = "false"; s.el.querySelector("output").textContent = "not set"; }
      announce("Your note was saved.", "ok");
      onSaved();
    } catch (err) {
      error.textContent = err instanceof ApiError && err.fields && err.fields.errors
        ? `Not saved: ${err.fields.errors.map((e) => `${(e.loc || []).slice(-1)[0]}: ${e.msg}`).join("; ")}`
        : `Not saved: ${err.message}`;
      error.hidden = false;
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

function pairing(patient) {
  const result = h("div", { id: "pair-result", "aria-live": "polite" });
  const label = h("input", { id: "device-label", type: "text", value: "my strap", maxlength: "100" });
  const button = h("button", { type: "button", class: "primary", id: "create-device", text: "Create a pairing code" });
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const device = await post(`/v1/patients/${patient.id}/devices`, { label: label.value.trim() || "strap" });
      const command = `somatrace pair --server ${window.location.origin} --token ${device.token}`;
      const code = h("code", { id: "pair-command", text: command });
      const copy = h("button", { type: "button", class: "small", text: "Copy",
        on: { click: async () => { try { await navigator.clipboard.writeText(command); announce("Copied."); } catch { announce("Select the command and copy it by hand."); } } } });
      mount(result,
        h("p", { class: "notice notice-warn", text: "This token is shown only once. Run this on the computer next to your strap:" }),
        h("pre", { class: "command" }, code), copy);
    } catch (err) {
      mount(result, h("p", { class: "notice notice-error", text: `Could not create a pairing code: ${err.message}` }));
    } finally {
      button.disabled = false;
    }
  });
  return h("section", { class: "card pairing", id: "pairing" },
    h("h2", { text: "Pair a chest strap" }),
    h("ol", {},
      h("li", { text: "Install Somatrace on the computer you will record with." }),
      h("li", { text: "Create a pairing code here; it is shown once." }),
      h("li", { text: "Run the shown `somatrace pair` command, then `somatrace record --morning` for a 5-minute morning reading." })),
    h("label", { for: "device-label", text: "Name for this strap" }), label, button, result);
}

function deviceTable(devices, tz) {
  const active = devices.filter((d) => !d.revoked_at);
  if (!active.length) return h("p", { class: "muted", text: "No strap paired yet." });
  return dataTable("Paired straps", ["Name", "Strap", "Battery", "Last upload"],
    active.map((d) => [d.label || "strap", [d.strap_name, d.strap_model].filter(Boolean).join(" · ") || "–",
      d.battery_pct === null || d.battery_pct === undefined ? "–" : `${d.battery_pct} %`,
      d.last_seen_at ? formatDateTime(d.last_seen_at, tz) : "never"]), { id: "device-table" });
}

function status(patient, timeline, devices) {
  const worn = timeline ? [...timeline.daily].filter((d) => d.wearHours > 0).sort((a, b) => b.day.localeCompare(a.day)) : [];
  const last = worn[0];
  const lastSync = patient.last_sync_at || patient.last_seen_at || patient.last_upload_at;
  return h("section", { class: "card status", id: "recording-status" },
    h("h2", { text: "Recording and upload" }),
    h("p", { text: lastSync ? `Last upload: ${formatDateTime(lastSync, patient.timezone)}` : "Last upload: see the day below." }),
    h("p", { text: last ? `Last recording: ${formatDay(last.day)}, ${last.wearHours.toFixed(1)} h worn, quality ${last.quality || "–"}.` : "No recording received yet." }),
    deviceTable(devices, patient.timezone));
}

export async function renderPatientHome(main, _params, current, isCurrent) {
  const mine = (await get("/v1/patients")) || [];
  if (!isCurrent()) return;
  const patient = mine.find((p) => !current.patientId || p.id === current.patientId) || mine[0];
  if (!patient) {
    mount(main, h("h1", { text: "My page" }), h("p", { class: "notice notice-error", text: "No patient record is linked to this account." }));
    return;
  }
  const rerender = () => window.dispatchEvent(new HashChangeEvent("hashchange"));
  const [section, devices] = await Promise.all([
    buildTimeline(patient, { simplified: true, isCurrent }),
    get(`/v1/patients/${patient.id}/devices`),
  ]);
  if (!section) return;
  mount(main,
    h("h1", { id: "patient-name", text: `Hello, ${patient.display_name || patient.pseudonym}` }),
    h("div", { class: "me-grid" }, journalForm(patient, rerender), status(patient, section.timeline, devices || []), pairing(patient)),
    section);
}
