// uPlot charts: daily trend with baseline band, plasticity shading, session markers and journal pins;
// resting HR / stress index; one day's 5-min windows; RR tachogram. Every chart has a table beside it.

import uPlot from "/static/vendor/uplot/uPlot.esm.js";
import { h } from "./dom.js";
import { PLASTICITY_LIGHT_DAYS, PLASTICITY_STRONG_DAYS, dayMs, formatDateTime, localDay } from "./model.js";

/** Okabe–Ito palette (colour-blind safe). */
export const COLORS = {
  black: "#000000",
  orange: "#E69F00",
  sky: "#56B4E9",
  green: "#009E73",
  yellow: "#F0E442",
  blue: "#0072B2",
  vermillion: "#D55E00",
  purple: "#CC79A7",
  grey: "#6b6b6b",
};

const HALF_DAY_S = 43200;
const utcDate = (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC");

function chartHeight(el, wanted) {
  return window.matchMedia("(max-width: 600px)").matches ? Math.round(wanted * 0.75) : wanted;
}

/** Keep a chart as wide as its container. */
function autoSize(plot, container, height) {
  const resize = () => {
    const width = Math.max(260, container.clientWidth);
    if (Math.abs(width - plot.width) > 2) plot.setSize({ width, height: chartHeight(container, height) });
  };
  new ResizeObserver(resize).observe(container);
}

const dayX = (day) => dayMs(day) / 1000 + HALF_DAY_S;

/**
 * Daily ln RMSSD (points), its 7-day rolling mean (line) and the baseline band (shaded), with the
 * plasticity window after each medicine session, session markers and journal pins below the plot.
 * `days` are filled calendar days (nulls where nothing was worn); returns the container element.
 */
export function dailyTrendChart({ days, medicine, integrations, journal, tz, onDay, onPin, simplified = false }) {
  // The plot is an image with a label; the pins stay outside it so assistive technology reaches them.
  const container = h("div", { class: "chart chart-with-pins" });
  const plotHost = h("div", { class: "plot-host", role: "img" });
  container.append(plotHost);
  const xs = days.map((d) => dayX(d.day));
  const ln = days.map((d) => d.lnRmssd);
  const rolling = days.map((d) => d.rolling7d);
  const low = days.map((d) => d.bandLow);
  const high = days.map((d) => d.bandHigh);
  const points = ln.filter((v) => v !== null).length;
  container.dataset.points = String(points);
  container.dataset.days = String(days.length);
  plotHost.setAttribute("aria-label",
    `Daily ln RMSSD for ${days.length} days, ${points} with a value; table of the numbers follows.`);

  // Assigned after the plot exists; uPlot may draw (and call placePins) before that.
  let lane = null;
  let pins = [];

  const markerLayer = (u) => {
    const { ctx } = u;
    const top = u.bbox.top;
    const height = u.bbox.height;
    ctx.save();
    for (const m of medicine) {
      const x0 = u.valToPos(dayX(m.day), "x", true);
      const x14 = u.valToPos(dayX(m.day) + PLASTICITY_STRONG_DAYS * 86400, "x", true);
      const x28 = u.valToPos(dayX(m.day) + PLASTICITY_LIGHT_DAYS * 86400, "x", true);
      ctx.fillStyle = "rgba(230, 159, 0, 0.22)";
      ctx.fillRect(x0, top, Math.max(0, x14 - x0), height);
      ctx.fillStyle = "rgba(230, 159, 0, 0.09)";
      ctx.fillRect(x14, top, Math.max(0, x28 - x14), height);
    }
    ctx.restore();
  };
  const sessionLines = (u) => {
    const { ctx } = u;
    const top = u.bbox.top;
    const bottom = top + u.bbox.height;
    ctx.save();
    ctx.lineWidth = 2 * devicePixelRatio;
    for (const m of medicine) {
      const x = u.valToPos(dayX(m.day), "x", true);
      ctx.strokeStyle = COLORS.vermillion;
      ctx.setLineDash([]);
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, bottom); ctx.stroke();
      ctx.fillStyle = COLORS.vermillion;
      ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
      ctx.fillText("◆ medicine", x + 4 * devicePixelRatio, top + 14 * devicePixelRatio);
    }
    for (const s of integrations) {
      const x = u.valToPos(dayX(localDay(Date.parse(s.startedAt), tz)), "x", true);
      ctx.strokeStyle = COLORS.blue;
      ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, bottom); ctx.stroke();
      ctx.fillStyle = COLORS.blue;
      ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
      ctx.fillText("▲ integration", x + 4 * devicePixelRatio, bottom - 6 * devicePixelRatio);
    }
    ctx.restore();
  };

  const opts = {
    width: 800,
    height: chartHeight(container, simplified ? 240 : 300),
    tzDate: utcDate,
    cursor: { sync: { key: "somatrace-daily" }, drag: { x: false, y: false } },
    legend: { live: true },
    scales: { x: { time: true }, y: { auto: true } },
    axes: [
      { stroke: COLORS.black, grid: { stroke: "#e6e6e6" } },
      { label: "ln RMSSD", stroke: COLORS.black, grid: { stroke: "#e6e6e6" }, size: 50 },
    ],
    series: [
      { value: (u, v) => (v === null ? "–" : new Date((v - HALF_DAY_S) * 1000).toISOString().slice(0, 10)) },
      { label: "Daily ln RMSSD", stroke: COLORS.blue, width: 0, spanGaps: false,
        points: { show: true, size: 8, fill: COLORS.blue, stroke: COLORS.blue },
        value: (u, v) => (v === null ? "no data" : v.toFixed(2)) },
      { label: "7-day mean", stroke: COLORS.vermillion, width: 2.5, spanGaps: false, points: { show: false },
        value: (u, v) => (v === null ? "–" : v.toFixed(2)) },
      { label: "Baseline band high", stroke: "rgba(0, 158, 115, 0.6)", width: 1, dash: [4, 4], spanGaps: false,
        points: { show: false }, value: (u, v) => (v === null ? "–" : v.toFixed(2)) },
      { label: "Baseline band low", stroke: "rgba(0, 158, 115, 0.6)", width: 1, dash: [4, 4], spanGaps: false,
        points: { show: false }, value: (u, v) => (v === null ? "–" : v.toFixed(2)) },
    ],
    bands: [{ series: [3, 4], fill: "rgba(0, 158, 115, 0.16)" }],
    hooks: {
      drawClear: [markerLayer],
      draw: [sessionLines, (u) => placePins(u)],
      setSize: [(u) => placePins(u)],
    },
  };
  const plot = new uPlot(opts, [xs, ln, rolling, high, low], plotHost);
  plot.root.dataset.chart = "daily";

  // Clicking a day opens its 5-minute windows.
  if (onDay) {
    plot.over.addEventListener("click", () => {
      const idx = plot.cursor.idx;
      if (idx !== null && idx !== undefined && days[idx]) onDay(days[idx].day);
    });
    plot.over.classList.add("clickable");
  }

  // Journal pins: real buttons (keyboard and touch reachable) on the same time axis.
  lane = h("div", { class: "pin-lane", role: "list", "aria-label": "Journal entries" });
  pins = journal.map((j) => {
    const btn = h("button", {
      type: "button",
      class: "pin",
      role: "listitem",
      dataset: { journalId: j.id || "", at: j.at },
      "aria-label": `Journal ${formatDateTime(j.at, tz)}: ${j.text}`,
      title: j.text,
      text: "✎",
      on: { click: () => onPin && onPin(j, btn), mouseenter: () => onPin && onPin(j, btn), focus: () => onPin && onPin(j, btn) },
    });
    return { entry: j, btn, offsetS: 0 };
  });
  // Several entries on one day sit side by side around that day's point.
  const perDay = new Map();
  for (const p of pins) {
    const day = localDay(Date.parse(p.entry.at), tz);
    const list = perDay.get(day) || [];
    list.push(p);
    perDay.set(day, list);
  }
  for (const list of perDay.values()) {
    list.forEach((p, i) => { p.offsetS = (i - (list.length - 1) / 2) * 3 * 3600; });
  }
  lane.append(...pins.map((p) => p.btn));
  function placePins(u) {
    if (!lane || !lane.isConnected) return;
    const left = u.over.getBoundingClientRect().left - lane.getBoundingClientRect().left;
    for (const p of pins) {
      const x = u.valToPos(dayX(localDay(Date.parse(p.entry.at), tz)) + p.offsetS, "x");
      const visible = x >= 0 && x <= u.over.clientWidth;
      p.btn.hidden = !visible;
      p.btn.style.left = `${left + x}px`;
    }
  }
  container.append(lane);
  autoSize(plot, container, simplified ? 240 : 300);
  requestAnimationFrame(() => placePins(plot));
  container.plot = plot;
  return container;
}

