// uPlot charts: daily trend with baseline band, plasticity shading, session markers and journal pins;
// resting HR / stress index; one day's 5-min windows; RR tachogram. Every chart has a table beside it.

import uPlot from "/static/vendor/uplot/uPlot.esm.js";
import { dayIn, formatAxisDay, formatDay, formatTime } from "./dates.js";
import { h } from "./dom.js";
import { PLASTICITY_LIGHT_DAYS, PLASTICITY_STRONG_DAYS, dayMs, localDay } from "./model.js";

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
const DAY_S = 86400;
const utcDate = (ts) => uPlot.tzDate(new Date(ts * 1e3), "Etc/UTC");
/** Width a journal pin needs on the lane, px (a two-digit count included); closer pins merge into one. */
const PIN_WIDTH_PX = 42;
/** Shortest span a time axis shows, s (one point must not stretch the axis over years). */
const MIN_TIME_SPAN_S = 120;

/** The calendar day ("YYYY-MM-DD") of a daily chart's x value (noon UTC of that day) or of a split. */
const dayOfX = (v) => new Date(v * 1000).toISOString().slice(0, 10);

/** Axis labels of the daily charts in the one day style of every page (the browser's locale). */
function dayAxisValues(u, splits) {
  return splits.map((v) => formatAxisDay(dayOfX(v)));
}

/** Axis labels of a time axis in zone `tz`: days for wide spans, times of day (with seconds when close). */
function timeAxisValues(tz) {
  return (u, splits, axisIdx, foundSpace, foundIncr) => splits.map((v) => (foundIncr >= DAY_S
    ? formatAxisDay(dayIn(v * 1000, tz))
    : formatTime(v * 1000, tz, { seconds: foundIncr < 60 })));
}

/** Legend value of a series: a dash until the cursor is on a point (uPlot passes no index then). */
const legendValue = (digits, none = "no value") => (u, v, seriesIdx, idx) => {
  if (idx === null || idx === undefined) return "–";
  return v === null || v === undefined ? none : v.toFixed(digits);
};

/**
 * Range of a time axis: `range` ([start, end], s) when showing all the data (first load, double-click
 * reset), else the requested span (drag zoom); never narrower than MIN_TIME_SPAN_S.
 */
function timeRange(range, xs) {
  const first = xs.length ? xs[0] : null;
  const last = xs.length ? xs[xs.length - 1] : null;
  return (u, min, max) => {
    if (range && (min === null || (min === first && max === last))) return range;
    if (min === null || max === null) return [0, MIN_TIME_SPAN_S];
    if (max - min >= MIN_TIME_SPAN_S) return [min, max];
    const mid = (min + max) / 2;
    return [mid - MIN_TIME_SPAN_S / 2, mid + MIN_TIME_SPAN_S / 2];
  };
}

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

/** How a daily point is drawn: by its quality and whether it counts (fill and shape, not colour alone). */
export const POINT_STYLES = {
  good: { label: "Daily ln RMSSD, good quality (●)", fill: COLORS.blue, stroke: COLORS.blue, size: 8, width: 1 },
  fair: { label: "Daily ln RMSSD, fair quality (○)", fill: "#ffffff", stroke: COLORS.blue, size: 9, width: 2.5 },
  other: { label: "Not counted: today or another source (◌)", fill: "#ffffff", stroke: COLORS.grey, size: 6, width: 1.5 },
};

/** Which point series a day belongs to: "good", "fair", "other" (drawn, not counted) or null (not drawn). */
export function pointKind(d) {
  if (d.lnRmssd === null || d.grade === "poor" || d.grade === "insufficient") return null;
  if (!d.counted) return "other";
  return d.grade === "fair" ? "fair" : "good";
}

/**
 * Daily ln RMSSD (points drawn by quality: good filled, fair hollow, not-counted days small and grey;
 * poor days left out), its 7-day rolling mean (line) and the normal band of that mean (shaded), with
 * the plasticity window after each medicine session, session markers and journal pins below the plot.
 * `days` are filled calendar days (nulls where nothing was worn); returns the container element.
 * Journal pins are grouped by day, and neighbouring days merge into one pin with a count where they would
 * overlap (a phone shows weeks in a few hundred pixels); `onPin(entries, button)` gets all their entries.
 */
