// Forms built from the API's rules (GET /v1/forms, api/form_rules.py): every field checked in the browser
// with the API's own messages, the API's answers shown at the same fields, and what was typed kept on every
// error. Native controls only, so everything works by keyboard; no native bubbles (novalidate) so the
// words are always ours.

import { ApiError, get, post } from "./api.js";
import { add, h } from "./dom.js";
import { fromLocalInput, toLocalInput } from "./dates.js";

let rulesPromise = null;

/** The API's forms and time zones, fetched once per page load. */
export function loadForms() {
  if (!rulesPromise) {
    rulesPromise = get("/v1/forms").catch((err) => { rulesPromise = null; throw err; });
  }
  return rulesPromise;
}

// --- the checks: a port of api/form_rules.py (tests run both on the same cases) --------------------------

const isEmpty = (v) => v === null || v === undefined || (typeof v === "string" && v.trim() === "")
  || (Array.isArray(v) && v.length === 0);
const length = (s) => [...s].length;
const storable = (s) => !s.includes("\u0000") && (typeof s.isWellFormed !== "function" || s.isWellFormed());

function holds(when, data) {
  const other = data[when.field];
  return when.values.length ? when.values.includes(other) : !isEmpty(other);
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;

/** {ms, aware, year} of an ISO date or date-time string (the forms Python's fromisoformat reads), or null. */
export function parseMoment(value) {
  if (typeof value !== "string") return null;
  const m = ISO_RE.exec(value);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [hh, mi, ss] = [Number(m[4] || 0), Number(m[5] || 0), Number(m[6] || 0)];
  const ms = Date.UTC(y, mo - 1, d, hh, mi, ss, Number(((m[7] || "") + "000").slice(0, 3)));
  const check = new Date(ms);
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d
    || hh > 23 || mi > 59 || ss > 59) return null;
  let offset = 0;
  const zone = m[8];
  if (zone && zone !== "Z") {
    const sign = zone[0] === "-" ? -1 : 1;
    const digits = zone.slice(1).replace(":", "");
    offset = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4))) * 60000;
  }
  return { ms: ms - offset, aware: Boolean(zone), year: y };
}

function checkText(rule, value) {
  if (typeof value !== "string" || !storable(value)) return "text";
  const text = value.trim();
  if (rule.min_length !== undefined && length(value) < rule.min_length) return "too_short";
  if (rule.max_length !== undefined && length(value) > rule.max_length) return "too_long";
  if (rule.pattern !== undefined && !new RegExp(`^(?:${rule.pattern})$`).test(text)) return "pattern";
  if (rule.choices && !rule.choices.some((c) => c.value === text)) return "choice";
  return null;
}

function checkNumber(rule, value) {
  if (typeof value !== "number" || !Number.isFinite(value)) return "number";
  if (rule.kind === "integer" && !Number.isInteger(value)) return "number";
  if (rule.minimum !== undefined && value < rule.minimum) return "range";
  if (rule.maximum !== undefined && value > rule.maximum) return "range";
  if (rule.above !== undefined && value <= rule.above) return "range";
  return null;
}

function checkDatetime(rule, value) {
  const moment = parseMoment(String(value));
  if (!moment) return "date";
  if (moment.year < rule.min_year || moment.year > rule.max_year) return "range";
  if (rule.kind === "datetime" && !moment.aware) return "offset";
  return null;
}

function checkTags(rule, value) {
  if (!Array.isArray(value) || !value.every((t) => typeof t === "string")) return "text";
  if (value.some((t) => !storable(t) || !t.trim())) return "text";
  if (rule.max_length !== undefined && value.length > rule.max_length) return "too_long";
  if (value.some((t) => length(t) > rule.item_max_length)) return "tag_too_long";
  return null;
}

const CHECKS = {
  number: checkNumber,
  integer: checkNumber,
  datetime: checkDatetime,
  date: checkDatetime,
  tags: checkTags,
  bool: (rule, value) => (typeof value === "boolean" ? null : "required"),
};

/** The problem key of one field's value (see FieldRule.problem), or null. */
export function fieldProblem(rule, value, data, zones) {
  if (isEmpty(value)) {
    const required = rule.required || (rule.required_when && holds(rule.required_when, data));
    return required ? "required" : null;
  }
  if (rule.only_when && !holds(rule.only_when, data)) return "only_when";
  if (rule.same_as && value !== data[rule.same_as]) return "same_as";
  if (rule.kind === "zone") return typeof value === "string" && zones.has(value) ? null : "choice";
  return (CHECKS[rule.kind] || checkText)(rule, value);
}

