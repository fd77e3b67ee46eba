// Pure data shaping for the pages: calendar days in the patient's time zone, series with gaps, flags.

export const DAY_MS = 86400000;
/** An integration appointment is expected within this many days after a medicine session. */
export const INTEGRATION_WITHIN_DAYS = 3;
/** Plasticity window after a medicine session: strong shading to day 14, lighter to day 28. */
export const PLASTICITY_STRONG_DAYS = 14;
export const PLASTICITY_LIGHT_DAYS = 28;

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
import { formatDateTime, formatDay, localizeDays } from "./dates.js";

export { formatDateTime, formatDay };

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
    quality: row.quality || "",
    /** good | fair | poor | insufficient: how the day's value is drawn and whether it may count. */
    grade: row.grade || "insufficient",
    qualityNotes: Array.isArray(row.quality_notes) ? row.quality_notes : [],
    /** The day is over (today's partial reading never counts). */
    complete: row.complete !== false,
    /** Counts for the band, the 7-day mean and the verdicts (as the server judged it). */
    counted: row.counted === true,
    exclusion: row.exclusion || null,
    inBaseline: row.in_baseline === true,
    rolling7d: num(row.rolling_mean_7d),
    rollingDays: num(row.rolling_days) || 0,
    rollingFairDays: num(row.rolling_fair_days) || 0,
    cvPct: num(row.cv_pct),
    bandLow: num(row.band_low),
    bandHigh: num(row.band_high),
    bandPosition: row.band_position || null,
  };
}

/** The normal band as the server defines it (what it judges, how wide, from which days). */
export function normalizeBand(raw) {
  const b = raw || {};
  return {
    ok: b.status === "ok",
    reason: localizeDays(b.reason) || null,
    source: b.source || null,
    firstDay: b.first_day || null,
    lastDay: b.last_day || null,
    nDays: num(b.n_days) || 0,
    nPossible: num(b.n_possible) || 0,
    neededDays: num(b.needed_days) || 0,
    mean: num(b.mean_ln_rmssd),
    sd: num(b.sd_ln_rmssd),
    rho: num(b.rho),
    level: num(b.level),
    judged: b.judged || "",
    rollingDays: num(b.rolling_days) || 7,
    halfWidthWeek: num(b.half_width_week),
    lowWeek: num(b.low_week),
    highWeek: num(b.high_week),
    nFair: num(b.n_fair) || 0,
    fairShare: num(b.fair_share),
    artifactShare: num(b.artifact_share),
    provisional: b.provisional === true,
    definition: b.definition || null,
  };
}

/** The badge: the latest complete 7-day mean against the band, with the days it rests on. */
export function normalizeBadge(raw) {
  const b = raw || {};
  return {
    day: b.day || null,
    value: num(b.rolling_mean_7d),
    days: num(b.rolling_days) || 0,
    fairDays: num(b.rolling_fair_days) || 0,
    low: num(b.band_low),
    high: num(b.band_high),
    position: b.position || null,
    reason: localizeDays(b.reason) || null,
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
  return {
    daily, sessions, journal, gaps,
    today: data.today || null,
    source: data.source || null,
    band: normalizeBand(data.band),
    badge: normalizeBadge(data.badge),
  };
}

/** Days the chart leaves out because their signal was poor (listed under it instead). */
export function poorDays(daily) {
  return daily.filter((d) => d.grade === "poor");
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
  const lastData = [...daily].reverse().find((d) => d.wearHours > 0) || null;
  const now = Date.now();
  const past = timeline.sessions.filter((s) => Date.parse(s.startedAt) <= now)
    .sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  const future = timeline.sessions.filter((s) => Date.parse(s.startedAt) > now)
    .sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  const flags = [];
  const recent = daily.filter((d) => d.day >= weekStart && d.complete);
  if (recent.length && recent.every((d) => !d.counted)) flags.push("no valid day in 7 days");
  const poor = recent.filter((d) => d.grade === "poor").length;
  if (poor >= 3) flags.push(`${poor} poor-signal days`);
  const highArtifacts = recent.filter((d) => d.artifactShare !== null && d.artifactShare > 0.05).length;
  if (highArtifacts >= 3) flags.push("many artifacts");
  if (!timeline.band.ok) flags.push("no baseline yet");
  for (const m of medicineSessions(timeline.sessions, tz)) {
    if (m.missingIntegration && now - Date.parse(m.startedAt) > INTEGRATION_WITHIN_DAYS * DAY_MS) {
      flags.push(`no integration within ${INTEGRATION_WITHIN_DAYS} days of ${formatDay(m.day)}`);
    }
  }
  return {
    wearHours7d,
    latest,
    band: timeline.band,
    badge: timeline.badge,
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

/** One period of /sessions/{sid}/integration, with the field names the pages use. */
export function normalizePeriod(raw) {
  const q = raw.quality || {};
  return {
    key: raw.period,
    label: raw.label || raw.period,
    state: raw.state,
    reason: localizeDays(raw.reason) || null,
    firstOffset: num(raw.first_offset),
    lastOffset: num(raw.last_offset),
    firstDay: raw.first_day || null,
    lastDay: raw.last_day || null,
    nDays: num(raw.n_days) || 0,
    nPossible: num(raw.n_possible) || 0,
    neededDays: num(raw.needed_days) || 0,
    diff: num(raw.diff_ln_rmssd),
    ciLow: num(raw.ci_low),
    ciHigh: num(raw.ci_high),
    ciLevel: num(raw.ci_level),
    mdc: num(raw.mdc_ln_rmssd),
    rmssdChangePct: num(raw.rmssd_change_pct),
    flagged: raw.flagged === true,
    direction: raw.direction || null,
    quality: {
      nGood: num(q.n_good) || 0,
      nFair: num(q.n_fair) || 0,
      nPoor: num(q.n_poor) || 0,
      nMissing: num(q.n_missing) || 0,
      fairShare: num(q.fair_share),
      artifactShare: num(q.artifact_share),
      caveat: q.caveat || null,
    },
  };
}

/** /sessions/{sid}/integration: baseline (band), periods with state and quality, model, family. */
export function normalizeIntegration(data) {
  const model = data.model || null;
  const family = data.family || {};
  return {
    status: data.status || "insufficient_data",
    sessionDay: data.session_day || null,
    today: data.today || null,
    source: data.source || null,
    baseline: normalizeBand(data.baseline),
    periods: (data.periods || []).map(normalizePeriod),
    model: model && {
      nObs: num(model.n_obs), rho: num(model.rho_hat), sd: num(model.sd_ln_rmssd),
      trendPerDay: num(model.trend_per_day), method: model.method || "",
    },
    family: { method: family.method || "holm", alpha: num(family.alpha) ?? 0.05, description: family.description || "" },
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