export function dailyTrendChart({ days, medicine, integrations, journal, tz, onDay, onPin, simplified = false }) {
  // The plot is an image with a label; the pins stay outside it so assistive technology reaches them.
  const container = h("div", { class: "chart chart-with-pins" });
  const plotHost = h("div", { class: "plot-host", role: "img" });
  // The legend goes below the pins, so the pins sit right under the time axis they belong to.
  const legendHost = h("div", { class: "legend-host" });
  container.append(plotHost);
  const xs = days.map((d) => dayX(d.day));
  const kinds = days.map(pointKind);
  const byKind = (kind) => days.map((d, i) => (kinds[i] === kind ? d.lnRmssd : null));
  const rolling = days.map((d) => d.rolling7d);
  const low = days.map((d) => d.bandLow);
  const high = days.map((d) => d.bandHigh);
  const count = (kind) => kinds.filter((k) => k === kind).length;
  const points = count("good") + count("fair") + count("other");
  container.dataset.points = String(points);
  container.dataset.good = String(count("good"));
  container.dataset.fair = String(count("fair"));
  container.dataset.other = String(count("other"));
  container.dataset.poor = String(days.filter((d) => d.grade === "poor").length);
  container.dataset.days = String(days.length);
  plotHost.setAttribute("aria-label",
    `Daily ln RMSSD for ${days.length} days: ${count("good")} good, ${count("fair")} fair, `
    + `${count("other")} not counted, ${container.dataset.poor} poor-signal days left out; table of the numbers follows.`);
  const pointSeries = (kind) => {
    const st = POINT_STYLES[kind];
    return { label: st.label, stroke: st.stroke, width: 0, spanGaps: false,
      points: { show: true, size: st.size, fill: st.fill, stroke: st.stroke, width: st.width },
      value: legendValue(2, "–") };
  };

  // Assigned after the plot exists; uPlot may draw (and call placePins) before that.
  let lane = null;

  const markerLayer = (u) => {
    const { ctx } = u;
    const top = u.bbox.top;
    const height = u.bbox.height;
    ctx.save();
    for (const m of medicine) {
      const x0 = u.valToPos(dayX(m.day), "x", true);
      const x14 = u.valToPos(dayX(m.day) + PLASTICITY_STRONG_DAYS * DAY_S, "x", true);
      const x28 = u.valToPos(dayX(m.day) + PLASTICITY_LIGHT_DAYS * DAY_S, "x", true);
      ctx.fillStyle = "rgba(230, 159, 0, 0.22)";
      ctx.fillRect(x0, top, Math.max(0, x14 - x0), height);
      ctx.fillStyle = "rgba(230, 159, 0, 0.09)";
      ctx.fillRect(x14, top, Math.max(0, x28 - x14), height);
    }
    ctx.restore();
  };
  // A label beside its line: to the right of it, or to the left when it would leave the plot.
  const label = (u, text, x, y, color) => {
    const { ctx } = u;
    const pad = 4 * devicePixelRatio;
    ctx.font = `${12 * devicePixelRatio}px system-ui, sans-serif`;
    ctx.textBaseline = "alphabetic";
    const width = ctx.measureText(text).width;
    const right = u.bbox.left + u.bbox.width;
    ctx.textAlign = x + pad + width <= right ? "left" : "right";
    ctx.fillStyle = color;
    ctx.fillText(text, ctx.textAlign === "left" ? x + pad : x - pad, y);
  };
  const sessionLines = (u) => {
    const { ctx } = u;
    const top = u.bbox.top;
    const bottom = top + u.bbox.height;
    const left = u.bbox.left;
    const right = left + u.bbox.width;
    ctx.save();
    ctx.lineWidth = 2 * devicePixelRatio;
    for (const m of medicine) {
      const x = u.valToPos(dayX(m.day), "x", true);
      if (x < left || x > right) continue;
      ctx.strokeStyle = COLORS.vermillion;
      ctx.setLineDash([]);
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, bottom); ctx.stroke();
      label(u, "◆ medicine", x, top + 14 * devicePixelRatio, COLORS.vermillion);
    }
    for (const s of integrations) {
      const x = u.valToPos(dayX(localDay(Date.parse(s.startedAt), tz)), "x", true);
      if (x < left || x > right) continue;
      ctx.strokeStyle = COLORS.blue;
      ctx.setLineDash([6 * devicePixelRatio, 4 * devicePixelRatio]);
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, bottom); ctx.stroke();
      label(u, "▲ integration", x, bottom - 6 * devicePixelRatio, COLORS.blue);
    }
    ctx.restore();
  };

  const opts = {
    width: 800,
    height: chartHeight(container, simplified ? 240 : 300),
    tzDate: utcDate,
    cursor: { sync: { key: "somatrace-daily" }, drag: { x: false, y: false } },
    legend: { live: true, mount: (u, el) => legendHost.append(el) },
    scales: { x: { time: true }, y: { auto: true } },
    axes: [
      { stroke: COLORS.black, grid: { stroke: "#e6e6e6" }, space: 60, values: dayAxisValues },
      { label: "ln RMSSD", stroke: COLORS.black, grid: { stroke: "#e6e6e6" }, size: 50 },
    ],
    series: [
      { value: (u, v, s, idx) => (idx === null || idx === undefined || v === null ? "point at a day" : formatDay(dayOfX(v))) },
      pointSeries("good"),
      pointSeries("fair"),
      pointSeries("other"),
      { label: "7-day mean", stroke: COLORS.vermillion, width: 2.5, spanGaps: false, points: { show: false },
        value: legendValue(2) },
      { label: "Band high (7-day mean)", stroke: "rgba(0, 158, 115, 0.6)", width: 1, dash: [4, 4], spanGaps: false,
        points: { show: false }, value: legendValue(2) },
      { label: "Band low (7-day mean)", stroke: "rgba(0, 158, 115, 0.6)", width: 1, dash: [4, 4], spanGaps: false,
        points: { show: false }, value: legendValue(2) },
    ],
    bands: [{ series: [5, 6], fill: "rgba(0, 158, 115, 0.16)" }],
    hooks: {
      drawClear: [markerLayer],
      draw: [sessionLines, (u) => placePins(u)],
      setSize: [(u) => placePins(u)],
    },
  };
  const plot = new uPlot(opts, [xs, byKind("good"), byKind("fair"), byKind("other"), rolling, high, low], plotHost);
  plot.root.dataset.chart = "daily";

  // Clicking a day opens its 5-minute windows.
  if (onDay) {
    plot.over.addEventListener("click", () => {
      const idx = plot.cursor.idx;
      if (idx !== null && idx !== undefined && days[idx]) onDay(days[idx].day);
    });
    plot.over.classList.add("clickable");
  }

  // Journal pins: real buttons (keyboard and touch reachable) on the same time axis, one per day.
  lane = h("div", { class: "pin-lane", role: "list", "aria-label": "Journal entries" });
  const byDay = new Map();
  for (const j of [...journal].sort((a, b) => a.at.localeCompare(b.at))) {
    const day = localDay(Date.parse(j.at), tz);
    if (!byDay.has(day)) byDay.set(day, []);
    byDay.get(day).push(j);
  }
  const dayGroups = [...byDay.entries()].sort((a, b) => a[0].localeCompare(b[0]))
    .map(([day, entries]) => ({ day, entries }));
  container.dataset.journalDays = String(dayGroups.length);
  let clusterKey = "";
  let pins = [];

  function pinButton(cluster) {
    const entries = cluster.flatMap((g) => g.entries);
    const first = cluster[0].day;
    const last = cluster[cluster.length - 1].day;
    const when = first === last ? formatDay(first) : `${formatDay(first)} – ${formatDay(last)}`;
    const count = entries.length;
    const preview = entries[0].text ? `: ${entries[0].text.slice(0, 80)}${entries[0].text.length > 80 || count > 1 ? "…" : ""}` : "";
    const btn = h("button", {
      type: "button",
      class: ["pin", count > 1 ? "pin-many" : null],
      role: "listitem",
      dataset: { day: first, lastDay: last, count: String(count), journalIds: entries.map((e) => e.id).join(" ") },
      "aria-label": `${count === 1 ? "1 journal note" : `${count} journal notes`}, ${when}${preview}`,
      title: `${count === 1 ? "1 note" : `${count} notes`}, ${when}`,
      on: {
        click: () => onPin && onPin(entries, btn),
        mouseenter: () => onPin && onPin(entries, btn),
        focus: () => onPin && onPin(entries, btn),
      },
    }, h("span", { "aria-hidden": "true", text: count > 1 ? `✎${count}` : "✎" }));
    return btn;
  }

  function placePins(u) {
    if (!lane || !lane.isConnected) return;
    const width = u.over.clientWidth;
    const left = u.over.getBoundingClientRect().left - lane.getBoundingClientRect().left;
    // Days inside the plotted range, left to right, merged where closer than a pin's width.
    const placed = dayGroups
      .map((g) => ({ ...g, x: u.valToPos(dayX(g.day), "x") }))
      .filter((g) => g.x >= 0 && g.x <= width);
    // A pin sits at the middle of its days, kept whole over the plot; a pin closer than a pin's width
    // to the one before merges with it (and the merged pin again with the one before, if need be).
    const clamp = (x) => Math.min(Math.max(x, PIN_WIDTH_PX / 2), Math.max(PIN_WIDTH_PX / 2, width - PIN_WIDTH_PX / 2));
    const centre = (c) => clamp((c[0].x + c[c.length - 1].x) / 2);
    const clusters = [];
    for (const g of placed) {
      clusters.push([g]);
      while (clusters.length > 1
        && centre(clusters[clusters.length - 1]) - centre(clusters[clusters.length - 2]) < PIN_WIDTH_PX) {
        const last = clusters.pop();
        clusters[clusters.length - 1].push(...last);
      }
    }
    const key = clusters.map((c) => c.map((g) => g.day).join(",")).join("|");
    if (key !== clusterKey) {
      const focusedDay = lane.contains(document.activeElement) ? document.activeElement.dataset.day : null;
      pins = clusters.map((c) => ({ cluster: c, btn: pinButton(c) }));
      lane.replaceChildren(...pins.map((p) => p.btn));
      clusterKey = key;
      const again = pins.find((p) => p.cluster.some((g) => g.day === focusedDay));
      if (again) again.btn.focus();
    }
    for (const p of pins) p.btn.style.left = `${left + centre(p.cluster)}px`;
  }
  container.append(lane, legendHost);
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
      { grid: { stroke: "#e6e6e6" }, space: 60, values: dayAxisValues },
      { scale: "hr", label: "Resting HR (bpm)", stroke: COLORS.purple, grid: { stroke: "#e6e6e6" }, size: 50 },
      { scale: "si", label: "Stress index", side: 1, stroke: COLORS.green, grid: { show: false }, size: 50 },
    ],
    series: [
      { value: (u, v, s, idx) => (idx === null || idx === undefined || v === null ? "point at a day" : formatDay(dayOfX(v))) },
      { label: "Resting HR (bpm)", scale: "hr", stroke: COLORS.purple, width: 2, spanGaps: false,
        points: { show: true, size: 5, fill: COLORS.purple }, value: legendValue(0) },
      { label: "Stress index", scale: "si", stroke: COLORS.green, width: 2, dash: [6, 3], spanGaps: false,
        points: { show: true, size: 5, fill: COLORS.green }, value: legendValue(1) },
    ],
  };
  const plot = new uPlot(opts, [xs, days.map((d) => d.restingHr), days.map((d) => d.stressIndex)], container);
  plot.root.dataset.chart = "vitals";
  container.plot = plot;
  autoSize(plot, container, 200);
  return container;
}

