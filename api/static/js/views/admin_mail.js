// Admin: is e-mail working? Settings, messages per state, the latest failures (each can be sent again),
// and a test message. Messages carry no health information, so the admin may see where they went.

import { get, post } from "../api.js";
import { formatDateTime } from "../dates.js";
import { announce, h, mount } from "../dom.js";

const STATES = ["queued", "sent", "retrying", "failed", "not_configured"];
const STATE_TEXT = { queued: "waiting", sent: "sent", retrying: "retrying", failed: "failed", not_configured: "not sent: e-mail not set up" };
const KIND_TEXT = {
  safety_alert: "alert notice to a therapist",
  unassigned_alert: "alert notice to admins (no therapist assigned)",
  questionnaire_reminder: "questionnaire reminder",
  morning_reminder: "morning reminder",
  test: "test message",
};

function refresh() {
  window.dispatchEvent(new HashChangeEvent("hashchange"));
}

export async function renderMail(main, _params, _current, isCurrent) {
  const status = await get("/v1/mail/status");
  if (!isCurrent()) return;
  const tz = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const problem = status.configured
    ? h("p", { class: "notice notice-ok", id: "mail-configured", text: `E-mail is set up: ${status.smtp_host}.` })
    : h("p", { class: "notice notice-error", id: "mail-problem", role: "alert", text: `E-mail does not work: ${status.problem}.` });
  const noUrl = status.public_url ? null
    : h("p", { class: "notice notice-warn", text: "SOMATRACE_PUBLIC_URL is not set: messages cannot link to the sign-in page." });
  const counts = h("table", { class: "data-table", id: "mail-counts" },
    h("caption", { text: "Messages by state" }),
    h("tbody", {}, STATES.map((s) => h("tr", {}, h("th", { scope: "row", text: STATE_TEXT[s] }),
      h("td", { class: "num", dataset: { state: s }, text: String(status.counts[s] || 0) })))));
  const failures = status.failures.length
    ? h("div", { class: "table-scroll", tabindex: "0" }, h("table", { class: "data-table stack", id: "mail-failures" },
      h("caption", { text: "Latest messages not delivered" }),
      h("thead", {}, h("tr", {}, ["Queued", "Kind", "To", "State", "Attempts", "Last error", ""].map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, status.failures.map((f) => h("tr", { dataset: { outboxId: String(f.id) } },
        h("th", { scope: "row", text: formatDateTime(f.created_at, tz) }),
        h("td", { "data-label": "Kind", text: KIND_TEXT[f.kind] || f.kind }),
        h("td", { "data-label": "To", text: f.to_address }),
        h("td", { "data-label": "State", text: STATE_TEXT[f.status] || f.status }),
        h("td", { class: "num", "data-label": "Attempts", text: String(f.attempts) }),
        h("td", { class: "small", "data-label": "Last error", text: f.last_error || "–" }),
        h("td", {}, f.status === "retrying" ? h("span", { class: "muted small", text: "retried automatically" })
          : h("button", { type: "button", class: "small", text: "Send again", "aria-label": `Send again: the ${KIND_TEXT[f.kind] || f.kind} to ${f.to_address}, queued ${formatDateTime(f.created_at, tz)}`,
            on: { click: async () => { await post(`/v1/mail/outbox/${f.id}/retry`, {}); announce("The message is queued again.", "ok"); refresh(); } } })))))))
    : h("p", { id: "no-failures", text: "Every message so far was delivered." });
  const testButton = h("button", { type: "button", id: "mail-test", text: "Send me a test message",
    on: { click: async () => { await post("/v1/mail/test", {}); announce("A test message is queued; reload in a minute to see whether it went out.", "ok"); } } });
  mount(main,
    h("h1", { text: "E-mail" }),
    problem, noUrl,
    h("p", { class: "muted", text: "Somatrace e-mails therapists when an answer raises a safety alert, and patients who asked for reminders. The worker sends them and retries for about 2.7 hours; a safety alert stays on the therapist's list whatever happens to its e-mail." }),
    counts, h("h2", { text: "Not delivered" }), failures, h("p", {}, testButton));
}
