// Symptoms beside physiology: the symptom panel of the therapist's timeline (PHQ-9, GAD-7, PCL-5 totals
// over their severity bands, and the journal's mood and body scales, on the same days and cursor as the
// daily ln RMSSD chart), and symptom change per medicine session for session cards and the report.

import uPlot from "/static/vendor/uplot/uPlot.esm.js";
import { get } from "./api.js";
import { COLORS } from "./charts.js";
import { formatAxisDay, formatDateTime, formatDay } from "./dates.js";
import { dataTable, details, h } from "./dom.js";
import { dayMs, localDay } from "./model.js";
import { bandLevel, loadInstruments, scoreBadge, shortTitle } from "./questionnaires.js";

const HALF_DAY_S = 43200;
const dayX = (day) => dayMs(day) / 1000 + HALF_DAY_S;
const dayOfX = (v) => new Date(v * 1000).toISOString().slice(0, 10);
const utcDate = (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC");
/** Same key as the daily trend chart: one cursor moves over both. */
const SYNC_KEY = "somatrace-daily";
const INSTRUMENT_COLORS = [COLORS.vermillion, COLORS.blue, COLORS.purple, COLORS.green, COLORS.orange];
/** Band shading, lightest (lowest band) to darkest. */
const BAND_FILL = (level) => `rgba(213, 94, 0, ${0.04 + 0.16 * level})`;

/** The patient's responses and per-session change, and the clinic's instruments. */
export async function loadSymptoms(patientId, firstDay, lastDay) {
  const [responses, change, instruments] = await Promise.all([
    get(`/v1/patients/${patientId}/responses`, { start: `${firstDay}T00:00:00Z`, end: `${lastDay}T23:59:59Z` }),
    get(`/v1/patients/${patientId}/questionnaires/change`),
    loadInstruments(),
  ]);
  return { responses: responses || [], change: change || [], instruments };
}

/** Per instrument, the last total of each local day (aligned with `days`; null where none). */
function dailyTotals(days, responses, tz) {
  const index = new Map(days.map((d, i) => [d.day, i]));
  const by = new Map();
  for (const r of [...responses].sort((a, b) => a.at.localeCompare(b.at))) {
    const i = index.get(localDay(Date.parse(r.at), tz));
    if (i === undefined) continue;
    if (!by.has(r.instrument)) by.set(r.instrument, { totals: new Array(days.length).fill(null), rows: [] });
    const entry = by.get(r.instrument);
    entry.totals[i] = r.total;
    entry.rows.push(r);
  }
  return by;
}

/** Daily means of the journal's mood and body scales (aligned with `days`). */
function dailyScales(days, journal, tz) {
  const index = new Map(days.map((d, i) => [d.day, i]));
  const sums = days.map(() => ({ mood: [], body: [] }));
  for (const j of journal) {
    const i = index.get(localDay(Date.parse(j.at), tz));
    if (i === undefined) continue;
    if (j.mood !== null && j.mood !== undefined) sums[i].mood.push(j.mood);
    if (j.body !== null && j.body !== undefined) sums[i].body.push(j.body);
  }
  const mean = (xs) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  return { mood: sums.map((s) => mean(s.mood)), body: sums.map((s) => mean(s.body)) };
}

function sessionLines(medicine) {
  return (u) => {
    const { ctx } = u;
    const top = u.bbox.top;
    const bottom = top + u.bbox.height;
    ctx.save();
    ctx.strokeStyle = COLORS.vermillion;
    ctx.lineWidth = 2 * devicePixelRatio;
    for (const m of medicine) {
      const x = u.valToPos(dayX(m.day), "x", true);
      if (x < u.bbox.left || x > u.bbox.left + u.bbox.width) continue;
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, bottom); ctx.stroke();
    }
    ctx.restore();
  };
}

/** The severity bands' shading, under the grid and the series (drawClear hook). */
function bandLayer(inst) {
  return (u) => {
    const { ctx } = u;
    const left = u.bbox.left;
    const width = u.bbox.width;
    ctx.save();
    for (const band of inst.bands) {
      const y0 = u.valToPos(band.max + 0.5, "y", true);
      const y1 = u.valToPos(band.min - 0.5, "y", true);
      ctx.fillStyle = BAND_FILL(bandLevel(inst, band));
      ctx.fillRect(left, y0, width, y1 - y0);
    }
    ctx.restore();
  };
}

