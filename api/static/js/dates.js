// One date style for every page, axis and table: the browser's locale (Intl), in the patient's time zone.
// Calendar days travel as "YYYY-MM-DD" strings; instants as ISO strings or epoch ms.

const cache = new Map();

function formatter(key, options) {
  let f = cache.get(key);
  if (!f) {
    f = new Intl.DateTimeFormat(undefined, options);
    cache.set(key, f);
  }
  return f;
}

/** "YYYY-MM-DD" → a Date at UTC noon of that calendar day (safe to format with timeZone UTC). */
export function dayDate(day) {
  const [y, m, d] = String(day).slice(0, 10).split("-").map(Number);
  return new Date(Date.UTC(y, m - 1, d, 12));
}

/** A calendar day with its weekday, e.g. "Tue 17 Nov" (en-GB) or "Tue, Nov 17" (en-US). */
export function formatDay(day) {
  return formatter("day", { timeZone: "UTC", weekday: "short", day: "numeric", month: "short" }).format(dayDate(day));
}

/** A calendar day with its year, e.g. "17 Nov 2026". */
export function formatDate(day) {
  return formatter("date", { timeZone: "UTC", day: "numeric", month: "short", year: "numeric" }).format(dayDate(day));
}

/** A short day label for chart axes, e.g. "17 Nov". */
export function formatAxisDay(day) {
  return formatter("axisday", { timeZone: "UTC", day: "numeric", month: "short" }).format(dayDate(day));
}

/** Date and time of an instant in zone `tz`, e.g. "17 Nov 2026, 08:16". */
export function formatDateTime(instant, tz) {
  return formatter(`dt:${tz}`, { timeZone: tz || "UTC", dateStyle: "medium", timeStyle: "short" })
    .format(new Date(instant));
}

/** Time of day of an instant in zone `tz`, e.g. "08:16". */
export function formatTime(instant, tz, { seconds = false } = {}) {
  return formatter(`t:${tz}:${seconds}`, { timeZone: tz || "UTC", timeStyle: seconds ? "medium" : "short" })
    .format(new Date(instant));
}

/** A range of calendar days, e.g. "3 Nov 2026 – 24 Nov 2026" (Intl's own range style). */
export function formatDayRange(first, last) {
  if (!first || !last) return "–";
  const f = formatter("date", { timeZone: "UTC", day: "numeric", month: "short", year: "numeric" });
  return typeof f.formatRange === "function" ? f.formatRange(dayDate(first), dayDate(last))
    : `${formatDate(first)} – ${formatDate(last)}`;
}

function parts(instant, tz) {
  const f = formatter(`parts:${tz}`, { timeZone: tz || "UTC", hourCycle: "h23", year: "numeric", month: "2-digit",
    day: "2-digit", hour: "2-digit", minute: "2-digit", second: "2-digit" });
  const out = {};
  for (const p of f.formatToParts(new Date(instant))) out[p.type] = p.value;
  return out;
}

/** The calendar day ("YYYY-MM-DD") of an instant in zone `tz`. */
export function dayIn(instant, tz) {
  const p = parts(instant, tz);
  return `${p.year}-${p.month}-${p.day}`;
}

/** An instant as the value of an <input type="datetime-local"> showing zone `tz`'s wall clock. */
export function toLocalInput(instant, tz) {
  const p = parts(instant, tz);
  return `${p.year}-${p.month}-${p.day}T${p.hour}:${p.minute}`;
}

function offsetMs(instantMs, tz) {
  const p = parts(instantMs, tz);
  const asUtc = Date.UTC(Number(p.year), Number(p.month) - 1, Number(p.day), Number(p.hour), Number(p.minute), Number(p.second));
  return asUtc - Math.floor(instantMs / 1000) * 1000;
}

/**
 * The instant (ISO string, UTC) of wall-clock time "YYYY-MM-DDTHH:MM" in zone `tz`, or null when the
 * text is not such a time. Times that a DST change skips resolve to the later offset.
 */
export function fromLocalInput(text, tz) {
  const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2}))?$/.exec(String(text || ""));
  if (!m) return null;
  const wall = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6] || 0));
  if (Number.isNaN(wall)) return null;
  let instant = wall - offsetMs(wall, tz);
  instant = wall - offsetMs(instant, tz);
  return new Date(instant).toISOString();
}

/** "YYYY-MM-DD" plus `n` calendar days. */
export function addDays(day, n) {
  const d = dayDate(day);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}

/** Today's calendar day in zone `tz`. */
export function today(tz) {
  return dayIn(Date.now(), tz);
}

/** Calendar days written "YYYY-MM-DD" inside a text (e.g. an analysis' reason) in the one date style. */
export function localizeDays(text) {
  if (typeof text !== "string") return text;
  return text.replace(/\b(\d{4})-(\d{2})-(\d{2})\b/g, (day) => formatDate(day));
}
