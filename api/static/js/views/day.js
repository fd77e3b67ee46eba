// Zoom into one local day: its 5-minute windows and the RR tachogram from the raw beats.

import { get } from "../api.js";
import { tachogramChart, windowsChart } from "../charts.js";
import { dataTable, details, fmt, h, mount } from "../dom.js";
import { formatDate, formatDay, formatTime } from "../dates.js";
import { addDays, localDay, localMidnightMs } from "../model.js";

const timeOf = (iso, tz) => formatTime(iso, tz);
/** Today's window axis reaches this far past the current time (s), so the latest window has room. */
const LIVE_AXIS_LEAD_S = 1800;

/** The windows' axis: their hours with some room, at least AXIS_MIN_S wide, never outside the day. */
const AXIS_PAD_S = 1800;
const AXIS_MIN_S = 2 * 3600;

function windowsAxis(windows, dayStartS, dayEndS) {
  if (!windows.length) return [dayStartS, dayEndS];
  const first = Date.parse(windows[0].window_start) / 1000;
  const last = Date.parse(windows[windows.length - 1].window_start) / 1000 + (windows[windows.length - 1].window_s || 300);
  let start = Math.max(dayStartS, first - AXIS_PAD_S);
  let end = Math.min(dayEndS, last + AXIS_PAD_S);
  if (end - start < AXIS_MIN_S) {
    const grow = (AXIS_MIN_S - (end - start)) / 2;
    start = Math.max(dayStartS, start - grow);
    end = Math.min(dayEndS, end + grow);
  }
  return [start, end];
}

/** While today is shown, it is reloaded this often so live beats appear (ms). */
const LIVE_REFRESH_MS = 20000;

export async function renderDay(main, { patientId, day }, current, isCurrent) {
  const patient = await get(`/v1/patients/${patientId}`);
  const tz = patient.timezone || "UTC";
  const start = new Date(localMidnightMs(day, tz)).toISOString();
  const end = new Date(localMidnightMs(addDays(day, 1), tz)).toISOString();
  const [windows, beats] = await Promise.all([
    get(`/v1/patients/${patientId}/windows`, { start, end }),
    get(`/v1/patients/${patientId}/beats`, { start, end }),
  ]);
  if (!isCurrent()) return;
  const base = `#/patients/${patientId}`;
  const list = (windows || []).slice().sort((a, b) => a.window_start.localeCompare(b.window_start));
  const rr = beats || [];
  const nav = h("p", { class: "day-nav" },
    h("a", { href: `${base}/day/${addDays(day, -1)}`, text: "← previous day" }), " · ",
    h("a", { href: base, text: "back to timeline" }), " · ",
    h("a", { href: `${base}/day/${addDays(day, 1)}`, text: "next day →" }));
  const parts = [
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" },
      current.role === "therapist" ? [h("a", { href: "#/patients", text: "Patients" }), " › "] : null,
      h("a", { href: base, text: patient.display_name || patient.pseudonym }), " › ", h("span", { text: formatDate(day) })),
    h("h1", { id: "day-title", text: `${patient.display_name || patient.pseudonym}: ${formatDay(day)}` }),
    nav,
  ];
  const isToday = day === localDay(Date.now(), tz);
  const dayStartS = localMidnightMs(day, tz) / 1000;
  const dayEndS = localMidnightMs(addDays(day, 1), tz) / 1000;
  const dayEndShownS = isToday ? Math.min(dayEndS, Date.now() / 1000 + LIVE_AXIS_LEAD_S) : dayEndS;
  const axis = windowsAxis(list, dayStartS, dayEndShownS);
  if (isToday) {
    parts.push(h("p", { class: "notice", id: "live-note",
      text: `Today: new beats appear as the collector uploads them (this page reloads every ${LIVE_REFRESH_MS / 1000} s).` }));
    const hash = window.location.hash;
    setTimeout(() => {
      if (isCurrent() && window.location.hash === hash) window.dispatchEvent(new HashChangeEvent("hashchange"));
    }, LIVE_REFRESH_MS);
  }
  if (!list.length && !rr.length) {
    parts.push(h("p", { class: "notice", id: "no-data", text: "No beats were recorded on this day." }));
    mount(main, parts);
    return;
  }
  const windowsEl = windowsChart(list, tz, axis);
  windowsEl.id = "windows-chart";
  parts.push(h("h2", { text: `5-minute windows (${list.length})` }), windowsEl,
    details("Numbers for this chart (table)", dataTable(`5-minute windows on ${formatDate(day)} (${tz})`,
      ["Start", "Beats", "ln RMSSD", "RMSSD (ms)", "HR (bpm)", "SDNN (ms)", "LF/HF", "Stress index", "Artifacts", "Quality"],
      list.map((w) => [timeOf(w.window_start, tz), String(w.n_beats), fmt(w.ln_rmssd), fmt(w.rmssd_ms, 1),
        fmt(w.mean_hr_bpm, 1), fmt(w.sdnn_ms, 1), fmt(w.lf_hf), fmt(w.stress_index, 1),
        w.artifact_share === null || w.artifact_share === undefined ? "–" : `${(w.artifact_share * 100).toFixed(1)} %`,
        [w.quality, ...(w.quality_notes || [])].filter(Boolean).join("; ")]),
      { id: "windows-table" })));
  const tacho = tachogramChart(rr, tz);
  tacho.id = "tachogram";
  parts.push(h("h2", { text: `RR tachogram (${rr.length} beats)` }),
    h("p", { class: "muted small", text: "Every beat's RR interval as the strap reported it (before artifact correction). Breaks of more than 5 s are left empty. Drag to zoom, double-click to reset." }),
    tacho,
    details("Beat counts per hour (table)", dataTable(`Beats per hour on ${formatDate(day)}`, ["Hour", "Beats", "Mean RR (ms)"],
      hourly(rr, tz))));
  mount(main, parts);
}

function hourly(beats, tz) {
  // Grouped by the local hour (h23, language-independent key); labelled in the page's one time style.
  const parts = new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", second: "2-digit", hourCycle: "h23" });
  const byHour = new Map();
  for (const b of beats) {
    const p = Object.fromEntries(parts.formatToParts(new Date(b.t_ms)).map((x) => [x.type, x.value]));
    const key = `${formatDate(localDay(b.t_ms, tz))} ${p.hour}`;
    let entry = byHour.get(key);
    if (!entry) {
      const hourStart = b.t_ms - ((Number(p.minute) * 60 + Number(p.second)) * 1000) - (b.t_ms % 1000);
      entry = { n: 0, sum: 0, start: hourStart };
      byHour.set(key, entry);
    }
    entry.n += 1;
    entry.sum += b.rr_ms;
  }
  return [...byHour.values()].sort((a, b) => a.start - b.start)
    .map((e) => [formatTime(e.start, tz), String(e.n), fmt(e.sum / e.n, 0)]);
}
