// Pure data shaping for the pages: calendar days in the patient's time zone, series with gaps, flags.

export const DAY_MS = 86400000;
/** An integration appointment is expected within this many days after a medicine session. */
export const INTEGRATION_WITHIN_DAYS = 3;
/** Plasticity window after a medicine session: strong shading to day 14, lighter to day 28. */
export const PLASTICITY_STRONG_DAYS = 14;
export const PLASTICITY_LIGHT_DAYS = 28;
/** Integration periods (days after the medicine session), as the analysis defines them. */
export const PERIODS = [
  { key: "1-3", label: "Days 1–3", first: 1, last: 3 },
  { key: "4-14", label: "Days 4–14", first: 4, last: 14 },
  { key: "15-28", label: "Days 15–28", first: 15, last: 28 },
];

const dayFormatters = new Map();

/** Local calendar date "YYYY-MM-DD" of an instant in the IANA zone `tz`. */
export function localDay(instant, tz) {
  let f = dayFormatters.get(tz);
  if (!f) {
    f = new Intl.DateTimeFormat("en-CA", { timeZone: tz || "UTC", year: "numeric", month: "2-digit", day: "2-digit" });
    dayFormatters.set(tz, f);
  }
  return f.format(new Date(instant));
}

/** "YYYY-MM-DD" → ms at UTC midnight of that calendar day (a zone-free day number × DAY_MS). */
export function dayMs(day) {
  const [y, m, d] = day.split("-").map(Number);
  return Date.UTC(y, m - 1, d);
}

export function dayString(ms) {
  return new Date(ms).toISOString().slice(0, 10);
}

export function addDays(day, n) {
  return dayString(dayMs(day) + n * DAY_MS);
}

export function daysBetween(fromDay, toDay) {
  return Math.round((dayMs(toDay) - dayMs(fromDay)) / DAY_MS);
}

// Dates and times are shown in one style from the browser's locale (dates.js).
export { formatDateTime, formatDay } from "./dates.js";

const num = (v) => (v === null || v === undefined || v === "" || Number.isNaN(Number(v)) ? null : Number(v));

/** One daily row from the API, with the field names the pages use. */
export function normalizeDaily(row) {
  return {
    day: String(row.day).slice(0, 10),
    source: row.source || "none",
    lnRmssd: num(row.ln_rmssd),
    rmssdMs: num(row.rmssd_ms),
    restingHr: num(row.resting_hr_bpm),
    stressIndex: num(row.stress_index),
    nWindows: num(row.n_windows) || 0,
    wearHours: num(row.wear_hours) || 0,
    artifactShare: num(row.artifact_share),
    rolling7d: num(row.rolling_mean_7d),
    baselineMean: num(row.baseline_mean),
    bandLow: num(row.band_low),
    bandHigh: num(row.band_high),
    cvPct: num(row.cv_pct),
    quality: row.quality || "",
  };
}

export function normalizeSession(row) {
  return {
    id: row.id,
    kind: row.kind,
    startedAt: row.started_at,
    endedAt: row.ended_at || null,
    note: row.note || "",
  };
}

export function normalizeJournal(row) {
  return {
    id: row.id,
    at: row.at,
    text: row.text || "",
    tags: Array.isArray(row.tags) ? row.tags : [],
    mood: num(row.mood),
    body: num(row.body),
  };
}

/** The /timeline response (or its parts) in one shape: daily, sessions, journal, gaps. */
export function normalizeTimeline(data) {
  const daily = (data.daily || data.days || []).map(normalizeDaily);
  const sessions = (data.sessions || []).map(normalizeSession);
  const journal = (data.journal || data.journal_entries || []).map(normalizeJournal);
  const gaps = (data.gaps || data.recording_gaps || []).map((g) => ({
    start: g.start_at || g.start || (g.start_ms !== undefined ? new Date(g.start_ms).toISOString() : null),
    end: g.end_at || g.end || (g.end_ms !== undefined ? new Date(g.end_ms).toISOString() : null),
  }));
  const baseline = data.baseline || null;
  return { daily, sessions, journal, gaps, baseline };
}

/**
 * Every calendar day from `firstDay` to `lastDay` with the daily row or null values: days without
 * wear stay null so that charts show them as gaps, never interpolated.
 */