/** The bands' names at the right edge on a light backing: over the grid lines, under the series (drawAxes hook). */
function bandLabels(inst) {
  return (u) => {
    const { ctx } = u;
    const right = u.bbox.left + u.bbox.width - 4 * devicePixelRatio;
    const pad = 3 * devicePixelRatio;
    ctx.save();
    ctx.font = `${11 * devicePixelRatio}px system-ui, sans-serif`;
    ctx.textAlign = "right";
    ctx.textBaseline = "middle";
    for (const band of inst.bands) {
      const y0 = u.valToPos(band.max + 0.5, "y", true);
      const y1 = u.valToPos(band.min - 0.5, "y", true);
      if (y1 - y0 <= 12 * devicePixelRatio) continue;
      const y = (y0 + y1) / 2;
      const w = ctx.measureText(band.label).width;
      ctx.fillStyle = "rgba(255, 255, 255, 0.85)";
      ctx.fillRect(right - w - pad, y - 7 * devicePixelRatio, w + 2 * pad, 14 * devicePixelRatio);
      ctx.fillStyle = "#5a2a00";
      ctx.fillText(band.label, right, y);
    }
    ctx.restore();
  };
}

function autoWidth(plot, host, height) {
  const resize = () => {
    const width = Math.max(260, host.clientWidth);
    if (Math.abs(width - plot.width) > 2) plot.setSize({ width, height });
  };
  new ResizeObserver(resize).observe(host);
}

function miniChart({ xs, series, yRange, ySplits, yLabel, layers, labels = [], medicine, label, height }) {
  const host = h("div", { class: "chart symptom-chart", role: "img", "aria-label": label });
  const opts = {
    width: 800,
    height,
    tzDate: utcDate,
    cursor: { sync: { key: SYNC_KEY }, drag: { x: false, y: false } },
    legend: { live: true },
    scales: { x: { time: true }, y: { range: yRange } },
    axes: [
      { stroke: COLORS.black, grid: { stroke: "#eeeeee" }, space: 60, values: (u, splits) => splits.map((v) => formatAxisDay(dayOfX(v))) },
      { label: yLabel, stroke: COLORS.black, grid: { show: false }, size: 50, splits: ySplits ? () => ySplits : undefined },
    ],
    series: [
      { value: (u, v, s, idx) => (idx === null || idx === undefined || v === null ? "–" : formatDay(dayOfX(v))) },
      ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: true,
        points: { show: true, size: 9, fill: "#fff", stroke: s.color, width: 2 },
        value: (u, v, si, idx) => (idx === null || idx === undefined ? "–" : v === null ? "no answer" : Number(v).toFixed(s.digits || 0)) })),
    ],
    hooks: { drawClear: layers, drawAxes: labels, draw: [sessionLines(medicine)] },
  };
  const plot = new uPlot(opts, [xs, ...series.map((s) => s.values)], host);
  autoWidth(plot, host, height);
  host.plot = plot;
  return host;
}

/**
 * The symptom panel: one small chart per instrument the patient answered (its totals over its severity
 * bands) and one for the journal's mood and body scales, on `days` (the daily chart's days) with the same
 * cursor; medicine sessions marked. Each chart has its numbers in a table below.
 */