/**
 * One day's 5-minute windows: ln RMSSD and mean HR at each window start (patient's time zone), on an
 * axis spanning `range` ([start, end] in s, e.g. the local day) so that a single window is drawn in
 * its place, not stretched over years.
 */
export function windowsChart(windows, tz, range = null) {
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
    scales: { x: { time: true, range: timeRange(range, xs) }, ln: { auto: true }, hr: { auto: true } },
    axes: [
      { grid: { stroke: "#e6e6e6" }, space: 70, values: timeAxisValues(tz) },
      { scale: "ln", label: "ln RMSSD", stroke: COLORS.blue, size: 50, grid: { stroke: "#e6e6e6" } },
      { scale: "hr", label: "HR (bpm)", side: 1, stroke: COLORS.purple, size: 50, grid: { show: false } },
    ],
    series: [
      { value: (u, v, s, idx) => (idx === null || idx === undefined || v === null ? "point at a window" : formatTime(v * 1000, tz)) },
      { label: "ln RMSSD (5 min)", scale: "ln", stroke: COLORS.blue, width: 1.5, spanGaps: false,
        points: { show: true, size: 4, fill: COLORS.blue }, value: legendValue(2) },
      { label: "Mean HR (bpm)", scale: "hr", stroke: COLORS.purple, width: 1.5, dash: [5, 3], spanGaps: false,
        points: { show: false }, value: legendValue(1) },
    ],
  };
  const plot = new uPlot(opts, [xs, ln, hr], container);
  plot.root.dataset.chart = "windows";
  container.plot = plot;
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
    scales: { x: { time: true, range: timeRange(null, xs) }, y: { auto: true } },
    axes: [{ grid: { stroke: "#e6e6e6" }, space: 90, values: timeAxisValues(tz) },
      { label: "RR (ms)", size: 55, grid: { stroke: "#e6e6e6" } }],
    series: [
      { value: (u, v, s, idx) => (idx === null || idx === undefined || v === null ? "point at a beat" : formatTime(v * 1000, tz, { seconds: true })) },
      { label: "RR (ms)", stroke: COLORS.black, width: 1, spanGaps: false, points: { show: false }, value: legendValue(0) },
    ],
  };
  const plot = new uPlot(opts, [xs, rr], container);
  plot.root.dataset.chart = "tachogram";
  container.plot = plot;
  autoSize(plot, container, 220);
  return container;
}