export function fillDays(daily, firstDay, lastDay) {
  const byDay = new Map(daily.map((d) => [d.day, d]));
  const out = [];
  for (let day = firstDay; day <= lastDay; day = addDays(day, 1)) {
    out.push(byDay.get(day) || { ...normalizeDaily({ day }), missing: true });
    if (out.length > 3700) break;
  }
  return out;
}

/** Latest baseline band known in the daily rows. */
export function currentBand(daily) {
  for (let i = daily.length - 1; i >= 0; i -= 1) {
    const d = daily[i];
    if (d.bandLow !== null && d.bandHigh !== null) return { low: d.bandLow, high: d.bandHigh, mean: d.baselineMean };
  }
  return null;
}

export function bandPosition(value, low, high) {
  if (value === null || low === null || high === null) return "unknown";
  if (value > high) return "above";
  if (value < low) return "below";
  return "within";
}

/** Medicine sessions, each with its integration appointment (if any within INTEGRATION_WITHIN_DAYS). */
export function medicineSessions(sessions, tz) {
  const integrations = sessions.filter((s) => s.kind === "integration");
  return sessions
    .filter((s) => s.kind === "medicine")
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt))
    .map((s) => {
      const start = Date.parse(s.startedAt);
      const day = localDay(start, tz);
      // Counted in the patient's calendar days: a session on day 0 and an appointment on day 3 is "within 3 days".
      const following = integrations
        .map((i) => ({
          session: i,
          afterDays: (Date.parse(i.startedAt) - start) / DAY_MS,
          afterCalendarDays: daysBetween(day, localDay(Date.parse(i.startedAt), tz)),
        }))
        .filter((i) => i.afterDays >= 0)
        .sort((a, b) => a.afterDays - b.afterDays);
      const within = following.find((i) => i.afterCalendarDays <= INTEGRATION_WITHIN_DAYS) || null;
      return {
        ...s,
        day,
        integration: within ? within.session : null,
        nextIntegration: following.length ? following[0] : null,
        missingIntegration: !within,
      };
    });
}

/** Summary of one patient for the therapist's list. */
export function patientSummary(timeline, tz, todayDay) {
  const daily = [...timeline.daily].sort((a, b) => a.day.localeCompare(b.day));
  const weekStart = addDays(todayDay, -6);
  const wearHours7d = daily.filter((d) => d.day >= weekStart && d.day <= todayDay)
    .reduce((sum, d) => sum + (d.wearHours || 0), 0);
  const latest = [...daily].reverse().find((d) => d.lnRmssd !== null) || null;
  const band = currentBand(daily);
  const lastData = [...daily].reverse().find((d) => d.wearHours > 0) || null;
  const now = Date.now();
  const past = timeline.sessions.filter((s) => Date.parse(s.startedAt) <= now)
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  const future = timeline.sessions.filter((s) => Date.parse(s.startedAt) > now)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  const flags = [];
  const recent = daily.filter((d) => d.day >= weekStart);
  if (recent.length && recent.every((d) => d.lnRmssd === null)) flags.push("no valid day in 7 days");
  const poorDays = recent.filter((d) => /poor|insufficient/.test(d.quality)).length;
  if (poorDays >= 3) flags.push(`${poorDays} poor-quality days`);
  const highArtifacts = recent.filter((d) => d.artifactShare !== null && d.artifactShare > 0.05).length;
  if (highArtifacts >= 3) flags.push("many artifacts");
  if (!band) flags.push("no baseline yet");
  for (const m of medicineSessions(timeline.sessions, tz)) {
    if (m.missingIntegration && now - Date.parse(m.startedAt) > INTEGRATION_WITHIN_DAYS * DAY_MS) {
      flags.push(`no integration within ${INTEGRATION_WITHIN_DAYS} days of ${m.day}`);
    }
  }
  return {
    wearHours7d,
    latest,
    band,
    position: latest && band ? bandPosition(latest.lnRmssd, band.low, band.high) : "unknown",
    lastDataDay: lastData ? lastData.day : null,
    lastSession: past[0] || null,
    nextSession: future[0] || null,
    flags,
  };
}