function afterProblem(check, data) {
  const first = parseMoment(typeof data[check.other] === "string" ? data[check.other] : "");
  const last = parseMoment(typeof data[check.field] === "string" ? data[check.field] : "");
  if (!first || !last || first.aware !== last.aware) return null;
  if (last.ms < first.ms || (last.ms === first.ms && !check.same_ok)) return check.message;
  if (check.max_days !== undefined && (last.ms - first.ms) / 1000 > check.max_days * 86400) return check.max_days_message;
  return null;
}

/** Every problem of `data` under `form` (as the API's Form.problems): [{field, msg, type}]. */
export function formProblems(form, data, zones) {
  const found = [];
  const bad = new Set();
  for (const [name, rule] of Object.entries(form.fields)) {
    const key = fieldProblem(rule, data[name], data, zones);
    if (key !== null) {
      bad.add(name);
      found.push({ field: name, msg: rule.messages[key], type: `form.${key}` });
    }
  }
  for (const check of form.checks) {
    if (bad.has(check.field) || bad.has(check.other)) continue;
    const msg = afterProblem(check, data);
    if (msg !== null) found.push({ field: check.field, msg, type: "form.after" });
  }
  return found;
}

// --- building forms -----------------------------------------------------------------------------------

const CONTROL_FOR_KIND = {
  email: "email", password: "password", choice: "select", number: "number", integer: "number",
  datetime: "datetime", date: "date", zone: "zone", tags: "text", bool: "checkbox", id: "select",
};

function optionalMark(rule) {
  return rule.required || rule.required_when || rule.kind === "bool" ? null : h("span", { class: "optional", text: " (optional)" });
}

function buildControl(id, spec, rule, zones) {
  const control = spec.control || CONTROL_FOR_KIND[rule.kind] || "text";
  const common = { id, name: spec.name, ...(spec.attrs || {}) };
  if (rule.required) common.required = true;
  if (control === "textarea") {
    return h("textarea", { ...common, rows: spec.rows || "4", maxlength: rule.max_length, placeholder: spec.placeholder });
  }
  if (control === "select") {
    const options = spec.options || rule.choices || [];
    return h("select", common,
      h("option", { value: "", text: spec.placeholder || `Choose ${rule.label.toLowerCase()}…` }),
      options.map((o) => h("option", { value: o.value, text: o.label })));
  }
  if (control === "checkbox") return h("input", { ...common, type: "checkbox" });
  if (control === "range") {
    // A slider has no empty state: it counts as unset until moved, and "clear" unsets it again.
    const input = h("input", { ...common, type: "range", min: String(rule.minimum), max: String(rule.maximum), step: "1",
      value: String(Math.round((rule.minimum + rule.maximum) / 2)), "aria-valuetext": "not set" });
    input.dataset.touched = "false";
    const output = h("output", { for: id, class: "range-value", text: "not set" });
    const show = () => {
      const set = input.dataset.touched === "true";
      output.textContent = set ? `${input.value} / ${rule.maximum}` : "not set";
      input.setAttribute("aria-valuetext", set ? `${input.value} of ${rule.maximum}` : "not set");
    };
    input.addEventListener("input", () => { input.dataset.touched = "true"; show(); });
    input.show = show;
    input.extra = h("span", { class: "range-extra" }, output, h("button", { type: "button", class: "link-button small",
      text: "clear", "aria-label": `Clear ${rule.label.toLowerCase()}`,
      on: { click: () => { input.dataset.touched = "false"; input.value = String(Math.round((rule.minimum + rule.maximum) / 2)); show(); } } }));
    return input;
  }
  if (control === "zone") {
    const listId = `${id}-zones`;
    const input = h("input", { ...common, type: "text", list: listId, autocomplete: "off", spellcheck: "false" });
    input.zoneList = h("datalist", { id: listId }, [...zones].sort().map((z) => h("option", { value: z })));
    return input;
  }
  const type = { datetime: "datetime-local", date: "date", number: "number", email: "email", password: "password" }[control] || "text";
  const attrs = { ...common, type, placeholder: spec.placeholder, autocomplete: spec.autocomplete };
  if (type === "text" || type === "email" || type === "password") attrs.maxlength = rule.kind === "tags" ? undefined : rule.max_length;
  if (type === "number") {
    attrs.step = rule.kind === "integer" ? "1" : "any";
    attrs.inputmode = rule.kind === "integer" ? "numeric" : "decimal";
    if (rule.minimum !== undefined) attrs.min = String(rule.minimum);
    if (rule.maximum !== undefined) attrs.max = String(rule.maximum);
  }
  if (type === "date") { attrs.min = `${rule.min_year}-01-01`; attrs.max = `${rule.max_year}-12-31`; }
  if (type === "datetime-local") { attrs.min = `${rule.min_year}-01-01T00:00`; attrs.max = `${rule.max_year}-12-31T23:59`; }
  return h("input", attrs);
}