export function symptomPanel({ days, responses, journal, instruments, medicine, tz }) {
  const xs = days.map((d) => dayX(d.day));
  const panel = h("section", { class: "symptom-panel", id: "symptom-panel", "aria-labelledby": "symptom-title" },
    h("h2", { id: "symptom-title", text: "Symptoms: questionnaires, mood and body" }),
    h("p", { class: "muted small", text: "Same days as the chart above. Shading: each questionnaire's published severity bands (darker is more severe); red lines: medicine sessions. A score is a screening number, never a diagnosis." }));
  const totals = dailyTotals(days, responses, tz);
  const order = [...instruments.keys()].filter((id) => totals.has(id));
  if (!order.length) panel.append(h("p", { class: "muted", id: "no-symptoms", text: "No questionnaires answered in this range." }));
  order.forEach((id, k) => {
    const inst = instruments.get(id);
    const { totals: values, rows } = totals.get(id);
    const chart = miniChart({
      xs,
      series: [{ label: `${inst.short_title} total`, color: INSTRUMENT_COLORS[k % INSTRUMENT_COLORS.length], values }],
      yRange: [inst.min_total - 0.5, inst.max_total + 0.5],
      ySplits: [...inst.bands.map((b) => b.min), inst.max_total],
      yLabel: inst.short_title,
      layers: [bandLayer(inst)],
      labels: [bandLabels(inst)],
      medicine,
      label: `${inst.short_title} totals on ${rows.length} days over its severity bands; table follows.`,
      height: 190,
    });
    chart.id = `symptom-chart-${id}`;
    chart.dataset.points = String(values.filter((v) => v !== null).length);
    panel.append(h("h3", { text: `${inst.short_title} (${inst.min_total}–${inst.max_total})` }), chart,
      details(`${inst.short_title}: the numbers`, dataTable(`${inst.short_title} answers`, ["When", "Total", "Severity", "Entered"],
        rows.map((r) => [formatDateTime(r.at, tz), String(r.total), r.severity, r.source === "clinic" ? "in clinic" : "by the patient"]))));
  });
  const scales = dailyScales(days, journal, tz);
  const nScales = scales.mood.filter((v) => v !== null).length + scales.body.filter((v) => v !== null).length;
  if (nScales) {
    const chart = miniChart({
      xs,
      series: [
        { label: "Mood (journal)", color: COLORS.purple, values: scales.mood, digits: 1 },
        { label: "Body (journal)", color: COLORS.green, values: scales.body, digits: 1 },
      ],
      yRange: [-0.5, 10.5],
      ySplits: [0, 5, 10],
      yLabel: "0–10",
      layers: [],
      medicine,
      label: "Daily mean of the journal's mood and body scales (0 worst, 10 best); table follows.",
      height: 140,
    });
    chart.id = "symptom-chart-scales";
    panel.append(h("h3", { text: "Mood and body (journal, 0–10, higher is better)" }), chart,
      details("Mood and body: the numbers", dataTable("Daily mean of the journal scales", ["Day", "Mood", "Body"],
        days.map((d, i) => [d.day, scales.mood[i], scales.body[i]]).filter((r) => r[1] !== null || r[2] !== null)
          .map(([day, m, b]) => [formatDay(day), m === null ? "–" : m.toFixed(1), b === null ? "–" : b.toFixed(1)]))));
  }
  return panel;
}

// --- change per medicine session -----------------------------------------------------------------

const pctText = (p) => (p === null || p === undefined ? "" : ` (${p > 0 ? "+" : ""}${Math.round(p)} %)`);

function ruling(point, inst) {
  const out = [];
  if (point.response === true) out.push(h("span", { class: "badge badge-response", text: "response" }));
  if (point.remission === true) out.push(h("span", { class: "badge badge-remission", text: "remission" }));
  if (point.meaningful === true && point.response !== true) out.push(h("span", { class: "badge badge-response", text: "meaningful change" }));
  if (!out.length && point.score && inst) out.push(h("span", { class: "muted small", text: point.change === null ? "no baseline" : "no response yet" }));
  return out;
}

function baselineWords(item, instruments, tz) {
  const inst = instruments.get(item.instrument);
  if (!item.baseline) return "no baseline answer before the first medicine session";
  const b = item.baseline;
  const source = b.source === "treatment_baseline" ? "baseline" : "before this session (no baseline answer)";
  return [`${source}: `, scoreBadge(inst, b.total, b.severity), ` on ${formatDateTime(b.at, tz)}`];
}