/**
 * The patient's plain chart: their 7-day average (line) against their usual range (band) and the daily
 * readings that count (filled: clear signal, hollow: some disturbance; others left out), with no numbers
 * on the value axis; the text alternative is a table in words.
 */
export function plainTrendChart({ days }) {
  const container = h("div", { class: "chart plain-chart", role: "img",
    "aria-label": "Your readings over the last weeks: the line is your 7-day average, the green band your usual range. A table in words follows." });
  const xs = days.map((d) => dayX(d.day));
  const good = days.map((d) => (d.counted && d.grade === "good" ? d.lnRmssd : null));
  const fair = days.map((d) => (d.counted && d.grade !== "good" ? d.lnRmssd : null));
  container.dataset.points = String(good.concat(fair).filter((v) => v !== null).length);
  const opts = {
    width: 800,
    height: chartHeight(container, 220),
    tzDate: utcDate,
    cursor: { show: false },
    legend: { show: false },
    scales: { x: { time: true }, y: { auto: true } },
    axes: [
      { stroke: COLORS.black, grid: { stroke: "#e6e6e6" }, space: 70, values: dayAxisValues },
      // no numbers on the value axis, but room for the first day label under the plot's left edge
      { stroke: COLORS.black, grid: { show: false }, size: 26, values: (u, splits) => splits.map(() => "") },
    ],
    series: [
      {},
      { label: "Morning, clear signal", stroke: "rgba(0, 114, 178, 0.6)", width: 0, spanGaps: false,
        points: { show: true, size: 6, fill: "rgba(0, 114, 178, 0.6)", stroke: "rgba(0, 114, 178, 0.6)" } },
      { label: "Morning, some disturbance", stroke: "rgba(0, 114, 178, 0.6)", width: 0, spanGaps: false,
        points: { show: true, size: 6, width: 1.5, fill: "#ffffff", stroke: "rgba(0, 114, 178, 0.8)" } },
      { label: "7-day average", stroke: COLORS.blue, width: 3, spanGaps: false, points: { show: false } },
      { label: "usual range, top", stroke: "rgba(0, 158, 115, 0.6)", width: 1, spanGaps: false, points: { show: false } },
      { label: "usual range, bottom", stroke: "rgba(0, 158, 115, 0.6)", width: 1, spanGaps: false, points: { show: false } },
    ],
    bands: [{ series: [4, 5], fill: "rgba(0, 158, 115, 0.16)" }],
  };
  const plot = new uPlot(opts, [xs, good, fair, days.map((d) => d.rolling7d),
    days.map((d) => d.bandHigh), days.map((d) => d.bandLow)], container);
  plot.root.dataset.chart = "plain";
  autoSize(plot, container, 220);
  container.plot = plot;
  return container;
}