function setControl(input, rule, value, tz) {
  if (input.type === "checkbox") { input.checked = Boolean(value); return; }
  if (input.type === "range") {
    input.dataset.touched = value === null || value === undefined ? "false" : "true";
    if (value !== null && value !== undefined) input.value = String(value);
    input.show();
    return;
  }
  if (value === null || value === undefined) { input.value = ""; return; }
  if (input.type === "datetime-local") { input.value = toLocalInput(value, tz); return; }
  if (rule.kind === "tags") { input.value = Array.isArray(value) ? value.join(", ") : String(value); return; }
  input.value = String(value);
}

function readControl(input, rule, tz) {
  if (input.type === "checkbox") return { value: input.checked };
  if (input.type === "range") return { value: input.dataset.touched === "true" ? Number(input.value) : null };
  if (input.type === "number") {
    if (input.value === "") return { value: null, bad: input.validity && input.validity.badInput ? "number" : null };
    return { value: Number(input.value) };
  }
  if (input.type === "datetime-local") {
    if (input.value === "") return { value: null, bad: input.validity && input.validity.badInput ? "date" : null };
    const iso = fromLocalInput(input.value, tz);
    return iso ? { value: iso } : { value: null, bad: "date" };
  }
  if (input.type === "date") {
    if (input.value === "") return { value: null, bad: input.validity && input.validity.badInput ? "date" : null };
    return { value: input.value };
  }
  if (rule.kind === "tags") return { value: input.value.split(",").map((t) => t.trim()).filter(Boolean) };
  return { value: input.value };
}

/**
 * A form bound to the API's rules for `spec.form`.
 *
 * spec: { form, id, submit (label), fields: [{ name, control?, value?, options?, placeholder?,
 *   autocomplete?, rows?, attrs?, help? }], tz? (zone of date-time fields), personal?: () => [strings]
 *   (checked against a new password), onSubmit: async (data) => void, extra?: node (after the fields),
 *   cancel?: { label, onClick } }
 * Returns { el, values(), set(values), showErrors(list), focusFirst() }.
 */