/** Resting heart rate and Baevsky stress index per day, cursor-synced with the trend chart. */
export function dailyVitalsChart(days) {
  const container = h("div", { class: "chart", role: "img",
    "aria-label": "Daily resting heart rate and stress index; table of the numbers follows." });
  const xs = days.map((d) => dayX(d.day));
  const opts = {
    width: 800,
    height: chartHeight(container, 200),
    tzDate: utcDate,
    cursor: { sync: { key: "somatrace-daily" }, drag: { x: false, y: false } },
    scales: { x: { time: true }, hr: { auto: true }, si: { auto: true } },
    axes: [
      { grid: { stroke: "#e6e6e6" } },
      { scale: "hr", label: "Resting HR (bpm)", stroke: COLORS.purple, grid: { stroke: "#e6e6e6" }, size: 50 },
      { scale: "si", label: "Stress index", side: 1, stroke: COLORS.green, grid: { show: false }, size: 50 },
    ],
    series: [
      { value: (u, v) => (v === null ? "–" : new Date((v - HALF_DAY_S) * 1000).toISOString().slice(0, 10)) },
      { label: "Resting HR (bpm)", scale: "hr", stroke: COLORS.purple, width: 2, spanGaps: false,
        points: { show: true, size: 5, fill: COLORS.purple } },
      { label: "Stress index", scale: "si", stroke: COLORS.green, width: 2, dash: [6, 3], spanGaps: false,
        points: { show: true, size: 5, fill: COLORS.green } },
    ],
  };
  const plot = new uPlot(opts, [xs, days.map((d) => d.restingHr), days.map((d) => d.stressIndex)], container);
  plot.root.dataset.chart = "vitals";
  autoSize(plot, container, 200);
  return container;
}