/** The symptom lines of a session card: per instrument, baseline → latest answer, change and ruling. */
export function symptomCardSection(sessionChange, instruments, tz) {
  const items = sessionChange ? sessionChange.instruments.filter((i) => i.baseline || i.latest) : [];
  const box = h("div", { class: "symptom-card", dataset: { sessionId: sessionChange ? sessionChange.session_id : "" } },
    h("h4", { text: "Symptoms" }));
  if (!items.length) {
    box.append(h("p", { class: "muted small", text: "No questionnaire answers around this session." }));
    return box;
  }
  box.append(h("ul", { class: "symptom-lines" }, items.map((item) => {
    const inst = instruments.get(item.instrument);
    const latest = item.latest;
    return h("li", { dataset: { instrument: item.instrument } },
      h("strong", { text: `${shortTitle(instruments, item.instrument)}: ` }),
      item.baseline ? scoreBadge(inst, item.baseline.total, item.baseline.severity) : h("span", { class: "muted", text: "no baseline" }),
      latest ? [" → ", scoreBadge(inst, latest.score.total, latest.score.severity),
        h("span", { class: "small", text: ` at ${latest.label}${latest.change === null ? "" : `, ${latest.change > 0 ? "+" : ""}${latest.change}${pctText(latest.change_pct)}`} ` }),
        ruling(latest, inst)] : h("span", { class: "muted small", text: " (no answer after the session yet)" }));
  })));
  box.append(h("p", { class: "muted small", text: "Response: at least 50 % below baseline; remission: PHQ-9 or GAD-7 below 5." }));
  return box;
}

/** A table of one session's points for every instrument: score, change against baseline, since the session. */
export function changeTable(sessionChange, instruments, tz) {
  const wrap = h("div", { class: "change-table", dataset: { sessionId: sessionChange.session_id } },
    h("h3", { text: `Medicine session ${formatDateTime(sessionChange.started_at, tz)}` }));
  const items = sessionChange.instruments;
  if (!items.length) {
    wrap.append(h("p", { class: "muted", text: "No questionnaires scheduled or answered." }));
    return wrap;
  }
  for (const item of items) {
    const inst = instruments.get(item.instrument);
    const stateText = { done: "", due: "due", overdue: "overdue", missed: "not answered", upcoming: "not yet due" };
    wrap.append(h("p", { class: "small baseline-line" }, h("strong", { text: `${shortTitle(instruments, item.instrument)} ` }),
      baselineWords(item, instruments, tz)));
    if (!item.points.length) {
      wrap.append(h("p", { class: "muted small", dataset: { instrument: item.instrument },
        text: `No ${shortTitle(instruments, item.instrument)} point falls between this session and the next one.` }));
      continue;
    }
    const [cPoint, cAnswered, cScore, cChange, cSince, cRuling] = ["Point", "Answered", "Score", "Change vs baseline", "Change vs just before the session", "Response / remission"];
    wrap.append(h("div", { class: "table-scroll", tabindex: "0" }, h("table", { class: "data-table stack symptom-points", dataset: { instrument: item.instrument } },
      h("caption", { class: "visually-hidden", text: `${shortTitle(instruments, item.instrument)} after the session` }),
      h("thead", {}, h("tr", {}, [cPoint, cAnswered, cScore, cChange, cSince, cRuling]
        .map((t) => h("th", { scope: "col", text: t })))),
      h("tbody", {}, item.points.map((p) => h("tr", { dataset: { point: p.label, state: p.state } },
        h("th", { scope: "row", text: p.label }),
        h("td", { "data-label": cAnswered, text: p.score ? formatDateTime(p.score.at, tz) : stateText[p.state] || p.state }),
        h("td", { "data-label": cScore }, p.score ? scoreBadge(inst, p.score.total, p.score.severity) : "–"),
        h("td", { class: "num", "data-label": cChange, text: p.change === null ? "–" : `${p.change > 0 ? "+" : ""}${p.change}${pctText(p.change_pct)}` }),
        h("td", { class: "num", "data-label": cSince, text: p.since_session === null ? "–" : `${p.since_session > 0 ? "+" : ""}${p.since_session}` }),
        h("td", { "data-label": cRuling }, p.score ? ruling(p, inst) : "–")))))));
  }
  return wrap;
}

/** The report's symptom section for one session (the same table, with how it is judged). */
export function symptomReportSection(sessionChange, instruments, tz) {
  return h("section", { class: "report-symptoms", id: "report-symptoms" },
    h("h2", { text: "Symptoms: change against baseline" }),
    sessionChange ? changeTable(sessionChange, instruments, tz) : h("p", { class: "muted", text: "No questionnaire answers around this session." }),
    h("p", { class: "small", text: "Baseline: the latest answer in the 28 days before the first medicine session. "
      + "Response: a total at least 50 % below baseline; remission: a PHQ-9 or GAD-7 total below 5; PCL-5: a change of 10 points is clinically meaningful. "
      + "Scores are screening numbers on published scales, never a diagnosis." }));
}
