// Patient page section: write a journal note; the latest notes with edit and delete. Also the page that
// edits one note (#/me/journal/<id>).

import { del, get, post, put } from "../api.js";
import { formatDateTime } from "../dates.js";
import { announce, confirmButton, h, mount } from "../dom.js";
import { buildForm } from "../forms.js";
import { ownPatient } from "./own_patient.js";
import { loadCrisisInfo, readingNotice } from "../questionnaires.js";

/** Notes listed under the form (newest first); older ones are on the therapist's timeline as well. */
const LISTED = 10;
/** How far back the list looks, days. */
const LIST_DAYS = 365;

function journalFields(entry, tz) {
  return [
    { name: "text", control: "textarea", rows: "4", value: entry ? entry.text : "",
      placeholder: "How are you, in body and mind?" },
    { name: "tags", value: entry ? entry.tags : [], placeholder: "e.g. sleep, walk, anxious", autocomplete: "off" },
    { name: "mood", control: "range", value: entry ? entry.mood : null, help: "0 very low – 10 very good" },
    { name: "body", control: "range", value: entry ? entry.body : null, help: "0 very tense – 10 at ease" },
    { name: "at", value: entry ? entry.at : new Date().toISOString(), help: `Date and time (${tz}).` },
  ];
}

function payload(data) {
  return { at: data.at, text: data.text, tags: data.tags, mood: data.mood, body: data.body };
}

function entryItem(patient, entry, tz, refresh) {
  const scales = [entry.mood !== null ? `mood ${entry.mood}/10` : null, entry.body !== null ? `body ${entry.body}/10` : null]
    .filter(Boolean).join(" · ");
  return h("li", { class: "journal-entry", dataset: { entryId: entry.id } },
    h("p", { class: "muted small" }, h("time", { datetime: entry.at, text: formatDateTime(entry.at, tz) }),
      scales ? ` · ${scales}` : ""),
    h("p", { class: "journal-text", text: entry.text || "(no text)" }),
    entry.tags.length ? h("p", {}, entry.tags.map((t) => h("span", { class: "tag", text: t }))) : null,
    h("p", { class: "entry-actions" },
      h("a", { href: `#/me/journal/${entry.id}`, class: "button-link small", text: "Edit",
        "aria-label": `Edit the note of ${formatDateTime(entry.at, tz)}` }),
      " ",
      confirmButton("Delete", "Delete this note?", "Yes, delete", async () => {
        await del(`/v1/patients/${patient.id}/journal/${entry.id}`);
        announce("The note was deleted.", "ok");
        refresh();
      }, { "aria-label": `Delete the note of ${formatDateTime(entry.at, tz)}` })));
}

export async function journalSection({ patient, refresh }) {
  const tz = patient.timezone || "UTC";
  const since = new Date(Date.now() - LIST_DAYS * 86400000).toISOString();
  const [entries, form, crisisInfo] = await Promise.all([
    get(`/v1/patients/${patient.id}/journal`, { start: since }),
    buildForm({
      form: "journal",
      id: "journal-form",
      submit: "Save note",
      tz,
      fields: journalFields(null, tz),
      onSubmit: async (data) => {
        await post(`/v1/patients/${patient.id}/journal`, payload(data));
        announce("Your note was saved.", "ok");
        refresh();
      },
    }),
    loadCrisisInfo(),
  ]);
  const latest = [...(entries || [])].sort((a, b) => b.at.localeCompare(a.at)).slice(0, LISTED);
  return h("section", { class: "card journal", id: "journal", "aria-labelledby": "journal-title" },
    h("h2", { id: "journal-title", text: "Journal" }),
    h("p", { class: "muted small", text: "A few words about your day, your body and your mood. Your therapist sees your notes beside your readings." }),
    readingNotice(crisisInfo, "journal-reading-notice"),
    form.el,
    h("h3", { text: "Your latest notes" }),
    latest.length
      ? h("ul", { class: "journal-list", id: "journal-list" }, latest.map((e) => entryItem(patient, e, tz, refresh)))
      : h("p", { class: "muted", id: "journal-list-empty", text: "No notes yet." }));
}

export async function renderJournalEdit(main, { entryId }, _current, isCurrent) {
  const patient = await ownPatient();
  if (!patient) throw new Error("No patient record is linked to this account.");
  const tz = patient.timezone || "UTC";
  const entry = await get(`/v1/patients/${patient.id}/journal/${entryId}`);
  const form = await buildForm({
    form: "journal",
    id: "journal-edit-form",
    submit: "Save changes",
    tz,
    fields: journalFields(entry, tz),
    onSubmit: async (data) => {
      await put(`/v1/patients/${patient.id}/journal/${entryId}`, payload(data));
      announce("Your note was changed.", "ok");
      window.location.hash = "#/me";
    },
    cancel: { label: "Cancel", onClick: () => { window.location.hash = "#/me"; } },
  });
  if (!isCurrent()) return;
  mount(main,
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "#/me", text: "My page" }), " › ", h("span", { text: "Edit a note" })),
    h("h1", { text: "Edit a journal note" }),
    h("div", { class: "card narrow" }, form.el));
  form.control("text").focus();
}