/** One day's 5-minute windows: ln RMSSD and mean HR at each window start (patient's time zone). */
export function windowsChart(windows, tz) {
  const container = h("div", { class: "chart", role: "img",
    "aria-label": `ln RMSSD and heart rate of ${windows.length} five-minute windows; table follows.` });
  container.dataset.points = String(windows.length);
  const xs = [];
  const ln = [];
  const hr = [];
  let previous = null;
  for (const w of windows) {
    const t = Date.parse(w.window_start) / 1000;
    if (previous !== null && t - previous > (w.window_s || 300) * 1.5) {
      xs.push(previous + 1); ln.push(null); hr.push(null); // wear gap stays a gap
    }
    xs.push(t); ln.push(w.ln_rmssd ?? null); hr.push(w.mean_hr_bpm ?? null);
    previous = t;
  }
  const opts = {
    width: 800,
    height: chartHeight(container, 240),
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), tz),
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: true }, ln: { auto: true }, hr: { auto: true } },
    axes: [
      { grid: { stroke: "#e6e6e6" } },
      { scale: "ln", label: "ln RMSSD", stroke: COLORS.blue, size: 50, grid: { stroke: "#e6e6e6" } },
      { scale: "hr", label: "HR (bpm)", side: 1, stroke: COLORS.purple, size: 50, grid: { show: false } },
    ],
    series: [
      {},
      { label: "ln RMSSD (5 min)", scale: "ln", stroke: COLORS.blue, width: 1.5, spanGaps: false,
        points: { show: true, size: 4, fill: COLORS.blue } },
      { label: "Mean HR (bpm)", scale: "hr", stroke: COLORS.purple, width: 1.5, dash: [5, 3], spanGaps: false,
        points: { show: false } },
    ],
  };
  const plot = new uPlot(opts, [xs, ln, hr], container);
  plot.root.dataset.chart = "windows";
  autoSize(plot, container, 240);
  return container;
}

/** RR tachogram: every beat's RR interval (ms) over time; breaks of more than 5 s stay gaps. */
export function tachogramChart(beats, tz) {
  const container = h("div", { class: "chart", role: "img",
    "aria-label": `RR tachogram of ${beats.length} beats; a per-window table follows.` });
  container.dataset.points = String(beats.length);
  const xs = [];
  const rr = [];
  let previous = null;
  for (const b of beats) {
    const t = b.t_ms / 1000;
    if (previous !== null && t - previous > 5) { xs.push(previous + 0.001); rr.push(null); }
    xs.push(t); rr.push(b.rr_ms);
    previous = t;
  }
  const opts = {
    width: 800,
    height: chartHeight(container, 220),
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1e3), tz),
    cursor: { drag: { x: true, y: false } },
    scales: { x: { time: true }, y: { auto: true } },
    axes: [{ grid: { stroke: "#e6e6e6" } }, { label: "RR (ms)", size: 55, grid: { stroke: "#e6e6e6" } }],
    series: [{}, { label: "RR (ms)", stroke: COLORS.black, width: 1, spanGaps: false, points: { show: false } }],
  };
  const plot = new uPlot(opts, [xs, rr], container);
  plot.root.dataset.chart = "tachogram";
  autoSize(plot, container, 220);
  return container;
}
