// Patient page section: record the morning reading with this phone or computer's browser (Web
// Bluetooth): choose the strap, a guided 5-minute still reading with live heart rate, RMSSD, sensor
// contact and time left, then the verdict in plain words. Where the browser has no Web Bluetooth it says
// so and points to the alternatives. Capture, storage and sending are ../capture/*.js.

import { add, h, mount } from "../dom.js";
import { StrapLink, webBluetoothAvailable, whyNoBluetooth } from "../capture/link.js";
import { READING_S, readingController } from "../capture/reading.js";
import { uploader } from "../capture/uploader.js";
import * as outbox from "../capture/outbox.js";

const CONTACT_WORDS = {
  true: "Good skin contact",
  false: "No skin contact: wet the strap's electrodes and tighten it a little",
  null: "The strap does not report skin contact",
};

const GRADE_WORDS = {
  good: "clear",
  fair: "usable, with some disturbance",
  poor: "too disturbed to use",
  insufficient: "too short to use",
};

const POSITION_SENTENCES = {
  within: "This morning's reading is within your usual range.",
  below: "This morning's reading is lower than your usual range.",
  above: "This morning's reading is higher than your usual range.",
};

function minutesSeconds(s) {
  return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, "0")}`;
}

/** The verdict of a reading (the server's analysis) in plain words. */
export function verdictView(judged) {
  const v = judged.verdict;
  const signal = GRADE_WORDS[v.grade] || v.grade;
  const numbers = v.rmssd_ms !== null
    ? `Heartbeat variation at rest (RMSSD): ${Math.round(v.rmssd_ms)} ms; heart rate ${Math.round(v.mean_hr_bpm)} beats per minute; ${v.n_beats} beats; signal ${signal}.`
    : `${v.n_beats} beats were received; the signal was ${signal}.`;
  const parts = [];
  if (v.state === "verdict") {
    parts.push(h("p", { class: `verdict-lead position-${v.position}`, id: "record-verdict-lead", text: POSITION_SENTENCES[v.position] }));
    parts.push(h("p", { class: "muted small", text: `About ${Math.round(v.level * 10)} in 10 of your usual mornings fall inside your usual range, so a single morning outside it can happen by chance, after a short night, stress, illness or alcohol. Your therapist looks at the average of 7 mornings.` }));
  } else {
    parts.push(h("p", { class: "verdict-lead", id: "record-verdict-lead", text: "We cannot tell yet how this reading compares with your usual range." }));
    parts.push(h("ul", { class: "verdict-reasons", id: "record-verdict-reasons" }, v.reasons.map((r) => h("li", { text: plainReason(r) }))));
  }
  parts.push(h("p", { id: "record-verdict-numbers", text: numbers }));
  parts.push(h("p", { class: "muted small", text: "This is not a diagnosis; talk about it with your therapist." }));
  return h("div", { class: "verdict", id: "record-verdict", dataset: { state: v.state, position: v.position || "" } }, parts);
}

function plainReason(reason) {
  if (reason.startsWith("the usual range needs")) return "Your usual range needs more morning readings from before your first medicine session.";
  if (reason.startsWith("the signal was")) return "The signal was too short or too disturbed to use. Wet the electrodes, wear the strap snugly and keep still for the five minutes.";
  if (reason === "no beats were received") return "No heartbeats were received from the strap.";
  return reason.charAt(0).toUpperCase() + reason.slice(1);
}

function alternatives() {
  return h("ul", { id: "record-alternatives" },
    h("li", { text: "Open this page in Chrome or Edge on an Android phone, or on a Windows, Mac or ChromeOS computer." }),
    h("li", {}, "Record with the bedside collector on a computer: see ", h("a", { href: "#pairing", text: "Your chest strap" }), " below."),
    h("li", { text: "If your watch or an app (Apple Health, Garmin, Polar, Elite HRV, HRV4Training, Kubios) already holds your heartbeats, its export file can be imported: ask your therapist." }));
}

function sendingLine(status) {
  if (status.state === "refused") return h("p", { class: "notice notice-error", id: "record-sending", role: "alert", text: `Your readings could not be sent: ${status.lastError}. They stay saved on this device.` });
  if (!status.unsent) return null;
  const words = status.state === "waiting"
    ? `${status.unsent} heartbeats are saved on this device and will be sent when the connection is back.`
    : `Sending ${status.unsent} saved heartbeats…`;
  return h("p", { class: "notice", id: "record-sending", text: words });
}

function liveView(c) {
  const left = c.secondsLeft();
  const rmssd = c.rmssdMs;
  return h("dl", { class: "live-values", id: "record-live" },
    h("div", {}, h("dt", { text: "Heart rate" }), h("dd", { id: "record-hr", text: c.heartRateBpm !== null ? `${c.heartRateBpm} per minute` : "–" })),
    h("div", {}, h("dt", { text: "RMSSD (last minute)" }), h("dd", { id: "record-rmssd", text: rmssd !== null ? `${Math.round(rmssd)} ms` : "–" })),
    h("div", {}, h("dt", { text: "Sensor contact" }), h("dd", { id: "record-contact", text: CONTACT_WORDS[String(c.contact)] })),
    c.phase === "recording"
      ? h("div", {}, h("dt", { text: "Time left" }), h("dd", { id: "record-countdown", text: minutesSeconds(left) }))
      : null);
}

function render(body, ctx) {
  const c = readingController();
  const status = uploader().status;
  const items = [];
  if (c.error) items.push(h("p", { class: "notice notice-error", role: "alert", id: "record-error", text: c.error }));
  if (c.phase === "idle") {
    items.push(h("ol", { class: "steps" },
      h("li", { text: "Put on the strap with wet electrodes and sit or lie down comfortably." }),
      h("li", { text: "Choose your strap; your browser lists the straps nearby." }),
      h("li", { text: `Keep still and breathe normally for ${READING_S / 60} minutes.` })));
    items.push(h("button", { type: "button", class: "primary", id: "record-choose", text: "Choose my strap",
      on: { click: () => choose(ctx) } }));
  } else if (c.phase === "connecting") {
    items.push(h("p", { id: "record-state", text: "Connecting to the strap…" }));
  } else if (c.phase === "ready" || c.phase === "recording") {
    const linkWords = c.linkState === "reconnecting"
      ? "The strap's connection dropped; reconnecting… Keep still: the reading goes on."
      : `Connected to ${c.link ? c.link.name : "the strap"}.`;
    items.push(h("p", { id: "record-state", class: c.linkState === "reconnecting" ? "notice notice-warn" : null, text: linkWords }));
    items.push(liveView(c));
    if (c.phase === "ready") {
      items.push(h("p", { text: "When you are settled and the heart rate shows, start the reading." }));
      items.push(h("button", { type: "button", class: "primary", id: "record-start", text: `Start the ${READING_S / 60}-minute reading`, on: { click: () => c.start() } }));
    } else {
      items.push(h("progress", { id: "record-progress", max: String(READING_S), value: String(READING_S - c.secondsLeft()), "aria-label": "Reading progress" }));
      items.push(h("p", { class: "muted small", text: `${c.beatsWritten} heartbeats saved on this device.` }));
      items.push(h("button", { type: "button", id: "record-cancel", text: "Stop without a verdict", on: { click: () => c.cancel() } }));
    }
  } else if (c.phase === "finished") {
    const judged = c.reading && c.reading.verdict;
    if (judged) items.push(verdictView(judged));
    else items.push(h("p", { id: "record-waiting", text: "Your reading is saved on this device. Its verdict appears here once it has been sent." }));
    items.push(h("button", { type: "button", id: "record-again", text: "Record again", on: { click: () => { c.reset(); render(body, ctx); } } }));
  }
  items.push(sendingLine(status));
  mount(body, items);
}

async function choose(ctx) {
  const c = readingController();
  let link;
  try {
    link = await StrapLink.choose();
  } catch (err) {
    c.error = err.name === "NotFoundError" ? "No strap was chosen." : `The strap could not be chosen: ${err.message}`;
    c.changed();
    return;
  }
  try {
    await c.attach(link, ctx.patient.id);
  } catch {
    // shown by the controller
  }
}

export async function recordSection(ctx) {
  const section = h("section", { class: "card wide record", id: "record", "aria-labelledby": "record-title" },
    h("h2", { id: "record-title", text: "Record this morning's reading" }));
  if (!webBluetoothAvailable()) {
    add(section,
      h("p", { class: "notice notice-warn", id: "record-unsupported", text: whyNoBluetooth() }),
      h("p", { text: "You can still record your morning reading:" }),
      alternatives());
    await sendPending(ctx);
    return section;
  }
  const body = h("div", { id: "record-body", "aria-live": "polite" });
  add(section, h("p", { class: "muted small", text: "Your phone or computer connects to your chest strap and records five minutes of heartbeats. They are saved on this device first and sent when there is a connection." }), body);
  const c = readingController();
  // one listener per section element: a re-render of the page replaces the element, and the old
  // listener then finds it detached and removes itself
  const onChange = () => {
    if (section.isConnected) section.dataset.mounted = "1";
    else if (section.dataset.mounted) {
      c.removeEventListener("change", onChange);
      uploader().removeEventListener("change", onChange);
      uploader().removeEventListener("verdict", onVerdict);
      return;
    }
    render(body, ctx);
  };
  const onVerdict = (e) => {
    if (c.reading && e.detail.id === c.reading.id) c.reading.verdict = e.detail.verdict;
    onChange();
  };
  c.addEventListener("change", onChange);
  uploader().addEventListener("change", onChange);
  uploader().addEventListener("verdict", onVerdict);
  if (c.phase === "idle") {
    // a reading finished earlier (perhaps before a reload) whose verdict is still to come is shown
    const last = (await outbox.readings().catch(() => [])).find((r) => r.patientId === ctx.patient.id && r.endedMs !== null);
    if (last && Date.now() - last.endedMs < 6 * 3600 * 1000) {
      c.patientId = ctx.patient.id;
      c.reading = last;
      c.phase = "finished";
    }
  }
  render(body, ctx);
  sendPending(ctx);
  return section;
}

function sendPending(ctx) {
  return uploader().start(ctx.patient.id).catch(() => {});
}