export async function buildForm(spec) {
  const all = await loadForms();
  const form = all.forms[spec.form];
  if (!form) throw new Error(`unknown form ${spec.form}`);
  const zones = new Set(all.time_zones);
  const tz = spec.tz || "UTC";
  const formId = spec.id;
  const summary = h("div", { class: "notice notice-error form-summary", id: `${formId}-summary`, role: "alert", tabindex: "-1", hidden: true });
  const controls = new Map();
  const rows = [];
  for (const f of spec.fields) {
    const rule = form.fields[f.name];
    if (!rule) throw new Error(`form ${spec.form} has no field ${f.name}`);
    const id = `${formId}-${f.name.replace(/_/g, "-")}`;
    const input = buildControl(id, f, rule, zones);
    const hintText = f.help || rule.hint;
    const hint = hintText ? h("p", { class: "hint", id: `${id}-hint`, text: hintText }) : null;
    const error = h("p", { class: "field-error", id: `${id}-error`, hidden: true });
    input.setAttribute("aria-describedby", [hint ? hint.id : null, error.id].filter(Boolean).join(" "));
    controls.set(f.name, { input, rule, error, spec: f });
    if (f.value !== undefined) setControl(input, rule, f.value, tz);
    const label = h("label", { for: id }, rule.label, optionalMark(rule));
    const wrap = input.type === "checkbox"
      ? h("div", { class: "field field-check", dataset: { field: f.name } }, input, label, hint, error)
      : h("div", { class: "field", dataset: { field: f.name } }, label, hint, input, input.zoneList || input.extra || null, error);
    if (f.control === "hidden") wrap.hidden = true;
    rows.push(wrap);
  }
  const submit = h("button", { type: "submit", class: "primary", id: `${formId}-submit`, text: spec.submit || "Save" });
  const buttons = h("div", { class: "form-buttons" }, submit,
    spec.cancel ? h("button", { type: "button", id: `${formId}-cancel`, text: spec.cancel.label, on: { click: spec.cancel.onClick } }) : null);
  const el = h("form", { class: ["form", spec.class], id: formId, novalidate: true, "aria-labelledby": spec.titleId },
    summary, rows, spec.extra || null, buttons);

  function values() {
    const data = {};
    const bad = [];
    for (const [name, c] of controls) {
      const read = readControl(c.input, c.rule, tz);
      data[name] = read.value;
      if (read.bad) bad.push({ field: name, msg: c.rule.messages[read.bad], type: `form.${read.bad}` });
    }
    return { data, bad };
  }

  function showErrors(list, formMessage) {
    const byField = new Map();
    const loose = [];
    for (const e of list) {
      const name = e.field || (Array.isArray(e.loc) ? e.loc[e.loc.length - 1] : null);
      if (name && controls.has(name) && !byField.has(name)) byField.set(name, e.msg);
      else loose.push(e.msg);
    }
    for (const [name, c] of controls) {
      const msg = byField.get(name);
      c.error.textContent = msg || "";
      c.error.hidden = !msg;
      if (msg) c.input.setAttribute("aria-invalid", "true");
      else c.input.removeAttribute("aria-invalid");
    }
    const items = [...byField.entries()].map(([name, msg]) => {
      const c = controls.get(name);
      return h("li", {}, h("a", { href: `#${c.input.id}`, text: `${c.rule.label}: ${msg}`,
        on: { click: (ev) => { ev.preventDefault(); c.input.focus(); } } }));
    });
    const messages = [formMessage, ...loose].filter(Boolean);
    summary.replaceChildren();
    if (items.length || messages.length) {
      add(summary,
        ...messages.map((m) => h("p", { text: m })),
        items.length ? h("p", { text: items.length === 1 ? "Please correct this field:" : `Please correct these ${items.length} fields:` }) : null,
        items.length ? h("ul", {}, items) : null);
      summary.hidden = false;
    } else {
      summary.hidden = true;
    }
    return byField.size;
  }

  function focusFirst() {
    for (const c of controls.values()) {
      if (c.input.getAttribute("aria-invalid") === "true") { c.input.focus(); return; }
    }
    if (!summary.hidden) summary.focus();
  }

  async function passwordProblem(data) {
    if (!controls.has("password") || !spec.personal || isEmpty(data.password)) return null;
    const answer = await post("/v1/forms/password-check", { password: data.password, personal: spec.personal().filter(Boolean) });
    return answer && !answer.ok ? { field: "password", msg: answer.message, type: "form.strength" } : null;
  }

  el.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (submit.disabled) return;
    const { data, bad } = values();
    const badFields = new Set(bad.map((b) => b.field));
    const problems = [...bad, ...formProblems(form, data, zones).filter((p) => !badFields.has(p.field))];
    submit.disabled = true;
    el.setAttribute("aria-busy", "true");
    try {
      if (!problems.length) {
        const weak = await passwordProblem(data);
        if (weak) problems.push(weak);
      }
      if (problems.length) {
        showErrors(problems);
        focusFirst();
        return;
      }
      showErrors([]);
      await spec.onSubmit(data);
    } catch (err) {
      if (err instanceof ApiError && err.fields && Array.isArray(err.fields.errors) && err.fields.errors.length) {
        const matched = showErrors(err.fields.errors.map((e) => ({ ...e, msg: e.msg || err.message })));
        if (!matched) showErrors([], err.message);
      } else {
        showErrors([], err instanceof ApiError && err.status === 429
          ? "Too many attempts; please wait a minute and try again." : `Not saved: ${err.message}`);
      }
      focusFirst();
    } finally {
      submit.disabled = false;
      el.removeAttribute("aria-busy");
    }
  });

  return {
    el,
    values: () => values().data,
    set(valuesByName) {
      for (const [name, value] of Object.entries(valuesByName)) {
        const c = controls.get(name);
        if (c) setControl(c.input, c.rule, value, tz);
      }
    },
    control: (name) => (controls.get(name) || {}).input,
    showErrors,
    focusFirst,
  };
}