/** Journal entries whose local day falls in [firstDay, lastDay]. */
export function journalBetween(journal, tz, firstDay, lastDay) {
  return journal.filter((j) => {
    const day = localDay(Date.parse(j.at), tz);
    return day >= firstDay && day <= lastDay;
  });
}

/**
 * One integration-period result from /sessions/{sid}/integration, in one shape:
 * {key, label, insufficient, reason, nDays, mean, diff, ciLow, ciHigh, effect, position}.
 */
export function normalizePeriod(raw, index) {
  const fallback = PERIODS[index] || { key: String(index), label: `Period ${index + 1}` };
  const first = num(raw.first_day ?? raw.start_day ?? raw.day_from);
  const last = num(raw.last_day ?? raw.end_day ?? raw.day_to);
  const known = PERIODS.find((p) => p.key === raw.period || p.key === raw.label || (p.first === first && p.last === last));
  const period = known || fallback;
  const reason = raw.reason || raw.insufficient_reason || (raw.insufficient ? String(raw.insufficient) : null);
  const diff = num(raw.difference ?? raw.diff ?? raw.change ?? raw.diff_ln_rmssd);
  const ci = raw.ci95 || raw.ci || null;
  const insufficient = Boolean(raw.insufficient_data || raw.insufficient || raw.status === "insufficient_data"
    || raw.status === "insufficient" || (diff === null && reason));
  return {
    key: period.key,
    label: period.label,
    insufficient: insufficient || diff === null,
    reason: reason || (diff === null ? "insufficient data" : null),
    nDays: num(raw.n_days),
    mean: num(raw.mean ?? raw.mean_ln_rmssd),
    diff,
    ciLow: num(raw.ci_low ?? raw.ci_lower ?? (Array.isArray(ci) ? ci[0] : ci && ci.low)),
    ciHigh: num(raw.ci_high ?? raw.ci_upper ?? (Array.isArray(ci) ? ci[1] : ci && ci.high)),
    effect: num(raw.effect_size ?? raw.hedges_g ?? raw.cohens_d),
    position: raw.band_position || raw.position || null,
    firstDay: raw.first_day || null,
    lastDay: raw.last_day || null,
  };
}

export function normalizeIntegration(data) {
  const rawPeriods = data.periods || data.changes || [];
  const periods = PERIODS.map((p, i) => {
    const raw = rawPeriods.find((r) => r && (r.period === p.key || r.label === p.key
      || (num(r.first_day ?? r.start_day) === p.first && num(r.last_day ?? r.end_day) === p.last))) || rawPeriods[i];
    return raw ? normalizePeriod(raw, i) : { ...p, insufficient: true, reason: "insufficient data" };
  });
  const b = data.baseline || {};
  const mean = num(b.mean_ln_rmssd ?? b.mean);
  const baselineInsufficient = Boolean(b.insufficient_data || b.insufficient || b.status === "insufficient_data"
    || mean === null);
  return {
    baseline: {
      insufficient: baselineInsufficient,
      reason: b.reason || (baselineInsufficient ? "insufficient data" : null),
      mean,
      sd: num(b.sd_ln_rmssd ?? b.sd),
      nDays: num(b.n_days),
      low: num(b.band_low ?? b.low),
      high: num(b.band_high ?? b.high),
      firstDay: b.first_day || b.start_day || null,
      lastDay: b.last_day || b.end_day || null,
    },
    periods,
    insufficientReason: data.reason || null,
  };
}

function zoneOffsetMs(instantMs, tz) {
  const parts = new Intl.DateTimeFormat("en-US", {
    timeZone: tz || "UTC", hourCycle: "h23", year: "numeric", month: "2-digit", day: "2-digit",
    hour: "2-digit", minute: "2-digit", second: "2-digit",
  }).formatToParts(new Date(instantMs));
  const get = (type) => Number(parts.find((p) => p.type === type).value);
  const asUtc = Date.UTC(get("year"), get("month") - 1, get("day"), get("hour"), get("minute"), get("second"));
  return asUtc - Math.floor(instantMs / 1000) * 1000;
}

/** The instant (ms) of local midnight starting `day` in zone `tz` (DST-safe to the hour). */
export function localMidnightMs(day, tz) {
  const guess = dayMs(day);
  let instant = guess - zoneOffsetMs(guess, tz);
  instant = guess - zoneOffsetMs(instant, tz);
  return instant;
}
